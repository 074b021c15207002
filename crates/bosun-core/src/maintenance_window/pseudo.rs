//! Pseudo-parameters in a task's invocation parameters: `{{WINDOW_ID}}`, `{{TARGET_TYPE}}`…,
//! which task types may use which, and their substitution for one invocation.
//!
//! Facts (user guide "Using pseudo parameters when registering maintenance window tasks"):
//! - The list below; written `{{NAME}}` in `TaskInvocationParameters` (Run Command
//!   `Parameters` and `Comment`, Automation `Parameters`, Lambda `Payload`/`ClientContext`,
//!   Step Functions `Input`).
//! - `{{TARGET_TYPE}}` is the window target's `ResourceType`: `INSTANCE` or `RESOURCE_GROUP`.
//! - `{{TARGET_ID}}` and `{{RESOURCE_ID}}` are for Automation, Lambda and Step Functions tasks
//!   only: "can't be used with Run Command tasks". Bosun refuses them in a `RUN_COMMAND` task
//!   ([`check`]); what AWS does with them there (refuse, or pass the text on) is not documented.
//!
//! Bosun sends a Run Command task as one command per node (one invocation each), so every
//! pseudo-parameter has exactly one value per invocation and a per-node value needs no special
//! rule. Spaces inside the braces are allowed (`{{ WINDOW_ID }}`), as for document parameters.
//! Other `{{…}}` text (document parameters, `{{ssm:…}}`) is left untouched for Run Command.

use std::collections::BTreeMap;

use super::kinds::{ResourceType, TaskType};

/// One pseudo-parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PseudoParameter {
    WindowId,
    WindowTaskId,
    WindowTargetId,
    WindowExecutionId,
    TaskExecutionId,
    InvocationId,
    TargetType,
    TargetId,
    ResourceId,
}

impl PseudoParameter {
    pub const ALL: [PseudoParameter; 9] = [
        Self::WindowId,
        Self::WindowTaskId,
        Self::WindowTargetId,
        Self::WindowExecutionId,
        Self::TaskExecutionId,
        Self::InvocationId,
        Self::TargetType,
        Self::TargetId,
        Self::ResourceId,
    ];

    /// The name written between the braces.
    pub fn name(self) -> &'static str {
        match self {
            Self::WindowId => "WINDOW_ID",
            Self::WindowTaskId => "WINDOW_TASK_ID",
            Self::WindowTargetId => "WINDOW_TARGET_ID",
            Self::WindowExecutionId => "WINDOW_EXECUTION_ID",
            Self::TaskExecutionId => "TASK_EXECUTION_ID",
            Self::InvocationId => "INVOCATION_ID",
            Self::TargetType => "TARGET_TYPE",
            Self::TargetId => "TARGET_ID",
            Self::ResourceId => "RESOURCE_ID",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == s)
    }

    /// Whether a task of this type may use it.
    pub fn supported_by(self, task_type: TaskType) -> bool {
        !(task_type == TaskType::RunCommand && matches!(self, Self::TargetId | Self::ResourceId))
    }
}

/// A pseudo-parameter a task type cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{{{{{}}}}} cannot be used in a {} task: it is only replaced in AUTOMATION, LAMBDA and \
     STEP_FUNCTIONS tasks",
    .parameter.name(),
    .task_type.as_str()
)]
pub struct UnsupportedPseudoParameter {
    pub parameter: PseudoParameter,
    pub task_type: TaskType,
}

/// Each `{{…}}` in `text` that names a pseudo-parameter: (byte range of the token, which).
fn tokens(text: &str) -> Vec<(std::ops::Range<usize>, PseudoParameter)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| from + i) {
        let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
            break;
        };
        match PseudoParameter::from_name(text[open + 2..close].trim()) {
            Some(p) => {
                out.push((open..close + 2, p));
                from = close + 2;
            }
            // Not ours: look again from the next brace (`{{{WINDOW_ID}}` still counts).
            None => from = open + 1,
        }
    }
    out
}

/// The pseudo-parameters used in `text`, in order, repeats included.
pub fn find(text: &str) -> Vec<PseudoParameter> {
    tokens(text).into_iter().map(|(_, p)| p).collect()
}

/// Refuse a pseudo-parameter the task type cannot use in any of `texts` (call it when a task
/// is registered or updated, over every invocation parameter value and the comment).
pub fn check<'a>(
    task_type: TaskType,
    texts: impl IntoIterator<Item = &'a str>,
) -> Result<(), UnsupportedPseudoParameter> {
    for text in texts {
        if let Some(parameter) = find(text).into_iter().find(|p| !p.supported_by(task_type)) {
            return Err(UnsupportedPseudoParameter {
                parameter,
                task_type,
            });
        }
    }
    Ok(())
}

/// The values of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PseudoValues {
    pub window_id: String,
    pub window_task_id: String,
    /// `None` when the task named its nodes itself (`Key=InstanceIds`): replaced by nothing.
    pub window_target_id: Option<String>,
    pub window_execution_id: String,
    pub task_execution_id: String,
    pub invocation_id: String,
    /// The window target's `ResourceType`; `INSTANCE` for nodes the task named itself.
    pub target_type: ResourceType,
    /// `INSTANCE`: the node id; `RESOURCE_GROUP`: the node's ARN. `None` for a task type
    /// that cannot use it.
    pub target_id: Option<String>,
    /// The node id. `None` for a task type that cannot use it.
    pub resource_id: Option<String>,
}

impl PseudoValues {
    fn get(&self, p: PseudoParameter) -> Option<&str> {
        use PseudoParameter as P;
        match p {
            P::WindowId => Some(&self.window_id),
            P::WindowTaskId => Some(&self.window_task_id),
            P::WindowTargetId => Some(self.window_target_id.as_deref().unwrap_or("")),
            P::WindowExecutionId => Some(&self.window_execution_id),
            P::TaskExecutionId => Some(&self.task_execution_id),
            P::InvocationId => Some(&self.invocation_id),
            P::TargetType => Some(self.target_type.as_str()),
            P::TargetId => self.target_id.as_deref(),
            P::ResourceId => self.resource_id.as_deref(),
        }
    }
}

/// `text` with every pseudo-parameter that has a value replaced, in one pass (a value is never
/// scanned again). A pseudo-parameter without a value is left as written ([`check`] refuses
/// those at registration).
pub fn substitute(text: &str, values: &PseudoValues) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (range, p) in tokens(text) {
        if let Some(v) = values.get(p) {
            out.push_str(&text[last..range.start]);
            out.push_str(v);
            last = range.end;
        }
    }
    out.push_str(&text[last..]);
    out
}

/// A Run Command task's `Parameters` with every value substituted (names are kept).
pub fn substitute_parameters(
    parameters: &BTreeMap<String, Vec<String>>,
    values: &PseudoValues,
) -> BTreeMap<String, Vec<String>> {
    parameters
        .iter()
        .map(|(k, vs)| {
            (
                k.clone(),
                vs.iter().map(|v| substitute(v, values)).collect(),
            )
        })
        .collect()
}

#[cfg(test)]
#[path = "pseudo_tests.rs"]
mod tests;
