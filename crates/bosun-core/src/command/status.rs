//! Run Command status vocabulary: the three wire enums and the state machine of one invocation.
//!
//! An invocation (one command on one node) shows two strings on the wire: `Status`, a small
//! modelled enum, and `StatusDetails`, a free string that carries the finer state. Both spellings
//! below go on the wire unchanged. [`InvocationState`] is the finer state; [`next`] moves it.
//!
//! Sources:
//! - Enums: botocore `ssm/2014-11-06/service-2.json` (`CommandStatus`, `CommandInvocationStatus`,
//!   `CommandPluginStatus`), in model order.
//! - Meanings: user guide "Understanding command statuses"
//!   (<https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html>).
//! - Detail spellings are camel case (`ExecutionTimedOut`, `Undeliverable`, `NoInstancesInTag`):
//!   they are the `Status` filter tokens `ListCommandInvocations` accepts, and captured real
//!   responses read `"Status": "TimedOut", "StatusDetails": "ExecutionTimedOut"` and
//!   `"Status": "Failed", "StatusDetails": "Undeliverable"`.

use serde::{Deserialize, Serialize};

/// Defines a wire enum whose variant names are its exact wire spellings.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every value, in model order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The exact wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($variant)),+
                }
            }

            /// Parse the exact wire spelling (case-sensitive, as AWS is).
            pub fn from_wire(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// `Command.Status`.
    CommandStatus { Pending, InProgress, Success, Cancelled, Failed, TimedOut, Cancelling }
);

wire_enum!(
    /// `CommandInvocation.Status` and `GetCommandInvocation.Status`.
    CommandInvocationStatus {
        Pending, InProgress, Delayed, Success, Cancelled, TimedOut, Failed, Cancelling
    }
);

wire_enum!(
    /// `CommandPlugin.Status` (one per document step).
    CommandPluginStatus { Pending, InProgress, Success, TimedOut, Cancelled, Failed }
);

/// The full state of one invocation; each maps to one (`Status`, `StatusDetails`) pair.
///
/// The first four are live; the rest are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvocationState {
    /// Not yet sent to the node (waiting for a dispatch slot).
    Pending,
    /// A send attempt failed (node offline, stopped, network); the system retries.
    Delayed,
    /// Being sent, or received by the agent and running. Both look the same on the wire.
    InProgress,
    /// `CancelCommand` reached an invocation the agent may hold; waiting for its answer.
    Cancelling,
    /// Every step exited 0 (skipped steps count as success).
    Success,
    /// Some step exited non-zero. Counts against MaxErrors.
    Failed,
    /// No terminal answer from the agent before `ExpiresAfter`. Does not count against MaxErrors.
    DeliveryTimedOut,
    /// The agent stopped a step at its execution timeout. Counts against MaxErrors.
    ExecutionTimedOut,
    /// Cancelled by `CancelCommand`.
    Cancelled,
    /// The node does not exist or does not respond. Does not count against MaxErrors.
    Undeliverable,
    /// Never started: the command exceeded MaxErrors first.
    Terminated,
    /// The node's platform is not one the document supports.
    InvalidPlatform,
    /// The caller may not act on this node.
    AccessDenied,
}

impl InvocationState {
    /// Every state: the live ones first.
    pub const ALL: [InvocationState; 13] = [
        InvocationState::Pending,
        InvocationState::Delayed,
        InvocationState::InProgress,
        InvocationState::Cancelling,
        InvocationState::Success,
        InvocationState::Failed,
        InvocationState::DeliveryTimedOut,
        InvocationState::ExecutionTimedOut,
        InvocationState::Cancelled,
        InvocationState::Undeliverable,
        InvocationState::Terminated,
        InvocationState::InvalidPlatform,
        InvocationState::AccessDenied,
    ];

