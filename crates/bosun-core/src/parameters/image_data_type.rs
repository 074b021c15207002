//! The `aws:ec2:image` data type: which puts are validated after the call answers, the format
//! an image id must have, and the failure event AWS sends when validation fails.
//!
//! Facts this follows (AWS Systems Manager API reference, `PutParameter` `DataType`; user guide
//! pages `parameter-store-data-types` and `parameter-store-ec2-aliases`):
//! - the value of an `aws:ec2:image` parameter is validated asynchronously: `PutParameter`
//!   answers HTTP 200 before validation ends, and an invalid value leaves the parameter not
//!   created or not updated;
//! - the outcome is reported as a `Parameter Store Change` event on EventBridge: the usual
//!   `Create`/`Update` event when the value was applied, and on failure an event whose detail
//!   carries `operation`, `name`, `type`, `dataType` and an `exception` (the documented example
//!   reads `Unable to Describe Images`);
//! - only `String` parameters take this data type (refused synchronously for other types).
//!
//! Bosun has no EC2 to ask whether the image exists: it checks the format only (`ami-` followed
//! by 8 or 17 lowercase hexadecimal characters).

/// The data type validated in the background.
pub const IMAGE_DATA_TYPE: &str = "aws:ec2:image";

/// `detail.exception` of the failure event, as in AWS's documented example.
pub const VALIDATION_FAILURE_EXCEPTION: &str = "Unable to Describe Images";

/// How long a replica holds a pending put it is validating before another may take it.
pub const VALIDATION_LEASE_MS: i64 = 10_000;

/// Whether a put of `data_type` is answered before its value is validated.
pub fn validated_asynchronously(data_type: &str) -> bool {
    data_type == IMAGE_DATA_TYPE
}

/// Check an image id's format: `ami-` followed by 8 or 17 lowercase hexadecimal characters.
/// The error is a reason for logs and the operator (the value is a `String`, not a secret).
pub fn check_image_id(value: &str) -> Result<(), String> {
    let hex = value.strip_prefix("ami-").unwrap_or("");
    let ok = (hex.len() == 8 || hex.len() == 17)
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{value} is not an image id (expected ami- followed by 8 or 17 hexadecimal characters)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_ids_have_eight_or_seventeen_lowercase_hex_digits() {
        assert!(check_image_id("ami-12345678").is_ok());
        assert!(check_image_id("ami-0123456789abcdef0").is_ok());
        for bad in [
            "ami-xyz",
            "ami-1234567",
            "ami-123456789",
            "ami-0123456789ABCDEF0",
            "ami-0123456789abcdef",
            "AMI-12345678",
            "12345678",
            "",
            "ami-12345678 ",
        ] {
            assert!(check_image_id(bad).is_err(), "{bad:?} accepted");
        }
        assert!(check_image_id("ami-nope").unwrap_err().contains("ami-nope"));
    }

    #[test]
    fn only_the_image_type_is_deferred() {
        assert!(validated_asynchronously("aws:ec2:image"));
        assert!(!validated_asynchronously("text"));
        assert!(!validated_asynchronously(""));
    }
}
