//! Maintenance Window execution rules, pure: statuses and their roll-up, the plan of a window
//! execution (priorities, cutoff, cancel, rate limits, overlap), task targets that did not run,
//! pseudo-parameters and id formats; the rules of definitions (`input`) and their upcoming runs
//! (`upcoming`). No IO, no clock: the executor passes `now` and the state.
//!
//! # How an executor drives a window execution
//! 1. A slot comes due: [`plan::slot_start`]. A window whose previous execution has not ended
//!    records an execution `SKIPPED_OVERLAPPING` ([`plan::SKIPPED_OVERLAPPING_DETAILS`]) and
//!    runs nothing; otherwise it records an execution `IN_PROGRESS` (id: [`ids::new_uuid`]).
//! 2. [`plan::next_actions`]`(&WindowRun, now_ms)` gives task-level [`plan::Action`]s:
//!    - `StartTask`: resolve the task's targets into [`targets::TargetNode`]s, keeping nodes
//!      that are offline, deregistered or unknown; record the task execution with one
//!      invocation per node (`InvocationPhase::Waiting`). Limits: [`plan::TaskLimits::resolve`].
//!    - `SkipTask`: record a task execution that never started ([`rollup::task_not_started`]).
//!    - `StopTask`: mark the task `Running { stopping: Some(cause) }`.
//!
//!    Call again whenever a task ends, on a cancel, and at [`plan::next_wake`].
//! 3. For each running task, [`plan::next_invocation_actions`] gives `Send` (one Run Command
//!    command to that node; parameters through [`pseudo::substitute_parameters`]), `NotRun`
//!    (a node not `Online` when its turn comes, MaxErrors exceeded, window stopped) or `Cancel`.
//!    A command's end becomes the invocation's outcome with
//!    [`targets::InvocationOutcome::from_command`]; its own `Status`/`StatusDetails`:
//!    [`targets::InvocationOutcome::status`].
//! 4. Statuses: [`rollup::TargetTally::of_invocations`] then [`rollup::task_status`] for a task,
//!    [`rollup::window_status`] over [`rollup::TaskSummary`]s for the window; both bounded to
//!    AWS's 250 characters of `StatusDetails`, naming counts per reason and node ids.
//!
//! # The rule that must hold (issue 15, seed 002)
//! `SUCCESS` only when every resolved target ran the task and succeeded. A task whose targets
//! resolve to no node is `FAILED` ([`rollup::NO_TARGET_RESOLVED`]); a node that is offline
//! (`ConnectionLost`), deregistered (`Inactive`), unknown, undelivered or never started makes
//! its task and the window `FAILED`, or `TIMED_OUT` when the window's time ran out, whether
//! it was targeted by id, by tag or through a resource group, and whatever `MaxErrors` says.
//!
//! # Where AWS's behaviour is unknown or differs (Bosun's choices)
//! - No target resolved: AWS reportedly ends such a task `SUCCESS` with "No invocations to
//!   execute" (the seed's silent success; not verified against an account); Bosun says `FAILED`.
//!   A targetless task (Automation, Lambda, Step Functions) is one invocation with an empty node
//!   id, so it is not "no target".
//! - Offline nodes: AWS sends the command and the invocation ends undelivered (or, through a
//!   resource group, the node is silently left out). Bosun decides when a node's turn comes:
//!   not `Online` → not run at once, without taking a concurrency slot.
//! - Not-run targets do not count against `MaxErrors` (as Run Command does not count
//!   undelivered invocations) but always fail the task; `MaxErrors` decides only when new
//!   invocations stop. Whether AWS reports a task with tolerated errors as `SUCCESS` is not
//!   documented; Bosun reports any failed invocation as `FAILED`.
//! - One Run Command command per node (one invocation each, `ExecutionId` the command id); AWS
//!   documents invocations as "one per target" but not how commands are grouped. Window targets
//!   of one task run one after the other (documented); nodes of one window target run up to
//!   `MaxConcurrency` at once.
//! - A command's own `ExecutionTimedOut` is an invocation `TIMED_OUT`, counted as an error.
//! - A task not started before the cutoff: recorded `TIMED_OUT` "Not started: …" (AWS does not
//!   say whether it lists such tasks). `CONTINUE_TASK` tasks run on past the cutoff and the end,
//!   starting new invocations (console guide); only `CANCEL_TASK` or a cancel stops one.
//! - Window status precedence: `TIMED_OUT` over `CANCELLED` over `FAILED`. A window with no task
//!   is `SUCCESS`. `SKIPPED_OVERLAPPING` executions are recorded (the status is in the model
//!   for window executions and in the window-execution EventBridge event); its text is Bosun's.
//! - `StatusDetails` wording is Bosun's except "One or more tasks in the orchestration failed.".
//! - `{{TARGET_ID}}`/`{{RESOURCE_ID}}` in a `RUN_COMMAND` task are refused ([`pseudo::check`]);
//!   AWS documents them as unusable there but not what it does with them.
//!   `{{WINDOW_TARGET_ID}}` of a task that names its nodes itself becomes empty.

