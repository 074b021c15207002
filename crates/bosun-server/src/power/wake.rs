//! Waking a node: by its power-controller document (a real Run Command command on the
//! controller node, as the caller) or by Wake-on-LAN (magic packets broadcast by Online relays
//! on the node's last-known subnets). Done when the node is Online.
//!
//! Relays are nodes connected to *this* server replica: the hub reaches only its own agent
//! connections. With several replicas, a neighbour connected elsewhere is not used, and when
//! no neighbour is connected here the wake fails saying no Online node is on the subnet (run
//! the wake on the replica that holds a neighbour, or use a power-controller document, which
//! goes through Run Command and so reaches any replica's nodes).

use bosun_core::power::{
    choose_relays, wake_method, wake_port, PowerError, RelayCandidate, WakeMethod,
};
use bosun_proto::ServerMessage;
use serde_json::json;

use super::attempt::{PowerAttempt, PowerState, RelayUsed};
use super::nodes::{is_online, node, ping};
use crate::api::error::ApiError;
use crate::api::send_command::{prepare_command, CommandSpec};
use crate::api::Ctx;

/// How long the controller's command may wait for delivery, in seconds.
const CONTROLLER_TIMEOUT_SECONDS: i64 = 600;

fn refused(e: PowerError) -> ApiError {
    ApiError::new("ValidationException", e.to_string())
}

