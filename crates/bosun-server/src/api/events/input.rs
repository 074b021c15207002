//! Reading EventBridge requests: typed members, the model's constraints in AWS's
//! `ValidationException` words, paging.

use std::sync::OnceLock;

use bosun_core::events::rules as ev;
use bosun_core::validate::Validation;
use regex::Regex;
use serde_json::Value;

use crate::api::error::ApiError;

/// The model's `EventBusNameOrArn` pattern, as AWS prints it.
const BUS_PATTERN: &str =
    r"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/\.\-_A-Za-z0-9]+";

fn bus_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(&format!("^(?:{BUS_PATTERN})$")).expect("the pattern compiles"))
}

fn name_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(&format!("^(?:{})$", ev::NAME_PATTERN)).expect("compiles"))
}

/// A string member (absent or null: `None`); another JSON type is a serialization error.
pub fn text<'a>(input: &'a Value, member: &str) -> Result<Option<&'a str>, ApiError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::serialization(format!(
            "{member} must be a string"
        ))),
    }
}

/// A required string member, checked with the other constraints by [`Checks`].
pub fn required<'a>(input: &'a Value, member: &str) -> Result<&'a str, ApiError> {
    text(input, member)?.ok_or_else(|| {
        ApiError::validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            path(member)
        ))
    })
}

/// A member's name in AWS's messages (first letter lower case).
fn path(member: &str) -> String {
    bosun_core::model::path_name(member)
}

/// The model's constraints on one request, collected into AWS's one message.
#[derive(Default)]
pub struct Checks(Validation);

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    /// A rule name or target id (`RuleName`/`TargetId`: 1 to 64, `[\.\-_A-Za-z0-9]+`).
    pub fn name(&mut self, member: &str, value: Option<&str>) -> &mut Self {
        let p = path(member);
        self.0.pattern(&p, value, name_regex(), ev::NAME_PATTERN);
        self.0.length(&p, value, 1, 64);
        self
    }

    pub fn length(
        &mut self,
        member: &str,
        value: Option<&str>,
        min: usize,
        max: usize,
    ) -> &mut Self {
        self.0.length(&path(member), value, min, max);
        self
    }

    /// `EventBusName` (a name or an ARN).
    pub fn bus(&mut self, input: &Value) -> &mut Self {
        let value = input.get("EventBusName").and_then(Value::as_str);
        self.0
            .pattern("eventBusName", value, bus_regex(), BUS_PATTERN);
        self.0.length("eventBusName", value, 1, 1600);
        self
    }

    /// `Limit` (1 to 100) and `NextToken` (1 to 2048).
    pub fn paging(&mut self, input: &Value) -> &mut Self {
        self.0
            .range("limit", input.get("Limit").and_then(Value::as_i64), 1, 100);
        self.0.length(
            "nextToken",
            input.get("NextToken").and_then(Value::as_str),
            1,
            2048,
        );
        self
    }

    pub fn list_length(&mut self, member: &str, len: usize, min: usize, max: usize) -> &mut Self {
        self.0.list_length(&path(member), Some(len), min, max);
        self
    }

    pub fn one_of(&mut self, member: &str, value: Option<&str>, allowed: &[&str]) -> &mut Self {
        self.0.one_of(&path(member), value, allowed);
        self
    }

    pub fn finish(self) -> Result<(), ApiError> {
        self.0.finish().map_err(ApiError::validation)
    }
}

/// `Limit` (default 100) and the cursor a `NextToken` carries.
pub fn paging(input: &Value) -> Result<(usize, Option<String>), ApiError> {
    let limit = input
        .get("Limit")
        .and_then(Value::as_u64)
        .map_or(100, |n| n as usize);
    let after = match text(input, "NextToken")? {
        None => None,
        Some(t) => Some(
            bosun_core::paging::decode_token(t)
                .ok_or_else(|| ApiError::validation("The NextToken provided is not valid."))?,
        ),
    };
    Ok((limit, after))
}

/// A `Tags` list (`[{Key, Value}]`) as pairs, checked: keys 1 to 128, values 0 to 256
/// characters, `aws:` reserved, at most [`ev::MAX_TAGS_PER_RULE`].
pub fn tag_list(v: Option<&Value>, member: &str) -> Result<Vec<(String, String)>, ApiError> {
    let Some(list) = v.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let items = list
        .as_array()
        .ok_or_else(|| ApiError::serialization(format!("{member} must be a list")))?;
    let mut checks = Validation::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let key = item.get("Key").and_then(Value::as_str);
        let value = item.get("Value").and_then(Value::as_str);
        let at = format!("{}.{}.member", path(member), i + 1);
        checks.required(&format!("{at}.key"), key.as_ref());
        checks.required(&format!("{at}.value"), value.as_ref());
        checks.length(&format!("{at}.key"), key, 1, 128);
        checks.length(&format!("{at}.value"), value, 0, 256);
        if let (Some(k), Some(v)) = (key, value) {
            out.push((k.to_string(), v.to_string()));
        }
    }
    checks.finish().map_err(ApiError::validation)?;
    if let Some((k, _)) = out.iter().find(|(k, _)| k.starts_with("aws:")) {
        return Err(ApiError::validation(format!(
            "Tag keys beginning with aws: are reserved for AWS use: {k}"
        )));
    }
    if out.len() > ev::MAX_TAGS_PER_RULE {
        return Err(super::limit_exceeded());
    }
    Ok(out)
}