pub mod ids;
pub mod input;
pub mod kinds;
pub mod plan;
pub mod pseudo;
pub mod rollup;
pub mod status;
pub mod targets;
pub mod upcoming;

pub use kinds::{ResourceType, TaskType};
pub use plan::{
    next_actions, next_invocation_actions, next_wake, slot_start, Action, CutoffBehavior,
    InvocationAction, InvocationPhase, InvocationRun, SlotStart, TaskLimits, TaskPhase, TaskRun,
    WindowRun, WindowTimes,
};
pub use rollup::{task_not_started, task_status, window_status, Rolled, TargetTally, TaskSummary};
pub use status::{bounded_details, ExecutionStatus, STATUS_DETAILS_MAX_CHARS};
pub use targets::{
    dispatch_check, InvocationOutcome, NodeState, NotRunReason, StopCause, TargetNode, TargetVia,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{InvocationState, MaxConcurrency, MaxErrors};

    /// Seed 002 end to end through the public API: a window with one `RUN_COMMAND` task on a
    /// resource group of two nodes, one of them stopped; concurrency 100%, error threshold 1.
    #[test]
    fn seed_002_a_stopped_group_member_is_reported_not_silently_skipped() {
        let times = WindowTimes {
            start_ms: 0,
            duration_hours: 2,
            cutoff_hours: 1,
        };
        let targets = [
            TargetNode {
                node_id: "mi-0aaaaaaaaaaaaaaaa".into(),
                state: NodeState::Online,
                via: TargetVia::ResourceGroup,
                window_target_id: Some("e7265f13-3cc5-4f2f-97a9-7d3ca86c32a6".into()),
            },
            TargetNode {
                node_id: "mi-0bbbbbbbbbbbbbbbb".into(),
                state: NodeState::ConnectionLost,
                via: TargetVia::ResourceGroup,
                window_target_id: Some("e7265f13-3cc5-4f2f-97a9-7d3ca86c32a6".into()),
            },
        ];
        let mut tasks = [TaskRun {
            window_task_id: "11111111-1111-4111-8111-111111111111".into(),
            priority: 1,
            cutoff_behavior: CutoffBehavior::ContinueTask,
            phase: TaskPhase::NotStarted,
        }];
        let window = WindowRun {
            times,
            cancel_requested: false,
            tasks: &tasks,
        };
        assert_eq!(
            next_actions(&window, 1_000),
            [Action::StartTask {
                window_task_id: tasks[0].window_task_id.clone()
            }]
        );
        tasks[0].phase = TaskPhase::Running { stopping: None };
        let limits = TaskLimits::resolve(
            MaxConcurrency::parse("100%").unwrap(),
            MaxErrors::parse("1").unwrap(),
            targets.len(),
        );
        let mut invs: Vec<InvocationRun> = targets
            .iter()
            .map(|t| InvocationRun {
                node_state: t.state,
                target_order: 0,
                phase: InvocationPhase::Waiting,
            })
            .collect();
        for a in next_invocation_actions(&invs, limits, None) {
            match a {
                InvocationAction::Send(i) => {
                    invs[i].phase = InvocationPhase::Running { cancel_sent: false }
                }
                InvocationAction::NotRun(i, r) => {
                    invs[i].phase = InvocationPhase::Ended(InvocationOutcome::NotRun(r))
                }
                InvocationAction::Cancel(_) => unreachable!(),
            }
        }
        // The online node's command succeeds.
        let ok = InvocationOutcome::from_command(InvocationState::Success, StopCause::Cancelled);
        invs[0].phase = InvocationPhase::Ended(ok.unwrap());
        let outcomes = invs.iter().map(|i| match i.phase {
            InvocationPhase::Ended(o) => Some(o),
            _ => None,
        });
        let tally =
            TargetTally::of_invocations(targets.iter().map(|t| t.node_id.as_str()).zip(outcomes));
        let task = task_status(&tally, None);
        assert_eq!(task.status, ExecutionStatus::Failed);
        let window = window_status(&[TaskSummary::started(tally, None)], false);
        assert_eq!(window.status, ExecutionStatus::Failed);
        assert_eq!(
            window.details,
            "One or more tasks in the orchestration failed. 1 of 2 targets did not run: \
             1 connection lost (mi-0bbbbbbbbbbbbbbbb)."
        );
        assert_eq!(
            InvocationOutcome::NotRun(NotRunReason::ConnectionLost).status(),
            (
                ExecutionStatus::Failed,
                "The task did not run: connection lost".to_string()
            )
        );
    }
}
