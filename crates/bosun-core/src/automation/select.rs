//! JSONPath selectors over responses, and property matching.

use serde_json::Value;

/// Evaluate a JSONPath selector (`$.a.b[0].c`, `$.a[*].b`, as AWS's outputs and
/// `PropertySelector` use) over a response.
pub fn select(value: &Value, selector: &str) -> Option<Value> {
    let _ = (value, selector);
    todo!()
}

/// Whether a `PropertySelector`'s value matches one of `DesiredValues` (as
/// `aws:assertAwsResourceProperty`/`aws:waitForAwsResourceProperty` compare them).
pub fn property_matches(selected: &Value, desired: &[String]) -> bool {
    let _ = (selected, desired);
    todo!()
}
