//! Templates of SNS subscriptions: Bosun's `BosunTemplate*` subscription attributes (an
//! extension: AWS's SNS mail and http bodies cannot be customised), rendered with Jinja syntax
//! (minijinja).
//!
//! - `BosunTemplateBody`: the body. On an `email` subscription it replaces AWS's whole mail
//!   text, footer and unsubscribe link included (a reader of a team list who follows that link
//!   unsubscribes the whole list). On an `http`/`https` subscription it replaces AWS's JSON
//!   document (a Slack or Teams webhook takes its own JSON): values are written as JSON
//!   (`{"text": {{ message }}}` is valid JSON whatever the message holds) unless the content
//!   type is not JSON; the subscription's confirmation is rendered with it too, with
//!   `confirmation` true and `subscribe_url` set, so the channel's people can confirm it.
//! - `BosunTemplateSubject` (`email`): the subject (one line).
//! - `BosunTemplateTimeZone`: the IANA zone `datetimeformat` converts to unless told otherwise
//!   (`Asia/Tokyo` shows JST); default UTC.
//! - `BosunTemplateCharset` (`email`): `UTF-8` (default) or `ISO-2022-JP`.
//! - `BosunTemplateContentType` (`http`/`https`): default `application/json`.
//!
//! What a template sees: `message` (the published text), `subject` (the published subject or
//! none), `event` (the message parsed as JSON when it is an object — an EventBridge event
//! delivered by a rule), `topic_arn`, `message_id`, `timestamp` (the publication time, ISO
//! 8601), `confirmation`, `subscribe_url`. `parameter("/name")` (also `name:3`, `name:label`)
//! reads a Parameter Store `String` or `StringList`, and `{% include "ssm:/name" %}` renders a
//! template kept in one: both as the principal who last set the subscription's template, who
//! must be allowed `ssm:GetParameter` on it. SecureStrings are never rendered. Undefined
//! values are errors (nothing is sent half-rendered; the delivery fails with the reason and is
//! retried, then kept as a dead letter), and each rendering has a bounded amount of work.

use std::sync::Arc;

use bosun_core::sns_limits::{DEDUPE_BY, DEDUPE_WINDOW, RATE_LIMIT_COUNT, RATE_LIMIT_WINDOW};
use bosun_store::prelude::*;
use bosun_store::{DeliveryRecord, ParameterVersion};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};

use crate::state::AppState;

/// Settable attribute names.
pub const SUBJECT: &str = "BosunTemplateSubject";
pub const BODY: &str = "BosunTemplateBody";
pub const TIME_ZONE: &str = "BosunTemplateTimeZone";
pub const CHARSET: &str = "BosunTemplateCharset";
pub const CONTENT_TYPE: &str = "BosunTemplateContentType";
pub const GROUP_WINDOW: &str = "BosunGroupWindowSeconds";
pub const GROUP_BY: &str = "BosunGroupBy";
pub const ATTRIBUTES: &[&str] = &[
    SUBJECT,
    BODY,
    TIME_ZONE,
    CHARSET,
    CONTENT_TYPE,
    GROUP_WINDOW,
    GROUP_BY,
    RATE_LIMIT_COUNT,
    RATE_LIMIT_WINDOW,
    DEDUPE_WINDOW,
    DEDUPE_BY,
];
/// Bounds of `BosunGroupWindowSeconds`.
const GROUP_WINDOW_SECONDS: std::ops::RangeInclusive<u32> = 1..=3600;

/// The attributes a subscription of `protocol` takes.
pub fn attributes_of(protocol: &str) -> &'static [&'static str] {
    match protocol {
        "email" => &[
            SUBJECT,
            BODY,
            TIME_ZONE,
            CHARSET,
            GROUP_WINDOW,
            GROUP_BY,
            RATE_LIMIT_COUNT,
            RATE_LIMIT_WINDOW,
            DEDUPE_WINDOW,
            DEDUPE_BY,
        ],
        "http" | "https" => &[
            BODY,
            TIME_ZONE,
            CONTENT_TYPE,
            GROUP_WINDOW,
            GROUP_BY,
            RATE_LIMIT_COUNT,
            RATE_LIMIT_WINDOW,
            DEDUPE_WINDOW,
            DEDUPE_BY,
        ],
        _ => &[],
    }
}

