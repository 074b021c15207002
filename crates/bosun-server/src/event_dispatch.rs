//! Delivers the event outbox to EventBridge rules: each event, in `seq` order, is matched
//! against the enabled rules of its region, and every SNS topic target of a matching rule gets
//! the target's body (whole event, `Input`, `InputPath` or `InputTransformer`) as an SNS message.
//!
//! One step = up to [`BATCH`] events after the `rules` cursor: the messages they produce and
//! the cursor's move are written in one transaction (`TopicStore::publish_from_events`), so a
//! crash or a second replica never publishes an event twice and never skips one; the SNS
//! delivery task then posts the messages. A message's id is derived from (event, rule, target),
//! so it is the same whoever computes it. An event whose body cannot be made for a target (a
//! transformer producing non-JSON, an `InputPath` matching nothing) is a failed invocation of
//! that target only: logged and recorded with the event in the same transaction
//! (`RuleFailureStore`), listed and redriven through `BosunEvents`. The same loop drives the outbox's second consumer, command
//! notifications (`command_notify`); once both have caught up, it prunes events older than a
//! day.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bosun_core::events::pattern::EventPattern;
use bosun_core::events::rules::{rule_arn, target_kind, TargetKind};
use bosun_core::events::transform::RuleContext;
use bosun_store::{
    EventRuleRecord, EventTargetRecord, OutboxEvent, PublishedMessage, RuleTargetFailure, Store,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::api::events::target_input;
use crate::state::{now_ms, AppState};

/// The outbox consumer name of this dispatcher.
pub const CONSUMER: &str = "rules";
/// Events read per step.
const BATCH: usize = 200;
/// How often the outbox is looked at when it had nothing new.
const TICK: Duration = Duration::from_millis(500);
/// Dispatched events are kept this long (for `bosun events` and investigations), then pruned.
const RETENTION_MS: i64 = 24 * 60 * 60 * 1000;
/// How often an idle dispatcher prunes.
const PRUNE_EVERY_MS: i64 = 10 * 60 * 1000;

/// Dispatch until the task is aborted.
pub async fn run(state: Arc<AppState>) {
    let mut pruned_ms = 0;
    loop {
        let s = state.clone();
        // Both outbox consumers: the rules, then command notifications (`command_notify`).
        let steps =
            tokio::task::spawn_blocking(move || [step(&s), crate::command_notify::step(&s)]).await;
        // `Some(true)`: moved on, maybe more to do; `Some(false)`: caught up; `None`: failed.
        let moved = match steps {
            Ok(results) => {
                let mut moved = Some(false);
                for r in results {
                    match r {
                        Ok(m) => moved = moved.map(|before| before || m),
                        Err(e) => {
                            tracing::error!(error = %e, "event dispatch failed; retrying");
                            moved = None;
                        }
                    }
                }
                moved
            }
            Err(e) => {
                tracing::error!(error = %e, "event dispatch panicked; retrying");
                None
            }
        };
        if moved == Some(true) {
            crate::sns_delivery::wake();
            continue;
        }
        if moved == Some(false) && now_ms() - pruned_ms >= PRUNE_EVERY_MS {
            pruned_ms = now_ms();
            prune(&state).await;
        }
        tokio::time::sleep(TICK).await;
    }
}

/// Delete events older than the retention. Called only when both consumers have caught up, so
/// every event old enough to go has been dispatched (events are written when they happen).
async fn prune(state: &Arc<AppState>) {
    let s = state.clone();
    let pruned =
        tokio::task::spawn_blocking(move || s.store.prune_events_before(now_ms() - RETENTION_MS))
            .await;
    match pruned {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => tracing::debug!(events = n, "old dispatched events pruned"),
        Ok(Err(e)) => tracing::warn!(error = %e, "pruning old events failed"),
        Err(e) => tracing::warn!(error = %e, "pruning old events panicked"),
    }
}

/// One step; `true` when it moved the cursor (there may be more to do at once).
fn step(state: &AppState) -> anyhow::Result<bool> {
    let store = &*state.store;
    let from = store.event_cursor(CONSUMER)?;
    let events = store.events_after(from, BATCH)?;
    let Some(last) = events.last().map(|e| e.seq) else {
        return Ok(false);
    };
    let account = &state.config.account_id;
    let mut rules = RuleCache::default();
    let mut out = Dispatch::default();
    for event in &events {
        dispatch_event(store, &mut rules, account, event, &mut out)?;
    }
    let published =
        store.publish_from_events(CONSUMER, from, last, now_ms(), &out.messages, &out.failures)?;
    if published && !(out.messages.is_empty() && out.failures.is_empty()) {
        tracing::debug!(
            events = events.len(),
            messages = out.messages.len(),
            failures = out.failures.len(),
            "events dispatched"
        );
    }
    Ok(true)
}

/// Each region's enabled rules with their parsed patterns, read once per step.
#[derive(Default)]
struct RuleCache {
    by_region: HashMap<String, Vec<CompiledRule>>,
}

struct CompiledRule {
    rule: EventRuleRecord,
    pattern: Option<EventPattern>,
    targets: Vec<EventTargetRecord>,
}

impl RuleCache {
    fn region(&mut self, store: &dyn Store, region: &str) -> anyhow::Result<&[CompiledRule]> {
        if !self.by_region.contains_key(region) {
            let compiled = store
                .enabled_rules_with_targets(region)?
                .into_iter()
                .map(|(rule, targets)| {
                    let pattern = rule.event_pattern.as_deref().and_then(|text| {
                        EventPattern::parse(text)
                            .inspect_err(|e| {
                                tracing::warn!(rule = %rule.name, error = %e, "stored pattern no longer parses")
                            })
                            .ok()
                    });
                    CompiledRule {
                        rule,
                        pattern,
                        targets,
                    }
                })
                .collect();
            self.by_region.insert(region.to_string(), compiled);
        }
        Ok(&self.by_region[region])
    }
}

/// What one event produces: a message per target whose body was made, a failure record per
/// target whose body could not be.
#[derive(Default)]
struct Dispatch {
    messages: Vec<PublishedMessage>,
    failures: Vec<RuleTargetFailure>,
}

/// Match one event against its region's rules and make each matching rule's targets' bodies.
fn dispatch_event(
    store: &dyn Store,
    rules: &mut RuleCache,
    account: &str,
    event: &OutboxEvent,
    out: &mut Dispatch,
) -> anyhow::Result<()> {
    let envelope: Value = match serde_json::from_str(&event.envelope) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(seq = event.seq, error = %e, "outbox event is not JSON; skipped");
            return Ok(());
        }
    };
    let ingestion_time = envelope["time"].as_str().unwrap_or_default().to_string();
    for compiled in rules.region(store, &event.region)? {
        let Some(pattern) = &compiled.pattern else {
            continue;
        };
        if !pattern.matches(&envelope) {
            continue;
        }
        let name = &compiled.rule.name;
        let arn = rule_arn(&event.region, account, name);
        let context = RuleContext {
            rule_name: name,
            rule_arn: &arn,
            ingestion_time: &ingestion_time,
        };
        for target in &compiled.targets {
            match target_message(target, &envelope, &context, account, &event.event_id) {
                Ok(message) => out.messages.push(message),
                Err(why) => {
                    tracing::warn!(rule = %name, target = %target.target_id, seq = event.seq,
                        "event not delivered to the target: {why}; kept as a failed invocation");
                    let now = now_ms();
                    out.failures.push(RuleTargetFailure {
                        failure_id: message_id(&event.event_id, name, &target.target_id),
                        region: event.region.clone(),
                        rule_name: name.clone(),
                        target_id: target.target_id.clone(),
                        target_arn: target.arn.clone(),
                        event_id: event.event_id.clone(),
                        event_seq: event.seq,
                        envelope: event.envelope.clone(),
                        error: why,
                        attempts: 0,
                        created_ms: now,
                        updated_ms: now,
                    });
                }
            }
        }
    }
    Ok(())
}