    /// The `Status` the API shows.
    ///
    /// The docs give no `Status` for the service-side details, so these are judgements:
    /// - `Undeliverable` is `Failed`: captured real responses show exactly that pair.
    /// - `InvalidPlatform` and `AccessDenied` are `Failed` like `Undeliverable`: the node was
    ///   never reached, and the docs group the three ("contribute to Success or Failed").
    /// - `Terminated` is `Cancelled`: the docs say the system *cancelled* these invocations
    ///   after MaxErrors was exceeded; they never ran, so `Failed` would misreport the node.
    pub fn status(self) -> CommandInvocationStatus {
        use CommandInvocationStatus as W;
        match self {
            InvocationState::Pending => W::Pending,
            InvocationState::Delayed => W::Delayed,
            InvocationState::InProgress => W::InProgress,
            InvocationState::Cancelling => W::Cancelling,
            InvocationState::Success => W::Success,
            InvocationState::DeliveryTimedOut | InvocationState::ExecutionTimedOut => W::TimedOut,
            InvocationState::Cancelled | InvocationState::Terminated => W::Cancelled,
            InvocationState::Failed
            | InvocationState::Undeliverable
            | InvocationState::InvalidPlatform
            | InvocationState::AccessDenied => W::Failed,
        }
    }

    /// The `StatusDetails` the API shows.
    pub fn details(self) -> &'static str {
        match self {
            InvocationState::Pending => "Pending",
            InvocationState::Delayed => "Delayed",
            InvocationState::InProgress => "InProgress",
            InvocationState::Cancelling => "Cancelling",
            InvocationState::Success => "Success",
            InvocationState::Failed => "Failed",
            InvocationState::DeliveryTimedOut => "DeliveryTimedOut",
            InvocationState::ExecutionTimedOut => "ExecutionTimedOut",
            InvocationState::Cancelled => "Cancelled",
            InvocationState::Undeliverable => "Undeliverable",
            InvocationState::Terminated => "Terminated",
            InvocationState::InvalidPlatform => "InvalidPlatform",
            InvocationState::AccessDenied => "AccessDenied",
        }
    }

    /// Terminal states never change again (the docs mark each "a terminal state").
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            InvocationState::Pending
                | InvocationState::Delayed
                | InvocationState::InProgress
                | InvocationState::Cancelling
        )
    }

    /// Counts toward `ErrorCount` and against MaxErrors: `Failed` and `ExecutionTimedOut` only.
    pub fn counts_as_error(self) -> bool {
        matches!(
            self,
            InvocationState::Failed | InvocationState::ExecutionTimedOut
        )
    }

    /// What a step that never reported shows once its invocation is terminal: the
    /// invocation's own `Status` and `StatusDetails` (a `Terminated` invocation's steps read
    /// `Cancelled`/`Terminated`, an undeliverable one's `Failed`/`Undeliverable`). `None` while
    /// the invocation is live: its steps are rightly `Pending`.
    ///
    /// AWS documents no plugin status for steps that never ran; the `CommandPlugin`
    /// `StatusDetails` reference lists the same values as the invocation's (`Terminated`,
    /// `Undeliverable`, `Delivery Timed Out`, …), so each step repeats its invocation's.
    pub fn unrun_step(self) -> Option<(CommandPluginStatus, &'static str)> {
        use CommandInvocationStatus as W;
        use CommandPluginStatus as P;
        let status = match self.status() {
            W::Success => P::Success,
            W::Failed => P::Failed,
            W::TimedOut => P::TimedOut,
            W::Cancelled => P::Cancelled,
            W::Pending | W::InProgress | W::Delayed | W::Cancelling => return None,
        };
        Some((status, self.details()))
    }

    /// Read a stored (`Status`, `StatusDetails`) pair back. `None` for a pair no state produces.
    pub fn from_wire(status: &str, details: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.status().as_str() == status && s.details() == details)
    }
}

/// A step's new (`Status`, `StatusDetails`) now that its invocation is in `invocation`:
/// `Some` when the stored `step` status must change (the step never reported and the
/// invocation has ended: see [`InvocationState::unrun_step`]), `None` to keep it.
pub fn settle_step(
    invocation: InvocationState,
    step: CommandPluginStatus,
) -> Option<(CommandPluginStatus, &'static str)> {
    match step {
        CommandPluginStatus::Pending | CommandPluginStatus::InProgress => invocation.unrun_step(),
        _ => None,
    }
}

/// What the agent's roll-up of a document's steps says (see `plugin::roll_up`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvocationOutcome {
    /// Not finished yet: some step still runs, or a step asked for a reboot and will resume.
    InProgress,
    Success,
    Failed,
    /// A step hit its execution timeout (becomes `ExecutionTimedOut`).
    TimedOut,
    Cancelled,
}

