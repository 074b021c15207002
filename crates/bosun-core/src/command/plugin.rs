//! Step (plugin) results as the agent reports them, how they show on the wire, and how they
//! roll up into one invocation outcome.
//!
//! Source: `aws/amazon-ssm-agent`. The result vocabulary is `contracts.ResultStatus`; the
//! roll-up is `DocumentResultAggregator` in `agent/contracts/aggregator.go`, whose comment calls
//! its precedence "a contract between SSM service and agent". That function, not
//! `MergeResultStatus` (which ranks TimedOut > Cancelled > Failed and serves sub-task merging
//! inside plugins), decides the `documentStatus` the service receives.

use super::status::{CommandPluginStatus, InvocationOutcome};

/// One step's result in the agent's vocabulary (`contracts.ResultStatus`, minus the test-only
/// `TestFailure`/`TestPass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginOutcome {
    NotStarted,
    InProgress,
    Success,
    /// Exit code 194 (Windows 3010): succeeded, reboot requested, document resumes afterwards.
    SuccessAndReboot,
    PassedAndReboot,
    Failed,
    Cancelled,
    /// Stopped by the agent at the step's execution timeout.
    TimedOut,
    /// Precondition false or plugin unsupported on this OS; the step did not run.
    Skipped,
}

impl PluginOutcome {
    pub const ALL: [PluginOutcome; 9] = [
        PluginOutcome::NotStarted,
        PluginOutcome::InProgress,
        PluginOutcome::Success,
        PluginOutcome::SuccessAndReboot,
        PluginOutcome::PassedAndReboot,
        PluginOutcome::Failed,
        PluginOutcome::Cancelled,
        PluginOutcome::TimedOut,
        PluginOutcome::Skipped,
    ];

    /// The agent's spelling of this result.
    pub fn as_agent_str(self) -> &'static str {
        match self {
            PluginOutcome::NotStarted => "NotStarted",
            PluginOutcome::InProgress => "InProgress",
            PluginOutcome::Success => "Success",
            PluginOutcome::SuccessAndReboot => "SuccessAndReboot",
            PluginOutcome::PassedAndReboot => "PassedAndReboot",
            PluginOutcome::Failed => "Failed",
            PluginOutcome::Cancelled => "Cancelled",
            PluginOutcome::TimedOut => "TimedOut",
            PluginOutcome::Skipped => "Skipped",
        }
    }

    /// Parse the agent's spelling.
    pub fn from_agent(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_agent_str() == s)
    }

    /// The `CommandPlugin.Status` the API shows.
    ///
    /// - `Skipped` shows as `Success`: the model has no skipped value, and clients written
    ///   against AWS recognise skipped steps of multi-platform documents by their `Success`
    ///   status plus the agent's "Step execution skipped due to …" output, not by a status.
    /// - `SuccessAndReboot`/`PassedAndReboot` show as `InProgress`: the agent reruns the step
    ///   after the reboot and reports again.
    /// - `NotStarted` shows as `Pending`.
    pub fn status(self) -> CommandPluginStatus {
        match self {
            PluginOutcome::NotStarted => CommandPluginStatus::Pending,
            PluginOutcome::InProgress
            | PluginOutcome::SuccessAndReboot
            | PluginOutcome::PassedAndReboot => CommandPluginStatus::InProgress,
            PluginOutcome::Success | PluginOutcome::Skipped => CommandPluginStatus::Success,
            PluginOutcome::Failed => CommandPluginStatus::Failed,
            PluginOutcome::Cancelled => CommandPluginStatus::Cancelled,
            PluginOutcome::TimedOut => CommandPluginStatus::TimedOut,
        }
    }

    /// The `CommandPlugin.StatusDetails` the API shows: the status, except that a timeout the
    /// agent reports is an execution timeout (delivery timeouts are decided by the service).
    pub fn details(self) -> &'static str {
        match self {
            PluginOutcome::TimedOut => "ExecutionTimedOut",
            other => other.status().as_str(),
        }
    }

    /// What a step shows in a document's *final* report (the agent sends one when the whole
    /// document is done): a step still `NotStarted` or `InProgress` there did not run and never
    /// will, so it is `Skipped` (an earlier step ended the document; agents before the
    /// step-flow fix reported such steps `NotStarted`). Everything else is kept. Reboot
    /// outcomes are kept too: they mean the document resumes, so that report is not final.
    pub fn in_final_report(self) -> PluginOutcome {
        match self {
            PluginOutcome::NotStarted | PluginOutcome::InProgress => PluginOutcome::Skipped,
            other => other,
        }
    }

    /// The agent will not report this step again (reboot outcomes resume, so they are live).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            PluginOutcome::Success
                | PluginOutcome::Failed
                | PluginOutcome::Cancelled
                | PluginOutcome::TimedOut
                | PluginOutcome::Skipped
        )
    }
}

