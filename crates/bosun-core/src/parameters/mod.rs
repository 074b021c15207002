//! Parameter Store rules with no IO: names and paths, selectors, labels, tiers and value sizes,
//! policies and their due times, and the `DescribeParameters`/`GetParametersByPath` filters.

pub mod filters;
pub mod key_ref;
pub mod labels;
pub mod name;
pub mod policies;

/// A request refused by a Parameter Store rule: the AWS exception name and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: &'static str,
    pub message: String,
}

impl Rejection {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", message)
    }
}

pub const TYPES: &[&str] = &["String", "StringList", "SecureString"];
pub const TIERS: &[&str] = &["Standard", "Advanced", "Intelligent-Tiering"];
/// Data types Bosun accepts (`aws:ec2:image` is checked for format only).
pub const DATA_TYPES: &[&str] = &["text", "aws:ec2:image"];
pub const DEFAULT_KEY_ALIAS: &str = "alias/aws/ssm";
/// Versions kept per parameter.
pub const MAX_VERSIONS: i64 = 100;
pub const MAX_STANDARD_PARAMETERS: i64 = 10_000;
pub const MAX_ADVANCED_PARAMETERS: i64 = 100_000;
pub const STANDARD_MAX_VALUE_BYTES: usize = 4096;
pub const ADVANCED_MAX_VALUE_BYTES: usize = 8192;

/// The tier a put ends up with. `requested` is the request's `Tier`, `existing` the current
/// version's tier (on overwrite). Intelligent-Tiering picks Advanced only when the value or
/// policies need it; an Advanced parameter never goes back to Standard.
pub fn resolve_tier(
    requested: Option<&str>,
    existing: Option<&str>,
    value_bytes: usize,
    has_policies: bool,
) -> Result<&'static str, Rejection> {
    let needs_advanced = value_bytes > STANDARD_MAX_VALUE_BYTES || has_policies;
    let was_advanced = existing == Some("Advanced");
    let tier = match requested {
        Some("Advanced") => "Advanced",
        Some("Standard") if was_advanced => {
            return Err(Rejection::validation(
                "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
            ))
        }
        Some("Standard") => "Standard",
        Some(_) | None if was_advanced => "Advanced",
        Some(_) if needs_advanced => "Advanced",
        Some(_) => "Standard",
        None => "Standard",
    };
    if value_bytes > ADVANCED_MAX_VALUE_BYTES {
        return Err(Rejection::validation(format!(
            "Parameter values are limited to {ADVANCED_MAX_VALUE_BYTES} bytes (advanced tier) and {STANDARD_MAX_VALUE_BYTES} bytes (standard tier); this value has {value_bytes} bytes."
        )));
    }
    if tier == "Standard" && value_bytes > STANDARD_MAX_VALUE_BYTES {
        return Err(Rejection::validation(format!(
            "Standard-tier parameter values are limited to {STANDARD_MAX_VALUE_BYTES} bytes; this value has {value_bytes} bytes. Use the Advanced tier for values up to {ADVANCED_MAX_VALUE_BYTES} bytes."
        )));
    }
    if tier == "Standard" && has_policies {
        return Err(Rejection::validation(
            "Parameter policies are supported only for parameters in the Advanced tier. Set Tier to Advanced or Intelligent-Tiering.",
        ));
    }
    Ok(tier)
}

/// Check a `DataType` and, for `aws:ec2:image`, the value's format (`ami-` + 8 or 17 hex).
pub fn check_data_type(data_type: &str, param_type: &str, value: &str) -> Result<(), Rejection> {
    if !DATA_TYPES.contains(&data_type) {
        return Err(Rejection::validation(format!(
            "The following data type is not supported: {data_type} (Data type names are all lowercase.)"
        )));
    }
    if data_type == "aws:ec2:image" {
        if param_type != "String" {
            return Err(Rejection::validation(
                "The aws:ec2:image data type is supported only for String parameters.",
            ));
        }
        let hex = value.strip_prefix("ami-").unwrap_or("");
        let ok = (hex.len() == 8 || hex.len() == 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !ok {
            return Err(Rejection::validation(format!(
                "The value {value} is not a valid image id for the aws:ec2:image data type (expected ami- followed by 8 or 17 hexadecimal characters)."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_size_policies_and_history() {
        assert_eq!(resolve_tier(None, None, 10, false), Ok("Standard"));
        assert_eq!(
            resolve_tier(None, Some("Advanced"), 10, false),
            Ok("Advanced")
        );
        assert_eq!(
            resolve_tier(Some("Intelligent-Tiering"), None, 5000, false),
            Ok("Advanced")
        );
        assert_eq!(
            resolve_tier(Some("Intelligent-Tiering"), None, 50, true),
            Ok("Advanced")
        );
        assert_eq!(
            resolve_tier(Some("Intelligent-Tiering"), None, 50, false),
            Ok("Standard")
        );
        assert!(resolve_tier(Some("Standard"), Some("Advanced"), 10, false).is_err());
        assert!(resolve_tier(Some("Standard"), None, 4097, false).is_err());
        assert_eq!(
            resolve_tier(Some("Standard"), None, 4096, false),
            Ok("Standard")
        );
        assert_eq!(
            resolve_tier(Some("Advanced"), None, 8192, false),
            Ok("Advanced")
        );
        assert!(resolve_tier(Some("Advanced"), None, 8193, false).is_err());
        assert!(resolve_tier(None, None, 10, true).is_err());
    }

    #[test]
    fn image_ids_are_checked_for_format() {
        assert!(check_data_type("aws:ec2:image", "String", "ami-12345678").is_ok());
        assert!(check_data_type("aws:ec2:image", "String", "ami-0123456789abcdef0").is_ok());
        assert!(check_data_type("aws:ec2:image", "String", "ami-xyz").is_err());
        assert!(check_data_type("aws:ec2:image", "SecureString", "ami-12345678").is_err());
        assert!(check_data_type("json", "String", "{}").is_err());
        assert!(check_data_type("text", "String", "anything").is_ok());
    }
}