/// Something that happens to one invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvocationEvent {
    /// A send attempt starts (the docs count "being sent" as `InProgress`).
    Sent,
    /// A send attempt failed; the system will retry (`Delayed`).
    DeliveryFailed,
    /// The agent accepted and persisted the command.
    Acknowledged,
    /// The agent reported the document's rolled-up result.
    Finished(InvocationOutcome),
    /// `ExpiresAfter` passed without a terminal answer from the agent.
    DeliveryDeadlinePassed,
    /// `CancelCommand` covers this invocation.
    CancelRequested,
    /// The agent confirmed the cancellation.
    CancelConfirmed,
    /// The command exceeded MaxErrors before this invocation was sent.
    MaxErrorsExceeded,
    /// The system gave up on reaching the node (it does not exist or is gone).
    Undeliverable,
    /// The node's platform does not match the document's.
    PlatformMismatch,
    /// The caller may not act on the node.
    AccessDenied,
}

/// An event that does not apply to the state it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an invocation in state {from:?} cannot take event {event:?}")]
pub struct InvalidTransition {
    pub from: InvocationState,
    pub event: InvocationEvent,
}

/// Apply `event` to an invocation in `state`.
///
/// Live states:
/// - Agent reports (`Acknowledged`, `Finished`) are proof of delivery, so they are accepted from
///   `Pending` and `Delayed` too (a send the server thought failed may have arrived).
/// - `DeliveryDeadlinePassed` turns *every* live state into `DeliveryTimedOut`, including an
///   `InProgress` invocation the agent already acknowledged. The guide says that at expiry all
///   `InProgress`, `Pending` and `Delayed` invocations become `DeliveryTimedOut`, and that an
///   invocation without a terminal response from the agent is marked delivery-timed-out; only
///   the agent can report `ExecutionTimedOut`. `Cancelling` follows the same rule (judgement:
///   the agent never gave a terminal answer, and the invocation must end).
/// - `CancelRequested` ends `Pending`/`Delayed` at once (`Cancelled`: nothing reached the node)
///   and turns `InProgress` into `Cancelling`. The agent may still finish first: a `Finished`
///   result while `Cancelling` wins.
/// - `MaxErrorsExceeded` only terminates `Pending` invocations: already sent ones (including
///   `Delayed`) may complete, as the guide says.
/// - `Undeliverable` applies to `Pending`/`Delayed`; `PlatformMismatch`/`AccessDenied` are
///   decided before sending, so only from `Pending`.
///
/// Terminal states take no event, except that an event which could have produced that very
/// state is an idempotent duplicate (`Ok(state)`): a repeated agent result, a second
/// `CancelCommand` on a cancelled invocation, a second deadline sweep.
pub fn next(
    state: InvocationState,
    event: InvocationEvent,
) -> Result<InvocationState, InvalidTransition> {
    let found = if state.is_terminal() {
        let duplicate = InvocationState::ALL
            .into_iter()
            .filter(|s| !s.is_terminal())
            .any(|live| step(live, event) == Some(state));
        duplicate.then_some(state)
    } else {
        step(state, event)
    };
    found.ok_or(InvalidTransition { from: state, event })
}

