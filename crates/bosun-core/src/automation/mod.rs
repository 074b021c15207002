//! Automation runbooks (schema 0.3) as Bosun runs them: the step plan, the values steps see,
//! `aws:branch` choices, output selectors and what comes after each step.
//!
//! CONTRACT (lead, 2026-12-04): the public names and signatures below are what the server's
//! runtime codes against. The bodies are being written on branch `auto-core`; keep the
//! signatures (add, do not rename) unless the lead agrees.

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

impl ExecStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        todo!()
    }
    /// Parse the wire spelling (every value of the model's enum Bosun uses).
    pub fn parse(s: &str) -> Option<Self> {
        let _ = s;
        todo!()
    }
    /// Whether nothing more will happen to an execution/step in this status.
    pub fn is_terminal(self) -> bool {
        todo!()
    }
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
}

impl Action {
    /// `aws:runCommand` …
    pub fn as_str(self) -> &'static str {
        todo!()
    }
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
}

/// A runbook ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    pub parameters: Vec<(String, ParameterDecl)>,
    pub steps: Vec<Step>,
    /// Top-level `outputs`: `"<step>.<output>"`.
    pub outputs: Vec<String>,
}

impl Runbook {
    /// The index of the step called `name`.
    pub fn step_index(&self, name: &str) -> Option<usize> {
        let _ = name;
        todo!()
    }
}

/// Why a runbook cannot be started (maps to `InvalidAutomationExecutionParametersException`
/// or, for document problems, `InvalidDocument`-style messages; the text names the step).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RunbookError(pub String);

/// Build the plan from a validated schema-0.3 document's content. Refuses actions Bosun cannot
/// run (AWS-only services: `aws:executeScript`, `aws:createStack`, `aws:invokeLambdaFunction`,
/// …) with a message naming the step and the action; `aws:executeAwsApi`-family steps whose
/// `Service` is not one Bosun serves (`ssm`) are refused too.
pub fn plan(content: &Value) -> Result<Runbook, RunbookError> {
    let _ = content;
    todo!()
}

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

/// Substitute every `{{ … }}` in `inputs`. A string that is exactly one reference takes the
/// referenced value's type (a list stays a list); references inside longer strings are
/// rendered as text.
pub fn interpolate(inputs: &Value, ctx: &Context) -> Result<Value, InterpolateError> {
    let _ = (inputs, ctx);
    todo!()
}

/// Type the caller's `Parameters` (`map<string, list<string>>`) per the declarations, with
/// defaults filled in; refusals are `InvalidAutomationExecutionParametersException` messages.
pub fn resolve_parameters(
    runbook: &Runbook,
    passed: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, Value>, RunbookError> {
    let _ = (runbook, passed);
    todo!()
}

/// Evaluate an interpolated `aws:branch` step's inputs: the `NextStep` of the first matching
/// choice, else `Default`, else `Ok(None)` (the step fails: no choice matched).
pub fn choose_branch(inputs: &Value) -> Result<Option<String>, InterpolateError> {
    let _ = inputs;
    todo!()
}

/// Evaluate a JSONPath selector (`$.a.b[0].c`, `$.a[*].b`, as AWS's outputs and
/// `PropertySelector` use) over a response.
pub fn select(value: &Value, selector: &str) -> Option<Value> {
    let _ = (value, selector);
    todo!()
}

/// A step's declared outputs from its response, converted to each output's `Type`; a selector
/// that matches nothing leaves that output out (AWS shows no value for it).
pub fn step_outputs(
    step: &Step,
    response: &Value,
) -> Result<BTreeMap<String, Value>, InterpolateError> {
    let _ = (step, response);
    todo!()
}

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

/// The flow rules: `nextStep`, `isEnd`, `onFailure`, `onCancel`, `isCritical`, and "the last
/// step ends the execution". `failed_critical` says whether an earlier critical step failed
/// with `onFailure: Continue` (the execution then ends `Failed` when it reaches its end).
pub fn next_after(
    runbook: &Runbook,
    step: usize,
    outcome: &StepOutcome,
    failed_critical: bool,
) -> Next {
    let _ = (runbook, step, outcome, failed_critical);
    todo!()
}

/// An execution's outputs from its steps' outputs (top-level `outputs`).
pub fn execution_outputs(
    runbook: &Runbook,
    step_outputs: &BTreeMap<String, Value>,
) -> BTreeMap<String, Vec<String>> {
    let _ = (runbook, step_outputs);
    todo!()
}

/// When an interpolated `aws:sleep` step started at `started` wakes: `Duration` (ISO-8601,
/// e.g. `PT10M`) or `Timestamp` (ISO-8601 instant); at most 604799 s after `started`.
pub fn sleep_until(
    inputs: &Value,
    started: jiff::Timestamp,
) -> Result<jiff::Timestamp, InterpolateError> {
    let _ = (inputs, started);
    todo!()
}

/// Whether a `PropertySelector`'s value matches one of `DesiredValues` (as
/// `aws:assertAwsResourceProperty`/`aws:waitForAwsResourceProperty` compare them).
pub fn property_matches(selected: &Value, desired: &[String]) -> bool {
    let _ = (selected, desired);
    todo!()
}
