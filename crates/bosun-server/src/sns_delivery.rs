//! Sends SNS deliveries in the background: to http/https subscribers, subscription
//! confirmations and notifications in AWS's JSON body with AWS's `x-amz-sns-*` headers; to
//! `email`/`email-json` subscribers, mails through the SMTP relay ([`crate::sns_mail`]).
//!
//! Deliveries are rows written with what caused them ([`bosun_store::TopicStore`]), so a
//! restart loses none. Each pass leases due rows to this replica (never to two replicas at
//! once), posts them with bounded timeouts, deletes a row once its endpoint answered 2xx, and
//! otherwise schedules a retry after AWS's default http policy (3 retries, 20 s apart, linear)
//! or, for mail, AWS's SMTP policy ([`bosun_core::sns_email::retry_delay_ms`], 50 attempts
//! over about six hours); a row whose retries are used up stays as a failed (dead-letter) record. A notification is
//! only ever posted to a confirmed subscription. Before a notification is sent, its
//! subscription's filter policy, grouping ([`crate::sns_group`]), then rate limit and dedupe
//! ([`crate::sns_limits`]) apply.
//!
//! Messages are not signed: `Signature`, `SignatureVersion` and `SigningCertURL` are left
//! out (README, "Known differences").

use std::sync::Arc;
use std::time::Duration;

use bosun_store::{DeliveryRecord, SubscriptionRecord, CONFIRMATION};
use serde_json::{json, Map, Value};
use tokio::sync::Notify;

use crate::api::sns::{subscription_arn, topic_arn, urls};
use crate::delivery_template::DeliveryTemplate;
use crate::sns_group::Grouped;
use crate::state::{now_ms, AppState};

/// Woken when a delivery was written, so it goes out without waiting for the next tick.
static WAKE: Notify = Notify::const_new();
/// AWS's default http/https retry policy: 3 retries, 20 s apart.
const RETRIES: i64 = 3;
const RETRY_DELAY_MS: i64 = 20_000;
/// One attempt's bounds: connecting, and the whole exchange.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// A lease outlives an attempt comfortably, so a row is never sent twice at once.
const LEASE_MS: i64 = 60_000;
const BATCH: usize = 32;
const TICK: Duration = Duration::from_secs(1);

/// Ask the delivery task to look for due deliveries now.
pub fn wake() {
    WAKE.notify_one();
}

/// Deliver until the task is aborted.
pub async fn run(state: Arc<AppState>) {
    let agent = http_agent();
    loop {
        let s = state.clone();
        let owner = state.replica.id.clone();
        let claimed = tokio::task::spawn_blocking(move || {
            let now = now_ms();
            crate::sns_limits::prune_now_and_then(&s, now);
            s.store.claim_deliveries(&owner, now, now + LEASE_MS, BATCH)
        })
        .await;
        let batch = match claimed {
            Ok(Ok(batch)) => batch,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "could not claim SNS deliveries");
                Vec::new()
            }
            Err(e) => {
                tracing::error!(error = %e, "claiming SNS deliveries panicked");
                Vec::new()
            }
        };
        let full = batch.len() == BATCH;
        let sends: Vec<_> = batch
            .into_iter()
            .map(|d| {
                let (state, agent) = (state.clone(), agent.clone());
                tokio::task::spawn_blocking(move || deliver(&state, &agent, d))
            })
            .collect();
        for send in sends {
            if let Err(e) = send.await {
                tracing::error!(error = %e, "an SNS delivery panicked");
            }
        }
        if !full {
            let _ = tokio::time::timeout(TICK, WAKE.notified()).await;
        }
    }
}

fn http_agent() -> ureq::Agent {
    use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::from(system_roots()))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_global(Some(ATTEMPT_TIMEOUT))
        .build()
        .new_agent()
}

/// The system's trusted CAs, for https endpoints.
fn system_roots() -> Vec<ureq::tls::Certificate<'static>> {
    for path in [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ] {
        if let Ok(pem) = std::fs::read(path) {
            return rustls_pemfile::certs(&mut pem.as_slice())
                .filter_map(Result::ok)
                .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                .collect();
        }
    }
    Vec::new()
}