/// Upper bound of a template's work per rendering (minijinja fuel units).
const FUEL: u64 = 200_000;
/// Longest template text accepted, in bytes.
const MAX_TEMPLATE_BYTES: usize = 64 * 1024;

/// A subscription's template, as stored (JSON text in `SubscriptionRecord::delivery_template`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryTemplate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset: Option<Charset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Notifications within this many seconds of a burst's first go out as one message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_window_seconds: Option<u32>,
    /// A JSONPath into each event: only notifications with the same value are grouped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// Bosun's rate limit and dedupe ([`bosun_core::sns_limits`], applied by
    /// [`crate::sns_limits`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_window_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe_window_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe_by: Option<String>,
    /// SNS's `FilterPolicy` (an AWS attribute kept with the subscription's other delivery
    /// settings) and its `FilterPolicyScope`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_policy_scope: Option<String>,
    /// Whom `parameter()` and `ssm:` includes read as: who last changed the template.
    #[serde(default)]
    pub owner: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Charset {
    #[serde(rename = "UTF-8")]
    Utf8,
    #[serde(rename = "ISO-2022-JP")]
    Iso2022Jp,
}

impl Charset {
    pub fn as_str(self) -> &'static str {
        match self {
            Charset::Utf8 => "UTF-8",
            Charset::Iso2022Jp => "ISO-2022-JP",
        }
    }
}

impl DeliveryTemplate {
    /// The stored form; `None` (or unreadable text) is no template.
    pub fn parse(stored: &str) -> Option<DeliveryTemplate> {
        if stored.is_empty() {
            return None;
        }
        serde_json::from_str(stored).ok()
    }

