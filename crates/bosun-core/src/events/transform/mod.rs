//! What a rule's target receives for a matched event: the whole event, a constant `Input`, the
//! part at an `InputPath`, or an `InputTransformer` (`InputPathsMap` + `InputTemplate`).
//!
//! `TargetInput::new` checks a target's settings as PutTargets does; `render` builds the body
//! for one event. A body that is not JSON (AWS silently drops those) is an error here, so the
//! caller can record a visible delivery failure instead.

mod path;
mod template;

pub use path::JsonPath;

use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;
use template::Template;

/// At most this many `InputPathsMap` entries.
pub const MAX_INPUT_PATHS: usize = 100;

const RULE_ARN: &str = "aws.events.rule-arn";
const RULE_NAME: &str = "aws.events.rule-name";
const INGESTION_TIME: &str = "aws.events.event.ingestion-time";
const EVENT: &str = "aws.events.event";
const EVENT_JSON: &str = "aws.events.event.json";

/// Placeholders every template may use without declaring them.
pub const PREDEFINED_PLACEHOLDERS: &[&str] =
    &[RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON];

/// A target's input settings refused as PutTargets refuses them (`ValidationException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidTargetInput {
    pub message: String,
}

impl InvalidTargetInput {
    pub const CODE: &'static str = "ValidationException";

    fn new(message: String) -> Self {
        Self { message }
    }
}

/// Why an event could not be turned into a body for the target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UndeliverableInput {
    /// The transformed text is not JSON (AWS drops such events without a word).
    #[error("the transformed input is not valid JSON: {body}")]
    NotJson { body: String },
    /// `InputPath` reached nothing in the event.
    #[error("the InputPath {path} matched nothing in the event")]
    PathMatchedNothing { path: String },
}

/// The rule whose target is being fed, for the `aws.events.*` placeholders.
#[derive(Debug, Clone, Copy)]
pub struct RuleContext<'a> {
    pub rule_name: &'a str,
    pub rule_arn: &'a str,
    /// When EventBridge took the event in, as text (the caller's clock, not ours).
    pub ingestion_time: &'a str,
}

/// `InputTransformer`: named paths and a template.
#[derive(Debug, Clone, PartialEq)]
pub struct InputTransformer {
    paths: BTreeMap<String, JsonPath>,
    template: Template,
}

/// How a target's body is made.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetInput {
    /// No input setting: the whole event.
    WholeEvent,
    /// `Input`: this JSON text, whatever the event.
    Constant(String),
    /// `InputPath`: the part of the event at the path.
    Path {
        text: String,
        path: JsonPath,
    },
    Transformer(InputTransformer),
}

impl TargetInput {
    /// Checks one target's `Input`, `InputPath` and `InputTransformer` (paths map and
    /// template) as PutTargets does.
    pub fn new(
        target_id: &str,
        input: Option<&str>,
        input_path: Option<&str>,
        transformer: Option<(&BTreeMap<String, String>, &str)>,
    ) -> Result<Self, InvalidTargetInput> {
        let given = [input.is_some(), input_path.is_some(), transformer.is_some()];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(InvalidTargetInput::new(format!(
                "Only one of Input, InputPath, or InputTransformer must be provided for target {target_id}."
            )));
        }
        if let Some(text) = input {
            if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
                return Err(InvalidTargetInput::new(format!(
                    "Input for target {target_id} is not valid JSON."
                )));
            }
            return Ok(TargetInput::Constant(text.to_string()));
        }
        if let Some(text) = input_path {
            let path = JsonPath::parse(text).ok_or_else(|| {
                InvalidTargetInput::new(format!(
                    "InputPath for target {target_id} is not a valid JSON path: {text}."
                ))
            })?;
            return Ok(TargetInput::Path {
                text: text.to_string(),
                path,
            });
        }
        match transformer {
            Some((paths, template)) => Ok(TargetInput::Transformer(InputTransformer::new(
                target_id, paths, template,
            )?)),
            None => Ok(TargetInput::WholeEvent),
        }
    }

    /// The body the target receives for `event`.
    pub fn render(&self, event: &Value, rule: &RuleContext) -> Result<String, UndeliverableInput> {
        match self {
            TargetInput::WholeEvent => Ok(event.to_string()),
            TargetInput::Constant(text) => Ok(text.clone()),
            TargetInput::Path { text, path } => path
                .select(event)
                .map(|v| v.to_string())
                .ok_or_else(|| UndeliverableInput::PathMatchedNothing { path: text.clone() }),
            TargetInput::Transformer(t) => t.render(event, rule),
        }
    }
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl InputTransformer {
    /// Checks the paths map and the template's placeholders.
    pub fn new(
        target_id: &str,
        paths: &BTreeMap<String, String>,
        template: &str,
    ) -> Result<Self, InvalidTargetInput> {
        if paths.len() > MAX_INPUT_PATHS {
            return Err(InvalidTargetInput::new(format!(
                "InputPathsMap for target {target_id} has more than {MAX_INPUT_PATHS} entries."
            )));
        }
        let mut parsed = BTreeMap::new();
        for (key, path) in paths {
            if !valid_key(key) || key.starts_with("AWS") {
                return Err(InvalidTargetInput::new(format!(
                    "InputPathsMap for target {target_id} contains invalid key {key}."
                )));
            }
            let json_path = JsonPath::parse(path).ok_or_else(|| {
                InvalidTargetInput::new(format!(
                    "InputPathsMap for target {target_id} contains invalid JSON path {path}."
                ))
            })?;
            parsed.insert(key.clone(), json_path);
        }
        let template = Template::parse(template);
        for (name, quoted) in template.placeholders() {
            let known = parsed.contains_key(name) || PREDEFINED_PLACEHOLDERS.contains(&name);
            // The whole-event placeholders can only stand as JSON values, never inside quotes.
            let misplaced = quoted && (name == EVENT || name == EVENT_JSON);
            if !known || misplaced {
                return Err(InvalidTargetInput::new(format!(
                    "InputTemplate for target {target_id} contains invalid placeholder {name}."
                )));
            }
        }
        Ok(InputTransformer {
            paths: parsed,
            template,
        })
    }

    /// The transformed body for one event.
    pub fn render(&self, event: &Value, rule: &RuleContext) -> Result<String, UndeliverableInput> {
        let body = self.template.render(|name| match name {
            RULE_ARN => Some(Cow::Owned(Value::from(rule.rule_arn))),
            RULE_NAME => Some(Cow::Owned(Value::from(rule.rule_name))),
            INGESTION_TIME => Some(Cow::Owned(Value::from(rule.ingestion_time))),
            EVENT => Some(Cow::Owned(envelope_without_detail(event))),
            EVENT_JSON => Some(Cow::Borrowed(event)),
            _ => self.paths.get(name).and_then(|p| p.select(event)),
        });
        if template::is_deliverable(&body) {
            Ok(body)
        } else {
            Err(UndeliverableInput::NotJson { body })
        }
    }
}

/// `<aws.events.event>`: the envelope without `detail`, `detail-type` spelled `detailType`.
fn envelope_without_detail(event: &Value) -> Value {
    let Value::Object(fields) = event else {
        return Value::Object(Map::new());
    };
    let mut out = Map::new();
    for (key, value) in fields {
        match key.as_str() {
            "detail" => {}
            "detail-type" => {
                out.insert("detailType".into(), value.clone());
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests;
