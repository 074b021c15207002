//! The forms a SecureString `KeyId` takes (key id, key ARN, alias name, alias ARN) and the
//! messages KMS gives when one names no key.
//!
//! Sources of the messages (AWS's KMS `NotFoundException`, which Parameter Store passes on as
//! `InvalidKeyId`), as quoted from real responses in public issues:
//! - key: `Key 'arn:aws:kms:…:key/<id>' does not exist (Service: AWSKMS; Status Code: 400; Error
//!   Code: NotFoundException; Request ID: …; Proxy: null)` (binxio/aws-ssm-copy#10, 2020);
//! - alias: `Alias arn:aws:kms:…:alias/<name> is not found. (Service: AWSKMS; …)`
//!   (cloudposse/docs#152, 2018, where the text after the period is the same suffix);
//! - anything else: `Invalid keyId <text>` (KMS's DescribeKey answer, quoted in public tests).

/// What a `KeyId` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    /// A key id (`1234abcd-…`) or key ARN (`arn:aws:kms:<region>:<account>:key/<id>`).
    Key {
        id: String,
        region: Option<String>,
        account: Option<String>,
    },
    /// An alias (`alias/<name>`) or alias ARN (`arn:aws:kms:<region>:<account>:alias/<name>`);
    /// `name` keeps its `alias/` prefix.
    Alias {
        name: String,
        region: Option<String>,
        account: Option<String>,
    },
    /// Neither form.
    Malformed(String),
}

impl KeyRef {
    pub fn parse(text: &str) -> KeyRef {
        let malformed = || KeyRef::Malformed(text.to_string());
        if let Some(rest) = text.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let [partition, "kms", region, account, resource] = parts[..] else {
                return malformed();
            };
            if partition.is_empty() || region.is_empty() || account.is_empty() {
                return malformed();
            }
            let (region, account) = (Some(region.to_string()), Some(account.to_string()));
            return match resource.split_once('/') {
                Some(("key", id)) if is_key_id(id) => KeyRef::Key {
                    id: id.to_string(),
                    region,
                    account,
                },
                Some(("alias", name)) if !name.is_empty() => KeyRef::Alias {
                    name: format!("alias/{name}"),
                    region,
                    account,
                },
                _ => malformed(),
            };
        }
        if let Some(name) = text.strip_prefix("alias/") {
            if name.is_empty() {
                return malformed();
            }
            return KeyRef::Alias {
                name: text.to_string(),
                region: None,
                account: None,
            };
        }
        if is_key_id(text) {
            return KeyRef::Key {
                id: text.to_string(),
                region: None,
                account: None,
            };
        }
        malformed()
    }

    /// KMS's `NotFoundException` text for this reference, with ARNs completed from the caller's
    /// region and account as KMS reports them.
    pub fn not_found_message(&self, region: &str, account: &str, kms_request_id: &str) -> String {
        let suffix = format!(
            "(Service: AWSKMS; Status Code: 400; Error Code: NotFoundException; Request ID: {kms_request_id}; Proxy: null)"
        );
        let scope = |r: &Option<String>, a: &Option<String>| {
            (
                r.clone().unwrap_or_else(|| region.to_string()),
                a.clone().unwrap_or_else(|| account.to_string()),
            )
        };
        match self {
            KeyRef::Key {
                id,
                region: r,
                account: a,
            } => {
                let (r, a) = scope(r, a);
                format!("Key 'arn:aws:kms:{r}:{a}:key/{id}' does not exist {suffix}")
            }
            KeyRef::Alias {
                name,
                region: r,
                account: a,
            } => {
                let (r, a) = scope(r, a);
                format!("Alias arn:aws:kms:{r}:{a}:{name} is not found. {suffix}")
            }
            KeyRef::Malformed(text) => format!("Invalid keyId {text} {suffix}"),
        }
    }
}

/// A KMS key id: a UUID (`1234abcd-12ab-34cd-56ef-1234567890ab`) or a multi-Region key id
/// (`mrk-` followed by 32 hex digits).
fn is_key_id(text: &str) -> bool {
    if let Some(hex) = text.strip_prefix("mrk-") {
        return hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0f9b04ee-ab13-4f35-a2b2-d0902bfe6a1e";

    #[test]
    fn every_form_is_recognised() {
        assert_eq!(
            KeyRef::parse(ID),
            KeyRef::Key {
                id: ID.into(),
                region: None,
                account: None
            }
        );
        assert_eq!(
            KeyRef::parse(&format!("arn:aws:kms:us-west-2:123456789012:key/{ID}")),
            KeyRef::Key {
                id: ID.into(),
                region: Some("us-west-2".into()),
                account: Some("123456789012".into())
            }
        );
        assert!(matches!(
            KeyRef::parse("mrk-1234abcd12ab34cd56ef1234567890ab"),
            KeyRef::Key { .. }
        ));
        assert_eq!(
            KeyRef::parse("alias/aws/ssm"),
            KeyRef::Alias {
                name: "alias/aws/ssm".into(),
                region: None,
                account: None
            }
        );
        assert_eq!(
            KeyRef::parse("arn:aws:kms:us-east-1:123456789012:alias/team"),
            KeyRef::Alias {
                name: "alias/team".into(),
                region: Some("us-east-1".into()),
                account: Some("123456789012".into())
            }
        );
        for bad in [
            "team",
            "alias/",
            "arn:aws:kms:us-east-1:1:key/nope",
            "arn:aws:s3:::b",
            "1234",
            "key/abc",
        ] {
            assert_eq!(KeyRef::parse(bad), KeyRef::Malformed(bad.into()), "{bad}");
        }
    }

    #[test]
    fn messages_are_kms_not_found_texts() {
        let m = KeyRef::parse(ID).not_found_message("us-east-1", "123123123", "rid");
        assert_eq!(
            m,
            format!(
                "Key 'arn:aws:kms:us-east-1:123123123:key/{ID}' does not exist (Service: AWSKMS; Status Code: 400; Error Code: NotFoundException; Request ID: rid; Proxy: null)"
            )
        );
        let m = KeyRef::parse("alias/parameter_store_key").not_found_message(
            "us-west-2",
            "271462348125",
            "rid",
        );
        assert!(m.starts_with("Alias arn:aws:kms:us-west-2:271462348125:alias/parameter_store_key is not found. (Service: AWSKMS;"), "{m}");
        let m = KeyRef::parse("team").not_found_message("us-east-1", "1", "rid");
        assert!(m.starts_with("Invalid keyId team (Service: AWSKMS;"), "{m}");
    }
}
