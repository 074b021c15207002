//! Rules on the default event bus as the EventBridge API names and limits them: rule names and
//! ARNs, which bus a request names, which target ARNs Bosun can deliver to, and the quotas.

/// Targets a rule may have (EventBridge's quota).
pub const MAX_TARGETS_PER_RULE: usize = 5;
/// Rules an event bus may hold (EventBridge's default quota).
pub const MAX_RULES_PER_BUS: usize = 300;
/// Tags a rule may carry.
pub const MAX_TAGS_PER_RULE: usize = 50;
/// The only event bus Bosun serves.
pub const DEFAULT_BUS: &str = "default";
/// The model's pattern for rule names and target ids (`[\.\-_A-Za-z0-9]+`, 1 to 64).
pub const NAME_PATTERN: &str = r"[\.\-_A-Za-z0-9]+";

/// Whether `name` keeps the model's rule-name / target-id pattern (length checked apart).
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// A rule's ARN on the default bus: `arn:aws:events:<region>:<account>:rule/<name>`.
pub fn rule_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:events:{region}:{account}:rule/{name}")
}

/// The default bus's ARN.
pub fn default_bus_arn(region: &str, account: &str) -> String {
    format!("arn:aws:events:{region}:{account}:event-bus/{DEFAULT_BUS}")
}

/// An `EventBusName` (a name or an ARN) that is not this region's default bus: AWS's
/// `ResourceNotFoundException` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownBus(pub String);

impl std::fmt::Display for UnknownBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Event bus {} does not exist.", self.0)
    }
}

/// Accept a request's `EventBusName` when it names the default bus (absent, `default`, or the
/// default bus's ARN in this region and account).
pub fn check_bus(given: Option<&str>, region: &str, account: &str) -> Result<(), UnknownBus> {
    match given {
        None | Some(DEFAULT_BUS) => Ok(()),
        Some(arn) if arn == default_bus_arn(region, account) => Ok(()),
        Some(other) => {
            // AWS names the bus, not the ARN, in its message.
            let name = other.rsplit_once(":event-bus/").map_or(other, |(_, n)| n);
            Err(UnknownBus(name.to_string()))
        }
    }
}

/// A rule ARN's name, when the ARN is a default-bus rule of this region and account.
pub fn rule_name_of_arn<'a>(arn: &'a str, region: &str, account: &str) -> Option<&'a str> {
    let prefix = format!("arn:aws:events:{region}:{account}:rule/");
    arn.strip_prefix(&prefix)
        .filter(|n| n.len() <= 64 && is_valid_name(n))
}

/// What a target ARN points at, as far as Bosun can deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// An SNS topic (`arn:<partition>:sns:<region>:<account>:<topic>`).
    SnsTopic,
    /// A well-formed ARN of a service Bosun cannot deliver to (the service's name).
    Undeliverable(String),
}

/// Why a target ARN is refused outright (AWS's `ValidationException` for the whole call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedArn;

/// Classify a target ARN: `arn:<partition>:<service>:<region>:<account>:<resource>`.
pub fn target_kind(arn: &str) -> Result<TargetKind, MalformedArn> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts[..] else {
        return Err(MalformedArn);
    };
    if prefix != "arn" || !partition.starts_with("aws") || service.is_empty() || resource.is_empty()
    {
        return Err(MalformedArn);
    }
    if service != "sns" {
        return Ok(TargetKind::Undeliverable(service.to_string()));
    }
    let topic = resource.strip_suffix(".fifo").unwrap_or(resource);
    let topic_ok = !topic.is_empty()
        && topic.len() <= 256
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    if region.is_empty() || !account_ok || !topic_ok {
        return Err(MalformedArn);
    }
    Ok(TargetKind::SnsTopic)
}

/// The envelope fields `TestEventPattern` requires of its `Event` (the API reference's list).
pub const REQUIRED_EVENT_FIELDS: &[&str] = &[
    "id",
    "account",
    "source",
    "time",
    "region",
    "resources",
    "detail-type",
];

/// Whether an event has every field `TestEventPattern` requires.
pub fn is_complete_event(event: &serde_json::Value) -> bool {
    event
        .as_object()
        .is_some_and(|o| REQUIRED_EVENT_FIELDS.iter().all(|f| o.contains_key(*f)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_the_model_pattern() {
        assert!(is_valid_name("ssm-failed_1.x"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("a/b"));
        assert!(!is_valid_name("日本"));
    }

    #[test]
    fn only_the_default_bus_is_served() {
        let (r, a) = ("ap-northeast-1", "123456789012");
        assert_eq!(check_bus(None, r, a), Ok(()));
        assert_eq!(check_bus(Some("default"), r, a), Ok(()));
        assert_eq!(check_bus(Some(&default_bus_arn(r, a)), r, a), Ok(()));
        let custom = check_bus(Some("orders"), r, a).unwrap_err();
        assert_eq!(custom.to_string(), "Event bus orders does not exist.");
        let elsewhere = check_bus(Some(&default_bus_arn("us-east-1", a)), r, a).unwrap_err();
        assert_eq!(elsewhere.to_string(), "Event bus default does not exist.");
    }

    #[test]
    fn rule_arns_round_trip() {
        let arn = rule_arn("us-east-1", "123456789012", "r.1");
        assert_eq!(arn, "arn:aws:events:us-east-1:123456789012:rule/r.1");
        assert_eq!(
            rule_name_of_arn(&arn, "us-east-1", "123456789012"),
            Some("r.1")
        );
        assert_eq!(rule_name_of_arn(&arn, "eu-west-1", "123456789012"), None);
        assert_eq!(
            rule_name_of_arn(
                "arn:aws:events:us-east-1:123456789012:rule/bus/r",
                "us-east-1",
                "123456789012"
            ),
            None
        );
    }

    #[test]
    fn target_arns_are_classified() {
        assert_eq!(
            target_kind("arn:aws:sns:ap-northeast-1:123456789012:ops-mail"),
            Ok(TargetKind::SnsTopic)
        );
        assert_eq!(
            target_kind("arn:aws:sns:ap-northeast-1:123456789012:t.fifo"),
            Ok(TargetKind::SnsTopic)
        );
        assert_eq!(
            target_kind("arn:aws:lambda:us-east-1:123456789012:function:f"),
            Ok(TargetKind::Undeliverable("lambda".into()))
        );
        for bad in [
            "not-an-arn",
            "arn:aws:sns:us-east-1:123456789012:",
            "arn:aws:sns:us-east-1:12:topic",
            "arn:aws:sns:us-east-1:123456789012:bad/topic",
            "arn:aws:sns",
        ] {
            assert_eq!(target_kind(bad), Err(MalformedArn), "{bad}");
        }
    }

    #[test]
    fn test_events_need_the_envelope() {
        let full = serde_json::json!({"id":"1","account":"1","source":"s","time":"t","region":"r","resources":[],"detail-type":"d","detail":{}});
        assert!(is_complete_event(&full));
        let mut partial = full.clone();
        partial.as_object_mut().unwrap().remove("resources");
        assert!(!is_complete_event(&partial));
        assert!(!is_complete_event(&serde_json::json!([1])));
    }
}
