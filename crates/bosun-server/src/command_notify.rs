//! `SendCommand`'s `NotificationConfig`: a second consumer of the event outbox (cursor
//! [`CONSUMER`]) that turns the Run Command status-change events of commands that asked for
//! notifications into SNS messages on their topic, in AWS's notification format
//! (`bosun_core::command::notification`).
//!
//! Exactly once, as the EventBridge rules dispatcher: a step reads up to [`BATCH`] events after
//! its own cursor, and the messages they produce are written together with the cursor's move
//! (`TopicStore::publish_from_events`); a crash repeats the step from the old cursor, and a
//! second replica that computed the same step loses the compare-and-set and writes nothing. A
//! message's id is derived from the event id, so whoever computes it computes the same one.
//! The dispatcher's loop (`event_dispatch::run`) drives both consumers and prunes the outbox
//! only when both have caught up.

use std::collections::HashMap;

use bosun_core::command::notification::{
    command_message, invocation_message, NotifiedCommand, Scope, SUBJECT,
};
use bosun_core::events::envelope::{COMMAND_STATUS_CHANGE, INVOCATION_STATUS_CHANGE};
use bosun_store::{CommandRecord, OutboxEvent, PublishedMessage, Store};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::state::{now_ms, AppState};

/// The outbox consumer name of command notifications.
pub const CONSUMER: &str = "command-notifications";
/// Events read per step.
const BATCH: usize = 200;

/// One step; `true` when it moved the cursor (there may be more to do at once).
pub fn step(state: &AppState) -> anyhow::Result<bool> {
    let store = &*state.store;
    let from = store.event_cursor(CONSUMER)?;
    let events = store.events_after(from, BATCH)?;
    let Some(last) = events.last().map(|e| e.seq) else {
        return Ok(false);
    };
    let account = &state.config.account_id;
    let mut commands = HashMap::new();
    let mut messages = Vec::new();
    for event in &events {
        if let Some(m) = message_for(store, &mut commands, account, event)? {
            messages.push(m);
        }
    }
    let published = store.publish_from_events(CONSUMER, from, last, now_ms(), &messages, &[])?;
    if published && !messages.is_empty() {
        tracing::debug!(messages = messages.len(), "command notifications published");
    }
    Ok(true)
}

/// Commands read during one step, by (region, command id); `None`: no such command.
type CommandCache = HashMap<(String, String), Option<CommandRecord>>;

/// The notification one event produces, if its command asked for it.
fn message_for(
    store: &dyn Store,
    commands: &mut CommandCache,
    account: &str,
    event: &OutboxEvent,
) -> anyhow::Result<Option<PublishedMessage>> {
    let scope = match event.detail_type.as_str() {
        COMMAND_STATUS_CHANGE => Scope::Command,
        INVOCATION_STATUS_CHANGE => Scope::Invocation,
        _ => return Ok(None),
    };
    let Ok(envelope) = serde_json::from_str::<Value>(&event.envelope) else {
        return Ok(None);
    };
    let detail = &envelope["detail"];
    let text = |k: &str| detail[k].as_str().unwrap_or_default();
    let (command_id, status) = (text("command-id"), text("status"));
    let key = (event.region.clone(), command_id.to_string());
    if !commands.contains_key(&key) {
        let found = store.get_command(&event.region, command_id)?;
        commands.insert(key.clone(), found);
    }
    let Some(command) = &commands[&key] else {
        return Ok(None);
    };
    let Some(config) = command.notification.as_ref() else {
        return Ok(None);
    };
    if !config.wants(scope, status) {
        return Ok(None);
    }
    // arn:aws:sns:<region>:<account>:<topic>, checked when the command was sent.
    let parts: Vec<&str> = config.notification_arn.splitn(6, ':').collect();
    let [_, _, "sns", region, topic_account, topic] = parts[..] else {
        tracing::warn!(command = command_id, arn = %config.notification_arn, "notification ARN is not an SNS topic; skipped");
        return Ok(None);
    };
    if topic_account != account {
        tracing::warn!(
            command = command_id,
            "notification topic belongs to another account; skipped"
        );
        return Ok(None);
    }
    let echo: serde_json::Map<String, Value> =
        serde_json::from_str(&command.request_json).unwrap_or_default();
    let instance_ids: Vec<String> = echo
        .get("InstanceIds")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let echoed = |k: &str| echo.get(k).and_then(Value::as_str).unwrap_or_default();
    let facts = NotifiedCommand {
        command_id: &command.command_id,
        document_name: &command.document_name,
        requested_ms: command.requested_ms,
        expires_ms: command.expires_ms,
        instance_ids: &instance_ids,
        output_s3_bucket_name: echoed("OutputS3BucketName"),
        output_s3_key_prefix: echoed("OutputS3KeyPrefix"),
    };
    let body = match scope {
        Scope::Command => command_message(&facts, status, event.created_ms),
        Scope::Invocation => {
            invocation_message(&facts, text("instance-id"), status, event.created_ms)
        }
    };
    Ok(Some(PublishedMessage {
        region: region.to_string(),
        topic_name: topic.to_string(),
        message_id: message_id(&event.event_id),
        subject: SUBJECT.map(str::to_string),
        message: body.to_string(),
        message_attributes: "{}".into(),
        published_ms: now_ms(),
    }))
}

/// The same id for the same event, whoever computes it (distinct from the rules' ids).
fn message_id(event_id: &str) -> String {
    let digest = Sha256::digest(format!("{event_id}\ncommand-notification").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bosun_core::ids::uuid_v4(bytes)
}