/// Roll a document's step results up into the invocation's outcome, as the agent does:
/// 1. any `SuccessAndReboot` ⇒ the document is rebooting and will resume ⇒ `InProgress`;
/// 2. else any `Failed` ⇒ `Failed`;
/// 3. else any `TimedOut` ⇒ `TimedOut` (an execution timeout);
/// 4. else any `Cancelled` ⇒ `Cancelled`;
/// 5. else every step `Success` or `Skipped` (or no steps at all) ⇒ `Success`;
/// 6. else ⇒ `InProgress` (something is still pending, running, or `PassedAndReboot`).
///
/// A failure therefore ends the roll-up even while later steps have not reported; whether the
/// remaining steps run is the agent's business (`onFailure`, exit codes 168/169: see
/// `command::flow`). For a final report use [`roll_up_final`].
pub fn roll_up(plugins: &[PluginOutcome]) -> InvocationOutcome {
    let any = |o: PluginOutcome| plugins.contains(&o);
    if any(PluginOutcome::SuccessAndReboot) {
        InvocationOutcome::InProgress
    } else if any(PluginOutcome::Failed) {
        InvocationOutcome::Failed
    } else if any(PluginOutcome::TimedOut) {
        InvocationOutcome::TimedOut
    } else if any(PluginOutcome::Cancelled) {
        InvocationOutcome::Cancelled
    } else if plugins
        .iter()
        .all(|o| matches!(o, PluginOutcome::Success | PluginOutcome::Skipped))
    {
        InvocationOutcome::Success
    } else {
        InvocationOutcome::InProgress
    }
}

