//! Tests of window planning: priorities, cutoff, window end, cancel, rate limits, sequential
//! window targets, offline nodes, overlap; and a simulated executor driven by proptest.

use super::*;
use crate::maintenance_window::rollup::{task_status, window_status, TargetTally, TaskSummary};
use crate::maintenance_window::status::ExecutionStatus;
use proptest::prelude::*;

const START: i64 = 1_000 * HOUR_MS;

fn times() -> WindowTimes {
    WindowTimes {
        start_ms: START,
        duration_hours: 4,
        cutoff_hours: 1,
    }
}

fn task(id: &str, priority: u32, behavior: CutoffBehavior, phase: TaskPhase) -> TaskRun {
    TaskRun {
        window_task_id: id.into(),
        priority,
        cutoff_behavior: behavior,
        phase,
    }
}

fn ids(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a {
            Action::StartTask { window_task_id } => format!("start {window_task_id}"),
            Action::SkipTask {
                window_task_id,
                cause,
            } => format!("skip {window_task_id} {cause:?}"),
            Action::StopTask {
                window_task_id,
                cause,
            } => format!("stop {window_task_id} {cause:?}"),
        })
        .collect()
}

const RUNNING: TaskPhase = TaskPhase::Running { stopping: None };
const C: CutoffBehavior = CutoffBehavior::ContinueTask;
const K: CutoffBehavior = CutoffBehavior::CancelTask;

#[test]
fn window_times_follow_duration_and_cutoff() {
    let t = times();
    assert_eq!(t.end_ms(), START + 4 * HOUR_MS);
    assert_eq!(t.cutoff_ms(), START + 3 * HOUR_MS);
    assert_eq!(t.stop_at(START + 3 * HOUR_MS - 1), None);
    assert_eq!(t.stop_at(START + 3 * HOUR_MS), Some(StopCause::Cutoff));
    assert_eq!(t.stop_at(START + 4 * HOUR_MS), Some(StopCause::WindowEnded));
    let no_cutoff = WindowTimes {
        cutoff_hours: 0,
        ..t
    };
    assert_eq!(
        no_cutoff.stop_at(no_cutoff.end_ms()),
        Some(StopCause::WindowEnded)
    );
}

#[test]
fn lower_priority_first_equal_priorities_together() {
    let tasks = [
        task("b", 2, C, TaskPhase::NotStarted),
        task("a1", 1, C, TaskPhase::NotStarted),
        task("a2", 1, C, TaskPhase::NotStarted),
    ];
    let w = WindowRun {
        times: times(),
        cancel_requested: false,
        tasks: &tasks,
    };
    assert_eq!(ids(&next_actions(&w, START)), ["start a1", "start a2"]);
    let tasks = [
        task("b", 2, C, TaskPhase::NotStarted),
        task("a1", 1, C, TaskPhase::Ended),
        task("a2", 1, C, RUNNING),
    ];
    let w = WindowRun { tasks: &tasks, ..w };
    assert!(next_actions(&w, START).is_empty(), "b waits for a2");
    let tasks = [
        task("b", 2, C, TaskPhase::NotStarted),
        task("a1", 1, C, TaskPhase::Ended),
        task("a2", 1, C, TaskPhase::Ended),
    ];
    let w = WindowRun { tasks: &tasks, ..w };
    assert_eq!(ids(&next_actions(&w, START)), ["start b"]);
}

#[test]
fn cutoff_skips_late_tasks_and_cancels_only_cancel_task_ones() {
    let tasks = [
        task("late", 9, C, TaskPhase::NotStarted),
        task("goes-on", 1, C, RUNNING),
        task("cancelled", 1, K, RUNNING),
    ];
    let w = WindowRun {
        times: times(),
        cancel_requested: false,
        tasks: &tasks,
    };
    assert_eq!(
        ids(&next_actions(&w, times().cutoff_ms())),
        ["skip late Cutoff", "stop cancelled Cutoff"]
    );
    // Seen only after the end: the same, named after the end. CONTINUE_TASK runs on.
    assert_eq!(
        ids(&next_actions(&w, times().end_ms())),
        ["skip late WindowEnded", "stop cancelled WindowEnded"]
    );
    // A task already stopping is not stopped twice.
    let tasks = [task(
        "cancelled",
        1,
        K,
        TaskPhase::Running {
            stopping: Some(StopCause::Cutoff),
        },
    )];
    let w = WindowRun { tasks: &tasks, ..w };
    assert!(next_actions(&w, times().end_ms()).is_empty());
}

