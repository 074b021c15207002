//! `bosun events rules|targets|test|tail`: EventBridge rules and their targets over the API
//! (`AWSEvents.*`, signed for `events`), a pattern tried on an event by the server
//! (`TestEventPattern`), and a live view of the events the server emits, through Bosun's
//! `BosunEvents.ListEvents`.

use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use serde_json::{json, Value};

use crate::client::Connection;
use crate::signed::json_call_async;
use crate::table;

#[derive(Subcommand)]
pub enum EventsCommand {
    /// Rules on the default bus, each with its state, pattern and targets.
    Rules {
        /// Only rules whose name starts with this.
        #[arg(long)]
        prefix: Option<String>,
    },
    /// One rule's targets, with what each receives.
    Targets {
        /// The rule's name.
        rule: String,
    },
    /// Whether an event matches a pattern, as the server decides (TestEventPattern).
    Test {
        /// The pattern: JSON text, or @FILE.
        #[arg(long)]
        pattern: String,
        /// The event: JSON text, or @FILE (a full envelope, as rules see it).
        #[arg(long)]
        event: String,
    },
    /// Events as the server emits them in the client's region (the last few, then new ones
    /// until interrupted).
    Tail {
        /// Only events this pattern matches (JSON text, or @FILE).
        #[arg(long)]
        pattern: Option<String>,
        /// How many past events to show first.
        #[arg(long, default_value_t = 10)]
        last: usize,
        /// Print each event's whole envelope (one JSON object per line).
        #[arg(long)]
        json: bool,
        /// Print the last events and exit instead of following new ones.
        #[arg(long)]
        no_follow: bool,
    },
}

/// JSON text given inline or as `@FILE`.
fn json_arg(arg: &str) -> anyhow::Result<String> {
    let text = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        None => arg.to_string(),
    };
    serde_json::from_str::<Value>(&text).with_context(|| format!("{arg} is not JSON"))?;
    Ok(text)
}

async fn call(conn: &Connection, operation: &str, input: Value) -> anyhow::Result<Value> {
    json_call_async(conn, "events", format!("AWSEvents.{operation}"), input).await
}

/// A target's one-line description of what it sends.
fn target_input(t: &Value) -> String {
    if let Some(input) = t["Input"].as_str() {
        return format!("Input {input}");
    }
    if let Some(path) = t["InputPath"].as_str() {
        return format!("InputPath {path}");
    }
    if let Some(template) = t["InputTransformer"]["InputTemplate"].as_str() {
        return format!("InputTransformer {template}");
    }
    "the whole event".into()
}

async fn targets_of(conn: &Connection, rule: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"Rule": rule});
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        let page = call(conn, "ListTargetsByRule", input).await?;
        out.extend(page["Targets"].as_array().cloned().unwrap_or_default());
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => return Ok(out),
        }
    }
}

