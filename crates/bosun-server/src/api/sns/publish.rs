//! `Publish` to a topic: the message, subject and message attributes are checked as AWS does,
//! then one delivery per confirmed subscription is written in one transaction before the
//! answer (so an answered publish is never lost); the delivery task posts them.

use bosun_store::PublishedMessage;
use serde_json::{json, Map, Value};

use super::{invalid, named_topic};
use crate::api::error::ApiError;
use crate::api::query;
use crate::api::Ctx;
use crate::state::random_bytes;

/// 256 KiB, AWS's message size limit (message and attributes together).
const MAX_MESSAGE_BYTES: usize = 262_144;

/// The text delivered to every subscriber: `Message`, or with `MessageStructure=json` its
/// `default` (Bosun sends one text to every subscriber, so per-protocol texts for the protocols
/// it delivers that differ from `default` are refused rather than half-honoured).
fn delivered_text(message: &str, structure: Option<&str>) -> Result<String, ApiError> {
    match structure {
        None | Some("") => Ok(message.to_string()),
        Some("json") => {
            let parsed: Map<String, Value> = serde_json::from_str(message).map_err(|_| {
                invalid("Invalid parameter: Message Structure - JSON message body failed to parse")
            })?;
            let Some(Value::String(default)) = parsed.get("default") else {
                return Err(invalid(
                    "Invalid parameter: Message Structure - No default entry in JSON message body",
                ));
            };
            for key in ["http", "https", "email", "email-json"] {
                if let Some(Value::String(text)) = parsed.get(key) {
                    if text != default {
                        return Err(invalid(format!(
                            "Invalid parameter: Message Reason: Bosun does not support a separate '{key}' message yet; put the text in 'default'"
                        )));
                    }
                }
            }
            Ok(default.clone())
        }
        Some(_) => Err(invalid("Invalid parameter: MessageStructure")),
    }
}

/// `MessageAttributes` as the JSON object notifications carry (`{"name": {"Type", "Value"}}`).
fn message_attributes(input: &Value) -> Result<(Value, usize), ApiError> {
    let mut out = Map::new();
    let mut size = 0;
    for (name, fields) in query::struct_map_field(input, "MessageAttributes") {
        let data_type = fields.get("DataType").map(String::as_str).unwrap_or("");
        let base = data_type.split('.').next().unwrap_or("");
        let value = match base {
            "String" | "Number" => fields.get("StringValue"),
            "Binary" => fields.get("BinaryValue"),
            _ => {
                return Err(invalid(format!(
                    "Invalid parameter: The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
                )))
            }
        };
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Err(invalid(format!(
                "Invalid parameter: The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{base}'."
            )));
        };
        size += name.len() + data_type.len() + value.len();
        out.insert(name, json!({ "Type": data_type, "Value": value }));
    }
    Ok((Value::Object(out), size))
}

pub fn publish(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    for other in ["TargetArn", "PhoneNumber"] {
        if query::field(&input, other).is_some() {
            return Err(invalid(format!(
                "Invalid parameter: {other} Reason: Bosun publishes to topics only (TopicArn)"
            )));
        }
    }
    if query::field(&input, "MessageGroupId").is_some()
        || query::field(&input, "MessageDeduplicationId").is_some()
    {
        return Err(invalid(
            "Invalid parameter: MessageGroupId Reason: The request includes MessageGroupId parameter that is not valid for this topic type",
        ));
    }
    let message = query::field(&input, "Message").unwrap_or("");
    if message.is_empty() {
        return Err(invalid("Invalid parameter: Empty message"));
    }
    let subject = query::field(&input, "Subject");
    if let Some(s) = subject {
        if s.is_empty() || s.chars().count() >= 100 || s.chars().any(char::is_control) {
            return Err(invalid("Invalid parameter: Subject"));
        }
    }
    let text = delivered_text(message, query::field(&input, "MessageStructure"))?;
    let (attributes, attributes_size) = message_attributes(&input)?;
    if message.len() + attributes_size > MAX_MESSAGE_BYTES {
        return Err(invalid("Invalid parameter: Message too long"));
    }
    let topic = named_topic(ctx, &input)?;
    let message_id = bosun_core::ids::uuid_v4(random_bytes());
    let published = PublishedMessage {
        region: ctx.region.clone(),
        topic_name: topic.name.clone(),
        message_id: message_id.clone(),
        subject: subject.map(str::to_string),
        message: text,
        message_attributes: attributes.to_string(),
        published_ms: ctx.now_ms,
    };
    match ctx.state.store.publish(&published)? {
        None => Err(super::topic_not_found()),
        Some(n) => {
            if n > 0 {
                crate::sns_delivery::wake();
            }
            Ok(json!({ "MessageId": message_id }))
        }
    }
}
