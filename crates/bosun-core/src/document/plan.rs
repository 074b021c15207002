//! Resolve a Command document and its parameters into the steps an agent runs: which plugin,
//! which commands, where, for how long, with which environment, and what happens after.
//!
//! Preconditions: [`plan_steps`] does not know the node, so a step limited to some platforms
//! (by its plugin or a `platformType` precondition) lists them in [`StepPlan::platforms`] for
//! the agent to check; [`plan_steps_for`] knows the node's platform and marks steps that do not
//! apply with [`StepPlan::skip_reason`] (schema 2.2 skips, as AWS does; in 1.2/2.0 a plugin the
//! platform cannot run is an error). Parameter-expression preconditions
//! (`StringEquals: ["{{ a }}", "x"]`) are decided in both.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::decl::Interpolation;
use super::interpolate::{env_var_name, text_of, Mode, Scope};
use super::package::PlatformEntry;
use super::plugin_inputs::{configure_package_spec, download_spec, run_document_spec};
use super::{CommandDocument, PlatformType, ResolvedParams, COMMAND_PLUGINS};

/// The default execution timeout of a step when the document gives none (seconds).
pub const DEFAULT_STEP_TIMEOUT_SECONDS: u64 = 3600;

/// What the agent does after a step fails (`inputs.onFailure` of Command documents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OnFailure {
    /// No `onFailure`: the next steps still run; the invocation ends Failed.
    #[default]
    Continue,
    /// `exit`: skip the remaining steps (except a `finallyStep`); the invocation ends Failed.
    Exit,
    /// `successAndExit`: skip the remaining steps (except a `finallyStep`) and report Success.
    SuccessAndExit,
}

/// One step, fully resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepPlan {
    /// The plugin name reported in `CommandPlugins` / `PluginName` (step name in 2.x,
    /// plugin name such as `aws:runShellScript` in 1.2).
    pub name: String,
    pub action: String,
    /// Lines of the shell script.
    pub run_command: Vec<String>,
    pub working_directory: String,
    pub timeout_seconds: u64,
    /// Environment for the step: `SSM_<name>` for every `ENV_VAR` parameter, sorted by name.
    #[serde(default)]
    pub env: Vec<(String, String)>,
    /// Set when the step must not run on this node (reported as skipped, not failed).
    #[serde(default)]
    pub skip_reason: Option<String>,
    /// Platforms the step may run on; empty means any. The agent skips the step elsewhere.
    #[serde(default)]
    pub platforms: Vec<PlatformType>,
    #[serde(default)]
    pub on_failure: OnFailure,
    /// `onSuccess: exit`: after this step succeeds, skip the rest (except a `finallyStep`).
    #[serde(default)]
    pub exit_on_success: bool,
    /// `finallyStep: true`: runs even after an `exit` (always the last step).
    #[serde(default)]
    pub finally_step: bool,
    /// Names of `env` entries that hold secrets (resolved `{{ssm-secure:…}}` references): the
    /// agent keeps them in memory only and never writes their values to disk.
    #[serde(default)]
    pub secret_env: Vec<String>,
    /// The interpolated inputs of a plugin that is not a script (`aws:downloadContent`,
    /// `aws:runDocument`); `Null` for script plugins.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub inputs: Value,
    /// What the server attached for the agent: the Bosun document a step downloads or the
    /// planned steps of the document it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

/// Content the server resolved for a step, so the agent needs no further API calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Attachment {
    /// `aws:downloadContent` with `sourceType: SSMDocument`: the document version's content.
    #[serde(rename_all = "camelCase")]
    Document {
        name: String,
        version: i64,
        /// `JSON`, `YAML` or `TEXT`.
        format: String,
        content: String,
    },
    /// `aws:runDocument` with `documentType: SSMDocument`: the nested document, planned.
    #[serde(rename_all = "camelCase")]
    Steps {
        name: String,
        version: i64,
        steps: Vec<StepPlan>,
    },
    /// `aws:configurePackage`: the package document version chosen, its manifest's platform
    /// entries, and each file's hash, size and server path (`GET` signed by the node).
    #[serde(rename_all = "camelCase")]
    Package {
        name: String,
        document_version: i64,
        /// The manifest's `version`.
        version: String,
        entries: Vec<PlatformEntry>,
        files: Vec<PackageFile>,
    },
    /// `aws:updateSsmAgent`: the release it installs, one file per architecture (the node takes
    /// its own), resolved from `targetVersion` or the default release of each architecture.
    #[serde(rename_all = "camelCase")]
    AgentRelease {
        /// The version asked for; empty for the default release.
        requested: String,
        files: Vec<ReleaseFile>,
    },
}

/// One file of an attached package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageFile {
    pub name: String,
    pub sha256: String,
    pub size: u64,
    /// Path and query on the node's server, e.g. `/v1/document-attachments/…`.
    pub path: String,
}

/// One agent release file as the server attaches it to an update step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseFile {
    pub version: String,
    pub platform: String,
    pub arch: String,
    /// Lowercase hex.
    pub sha256: String,
    pub size: u64,
    /// The release key's Ed25519 signature over
    /// [`crate::agent_release::release_payload`], base64.
    pub signature: String,
    /// The node-signed GET path it is downloaded from.
    pub path: String,
}

