//! Resource groups (AWS Resource Groups' rules, the subset Bosun serves): group names, the
//! `TAG_FILTERS_1_0` resource query and which managed nodes it selects, and group ARNs. Pure:
//! the store and the server supply the nodes and their tags.
//!
//! Sources: botocore's `resource-groups` model (`GroupName`, `CreateGroupName`, `Description`
//! and `Query` constraints, `QueryType` values) and the Resource Groups user guide ("Build
//! queries and groups": a node matches when it has every tag key of the filters with one of
//! each key's values; `ResourceTypeFilters` names the resource types a query selects).

#[cfg(test)]
mod tests;

use serde::Deserialize;

/// The resource types that are Bosun's managed nodes. AWS's Systems Manager targets hybrid
/// nodes as `AWS::SSM::ManagedInstance`; seed 002's groups name `AWS::EC2::Instance`: both
/// select Bosun's nodes.
pub const NODE_TYPES: &[&str] = &["AWS::SSM::ManagedInstance", "AWS::EC2::Instance"];
/// The type filter that selects every supported type.
pub const ALL_SUPPORTED: &str = "AWS::AllSupported";
/// The resource type Bosun reports for a node.
pub const NODE_TYPE: &str = "AWS::SSM::ManagedInstance";

/// Why a request about a group is refused: AWS's code, and Bosun's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

fn bad(message: impl Into<String>) -> Refusal {
    Refusal {
        code: "BadRequestException",
        message: message.into(),
    }
}

/// A name `CreateGroup` accepts: 1–128 of letters, digits, `.`, `-`, `_`, not starting with
/// `AWS` in any case (reserved).
pub fn check_new_name(name: &str) -> Result<(), Refusal> {
    check_name(name)?;
    if name.len() >= 3 && name[..3].eq_ignore_ascii_case("aws") {
        return Err(bad(format!(
            "The group name {name} is not valid: names starting with AWS (in any case) are reserved."
        )));
    }
    Ok(())
}

/// A group name: 1–128 letters, digits, `.`, `-`, `_` (the model's `GroupName` also admits
/// ARNs, which callers resolve with [`name_of`] first).
pub fn check_name(name: &str) -> Result<(), Refusal> {
    let ok = !name.is_empty()
        && name.chars().count() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(bad(format!(
            "The group name {name} is not valid: use 1 to 128 letters, numbers, periods, hyphens and underscores."
        )))
    }
}

/// A description: at most 1,024 characters of letters, digits, spaces and `.`, `_`, `-`
/// (the model's `Description` pattern `[\sa-zA-Z0-9_\.-]*`).
pub fn check_description(d: &str) -> Result<(), Refusal> {
    let ok = d.chars().count() <= 1024
        && d.chars().all(|c| {
            c.is_ascii_alphanumeric() || c.is_whitespace() || matches!(c, '.' | '_' | '-')
        });
    if ok {
        Ok(())
    } else {
        Err(bad("The description may hold at most 1024 letters, numbers, spaces, periods, underscores and hyphens."))
    }
}

/// A group's ARN.
pub fn group_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:resource-groups:{region}:{account}:group/{name}")
}

/// The group name in `name_or_arn` (a name, or a group ARN of this region and account).
pub fn name_of(name_or_arn: &str, region: &str, account: &str) -> Result<String, Refusal> {
    match name_or_arn.strip_prefix("arn:") {
        None => Ok(name_or_arn.to_string()),
        Some(_) => {
            let prefix = format!("arn:aws:resource-groups:{region}:{account}:group/");
            match name_or_arn.strip_prefix(&prefix) {
                Some(name) if !name.is_empty() && !name.contains('/') => Ok(name.to_string()),
                _ => Err(bad(format!(
                    "{name_or_arn} is not the ARN of a resource group in {region} of account {account}."
                ))),
            }
        }
    }
}

/// One tag filter of a query: a key and the values it accepts (none: any value).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagFilter {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Values", default)]
    pub values: Vec<String>,
}

/// A parsed `TAG_FILTERS_1_0` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagQuery {
    /// The types it selects; empty never happens (the query requires one).
    pub types: Vec<String>,
    pub filters: Vec<TagFilter>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTagQuery {
    #[serde(rename = "ResourceTypeFilters")]
    resource_type_filters: Option<Vec<String>>,
    #[serde(rename = "TagFilters")]
    tag_filters: Option<Vec<TagFilter>>,
}

