//! Tests of the task and window roll-up: seed 002's scenarios and never-silent-success
//! properties.

use super::*;
use proptest::prelude::*;

use InvocationOutcome as O;

fn tally(pairs: &[(&str, Option<InvocationOutcome>)]) -> TargetTally {
    TargetTally::of_invocations(pairs.iter().copied())
}

/// Seed 002: a resource group of two nodes, one stopped. The stopped node is reported by id,
/// the task and the window fail, although MaxErrors would tolerate one error.
#[test]
fn a_stopped_group_member_fails_the_task_and_the_window() {
    let t = tally(&[
        ("mi-00000000000000001", Some(O::Succeeded)),
        (
            "mi-00000000000000002",
            Some(O::NotRun(NotRunReason::ConnectionLost)),
        ),
    ]);
    let task = task_status(&t, None);
    assert_eq!(task.status, ExecutionStatus::Failed);
    assert_eq!(
        task.details,
        "1 of 2 targets did not run: 1 connection lost (mi-00000000000000002)."
    );
    let window = window_status(&[TaskSummary::started(t, None)], false);
    assert_eq!(window.status, ExecutionStatus::Failed);
    assert_eq!(
        window.details,
        "One or more tasks in the orchestration failed. 1 of 2 targets did not run: \
         1 connection lost (mi-00000000000000002)."
    );
}

#[test]
fn both_nodes_online_and_succeeding_is_success() {
    let t = tally(&[("mi-1", Some(O::Succeeded)), ("mi-2", Some(O::Succeeded))]);
    assert_eq!(task_status(&t, None).status, ExecutionStatus::Success);
    let w = window_status(&[TaskSummary::started(t, None)], false);
    assert_eq!(
        (w.status, w.details.as_str()),
        (ExecutionStatus::Success, "")
    );
}

#[test]
fn a_task_whose_targets_match_nothing_fails_with_a_reason() {
    let t = tally(&[]);
    let task = task_status(&t, None);
    assert_eq!(task.status, ExecutionStatus::Failed);
    assert_eq!(task.details, NO_TARGET_RESOLVED);
    let w = window_status(&[TaskSummary::started(t, None)], false);
    assert_eq!(w.status, ExecutionStatus::Failed);
    assert!(
        w.details.contains("1 task(s) resolved no target"),
        "{}",
        w.details
    );
}

#[test]
fn live_invocations_keep_the_task_in_progress() {
    let t = tally(&[("mi-1", Some(O::Succeeded)), ("mi-2", None)]);
    assert_eq!(task_status(&t, None).status, ExecutionStatus::InProgress);
    assert_eq!(
        task_status(&t, Some(StopCause::Cancelled)).status,
        ExecutionStatus::Cancelling
    );
    let w = window_status(&[TaskSummary::started(t, None)], true);
    assert_eq!(w.status, ExecutionStatus::Cancelling);
}

#[test]
fn the_window_time_running_out_wins_over_failures() {
    let failed = tally(&[("mi-1", Some(O::Failed))]);
    let cut = tally(&[
        ("mi-2", Some(O::Stopped(StopCause::Cutoff))),
        ("mi-3", Some(O::NotRun(NotRunReason::WindowTimeRanOut))),
    ]);
    assert_eq!(
        task_status(&cut, Some(StopCause::Cutoff)).status,
        ExecutionStatus::TimedOut
    );
    let w = window_status(
        &[
            TaskSummary::started(failed, None),
            TaskSummary::started(cut, Some(StopCause::Cutoff)),
            TaskSummary::not_started(StopCause::Cutoff),
        ],
        false,
    );
    assert_eq!(w.status, ExecutionStatus::TimedOut);
    assert!(w.details.starts_with(TIME_RAN_OUT), "{}", w.details);
    assert!(
        w.details.contains("1 task(s) never started."),
        "{}",
        w.details
    );
    assert!(w.details.contains("1 failed (mi-1)"), "{}", w.details);
}

#[test]
fn a_cancelled_window_is_cancelled() {
    let t = tally(&[
        ("mi-1", Some(O::Succeeded)),
        ("mi-2", Some(O::Stopped(StopCause::Cancelled))),
    ]);
    assert_eq!(
        task_status(&t, Some(StopCause::Cancelled)).status,
        ExecutionStatus::Cancelled
    );
    let w = window_status(
        &[
            TaskSummary::started(t, Some(StopCause::Cancelled)),
            TaskSummary::not_started(StopCause::Cancelled),
        ],
        true,
    );
    assert_eq!(w.status, ExecutionStatus::Cancelled);
}