    pub fn to_stored(&self) -> String {
        if self.subject.is_none()
            && self.body.is_none()
            && self.time_zone.is_none()
            && self.charset.is_none()
            && self.content_type.is_none()
            && self.group_window_seconds.is_none()
            && self.group_by.is_none()
            && self.limits() == bosun_core::sns_limits::Limits::default()
            && self.filter_policy.is_none()
            && self.filter_policy_scope.is_none()
        {
            return String::new();
        }
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Change one attribute (an empty value removes it), checking the value; `Err` says why
    /// in SNS's `Attributes Reason` words.
    pub fn set(&mut self, attribute: &str, value: &str, owner: &str) -> Result<(), String> {
        if bosun_core::sns_limits::ATTRIBUTES.contains(&attribute) {
            // Limits read nothing: the template's owner stays.
            return self.set_limit(attribute, value);
        }
        let value = (!value.is_empty()).then(|| value.to_string());
        match attribute {
            SUBJECT | BODY => {
                if let Some(text) = &value {
                    check_template(text).map_err(|e| format!("{attribute}: {e}"))?;
                }
                if attribute == SUBJECT {
                    self.subject = value;
                } else {
                    self.body = value;
                }
            }
            TIME_ZONE => {
                if let Some(tz) = &value {
                    jiff::tz::TimeZone::get(tz).map_err(|_| {
                        format!("{TIME_ZONE}: Invalid value [{tz}]. Must be an IANA time zone name such as Asia/Tokyo or UTC.")
                    })?;
                }
                self.time_zone = value;
            }
            CHARSET => {
                self.charset = match value.as_deref().map(str::to_ascii_uppercase).as_deref() {
                    None => None,
                    Some("UTF-8") => Some(Charset::Utf8),
                    Some("ISO-2022-JP") => Some(Charset::Iso2022Jp),
                    Some(_) => {
                        return Err(format!(
                            "{CHARSET}: Invalid value [{}]. Must be UTF-8 or ISO-2022-JP.",
                            value.unwrap_or_default()
                        ))
                    }
                };
            }
            CONTENT_TYPE => {
                if let Some(ct) = &value {
                    let plain = ct.split(';').next().unwrap_or("").trim();
                    let valid = plain.split_once('/').is_some_and(|(a, b)| {
                        !a.is_empty() && !b.is_empty() && !ct.contains(['\r', '\n'])
                    });
                    if !valid {
                        return Err(format!(
                            "{CONTENT_TYPE}: Invalid value [{ct}]. Must be a media type such as application/json."
                        ));
                    }
                }
                self.content_type = value;
            }
            GROUP_WINDOW => {
                self.group_window_seconds = match &value {
                    None => None,
                    Some(v) => Some(
                        v.parse::<u32>()
                            .ok()
                            .filter(|n| GROUP_WINDOW_SECONDS.contains(n))
                            .ok_or_else(|| {
                                format!("{GROUP_WINDOW}: Invalid value [{v}]. Must be a whole number of seconds from 1 to 3600.")
                            })?,
                    ),
                };
            }
            GROUP_BY => {
                if let Some(path) = &value {
                    bosun_core::automation::check_selector(path)
                        .map_err(|e| format!("{GROUP_BY}: Invalid value [{path}]: {e}"))?;
                }
                self.group_by = value;
            }
            other => return Err(format!("Unknown attribute name {other}")),
        }
        self.owner = owner.to_string();
        Ok(())
    }

    /// Change one rate-limit or dedupe attribute (an empty value removes it).
    fn set_limit(&mut self, attribute: &str, value: &str) -> Result<(), String> {
        use bosun_core::sns_limits::{check_dedupe_by, parse_number};
        let number = || {
            (!value.is_empty())
                .then(|| parse_number(attribute, value))
                .transpose()
        };
        match attribute {
            RATE_LIMIT_COUNT => self.rate_limit_count = number()?,
            RATE_LIMIT_WINDOW => self.rate_limit_window_seconds = number()?,
            DEDUPE_WINDOW => self.dedupe_window_seconds = number()?,
            DEDUPE_BY => {
                if !value.is_empty() {
                    check_dedupe_by(value)?;
                }
                self.dedupe_by = (!value.is_empty()).then(|| value.to_string());
            }
            other => return Err(format!("Unknown attribute name {other}")),
        }
        Ok(())
    }

    /// The subscription's rate limit and dedupe settings.
    pub fn limits(&self) -> bosun_core::sns_limits::Limits {
        bosun_core::sns_limits::Limits {
            rate_count: self.rate_limit_count,
            rate_window_seconds: self.rate_limit_window_seconds,
            dedupe_window_seconds: self.dedupe_window_seconds,
            dedupe_by: self.dedupe_by.clone(),
        }
    }

    /// The attributes as `GetSubscriptionAttributes` shows them.
    pub fn attributes(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(s) = &self.subject {
            out.push((SUBJECT, s.clone()));
        }
        if let Some(b) = &self.body {
            out.push((BODY, b.clone()));
        }
        if let Some(t) = &self.time_zone {
            out.push((TIME_ZONE, t.clone()));
        }
        if let Some(c) = self.charset {
            out.push((CHARSET, c.as_str().to_string()));
        }
        if let Some(c) = &self.content_type {
            out.push((CONTENT_TYPE, c.clone()));
        }
        if let Some(w) = self.group_window_seconds {
            out.push((GROUP_WINDOW, w.to_string()));
        }
        if let Some(g) = &self.group_by {
            out.push((GROUP_BY, g.clone()));
        }
        if let Some(rate) = self.limits().rate() {
            // The window in force, also when only the count was set.
            out.push((RATE_LIMIT_COUNT, rate.count.to_string()));
            out.push((RATE_LIMIT_WINDOW, rate.window_seconds.to_string()));
        }
        if let Some(w) = self.dedupe_window_seconds {
            out.push((DEDUPE_WINDOW, w.to_string()));
        }
        if let Some(d) = &self.dedupe_by {
            out.push((DEDUPE_BY, d.clone()));
        }
        if let Some(f) = &self.filter_policy {
            out.push(("FilterPolicy", f.clone()));
            out.push((
                "FilterPolicyScope",
                self.filter_policy_scope
                    .clone()
                    .unwrap_or_else(|| "MessageAttributes".into()),
            ));
        }
        out
    }

    /// Whether the settings fit together on a subscription of `protocol`.
    pub fn check_for(&self, protocol: &str) -> Result<(), String> {
        if self.group_window_seconds.is_some() && protocol != "email" && self.body.is_none() {
            return Err(format!(
                "{GROUP_WINDOW} on an {protocol} subscription needs {BODY}: AWS's JSON document carries one message"
            ));
        }
        if self.group_by.is_some() && self.group_window_seconds.is_none() {
            return Err(format!("{GROUP_BY} needs {GROUP_WINDOW}"));
        }
        self.limits().check()
    }

    /// Set `FilterPolicy` or `FilterPolicyScope` (an empty value removes it); `Err` in SNS's
    /// `Attributes Reason` words. The template's owner is not changed: a filter reads nothing.
    pub fn set_filter(&mut self, attribute: &str, value: &str) -> Result<(), String> {
        let value = (!value.trim().is_empty() && value.trim() != "{}").then(|| value.to_string());
        match attribute {
            "FilterPolicy" => self.filter_policy = value,
            "FilterPolicyScope" => {
                if let Some(v) = &value {
                    if bosun_core::sns_filter::Scope::parse(v).is_none() {
                        return Err(format!(
                            "FilterPolicyScope: Invalid value [{v}]. Please use either MessageBody or MessageAttributes"
                        ));
                    }
                }
                self.filter_policy_scope = value;
            }
            other => return Err(format!("Unknown attribute name {other}")),
        }
        self.filter().map(|_| ())
    }

    /// The compiled filter policy, if the subscription has one.
    pub fn filter(&self) -> Result<Option<bosun_core::sns_filter::FilterPolicy>, String> {
        let Some(policy) = &self.filter_policy else {
            return Ok(None);
        };
        let scope = self
            .filter_policy_scope
            .as_deref()
            .and_then(bosun_core::sns_filter::Scope::parse)
            .unwrap_or(bosun_core::sns_filter::Scope::MessageAttributes);
        bosun_core::sns_filter::FilterPolicy::parse(policy, scope)
            .map(Some)
            .map_err(|why| format!("FilterPolicy: {why}"))
    }

    /// The content type of a templated http body.
    pub fn content_type(&self) -> &str {
        self.content_type.as_deref().unwrap_or("application/json")
    }

    /// Whether values in a templated http body are written as JSON.
    pub fn json_body(&self) -> bool {
        let ct = self.content_type().to_ascii_lowercase();
        let plain = ct.split(';').next().unwrap_or("").trim().to_string();
        plain == "application/json" || plain.ends_with("+json")
    }
}

/// Whether `text` is a template Bosun can compile.
pub fn check_template(text: &str) -> Result<(), String> {
    if text.len() > MAX_TEMPLATE_BYTES {
        return Err(format!("template longer than {MAX_TEMPLATE_BYTES} bytes"));
    }
    let env = base_environment();
    env.template_from_str(text)
        .map(|_| ())
        .map_err(|e| format!("template error: {e}"))
}

fn base_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    minijinja_contrib::add_to_environment(&mut env);
    env
}