/// Parse and check a resource query (`Type` and its `Query` JSON text). Only
/// `TAG_FILTERS_1_0` is served: Bosun has no CloudFormation stacks, so
/// `CLOUDFORMATION_STACK_1_0` is refused by name rather than accepted and left empty.
pub fn parse_query(query_type: &str, query: &str) -> Result<TagQuery, Refusal> {
    match query_type {
        "TAG_FILTERS_1_0" => {}
        "CLOUDFORMATION_STACK_1_0" => {
            return Err(bad(
                "CLOUDFORMATION_STACK_1_0 queries are not supported: this Bosun server has no CloudFormation stacks. Use TAG_FILTERS_1_0.",
            ))
        }
        other => {
            return Err(bad(format!(
                "The query type {other} is not valid: use TAG_FILTERS_1_0 or CLOUDFORMATION_STACK_1_0."
            )))
        }
    }
    if query.chars().count() > 4096 {
        return Err(bad("The query may be at most 4096 characters long."));
    }
    let raw: RawTagQuery = serde_json::from_str(query).map_err(|e| {
        bad(format!(
            "The query is not a valid TAG_FILTERS_1_0 query ({e}): expected {{\"ResourceTypeFilters\":[...],\"TagFilters\":[{{\"Key\":...,\"Values\":[...]}}]}}."
        ))
    })?;
    let types = raw.resource_type_filters.unwrap_or_default();
    if types.is_empty() {
        return Err(bad(
            "The query needs ResourceTypeFilters (for example [\"AWS::AllSupported\"]).",
        ));
    }
    if types.iter().any(|t| t == ALL_SUPPORTED) && types.len() > 1 {
        return Err(bad(
            "AWS::AllSupported cannot be combined with other resource types.",
        ));
    }
    if let Some(t) = types.iter().find(|t| !valid_type(t)) {
        return Err(bad(format!(
            "The resource type {t} is not valid (expected AWS::Service::Type)."
        )));
    }
    let filters = raw.tag_filters.unwrap_or_default();
    if filters.is_empty() {
        return Err(bad(
            "A TAG_FILTERS_1_0 query needs at least one tag filter.",
        ));
    }
    if filters.len() > 50 {
        return Err(bad("A query may hold at most 50 tag filters."));
    }
    for f in &filters {
        if f.key.is_empty() || f.key.chars().count() > 128 {
            return Err(bad("A tag filter's key must be 1 to 128 characters long."));
        }
        if f.values.len() > 20 || f.values.iter().any(|v| v.chars().count() > 256) {
            return Err(bad(
                "A tag filter may hold at most 20 values of at most 256 characters.",
            ));
        }
    }
    Ok(TagQuery { types, filters })
}

fn valid_type(t: &str) -> bool {
    t == ALL_SUPPORTED || {
        let parts: Vec<&str> = t.split("::").collect();
        parts.len() == 3
            && parts[0] == "AWS"
            && parts[1..]
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
    }
}

impl TagQuery {
    /// Whether the query selects managed nodes at all (its types include them).
    pub fn selects_nodes(&self) -> bool {
        self.types
            .iter()
            .any(|t| t == ALL_SUPPORTED || NODE_TYPES.contains(&t.as_str()))
    }

    /// Whether a node with these tags is a member: every filter's key present with one of its
    /// values (any value when the filter lists none).
    pub fn matches_node(&self, tags: &[(String, String)]) -> bool {
        self.selects_nodes()
            && self.filters.iter().all(|f| {
                tags.iter()
                    .any(|(k, v)| *k == f.key && (f.values.is_empty() || f.values.contains(v)))
            })
    }

    /// Whether the query selects nodes of one of `types` (a target's
    /// `resource-groups:ResourceTypeFilters`), or any node type when `types` is empty.
    pub fn selects_node_types(&self, types: &[String]) -> bool {
        types.is_empty()
            || types
                .iter()
                .any(|t| NODE_TYPES.contains(&t.as_str()) || t == ALL_SUPPORTED)
    }
}