#[test]
fn cancel_skips_waiting_tasks_and_stops_running_ones() {
    let tasks = [
        task("waits", 5, C, TaskPhase::NotStarted),
        task("runs", 1, C, RUNNING),
        task("done", 1, C, TaskPhase::Ended),
    ];
    let w = WindowRun {
        times: times(),
        cancel_requested: true,
        tasks: &tasks,
    };
    assert_eq!(
        ids(&next_actions(&w, START)),
        ["skip waits Cancelled", "stop runs Cancelled"]
    );
}

#[test]
fn next_wake_is_the_cutoff() {
    let tasks = [task("a", 1, C, RUNNING)];
    let w = WindowRun {
        times: times(),
        cancel_requested: false,
        tasks: &tasks,
    };
    assert_eq!(next_wake(&w, START), Some(times().cutoff_ms()));
    assert_eq!(next_wake(&w, times().cutoff_ms()), None);
    let done = [task("a", 1, C, TaskPhase::Ended)];
    assert_eq!(next_wake(&WindowRun { tasks: &done, ..w }, START), None);
}

fn inv(state: NodeState, order: usize, phase: InvocationPhase) -> InvocationRun {
    InvocationRun {
        node_state: state,
        target_order: order,
        phase,
    }
}

const WAIT: InvocationPhase = InvocationPhase::Waiting;
const ON: NodeState = NodeState::Online;
const LIMITS: TaskLimits = TaskLimits {
    max_concurrency: 2,
    max_errors: 0,
};

#[test]
fn concurrency_fills_free_slots_and_offline_nodes_do_not_take_one() {
    let invs = [
        inv(NodeState::ConnectionLost, 0, WAIT),
        inv(ON, 0, WAIT),
        inv(NodeState::Inactive, 0, WAIT),
        inv(ON, 0, WAIT),
        inv(ON, 0, WAIT),
    ];
    use InvocationAction as A;
    assert_eq!(
        next_invocation_actions(&invs, LIMITS, None),
        [
            A::NotRun(0, NotRunReason::ConnectionLost),
            A::Send(1),
            A::NotRun(2, NotRunReason::Deregistered),
            A::Send(3),
        ]
    );
}

#[test]
fn window_targets_run_one_after_the_other() {
    use InvocationAction as A;
    let running = InvocationPhase::Running { cancel_sent: false };
    let invs = [
        inv(ON, 0, running),
        inv(ON, 1, WAIT),
        inv(NodeState::Unknown, 0, WAIT),
    ];
    assert_eq!(
        next_invocation_actions(&invs, LIMITS, None),
        [A::NotRun(2, NotRunReason::NotRegistered)]
    );
    // When the first target's nodes are all decided, the second target's start in the same call.
    let invs = [
        inv(ON, 0, InvocationPhase::Ended(InvocationOutcome::Succeeded)),
        inv(NodeState::Unknown, 0, WAIT),
        inv(ON, 1, WAIT),
    ];
    assert_eq!(
        next_invocation_actions(&invs, LIMITS, None),
        [A::NotRun(1, NotRunReason::NotRegistered), A::Send(2)]
    );
}

#[test]
fn errors_past_max_errors_stop_new_sends() {
    use InvocationAction as A;
    let invs = [
        inv(ON, 0, InvocationPhase::Ended(InvocationOutcome::Failed)),
        inv(ON, 0, InvocationPhase::Running { cancel_sent: false }),
        inv(ON, 0, WAIT),
    ];
    assert_eq!(
        next_invocation_actions(&invs, LIMITS, None),
        [A::NotRun(2, NotRunReason::MaxErrorsExceeded)]
    );
    let tolerant = TaskLimits {
        max_errors: 1,
        ..LIMITS
    };
    assert_eq!(next_invocation_actions(&invs, tolerant, None), [A::Send(2)]);
    // Not-run targets do not count against MaxErrors.
    let invs = [
        inv(
            ON,
            0,
            InvocationPhase::Ended(InvocationOutcome::NotRun(NotRunReason::ConnectionLost)),
        ),
        inv(ON, 0, WAIT),
    ];
    assert_eq!(next_invocation_actions(&invs, LIMITS, None), [A::Send(1)]);
}

#[test]
fn stopping_cancels_running_and_reports_waiting() {
    use InvocationAction as A;
    let invs = [
        inv(ON, 0, InvocationPhase::Running { cancel_sent: false }),
        inv(ON, 0, InvocationPhase::Running { cancel_sent: true }),
        inv(ON, 0, WAIT),
    ];
    assert_eq!(
        next_invocation_actions(&invs, LIMITS, Some(StopCause::Cutoff)),
        [A::Cancel(0), A::NotRun(2, NotRunReason::WindowTimeRanOut)]
    );
    assert_eq!(
        next_invocation_actions(&invs, LIMITS, Some(StopCause::Cancelled)),
        [A::Cancel(0), A::NotRun(2, NotRunReason::WindowCancelled)]
    );
}