/// The SNS message of one target for one event, or why it cannot be made. Used by the
/// dispatcher and by a redrive of a failed invocation (with the target as it is now).
pub fn target_message(
    target: &EventTargetRecord,
    envelope: &Value,
    context: &RuleContext,
    account: &str,
    event_id: &str,
) -> Result<PublishedMessage, String> {
    if target_kind(&target.arn) != Ok(TargetKind::SnsTopic) {
        return Err("the target is not an SNS topic".into());
    }
    // arn:aws:sns:<region>:<account>:<topic>
    let parts: Vec<&str> = target.arn.splitn(6, ':').collect();
    let (region, topic_account, topic) = (parts[3], parts[4], parts[5]);
    if topic_account != account {
        return Err("the topic belongs to another account".into());
    }
    let definition = serde_json::from_str::<Value>(&target.definition)
        .map_err(|_| "the stored target definition is not JSON".to_string())?;
    let input = target_input(&definition, &target.target_id)
        .map_err(|e| format!("the stored target input is invalid: {e:?}"))?;
    let body = input.render(envelope, context).map_err(|e| e.to_string())?;
    Ok(PublishedMessage {
        region: region.to_string(),
        topic_name: topic.to_string(),
        message_id: message_id(event_id, context.rule_name, &target.target_id),
        subject: None,
        message: body,
        message_attributes: "{}".into(),
        published_ms: now_ms(),
    })
}

/// The same id for the same (event, rule, target), whoever computes it.
pub fn message_id(event_id: &str, rule: &str, target: &str) -> String {
    let digest = Sha256::digest(format!("{event_id}\n{rule}\n{target}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bosun_core::ids::uuid_v4(bytes)
}
