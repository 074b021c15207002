//! Managed nodes as the API sees them: ping status and `DescribeInstanceInformation` filters.

use crate::ids;

/// `PingStatus` of a managed node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingStatus {
    Online,
    ConnectionLost,
    Inactive,
}

impl PingStatus {
    pub const ALL: [&'static str; 3] = ["Online", "ConnectionLost", "Inactive"];

    pub fn as_str(self) -> &'static str {
        match self {
            PingStatus::Online => "Online",
            PingStatus::ConnectionLost => "ConnectionLost",
            PingStatus::Inactive => "Inactive",
        }
    }

    /// Derive the status: deregistered nodes are `Inactive`; a node is `Online` while its channel
    /// is open and it was heard from within `timeout_ms`; otherwise `ConnectionLost`.
    pub fn derive(
        deregistered: bool,
        connected: bool,
        last_heard_ms: i64,
        now_ms: i64,
        timeout_ms: i64,
    ) -> Self {
        if deregistered {
            PingStatus::Inactive
        } else if connected && now_ms - last_heard_ms <= timeout_ms {
            PingStatus::Online
        } else {
            PingStatus::ConnectionLost
        }
    }
}

/// Platform types the API knows.
pub const PLATFORM_TYPES: [&str; 3] = ["Windows", "Linux", "MacOS"];

/// The fields of a node that filters can look at.
#[derive(Debug, Clone)]
pub struct InstanceFacts<'a> {
    pub instance_id: &'a str,
    pub ping_status: PingStatus,
    pub agent_version: &'a str,
    pub platform_type: &'a str,
    pub activation_id: &'a str,
    pub iam_role: &'a str,
    pub resource_type: &'a str,
    pub association_status: Option<&'a str>,
    pub tags: &'a [(String, String)],
}

/// One filter of `DescribeInstanceInformation` (from either the legacy
/// `InstanceInformationFilterList` or the newer `Filters`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceFilter {
    InstanceIds(Vec<String>),
    AgentVersion(Vec<String>),
    PingStatus(Vec<String>),
    PlatformTypes(Vec<String>),
    ActivationIds(Vec<String>),
    IamRole(Vec<String>),
    ResourceType(Vec<String>),
    AssociationStatus(Vec<String>),
    TagKey(Vec<String>),
    Tag { key: String, values: Vec<String> },
}

/// Why a filter was refused; each maps to the AWS exception of the same name.
#[derive(Debug, PartialEq, Eq)]
pub enum FilterError {
    InvalidFilterKey(String),
    InvalidInstanceInformationFilterValue(String),
}

impl InstanceFilter {
    /// Build a filter from a key and its values. `tag_keys_allowed` is false for the legacy
    /// filter list, whose key is a closed enum.
    pub fn parse(
        key: &str,
        values: Vec<String>,
        tag_keys_allowed: bool,
    ) -> Result<Self, FilterError> {
        let bad_value = |v: &str| {
            FilterError::InvalidInstanceInformationFilterValue(format!(
                "The filter value {v} is not valid for the filter key {key}."
            ))
        };
        let check_all = |ok: &dyn Fn(&str) -> bool| -> Result<(), FilterError> {
            match values.iter().find(|v| !ok(v)) {
                Some(v) => Err(bad_value(v)),
                None => Ok(()),
            }
        };
        Ok(match key {
            "InstanceIds" => {
                check_all(&ids::is_instance_id)?;
                InstanceFilter::InstanceIds(values)
            }
            "AgentVersion" => InstanceFilter::AgentVersion(values),
            "PingStatus" => {
                check_all(&|v| PingStatus::ALL.contains(&v))?;
                InstanceFilter::PingStatus(values)
            }
            "PlatformTypes" => {
                check_all(&|v| PLATFORM_TYPES.contains(&v))?;
                InstanceFilter::PlatformTypes(values)
            }
            "ActivationIds" => InstanceFilter::ActivationIds(values),
            "IamRole" => InstanceFilter::IamRole(values),
            "ResourceType" => {
                check_all(&|v| v == "ManagedInstance" || v == "EC2Instance")?;
                InstanceFilter::ResourceType(values)
            }
            "AssociationStatus" => InstanceFilter::AssociationStatus(values),
            "tag-key" if tag_keys_allowed => InstanceFilter::TagKey(values),
            k if tag_keys_allowed && k.starts_with("tag:") && k.len() > 4 => InstanceFilter::Tag {
                key: k[4..].to_string(),
                values,
            },
            other => {
                return Err(FilterError::InvalidFilterKey(format!(
                    "The filter key {other} is not valid."
                )))
            }
        })
    }

