//! `aws:changeInstanceState` on Bosun's nodes, through the node power service
//! ([`crate::power`]), as the user who started the execution: `DesiredState: running` wakes
//! each node (its power-controller document, or Wake-on-LAN) and waits until it is Online;
//! `stopped` shuts each Online node down through its own agent and waits until it has gone (a
//! node that is not Online already is stopped). `CheckStateOnly: true` only waits for the
//! state. `terminated`, `Force` and `AdditionalInfo` are refused: Bosun neither destroys nodes
//! nor powers them off by force.
//!
//! Durable like `aws:runCommand`: the step first records, per node, the id any command it sends
//! will have (stored with the step before anything is done); a resumed step whose command
//! exists goes on waiting for it instead of sending another. Wake-on-LAN packets carry no id:
//! a resumed step may send them again, which wakes nothing twice.

use bosun_core::ids;
use bosun_store::{AutomationExecutionRecord, AutomationStepRecord};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::actions::Attempt;
use super::run_command::starter;
use crate::api::Ctx;
use crate::power::{self, PowerAttempt, PowerState};
use crate::state::AppState;

/// How often a waiting step looks at its nodes again.
const POLL_MS: i64 = 2_000;

/// What the step keeps about each node (in its row's response until it ends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NodeProgress {
    instance_id: String,
    /// The id of the command a controller wake or a stop sends.
    command_id: String,
    /// What was started (absent until then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attempt: Option<PowerAttempt>,
    #[serde(default)]
    done: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Desired {
    Running,
    Stopped,
}

struct Request {
    nodes: Vec<String>,
    desired: Desired,
    check_only: bool,
}

fn flag(v: Option<&Value>, name: &str) -> Result<bool, String> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(format!("{name} must be true or false, not {other}.")),
    }
}

fn request(inputs: &Value) -> Result<Request, String> {
    let nodes: Vec<String> = match inputs.get("InstanceIds") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or("InstanceIds must be a list of node ids.")?,
        Some(Value::String(s)) => vec![s.clone()],
        _ => return Err("InstanceIds must be a list of node ids.".into()),
    };
    if nodes.is_empty() {
        return Err("InstanceIds names no node.".into());
    }
    let desired = match inputs.get("DesiredState").and_then(Value::as_str) {
        Some("running") => Desired::Running,
        Some("stopped") => Desired::Stopped,
        Some("terminated") => {
            return Err("DesiredState terminated: Bosun does not destroy managed nodes.".into())
        }
        other => {
            return Err(format!(
                "DesiredState must be running, stopped or terminated, not {}.",
                other.unwrap_or("missing")
            ))
        }
    };
    if flag(inputs.get("Force"), "Force")? {
        return Err("Force: Bosun stops nodes only through their agent's clean shutdown.".into());
    }
    if inputs
        .get("AdditionalInfo")
        .is_some_and(|v| !v.is_null() && v != "")
    {
        return Err("AdditionalInfo is an EC2 setting Bosun has no use for.".into());
    }
    Ok(Request {
        nodes,
        desired,
        check_only: flag(inputs.get("CheckStateOnly"), "CheckStateOnly")?,
    })
}

