//! Tag rules shared by every taggable resource: key/value limits, reserved prefixes, counts.

use crate::validate::Validation;

/// At most this many tags per SSM resource.
pub const MAX_TAGS_PER_RESOURCE: usize = 50;

/// AWS's tag character class: letters, separators, numbers and `_.:/=+-@`.
fn tag_chars_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
}

/// Why a tag list was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum TagError {
    /// Field constraints (maps to `ValidationException`).
    Validation(String),
    /// A key uses the reserved `aws:` prefix (maps to `InvalidParameters`).
    Reserved(String),
}

/// Check keys and values of tags about to be stored.
pub fn check_tags(tags: &[(String, String)], field: &str) -> Result<(), TagError> {
    let mut v = Validation::new();
    for (i, (k, val)) in tags.iter().enumerate() {
        let kf = format!("{field}.{}.member.key", i + 1);
        let vf = format!("{field}.{}.member.value", i + 1);
        v.length(&kf, Some(k), 1, 128);
        v.length(&vf, Some(val), 0, 256);
        let pat = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$";
        if !tag_chars_ok(k) {
            v.pattern_failed(&kf, k, pat);
        }
        if !tag_chars_ok(val) {
            v.pattern_failed(&vf, val, pat);
        }
    }
    v.finish().map_err(TagError::Validation)?;
    if let Some((k, _)) = tags
        .iter()
        .find(|(k, _)| k.to_ascii_lowercase().starts_with("aws:"))
    {
        return Err(TagError::Reserved(format!(
            "Tag keys beginning with 'aws:' are reserved: {k}"
        )));
    }
    Ok(())
}

/// Merge `add` into `existing` (later values win), returning the new set sorted by key.
pub fn merge(existing: &[(String, String)], add: &[(String, String)]) -> Vec<(String, String)> {
    let mut map: std::collections::BTreeMap<String, String> = existing.iter().cloned().collect();
    for (k, v) in add {
        map.insert(k.clone(), v.clone());
    }
    map.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn accepts_ordinary_tags() {
        assert!(check_tags(&[t("env", "dev"), t("team name", "ops@x")], "tags").is_ok());
    }

    #[test]
    fn rejects_bad_tags() {
        assert!(matches!(
            check_tags(&[t("", "x")], "tags"),
            Err(TagError::Validation(_))
        ));
        assert!(matches!(
            check_tags(&[t("k", "a;b")], "tags"),
            Err(TagError::Validation(_))
        ));
        assert!(matches!(
            check_tags(&[t("aws:x", "1")], "tags"),
            Err(TagError::Reserved(_))
        ));
    }

    #[test]
    fn merge_overwrites_values() {
        let m = merge(&[t("a", "1"), t("b", "2")], &[t("b", "3"), t("c", "4")]);
        assert_eq!(m, vec![t("a", "1"), t("b", "3"), t("c", "4")]);
    }
}
