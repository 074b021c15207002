//! `Mode: Interactive` and the step signals (API reference, `SendAutomationSignal`; user guide,
//! "Run an automation step by step"): an interactive execution waits (`Waiting`) before every
//! step and runs only the step a `StartStep` signal names (payload `StepName`); `StopStep`
//! (payload `StepExecutionId`) stops a running step, in either mode.
//!
//! The execution's signals are one list, oldest first (the store's `signals_json`); each
//! step row remembers how many signals there were when it started (`signal_base`), so the
//! signals from that position on are the ones it has not consumed. A step started by
//! `StartStep` number `i` takes `i + 1` as its base, so that signal is used once.
//!
//! Where AWS's pages say nothing, Bosun's rules: after a step ends, the flow rules
//! (`next_after`) still decide whether the execution ends (a last step, `isEnd`, `onFailure:
//! Abort` after a failure, `onCancel: Abort` after a stop); otherwise it waits for the next
//! `StartStep`, which may name any step of the runbook, the suggested next one or another.

use serde_json::Value;

/// `ExecutionMode` values.
pub const MODES: [&str; 2] = ["Auto", "Interactive"];

/// The first `StartStep` signal at or after position `from`: its position and step name.
pub fn pending_start(signals: &[Value], from: usize) -> Option<(usize, String)> {
    signals
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, s)| s["Type"] == "StartStep")
        .map(|(i, s)| (i, s["StepName"].as_str().unwrap_or_default().to_string()))
}

/// Whether a `StopStep` signal for `step_execution_id` came at or after position `from`.
pub fn stop_step_requested(signals: &[Value], from: usize, step_execution_id: &str) -> bool {
    signals
        .iter()
        .skip(from)
        .any(|s| s["Type"] == "StopStep" && s["StepExecutionId"] == step_execution_id)
}
