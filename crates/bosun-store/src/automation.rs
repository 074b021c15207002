//! Automation executions (runbooks run by the server's runtime) and their step executions.
//!
//! Ownership: one replica drives an execution at a time, holding a lease (`owner`,
//! `lease_until_ms`) it renews through [`AutomationStore::claim_automation_executions`]; a
//! replica whose lease lapsed may have it taken, and the driver's writes
//! ([`AutomationStore::update_owned_automation_execution`],
//! [`AutomationStore::put_owned_automation_step`]) only land while it still owns the execution.
//! Stop requests and signals come from the API on any replica and are written to their own
//! columns, never overwritten by the driver. Times are epoch milliseconds.
//!
//! Events: the driver's two writes take the events the change emits (built with
//! [`crate::automation_events`]) and append them to the outbox in the same transaction, only
//! when the write lands, so an event exists exactly when its change does.

use bosun_core::events::envelope::Event;

use crate::Result;

/// An automation execution as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationExecutionRecord {
    pub execution_id: String,
    pub region: String,
    pub document_name: String,
    pub document_version: String,
    /// The runbook's content (JSON) as it was when the execution started.
    pub document_content: String,
    /// `AutomationExecutionStatus`.
    pub status: String,
    /// `Auto` | `Interactive`.
    pub mode: String,
    /// Resolved parameters as passed back by the API: JSON `{name: [strings]}`.
    pub parameters_json: String,
    /// Execution outputs: JSON `{name: [strings]}`.
    pub outputs_json: String,
    pub failure_message: String,
    /// The starter's ARN.
    pub executed_by: String,
    pub parent_id: Option<String>,
    /// JSON `Targets` list (`[]` when none).
    pub targets_json: String,
    pub target_parameter_name: String,
    pub max_concurrency: String,
    pub max_errors: String,
    /// `""` when none was given.
    pub client_token: String,
    /// Hash of the start request without its token, to tell a retry from a reuse.
    pub request_hash: String,
    pub current_step_name: String,
    pub current_action: String,
    pub start_ms: i64,
    /// Set when the execution ended.
    pub end_ms: Option<i64>,
    /// When the driver must look again (a sleep's end, a timeout); `None`: on a signal.
    pub wake_ms: Option<i64>,
    /// `""`, `Cancel` or `Complete` (`StopAutomationExecution`).
    pub stop_requested: String,
    /// JSON list of signals received (`SendAutomationSignal`), oldest first.
    pub signals_json: String,
    /// The replica driving it and until when.
    pub owner: String,
    pub lease_until_ms: i64,
}

/// One step execution. `seq` orders the steps run (a step run again gets a new row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationStepRecord {
    pub execution_id: String,
    pub seq: i64,
    pub step_execution_id: String,
    /// Index in the runbook's `mainSteps`.
    pub step_index: i64,
    pub step_name: String,
    pub action: String,
    pub status: String,
    /// 1 for the first attempt.
    pub attempt: i64,
    /// Interpolated inputs (JSON object), `{}` until known.
    pub inputs_json: String,
    /// JSON `{name: [strings]}`.
    pub outputs_json: String,
    /// The action's response (JSON), `null` until there is one.
    pub response_json: String,
    pub failure_message: String,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// A sleep's wake time or the step's timeout.
    pub wake_ms: Option<i64>,
    /// The Run Command command of an `aws:runCommand` step, once created (`""` before).
    pub command_id: String,
    /// How many signals the execution had when this step started (later ones are its own).
    pub signal_base: i64,
}

/// Which executions [`AutomationStore::list_automation_executions`] returns; every `Some`
/// must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutomationQuery {
    pub region: String,
    pub document_name_prefix: Option<String>,
    /// Any of these statuses (empty: any).
    pub statuses: Vec<String>,
    pub execution_id: Option<String>,
    pub parent_id: Option<String>,
    /// Started before / after.
    pub start_before_ms: Option<i64>,
    pub start_after_ms: Option<i64>,
    /// Continue after this `(start_ms, execution_id)` (order: newest first, then id).
    pub after: Option<(i64, String)>,
    pub limit: usize,
}

/// What a start found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutomationStarted {
    Created,
    /// The token's earlier start, same request: its execution id.
    Replayed(String),
    /// The token was used for a different request.
    TokenMismatch,
}

/// Automation executions and their steps.
pub trait AutomationStore {
    /// Store a new execution; with a client token, a retry of the same request (same region,
    /// token and request hash) gets the first execution's id instead.
    fn create_automation_execution(
        &self,
        e: &AutomationExecutionRecord,
    ) -> Result<AutomationStarted>;

    /// One execution by id, in any region.
    fn get_automation_execution(
        &self,
        execution_id: &str,
    ) -> Result<Option<AutomationExecutionRecord>>;

    /// Executions matching `q`, newest first (then by id), at most `q.limit`.
    fn list_automation_executions(
        &self,
        q: &AutomationQuery,
    ) -> Result<Vec<AutomationExecutionRecord>>;

    /// The step executions of an execution, by `seq`.
    fn automation_steps(&self, execution_id: &str) -> Result<Vec<AutomationStepRecord>>;

    /// Renew `replica_id`'s leases on running executions until `until_ms` and take those whose
    /// lease ended before `now_ms`; returns the ids of every running execution it owns, by id.
    fn claim_automation_executions(
        &self,
        replica_id: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<String>>;

    /// Write the driver's columns (status, outputs, failure, current step, end, wake) of a
    /// running execution owned by `replica_id`, and append `events` in the same transaction;
    /// `false` (nothing written, no event) otherwise.
    fn update_owned_automation_execution(
        &self,
        replica_id: &str,
        e: &AutomationExecutionRecord,
        events: &[Event],
    ) -> Result<bool>;

    /// Insert or replace step `(execution_id, seq)` of a running execution owned by
    /// `replica_id`, and append `events` in the same transaction; `false` (nothing written, no
    /// event) otherwise.
    fn put_owned_automation_step(
        &self,
        replica_id: &str,
        s: &AutomationStepRecord,
        events: &[Event],
    ) -> Result<bool>;

    /// Ask a running execution to stop (`Cancel` or `Complete`); `false` when it has ended.
    fn request_automation_stop(&self, execution_id: &str, kind: &str) -> Result<bool>;

    /// Replace a running execution's signals with `new` if they are still `old` (a
    /// compare-and-set); `false` when they changed or it has ended.
    fn set_automation_signals(&self, execution_id: &str, old: &str, new: &str) -> Result<bool>;
}