fn command_id(row: &AutomationStepRecord, node: &str) -> String {
    let seed = format!("{}:{}:{node}", row.step_execution_id, row.attempt);
    let digest = Sha256::digest(seed.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    ids::uuid_v4(bytes)
}

/// The step's recorded progress, if it has started.
fn progress(row: &AutomationStepRecord) -> Option<Vec<NodeProgress>> {
    let v: Value = serde_json::from_str(&row.response_json).ok()?;
    serde_json::from_value(v.get("Nodes")?.clone()).ok()
}

fn record(row: &mut AutomationStepRecord, nodes: &[NodeProgress]) {
    row.response_json = json!({ "Nodes": nodes }).to_string();
}

/// What a controller wake or a stop already sent (a resumed step), rebuilt from its command.
fn sent(
    state: &AppState,
    e: &AutomationExecutionRecord,
    n: &NodeProgress,
    desired: Desired,
) -> anyhow::Result<Option<PowerAttempt>> {
    let Some(command) = state.store.get_command(&e.region, &n.command_id)? else {
        return Ok(None);
    };
    let node_id = n.instance_id.clone();
    Ok(Some(match desired {
        Desired::Stopped => PowerAttempt::Stop {
            node_id,
            command_id: command.command_id,
        },
        Desired::Running => {
            let controller = state
                .store
                .invocations(&command.command_id)?
                .first()
                .map(|i| i.instance_id.clone())
                .unwrap_or_default();
            PowerAttempt::Controller {
                node_id,
                controller,
                document: command.document_name,
                command_id: command.command_id,
            }
        }
    }))
}

pub(super) fn advance(
    state: &AppState,
    e: &AutomationExecutionRecord,
    row: &mut AutomationStepRecord,
    inputs: &Value,
    now: i64,
) -> anyhow::Result<Attempt> {
    let req = match request(inputs) {
        Ok(r) => r,
        Err(why) => return Ok(Attempt::Failed(why, json!(null))),
    };
    let Some(mut nodes) = progress(row) else {
        // First look: record each node's command id before anything is done.
        let nodes: Vec<NodeProgress> = req
            .nodes
            .iter()
            .map(|n| NodeProgress {
                instance_id: n.clone(),
                command_id: command_id(row, n),
                attempt: None,
                done: false,
            })
            .collect();
        record(row, &nodes);
        return Ok(Attempt::Running(Some(now)));
    };
    let mut ctx = Ctx::acting_as(state, &e.region, starter(e), now);
    let mut waiting = Vec::new();
    let mut outcome = None;
    for n in nodes.iter_mut() {
        if n.done {
            continue;
        }
        let node = n.instance_id.clone();
        let online = match power::is_online(&ctx, &node) {
            Ok(o) => o,
            Err(err) => {
                outcome = Some(failed(&node, &err.message));
                break;
            }
        };
        let stopped_already = req.desired == Desired::Stopped && !online && n.attempt.is_none();
        if req.check_only || stopped_already {
            n.done = online == (req.desired == Desired::Running);
            if !n.done {
                waiting.push(format!(
                    "{node} is {}",
                    if online { "Online" } else { "not Online" }
                ));
            }
            continue;
        }
        if n.attempt.is_none() {
            let attempt = match sent(state, e, n, req.desired)? {
                Some(a) => a,
                None => {
                    ctx.command_id = Some(n.command_id.clone());
                    let started = match req.desired {
                        Desired::Running => power::start_wake(&ctx, &node),
                        Desired::Stopped => power::start_stop(&ctx, &node),
                    };
                    ctx.command_id = None;
                    match started {
                        Ok(a) => a,
                        Err(err) => {
                            outcome = Some(failed(&node, &err.message));
                            break;
                        }
                    }
                }
            };
            n.attempt = Some(attempt);
        }
        let Some(attempt) = &n.attempt else {
            continue;
        };
        match power::check(&ctx, attempt) {
            Ok(PowerState::Done) => n.done = true,
            Ok(PowerState::Pending(why)) => waiting.push(why),
            Ok(PowerState::Failed(why)) => {
                outcome = Some(failed(&node, &why));
                break;
            }
            Err(err) => {
                outcome = Some(failed(&node, &err.message));
                break;
            }
        }
    }
    record(row, &nodes);
    if let Some(end) = outcome {
        return Ok(end);
    }
    if nodes.iter().all(|n| n.done) {
        let state_name = match req.desired {
            Desired::Running => "running",
            Desired::Stopped => "stopped",
        };
        return Ok(Attempt::Success(json!({
            "InstanceStates": nodes.iter().map(|_| state_name).collect::<Vec<_>>(),
        })));
    }
    tracing::debug!(execution = %e.execution_id, step = %row.step_name, waiting = %waiting.join("; "), "aws:changeInstanceState waiting");
    Ok(Attempt::Running(Some(now + POLL_MS)))
}

fn failed(node: &str, why: &str) -> Attempt {
    Attempt::Failed(format!("{node}: {why}"), json!(null))
}
