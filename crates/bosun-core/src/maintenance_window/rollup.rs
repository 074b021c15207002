//! Roll-up: a task execution's status from its invocations, a window execution's from its task
//! executions, and the `StatusDetails` that say which targets did not run and why.
//!
//! The rule Bosun keeps (issue 15, seed 002): `SUCCESS` only when every resolved target ran the
//! task and succeeded. A task whose targets resolved to no node is `FAILED`; a target that did
//! not run (offline, deregistered, unknown, undelivered, never started) makes its task and the
//! window `FAILED`, or `TIMED_OUT` when the window's time ran out, whatever `MaxErrors` says
//! (MaxErrors only decides when the executor stops starting invocations: `plan`).

use std::collections::BTreeMap;

use super::status::{bounded_details, ExecutionStatus, STATUS_DETAILS_MAX_CHARS};
use super::targets::{InvocationOutcome, NotRunReason, StopCause};

/// `StatusDetails` of a task whose targets resolved to no node.
pub const NO_TARGET_RESOLVED: &str =
    "No target was resolved: the task's targets match no managed node, so it ran nowhere.";
/// The opening of a failed window's `StatusDetails` (AWS's wording for a failed task).
pub const TASKS_FAILED: &str = "One or more tasks in the orchestration failed.";
/// The opening of a timed-out window's `StatusDetails`.
pub const TIME_RAN_OUT: &str = "The window's time ran out before all its tasks ended.";
/// The opening of a cancelled window's `StatusDetails`.
pub const CANCELLED: &str = "The window execution was cancelled.";

/// What went wrong for one target, the key under which targets are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Problem {
    NotRun(NotRunReason),
    Failed,
    ExecutionTimedOut,
    Stopped(StopCause),
}

impl Problem {
    fn of(outcome: InvocationOutcome) -> Option<Problem> {
        Some(match outcome {
            InvocationOutcome::Succeeded => return None,
            InvocationOutcome::Failed => Problem::Failed,
            InvocationOutcome::ExecutionTimedOut => Problem::ExecutionTimedOut,
            InvocationOutcome::Stopped(c) => Problem::Stopped(c),
            InvocationOutcome::NotRun(r) => Problem::NotRun(r),
        })
    }

    fn describe(self) -> &'static str {
        match self {
            Problem::NotRun(r) => r.describe(),
            Problem::Failed => "failed",
            Problem::ExecutionTimedOut => "execution timed out",
            Problem::Stopped(StopCause::Cutoff) => "cancelled at the cutoff",
            Problem::Stopped(StopCause::WindowEnded) => "cancelled at the window's end",
            Problem::Stopped(StopCause::Cancelled) => "cancelled",
        }
    }

    fn time_ran_out(self) -> bool {
        matches!(
            self,
            Problem::NotRun(NotRunReason::WindowTimeRanOut)
                | Problem::Stopped(StopCause::Cutoff | StopCause::WindowEnded)
        )
    }

    fn cancelled(self) -> bool {
        matches!(
            self,
            Problem::NotRun(NotRunReason::WindowCancelled) | Problem::Stopped(StopCause::Cancelled)
        )
    }
}

/// Counts of a task's (or, merged, a window's) targets by how they ended, with node ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetTally {
    /// Invocations counted (a node targeted by two tasks counts twice in a window's tally).
    pub targets: usize,
    pub live: usize,
    pub succeeded: usize,
    /// Under each problem, the node id of each invocation that had it (in the order given; a
    /// node that two invocations target appears twice, and is named once in the text).
    pub problems: BTreeMap<Problem, Vec<String>>,
    /// Tasks whose targets resolved to no node.
    pub tasks_without_targets: usize,
    /// Tasks never started (window time ran out or cancelled before their turn).
    pub tasks_not_started: usize,
}