/// The transitions out of live states; `None` when the event does not apply.
fn step(state: InvocationState, event: InvocationEvent) -> Option<InvocationState> {
    use InvocationEvent as E;
    use InvocationState as S;
    let to = match (state, event) {
        (S::Pending | S::Delayed | S::InProgress, E::Sent | E::Acknowledged) => S::InProgress,
        (S::Pending | S::Delayed | S::InProgress, E::DeliveryFailed) => S::Delayed,
        (S::Cancelling, E::Acknowledged | E::CancelRequested) => S::Cancelling,
        (S::Pending | S::Delayed | S::InProgress, E::Finished(InvocationOutcome::InProgress)) => {
            S::InProgress
        }
        (S::Cancelling, E::Finished(InvocationOutcome::InProgress)) => S::Cancelling,
        (_, E::Finished(InvocationOutcome::Success)) => S::Success,
        (_, E::Finished(InvocationOutcome::Failed)) => S::Failed,
        (_, E::Finished(InvocationOutcome::TimedOut)) => S::ExecutionTimedOut,
        (_, E::Finished(InvocationOutcome::Cancelled)) => S::Cancelled,
        (_, E::DeliveryDeadlinePassed) => S::DeliveryTimedOut,
        (S::Pending | S::Delayed, E::CancelRequested) => S::Cancelled,
        (S::InProgress, E::CancelRequested) => S::Cancelling,
        (S::Cancelling, E::CancelConfirmed) => S::Cancelled,
        (S::Pending, E::MaxErrorsExceeded) => S::Terminated,
        (S::Pending | S::Delayed, E::Undeliverable) => S::Undeliverable,
        (S::Pending, E::PlatformMismatch) => S::InvalidPlatform,
        (S::Pending, E::AccessDenied) => S::AccessDenied,
        _ => return None,
    };
    Some(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use InvocationEvent as E;
    use InvocationOutcome as O;
    use InvocationState as S;

    /// Every event, in the column order of `TABLE`.
    const EVENTS: [InvocationEvent; 15] = [
        E::Sent,
        E::DeliveryFailed,
        E::Acknowledged,
        E::Finished(O::InProgress),
        E::Finished(O::Success),
        E::Finished(O::Failed),
        E::Finished(O::TimedOut),
        E::Finished(O::Cancelled),
        E::DeliveryDeadlinePassed,
        E::CancelRequested,
        E::CancelConfirmed,
        E::MaxErrorsExceeded,
        E::Undeliverable,
        E::PlatformMismatch,
        E::AccessDenied,
    ];

    const PE: Option<S> = Some(S::Pending);
    const DL: Option<S> = Some(S::Delayed);
    const IP: Option<S> = Some(S::InProgress);
    const CG: Option<S> = Some(S::Cancelling);
    const OK: Option<S> = Some(S::Success);
    const FA: Option<S> = Some(S::Failed);
    const DT: Option<S> = Some(S::DeliveryTimedOut);
    const ET: Option<S> = Some(S::ExecutionTimedOut);
    const CA: Option<S> = Some(S::Cancelled);
    const UN: Option<S> = Some(S::Undeliverable);
    const TE: Option<S> = Some(S::Terminated);
    const IV: Option<S> = Some(S::InvalidPlatform);
    const AD: Option<S> = Some(S::AccessDenied);
    const NO: Option<S> = None;

    /// Expected result of every (state, event) pair; `NO` is `Err(InvalidTransition)`.
    #[rustfmt::skip]
    const TABLE: [(S, [Option<S>; 15]); 13] = [
        //                   Sent DelF Ack  FIP  FOK  FFa  FTO  FCa  Dead CReq CCon MaxE Undl Plat Deny
        (S::Pending,           [IP,  DL,  IP,  IP,  OK,  FA,  ET,  CA,  DT,  CA,  NO,  TE,  UN,  IV,  AD]),
        (S::Delayed,           [IP,  DL,  IP,  IP,  OK,  FA,  ET,  CA,  DT,  CA,  NO,  NO,  UN,  NO,  NO]),
        (S::InProgress,        [IP,  DL,  IP,  IP,  OK,  FA,  ET,  CA,  DT,  CG,  NO,  NO,  NO,  NO,  NO]),
        (S::Cancelling,        [NO,  NO,  CG,  CG,  OK,  FA,  ET,  CA,  DT,  CG,  CA,  NO,  NO,  NO,  NO]),
        (S::Success,           [NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO]),
        (S::Failed,            [NO,  NO,  NO,  NO,  NO,  FA,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO]),
        (S::DeliveryTimedOut,  [NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  DT,  NO,  NO,  NO,  NO,  NO,  NO]),
        (S::ExecutionTimedOut, [NO,  NO,  NO,  NO,  NO,  NO,  ET,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO]),
        (S::Cancelled,         [NO,  NO,  NO,  NO,  NO,  NO,  NO,  CA,  NO,  CA,  CA,  NO,  NO,  NO,  NO]),
        (S::Undeliverable,     [NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  UN,  NO,  NO]),
        (S::Terminated,        [NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  TE,  NO,  NO,  NO]),
        (S::InvalidPlatform,   [NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  IV,  NO]),
        (S::AccessDenied,      [NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  AD]),
    ];

    #[test]
    fn every_state_and_event_pair_matches_the_table() {
        assert_eq!(
            TABLE.map(|(s, _)| s),
            S::ALL,
            "table covers every state once"
        );
        let mut checked = 0;
        for (state, row) in TABLE {
            for (event, want) in EVENTS.into_iter().zip(row) {
                let got = next(state, event);
                match want {
                    Some(to) => assert_eq!(got, Ok(to), "{state:?} + {event:?}"),
                    None => assert_eq!(
                        got,
                        Err(InvalidTransition { from: state, event }),
                        "{state:?} + {event:?}"
                    ),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 13 * 15);
        // Nothing ever goes back to Pending.
        assert!(TABLE.iter().all(|(_, row)| !row.contains(&PE)));
    }

    #[test]
    fn wire_pairs_are_exact() {
        let want = [
            (S::Pending, "Pending", "Pending"),
            (S::Delayed, "Delayed", "Delayed"),
            (S::InProgress, "InProgress", "InProgress"),
            (S::Cancelling, "Cancelling", "Cancelling"),
            (S::Success, "Success", "Success"),
            (S::Failed, "Failed", "Failed"),
            (S::DeliveryTimedOut, "TimedOut", "DeliveryTimedOut"),
            (S::ExecutionTimedOut, "TimedOut", "ExecutionTimedOut"),
            (S::Cancelled, "Cancelled", "Cancelled"),
            (S::Undeliverable, "Failed", "Undeliverable"),
            (S::Terminated, "Cancelled", "Terminated"),
            (S::InvalidPlatform, "Failed", "InvalidPlatform"),
            (S::AccessDenied, "Failed", "AccessDenied"),
        ];
        assert_eq!(want.map(|(s, _, _)| s), S::ALL);
        for (state, status, details) in want {
            assert_eq!(state.status().as_str(), status);
            assert_eq!(state.details(), details);
            assert_eq!(S::from_wire(status, details), Some(state));
        }
    }

    #[test]
    fn from_wire_rejects_pairs_no_state_produces() {
        for (status, details) in [
            ("Failed", "Success"),
            ("TimedOut", "Failed"),
            ("Cancelled", "Undeliverable"),
            ("Success", "NoInstancesInTag"),
            ("failed", "failed"),
            ("Timed Out", "Delivery Timed Out"),
            ("", ""),
        ] {
            assert_eq!(S::from_wire(status, details), None, "{status}/{details}");
        }
    }

    #[test]
    fn terminal_and_error_classes() {
        let terminal: Vec<S> = S::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, S::ALL[4..].to_vec());
        let errors: Vec<S> = S::ALL.into_iter().filter(|s| s.counts_as_error()).collect();
        assert_eq!(errors, [S::Failed, S::ExecutionTimedOut]);
        // Every invocation Status the model knows is reachable.
        for w in CommandInvocationStatus::ALL {
            assert!(S::ALL.iter().any(|s| s.status() == *w), "{w}");
        }
    }

    #[test]
    fn wire_enums_match_the_model_in_order() {
        let names = |all: &[&'static str]| all.join(",");
        let cmd: Vec<_> = CommandStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names(&cmd),
            "Pending,InProgress,Success,Cancelled,Failed,TimedOut,Cancelling"
        );
        let inv: Vec<_> = CommandInvocationStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            names(&inv),
            "Pending,InProgress,Delayed,Success,Cancelled,TimedOut,Failed,Cancelling"
        );
        let plugin: Vec<_> = CommandPluginStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            names(&plugin),
            "Pending,InProgress,Success,TimedOut,Cancelled,Failed"
        );
        for s in CommandStatus::ALL {
            assert_eq!(CommandStatus::from_wire(s.as_str()), Some(*s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(CommandStatus::from_wire("Canceled"), None);
        assert_eq!(CommandInvocationStatus::from_wire("inprogress"), None);
    }

    #[test]
    fn wire_enums_deserialize_from_their_spelling() {
        use serde::de::{value::Error, IntoDeserializer};
        let read = |s: &'static str| {
            CommandInvocationStatus::deserialize(IntoDeserializer::<Error>::into_deserializer(s))
        };
        assert_eq!(read("TimedOut"), Ok(CommandInvocationStatus::TimedOut));
        assert!(read("Timed Out").is_err());
    }

    #[test]
    fn steps_that_never_ran_show_their_invocation() {
        use CommandPluginStatus as P;
        assert_eq!(
            S::Terminated.unrun_step(),
            Some((P::Cancelled, "Terminated"))
        );
        assert_eq!(S::Cancelled.unrun_step(), Some((P::Cancelled, "Cancelled")));
        assert_eq!(
            S::DeliveryTimedOut.unrun_step(),
            Some((P::TimedOut, "DeliveryTimedOut"))
        );
        assert_eq!(
            S::Undeliverable.unrun_step(),
            Some((P::Failed, "Undeliverable"))
        );
        for s in S::ALL {
            match s.unrun_step() {
                None => assert!(!s.is_terminal(), "{s:?}"),
                Some((p, d)) => {
                    assert!(s.is_terminal(), "{s:?}");
                    assert_ne!(p, P::Pending);
                    assert_ne!(p, P::InProgress);
                    assert_eq!((p.as_str(), d), (s.status().as_str(), s.details()));
                }
            }
        }
    }

    fn any_event() -> impl Strategy<Value = InvocationEvent> {
        (0..EVENTS.len()).prop_map(|i| EVENTS[i])
    }

    proptest! {
        /// Whatever happens, a terminal state never changes, and errors never change the state.
        #[test]
        fn terminal_states_are_absorbing(events in prop::collection::vec(any_event(), 0..40)) {
            let mut state = S::Pending;
            let mut terminal_at: Option<S> = None;
            for event in events {
                if let Ok(to) = next(state, event) {
                    state = to;
                }
                if let Some(t) = terminal_at {
                    prop_assert_eq!(state, t);
                }
                if state.is_terminal() {
                    terminal_at = Some(state);
                }
            }
        }

        /// However an invocation ends, none of its steps is left `Pending`: steps the agent
        /// reported keep their result, the others take the invocation's end
        /// (`Terminated` and `Cancelled` included).
        #[test]
        fn a_terminal_invocation_has_no_pending_step(
            events in prop::collection::vec(any_event(), 0..20),
            reported in prop::collection::vec(prop::option::of(0..6usize), 1..6),
        ) {
            let mut state = S::Pending;
            for event in events {
                state = next(state, event).unwrap_or(state);
            }
            let steps: Vec<CommandPluginStatus> = reported
                .iter()
                .map(|r| r.map_or(CommandPluginStatus::Pending, |i| CommandPluginStatus::ALL[i]))
                .collect();
            let settled: Vec<CommandPluginStatus> = steps
                .iter()
                .map(|p| settle_step(state, *p).map_or(*p, |(s, _)| s))
                .collect();
            for (before, after) in steps.iter().zip(&settled) {
                if !matches!(before, CommandPluginStatus::Pending | CommandPluginStatus::InProgress) {
                    prop_assert_eq!(before, after, "a reported step keeps its result");
                }
            }
            if state.is_terminal() {
                prop_assert!(!settled.contains(&CommandPluginStatus::Pending), "{:?}", state);
                prop_assert!(!settled.contains(&CommandPluginStatus::InProgress), "{:?}", state);
            }
            if matches!(state, S::Terminated | S::Cancelled) {
                prop_assert!(settled.iter().all(|p| *p != CommandPluginStatus::Pending));
            }
        }

        /// Every live state reaches a terminal state at the deadline, whatever came before.
        #[test]
        fn the_deadline_always_ends_a_live_invocation(
            events in prop::collection::vec(any_event(), 0..20),
        ) {
            let mut state = S::Pending;
            for event in events {
                state = next(state, event).unwrap_or(state);
            }
            let after = next(state, E::DeliveryDeadlinePassed);
            if state.is_terminal() {
                prop_assert!(after.is_err() || after == Ok(S::DeliveryTimedOut));
            } else {
                prop_assert_eq!(after, Ok(S::DeliveryTimedOut));
            }
        }
    }
}
