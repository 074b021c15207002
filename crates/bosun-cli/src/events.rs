//! `bosun events rules|targets|test|tail`: EventBridge rules and their targets over the API
//! (`AWSEvents.*`, signed for `events`), a pattern tried on an event by the server
//! (`TestEventPattern`), and a live view of the events the server emits, read from its event
//! outbox (the data directory, or `BOSUN_DATABASE`), as `bosun notify` reads deliveries.

use std::time::Duration;

use anyhow::Context;
use bosun_core::events::pattern::EventPattern;
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
    /// Events as the server emits them (the last few, then new ones until interrupted).
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
        /// Only this region (default: every region).
        #[arg(long = "only-region")]
        only_region: Option<String>,
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
        EventsCommand::Tail { .. } => unreachable!("tail reads the store: see tail()"),
    }
    Ok(())
}

fn line(event: &bosun_store::OutboxEvent, envelope: &Value) -> String {
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
        event.region,
        event.detail_type,
        facts.join(" ")
    )
}

/// `bosun events tail`: the last `last` events, then new ones as they are stored (the outbox is
/// read every half second; blocks until interrupted).
pub fn tail(store: &dyn bosun_store::Store, command: EventsCommand) -> anyhow::Result<()> {
    let EventsCommand::Tail {
        pattern,
        last,
        json,
        only_region,
    } = command
    else {
        unreachable!("only tail reads the store");
    };
    let pattern = match pattern {
        Some(p) => Some(
            json_arg(&p)?
                .parse::<EventPattern>()
                .map_err(|e| anyhow::anyhow!("the pattern is not valid: {e}"))?,
        ),
        None => None,
    };
    let wanted = |e: &bosun_store::OutboxEvent| -> Option<Value> {
        if only_region.as_ref().is_some_and(|r| *r != e.region) {
            return None;
        }
        let envelope: Value = serde_json::from_str(&e.envelope).ok()?;
        match &pattern {
            Some(p) if !p.matches(&envelope) => None,
            _ => Some(envelope),
        }
    };
    let show = |e: &bosun_store::OutboxEvent, envelope: &Value| {
        if json {
            println!("{}", e.envelope);
        } else {
            println!("{}", line(e, envelope));
        }
    };
    // The past: read through the outbox, keeping the last `last` wanted events.
    let mut after = 0;
    let mut recent: std::collections::VecDeque<(bosun_store::OutboxEvent, Value)> =
        Default::default();
    loop {
        let page = store.events_after(after, 500)?;
        let Some(newest) = page.last().map(|e| e.seq) else {
            break;
        };
        after = newest;
        for e in page {
            if let Some(envelope) = wanted(&e) {
                recent.push_back((e, envelope));
                if recent.len() > last {
                    recent.pop_front();
                }
            }
        }
    }
    for (e, envelope) in &recent {
        show(e, envelope);
    }
    loop {
        let page = store.events_after(after, 500)?;
        if page.is_empty() {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        }
        for e in page {
            after = e.seq;
            if let Some(envelope) = wanted(&e) {
                show(&e, &envelope);
            }
        }
        use std::io::Write;
        std::io::stdout().flush()?;
    }
}
