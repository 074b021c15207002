//! EventBridge event patterns: `EventPattern::parse` validates a pattern with AWS's
//! `InvalidEventPatternException` reasons and compiles it; `matches` tests events against it.
//!
//! The language: exact strings, numbers (compared by value), booleans and `null`; value lists
//! (any entry may match; an event array matches if any element does); `prefix` and `suffix`
//! (with `{"equals-ignore-case": …}`), `equals-ignore-case`, `wildcard`, `anything-but` (a
//! value, a list, or `prefix`/`suffix`/`wildcard`/`equals-ignore-case` forms), `numeric`
//! ranges, `exists`, `cidr` (IPv4/IPv6), and `$or`.

mod anything_but;
mod cidr;
mod compile;
mod event_match;
mod json;
mod matcher;
mod wildcard;

use serde_json::Value;
use std::str::FromStr;

/// The longest `EventPattern` PutRule accepts (botocore's model; AWS's quota page says 2048).
pub const MAX_PATTERN_LENGTH: usize = 4096;

/// A pattern AWS would refuse; `to_string()` is AWS's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Event pattern is not valid. Reason: {reason}")]
pub struct InvalidEventPattern {
    /// The text after `Reason: `.
    pub reason: String,
}

impl InvalidEventPattern {
    /// The AWS exception name.
    pub const CODE: &'static str = "InvalidEventPatternException";

    fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// A validated, compiled event pattern: compile once, match many events.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPattern {
    branches: Vec<compile::Branch>,
}

impl EventPattern {
    /// Parses and validates pattern text (surrounding whitespace is allowed).
    pub fn parse(text: &str) -> Result<Self, InvalidEventPattern> {
        let root = json::parse(text).map_err(|e| InvalidEventPattern::new(e.to_string()))?;
        let branches = compile::compile(&root).map_err(InvalidEventPattern::new)?;
        Ok(EventPattern { branches })
    }

    /// Whether the event (a JSON object) matches.
    pub fn matches(&self, event: &Value) -> bool {
        event_match::any_branch_matches(&self.branches, event)
    }
}

impl FromStr for EventPattern {
    type Err = InvalidEventPattern;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Whether `event` matches `pattern`.
pub fn matches(pattern: &EventPattern, event: &Value) -> bool {
    pattern.matches(event)
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
