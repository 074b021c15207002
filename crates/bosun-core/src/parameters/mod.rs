//! Parameter Store rules with no IO: names and paths, selectors, labels, tiers and value sizes,
//! policies and their due times, and the `DescribeParameters`/`GetParametersByPath` filters.

pub mod filters;
pub mod image_data_type;
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
/// Data types Bosun accepts (`aws:ec2:image` values are validated in the background).
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

/// Check a `DataType` and that `aws:ec2:image` is used only for `String` parameters. The
/// value of an `aws:ec2:image` put is checked later, in the background
/// ([`image_data_type::check_image_id`]), as AWS validates it asynchronously.
pub fn check_data_type(data_type: &str, param_type: &str) -> Result<(), Rejection> {
    if !DATA_TYPES.contains(&data_type) {
        return Err(Rejection::validation(format!(
            "The following data type is not supported: {data_type} (Data type names are all lowercase.)"
        )));
    }
    if data_type == image_data_type::IMAGE_DATA_TYPE && param_type != "String" {
        return Err(Rejection::validation(
            "The aws:ec2:image data type is supported only for String parameters.",
        ));
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
    fn data_types_are_checked_by_name_and_parameter_type() {
        assert!(check_data_type("aws:ec2:image", "String").is_ok());
        assert!(check_data_type("aws:ec2:image", "SecureString").is_err());
        assert!(check_data_type("aws:ec2:image", "StringList").is_err());
        assert!(check_data_type("json", "String").is_err());
        assert!(check_data_type("text", "SecureString").is_ok());
    }
}
