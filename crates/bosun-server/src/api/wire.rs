//! Serde helpers shared by the operation handlers: AWS JSON 1.1 timestamps and tags.

use serde::{Deserialize, Serialize};

/// AWS JSON 1.1 sends timestamps as epoch seconds (fractional).
pub fn epoch_seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// Convert a request timestamp (epoch seconds) to milliseconds.
pub fn millis_from_epoch_seconds(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

pub fn tags_to_pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect()
}

pub fn pairs_to_tags(pairs: &[(String, String)]) -> Vec<Tag> {
    pairs
        .iter()
        .map(|(k, v)| Tag {
            key: k.clone(),
            value: v.clone(),
        })
        .collect()
}
