//! `email` and `email-json` deliveries: one mail per confirmation or notification, through the
//! SMTP relay ([`crate::mailer`]), in AWS's shapes.
//!
//! - A confirmation mail has AWS's subject ("AWS Notification - Subscription Confirmation"),
//!   comes from "AWS Notifications", and carries the SubscribeURL on this server (the same link
//!   http subscribers get; following it confirms). `email-json` gets AWS's
//!   `SubscriptionConfirmation` JSON document as the body.
//! - A notification's subject is the published `Subject` or AWS's "AWS Notification Message";
//!   the From name is the topic's `DisplayName` (else "AWS Notifications"). `email` gets the
//!   message text with AWS's footer and UnsubscribeURL; `email-json` AWS's `Notification` JSON.
//!
//! The Message-ID is derived from the delivery, so a mail sent again after a crash between the
//! relay's acceptance and the row's deletion is recognisably the same mail.

use bosun_core::sns_email;
use bosun_store::{DeliveryRecord, SubscriptionRecord, CONFIRMATION};

use std::sync::Arc;

use crate::api::sns::{subscription_arn, topic_arn, urls};
use crate::delivery_template::{Charset, DeliveryTemplate};
use crate::mailer::Mail;
use crate::state::AppState;

/// Whether a subscription's protocol is delivered by mail.
pub fn is_mail(protocol: &str) -> bool {
    protocol == "email" || protocol == "email-json"
}

/// Mail one delivery, or a grouped burst (oldest first) as one mail; `Err` with the reason when
/// the relay did not accept it (or none is configured any more: the rows are retried, and
/// kept as dead letters in the end).
pub fn send(
    state: &Arc<AppState>,
    members: &[DeliveryRecord],
    s: &SubscriptionRecord,
) -> Result<(), String> {
    let d = &members[0];
    let Some(mailer) = &state.mailer else {
        return Err("no SMTP relay is configured (bosun server --smtp-host …)".into());
    };
    let account = &state.config.account_id;
    let topic = topic_arn(&d.region, account, &d.topic_name);
    let sub_arn = subscription_arn(&d.region, account, &s.topic_name, &s.subscription_id);
    let confirmation = d.kind == CONFIRMATION;
    // A notification to an `email` subscription with a template (never a confirmation, whose
    // text and link the endpoint's owner must see as AWS words them).
    let template = (!confirmation && s.protocol == "email")
        .then(|| DeliveryTemplate::parse(&s.delivery_template))
        .flatten();
    let rendered = match &template {
        Some(t) => Some(crate::delivery_template::render(
            state,
            t,
            d,
            crate::delivery_template::Target {
                topic_arn: &topic,
                subscribe_url: None,
                json: false,
                group: if members.len() > 1 { members } else { &[] },
            },
        )?),
        None => None,
    };
    let charset = template
        .as_ref()
        .and_then(|t| t.charset)
        .unwrap_or(Charset::Utf8);
    let body = if let Some(body) = rendered.as_ref().and_then(|r| r.body.clone()) {
        body
    } else if s.protocol == "email-json" {
        crate::sns_delivery::envelope(d, s, &topic, &sub_arn).to_string()
    } else if confirmation {
        sns_email::confirmation_text(&topic, &urls::subscribe_url(&s.base_url, &topic, &s.token))
    } else {
        // A burst without a template: the messages one after another, one footer.
        let text = members
            .iter()
            .map(|m| m.message.as_str())
            .collect::<Vec<_>>()
            .join("\n\n");
        sns_email::notification_text(&text, &urls::unsubscribe_url(&s.base_url, &sub_arn))
    };
    let display_name = if confirmation {
        String::new()
    } else {
        state
            .store
            .get_topic(&d.region, &d.topic_name)
            .map_err(|e| format!("could not read the topic: {e}"))?
            .map(|t| t.display_name)
            .unwrap_or_default()
    };
    let from_name = if display_name.is_empty() {
        sns_email::DEFAULT_FROM_NAME
    } else {
        &display_name
    };
    let subject = if confirmation {
        sns_email::CONFIRMATION_SUBJECT
    } else if let Some(subject) = rendered.as_ref().and_then(|r| r.subject.as_deref()) {
        subject
    } else {
        d.subject.as_deref().unwrap_or(sns_email::DEFAULT_SUBJECT)
    };
    mailer.send(Mail {
        from_name,
        to: &s.endpoint,
        subject,
        body,
        charset,
        message_id: format!("<{}.{}@bosun.sns>", d.message_id, d.subscription_id),
    })
}
