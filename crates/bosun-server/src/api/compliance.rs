//! Compliance: `PutComplianceItems` (a node's items of one type, complete or partial),
//! `ListComplianceItems`, `ListComplianceSummaries` and `ListResourceComplianceSummaries`
//! (computed from the stored items by `bosun_core::compliance`). `Association` items are also
//! written by State Manager when an execution ends (`association_scheduler/rollup`); a
//! `PARTIAL` upload may only name associations whose `SyncCompliance` is `MANUAL`.

use std::collections::{BTreeMap, HashSet};

use bosun_core::compliance::{
    self as rules, check_filters, ComplianceFilter, FilterTarget, ItemFacts, ResourceSummary,
    SeverityCounts,
};
use bosun_core::paging;
use bosun_store::{ComplianceItemRecord, ComplianceOutcome, UploadMode};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::wire::epoch_seconds;
use super::{parse, reply, Ctx};
use crate::api::error::ApiError;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ExecutionSummary {
    execution_time: Option<f64>,
    execution_id: Option<String>,
    execution_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ItemEntry {
    id: Option<String>,
    title: Option<String>,
    severity: Option<String>,
    status: Option<String>,
    details: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRequest {
    resource_id: Option<String>,
    resource_type: Option<String>,
    compliance_type: Option<String>,
    execution_summary: Option<ExecutionSummary>,
    items: Option<Vec<ItemEntry>>,
    item_content_hash: Option<String>,
    upload_type: Option<String>,
}

pub fn put_compliance_items(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: PutRequest = parse(body)?;
    let resource_type = req.resource_type.unwrap_or_default();
    let resource_id = req.resource_id.unwrap_or_default();
    let compliance_type = req.compliance_type.unwrap_or_default();
    if resource_type != rules::RESOURCE_TYPE {
        return Err(ApiError::new(
            "InvalidResourceType",
            format!(
                "Compliance is recorded for ManagedInstance resources only, not {resource_type}."
            ),
        ));
    }
    let node = ctx.state.store.get_instance(&resource_id)?;
    if !node.is_some_and(|n| n.region == ctx.region && !n.deregistered) {
        return Err(ApiError::new(
            "InvalidResourceId",
            format!("The resource ID {resource_id} is not a managed node of this region."),
        ));
    }
    ctx.authorize_nodes("ssm:PutComplianceItems", [resource_id.as_str()])?;
    let mode = match req.upload_type.as_deref() {
        Some("PARTIAL") if compliance_type != "Association" => {
            return Err(ApiError::validation(
                "UploadType PARTIAL is only valid for association compliance (ComplianceType Association).",
            ));
        }
        Some("PARTIAL") => UploadMode::Partial,
        _ => UploadMode::Complete,
    };
    if mode == UploadMode::Partial {
        manual_associations_only(ctx, req.items.iter().flatten())?;
    }
    let summary = req.execution_summary.unwrap_or(ExecutionSummary {
        execution_time: None,
        execution_id: None,
        execution_type: None,
    });
    let execution_time_ms = (summary.execution_time.unwrap_or_default() * 1000.0).round() as i64;
    let mut seen = HashSet::new();
    let mut records = Vec::new();
    for entry in req.items.unwrap_or_default() {
        let id = entry.id.unwrap_or_default();
        if !seen.insert(id.clone()) {
            return Err(ApiError::new(
                "InvalidItemContentException",
                format!("Two items have the Id \"{id}\": each item of an upload needs its own Id."),
            ));
        }
        records.push(ComplianceItemRecord {
            region: ctx.region.clone(),
            resource_type: resource_type.clone(),
            resource_id: resource_id.clone(),
            compliance_type: compliance_type.clone(),
            id,
            title: entry.title.unwrap_or_default(),
            status: entry.status.unwrap_or_default(),
            severity: entry.severity.unwrap_or_default(),
            details: serde_json::to_string(&entry.details.unwrap_or_default())
                .map_err(ApiError::internal)?,
            execution_id: summary.execution_id.clone().unwrap_or_default(),
            execution_type: summary.execution_type.clone().unwrap_or_default(),
            execution_time_ms,
        });
    }
    let outcome = ctx.state.store.put_compliance_items(
        &ctx.region,
        &resource_type,
        &resource_id,
        &compliance_type,
        &records,
        mode,
        req.item_content_hash.as_deref(),
        rules::MAX_TYPES_PER_RESOURCE,
    )?;
    if outcome == ComplianceOutcome::TooManyTypes {
        return Err(ApiError::new(
            "ComplianceTypeCountLimitExceededException",
            format!(
                "You specified too many custom compliance types. You can specify a maximum of {} different types.",
                rules::MAX_TYPES_PER_RESOURCE
            ),
        ));
    }
    reply(&json!({}))
}

/// A partial `Association` upload replaces the items of the associations it names, which
/// must be associations of the region whose compliance is `MANUAL`: those with `AUTO` are
/// written by State Manager from their runs.
fn manual_associations_only<'i>(
    ctx: &Ctx,
    items: impl Iterator<Item = &'i ItemEntry>,
) -> Result<(), ApiError> {
    for item in items {
        let id = item.id.as_deref().unwrap_or_default();
        let association = ctx.state.store.get_association(&ctx.region, id)?;
        let manual = association.is_some_and(|a| {
            serde_json::from_str::<Value>(&a.definition.spec_json)
                .ok()
                .and_then(|spec| spec.get("SyncCompliance").cloned())
                == Some(json!("MANUAL"))
        });
        if !manual {
            return Err(ApiError::new(
                "InvalidItemContentException",
                format!(
                    "The item Id \"{id}\" is not an association whose SyncCompliance is MANUAL: \
                     a PARTIAL upload can only replace the compliance of such associations."
                ),
            ));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Filter {
    key: Option<String>,
    values: Option<Vec<String>>,
    #[serde(rename = "Type")]
    op: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    filters: Option<Vec<Filter>>,
    resource_ids: Option<Vec<String>>,
    resource_types: Option<Vec<String>>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

fn filters(req: &ListRequest, target: FilterTarget) -> Result<Vec<ComplianceFilter>, ApiError> {
    let filters: Vec<ComplianceFilter> = req
        .filters
        .iter()
        .flatten()
        .map(|f| ComplianceFilter {
            key: f.key.clone().unwrap_or_default(),
            values: f.values.clone().unwrap_or_default(),
            op: f.op.clone(),
        })
        .collect();
    check_filters(&filters, target).map_err(|r| ApiError::new(r.code, r.message))?;
    Ok(filters)
}

/// One page of `items` (already in order), keyed by `key`, and its next token.
fn page<T>(
    req: &ListRequest,
    items: Vec<T>,
    key: impl Fn(&T) -> String,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let after = match &req.next_token {
        Some(t) => Some(paging::decode_token(t).ok_or_else(|| {
            ApiError::new("InvalidNextToken", "The specified token is not valid.")
        })?),
        None => None,
    };
    let keyed: Vec<(String, T)> = items.into_iter().map(|i| (key(&i), i)).collect();
    let max = req.max_results.unwrap_or(50).clamp(1, 50) as usize;
    let page = paging::page_after(keyed, after.as_deref(), max, |(k, _)| k.as_str());
    Ok((
        page.items.into_iter().map(|(_, i)| i).collect(),
        page.next_token,
    ))
}

fn facts(r: &ComplianceItemRecord) -> ItemFacts<'_> {
    ItemFacts {
        resource_type: &r.resource_type,
        resource_id: &r.resource_id,
        compliance_type: &r.compliance_type,
        status: &r.status,
        severity: &r.severity,
        execution_time_ms: r.execution_time_ms,
        execution_id: &r.execution_id,
        execution_type: &r.execution_type,
    }
}

fn execution_summary(time_ms: i64, id: &str, kind: &str) -> Value {
    let mut s = Map::new();
    s.insert("ExecutionTime".into(), json!(epoch_seconds(time_ms)));
    if !id.is_empty() {
        s.insert("ExecutionId".into(), json!(id));
    }
    if !kind.is_empty() {
        s.insert("ExecutionType".into(), json!(kind));
    }
    Value::Object(s)
}

pub fn list_compliance_items(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: ListRequest = parse(body)?;
    let filters = filters(&req, FilterTarget::Items)?;
    if req.resource_ids.as_ref().is_some_and(|ids| ids.len() > 1) {
        return Err(ApiError::validation(
            "Currently, you can only specify one resource ID.",
        ));
    }
    if let Some(t) = req
        .resource_types
        .iter()
        .flatten()
        .find(|t| *t != rules::RESOURCE_TYPE)
    {
        return Err(ApiError::new(
            "InvalidResourceType",
            format!("Compliance is recorded for ManagedInstance resources only, not {t}."),
        ));
    }
    let wanted = req
        .resource_ids
        .as_ref()
        .and_then(|ids| ids.first())
        .cloned();
    let items: Vec<ComplianceItemRecord> = ctx
        .state
        .store
        .compliance_items(&ctx.region)?
        .into_iter()
        .filter(|i| wanted.as_ref().is_none_or(|w| *w == i.resource_id))
        .filter(|i| {
            filters.iter().all(|f| {
                f.matches(match f.key.as_str() {
                    "ComplianceType" => &i.compliance_type,
                    "Status" => &i.status,
                    "Severity" => &i.severity,
                    "Id" => &i.id,
                    "ExecutionId" => &i.execution_id,
                    _ => &i.execution_type,
                })
            })
        })
        .collect();
    let (items, next) = page(&req, items, |i| {
        format!(
            "{}\u{1}{}\u{1}{}\u{1}{}",
            i.resource_type, i.resource_id, i.compliance_type, i.id
        )
    })?;
    let list: Vec<Value> = items
        .iter()
        .map(|i| {
            let details: Value = serde_json::from_str(&i.details).unwrap_or_else(|_| json!({}));
            json!({
                "ComplianceType": i.compliance_type,
                "ResourceType": i.resource_type,
                "ResourceId": i.resource_id,
                "Id": i.id,
                "Title": i.title,
                "Status": i.status,
                "Severity": i.severity,
                "ExecutionSummary": execution_summary(i.execution_time_ms, &i.execution_id, &i.execution_type),
                "Details": details,
            })
        })
        .collect();
    let mut out = json!({ "ComplianceItems": list });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    reply(&out)
}

fn severity_summary(c: &SeverityCounts) -> Value {
    let n = &c.counts;
    json!({
        "CriticalCount": n[0], "HighCount": n[1], "MediumCount": n[2],
        "LowCount": n[3], "InformationalCount": n[4], "UnspecifiedCount": n[5],
    })
}

fn summaries(ctx: &Ctx) -> Result<Vec<ResourceSummary>, ApiError> {
    let items = ctx.state.store.compliance_items(&ctx.region)?;
    let facts: Vec<ItemFacts<'_>> = items.iter().map(facts).collect();
    Ok(rules::resource_summaries(&facts))
}

pub fn list_resource_compliance_summaries(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: ListRequest = parse(body)?;
    let filters = filters(&req, FilterTarget::ResourceSummaries)?;
    let resources: Vec<ResourceSummary> = summaries(ctx)?
        .into_iter()
        .filter(|r| {
            filters.iter().all(|f| {
                f.matches(match f.key.as_str() {
                    "ComplianceType" => &r.compliance_type,
                    "Status" => r.status,
                    "OverallSeverity" => &r.overall_severity,
                    "ResourceId" => &r.resource_id,
                    _ => &r.resource_type,
                })
            })
        })
        .collect();
    let (resources, next) = page(&req, resources, |r| {
        format!(
            "{}\u{1}{}\u{1}{}",
            r.resource_type, r.resource_id, r.compliance_type
        )
    })?;
    let list: Vec<Value> = resources
        .iter()
        .map(|r| {
            json!({
                "ComplianceType": r.compliance_type,
                "ResourceType": r.resource_type,
                "ResourceId": r.resource_id,
                "Status": r.status,
                "OverallSeverity": r.overall_severity,
                "ExecutionSummary": execution_summary(r.execution_time_ms, &r.execution_id, &r.execution_type),
                "CompliantSummary": {
                    "CompliantCount": r.compliant.total(),
                    "SeveritySummary": severity_summary(&r.compliant),
                },
                "NonCompliantSummary": {
                    "NonCompliantCount": r.non_compliant.total(),
                    "SeveritySummary": severity_summary(&r.non_compliant),
                },
            })
        })
        .collect();
    let mut out = json!({ "ResourceComplianceSummaryItems": list });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    reply(&out)
}

pub fn list_compliance_summaries(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: ListRequest = parse(body)?;
    let filters = filters(&req, FilterTarget::TypeSummaries)?;
    let types: Vec<_> = rules::type_summaries(&summaries(ctx)?)
        .into_iter()
        .filter(|t| filters.iter().all(|f| f.matches(&t.compliance_type)))
        .collect();
    let (types, next) = page(&req, types, |t| t.compliance_type.clone())?;
    let list: Vec<Value> = types
        .iter()
        .map(|t| {
            json!({
                "ComplianceType": t.compliance_type,
                "CompliantSummary": {
                    "CompliantCount": t.compliant.total(),
                    "SeveritySummary": severity_summary(&t.compliant),
                },
                "NonCompliantSummary": {
                    "NonCompliantCount": t.non_compliant.total(),
                    "SeveritySummary": severity_summary(&t.non_compliant),
                },
            })
        })
        .collect();
    let mut out = json!({ "ComplianceSummaryItems": list });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    reply(&out)
}