#[test]
fn many_unrun_nodes_keep_details_within_bounds_and_counts_exact() {
    let ids: Vec<String> = (0..500).map(|i| format!("mi-{i:017}")).collect();
    let pairs: Vec<(&str, Option<InvocationOutcome>)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let o = match i % 3 {
                0 => O::NotRun(NotRunReason::ConnectionLost),
                1 => O::NotRun(NotRunReason::Deregistered),
                _ => O::Failed,
            };
            (id.as_str(), Some(o))
        })
        .collect();
    let t = tally(&pairs);
    let d = task_status(&t, None).details;
    assert!(d.chars().count() <= STATUS_DETAILS_MAX_CHARS, "{d}");
    assert!(
        d.starts_with("334 of 500 targets did not run: 167 connection lost"),
        "{d}"
    );
    assert!(d.contains("167 deregistered"), "{d}");
    assert!(d.contains("more)"), "{d}");
}

fn outcome() -> impl Strategy<Value = Option<InvocationOutcome>> {
    let reason = prop_oneof![
        Just(NotRunReason::ConnectionLost),
        Just(NotRunReason::Deregistered),
        Just(NotRunReason::NotRegistered),
        Just(NotRunReason::NotDelivered),
        Just(NotRunReason::MaxErrorsExceeded),
        Just(NotRunReason::WindowTimeRanOut),
        Just(NotRunReason::WindowCancelled),
    ];
    let cause = prop_oneof![
        Just(StopCause::Cutoff),
        Just(StopCause::WindowEnded),
        Just(StopCause::Cancelled)
    ];
    prop_oneof![
        3 => Just(Some(O::Succeeded)),
        1 => Just(None),
        1 => Just(Some(O::Failed)),
        1 => Just(Some(O::ExecutionTimedOut)),
        1 => cause.prop_map(|c| Some(O::Stopped(c))),
        1 => reason.prop_map(|r| Some(O::NotRun(r))),
    ]
}

fn task() -> impl Strategy<Value = Vec<Option<InvocationOutcome>>> {
    proptest::collection::vec(outcome(), 0..12)
}

proptest! {
    /// A task succeeds exactly when it had a target and every target ran and succeeded.
    #[test]
    fn task_success_means_every_target_succeeded(outcomes in task(), stop in proptest::option::of(Just(StopCause::Cancelled))) {
        let ids: Vec<String> = (0..outcomes.len()).map(|i| format!("mi-{i}")).collect();
        let t = TargetTally::of_invocations(ids.iter().map(String::as_str).zip(outcomes.iter().copied()));
        let rolled = task_status(&t, stop);
        let all_ok = !outcomes.is_empty() && outcomes.iter().all(|o| *o == Some(O::Succeeded));
        prop_assert_eq!(rolled.status == ExecutionStatus::Success, all_ok);
        prop_assert_eq!(rolled.status.is_terminal(), outcomes.is_empty() || outcomes.iter().all(Option::is_some));
        prop_assert!(rolled.details.chars().count() <= STATUS_DETAILS_MAX_CHARS);
        if rolled.status.is_terminal() && !all_ok {
            prop_assert!(!rolled.details.is_empty());
        }
    }

    /// A window succeeds exactly when every task succeeded; its details stay within bounds and
    /// name every not-run count.
    #[test]
    fn window_success_means_every_task_succeeded(tasks in proptest::collection::vec(task(), 0..5), cancel in any::<bool>()) {
        let summaries: Vec<TaskSummary> = tasks
            .iter()
            .map(|outcomes| {
                let ids: Vec<String> = (0..outcomes.len()).map(|i| format!("mi-{i:017}")).collect();
                let t = TargetTally::of_invocations(ids.iter().map(String::as_str).zip(outcomes.iter().copied()));
                TaskSummary::started(t, cancel.then_some(StopCause::Cancelled))
            })
            .collect();
        let w = window_status(&summaries, cancel);
        let all_ok = summaries.iter().all(|s| s.status == ExecutionStatus::Success);
        prop_assert_eq!(w.status == ExecutionStatus::Success, all_ok);
        prop_assert!(w.details.chars().count() <= STATUS_DETAILS_MAX_CHARS);
    }
}

#[test]
fn a_node_targeted_twice_is_counted_per_invocation_and_named_once() {
    let t = tally(&[
        ("mi-1", Some(O::NotRun(NotRunReason::Deregistered))),
        ("mi-1", Some(O::NotRun(NotRunReason::Deregistered))),
        ("", Some(O::Failed)),
    ]);
    assert_eq!(
        task_status(&t, None).details,
        "2 of 3 targets did not run: 2 deregistered (mi-1). Ran: 1 failed."
    );
}

#[test]
fn a_large_fleet_renders_quickly_and_within_bounds() {
    let ids: Vec<String> = (0..20_000).map(|i| format!("mi-{i:017}")).collect();
    let pairs = ids
        .iter()
        .map(|id| (id.as_str(), Some(O::NotRun(NotRunReason::ConnectionLost))));
    let t = TargetTally::of_invocations(pairs);
    let d = task_status(&t, None).details;
    assert!(d.starts_with("20000 of 20000 targets did not run: 20000 connection lost (mi-"));
    assert!(d.chars().count() <= STATUS_DETAILS_MAX_CHARS, "{d}");
}