/// Why a document cannot be run (maps to `InvalidDocument` / `InvalidParameters`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    InvalidDocument(String),
    #[error("{0}")]
    InvalidParameters(String),
}

/// Plugins this Bosun agent can run.
const SUPPORTED: &[&str] = &[
    "aws:runShellScript",
    "aws:runPowerShellScript",
    "aws:downloadContent",
    "aws:runDocument",
    "aws:configurePackage",
    "aws:updateSsmAgent",
];

/// Resolve every step of the document for a node whose platform is not known.
pub fn plan_steps(
    doc: &CommandDocument,
    params: &ResolvedParams,
) -> Result<Vec<StepPlan>, PlanError> {
    plan(doc, params, None)
}

/// Resolve every step for a node of `platform`, marking steps that do not apply there.
pub fn plan_steps_for(
    doc: &CommandDocument,
    params: &ResolvedParams,
    platform: PlatformType,
) -> Result<Vec<StepPlan>, PlanError> {
    plan(doc, params, Some(platform))
}

/// Plan the document an `aws:runDocument` step runs, with the step's `documentParameters`.
pub fn plan_nested(
    doc: &CommandDocument,
    parameters: &std::collections::BTreeMap<String, Vec<String>>,
    platform: Option<PlatformType>,
) -> Result<Vec<StepPlan>, PlanError> {
    let params = super::resolve_parameters(&doc.parameters, parameters)
        .map_err(|e| PlanError::InvalidParameters(e.0))?;
    plan(doc, &params, platform)
}

fn invalid(msg: impl Into<String>) -> PlanError {
    PlanError::InvalidDocument(msg.into())
}

fn plan(
    doc: &CommandDocument,
    params: &ResolvedParams,
    platform: Option<PlatformType>,
) -> Result<Vec<StepPlan>, PlanError> {
    let scope = Scope {
        decls: &doc.parameters,
        values: params,
    };
    let mut env = Vec::new();
    for (name, decl) in &doc.parameters {
        if decl.interpolation == Interpolation::EnvVar {
            let values = params.get(name).map(Vec::as_slice).unwrap_or_default();
            let value = text_of(&super::typed_value(decl, values));
            if value.contains('\0') {
                return Err(PlanError::InvalidParameters(format!(
                    "Parameter \"{name}\" has a value with a NUL character, which an environment variable cannot hold."
                )));
            }
            env.push((env_var_name(name), value));
        }
    }
    let mut steps = Vec::new();
    if doc.schema_version == "1.2" {
        let runtime = doc
            .content
            .get("runtimeConfig")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("a schema 1.2 document needs runtimeConfig"))?;
        for (plugin, config) in runtime {
            let list = match config.get("properties") {
                Some(Value::Array(a)) => a.clone(),
                Some(p @ Value::Object(_)) => vec![p.clone()],
                _ => return Err(invalid(format!("{plugin} has no properties"))),
            };
            for p in list {
                steps.push(step(
                    plugin.clone(),
                    plugin,
                    &p,
                    None,
                    &scope,
                    platform,
                    false,
                )?);
            }
        }
    } else {
        let main = doc
            .content
            .get("mainSteps")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("the document needs mainSteps"))?;
        for s in main {
            let name = s.get("name").and_then(Value::as_str).unwrap_or_default();
            let action = s.get("action").and_then(Value::as_str).unwrap_or_default();
            if name.is_empty() || action.is_empty() {
                return Err(invalid("every step needs a name and an action"));
            }
            let inputs = s.get("inputs").unwrap_or(&Value::Null);
            let skip_incompatible = doc.schema_version == "2.2";
            steps.push(step(
                name.into(),
                action,
                inputs,
                s.get("precondition"),
                &scope,
                platform,
                skip_incompatible,
            )?);
        }
    }
    if steps.is_empty() {
        return Err(invalid("the document has no steps"));
    }
    for s in &mut steps {
        s.env = env.clone();
    }
    Ok(steps)
}