impl TargetTally {
    /// Tally a task's invocations: `(node id, outcome)`, `None` while live. A targetless task
    /// (Automation, Lambda, Step Functions) has one invocation with an empty node id.
    pub fn of_invocations<'a>(
        invocations: impl IntoIterator<Item = (&'a str, Option<InvocationOutcome>)>,
    ) -> Self {
        let mut t = TargetTally::default();
        for (node, outcome) in invocations {
            t.targets += 1;
            match outcome.map(Problem::of) {
                None => t.live += 1,
                Some(None) => t.succeeded += 1,
                Some(Some(p)) => t.problems.entry(p).or_default().push(node.to_string()),
            }
        }
        if t.targets == 0 {
            t.tasks_without_targets = 1;
        }
        t
    }

    /// Add another task's tally (a window's tally is the merge of its tasks').
    pub fn merge(&mut self, other: &TargetTally) {
        self.targets += other.targets;
        self.live += other.live;
        self.succeeded += other.succeeded;
        self.tasks_without_targets += other.tasks_without_targets;
        self.tasks_not_started += other.tasks_not_started;
        for (p, ids) in &other.problems {
            self.problems
                .entry(*p)
                .or_default()
                .extend(ids.iter().cloned());
        }
    }

    /// Targets that did not run at all.
    pub fn not_run(&self) -> usize {
        self.count(|p| matches!(p, Problem::NotRun(_)))
    }

    fn count(&self, f: impl Fn(Problem) -> bool) -> usize {
        self.problems
            .iter()
            .filter(|(p, _)| f(**p))
            .map(|(_, ids)| ids.len())
            .sum()
    }

    fn any(&self, f: impl Fn(Problem) -> bool) -> bool {
        self.problems.keys().any(|p| f(*p))
    }

    /// Each problem's invocation count and distinct non-empty node ids, in order.
    fn named(&self) -> Vec<(Problem, usize, Vec<&str>)> {
        self.problems
            .iter()
            .map(|(p, ids)| {
                let mut seen = std::collections::HashSet::new();
                let unique = ids
                    .iter()
                    .map(String::as_str)
                    .filter(|i| !i.is_empty() && seen.insert(*i))
                    .collect();
                (*p, ids.len(), unique)
            })
            .collect()
    }

    /// The sentence(s) naming what did not go well, listing at most `ids_per_kind` node ids
    /// per kind. Empty when all went well.
    fn render(&self, named: &[(Problem, usize, Vec<&str>)], ids_per_kind: usize) -> String {
        let part = |(p, count, unique): &(Problem, usize, Vec<&str>)| {
            let shown = &unique[..unique.len().min(ids_per_kind)];
            let more = unique.len() - shown.len();
            let list = match (shown.is_empty(), more) {
                (true, _) => String::new(),
                (false, 0) => format!(" ({})", shown.join(", ")),
                (false, n) => format!(" ({}, +{n} more)", shown.join(", ")),
            };
            format!("{count} {}{list}", p.describe())
        };
        let mut sentences = Vec::new();
        if self.tasks_without_targets > 0 {
            sentences.push(format!(
                "{} task(s) resolved no target.",
                self.tasks_without_targets
            ));
        }
        if self.tasks_not_started > 0 {
            sentences.push(format!("{} task(s) never started.", self.tasks_not_started));
        }
        let (not_run, ran_badly): (Vec<_>, Vec<_>) = named
            .iter()
            .partition(|(p, _, _)| matches!(p, Problem::NotRun(_)));
        if !not_run.is_empty() {
            let parts: Vec<String> = not_run.into_iter().map(part).collect();
            sentences.push(format!(
                "{} of {} targets did not run: {}.",
                self.not_run(),
                self.targets,
                parts.join(", ")
            ));
        }
        if !ran_badly.is_empty() {
            let parts: Vec<String> = ran_badly.into_iter().map(part).collect();
            sentences.push(format!("Ran: {}.", parts.join(", ")));
        }
        sentences.join(" ")
    }

    /// `prefix` followed by the tally, as many node ids as fit in AWS's 250 characters.
    pub fn details(&self, prefix: &str) -> String {
        let named = self.named();
        // No more ids than could fit (each takes at least three characters with its ", ").
        let most = named
            .iter()
            .map(|(_, _, u)| u.len())
            .max()
            .unwrap_or(0)
            .min(STATUS_DETAILS_MAX_CHARS / 3);
        for k in (0..=most).rev() {
            let text = [prefix, &self.render(&named, k)]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            if text.chars().count() <= STATUS_DETAILS_MAX_CHARS || k == 0 {
                return bounded_details(&text);
            }
        }
        unreachable!("the loop returns at k = 0")
    }
}

