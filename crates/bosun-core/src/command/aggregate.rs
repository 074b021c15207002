//! Command-level status and counters, derived from the command's invocations.
//!
//! Sources: user guide "Understanding command statuses"
//! (<https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html>) and the
//! API reference for `Command` (`CompletedCount`, `ErrorCount`, `DeliveryTimedOutCount`,
//! `StatusDetails`) and `SendCommand.MaxErrors`.

use super::status::{CommandStatus, InvocationState};

/// Command `StatusDetails` values (camel case, like the `ListCommands` `Status` filter tokens).
pub mod details {
    pub const PENDING: &str = "Pending";
    pub const IN_PROGRESS: &str = "InProgress";
    pub const CANCELLING: &str = "Cancelling";
    pub const SUCCESS: &str = "Success";
    pub const INCOMPLETE: &str = "Incomplete";
    pub const FAILED: &str = "Failed";
    pub const DELIVERY_TIMED_OUT: &str = "DeliveryTimedOut";
    pub const EXECUTION_TIMED_OUT: &str = "ExecutionTimedOut";
    pub const CANCELLED: &str = "Cancelled";
    pub const ACCESS_DENIED: &str = "AccessDenied";
    pub const NO_INSTANCES_IN_TAG: &str = "NoInstancesInTag";
}

/// The counters of a `Command`, as the API reference defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommandCounts {
    /// Every invocation of the command.
    pub target_count: usize,
    /// Invocations in a terminal state. The reference lists "Success, Failed, Execution Timed
    /// Out, Delivery Timed Out, Cancelled, Terminated, or Undeliverable" as what terminal states
    /// *include*; `InvalidPlatform` and `AccessDenied` are terminal too and are counted.
    pub completed_count: usize,
    /// `Failed` or `ExecutionTimedOut`.
    pub error_count: usize,
    /// `DeliveryTimedOut`.
    pub delivery_timed_out_count: usize,
}

impl CommandCounts {
    pub fn tally(invocations: &[InvocationState]) -> Self {
        let count = |f: fn(&InvocationState) -> bool| invocations.iter().filter(|s| f(s)).count();
        CommandCounts {
            target_count: invocations.len(),
            completed_count: count(|s| s.is_terminal()),
            error_count: count(|s| s.counts_as_error()),
            delivery_timed_out_count: count(|s| *s == InvocationState::DeliveryTimedOut),
        }
    }
}

/// Invocations that never reached their node for reasons outside the command: they do not
/// count against MaxErrors, are ignored when other invocations exist, and make the command
/// `Failed` when every invocation is one of them (guide: 4 Undeliverable + 1 Success ⇒ Success;
/// all Undeliverable ⇒ Failed; the same for InvalidPlatform and AccessDenied).
fn never_reached(s: InvocationState) -> bool {
    matches!(
        s,
        InvocationState::Undeliverable
            | InvocationState::InvalidPlatform
            | InvocationState::AccessDenied
    )
}

