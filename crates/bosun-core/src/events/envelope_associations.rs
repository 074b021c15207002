//! State Manager's events in AWS's envelope: `EC2 State Manager Association State Change` (an
//! association was created, updated or deleted, or its overall status changed) and `EC2 State
//! Manager Instance Association State Change` (one node's status of an association changed).
//!
//! AWS's quirks are kept: `targets` and `association-status-aggregated-count` are JSON encoded
//! as strings, a document version the association never named is the literal
//! `Optional.empty`, an AWS-owned document's ARN has an empty account, and each detail carries
//! its version marker (`association-cwe-version` `1.0`, `instance-association-cwe-version`
//! `1`). Times inside `detail` carry milliseconds; an execution time the association does not
//! have yet is left out.

use serde_json::{json, Map, Value};

use super::envelope::{detail_time, envelope, node_arn, Event, Origin};

/// An association's definition or overall status changed.
pub const ASSOCIATION_STATE_CHANGE: &str = "EC2 State Manager Association State Change";
/// One node's status of an association changed.
pub const INSTANCE_ASSOCIATION_STATE_CHANGE: &str =
    "EC2 State Manager Instance Association State Change";

/// What both State Manager events say about the association.
#[derive(Debug, Clone, Copy)]
pub struct AssociationFacts<'a> {
    pub association_id: &'a str,
    pub document_name: &'a str,
    /// The association's `DocumentVersion`; empty when it named none.
    pub document_version: &'a str,
    /// `Targets` as the API gives them (`[{Key, Values}]`); `None`/empty for a legacy
    /// association, which targets its `instance_id`.
    pub targets: Option<&'a Value>,
    pub instance_id: &'a str,
    pub created_ms: i64,
    pub last_execution_ms: Option<i64>,
    pub last_successful_execution_ms: Option<i64>,
}

/// The association-level facts of `EC2 State Manager Association State Change`.
#[derive(Debug, Clone, Copy)]
pub struct AssociationHead<'a> {
    pub facts: AssociationFacts<'a>,
    pub association_version: i64,
    pub updated_ms: i64,
    /// `Overview.Status` (`Pending`, `Success`, `Failed`).
    pub status: &'a str,
    /// `Overview.AssociationStatusAggregatedCount` as a JSON object.
    pub aggregated_count: &'a Value,
    pub schedule_expression: &'a str,
}

/// One node's outcome, for `EC2 State Manager Instance Association State Change`.
#[derive(Debug, Clone, Copy)]
pub struct NodeOutcome<'a> {
    pub instance_id: &'a str,
    /// The document version that ran.
    pub document_version: &'a str,
    pub execution_ms: i64,
    pub status: &'a str,
    pub detailed_status: &'a str,
    pub error_code: &'a str,
    pub execution_summary: &'a str,
    /// Where the output went (Bosun keeps output in its own store: empty).
    pub output_url: &'a str,
}

/// A document's ARN as State Manager events name it: AWS-owned documents (`AWS-…`,
/// `Amazon…`) and Bosun's own built-ins (`Bosun-…`, owned as AWS's are) with an empty account;
/// a shared document's ARN as given.
pub fn document_arn(region: &str, account: &str, name: &str) -> String {
    if name.starts_with("arn:") {
        return name.to_string();
    }
    let owner =
        if name.starts_with("AWS-") || name.starts_with("Amazon") || name.starts_with("Bosun-") {
            ""
        } else {
            account
        };
    format!("arn:aws:ssm:{region}:{owner}:document/{name}")
}

