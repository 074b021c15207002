//! Automation runbooks (schema 0.3) as Bosun runs them: the step plan, the values steps see,
//! `aws:branch` choices, output selectors and what comes after each step.
//!
//! Pure: no IO, no clock (`now` comes in through [`Context`] and `started`). The server's
//! runtime drives an execution with these rules and does every call and every wait itself.
//!
//! - `status.rs`: [`ExecStatus`] and [`Action`] spellings, which statuses are final.
//! - `plan.rs`: [`plan`] — the document's steps with AWS's defaults; actions, services,
//!   selectors and runbook variables Bosun cannot run refused before the execution starts.
//! - `params.rs`: [`resolve_parameters`] — the caller's values checked and typed.
//! - `interpolate.rs`: [`interpolate`] — `{{ … }}` in step inputs.
//! - `branch.rs`: [`choose_branch`] (`aws:branch`).
//! - `select.rs`: [`select`] (the JSONPath subset runbooks use), [`check_selector`],
//!   [`property_matches`] (`DesiredValues`).
//! - `outputs.rs`: [`step_outputs`], [`execution_outputs`], [`output_strings`].
//! - `flow.rs`: [`next_after`], [`is_critical_failure`], [`inherited_end`] — `nextStep`,
//!   `isEnd`, `onFailure`, `onCancel`, `isCritical`, a loop's inherited `Abort`.
//! - `sleep.rs`: [`sleep_until`].
//! - `interactive.rs`: `Mode: Interactive` — [`pending_start`], [`stop_step_requested`].
//! - `loops.rs`: `aws:loop` — [`loop_spec`] (its inputs checked), [`next_iteration`] (the
//!   iteration rule), [`loop_condition_holds`]; the inner steps are planned by `plan.rs`.
//! - `nested.rs`: `aws:executeAutomation` — [`nested_start_request`], [`may_nest`] (Bosun's
//!   [`MAX_NESTING_DEPTH`]), [`nested_response`].
//!
//! Each file's own doc says which AWS page each rule comes from and what Bosun chose where AWS
//! says nothing.

mod branch;
mod flow;
mod interactive;
mod interpolate;
mod loop_plan;
mod loops;
mod nested;
mod outputs;
mod params;
mod plan;
mod select;
mod sleep;
mod status;

#[cfg(test)]
mod branch_tests;
#[cfg(test)]
mod flow_tests;
#[cfg(test)]
mod interactive_tests;
#[cfg(test)]
mod interpolate_tests;
#[cfg(test)]
mod loops_tests;
#[cfg(test)]
mod nested_tests;
#[cfg(test)]
mod outputs_tests;
#[cfg(test)]
mod params_tests;
#[cfg(test)]
mod plan_tests;
#[cfg(test)]
mod select_tests;
#[cfg(test)]
mod sleep_tests;

pub use branch::choose_branch;
pub use flow::{inherited_end, is_critical_failure, next_after};
pub use interactive::{pending_start, stop_step_requested, MODES};
pub use interpolate::interpolate;
pub use loops::{
    iteration_value, loop_condition_holds, loop_spec, next_iteration, LoopKind, LoopSpec,
    MAX_ITERATIONS,
};
pub use nested::{may_nest, nested_response, nested_start_request, MAX_NESTING_DEPTH};
pub use outputs::{execution_outputs, output_strings, step_outputs, NO_OUTPUT};
pub use params::resolve_parameters;
pub use plan::plan;
pub use select::{check_selector, property_matches, select};
pub use sleep::{sleep_until, MAX_SLEEP_SECONDS};

use std::collections::BTreeMap;

use serde_json::Value;

use crate::document::ParameterDecl;

/// `AutomationExecutionStatus`, used for executions and for steps (reference §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecStatus {
    Pending,
    InProgress,
    Waiting,
    Success,
    TimedOut,
    Cancelling,
    Cancelled,
    Failed,
    PendingApproval,
    Approved,
    Rejected,
}

/// An action Bosun runs. Every other `aws:*` action is refused by [`plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    RunCommand,
    Sleep,
    Pause,
    Branch,
    Approve,
    ExecuteAwsApi,
    WaitForAwsResourceProperty,
    AssertAwsResourceProperty,
    ExecuteAutomation,
    ChangeInstanceState,
    Loop,
}

/// `onFailure` of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnFailure {
    Abort,
    Continue,
    Step(String),
}

/// `onCancel` of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnCancel {
    Abort,
    Step(String),
}

/// An output a step declares: `{Name, Selector, Type}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputDecl {
    pub name: String,
    pub selector: String,
    /// `String|Integer|Boolean|StringList|StringMap|MapList`.
    pub output_type: String,
}

/// One step of a runbook, with AWS's defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub name: String,
    pub action: Action,
    /// The step's `inputs` as written (not yet interpolated); `{}` when absent.
    pub inputs: Value,
    pub on_failure: OnFailure,
    pub on_cancel: OnCancel,
    pub is_end: bool,
    pub next_step: Option<String>,
    /// Default 1.
    pub max_attempts: u32,
    /// `None` when the document gives none (the action's own default applies).
    pub timeout_seconds: Option<u64>,
    /// Default true; false when `onFailure: Continue` and the document says nothing.
    pub is_critical: bool,
    pub outputs: Vec<OutputDecl>,
    /// For a step inside an `aws:loop`'s `Steps`: the index of that loop step.
    pub parent: Option<usize>,
    /// For an `aws:loop` step: the indexes of its inner steps (empty for other steps).
    pub body: std::ops::Range<usize>,
}

/// A runbook ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    pub parameters: Vec<(String, ParameterDecl)>,
    /// `mainSteps` in order, then the inner steps of each `aws:loop` (each loop's together, in
    /// order; [`Step::parent`] names their loop, [`Step::body`] the loop's range).
    pub steps: Vec<Step>,
    /// Top-level `outputs`: `"<step>.<output>"`.
    pub outputs: Vec<String>,
}

/// Why a runbook cannot be started (maps to `InvalidAutomationExecutionParametersException`
/// or, for document problems, `InvalidDocument`-style messages; the text names the step).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RunbookError(pub String);

/// What `{{ … }}` references in step inputs resolve against.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    pub execution_id: String,
    pub account_id: String,
    pub region: String,
    pub partition: String,
    /// For `{{global:DATE}}` / `{{global:DATE_TIME}}` (UTC).
    pub now: jiff::Timestamp,
    /// Resolved parameters, typed per their declarations (String → string, StringList →
    /// array, Integer → number, Boolean → bool, StringMap → object, MapList → array).
    pub parameters: BTreeMap<String, Value>,
    /// Outputs of finished steps: `"<step>.<output>"` → value.
    pub step_outputs: BTreeMap<String, Value>,
}

/// Why a reference could not be resolved (the step fails with this message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InterpolateError(pub String);

/// How a step ended, as the flow rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Success,
    /// An `aws:branch` step chose this step.
    Branched(String),
    Failed,
    TimedOut,
    Cancelled,
}

/// What runs after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Step(usize),
    /// The execution ends with this status.
    End(ExecStatus),
}