/// A rendered mail: `None` parts keep AWS's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// What a rendering is for.
pub struct Target<'a> {
    pub topic_arn: &'a str,
    /// A subscription's confirmation request: where to confirm it.
    pub subscribe_url: Option<String>,
    /// Write values as JSON (a JSON http body).
    pub json: bool,
    /// A grouped burst, oldest first (the delivery rendered is its first); empty: one message.
    pub group: &'a [DeliveryRecord],
}

/// What a template sees of one message.
fn message_value(d: &DeliveryRecord) -> Value {
    let event = serde_json::from_str::<serde_json::Value>(&d.message)
        .ok()
        .filter(serde_json::Value::is_object);
    Value::from(minijinja::value::Serde(serde_json::json!({
        "message": d.message,
        "subject": d.subject,
        "event": event,
        "message_id": d.message_id,
        "timestamp": timestamp_text(d.created_ms),
    })))
}

fn timestamp_text(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Render a delivery's subject and body with the subscription's template.
pub fn render(
    state: &Arc<AppState>,
    template: &DeliveryTemplate,
    delivery: &DeliveryRecord,
    target: Target<'_>,
) -> Result<Rendered, String> {
    let mut env = base_environment();
    if target.json {
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Json);
    }
    let reader = ParameterReader {
        state: state.clone(),
        region: delivery.region.clone(),
        owner: template.owner.clone(),
    };
    {
        let reader = reader.clone();
        env.add_function("parameter", move |name: String| {
            reader.read(&name).map_err(invalid)
        });
    }
    env.set_loader(move |name| match name.strip_prefix("ssm:") {
        Some(parameter) => reader.read(parameter).map(Some).map_err(invalid),
        None => Ok(None),
    });
    let event: Option<serde_json::Value> =
        serde_json::from_str::<serde_json::Value>(&delivery.message)
            .ok()
            .filter(serde_json::Value::is_object);
    let timestamp = timestamp_text(delivery.created_ms);
    let messages: Vec<Value> = if target.group.is_empty() {
        vec![message_value(delivery)]
    } else {
        target.group.iter().map(message_value).collect()
    };
    let ctx = minijinja::context! {
        message => delivery.message.clone(),
        subject => delivery.subject.clone(),
        event => event.map(|e| Value::from(minijinja::value::Serde(e))),
        topic_arn => target.topic_arn,
        confirmation => target.subscribe_url.is_some(),
        subscribe_url => target.subscribe_url.clone(),
        message_id => delivery.message_id.clone(),
        count => messages.len(),
        messages => messages,
        timestamp => timestamp,
        TIMEZONE => template.time_zone.clone().unwrap_or_else(|| "UTC".into()),
    };
    let one = |text: &Option<String>, what: &str| -> Result<Option<String>, String> {
        let Some(text) = text else { return Ok(None) };
        env.render_str(text, &ctx)
            .map(Some)
            .map_err(|e| format!("the {what} template failed to render: {}", describe(&e)))
    };
    let subject = one(&template.subject, "subject")?;
    let body = one(&template.body, "body")?;
    // A subject is one line.
    let subject = subject.map(|s| s.lines().map(str::trim).collect::<Vec<_>>().join(" "));
    Ok(Rendered { subject, body })
}

