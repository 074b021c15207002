//! Request validation that reports problems the way AWS does: one `ValidationException`
//! message listing every failed constraint ("2 validation errors detected: Value … at '…' …").

use regex::Regex;

/// Collects constraint failures for one request.
#[derive(Debug, Default)]
pub struct Validation {
    errors: Vec<String>,
}

impl Validation {
    pub fn new() -> Self {
        Self::default()
    }

    fn fail(&mut self, value: Option<&str>, field: &str, constraint: &str) {
        let shown = match value {
            Some(v) => format!("Value '{v}'"),
            None => "Value null".to_string(),
        };
        self.errors.push(format!(
            "{shown} at '{field}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A required member that is absent.
    pub fn required<T>(&mut self, field: &str, value: Option<&T>) {
        if value.is_none() {
            self.fail(None, field, "Member must not be null");
        }
    }

    /// A string's length, counted in characters, must lie within `min..=max`.
    pub fn length(&mut self, field: &str, value: Option<&str>, min: usize, max: usize) {
        let Some(v) = value else { return };
        let n = v.chars().count();
        if n < min {
            self.fail(
                Some(v),
                field,
                &format!("Member must have length greater than or equal to {min}"),
            );
        } else if n > max {
            self.fail(
                Some(v),
                field,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// A number must lie within `min..=max`.
    pub fn range(&mut self, field: &str, value: Option<i64>, min: i64, max: i64) {
        let Some(v) = value else { return };
        let text = v.to_string();
        if v < min {
            self.fail(
                Some(&text),
                field,
                &format!("Member must have value greater than or equal to {min}"),
            );
        } else if v > max {
            self.fail(
                Some(&text),
                field,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    /// A string must match the model's regular expression (`pattern_text` is what AWS prints).
    pub fn pattern(&mut self, field: &str, value: Option<&str>, re: &Regex, pattern_text: &str) {
        let Some(v) = value else { return };
        if !re.is_match(v) {
            self.pattern_failed(field, v, pattern_text);
        }
    }

    /// Record a pattern failure found by a check other than a regex (e.g. a lookahead the
    /// `regex` crate does not support).
    pub fn pattern_failed(&mut self, field: &str, value: &str, pattern_text: &str) {
        self.fail(
            Some(value),
            field,
            &format!("Member must satisfy regular expression pattern: {pattern_text}"),
        );
    }

    /// A string must be one of an enum's values.
    pub fn one_of(&mut self, field: &str, value: Option<&str>, allowed: &[&str]) {
        let Some(v) = value else { return };
        if !allowed.contains(&v) {
            self.fail(
                Some(v),
                field,
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// A list's length must lie within `min..=max`.
    pub fn list_length(&mut self, field: &str, len: Option<usize>, min: usize, max: usize) {
        let Some(n) = len else { return };
        if n < min {
            self.fail(
                None,
                field,
                &format!("Member must have length greater than or equal to {min}"),
            );
        } else if n > max {
            self.fail(
                None,
                field,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok` when nothing failed, otherwise AWS's combined message.
    pub fn finish(self) -> Result<(), String> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(format!("1 validation error detected: {}", self.errors[0])),
            n => Err(format!(
                "{n} validation errors detected: {}",
                self.errors.join("; ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_error_reads_like_aws() {
        let mut v = Validation::new();
        v.range("maxResults", Some(3), 5, 50);
        assert_eq!(
            v.finish().unwrap_err(),
            "1 validation error detected: Value '3' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 5"
        );
    }

    #[test]
    fn several_errors_are_joined() {
        let mut v = Validation::new();
        v.required::<String>("iamRole", None);
        v.length("description", Some(&"x".repeat(300)), 0, 256);
        v.one_of(
            "resourceType",
            Some("Bogus"),
            &["Document", "ManagedInstance"],
        );
        let msg = v.finish().unwrap_err();
        assert!(msg.starts_with("3 validation errors detected: Value null at 'iamRole'"));
        assert!(msg.contains("Member must have length less than or equal to 256"));
        assert!(msg.contains("Member must satisfy enum value set: [Document, ManagedInstance]"));
    }

    #[test]
    fn valid_input_passes() {
        let mut v = Validation::new();
        let re = Regex::new("^[a-z]+$").unwrap();
        v.pattern("name", Some("abc"), &re, "^[a-z]+$");
        v.range("limit", Some(5), 1, 10);
        v.length("s", None, 1, 2);
        assert!(v.is_ok());
        assert!(v.finish().is_ok());
    }
}
