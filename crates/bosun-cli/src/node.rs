//! `bosun node wake|stop|restart ID [--wait]`: Bosun's node power operations
//! (`X-Amz-Target: BosunNodePower.*` on the same signed endpoint as the SSM API; AWS has no
//! such operation). With `--wait` the CLI asks the server (`CheckNodePower`) until the node is
//! Online (wake), gone (stop) or back on a new boot (restart), the attempt failed, or the
//! timeout passed.

use std::time::{Duration, Instant};

use clap::Subcommand;
use serde_json::{json, Value};

use crate::client::Connection;

/// A node power operation.
#[derive(Subcommand, Clone, Debug)]
pub enum NodeCommand {
    /// Power a stopped node on: its power-controller document (tags bosun:wake-document and
    /// bosun:wake-via) or Wake-on-LAN through an Online node on its subnet.
    Wake(PowerArgs),
    /// Shut a node down cleanly through its own agent.
    Stop(PowerArgs),
    /// Reboot a node through its own agent.
    Restart(PowerArgs),
}

#[derive(clap::Args, Clone, Debug)]
pub struct PowerArgs {
    /// The managed node (mi-…).
    pub id: String,
    /// Wait until it is done (the node Online, gone, or back on a new boot).
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, in seconds.
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub timeout: u64,
}

async fn call_async(
    conn: &Connection,
    operation: &'static str,
    input: Value,
) -> anyhow::Result<Value> {
    let target = format!("BosunNodePower.{operation}");
    crate::signed::json_call_async(conn, "ssm", target, input).await
}

/// Describe an attempt for a person.
fn describe(attempt: &Value) -> String {
    let id = attempt["InstanceId"].as_str().unwrap_or("?");
    match attempt["Method"].as_str().unwrap_or("") {
        "AlreadyOnline" => format!("{id} is already Online"),
        "Controller" => format!(
            "running {} on {} to power {id} on (command {})",
            attempt["DocumentName"].as_str().unwrap_or("?"),
            attempt["Controller"].as_str().unwrap_or("?"),
            attempt["CommandId"].as_str().unwrap_or("?")
        ),
        "WakeOnLan" => {
            let relays: Vec<String> = attempt["Relays"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    format!(
                        "{} on {}",
                        r["InstanceId"].as_str().unwrap_or("?"),
                        r["Subnet"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            format!(
                "sent Wake-on-LAN packets for {id} (UDP port {}) through {}",
                attempt["Port"],
                relays.join(", ")
            )
        }
        "Stop" => format!(
            "asked {id} to shut down (command {})",
            attempt["CommandId"].as_str().unwrap_or("?")
        ),
        "Restart" => format!(
            "asked {id} to reboot (command {})",
            attempt["CommandId"].as_str().unwrap_or("?")
        ),
        other => format!("{id}: {other}"),
    }
}

/// Run `bosun node …`; the exit code (0 done or started, 1 failed or timed out).
pub async fn dispatch(conn: &Connection, command: NodeCommand) -> anyhow::Result<u8> {
    let (operation, args, done) = match command {
        NodeCommand::Wake(a) => ("WakeNode", a, "is Online"),
        NodeCommand::Stop(a) => ("StopNode", a, "is down"),
        NodeCommand::Restart(a) => ("RestartNode", a, "is back Online on a new boot"),
    };
    let answer = call_async(conn, operation, json!({ "InstanceId": args.id })).await?;
    let attempt = answer["Attempt"].clone();
    println!("{}", describe(&attempt));
    if !args.wait {
        return Ok(0);
    }
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let mut last_reason = String::new();
    loop {
        let state = call_async(conn, "CheckNodePower", json!({ "Attempt": attempt })).await?;
        let reason = state["Reason"].as_str().unwrap_or("").to_string();
        match state["State"].as_str() {
            Some("Done") => {
                println!("{} {done}", args.id);
                return Ok(0);
            }
            Some("Failed") => {
                eprintln!("failed: {reason}");
                return Ok(1);
            }
            _ => {}
        }
        if reason != last_reason && !reason.is_empty() {
            eprintln!("{reason}");
            last_reason = reason;
        }
        if Instant::now() >= deadline {
            eprintln!(
                "gave up after {} s: {}",
                args.timeout,
                if last_reason.is_empty() {
                    "not done yet"
                } else {
                    &last_reason
                }
            );
            return Ok(1);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
