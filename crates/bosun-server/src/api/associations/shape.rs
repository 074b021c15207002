//! Stored associations as AWS shapes: `AssociationDescription`, `Association` (list items)
//! and `AssociationVersionInfo`.

use bosun_store::{AssociationDefinition, AssociationRecord, AssociationVersionRecord};
use serde_json::{json, Map, Value};

use crate::api::wire::epoch_seconds;

/// The definition's members, as every shape names them.
fn definition_members(d: &AssociationDefinition, out: &mut Map<String, Value>) {
    out.insert("Name".into(), json!(d.name));
    let version = if d.document_version.is_empty() {
        "$DEFAULT"
    } else {
        &d.document_version
    };
    out.insert("DocumentVersion".into(), json!(version));
    let spec: Map<String, Value> = serde_json::from_str(&d.spec_json).unwrap_or_default();
    // `@` keys are Bosun's own bookkeeping (who an Automation association runs as).
    out.extend(spec.into_iter().filter(|(k, _)| !k.starts_with('@')));
    if !d.instance_id.is_empty() {
        out.insert("InstanceId".into(), json!(d.instance_id));
        // AWS shows a legacy association's node as its target.
        out.insert(
            "Targets".into(),
            json!([{"Key": "InstanceIds", "Values": [d.instance_id]}]),
        );
    }
    if !d.association_name.is_empty() {
        out.insert("AssociationName".into(), json!(d.association_name));
    }
    if !d.schedule_expression.is_empty() {
        out.insert("ScheduleExpression".into(), json!(d.schedule_expression));
    }
    if d.schedule_offset > 0 {
        out.insert("ScheduleOffset".into(), json!(d.schedule_offset));
    }
    if d.duration_hours > 0 {
        out.insert("Duration".into(), json!(d.duration_hours));
    }
}

fn overview(a: &AssociationRecord) -> Value {
    let mut o = json!({
        "Status": a.state.overview_status,
        "DetailedStatus": a.state.overview_detailed_status,
    });
    let counts: Map<String, Value> =
        serde_json::from_str(&a.state.overview_counts_json).unwrap_or_default();
    if !counts.is_empty() {
        o["AssociationStatusAggregatedCount"] = Value::Object(counts);
    }
    o
}

/// `AssociationDescription` of an association, showing `version`'s definition (the latest
/// when `None`).
pub fn description(a: &AssociationRecord, version: Option<&AssociationVersionRecord>) -> Value {
    let (number, d) = match version {
        Some(v) => (v.version, &v.definition),
        None => (a.version, &a.definition),
    };
    let mut out = Map::new();
    definition_members(d, &mut out);
    out.insert("AssociationId".into(), json!(a.association_id));
    out.insert("AssociationVersion".into(), json!(number.to_string()));
    out.insert("Date".into(), json!(epoch_seconds(a.created_ms)));
    out.insert(
        "LastUpdateAssociationDate".into(),
        json!(epoch_seconds(a.updated_ms)),
    );
    out.insert(
        "ApplyOnlyAtCronInterval".into(),
        json!(d.apply_only_at_cron_interval),
    );
    if !a.state.status_name.is_empty() {
        out.insert(
            "Status".into(),
            json!({
                "Date": epoch_seconds(a.state.status_date_ms),
                "Name": a.state.status_name,
                "Message": a.state.status_message,
            }),
        );
    }
    out.insert("Overview".into(), overview(a));
    if let Some(ms) = a.state.last_execution_ms {
        out.insert("LastExecutionDate".into(), json!(epoch_seconds(ms)));
    }
    if let Some(ms) = a.state.last_successful_execution_ms {
        out.insert(
            "LastSuccessfulExecutionDate".into(),
            json!(epoch_seconds(ms)),
        );
    }
    Value::Object(out)
}

/// `Association`: a list item.
pub fn list_item(a: &AssociationRecord) -> Value {
    let mut full = Map::new();
    definition_members(&a.definition, &mut full);
    let mut out = Map::new();
    for key in [
        "Name",
        "InstanceId",
        "DocumentVersion",
        "Targets",
        "ScheduleExpression",
        "AssociationName",
        "ScheduleOffset",
        "Duration",
    ] {
        if let Some(v) = full.remove(key) {
            out.insert(key.into(), v);
        }
    }
    out.insert("AssociationId".into(), json!(a.association_id));
    out.insert("AssociationVersion".into(), json!(a.version.to_string()));
    out.insert("Overview".into(), overview(a));
    if let Some(ms) = a.state.last_execution_ms {
        out.insert("LastExecutionDate".into(), json!(epoch_seconds(ms)));
    }
    Value::Object(out)
}

/// `AssociationVersionInfo`.
pub fn version_info(association_id: &str, v: &AssociationVersionRecord) -> Value {
    let mut out = Map::new();
    definition_members(&v.definition, &mut out);
    out.remove("InstanceId");
    out.insert("AssociationId".into(), json!(association_id));
    out.insert("AssociationVersion".into(), json!(v.version.to_string()));
    out.insert("CreatedDate".into(), json!(epoch_seconds(v.created_ms)));
    out.insert(
        "ApplyOnlyAtCronInterval".into(),
        json!(v.definition.apply_only_at_cron_interval),
    );
    Value::Object(out)
}
