//! Run Command semantics, pure: rate controls, the invocation state machine, step roll-up and
//! the command-level status, each following AWS Systems Manager's documented behaviour.
//!
//! How a command moves (the caller owns storage, timers and the agent channel):
//! 1. `SendCommand`: parse [`MaxConcurrency`]/[`MaxErrors`], resolve them for the target count,
//!    create one [`InvocationState::Pending`] invocation per target (none: the command is
//!    `NoInstancesInTag` at once).
//! 2. Whenever an invocation changes, [`plan`] says how many `Pending` ones to send and whether
//!    the rest must be `Terminated`; each change goes through [`next`].
//! 3. On the node, [`DocumentFlow`] decides which steps run (exit codes 168/169, `onSuccess`,
//!    `onFailure`, `finallyStep`, cancel) and what each reports; the agent's final report
//!    rolls up with [`roll_up_final`] into [`InvocationEvent::Finished`]. A step that asks for a
//!    reboot (exit 194/3010) pauses the document until the node rebooted and then runs again
//!    ([`reboot`]). Steps of an invocation that ended without a report show
//!    [`InvocationState::unrun_step`].
//! 4. At `ExpiresAfter` every live invocation gets [`InvocationEvent::DeliveryDeadlinePassed`].
//! 5. [`command_status`] and [`CommandCounts`] derive the `Command` fields from the invocations.
//!
//! Nothing here reads a clock, does IO or draws random numbers.

pub mod aggregate;
pub mod flow;
pub mod notification;
pub mod plugin;
pub mod rate;
pub mod reboot;
pub mod status;

pub use aggregate::{command_status, CommandCounts};
pub use flow::{DocumentFlow, NextStep, Reported, StepFlow};
pub use plugin::{roll_up, roll_up_final, PluginOutcome};
pub use rate::{plan, DispatchCounts, DispatchPlan, MaxConcurrency, MaxErrors};
pub use status::{
    next, settle_step, CommandInvocationStatus, CommandPluginStatus, CommandStatus,
    InvalidTransition, InvocationEvent, InvocationOutcome, InvocationState,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// Drive a whole command through the public API: 6 targets, MaxConcurrency 50%, MaxErrors
    /// "1"; the second and third invocations to finish fail.
    #[test]
    fn a_command_end_to_end() {
        let targets = 6;
        let max_concurrency = MaxConcurrency::parse("50%").unwrap().resolve(targets);
        let max_errors = MaxErrors::parse("1").unwrap().resolve(targets);
        assert_eq!((max_concurrency, max_errors), (3, 1));

        let mut invs = vec![InvocationState::Pending; targets];
        let apply = |s: &mut InvocationState, e| *s = next(*s, e).unwrap();
        let mut finished_results = [
            vec![PluginOutcome::Success, PluginOutcome::Skipped],
            vec![PluginOutcome::Failed],
            vec![PluginOutcome::Success, PluginOutcome::TimedOut],
        ]
        .into_iter();
        let mut rounds = 0;
        loop {
            rounds += 1;
            let p = plan(&DispatchCounts::tally(&invs), max_concurrency, max_errors);
            if p.terminate_not_started {
                for s in invs.iter_mut().filter(|s| **s == InvocationState::Pending) {
                    apply(s, InvocationEvent::MaxErrorsExceeded);
                }
            }
            let pending = invs.iter_mut().filter(|s| **s == InvocationState::Pending);
            for s in pending.take(p.start) {
                apply(s, InvocationEvent::Sent);
                apply(s, InvocationEvent::Acknowledged);
            }
            let in_flight = DispatchCounts::tally(&invs).in_flight;
            assert!(in_flight <= max_concurrency);
            if rounds == 1 {
                assert_eq!(in_flight, max_concurrency, "MaxConcurrency start at once");
            }
            // Finish the first running invocation with the next scripted result.
            let in_flight =
                |s: &&mut InvocationState| !s.is_terminal() && **s != InvocationState::Pending;
            let Some(s) = invs.iter_mut().find(in_flight) else {
                break;
            };
            let steps = finished_results
                .next()
                .unwrap_or(vec![PluginOutcome::Success]);
            apply(s, InvocationEvent::Finished(roll_up(&steps)));
        }
        assert!(rounds < 10);
        // No ramp: three start at once and each finish frees one slot. The failure (second to
        // finish) is within MaxErrors 1; the timeout (third) exceeds it, so the last unsent one
        // is terminated while the two already running complete.
        use InvocationState as S;
        assert_eq!(
            invs,
            [
                S::Success,
                S::Failed,
                S::ExecutionTimedOut,
                S::Success,
                S::Success,
                S::Terminated
            ]
        );
        let counts = CommandCounts::tally(&invs);
        assert_eq!((counts.completed_count, counts.error_count), (6, 2));
        assert_eq!(
            command_status(&invs, max_errors, false),
            (CommandStatus::Failed, "Failed")
        );
        assert_eq!(invs[5].status(), CommandInvocationStatus::Cancelled);
        assert_eq!(invs[5].details(), "Terminated");
    }

    /// A cancelled command: the unsent invocation ends at once, the running one waits for the
    /// agent, the finished one keeps its result.
    #[test]
    fn cancelling_a_command() {
        use InvocationEvent as E;
        use InvocationState as S;
        let invs = [S::Success, S::InProgress, S::Pending];
        let after: Vec<S> = invs
            .iter()
            .map(|s| {
                if s.is_terminal() {
                    *s
                } else {
                    next(*s, E::CancelRequested).unwrap()
                }
            })
            .collect();
        assert_eq!(after, [S::Success, S::Cancelling, S::Cancelled]);
        assert_eq!(
            command_status(&after, 0, true),
            (CommandStatus::Cancelling, "Cancelling")
        );
        let done = [
            after[0],
            next(after[1], E::CancelConfirmed).unwrap(),
            after[2],
        ];
        assert_eq!(
            command_status(&done, 0, true),
            (CommandStatus::Cancelled, "Cancelled")
        );
    }
}