/// One attempt at one delivery, and its outcome written back.
fn deliver(state: &Arc<AppState>, agent: &ureq::Agent, d: DeliveryRecord) {
    let owner = &state.replica.id;
    let sub = match state.store.get_subscription(&d.region, &d.subscription_id) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "could not read an SNS subscription");
            return;
        }
    };
    let send = match &sub {
        // Never to an unconfirmed endpoint, and no second confirmation to a confirmed one.
        Some(s) => (d.kind == CONFIRMATION) != s.confirmed,
        None => false,
    };
    let mail = sub
        .as_ref()
        .is_some_and(|s| crate::sns_mail::is_mail(&s.protocol));
    let template = sub
        .as_ref()
        .and_then(|s| DeliveryTemplate::parse(&s.delivery_template));
    // A subscription's FilterPolicy: a notification it does not pass is never sent (and its
    // row goes, as if SNS had not fanned it out to this subscription).
    let filter = template
        .as_ref()
        .and_then(|t| t.filter().ok().flatten())
        .filter(|_| d.kind != CONFIRMATION);
    if let Some(f) = &filter {
        if send && !passes(f, &d) {
            if let Err(e) = state.store.finish_delivery(&d.delivery_id, owner) {
                tracing::error!(error = %e, delivery = %d.delivery_id, "could not drop a filtered SNS delivery");
            }
            return;
        }
    }
    // A grouping subscription's notification waits for its burst, then goes with it.
    let mut group = Vec::new();
    let sending = crate::sns_group::window_ms(template.as_ref(), &d)
        .map(|_| crate::sns_group::hold_subscription(&d.subscription_id));
    let _sending = sending
        .as_ref()
        .map(|lock| lock.lock().unwrap_or_else(|p| p.into_inner()));
    if let (Some(t), Some(window), true) = (
        &template,
        crate::sns_group::window_ms(template.as_ref(), &d),
        send,
    ) {
        let now = now_ms();
        match crate::sns_group::gather(state, t, window, &d, now, now + LEASE_MS) {
            Ok(Grouped::Hold(until)) => {
                if let Err(e) = state.store.postpone_delivery(&d.delivery_id, owner, until) {
                    tracing::error!(error = %e, delivery = %d.delivery_id, "could not hold a grouped SNS delivery");
                }
                return;
            }
            Ok(Grouped::Send(members)) if members.is_empty() => return,
            Ok(Grouped::Send(members)) => {
                for m in members
                    .iter()
                    .filter(|m| filter.as_ref().is_some_and(|f| !passes(f, m)))
                {
                    if let Err(e) = state.store.finish_delivery(&m.delivery_id, owner) {
                        tracing::error!(error = %e, delivery = %m.delivery_id, "could not drop a filtered SNS delivery");
                    }
                }
                group = members
                    .into_iter()
                    .filter(|m| filter.as_ref().is_none_or(|f| passes(f, m)))
                    .collect();
            }
            Err(e) => {
                tracing::error!(error = %e, delivery = %d.delivery_id, "could not gather a grouped SNS delivery");
                return;
            }
        }
    }
    let mut members: Vec<DeliveryRecord> = if group.is_empty() {
        vec![d.clone()]
    } else {
        group
    };
    // Then the subscription's rate limit and dedupe.
    if let (Some(t), true) = (&template, send && d.kind != CONFIRMATION) {
        match crate::sns_limits::apply(state, t, &d, members, now_ms()) {
            Ok(kept) if kept.is_empty() => return,
            Ok(kept) => members = kept,
            Err(e) => {
                // The lease runs out and the delivery is tried again.
                tracing::error!(error = %e, delivery = %d.delivery_id, "could not apply an SNS subscription's rate limit or dedupe");
                return;
            }
        }
    }
    let members = &members[..];
    let outcome = match (&sub, send) {
        (Some(s), true) if mail => crate::sns_mail::send(state, members, s),
        (Some(s), true) => post(state, agent, members, s),
        _ => Ok(()),
    };
    let written = match outcome {
        Ok(()) => members
            .iter()
            .try_for_each(|m| {
                state
                    .store
                    .finish_delivery(&m.delivery_id, owner)
                    .map(|_| ())
            })
            .map(|()| true),
        Err(why) => {
            // Stored with the delivery and logged: a basic-auth endpoint's password never is.
            let why = bosun_core::redact::mask_url_credentials(&why);
            let attempts = d.attempts + 1;
            let delay = if mail {
                bosun_core::sns_email::retry_delay_ms(attempts)
            } else {
                (attempts <= RETRIES).then_some(RETRY_DELAY_MS)
            };
            let next = delay.map(|ms| now_ms() + ms);
            if next.is_none() {
                tracing::warn!(delivery = %d.delivery_id, grouped = members.len(), endpoint = %sub.as_ref().map(|s| bosun_core::redact::mask_url_credentials(&s.endpoint)).unwrap_or_default(), %why, "SNS delivery failed after its retries; kept as a dead letter");
            } else {
                tracing::info!(delivery = %d.delivery_id, grouped = members.len(), %why, attempts, "SNS delivery attempt failed; will retry");
            }
            // The burst is retried as one: the other members go with the next attempt.
            members
                .iter()
                .try_for_each(|m| {
                    let written = match next {
                        Some(at) if m.delivery_id != d.delivery_id => {
                            state.store.postpone_delivery(&m.delivery_id, owner, at)
                        }
                        _ => state
                            .store
                            .retry_delivery(&m.delivery_id, owner, next, &why),
                    };
                    written.map(|_| ())
                })
                .map(|()| true)
        }
    };
    if let Err(e) = written {
        tracing::error!(error = %e, delivery = %d.delivery_id, "could not record an SNS delivery's outcome");
    }
}