fn invalid(why: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, why)
}

/// An error with its causes (minijinja's own text names the template line).
fn describe(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Reads Parameter Store values for templates, as the template's owner.
#[derive(Clone)]
struct ParameterReader {
    state: Arc<AppState>,
    region: String,
    owner: String,
}

impl ParameterReader {
    fn read(&self, reference: &str) -> Result<String, String> {
        let state = &*self.state;
        let scope =
            bosun_core::arn::Scope::new(self.region.clone(), state.config.account_id.clone());
        let prefix = scope.ssm_arn("parameter/");
        let version = find(&*state.store, &self.region, &prefix, reference)?;
        let resource = crate::api::ops::parameter_resource(&scope, &version.name);
        crate::api::auth::authorize_user(state, &self.owner, "ssm:GetParameter", &resource)
            .map_err(|e| format!("{reference}: {}", e.message))?;
        if version.param_type == "SecureString" {
            return Err(format!(
                "{reference} is a SecureString: secrets are never put into mail"
            ));
        }
        Ok(version.value)
    }
}

fn find(
    store: &dyn Store,
    region: &str,
    arn_prefix: &str,
    reference: &str,
) -> Result<ParameterVersion, String> {
    crate::api::references::lookup_reference(store, region, arn_prefix, reference)
        .map_err(|e| format!("{reference}: could not read the parameter: {e:#}"))?
        .ok_or_else(|| format!("parameter {reference} does not exist"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_checked_kept_and_cleared() {
        let mut t = DeliveryTemplate::default();
        t.set(BODY, "{{ message }}", "alice").unwrap();
        t.set(TIME_ZONE, "Asia/Tokyo", "bob").unwrap();
        t.set(CHARSET, "iso-2022-jp", "bob").unwrap();
        assert_eq!(t.owner, "bob", "the last to change it");
        let stored = t.to_stored();
        assert_eq!(DeliveryTemplate::parse(&stored), Some(t.clone()));
        assert_eq!(
            t.attributes(),
            [
                (BODY, "{{ message }}".to_string()),
                (TIME_ZONE, "Asia/Tokyo".to_string()),
                (CHARSET, "ISO-2022-JP".to_string()),
            ]
        );
        assert!(t
            .set(BODY, "{% if %}", "bob")
            .unwrap_err()
            .starts_with("BosunTemplateBody: template error"));
        assert!(t.set(TIME_ZONE, "Mars/Olympus", "bob").is_err());
        assert!(t.set(CHARSET, "Shift_JIS", "bob").is_err());
        assert_eq!(
            DeliveryTemplate::parse(&t.to_stored()),
            Some(t.clone()),
            "refusals change nothing"
        );
        for a in [BODY, TIME_ZONE, CHARSET] {
            t.set(a, "", "bob").unwrap();
        }
        assert_eq!(t.to_stored(), "", "nothing left: AWS's mail again");
        assert_eq!(DeliveryTemplate::parse(""), None);
    }

    #[test]
    fn limits_are_checked_shown_and_change_no_owner() {
        let mut t = DeliveryTemplate::default();
        t.set(RATE_LIMIT_COUNT, "10", "alice").unwrap();
        t.set(DEDUPE_WINDOW, "300", "alice").unwrap();
        t.set(DEDUPE_BY, "$.detail.command-id", "alice").unwrap();
        assert_eq!(t.owner, "", "limits read no parameters");
        assert!(t.check_for("email").is_ok());
        assert_eq!(
            t.attributes(),
            [
                (RATE_LIMIT_COUNT, "10".to_string()),
                (RATE_LIMIT_WINDOW, "60".to_string()),
                (DEDUPE_WINDOW, "300".to_string()),
                (DEDUPE_BY, "$.detail.command-id".to_string()),
            ],
            "the default window shown"
        );
        assert_eq!(DeliveryTemplate::parse(&t.to_stored()), Some(t.clone()));
        assert!(t
            .set(RATE_LIMIT_WINDOW, "0", "bob")
            .unwrap_err()
            .starts_with("BosunRateLimitWindowSeconds: Invalid value [0]"));
        t.set(RATE_LIMIT_COUNT, "", "bob").unwrap();
        t.set(RATE_LIMIT_WINDOW, "30", "bob").unwrap();
        assert_eq!(
            t.check_for("email").unwrap_err(),
            "BosunRateLimitWindowSeconds needs BosunRateLimitCount"
        );
        for a in [RATE_LIMIT_WINDOW, DEDUPE_WINDOW, DEDUPE_BY] {
            t.set(a, "", "bob").unwrap();
        }
        assert_eq!(t.to_stored(), "", "no limits left");
        assert!(attributes_of("email-json").is_empty());
        assert!(attributes_of("https").contains(&DEDUPE_BY));
    }
}