#[test]
fn a_slot_overlapping_a_live_execution_is_skipped() {
    assert_eq!(slot_start(true), SlotStart::SkippedOverlapping);
    assert_eq!(slot_start(false), SlotStart::Run);
    assert!(SKIPPED_OVERLAPPING_DETAILS.len() <= 250);
}

#[test]
fn cutoff_behavior_wire_names() {
    for b in [CutoffBehavior::ContinueTask, CutoffBehavior::CancelTask] {
        assert_eq!(CutoffBehavior::from_wire(b.as_str()), Some(b));
        assert_eq!(
            serde_json::to_value(b).unwrap(),
            serde_json::Value::String(b.as_str().into())
        );
    }
    assert_eq!(CutoffBehavior::default(), CutoffBehavior::ContinueTask);
}

/// A node of a simulated task: its standing and what it would report if it ran.
#[derive(Debug, Clone)]
struct SimNode {
    state: NodeState,
    order: usize,
    succeeds: bool,
}

#[derive(Debug, Clone)]
struct SimTask {
    priority: u32,
    behavior: CutoffBehavior,
    limits: TaskLimits,
    nodes: Vec<SimNode>,
}

fn sim_task() -> impl Strategy<Value = SimTask> {
    let node = (
        prop_oneof![
            4 => Just(NodeState::Online),
            1 => Just(NodeState::ConnectionLost),
            1 => Just(NodeState::Inactive),
            1 => Just(NodeState::Unknown),
        ],
        0..2usize,
        prop::bool::weighted(0.8),
    )
        .prop_map(|(state, order, succeeds)| SimNode {
            state,
            order,
            succeeds,
        });
    (
        0..3u32,
        any::<bool>(),
        1..4usize,
        0..3usize,
        proptest::collection::vec(node, 0..6),
    )
        .prop_map(|(priority, cancel, mc, me, nodes)| SimTask {
            priority,
            behavior: if cancel { K } else { C },
            limits: TaskLimits {
                max_concurrency: mc,
                max_errors: me,
            },
            nodes,
        })
}

struct Sim {
    tasks: Vec<TaskRun>,
    invs: Vec<Vec<InvocationRun>>,
    started_at: Vec<Option<i64>>,
    skipped: Vec<Option<StopCause>>,
    stopped: Vec<Option<StopCause>>,
}