/// Whether a notification passes a subscription's filter policy.
fn passes(filter: &bosun_core::sns_filter::FilterPolicy, d: &DeliveryRecord) -> bool {
    let attributes: Value = serde_json::from_str(&d.message_attributes).unwrap_or(json!({}));
    filter.matches(&d.message, &attributes)
}

/// POST one message to its endpoint; `Err` unless it answered 2xx.
fn post(
    state: &Arc<AppState>,
    agent: &ureq::Agent,
    members: &[DeliveryRecord],
    s: &SubscriptionRecord,
) -> Result<(), String> {
    let d = &members[0];
    let account = &state.config.account_id;
    let topic = topic_arn(&d.region, account, &d.topic_name);
    let sub_arn = subscription_arn(&d.region, account, &s.topic_name, &s.subscription_id);
    let raw = d.kind != CONFIRMATION && s.raw_message_delivery;
    // A template without a body changes nothing an http endpoint gets.
    let template = DeliveryTemplate::parse(&s.delivery_template).filter(|t| t.body.is_some());
    let (body, content_type) = if let Some(t) = &template {
        let subscribe_url =
            (d.kind == CONFIRMATION).then(|| urls::subscribe_url(&s.base_url, &topic, &s.token));
        let rendered = crate::delivery_template::render(
            state,
            t,
            d,
            crate::delivery_template::Target {
                topic_arn: &topic,
                subscribe_url,
                json: t.json_body(),
                group: if members.len() > 1 { members } else { &[] },
            },
        )?;
        (
            rendered.body.unwrap_or_default(),
            t.content_type().to_string(),
        )
    } else if raw {
        (d.message.clone(), "text/plain; charset=UTF-8".to_string())
    } else {
        (
            envelope(d, s, &topic, &sub_arn).to_string(),
            "text/plain; charset=UTF-8".to_string(),
        )
    };
    let mut request = agent
        .post(&s.endpoint)
        .header("content-type", &content_type)
        .header("user-agent", "Amazon Simple Notification Service Agent")
        .header("x-amz-sns-message-type", &d.kind)
        .header("x-amz-sns-message-id", &d.message_id)
        .header("x-amz-sns-topic-arn", &topic);
    if d.kind != CONFIRMATION {
        request = request.header("x-amz-sns-subscription-arn", &sub_arn);
    }
    if raw {
        request = request.header("x-amz-sns-rawdelivery", "true");
    }
    match request.send(body) {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("the endpoint answered {}", r.status())),
        Err(e) => Err(e.to_string()),
    }
}

/// AWS's JSON body of a confirmation or notification (also the body of `email-json` mails).
pub(crate) fn envelope(
    d: &DeliveryRecord,
    s: &SubscriptionRecord,
    topic: &str,
    sub_arn: &str,
) -> Value {
    let timestamp = jiff::Timestamp::from_millisecond(d.created_ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default();
    let mut body = Map::new();
    body.insert("Type".into(), json!(d.kind));
    body.insert("MessageId".into(), json!(d.message_id));
    if d.kind == CONFIRMATION {
        body.insert("Token".into(), json!(s.token));
        body.insert("TopicArn".into(), json!(topic));
        body.insert("Message".into(), json!(d.message));
        body.insert(
            "SubscribeURL".into(),
            json!(urls::subscribe_url(&s.base_url, topic, &s.token)),
        );
        body.insert("Timestamp".into(), json!(timestamp));
    } else {
        body.insert("TopicArn".into(), json!(topic));
        if let Some(subject) = &d.subject {
            body.insert("Subject".into(), json!(subject));
        }
        body.insert("Message".into(), json!(d.message));
        body.insert("Timestamp".into(), json!(timestamp));
        body.insert(
            "UnsubscribeURL".into(),
            json!(urls::unsubscribe_url(&s.base_url, sub_arn)),
        );
        let attributes: Value = serde_json::from_str(&d.message_attributes).unwrap_or(json!({}));
        if attributes.as_object().is_some_and(|a| !a.is_empty()) {
            body.insert("MessageAttributes".into(), attributes);
        }
    }
    Value::Object(body)
}