/// Run an API-backed subcommand (`rules`, `targets`, `test`).
pub async fn run(conn: &Connection, command: EventsCommand) -> anyhow::Result<()> {
    match command {
        EventsCommand::Rules { prefix } => {
            let mut rows = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut input = json!({});
                if let Some(p) = &prefix {
                    input["NamePrefix"] = json!(p);
                }
                if let Some(t) = &token {
                    input["NextToken"] = json!(t);
                }
                let page = call(conn, "ListRules", input).await?;
                for rule in page["Rules"].as_array().cloned().unwrap_or_default() {
                    let name = rule["Name"].as_str().unwrap_or_default().to_string();
                    let targets = targets_of(conn, &name).await?;
                    let arns: Vec<&str> =
                        targets.iter().filter_map(|t| t["Arn"].as_str()).collect();
                    rows.push(vec![
                        name.clone(),
                        rule["State"].as_str().unwrap_or_default().to_string(),
                        rule["EventPattern"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        if arns.is_empty() {
                            "-".into()
                        } else {
                            arns.join(" ")
                        },
                    ]);
                }
                match page["NextToken"].as_str() {
                    Some(t) => token = Some(t.to_string()),
                    None => break,
                }
            }
            if rows.is_empty() {
                println!("no rules");
            } else {
                print!(
                    "{}",
                    table::render(&["RULE", "STATE", "PATTERN", "TARGETS"], &rows)
                );
            }
        }
        EventsCommand::Targets { rule } => {
            let targets = targets_of(conn, &rule).await?;
            if targets.is_empty() {
                println!("rule {rule} has no targets");
            }
            let rows: Vec<Vec<String>> = targets
                .iter()
                .map(|t| {
                    vec![
                        t["Id"].as_str().unwrap_or_default().to_string(),
                        t["Arn"].as_str().unwrap_or_default().to_string(),
                        target_input(t),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                print!("{}", table::render(&["ID", "ARN", "SENDS"], &rows));
            }
        }
        EventsCommand::Test { pattern, event } => {
            let input = json!({"EventPattern": json_arg(&pattern)?, "Event": json_arg(&event)?});
            let answer = call(conn, "TestEventPattern", input).await?;
            if answer["Result"].as_bool() == Some(true) {
                println!("matches");
            } else {
                println!("does not match");
                std::process::exit(1);
            }
        }
        EventsCommand::Tail { .. } => return tail(conn, command).await,
    }
    Ok(())
}

fn line(event: &Value, envelope: &Value) -> String {
    let time = envelope["time"].as_str().unwrap_or_default();
    let detail = &envelope["detail"];
    let mut facts = Vec::new();
    for key in [
        "status",
        "document-name",
        "instance-id",
        "command-id",
        "name",
        "operation",
        "Status",
        "AutomationExecutionId",
        "StepName",
        "window-id",
    ] {
        if let Some(v) = detail[key].as_str() {
            facts.push(format!("{key}={v}"));
        }
    }
    format!(
        "{time} {} [{}] {}",
        event["Region"].as_str().unwrap_or_default(),
        event["DetailType"].as_str().unwrap_or_default(),
        facts.join(" ")
    )
}

/// Events at most one `BosunEvents.ListEvents` call returns.
const MOST_PER_CALL: usize = 500;

/// One `BosunEvents.ListEvents` call: the events it returned and the `LastSeq` to go on from.
async fn list_events(conn: &Connection, input: Value) -> anyhow::Result<(Vec<Value>, i64)> {
    let answer = json_call_async(conn, "ssm", "BosunEvents.ListEvents".into(), input).await?;
    let events = answer["Events"].as_array().cloned().unwrap_or_default();
    Ok((events, answer["LastSeq"].as_i64().unwrap_or(0)))
}

/// `bosun events tail`: the last `last` events of the client's region, then new ones as the
/// server stores them (asked every half second; runs until interrupted), over the API
/// (`BosunEvents.ListEvents`, allowed by `bosun:ListEvents`), so no store access is needed.
pub async fn tail(conn: &Connection, command: EventsCommand) -> anyhow::Result<()> {
    let EventsCommand::Tail {
        pattern,
        last,
        json,
        no_follow,
    } = command
    else {
        unreachable!("only tail is handled here");
    };
    let mut input = json!({});
    if let Some(p) = pattern {
        input["EventPattern"] = json!(json_arg(&p)?);
    }
    let show = |event: &Value| {
        let text = event["Event"].as_str().unwrap_or_default();
        if json {
            println!("{text}");
        } else {
            let envelope: Value = serde_json::from_str(text).unwrap_or_default();
            println!("{}", line(event, &envelope));
        }
    };
    // The past: the latest `last` (at least one is asked for, to learn where the end is).
    let mut first = input.clone();
    first["MaxResults"] = json!(last.clamp(1, MOST_PER_CALL));
    let (events, mut after) = list_events(conn, first).await?;
    for event in events.iter().skip(events.len().saturating_sub(last)) {
        show(event);
    }
    if no_follow {
        return Ok(());
    }
    loop {
        use std::io::Write;
        std::io::stdout().flush()?;
        let mut next = input.clone();
        next["AfterSeq"] = json!(after);
        next["MaxResults"] = json!(MOST_PER_CALL);
        let (events, last_seq) = list_events(conn, next).await?;
        for event in &events {
            show(event);
        }
        if last_seq == after {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        after = last_seq;
    }
}