proptest! {
    /// Drive whole windows with a simulated executor: the plan always terminates, never runs
    /// more than MaxConcurrency at once, never starts a task at or after the cutoff or before
    /// every lower priority ended, and the window succeeds exactly when every target was online
    /// and succeeded and nothing was cut short.
    #[test]
    fn simulated_windows_keep_the_rules(
        sim_tasks in proptest::collection::vec(sim_task(), 0..5),
        steps in proptest::collection::vec((0..40i64, any::<u8>()), 1..200),
        cancel_at in proptest::option::of(0..200usize),
    ) {
        let t = times();
        let mut sim = Sim {
            tasks: sim_tasks.iter().enumerate().map(|(i, s)| task(&i.to_string(), s.priority, s.behavior, TaskPhase::NotStarted)).collect(),
            invs: vec![Vec::new(); sim_tasks.len()],
            started_at: vec![None; sim_tasks.len()],
            skipped: vec![None; sim_tasks.len()],
            stopped: vec![None; sim_tasks.len()],
        };
        let mut now = t.start_ms;
        let mut cancel = false;
        let mut ended = false;
        // Steps of 0..40 × 6 minutes; after the given steps, jump to the window's end, where
        // every running invocation ends.
        for step in 0..260 {
            let (advance, dice) = steps.get(step).copied().unwrap_or((0, 0));
            if step == steps.len() { now = now.max(t.end_ms()); }
            if cancel_at == Some(step) { cancel = true; }
            let w = WindowRun { times: t, cancel_requested: cancel, tasks: &sim.tasks };
            for a in next_actions(&w, now) {
                match a {
                    Action::StartTask { window_task_id } => {
                        let i: usize = window_task_id.parse().unwrap();
                        prop_assert!(now < t.cutoff_ms() && !cancel);
                        let p = sim.tasks[i].priority;
                        prop_assert!(sim.tasks.iter().all(|o| o.priority >= p || o.phase == TaskPhase::Ended));
                        sim.started_at[i] = Some(now);
                        sim.tasks[i].phase = TaskPhase::Running { stopping: None };
                        sim.invs[i] = sim_tasks[i].nodes.iter().map(|n| inv(n.state, n.order, WAIT)).collect();
                    }
                    Action::SkipTask { window_task_id, cause } => {
                        let i: usize = window_task_id.parse().unwrap();
                        sim.skipped[i] = Some(cause);
                        prop_assert_eq!(sim.tasks[i].phase, TaskPhase::NotStarted);
                        sim.tasks[i].phase = TaskPhase::Ended;
                    }
                    Action::StopTask { window_task_id, cause } => {
                        let i: usize = window_task_id.parse().unwrap();
                        prop_assert!(cause == StopCause::Cancelled || sim_tasks[i].behavior == K);
                        prop_assert!(cause == StopCause::Cancelled || now >= t.cutoff_ms());
                        sim.tasks[i].phase = TaskPhase::Running { stopping: Some(cause) };
                        sim.stopped[i] = Some(cause);
                    }
                }
            }
            for (i, task) in sim.tasks.iter_mut().enumerate() {
                let TaskPhase::Running { stopping } = task.phase else { continue };
                for a in next_invocation_actions(&sim.invs[i], sim_tasks[i].limits, stopping) {
                    match a {
                        InvocationAction::Send(j) => {
                            prop_assert_eq!(sim.invs[i][j].node_state, NodeState::Online);
                            sim.invs[i][j].phase = InvocationPhase::Running { cancel_sent: false };
                        }
                        InvocationAction::NotRun(j, r) => {
                            sim.invs[i][j].phase = InvocationPhase::Ended(InvocationOutcome::NotRun(r));
                        }
                        InvocationAction::Cancel(j) => {
                            sim.invs[i][j].phase = InvocationPhase::Running { cancel_sent: true };
                        }
                    }
                }
                let running = sim.invs[i].iter().filter(|v| matches!(v.phase, InvocationPhase::Running { .. })).count();
                prop_assert!(running <= sim_tasks[i].limits.max_concurrency);
                // Some running invocations end now (a cancelled one ends stopped).
                for (j, v) in sim.invs[i].iter_mut().enumerate() {
                    if let InvocationPhase::Running { cancel_sent } = v.phase {
                        if (usize::from(dice) + j) % 3 == 0 || cancel_sent || step >= steps.len() {
                            v.phase = InvocationPhase::Ended(match (cancel_sent, stopping) {
                                (true, Some(c)) => InvocationOutcome::Stopped(c),
                                _ if sim_tasks[i].nodes[j].succeeds => InvocationOutcome::Succeeded,
                                _ => InvocationOutcome::Failed,
                            });
                        }
                    }
                }
                if sim.invs[i].iter().all(|v| matches!(v.phase, InvocationPhase::Ended(_))) {
                    task.phase = TaskPhase::Ended;
                }
            }
            if sim.tasks.iter().all(|t| t.phase == TaskPhase::Ended) {
                ended = true;
                break;
            }
            now += advance * HOUR_MS / 10;
        }
        prop_assert!(ended, "the window execution must end");
        let mut summaries = Vec::new();
        for i in 0..sim.tasks.len() {
            if sim.started_at[i].is_none() {
                summaries.push(TaskSummary::not_started(sim.skipped[i].unwrap()));
                continue;
            }
            let ids: Vec<String> = (0..sim.invs[i].len()).map(|j| format!("mi-{j}")).collect();
            let outcomes = sim.invs[i].iter().map(|v| match v.phase {
                InvocationPhase::Ended(o) => Some(o),
                _ => None,
            });
            let tally = TargetTally::of_invocations(ids.iter().map(String::as_str).zip(outcomes));
            let s = task_status(&tally, sim.stopped[i]);
            prop_assert!(s.status.is_terminal());
            summaries.push(TaskSummary { status: s.status, tally });
        }
        let w = window_status(&summaries, cancel);
        let every_target_succeeded = sim.tasks.iter().enumerate().all(|(i, _)| {
            !sim.invs[i].is_empty()
                && sim.invs[i].iter().all(|v| v.phase == InvocationPhase::Ended(InvocationOutcome::Succeeded))
        });
        prop_assert_eq!(w.status == ExecutionStatus::Success, every_target_succeeded, "{:?}", w);
        if every_target_succeeded {
            prop_assert!(sim_tasks.iter().all(|s| s.nodes.iter().all(|n| n.state == NodeState::Online && n.succeeds)));
        }
    }
}
