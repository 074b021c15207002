//! `bosun notify test TOPIC`: publish a sample event to a topic now, through the API (SNS
//! `Publish`, so the caller needs `sns:Publish`), to see what its subscribers get: templates,
//! filter policies, grouping and delivery all apply as to a real event. The sample is a Run
//! Command invocation status change for a made-up command on a made-up node.

use anyhow::{bail, Context};
use bosun_core::events::envelope::{invocation_status_change, CommandFacts, Origin};
use serde_json::json;

use crate::client::Connection;
use crate::signed::{query_call, xml_field};

/// What the sample event says.
#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// The topic: its name or ARN.
    pub topic: String,
    /// The sample's invocation status.
    #[arg(long, default_value = "Failed")]
    pub status: String,
    /// The sample's document name.
    #[arg(long, default_value = "AWS-RunShellScript")]
    pub document: String,
    /// The sample's node id.
    #[arg(long, default_value = "mi-0123456789abcdef0")]
    pub node: String,
    /// The message's subject (email subscriptions without a subject template show it).
    #[arg(long, default_value = "Bosun test notification")]
    pub subject: String,
}

/// The topic's ARN: given, or found by name with `ListTopics`.
fn topic_arn(conn: &Connection, topic: &str) -> anyhow::Result<String> {
    if topic.starts_with("arn:") {
        return Ok(topic.to_string());
    }
    let mut token: Option<String> = None;
    loop {
        let mut params = vec![("Action", "ListTopics"), ("Version", "2010-03-31")];
        if let Some(t) = &token {
            params.push(("NextToken", t));
        }
        let xml = query_call(conn, "sns", &params)?;
        for part in xml.split("<TopicArn>").skip(1) {
            let arn = part.split("</TopicArn>").next().unwrap_or_default();
            if arn.rsplit(':').next() == Some(topic) {
                return Ok(arn.to_string());
            }
        }
        match xml_field(&xml, "NextToken") {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => bail!("no topic named {topic} in {}", conn.region),
        }
    }
}

/// Publish the sample (blocking).
pub fn run(conn: &Connection, args: &TestArgs) -> anyhow::Result<()> {
    let arn = topic_arn(conn, &args.topic)?;
    let account = arn.split(':').nth(4).unwrap_or_default().to_string();
    let now = jiff::Timestamp::now().as_millisecond();
    let (event_id, command_id) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4());
    let parameters = json!({});
    let event = invocation_status_change(
        Origin {
            account: &account,
            region: &conn.region,
            id: &event_id,
            now_ms: now,
        },
        &CommandFacts {
            command_id: &command_id.to_string(),
            document_name: &args.document,
            requested_ms: now,
            expires_ms: now + 3_600_000,
            parameters: &parameters,
        },
        &args.node,
        &args.status,
    );
    let message = event.envelope.to_string();
    let xml = query_call(
        conn,
        "sns",
        &[
            ("Action", "Publish"),
            ("Version", "2010-03-31"),
            ("TopicArn", &arn),
            ("Subject", &args.subject),
            ("Message", &message),
        ],
    )
    .with_context(|| format!("publishing to {arn}"))?;
    let id = xml_field(&xml, "MessageId").unwrap_or_default();
    println!(
        "published a sample {} event to {arn} (message {id})",
        args.status
    );
    println!(
        "every confirmed subscription receives it, with its template, filter policy and grouping"
    );
    Ok(())
}
