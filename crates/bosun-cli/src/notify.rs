//! `bosun notify failed/redrive` (`notify test` is `notify_test.rs`): SNS deliveries whose
//! retries ran out (kept as failed records, never dropped) listed with why their last attempt
//! failed, and sent again, over the API (`BosunEvents.ListFailedDeliveries` and
//! `RedriveFailedDeliveries`, allowed by `bosun:<Operation>` on the topic), in the client's
//! region; the server sends redriven deliveries at once. Beside them, rule targets an event
//! could not be delivered to (`ListFailedInvocations`/`RedriveFailedInvocations`, on the rule):
//! a redrive makes the target's body again as the target is now.

use clap::Subcommand;
use serde_json::{json, Value};

use crate::client::Connection;
use crate::signed::json_call;
use crate::table;

#[derive(Subcommand)]
pub enum NotifyCommand {
    /// Publish a sample event to a topic now, to see what its subscribers get.
    Test(crate::notify_test::TestArgs),
    /// Deliveries whose retries ran out, and rule targets an event could not be delivered
    /// to, oldest first.
    Failed {
        /// Only this topic's deliveries (its name).
        #[arg(long, conflicts_with = "rule")]
        topic: Option<String>,
        /// Only this rule's failed invocations (its name).
        #[arg(long)]
        rule: Option<String>,
    },
    /// Send failed deliveries again (attempts counted from zero), and make failed rule
    /// invocations' bodies again with their targets as they are now.
    Redrive {
        /// Only this topic's deliveries (its name).
        #[arg(long, conflicts_with = "rule")]
        topic: Option<String>,
        /// Only this rule's failed invocations (its name).
        #[arg(long)]
        rule: Option<String>,
    },
}

fn when(seconds: f64) -> String {
    jiff::Timestamp::from_millisecond((seconds * 1000.0) as i64)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Run `command` against the server; blocks (call it off the async threads).
pub fn run(conn: &Connection, command: NotifyCommand) -> anyhow::Result<()> {
    let input = |topic: &Option<String>| match topic {
        Some(t) => json!({ "TopicName": t }),
        None => json!({}),
    };
    match command {
        NotifyCommand::Failed { topic, rule } => {
            if topic.is_none() {
                print_invocations(conn, &rule)?;
            }
            if rule.is_some() {
                return Ok(());
            }
            let answer = json_call(
                conn,
                "ssm",
                "BosunEvents.ListFailedDeliveries",
                &input(&topic),
            )?;
            let rows: Vec<Vec<String>> = answer["Deliveries"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|d| {
                    let topic = text(&d["TopicArn"]);
                    let mut excerpt: String = text(&d["Message"]).chars().take(60).collect();
                    if d["Message"]
                        .as_str()
                        .is_some_and(|m| m.chars().count() > 60)
                    {
                        excerpt.push('…');
                    }
                    vec![
                        when(d["PublishedTime"].as_f64().unwrap_or_default()),
                        topic.rsplit(':').next().unwrap_or_default().to_string(),
                        format!("{} {}", text(&d["Protocol"]), text(&d["Endpoint"])),
                        text(&d["Kind"]),
                        d["Attempts"].as_i64().unwrap_or_default().to_string(),
                        text(&d["LastError"]),
                        excerpt.replace('\n', " "),
                    ]
                })
                .collect();
            if rows.is_empty() {
                eprintln!("no failed deliveries");
                return Ok(());
            }
            print!(
                "{}",
                table::render(
                    &[
                        "PUBLISHED",
                        "TOPIC",
                        "ENDPOINT",
                        "KIND",
                        "ATTEMPTS",
                        "LAST ERROR",
                        "MESSAGE"
                    ],
                    &rows
                )
            );
        }
        NotifyCommand::Test(_) => unreachable!("notify test is notify_test.rs"),
        NotifyCommand::Redrive { topic, rule } => {
            if topic.is_none() {
                let input = match &rule {
                    Some(r) => json!({ "RuleName": r }),
                    None => json!({}),
                };
                let answer =
                    json_call(conn, "ssm", "BosunEvents.RedriveFailedInvocations", &input)?;
                let n = answer["Redriven"].as_i64().unwrap_or_default();
                let still = answer["StillFailing"].as_i64().unwrap_or_default();
                eprintln!("{n} failed rule invocations delivered, {still} still failing");
            }
            if rule.is_some() {
                return Ok(());
            }
            let answer = json_call(
                conn,
                "ssm",
                "BosunEvents.RedriveFailedDeliveries",
                &input(&topic),
            )?;
            let n = answer["Redriven"].as_i64().unwrap_or_default();
            eprintln!("{n} failed deliveries sent again");
        }
    }
    Ok(())
}

/// The rule targets an event could not be delivered to, as a table (nothing when none).
fn print_invocations(conn: &Connection, rule: &Option<String>) -> anyhow::Result<()> {
    let input = match rule {
        Some(r) => json!({ "RuleName": r }),
        None => json!({}),
    };
    let answer = json_call(conn, "ssm", "BosunEvents.ListFailedInvocations", &input)?;
    let rows: Vec<Vec<String>> = answer["Invocations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            vec![
                when(f["FailedTime"].as_f64().unwrap_or_default()),
                text(&f["RuleName"]),
                text(&f["TargetId"]),
                text(&f["DetailType"]),
                text(&f["EventId"]),
                f["Attempts"].as_i64().unwrap_or_default().to_string(),
                text(&f["Error"]),
            ]
        })
        .collect();
    if rows.is_empty() {
        eprintln!("no failed rule invocations");
        return Ok(());
    }
    print!(
        "{}",
        table::render(
            &[
                "FAILED",
                "RULE",
                "TARGET",
                "DETAIL TYPE",
                "EVENT",
                "REDRIVES",
                "ERROR"
            ],
            &rows
        )
    );
    Ok(())
}