/// A task execution's `Status` and `StatusDetails`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rolled {
    pub status: ExecutionStatus,
    pub details: String,
}

/// Roll a started task execution up from its invocations' tally. `stopping` is set once the
/// window stopped the task (cutoff with `CANCEL_TASK`, window end, cancel).
pub fn task_status(tally: &TargetTally, stopping: Option<StopCause>) -> Rolled {
    let rolled = |status, details| Rolled { status, details };
    if tally.targets == 0 {
        return rolled(ExecutionStatus::Failed, NO_TARGET_RESOLVED.to_string());
    }
    if tally.live > 0 {
        let status = match stopping {
            Some(StopCause::Cancelled) => ExecutionStatus::Cancelling,
            _ => ExecutionStatus::InProgress,
        };
        return rolled(status, String::new());
    }
    if tally.problems.is_empty() {
        return rolled(ExecutionStatus::Success, String::new());
    }
    let status = if tally.any(Problem::time_ran_out) {
        ExecutionStatus::TimedOut
    } else if stopping == Some(StopCause::Cancelled) && tally.any(Problem::cancelled) {
        ExecutionStatus::Cancelled
    } else {
        ExecutionStatus::Failed
    };
    rolled(status, tally.details(""))
}

/// The status of a task execution that was never started: the window's time ran out before
/// its turn, or the window was cancelled.
pub fn task_not_started(cause: StopCause) -> Rolled {
    Rolled {
        status: cause.status(),
        details: match cause {
            StopCause::Cutoff => "Not started: the window's cutoff was reached.",
            StopCause::WindowEnded => "Not started: the window ended.",
            StopCause::Cancelled => "Not started: the window execution was cancelled.",
        }
        .to_string(),
    }
}

/// One task execution as the window roll-up sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSummary {
    /// `PENDING` for a task not started yet.
    pub status: ExecutionStatus,
    /// The task's tally; for a task never started, the default with `tasks_not_started = 1`.
    pub tally: TargetTally,
}

impl TaskSummary {
    /// A task execution that was never started, and why.
    pub fn not_started(cause: StopCause) -> Self {
        TaskSummary {
            status: task_not_started(cause).status,
            tally: TargetTally {
                tasks_not_started: 1,
                ..TargetTally::default()
            },
        }
    }

    /// A started task execution, from its tally.
    pub fn started(tally: TargetTally, stopping: Option<StopCause>) -> Self {
        TaskSummary {
            status: task_status(&tally, stopping).status,
            tally,
        }
    }
}

/// Roll a window execution up from its task executions. A window with no task succeeds with
/// nothing to say.
pub fn window_status(tasks: &[TaskSummary], cancel_requested: bool) -> Rolled {
    let rolled = |status, details| Rolled { status, details };
    if tasks.iter().any(|t| !t.status.is_terminal()) {
        let status = if cancel_requested {
            ExecutionStatus::Cancelling
        } else {
            ExecutionStatus::InProgress
        };
        return rolled(status, String::new());
    }
    let mut tally = TargetTally::default();
    for t in tasks {
        tally.merge(&t.tally);
    }
    let has = |s| tasks.iter().any(|t| t.status == s);
    let (status, prefix) = if has(ExecutionStatus::TimedOut) {
        (ExecutionStatus::TimedOut, TIME_RAN_OUT)
    } else if cancel_requested && has(ExecutionStatus::Cancelled) {
        (ExecutionStatus::Cancelled, CANCELLED)
    } else if tasks.iter().any(|t| t.status != ExecutionStatus::Success) {
        (ExecutionStatus::Failed, TASKS_FAILED)
    } else {
        return rolled(ExecutionStatus::Success, String::new());
    };
    rolled(status, tally.details(prefix))
}

#[cfg(test)]
#[path = "rollup_tests.rs"]
mod tests;