/// `targets` as AWS writes it: a JSON text of `[{"key":…,"values":[…]}]`.
fn targets_text(facts: &AssociationFacts<'_>) -> String {
    let listed: Vec<Value> = facts
        .targets
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|t| {
                    json!({
                        "key": t.get("Key").cloned().unwrap_or(Value::Null),
                        "values": t.get("Values").cloned().unwrap_or(json!([])),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let listed = if listed.is_empty() && !facts.instance_id.is_empty() {
        vec![json!({"key": "InstanceIds", "values": [facts.instance_id]})]
    } else {
        listed
    };
    Value::Array(listed).to_string()
}

fn document_version_text(version: &str) -> &str {
    if version.is_empty() {
        "Optional.empty"
    } else {
        version
    }
}

fn execution_times(detail: &mut Map<String, Value>, facts: &AssociationFacts<'_>) {
    if let Some(ms) = facts.last_successful_execution_ms {
        detail.insert(
            "last-successful-execution-date".into(),
            json!(detail_time(ms)),
        );
    }
    if let Some(ms) = facts.last_execution_ms {
        detail.insert("last-execution-date".into(), json!(detail_time(ms)));
    }
}

/// `EC2 State Manager Association State Change` for the association as it now is.
pub fn association_state_change(origin: Origin<'_>, head: &AssociationHead<'_>) -> Event {
    let f = &head.facts;
    let mut detail = Map::new();
    detail.insert("association-id".into(), json!(f.association_id));
    detail.insert("document-name".into(), json!(f.document_name));
    detail.insert(
        "association-version".into(),
        json!(head.association_version.to_string()),
    );
    detail.insert(
        "document-version".into(),
        json!(document_version_text(f.document_version)),
    );
    detail.insert("targets".into(), json!(targets_text(f)));
    detail.insert("creation-date".into(), json!(detail_time(f.created_ms)));
    execution_times(&mut detail, f);
    detail.insert(
        "last-updated-date".into(),
        json!(detail_time(head.updated_ms)),
    );
    detail.insert("status".into(), json!(head.status));
    let counts = match head.aggregated_count {
        Value::Object(map) => Value::Object(map.clone()),
        _ => Value::Object(Map::new()),
    };
    detail.insert(
        "association-status-aggregated-count".into(),
        json!(counts.to_string()),
    );
    if !head.schedule_expression.is_empty() {
        detail.insert(
            "schedule-expression".into(),
            json!(head.schedule_expression),
        );
    }
    detail.insert("association-cwe-version".into(), json!("1.0"));
    let resources = vec![document_arn(origin.region, origin.account, f.document_name)];
    envelope(
        origin,
        ASSOCIATION_STATE_CHANGE,
        resources,
        Value::Object(detail),
    )
}

/// `EC2 State Manager Instance Association State Change` for one node's new outcome.
pub fn instance_association_state_change(
    origin: Origin<'_>,
    facts: &AssociationFacts<'_>,
    node: &NodeOutcome<'_>,
) -> Event {
    let mut detail = Map::new();
    detail.insert("association-id".into(), json!(facts.association_id));
    detail.insert("instance-id".into(), json!(node.instance_id));
    detail.insert("document-name".into(), json!(facts.document_name));
    detail.insert(
        "document-version".into(),
        json!(document_version_text(node.document_version)),
    );
    detail.insert("targets".into(), json!(targets_text(facts)));
    detail.insert("creation-date".into(), json!(detail_time(facts.created_ms)));
    if node.status == "Success" {
        detail.insert(
            "last-successful-execution-date".into(),
            json!(detail_time(node.execution_ms)),
        );
    }
    detail.insert(
        "last-execution-date".into(),
        json!(detail_time(node.execution_ms)),
    );
    detail.insert("status".into(), json!(node.status));
    detail.insert("detailed-status".into(), json!(node.detailed_status));
    detail.insert("error-code".into(), json!(node.error_code));
    detail.insert("execution-summary".into(), json!(node.execution_summary));
    detail.insert("output-url".into(), json!(node.output_url));
    detail.insert("instance-association-cwe-version".into(), json!("1"));
    let resources = vec![
        node_arn(origin.region, origin.account, node.instance_id),
        document_arn(origin.region, origin.account, facts.document_name),
    ];
    envelope(
        origin,
        INSTANCE_ASSOCIATION_STATE_CHANGE,
        resources,
        Value::Object(detail),
    )
}

#[cfg(test)]
#[path = "envelope_associations_tests.rs"]
mod tests;