fn step(
    name: String,
    action: &str,
    inputs: &Value,
    precondition: Option<&Value>,
    scope: &Scope<'_>,
    platform: Option<PlatformType>,
    skip_incompatible: bool,
) -> Result<StepPlan, PlanError> {
    let mut plan = StepPlan {
        name,
        action: action.to_string(),
        timeout_seconds: DEFAULT_STEP_TIMEOUT_SECONDS,
        ..Default::default()
    };
    let plugin_platforms: Vec<PlatformType> = COMMAND_PLUGINS
        .iter()
        .find(|(a, _, _)| a.eq_ignore_ascii_case(action))
        .map(|(_, p, _)| p.to_vec())
        .unwrap_or_default();
    plan.platforms = plugin_platforms.clone();
    if let Some(pre) = precondition {
        let pair = pre
            .get("StringEquals")
            .and_then(Value::as_array)
            .filter(|a| a.len() == 2)
            .ok_or_else(|| {
                invalid(format!(
                    "step {}: precondition must be StringEquals with two values",
                    plan.name
                ))
            })?;
        let left = pair[0].as_str().unwrap_or_default();
        let right = pair[1].as_str().unwrap_or_default();
        if left == "platformType" {
            let p = PlatformType::parse(right).ok_or_else(|| {
                invalid(format!("step {}: unknown platformType {right}", plan.name))
            })?;
            plan.platforms.retain(|x| *x == p);
            // Required platform the plugin cannot run on: skipped on every node.
            let nowhere = plan.platforms.is_empty() && !plugin_platforms.is_empty();
            if nowhere || platform.is_some_and(|n| n != p) {
                plan.skip_reason = Some(format!(
                    "Step {} was skipped: its precondition requires platformType {right}.",
                    plan.name
                ));
            }
        } else {
            let l = text_of(&scope.string(left, Mode::Data)?);
            let r = text_of(&scope.string(right, Mode::Data)?);
            if l != r {
                plan.skip_reason = Some(format!(
                    "Step {} was skipped: its precondition {l:?} equals {r:?} is false.",
                    plan.name
                ));
            }
        }
    }
    if let Some(p) =
        platform.filter(|p| plan.skip_reason.is_none() && !plugin_platforms.contains(p))
    {
        if !skip_incompatible {
            return Err(invalid(format!(
                "The plugin {action} does not run on {} nodes.",
                p.as_str()
            )));
        }
        plan.skip_reason = Some(format!(
            "Step {} was skipped: {action} does not run on {} nodes.",
            plan.name,
            p.as_str()
        ));
    }
    let flag = |k: &str| inputs.get(k).and_then(Value::as_str);
    plan.on_failure = match flag("onFailure") {
        Some("exit") => OnFailure::Exit,
        Some("successAndExit") => OnFailure::SuccessAndExit,
        _ => OnFailure::Continue,
    };
    plan.exit_on_success = flag("onSuccess") == Some("exit");
    plan.finally_step = inputs
        .get("finallyStep")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if plan.skip_reason.is_some() {
        return Ok(plan);
    }
    if !SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(action)) {
        return Err(invalid(format!(
            "The plugin {action} is not supported by this Bosun server yet."
        )));
    }
    let checked =
        |r: Result<(), String>| r.map_err(|e| invalid(format!("step {}: {e}", plan.name)));
    if action.eq_ignore_ascii_case("aws:downloadContent") {
        plan.inputs = scope.value(inputs, Mode::Data)?;
        checked(download_spec(&plan.inputs).map(drop))?;
    } else if action.eq_ignore_ascii_case("aws:runDocument") {
        plan.inputs = scope.value(inputs, Mode::Data)?;
        checked(run_document_spec(&plan.inputs).map(drop))?;
    } else if action.eq_ignore_ascii_case("aws:configurePackage") {
        plan.inputs = scope.value(inputs, Mode::Data)?;
        checked(configure_package_spec(&plan.inputs).map(drop))?;
    } else if action.eq_ignore_ascii_case("aws:updateSsmAgent") {
        plan.inputs = scope.value(inputs, Mode::Data)?;
        checked(crate::agent_release::update_spec(&plan.inputs).map(drop))?;
    } else {
        plan.run_command = run_command(inputs.get("runCommand").unwrap_or(&Value::Null), scope)?;
    }
    if let Some(w) = inputs.get("workingDirectory") {
        plan.working_directory = text_of(&scope.value(w, Mode::Data)?);
    }
    plan.timeout_seconds = match inputs
        .get("timeoutSeconds")
        .map(|t| scope.value(t, Mode::Data))
        .transpose()?
    {
        None => DEFAULT_STEP_TIMEOUT_SECONDS,
        Some(Value::Number(n)) => n.as_u64().unwrap_or(DEFAULT_STEP_TIMEOUT_SECONDS),
        Some(Value::String(s)) if s.trim().is_empty() => DEFAULT_STEP_TIMEOUT_SECONDS,
        Some(Value::String(s)) => s.trim().parse().map_err(|_| {
            PlanError::InvalidParameters(format!(
                "The execution timeout {s:?} is not a number of seconds."
            ))
        })?,
        Some(_) => return Err(invalid("timeoutSeconds must be a number")),
    };
    Ok(plan)
}

/// `runCommand` may be a string, a list of lines, or hold `{{ list }}` references whose items
/// are spliced in as lines. `ENV_VAR` parameters appear as `${SSM_<name>}`.
fn run_command(v: &Value, scope: &Scope<'_>) -> Result<Vec<String>, PlanError> {
    let items: Vec<&Value> = match v {
        Value::String(_) => vec![v],
        Value::Array(a) => a.iter().collect(),
        _ => return Err(invalid("runCommand must be a string or a list of strings")),
    };
    let mut lines = Vec::new();
    for item in items {
        match scope.value(item, Mode::Script)? {
            Value::Array(a) => lines.extend(a.iter().map(text_of)),
            other => lines.push(text_of(&other)),
        }
    }
    Ok(lines)
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
