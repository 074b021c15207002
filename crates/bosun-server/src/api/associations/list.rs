//! `ListAssociations` (every filter key of the model) and `ListAssociationVersions`, paged.

use bosun_core::paging;
use bosun_core::validate::Validation;
use bosun_store::AssociationFilter;
use serde::Deserialize;
use serde_json::{json, Value};

use super::input::{check_members, AssociationInput};
use super::{no_such_association, shape};
use crate::api::documents::decode;
use crate::api::error::ApiError;
use crate::api::{parse, Ctx};
use crate::documents::bare_name;

const FILTER_KEYS: &[&str] = &[
    "InstanceId",
    "Name",
    "AssociationId",
    "AssociationStatusName",
    "LastExecutedBefore",
    "LastExecutedAfter",
    "AssociationName",
    "ResourceGroupName",
    "CloudConnectorId",
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    association_filter_list: Option<Vec<Filter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
struct Filter {
    key: Option<String>,
    value: Option<String>,
}

/// A `LastExecuted*` value: an ISO 8601 instant (`2024-05-01T00:00:00Z`) or epoch seconds.
fn instant_ms(key: &str, value: &str) -> Result<i64, ApiError> {
    if let Ok(t) = value.parse::<jiff::Timestamp>() {
        return Ok(t.as_millisecond());
    }
    if let Ok(seconds) = value.parse::<f64>() {
        return Ok((seconds * 1000.0).round() as i64);
    }
    Err(ApiError::validation(format!(
        "The {key} filter value {value} is not a time; give an ISO 8601 instant such as \
         2024-05-01T00:00:00Z."
    )))
}

/// Set one condition; a key given twice with different values matches nothing (`None`).
fn set<T: PartialEq>(slot: &mut Option<T>, value: T, contradiction: &mut bool) {
    match slot {
        Some(old) if *old != value => *contradiction = true,
        _ => *slot = Some(value),
    }
}

pub fn list_associations(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: ListRequest = parse(body)?;
    let mut v = Validation::new();
    v.range("maxResults", req.max_results, 1, 50);
    v.list_length(
        "associationFilterList",
        req.association_filter_list.as_ref().map(Vec::len),
        1,
        usize::MAX,
    );
    for (i, f) in req.association_filter_list.iter().flatten().enumerate() {
        let field = format!("associationFilterList.{}.member", i + 1);
        v.required(&format!("{field}.key"), f.key.as_ref());
        v.one_of(&format!("{field}.key"), f.key.as_deref(), FILTER_KEYS);
        v.required(&format!("{field}.value"), f.value.as_ref());
        v.length(&format!("{field}.value"), f.value.as_deref(), 1, usize::MAX);
    }
    v.finish().map_err(ApiError::validation)?;
    let mut filter = AssociationFilter::default();
    let mut contradiction = false;
    for f in req.association_filter_list.iter().flatten() {
        let key = f.key.as_deref().unwrap_or_default();
        let value = f.value.clone().unwrap_or_default();
        let c = &mut contradiction;
        match key {
            "Name" => set(&mut filter.name, bare_name(&value).to_string(), c),
            "AssociationId" => set(&mut filter.association_id, value, c),
            "AssociationName" => set(&mut filter.association_name, value, c),
            "InstanceId" => set(&mut filter.instance_id, value, c),
            "AssociationStatusName" => set(&mut filter.overview_status, value, c),
            "LastExecutedBefore" => {
                let ms = instant_ms(key, &value)?;
                set(&mut filter.last_executed_before_ms, ms, c)
            }
            "LastExecutedAfter" => {
                let ms = instant_ms(key, &value)?;
                set(&mut filter.last_executed_after_ms, ms, c)
            }
            "CloudConnectorId" => {
                return Err(ApiError::validation(
                    "The CloudConnectorId filter needs cloud connectors, which this Bosun \
                     server does not have, and no association can target one.",
                ))
            }
            _ => {
                return Err(ApiError::validation(
                    "The ResourceGroupName filter needs AWS Resource Groups, which this Bosun \
                     server does not have, and no association can target one.",
                ))
            }
        }
    }
    let after = decode(&req.next_token)?;
    let max = req.max_results.unwrap_or(50) as usize;
    let mut found = if contradiction {
        Vec::new()
    } else {
        ctx.state
            .store
            .list_associations(&ctx.region, &filter, after.as_deref(), max + 1)?
    };
    let next = (found.len() > max).then(|| {
        found.truncate(max);
        paging::encode_token(&found[max - 1].association_id)
    });
    let mut out = json!({ "Associations": found.iter().map(shape::list_item).collect::<Vec<_>>() });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VersionsRequest {
    association_id: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub fn list_association_versions(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: VersionsRequest = parse(body)?;
    let mut v = Validation::new();
    v.required("associationId", req.association_id.as_ref());
    v.range("maxResults", req.max_results, 1, 50);
    let members = AssociationInput {
        association_id: req.association_id.clone(),
        ..Default::default()
    };
    check_members(&members, &mut v);
    v.finish().map_err(ApiError::validation)?;
    let id = req.association_id.unwrap_or_default();
    if ctx.state.store.get_association(&ctx.region, &id)?.is_none() {
        return Err(no_such_association());
    }
    let after = match decode(&req.next_token)? {
        Some(t) => t
            .parse::<i64>()
            .map_err(|_| ApiError::new("InvalidNextToken", "The specified token is not valid."))?,
        None => 0,
    };
    let max = req.max_results.unwrap_or(50) as usize;
    let mut versions = ctx
        .state
        .store
        .association_versions(&ctx.region, &id, after, max + 1)?;
    let next = (versions.len() > max).then(|| {
        versions.truncate(max);
        paging::encode_token(&versions[max - 1].version.to_string())
    });
    let mut out = json!({
        "AssociationVersions": versions.iter().map(|v| shape::version_info(&id, v)).collect::<Vec<_>>()
    });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}
