//! Parameter version labels: which labels are valid, and the per-version limit.

/// Labels one version can carry.
pub const MAX_LABELS_PER_VERSION: usize = 10;

/// A label is 1–100 characters of letters, digits, `.`, `-`, `_`; it can't begin with a digit
/// or with `aws` / `ssm` (case-insensitive).
pub fn is_valid(label: &str) -> bool {
    let lower = label.to_ascii_lowercase();
    (1..=100).contains(&label.chars().count())
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && !label.starts_with(|c: char| c.is_ascii_digit())
        && !lower.starts_with("aws")
        && !lower.starts_with("ssm")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_rules() {
        assert!(is_valid("prod"));
        assert!(is_valid("Release-1.2_x"));
        assert!(!is_valid("1abc"));
        assert!(!is_valid("awsLabel"));
        assert!(!is_valid("SSM"));
        assert!(!is_valid("has space"));
        assert!(!is_valid("a/b"));
        assert!(!is_valid(""));
        assert!(!is_valid(&"x".repeat(101)));
    }
}