/// Roll up a document's final report (see [`PluginOutcome::in_final_report`]): always a
/// terminal outcome unless a step asked for a reboot.
pub fn roll_up_final(plugins: &[PluginOutcome]) -> InvocationOutcome {
    let settled: Vec<PluginOutcome> = plugins.iter().map(|p| p.in_final_report()).collect();
    roll_up(&settled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use InvocationOutcome as O;
    use PluginOutcome as P;

    #[test]
    fn wire_mapping_of_every_outcome() {
        let want = [
            (P::NotStarted, "NotStarted", "Pending", "Pending", false),
            (
                P::InProgress,
                "InProgress",
                "InProgress",
                "InProgress",
                false,
            ),
            (P::Success, "Success", "Success", "Success", true),
            (
                P::SuccessAndReboot,
                "SuccessAndReboot",
                "InProgress",
                "InProgress",
                false,
            ),
            (
                P::PassedAndReboot,
                "PassedAndReboot",
                "InProgress",
                "InProgress",
                false,
            ),
            (P::Failed, "Failed", "Failed", "Failed", true),
            (P::Cancelled, "Cancelled", "Cancelled", "Cancelled", true),
            (
                P::TimedOut,
                "TimedOut",
                "TimedOut",
                "ExecutionTimedOut",
                true,
            ),
            (P::Skipped, "Skipped", "Success", "Success", true),
        ];
        assert_eq!(want.map(|w| w.0), P::ALL);
        for (outcome, agent, status, details, is_final) in want {
            assert_eq!(outcome.as_agent_str(), agent);
            assert_eq!(P::from_agent(agent), Some(outcome));
            assert_eq!(outcome.status().as_str(), status, "{outcome:?}");
            assert_eq!(outcome.details(), details, "{outcome:?}");
            assert_eq!(outcome.is_final(), is_final, "{outcome:?}");
        }
        assert_eq!(P::from_agent("TestPass"), None);
        assert_eq!(P::from_agent("success"), None);
    }

    #[test]
    fn every_outcome_alone() {
        let want = [
            (P::NotStarted, O::InProgress),
            (P::InProgress, O::InProgress),
            (P::Success, O::Success),
            (P::SuccessAndReboot, O::InProgress),
            (P::PassedAndReboot, O::InProgress),
            (P::Failed, O::Failed),
            (P::Cancelled, O::Cancelled),
            (P::TimedOut, O::TimedOut),
            (P::Skipped, O::Success),
        ];
        for (plugin, outcome) in want {
            assert_eq!(roll_up(&[plugin]), outcome, "{plugin:?}");
        }
        assert_eq!(roll_up(&[]), O::Success);
    }

    /// Every pair, checked against the precedence written out as a rank.
    #[test]
    fn every_pair_follows_the_precedence() {
        fn rank(o: P) -> u8 {
            match o {
                P::SuccessAndReboot => 5,
                P::Failed => 4,
                P::TimedOut => 3,
                P::Cancelled => 2,
                P::Success | P::Skipped => 0,
                P::NotStarted | P::InProgress | P::PassedAndReboot => 1,
            }
        }
        fn alone(o: P) -> O {
            roll_up(&[o])
        }
        for a in P::ALL {
            for b in P::ALL {
                let top = if rank(a) >= rank(b) { a } else { b };
                assert_eq!(roll_up(&[a, b]), alone(top), "{a:?} + {b:?}");
            }
        }
    }

    #[test]
    fn documented_examples() {
        // Multi-platform document on Linux: the Windows step is skipped.
        assert_eq!(roll_up(&[P::Skipped, P::Success]), O::Success);
        // A failure wins over a timeout and a cancellation (agent precedence).
        assert_eq!(roll_up(&[P::TimedOut, P::Failed, P::Cancelled]), O::Failed);
        assert_eq!(roll_up(&[P::Cancelled, P::TimedOut]), O::TimedOut);
        // A reboot request keeps the document running even after a failure.
        assert_eq!(roll_up(&[P::Failed, P::SuccessAndReboot]), O::InProgress);
        // Later steps not yet reported.
        assert_eq!(roll_up(&[P::Success, P::NotStarted]), O::InProgress);
        // ... but in a final report a step not started did not run: the document ended early.
        assert_eq!(roll_up_final(&[P::Success, P::NotStarted]), O::Success);
        assert_eq!(roll_up_final(&[P::Failed, P::NotStarted]), O::Failed);
        assert_eq!(roll_up_final(&[P::Success, P::Skipped]), O::Success);
        // A reboot request is not a final report.
        assert_eq!(roll_up_final(&[P::SuccessAndReboot]), O::InProgress);
    }

    fn any_outcome() -> impl Strategy<Value = PluginOutcome> {
        (0..P::ALL.len()).prop_map(|i| P::ALL[i])
    }

    proptest! {
        #[test]
        fn order_does_not_matter(
            mut plugins in prop::collection::vec(any_outcome(), 0..8),
            seed in any::<u64>(),
        ) {
            let before = roll_up(&plugins);
            let n = plugins.len().max(1) as u64;
            plugins.rotate_left((seed % n) as usize);
            plugins.reverse();
            prop_assert_eq!(roll_up(&plugins), before);
        }

        /// Whatever a final report holds (the statuses a Bosun agent reports, which have no
        /// reboot), the invocation ends.
        #[test]
        fn a_final_report_always_ends_the_invocation(
            plugins in prop::collection::vec(
                prop::sample::select(vec![
                    P::NotStarted, P::InProgress, P::Success, P::Failed, P::Cancelled,
                    P::TimedOut, P::Skipped,
                ]),
                0..8,
            ),
        ) {
            prop_assert_ne!(roll_up_final(&plugins), O::InProgress, "{:?}", plugins);
            for p in &plugins {
                prop_assert!(p.in_final_report().is_final());
            }
        }

        #[test]
        fn final_results_always_give_a_final_outcome(
            plugins in prop::collection::vec(any_outcome(), 0..8),
        ) {
            let outcome = roll_up(&plugins);
            if plugins.iter().all(|p| p.is_final()) {
                prop_assert_ne!(outcome, O::InProgress);
            }
            if outcome == O::Success {
                prop_assert!(plugins.iter().all(|p| matches!(p, P::Success | P::Skipped)));
            }
        }
    }
}
