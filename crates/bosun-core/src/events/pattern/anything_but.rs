//! `anything-but` values: a string or number, a list all of strings or all of numbers, or a
//! `prefix` / `suffix` / `wildcard` / `equals-ignore-case` form, with AWS's reasons for refusing
//! each malformed shape.

use super::compile::TOO_MANY_NUMERIC;
use super::json::Json;
use super::matcher::{Excluded, PatternNumber, ValueMatcher};
use super::wildcard::Wildcard;

type Reason = String;

const ANYTHING_BUT_SHAPE: &str =
    "Value of anything-but must be an array or single string/number value.";
const IGNORE_CASE_TYPES: &str =
    "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.";

pub(super) fn parse_anything_but(value: &Json) -> Result<ValueMatcher, Reason> {
    let (modifier, inner) = match value {
        Json::Obj(members) => {
            let Some((name, inner)) = members.first() else {
                return Err("Anything-But expression name not found".into());
            };
            if !["equals-ignore-case", "prefix", "suffix", "wildcard"].contains(&name.as_str()) {
                return Err(format!("Unsupported anything-but pattern: {name}"));
            }
            if !matches!(inner, Json::Arr(_) | Json::Str(_) | Json::Num(_)) {
                return Err(ANYTHING_BUT_SHAPE.into());
            }
            (Some(name.as_str()), inner)
        }
        Json::Arr(_) | Json::Str(_) | Json::Num(_) => (None, value),
        _ => return Err(ANYTHING_BUT_SHAPE.into()),
    };
    let excluded = match modifier {
        None => plain_exclusions(inner)?,
        Some(name) => modified_exclusions(name, inner)?,
    };
    if matches!(value, Json::Obj(members) if members.len() > 1) {
        return Err(TOO_MANY_NUMERIC.into());
    }
    Ok(ValueMatcher::AnythingBut(excluded))
}

/// `{"anything-but": "x"}`, `5`, or a list all of strings or all of numbers.
fn plain_exclusions(value: &Json) -> Result<Excluded, Reason> {
    match value {
        Json::Str(s) => Ok(Excluded::Strings(vec![s.clone()])),
        Json::Num(n) => Ok(Excluded::Numbers(vec![PatternNumber::new(n)])),
        Json::Arr(items) => {
            let mut strings = Vec::new();
            let mut numbers = Vec::new();
            for item in items {
                match item {
                    Json::Str(s) => strings.push(s.clone()),
                    Json::Num(n) => numbers.push(PatternNumber::new(n)),
                    _ => {
                        return Err(
                            "Inside anything but list, start|null|boolean is not supported.".into(),
                        )
                    }
                }
            }
            match (strings.is_empty(), numbers.is_empty()) {
                (false, true) => Ok(Excluded::Strings(strings)),
                (true, false) => Ok(Excluded::Numbers(numbers)),
                _ => Err("Inside anything but list, either all values are number or string, mixed type is not supported".into()),
            }
        }
        _ => Err(ANYTHING_BUT_SHAPE.into()),
    }
}

/// `{"anything-but": {"prefix" | "suffix" | "wildcard" | "equals-ignore-case": value or list}}`.
fn modified_exclusions(modifier: &str, value: &Json) -> Result<Excluded, Reason> {
    let single;
    let items: &[Json] = match value {
        Json::Arr(items) => items,
        other => {
            single = [other.clone()];
            &single
        }
    };
    let type_reason = match modifier {
        "equals-ignore-case" => IGNORE_CASE_TYPES,
        "wildcard" => "wildcard match pattern must be a string",
        _ => "prefix/suffix match pattern must be a string",
    };
    let mut texts = Vec::with_capacity(items.len());
    for item in items {
        let Json::Str(text) = item else {
            return Err(type_reason.into());
        };
        if (modifier == "prefix" || modifier == "suffix") && text.is_empty() {
            return Err("Null prefix/suffix not allowed".into());
        }
        texts.push(text.clone());
    }
    Ok(match modifier {
        "equals-ignore-case" => {
            Excluded::StringsIgnoringCase(texts.iter().map(|t| t.to_lowercase()).collect())
        }
        "prefix" => Excluded::Prefixes(texts),
        "suffix" => Excluded::Suffixes(texts),
        _ => Excluded::Wildcards(
            texts
                .iter()
                .map(|t| Wildcard::parse(t))
                .collect::<Result<_, _>>()?,
        ),
    })
}