/// The command's (`Status`, `StatusDetails`).
///
/// `max_errors` is resolved (see `rate::MaxErrors::resolve`). Pass `cancel_requested` when
/// `CancelCommand` covered the whole command (no `InstanceIds`); a partial cancel leaves the
/// command to finish normally: its cancelled invocations make it `Incomplete` next to
/// successes, and `Cancelled` when nothing succeeded (rule 8).
///
/// In order:
/// 1. No invocations: the targets matched nothing ⇒ (`Failed`, `NoInstancesInTag`). AWS reports
///    `Success` here; Bosun deliberately never reports success for work that did not happen (the
///    Run Command issue requires it), and keeps AWS's `NoInstancesInTag` detail so clients that
///    check the details still recognise the case.
/// 2. Some invocation is live: `Cancelling` if cancel was requested; `Pending` if no invocation
///    has left `Pending` (guide: "not yet received by an agent on any instance"); otherwise
///    `InProgress`, even after MaxErrors was exceeded, until running invocations finish.
/// 3. All terminal, cancel requested and some invocation `Cancelled` ⇒ `Cancelled`.
/// 4. Errors exceed MaxErrors ⇒ `Failed`/`Failed`, or `TimedOut`/`ExecutionTimedOut` when the
///    execution timeouts alone exceed it while the failures do not. The guide words these as
///    "MaxErrors or more" invocations, but with the default MaxErrors 0 that would fail every
///    command; `SendCommand.MaxErrors` is "the maximum number of errors allowed without the
///    command failing", so the command fails only beyond it, which is also where dispatch stops.
/// 5. Delivery timeouts exceed MaxErrors ⇒ `TimedOut`/`DeliveryTimedOut` (same reading).
/// 6. Every invocation never reached its node ⇒ `Failed`, with `AccessDenied` details when all
///    are `AccessDenied` (a command-level detail of its own) and `Failed` otherwise.
/// 7. Ignoring those, every invocation succeeded ⇒ `Success`/`Success`.
/// 8. Ignoring those, no invocation succeeded ⇒ never `Success` (the guide's `Success` is a
///    command "received by SSM Agent on all … managed nodes" that "returned an exit code of
///    zero"): the worst invocation names the command, in the agent's own precedence
///    (`DocumentResultAggregator`: Failed, then timed out, then cancelled): any `Failed` ⇒
///    `Failed`/`Failed`; else any `ExecutionTimedOut` ⇒ `TimedOut`/`ExecutionTimedOut`; else
///    any `Cancelled` or `Terminated` ⇒ `Cancelled`/`Cancelled` (so a command whose every
///    invocation was cancelled is `Cancelled`, whether `CancelCommand` named the nodes or not:
///    "the command was terminated before it was completed"); else (only delivery timeouts)
///    `TimedOut`/`DeliveryTimedOut`.
/// 9. Otherwise (some succeeded; failures, timeouts or cancellations within the limit) ⇒
///    `Success`/`Incomplete`. `CommandStatus` has no Incomplete; the guide says not enough
///    invocations failed "for the status to be Failed", and errors within MaxErrors are allowed
///    "without the command failing", so the status is `Success` and the details carry the
///    nuance.
///
/// The guide's command-level "Delayed" and "Rate Exceeded" are not produced: `Status` has no
/// Delayed (a retrying command is `InProgress`), and Bosun has no pending-invocation quota.
pub fn command_status(
    invocations: &[InvocationState],
    max_errors: usize,
    cancel_requested: bool,
) -> (CommandStatus, &'static str) {
    use InvocationState as S;
    let count =
        |f: &dyn Fn(InvocationState) -> bool| invocations.iter().copied().filter(|s| f(*s)).count();
    if invocations.is_empty() {
        return (CommandStatus::Failed, details::NO_INSTANCES_IN_TAG);
    }
    if invocations.iter().any(|s| !s.is_terminal()) {
        return if cancel_requested {
            (CommandStatus::Cancelling, details::CANCELLING)
        } else if invocations.iter().all(|s| *s == S::Pending) {
            (CommandStatus::Pending, details::PENDING)
        } else {
            (CommandStatus::InProgress, details::IN_PROGRESS)
        };
    }
    if cancel_requested && invocations.contains(&S::Cancelled) {
        return (CommandStatus::Cancelled, details::CANCELLED);
    }
    let failed = count(&|s| s == S::Failed);
    let execution_timed_out = count(&|s| s == S::ExecutionTimedOut);
    if failed + execution_timed_out > max_errors {
        return if execution_timed_out > max_errors && failed <= max_errors {
            (CommandStatus::TimedOut, details::EXECUTION_TIMED_OUT)
        } else {
            (CommandStatus::Failed, details::FAILED)
        };
    }
    if count(&|s| s == S::DeliveryTimedOut) > max_errors {
        return (CommandStatus::TimedOut, details::DELIVERY_TIMED_OUT);
    }
    if invocations.iter().all(|s| never_reached(*s)) {
        return if invocations.iter().all(|s| *s == S::AccessDenied) {
            (CommandStatus::Failed, details::ACCESS_DENIED)
        } else {
            (CommandStatus::Failed, details::FAILED)
        };
    }
    if invocations
        .iter()
        .all(|s| *s == S::Success || never_reached(*s))
    {
        return (CommandStatus::Success, details::SUCCESS);
    }
    if !invocations.contains(&S::Success) {
        return if failed > 0 {
            (CommandStatus::Failed, details::FAILED)
        } else if execution_timed_out > 0 {
            (CommandStatus::TimedOut, details::EXECUTION_TIMED_OUT)
        } else if invocations
            .iter()
            .any(|s| matches!(s, S::Cancelled | S::Terminated))
        {
            (CommandStatus::Cancelled, details::CANCELLED)
        } else {
            (CommandStatus::TimedOut, details::DELIVERY_TIMED_OUT)
        };
    }
    (CommandStatus::Success, details::INCOMPLETE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use CommandStatus as C;
    use InvocationState as S;

    fn n(state: S, count: usize) -> Vec<S> {
        vec![state; count]
    }

    fn with(parts: &[(S, usize)]) -> Vec<S> {
        parts.iter().flat_map(|&(s, k)| n(s, k)).collect()
    }

    #[test]
    fn documented_examples() {
        // 4 Undeliverable + 1 Success ⇒ Success; all Undeliverable ⇒ Failed.
        let four_and_one = with(&[(S::Undeliverable, 4), (S::Success, 1)]);
        assert_eq!(
            command_status(&four_and_one, 0, false),
            (C::Success, "Success")
        );
        assert_eq!(
            command_status(&n(S::Undeliverable, 5), 0, false),
            (C::Failed, "Failed")
        );
        // The same rule for InvalidPlatform and AccessDenied.
        let ip = with(&[(S::InvalidPlatform, 4), (S::Success, 1)]);
        assert_eq!(command_status(&ip, 0, false), (C::Success, "Success"));
        assert_eq!(
            command_status(&n(S::InvalidPlatform, 5), 0, false),
            (C::Failed, "Failed")
        );
        let ad = with(&[(S::AccessDenied, 4), (S::Success, 1)]);
        assert_eq!(command_status(&ad, 0, false), (C::Success, "Success"));
        assert_eq!(
            command_status(&n(S::AccessDenied, 2), 0, false),
            (C::Failed, "AccessDenied")
        );
        let mixed = with(&[(S::AccessDenied, 1), (S::Undeliverable, 1)]);
        assert_eq!(command_status(&mixed, 0, false), (C::Failed, "Failed"));
        // Errors beyond MaxErrors ⇒ Failed (50 targets, 10% ⇒ 5 tolerated, the sixth fails it).
        let six = with(&[(S::Failed, 6), (S::Success, 20), (S::Terminated, 24)]);
        assert_eq!(command_status(&six, 5, false), (C::Failed, "Failed"));
        let five = with(&[(S::Failed, 5), (S::Success, 45)]);
        assert_eq!(command_status(&five, 5, false), (C::Success, "Incomplete"));
        // Default MaxErrors 0: the first failure fails the command.
        let one = with(&[(S::Failed, 1), (S::Terminated, 9)]);
        assert_eq!(command_status(&one, 0, false), (C::Failed, "Failed"));
        // Not all Success, but under the threshold ⇒ Incomplete.
        let dto = with(&[(S::DeliveryTimedOut, 1), (S::Success, 4)]);
        assert_eq!(command_status(&dto, 1, false), (C::Success, "Incomplete"));
        // Under the threshold but nothing succeeded ⇒ never Success.
        let none = with(&[(S::Failed, 1), (S::DeliveryTimedOut, 1)]);
        assert_eq!(command_status(&none, 1, false), (C::Failed, "Failed"));
        // No targets matched.
        assert_eq!(
            command_status(&[], 0, false),
            (C::Failed, "NoInstancesInTag")
        );
    }

    #[test]
    fn live_commands() {
        let all_pending = n(S::Pending, 3);
        assert_eq!(
            command_status(&all_pending, 0, false),
            (C::Pending, "Pending")
        );
        assert_eq!(
            command_status(&all_pending, 0, true),
            (C::Cancelling, "Cancelling")
        );
        for live in [S::Delayed, S::InProgress, S::Cancelling] {
            let v = with(&[(S::Pending, 2), (live, 1)]);
            assert_eq!(command_status(&v, 0, false), (C::InProgress, "InProgress"));
            assert_eq!(command_status(&v, 0, true), (C::Cancelling, "Cancelling"));
        }
        // A terminal invocation next to pending ones: no longer Pending.
        let v = with(&[(S::Pending, 2), (S::Undeliverable, 1)]);
        assert_eq!(command_status(&v, 0, false), (C::InProgress, "InProgress"));
        // Errors exceeded, but one is still running: stays InProgress until it ends.
        let v = with(&[(S::Failed, 2), (S::InProgress, 1), (S::Terminated, 3)]);
        assert_eq!(command_status(&v, 0, false), (C::InProgress, "InProgress"));
    }

    #[test]
    fn cancellation() {
        let v = with(&[(S::Cancelled, 2), (S::Success, 1)]);
        assert_eq!(command_status(&v, 0, true), (C::Cancelled, "Cancelled"));
        // Cancel wins over an exceeded error count.
        let v = with(&[(S::Cancelled, 1), (S::Failed, 3)]);
        assert_eq!(command_status(&v, 0, true), (C::Cancelled, "Cancelled"));
        // Requested, but everything finished first: judged normally.
        assert_eq!(
            command_status(&n(S::Success, 3), 0, true),
            (C::Success, "Success")
        );
        // A partial cancel (not the whole command) next to successes: Incomplete.
        let v = with(&[(S::Cancelled, 1), (S::Success, 2)]);
        assert_eq!(command_status(&v, 0, false), (C::Success, "Incomplete"));
        // Every invocation cancelled through `InstanceIds` (one node, or each node named):
        // Cancelled, exactly as a whole-command cancel.
        assert_eq!(
            command_status(&[S::Cancelled], 0, false),
            (C::Cancelled, "Cancelled")
        );
        assert_eq!(
            command_status(&n(S::Cancelled, 2), 0, false),
            (C::Cancelled, "Cancelled")
        );
        // Cancelled next to nodes that could not be reached: still Cancelled.
        let v = with(&[(S::Cancelled, 1), (S::Undeliverable, 2)]);
        assert_eq!(command_status(&v, 0, false), (C::Cancelled, "Cancelled"));
        // Cancelled next to a delivery timeout within MaxErrors: nothing succeeded.
        let v = with(&[(S::Cancelled, 1), (S::DeliveryTimedOut, 1)]);
        assert_eq!(command_status(&v, 1, false), (C::Cancelled, "Cancelled"));
        // Terminated invocations are not a user cancellation.
        let v = with(&[(S::Terminated, 1), (S::Success, 2)]);
        assert_eq!(command_status(&v, 0, true), (C::Success, "Incomplete"));
    }

    #[test]
    fn which_threshold_names_the_failure() {
        let et = n(S::ExecutionTimedOut, 2);
        assert_eq!(
            command_status(&et, 1, false),
            (C::TimedOut, "ExecutionTimedOut")
        );
        assert_eq!(
            command_status(&et, 2, false),
            (C::TimedOut, "ExecutionTimedOut"),
            "within MaxErrors, but nothing succeeded"
        );
        let et_ok = with(&[(S::ExecutionTimedOut, 2), (S::Success, 1)]);
        assert_eq!(command_status(&et_ok, 2, false), (C::Success, "Incomplete"));
        // Mixed errors exceed together although neither kind does alone ⇒ Failed.
        let mixed = with(&[(S::ExecutionTimedOut, 1), (S::Failed, 1)]);
        assert_eq!(command_status(&mixed, 1, false), (C::Failed, "Failed"));
        // Both kinds exceed ⇒ Failed.
        let both = with(&[(S::ExecutionTimedOut, 2), (S::Failed, 2)]);
        assert_eq!(command_status(&both, 1, false), (C::Failed, "Failed"));
        // Delivery timeouts: their own threshold, and errors take precedence.
        let dto = n(S::DeliveryTimedOut, 2);
        assert_eq!(
            command_status(&dto, 1, false),
            (C::TimedOut, "DeliveryTimedOut")
        );
        assert_eq!(
            command_status(&dto, 2, false),
            (C::TimedOut, "DeliveryTimedOut"),
            "within MaxErrors, but nothing succeeded"
        );
        let v = with(&[(S::DeliveryTimedOut, 3), (S::Failed, 3)]);
        assert_eq!(command_status(&v, 2, false), (C::Failed, "Failed"));
        // A single-node command with the default MaxErrors.
        let single = [S::DeliveryTimedOut];
        assert_eq!(
            command_status(&single, 0, false),
            (C::TimedOut, "DeliveryTimedOut")
        );
        let single = [S::ExecutionTimedOut];
        assert_eq!(
            command_status(&single, 0, false),
            (C::TimedOut, "ExecutionTimedOut")
        );
        // Undeliverable does not count toward any threshold.
        let v = with(&[(S::Undeliverable, 3), (S::Failed, 1), (S::Success, 1)]);
        assert_eq!(command_status(&v, 1, false), (C::Success, "Incomplete"));
    }

    #[test]
    fn every_single_state_alone() {
        let want = [
            (S::Pending, (C::Pending, "Pending")),
            (S::Delayed, (C::InProgress, "InProgress")),
            (S::InProgress, (C::InProgress, "InProgress")),
            (S::Cancelling, (C::InProgress, "InProgress")),
            (S::Success, (C::Success, "Success")),
            (S::Failed, (C::Failed, "Failed")),
            (S::DeliveryTimedOut, (C::TimedOut, "DeliveryTimedOut")),
            (S::ExecutionTimedOut, (C::TimedOut, "ExecutionTimedOut")),
            (S::Cancelled, (C::Cancelled, "Cancelled")),
            (S::Undeliverable, (C::Failed, "Failed")),
            (S::Terminated, (C::Cancelled, "Cancelled")),
            (S::InvalidPlatform, (C::Failed, "Failed")),
            (S::AccessDenied, (C::Failed, "AccessDenied")),
        ];
        assert_eq!(want.map(|w| w.0), S::ALL);
        for (state, expected) in want {
            assert_eq!(command_status(&[state], 0, false), expected, "{state:?}");
        }
    }

    #[test]
    fn counts_follow_the_reference() {
        let c = CommandCounts::tally(&S::ALL);
        assert_eq!(
            c,
            CommandCounts {
                target_count: 13,
                completed_count: 9,
                error_count: 2,
                delivery_timed_out_count: 1,
            }
        );
        assert_eq!(CommandCounts::tally(&[]), CommandCounts::default());
        let v = with(&[(S::Success, 3), (S::DeliveryTimedOut, 2), (S::Pending, 4)]);
        let c = CommandCounts::tally(&v);
        assert_eq!(
            (c.target_count, c.completed_count, c.error_count),
            (9, 5, 0)
        );
        assert_eq!(c.delivery_timed_out_count, 2);
    }

    fn any_state() -> impl Strategy<Value = S> {
        (0..S::ALL.len()).prop_map(|i| S::ALL[i])
    }

    proptest! {
        #[test]
        fn status_is_terminal_exactly_when_all_invocations_are(
            invs in prop::collection::vec(any_state(), 1..30),
            max_errors in 0..5usize,
            cancel in any::<bool>(),
        ) {
            let (status, _) = command_status(&invs, max_errors, cancel);
            let live = matches!(status, C::Pending | C::InProgress | C::Cancelling);
            prop_assert_eq!(live, invs.iter().any(|s| !s.is_terminal()));
        }

        #[test]
        fn never_success_beyond_max_errors(
            invs in prop::collection::vec(any_state(), 1..30),
            max_errors in 0..5usize,
        ) {
            let counts = CommandCounts::tally(&invs);
            prop_assert!(counts.completed_count <= counts.target_count);
            let ended_badly = counts.error_count + counts.delivery_timed_out_count;
            prop_assert!(ended_badly <= counts.completed_count);
            let (status, details) = command_status(&invs, max_errors, false);
            if counts.completed_count == counts.target_count && counts.error_count > max_errors {
                prop_assert!(matches!(status, C::Failed | C::TimedOut));
            }
            if details == "Success" {
                prop_assert_eq!(counts.error_count, 0);
                prop_assert_eq!(counts.delivery_timed_out_count, 0);
            }
        }

        /// A finished command none of whose invocations succeeded is never `Success`; one whose
        /// every invocation was cancelled is `Cancelled`, however the cancel was asked for.
        #[test]
        fn never_success_without_a_success(
            invs in prop::collection::vec(any_state(), 1..30),
            max_errors in 0..40usize,
            cancel in any::<bool>(),
        ) {
            let (status, details) = command_status(&invs, max_errors, cancel);
            if !invs.contains(&S::Success) {
                prop_assert_ne!(status, C::Success, "{:?} {}", invs, details);
            }
            if invs.iter().all(|s| *s == S::Cancelled) {
                prop_assert_eq!((status, details), (C::Cancelled, "Cancelled"));
            }
        }
    }
}
