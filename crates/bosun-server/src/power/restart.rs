//! Stopping and restarting a node through its own agent: a Run Command command of
//! `AWS-RunShellScript` running the server's `--node-stop-command` / `--node-restart-command`
//! (server-side settings, so holding a node's tags never chooses what runs as root there).
//! A stop is done when the node's channel dropped (it is no longer Online); a restart when the
//! node is Online again with a boot id other than the one it had when the restart began.

use std::collections::BTreeMap;

use bosun_core::instance::PingStatus;
use serde_json::json;

use super::attempt::{PowerAttempt, PowerState};
use super::nodes::{node, ping};
use crate::api::error::ApiError;
use crate::api::send_command::{prepare_command, CommandSpec};
use crate::api::Ctx;

const SHELL_DOCUMENT: &str = "AWS-RunShellScript";

/// Send `command` to the node itself, which must be Online; the command id.
fn send_to_node(ctx: &Ctx, node_id: &str, command: &str, why: &str) -> Result<String, ApiError> {
    let shell_arn = ctx.scope().ssm_arn(&format!("document/{SHELL_DOCUMENT}"));
    ctx.authorize_arns("ssm:SendCommand", [shell_arn.as_str()])?;
    let (record, _) = node(ctx, node_id)?;
    let status = ping(ctx, &record)?;
    if status != PingStatus::Online {
        return Err(ApiError::new(
            "ValidationException",
            format!(
                "{node_id} is not Online ({}): its agent cannot {why} it",
                status.as_str()
            ),
        ));
    }
    let parameters: BTreeMap<String, Vec<String>> =
        [("commands".to_string(), vec![command.to_string()])].into();
    let mut echo = serde_json::Map::new();
    echo.insert("Parameters".into(), json!({ "commands": [command] }));
    echo.insert("InstanceIds".into(), json!([node_id]));
    let spec = CommandSpec {
        document_name: SHELL_DOCUMENT.into(),
        document_version: None,
        document_hash: None,
        parameters,
        timeout_seconds: 600,
        comment: format!("Bosun: {why} {node_id}"),
        max_concurrency: "1".into(),
        max_errors: "0".into(),
        echo,
        notification: None,
    };
    let target = (node_id.to_string(), record.name.clone());
    let prepared = prepare_command(ctx, &spec, || Ok((vec![target], false)))?;
    ctx.state
        .store
        .create_command(&prepared.record, &prepared.invocations, &prepared.plugins)?;
    ctx.state.orchestrator.kick();
    Ok(prepared.record.command_id)
}

/// Start a clean shutdown of `node_id` (`ssm:SendCommand` on the node and on
/// `AWS-RunShellScript`).
pub fn start_stop(ctx: &Ctx, node_id: &str) -> Result<PowerAttempt, ApiError> {
    ctx.authorize_nodes("ssm:SendCommand", [node_id])?;
    let command = ctx.state.config.node_stop_command.clone();
    let command_id = send_to_node(ctx, node_id, &command, "stop")?;
    Ok(PowerAttempt::Stop {
        node_id: node_id.to_string(),
        command_id,
    })
}

/// Start a reboot of `node_id` (authorized as [`start_stop`]). Refused for an agent that
/// reports no boot id: its return could not be told from a reconnect.
pub fn start_restart(ctx: &Ctx, node_id: &str) -> Result<PowerAttempt, ApiError> {
    ctx.authorize_nodes("ssm:SendCommand", [node_id])?;
    let (record, _) = node(ctx, node_id)?;
    if record.info.boot_id.is_empty() {
        return Err(ApiError::new(
            "ValidationException",
            format!(
                "{node_id}'s agent reports no boot id, so Bosun could not tell its restart \
                 from a reconnect; update the agent"
            ),
        ));
    }
    let command = ctx.state.config.node_restart_command.clone();
    let command_id = send_to_node(ctx, node_id, &command, "restart")?;
    Ok(PowerAttempt::Restart {
        node_id: node_id.to_string(),
        command_id,
        boot_id: record.info.boot_id,
    })
}

/// Where a stop or restart stands.
pub fn check(ctx: &Ctx, attempt: &PowerAttempt) -> Result<PowerState, ApiError> {
    let node_id = attempt.node_id();
    let (record, _) = node(ctx, node_id)?;
    let status = ping(ctx, &record)?;
    let (command_id, boot_id) = match attempt {
        PowerAttempt::Stop { command_id, .. } => {
            if status != PingStatus::Online {
                return Ok(PowerState::Done);
            }
            (command_id, None)
        }
        PowerAttempt::Restart {
            command_id,
            boot_id,
            ..
        } => {
            if status == PingStatus::Online && record.info.boot_id != *boot_id {
                return Ok(PowerState::Done);
            }
            (command_id, Some(boot_id))
        }
        _ => return Ok(PowerState::Pending(String::new())),
    };
    // A shutdown command rarely reports (the agent goes down with the node); one that ended
    // without success while the node stayed up means it will not go down.
    let inv = ctx.state.store.invocation(command_id, node_id)?;
    if let Some(inv) = inv {
        let failed = !matches!(
            inv.status.as_str(),
            "Pending" | "InProgress" | "Delayed" | "Success" | "Cancelling"
        );
        if failed && status == PingStatus::Online {
            return Ok(PowerState::Failed(format!(
                "the {} command {command_id} on {node_id} ended {} ({}) and the node is still up",
                if boot_id.is_some() { "restart" } else { "stop" },
                inv.status,
                inv.status_details
            )));
        }
    }
    Ok(PowerState::Pending(match boot_id {
        None => format!("waiting for {node_id} to go down"),
        Some(_) if status == PingStatus::Online => {
            format!("waiting for {node_id} to reboot (it still runs the same boot)")
        }
        Some(_) => format!("waiting for {node_id} to come back Online after its reboot"),
    }))
}