    /// True when the node passes this filter.
    pub fn matches(&self, n: &InstanceFacts) -> bool {
        let any = |vals: &[String], field: &str| vals.iter().any(|v| v == field);
        match self {
            InstanceFilter::InstanceIds(v) => any(v, n.instance_id),
            InstanceFilter::AgentVersion(v) => any(v, n.agent_version),
            InstanceFilter::PingStatus(v) => any(v, n.ping_status.as_str()),
            InstanceFilter::PlatformTypes(v) => any(v, n.platform_type),
            InstanceFilter::ActivationIds(v) => any(v, n.activation_id),
            InstanceFilter::IamRole(v) => any(v, n.iam_role),
            InstanceFilter::ResourceType(v) => any(v, n.resource_type),
            InstanceFilter::AssociationStatus(v) => n.association_status.is_some_and(|s| any(v, s)),
            InstanceFilter::TagKey(v) => n.tags.iter().any(|(k, _)| any(v, k)),
            InstanceFilter::Tag { key, values } => {
                n.tags.iter().any(|(k, val)| k == key && any(values, val))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(tags: &[(String, String)]) -> InstanceFacts<'_> {
        InstanceFacts {
            instance_id: "mi-0123456789abcdef0",
            ping_status: PingStatus::Online,
            agent_version: "0.1.0",
            platform_type: "Linux",
            activation_id: "a",
            iam_role: "role",
            resource_type: "ManagedInstance",
            association_status: None,
            tags,
        }
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn ping_status_derivation() {
        assert_eq!(
            PingStatus::derive(true, true, 0, 0, 10),
            PingStatus::Inactive
        );
        assert_eq!(
            PingStatus::derive(false, true, 0, 5, 10),
            PingStatus::Online
        );
        assert_eq!(
            PingStatus::derive(false, true, 0, 11, 10),
            PingStatus::ConnectionLost
        );
        assert_eq!(
            PingStatus::derive(false, false, 0, 1, 10),
            PingStatus::ConnectionLost
        );
    }

    #[test]
    fn filters_match_fields_and_tags() {
        let tags = vec![("env".to_string(), "dev".to_string())];
        let n = facts(&tags);
        let f = |k: &str, v: &[&str]| InstanceFilter::parse(k, s(v), true).unwrap();
        assert!(f("PingStatus", &["Online"]).matches(&n));
        assert!(!f("PingStatus", &["Inactive"]).matches(&n));
        assert!(f("tag:env", &["dev", "prod"]).matches(&n));
        assert!(!f("tag:env", &["prod"]).matches(&n));
        assert!(f("tag-key", &["env"]).matches(&n));
        assert!(!f("tag-key", &["team"]).matches(&n));
        assert!(f("InstanceIds", &["mi-0123456789abcdef0"]).matches(&n));
        assert!(f("PlatformTypes", &["Linux"]).matches(&n));
        assert!(!f("AssociationStatus", &["Success"]).matches(&n));
    }

    #[test]
    fn bad_keys_and_values_are_refused() {
        assert!(matches!(
            InstanceFilter::parse("Bogus", s(&["x"]), true),
            Err(FilterError::InvalidFilterKey(_))
        ));
        assert!(matches!(
            InstanceFilter::parse("tag:env", s(&["x"]), false),
            Err(FilterError::InvalidFilterKey(_))
        ));
        assert!(matches!(
            InstanceFilter::parse("PingStatus", s(&["Sleeping"]), true),
            Err(FilterError::InvalidInstanceInformationFilterValue(_))
        ));
        assert!(matches!(
            InstanceFilter::parse("InstanceIds", s(&["nope"]), true),
            Err(FilterError::InvalidInstanceInformationFilterValue(_))
        ));
    }
}
