//! A node's associations: `DescribeInstanceAssociationsStatus` (each association's latest
//! outcome on the node, stored when its execution ended, or the node's invocation of a running
//! execution), `DescribeEffectiveInstanceAssociations` (the associations whose targets match
//! the node now, with their document's content) and `UpdateAssociationStatus` (a legacy
//! association's `AssociationStatus`, as the agent reports it on AWS).

use bosun_core::{ids, paging};
use bosun_store::{AssociationRecord, NodeAssociationStatus, StatusChange, StatusValue};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{no_such_association, shape, stored_targets};
use crate::api::error::ApiError;
use crate::api::send_command::{nodes_matching, Target};
use crate::api::wire::epoch_seconds;
use crate::api::{parse, Ctx};
use crate::documents::{self, bare_name, Lookup, Selector};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NodeRequest {
    instance_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

fn invalid_instance(id: &str) -> ApiError {
    ApiError::new(
        "InvalidInstanceId",
        format!("Instance Id {id} is not valid."),
    )
}

/// The node must be a registered managed node of the call's region.
fn check_node(ctx: &Ctx, id: &str) -> Result<(), ApiError> {
    let node = ctx.state.store.get_instance(id)?;
    if ids::is_instance_id(id) && node.is_some_and(|n| n.region == ctx.region && !n.deregistered) {
        Ok(())
    } else {
        Err(invalid_instance(id))
    }
}

/// One page of `items` keyed by association id (already in that order), and its next token.
fn page<T>(
    items: Vec<(String, T)>,
    token: Option<&str>,
    max: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let after = match token {
        Some(t) => Some(paging::decode_token(t).ok_or_else(|| {
            ApiError::new("InvalidNextToken", "The specified token is not valid.")
        })?),
        None => None,
    };
    let page = paging::page_after(items, after.as_deref(), max, |(k, _)| k.as_str());
    Ok((
        page.items.into_iter().map(|(_, i)| i).collect(),
        page.next_token,
    ))
}

/// The node's row of each association: the stored outcome, unless a running execution of the
/// association that includes the node started after it.
fn current_rows(ctx: &Ctx, node: &str) -> Result<Vec<NodeAssociationStatus>, ApiError> {
    let mut rows = ctx
        .state
        .store
        .node_association_statuses(&ctx.region, node)?;
    for e in ctx.state.store.open_association_executions()? {
        if e.region != ctx.region || e.command_id.is_empty() {
            continue;
        }
        let Some(i) = ctx.state.store.invocation(&e.command_id, node)? else {
            continue;
        };
        let status = match i.status.as_str() {
            "Pending" | "Delayed" => "Pending",
            _ => "InProgress",
        };
        let running = NodeAssociationStatus {
            region: e.region.clone(),
            association_id: e.association_id.clone(),
            instance_id: node.to_string(),
            association_version: e.association_version,
            document_version: String::new(),
            execution_id: e.execution_id.clone(),
            execution_ms: e.created_ms,
            status: status.into(),
            detailed_status: i.status.clone(),
            error_code: String::new(),
            execution_summary: String::new(),
            additional_info: String::new(),
        };
        match rows
            .iter_mut()
            .find(|r| r.association_id == e.association_id)
        {
            Some(r) if r.execution_ms <= e.created_ms => *r = running,
            Some(_) => {}
            None => rows.push(running),
        }
    }
    rows.sort_by(|a, b| a.association_id.cmp(&b.association_id));
    Ok(rows)
}

fn status_info(a: &AssociationRecord, r: &NodeAssociationStatus) -> Value {
    let mut out = Map::new();
    out.insert("AssociationId".into(), json!(r.association_id));
    out.insert("Name".into(), json!(a.definition.name));
    let version = if r.document_version.is_empty() {
        a.definition.document_version.as_str()
    } else {
        r.document_version.as_str()
    };
    if !version.is_empty() {
        out.insert("DocumentVersion".into(), json!(version));
    }
    out.insert(
        "AssociationVersion".into(),
        json!(r.association_version.to_string()),
    );
    out.insert("InstanceId".into(), json!(r.instance_id));
    out.insert("ExecutionDate".into(), json!(epoch_seconds(r.execution_ms)));
    out.insert("Status".into(), json!(r.status));
    out.insert("DetailedStatus".into(), json!(r.detailed_status));
    for (key, value) in [
        ("ExecutionSummary", &r.execution_summary),
        ("ErrorCode", &r.error_code),
        ("AssociationName", &a.definition.association_name),
    ] {
        if !value.is_empty() {
            out.insert(key.into(), json!(value));
        }
    }
    Value::Object(out)
}

pub fn describe_instance_associations_status(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: NodeRequest = parse(body)?;
    check_node(ctx, &req.instance_id)?;
    let mut keyed = Vec::new();
    for r in current_rows(ctx, &req.instance_id)? {
        if let Some(a) = ctx
            .state
            .store
            .get_association(&ctx.region, &r.association_id)?
        {
            keyed.push((r.association_id.clone(), status_info(&a, &r)));
        }
    }
    let max = req.max_results.unwrap_or(50).clamp(1, 50) as usize;
    let (infos, next) = page(keyed, req.next_token.as_deref(), max)?;
    let mut out = json!({ "InstanceAssociationStatusInfos": infos });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

/// An association's targets (its legacy node as an `InstanceIds` target).
fn targets_of(a: &AssociationRecord) -> Vec<Target> {
    if !a.definition.instance_id.is_empty() {
        return vec![Target {
            key: Some("InstanceIds".into()),
            values: Some(vec![a.definition.instance_id.clone()]),
        }];
    }
    stored_targets(&a.definition).unwrap_or_default()
}

/// Associations read per store call while looking for a node's.
const SCAN_PAGE: usize = 500;

pub fn describe_effective_instance_associations(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: NodeRequest = parse(body)?;
    check_node(ctx, &req.instance_id)?;
    let node: Vec<_> = ctx
        .state
        .store
        .get_instance(&req.instance_id)?
        .into_iter()
        .collect();
    let mut matching = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let list = ctx.state.store.list_associations(
            &ctx.region,
            &Default::default(),
            after.as_deref(),
            SCAN_PAGE,
        )?;
        // A runbook's association is not the node's own (its agent does not run it).
        for a in list.iter().filter(|a| !super::automation::is_automation(a)) {
            let targets = targets_of(a);
            // A target Bosun cannot match (stored before a rule changed) matches nothing here.
            if nodes_matching(ctx, &node, &targets).is_ok_and(|n| !n.is_empty()) {
                matching.push((a.association_id.clone(), a.clone()));
            }
        }
        match list.last() {
            Some(last) if list.len() == SCAN_PAGE => after = Some(last.association_id.clone()),
            _ => break,
        }
    }
    let max = req.max_results.unwrap_or(5).clamp(1, 5) as usize;
    let (page, next) = page(matching, req.next_token.as_deref(), max)?;
    let mut list = Vec::new();
    for a in page {
        let d = &a.definition;
        let selector = Selector::from_request(
            Some(&d.document_version)
                .filter(|v| !v.is_empty())
                .map(String::as_str),
            None,
        );
        let content =
            match documents::resolve(ctx.state.store.as_ref(), &ctx.region, &d.name, selector) {
                Ok(r) => r.content,
                // The document went away after the association was made: nothing to apply.
                Err(Lookup::NoDocument | Lookup::NoVersion) => continue,
                Err(Lookup::Store(e)) => return Err(e.into()),
            };
        list.push(json!({
            "AssociationId": a.association_id,
            "InstanceId": req.instance_id,
            "Content": content,
            "AssociationVersion": a.version.to_string(),
        }));
    }
    let mut out = json!({ "Associations": list });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StatusEntry {
    date: f64,
    name: String,
    message: String,
    additional_info: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateStatusRequest {
    name: String,
    instance_id: String,
    association_status: StatusEntry,
}

/// The `AdditionalInfo` last given to a legacy association's status, if any.
pub(super) fn additional_info(ctx: &Ctx, a: &AssociationRecord) -> Result<String, ApiError> {
    if a.definition.instance_id.is_empty() {
        return Ok(String::new());
    }
    Ok(ctx
        .state
        .store
        .node_association_statuses(&ctx.region, &a.definition.instance_id)?
        .into_iter()
        .find(|r| r.association_id == a.association_id)
        .map(|r| r.additional_info)
        .unwrap_or_default())
}

/// `AssociationDescription` with `Status.AdditionalInfo` when one was given.
fn description_with_info(a: &AssociationRecord, info: &str) -> Value {
    let mut d = shape::description(a, None);
    if let (Some(status), false) = (d.get_mut("Status"), info.is_empty()) {
        status["AdditionalInfo"] = json!(info);
    }
    d
}

pub fn update_association_status(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: UpdateStatusRequest = parse(body)?;
    check_node(ctx, &req.instance_id)?;
    let document = bare_name(&req.name);
    let scope = ctx.scope();
    ctx.authorize_arns(
        "ssm:UpdateAssociationStatus",
        [scope.ssm_arn(&format!("document/{document}")).as_str()],
    )?;
    match documents::resolve(
        ctx.state.store.as_ref(),
        &ctx.region,
        &req.name,
        Selector::Default,
    ) {
        Ok(_) => {}
        Err(Lookup::NoDocument | Lookup::NoVersion) => {
            return Err(ApiError::new(
                "InvalidDocument",
                "The specified document does not exist.",
            ))
        }
        Err(Lookup::Store(e)) => return Err(e.into()),
    }
    let a = ctx
        .state
        .store
        .association_of_node(&ctx.region, document, &req.instance_id)?
        .ok_or_else(no_such_association)?;
    ctx.authorize_arns(
        "ssm:UpdateAssociationStatus",
        [scope
            .ssm_arn(&format!("association/{}", a.association_id))
            .as_str()],
    )?;
    let s = &req.association_status;
    let info = s.additional_info.clone().unwrap_or_default();
    let stored = ctx
        .state
        .store
        .node_association_statuses(&ctx.region, &req.instance_id)?
        .into_iter()
        .find(|r| r.association_id == a.association_id);
    let stored_info = stored
        .as_ref()
        .map(|r| r.additional_info.as_str())
        .unwrap_or("");
    if a.state.status_name == s.name && a.state.status_message == s.message && stored_info == info {
        return Err(ApiError::new(
            "StatusUnchanged",
            "The updated status is the same as the current status.",
        ));
    }
    let date_ms = (s.date * 1000.0).round() as i64;
    let expected = StatusValue {
        name: a.state.status_name.clone(),
        message: a.state.status_message.clone(),
        date_ms: a.state.status_date_ms,
    };
    let new = StatusValue {
        name: s.name.clone(),
        message: s.message.clone(),
        date_ms,
    };
    let row = NodeAssociationStatus {
        region: ctx.region.clone(),
        association_id: a.association_id.clone(),
        instance_id: req.instance_id.clone(),
        association_version: a.version,
        document_version: stored
            .as_ref()
            .map(|r| r.document_version.clone())
            .unwrap_or_default(),
        execution_id: String::new(),
        execution_ms: date_ms,
        status: s.name.clone(),
        detailed_status: s.name.clone(),
        error_code: String::new(),
        execution_summary: s.message.clone(),
        additional_info: info.clone(),
    };
    match ctx.state.store.set_association_status(
        &ctx.region,
        &a.association_id,
        &expected,
        &new,
        &row,
    )? {
        StatusChange::Written => {}
        StatusChange::Conflict => {
            return Err(ApiError::new(
                "TooManyUpdates",
                "There are concurrent updates for a resource that supports one update at a time.",
            ))
        }
        StatusChange::NoSuchAssociation => return Err(no_such_association()),
    }
    let updated = ctx
        .state
        .store
        .get_association(&ctx.region, &a.association_id)?
        .ok_or_else(no_such_association)?;
    Ok(json!({ "AssociationDescription": description_with_info(&updated, &info) }))
}