/// Start waking `node_id` as `ctx`'s principal (see the module docs of [`super`] for the IAM
/// actions checked). A node already Online is left alone.
pub fn start_wake(ctx: &Ctx, node_id: &str) -> Result<PowerAttempt, ApiError> {
    ctx.authorize_nodes("ssm:SendCommand", [node_id])?;
    let (record, tags) = node(ctx, node_id)?;
    if ping(ctx, &record)? == bosun_core::instance::PingStatus::Online {
        return Ok(PowerAttempt::AlreadyOnline {
            node_id: node_id.to_string(),
        });
    }
    match wake_method(node_id, &tags, &record.info.network_interfaces).map_err(refused)? {
        WakeMethod::Controller {
            document,
            controller,
        } => wake_by_controller(ctx, node_id, &controller, &document),
        WakeMethod::WakeOnLan { macs } => {
            let port = wake_port(&tags).map_err(refused)?;
            let nodes = ctx.state.store.list_instances(&ctx.region)?;
            let candidates: Vec<RelayCandidate> = nodes
                .iter()
                .filter(|n| !n.deregistered)
                .map(|n| RelayCandidate {
                    node_id: &n.instance_id,
                    online: ctx.state.hub.is_connected(&n.instance_id),
                    interfaces: &n.info.network_interfaces,
                })
                .collect();
            let relays = choose_relays(node_id, &record.info.network_interfaces, &candidates)
                .map_err(refused)?;
            let mut sent = Vec::new();
            for relay in &relays {
                let mut reached = true;
                for mac in &macs {
                    reached &= ctx.state.hub.send(
                        &relay.node_id,
                        ServerMessage::SendWakePacket {
                            mac: mac.to_string(),
                            broadcast: relay.broadcast.to_string(),
                            port,
                        },
                    );
                }
                if reached {
                    tracing::info!(node_id, relay = %relay.node_id, subnet = %relay.subnet, port, "asked a relay to send Wake-on-LAN packets");
                    sent.push(RelayUsed {
                        node_id: relay.node_id.clone(),
                        subnet: relay.subnet.clone(),
                        broadcast: relay.broadcast.to_string(),
                    });
                }
            }
            if sent.is_empty() {
                return Err(ApiError::new(
                    "ValidationException",
                    format!(
                        "no Online node on subnet {} to send the Wake-on-LAN packet for \
                         {node_id}: the chosen relays disconnected",
                        relays
                            .iter()
                            .map(|r| r.subnet.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            Ok(PowerAttempt::WakeOnLan {
                node_id: node_id.to_string(),
                macs: macs.iter().map(ToString::to_string).collect(),
                port,
                relays: sent,
            })
        }
    }
}

/// Run `document` on `controller` with `InstanceId=<node_id>`: a Run Command command like
/// `SendCommand` makes, authorized on the controller and the document.
fn wake_by_controller(
    ctx: &Ctx,
    node_id: &str,
    controller: &str,
    document: &str,
) -> Result<PowerAttempt, ApiError> {
    let document_arn = ctx.scope().ssm_arn(&format!("document/{document}"));
    ctx.authorize_arns("ssm:SendCommand", [document_arn.as_str()])?;
    ctx.authorize_nodes("ssm:SendCommand", [controller])?;
    let (controller_record, _) = node(ctx, controller).map_err(|_| {
        ApiError::new(
            "ValidationException",
            format!(
                "the power controller {controller} named by {node_id}'s tag bosun:wake-via is \
                 not a registered managed node in {}",
                ctx.region
            ),
        )
    })?;
    let status = ping(ctx, &controller_record)?;
    if status != bosun_core::instance::PingStatus::Online {
        return Err(ApiError::new(
            "ValidationException",
            format!(
                "the power controller {controller} of {node_id} is not Online ({}), so it \
                 cannot run {document}",
                status.as_str()
            ),
        ));
    }
    let parameters = [("InstanceId".to_string(), vec![node_id.to_string()])]
        .into_iter()
        .collect();
    let mut echo = serde_json::Map::new();
    echo.insert("Parameters".into(), json!({ "InstanceId": [node_id] }));
    echo.insert("InstanceIds".into(), json!([controller]));
    let spec = CommandSpec {
        document_name: document.to_string(),
        document_version: None,
        document_hash: None,
        parameters,
        timeout_seconds: CONTROLLER_TIMEOUT_SECONDS,
        comment: format!("Bosun: power on {node_id}"),
        max_concurrency: "1".into(),
        max_errors: "0".into(),
        echo,
        notification: None,
    };
    let target = (controller.to_string(), controller_record.name.clone());
    let prepared = prepare_command(ctx, &spec, || Ok((vec![target], false))).map_err(|e| {
        let message = format!(
            "the power-controller document {document} of {node_id} cannot run: {}",
            e.message
        );
        ApiError { message, ..e }
    })?;
    ctx.state
        .store
        .create_command(&prepared.record, &prepared.invocations, &prepared.plugins)?;
    ctx.state.orchestrator.kick();
    tracing::info!(node_id, controller, document, command_id = %prepared.record.command_id, "sent a power-controller command");
    Ok(PowerAttempt::Controller {
        node_id: node_id.to_string(),
        controller: controller.to_string(),
        document: document.to_string(),
        command_id: prepared.record.command_id,
    })
}

/// Where a wake stands: done once the node is Online; failed when the controller's command
/// ended without success.
pub fn check(ctx: &Ctx, attempt: &PowerAttempt) -> Result<PowerState, ApiError> {
    let node_id = attempt.node_id();
    if is_online(ctx, node_id)? {
        return Ok(PowerState::Done);
    }
    match attempt {
        PowerAttempt::Controller {
            controller,
            document,
            command_id,
            ..
        } => {
            let inv = ctx.state.store.invocation(command_id, controller)?;
            let status = inv.as_ref().map(|i| i.status.as_str()).unwrap_or("");
            match status {
                "Pending" | "InProgress" | "Delayed" | "Cancelling" => Ok(PowerState::Pending(
                    format!("the power controller {controller} is running {document} (command {command_id}: {status})"),
                )),
                "Success" => Ok(PowerState::Pending(format!(
                    "{document} succeeded on {controller}; waiting for {node_id} to come Online"
                ))),
                "" => Ok(PowerState::Failed(format!(
                    "the power-controller command {command_id} on {controller} is not known"
                ))),
                other => Ok(PowerState::Failed(format!(
                    "the power-controller command {command_id} ({document} on {controller}) \
                     ended {other} ({}); {node_id} was not powered on",
                    inv.as_ref().map(|i| i.status_details.clone()).unwrap_or_default()
                ))),
            }
        }
        PowerAttempt::WakeOnLan { relays, port, .. } => Ok(PowerState::Pending(format!(
            "waiting for {node_id} to come Online after Wake-on-LAN packets (UDP port {port}) \
             from {}",
            relays
                .iter()
                .map(|r| format!("{} on {}", r.node_id, r.subnet))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        _ => Ok(PowerState::Pending(format!(
            "waiting for {node_id} to come Online"
        ))),
    }
}
