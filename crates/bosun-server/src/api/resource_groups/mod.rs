//! The AWS Resource Groups API subset on the same endpoint (REST-JSON, signing name
//! `resource-groups`): tag-query groups over Bosun's managed nodes, so `resource-groups:Name`
//! targets work in Run Command. Every call goes through the shared admission pipeline
//! ([`crate::api::pipeline::serve`]): signature, IAM policy (`resource-groups:<Operation>` on
//! the group's ARN), SDK-retry replay, audit.

mod groups;
mod members;
mod routes;
mod tags;

use axum::http::StatusCode;
use bosun_core::arn::Scope;
use bosun_core::resource_groups::{self as rg, Refusal};
use bosun_store::GroupRecord;
use serde_json::{json, Value};

use super::error::ApiError;
use super::ops::Operation;
use super::pipeline::{Protocol, Surface};
use super::Ctx;

pub(crate) use members::group_nodes;
pub use routes::routes;

/// Resource Groups in the admission pipeline.
pub static SURFACE: Surface = Surface {
    signing_name: "resource-groups",
    action_prefix: "resource-groups",
    signs_target: false,
    resource_arn,
    authorized_by_handler: |_| false,
    answers_in_change: |_| false,
    runs_inline: |_, _| false,
    check: |_, _, _| Ok(()),
    protocol: Protocol::Json,
};

/// The operations served, by the name IAM and the audit trail use.
pub const OPERATIONS: &[Operation] = &[
    op("CreateGroup", true, groups::create_group),
    op("GetGroup", false, groups::get_group),
    op("UpdateGroup", true, groups::update_group),
    op("DeleteGroup", true, groups::delete_group),
    op("ListGroups", false, groups::list_groups),
    op("GetGroupQuery", false, groups::get_group_query),
    op("UpdateGroupQuery", true, groups::update_group_query),
    op("ListGroupResources", false, members::list_group_resources),
    op("SearchResources", false, members::search_resources),
    op("Tag", true, tags::tag),
    op("Untag", true, tags::untag),
    op("GetTags", false, tags::get_tags),
];

const fn op(
    name: &'static str,
    mutating: bool,
    handler: fn(&Ctx, Value) -> Result<Value, ApiError>,
) -> Operation {
    Operation {
        name,
        mutating,
        handler,
    }
}

fn find(name: &str) -> &'static Operation {
    OPERATIONS
        .iter()
        .find(|o| o.name == name)
        .expect("every route names a served operation")
}

/// The group a request names (`Group`, a name or ARN, or the older `GroupName`), for policies.
fn resource_arn(scope: &Scope, op: &str, input: &Value) -> String {
    let named = input
        .get("Group")
        .or_else(|| input.get("GroupName"))
        .or_else(|| input.get("Name"))
        .and_then(Value::as_str);
    match (op, named) {
        ("Tag" | "Untag" | "GetTags", _) => input
            .get("Arn")
            .and_then(Value::as_str)
            .unwrap_or("*")
            .to_string(),
        ("ListGroups" | "SearchResources", _) | (_, None) => "*".into(),
        (_, Some(n)) => match rg::name_of(n, &scope.region, &scope.account_id) {
            Ok(name) => rg::group_arn(&scope.region, &scope.account_id, &name),
            Err(_) => n.to_string(),
        },
    }
}

/// Resource Groups' errors: `BadRequestException` (400), `NotFoundException` (404).
pub(crate) fn refused(r: Refusal) -> ApiError {
    let status = match r.code {
        "NotFoundException" => StatusCode::NOT_FOUND,
        "ForbiddenException" => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    };
    ApiError::new(r.code, r.message).with_status(status)
}

fn bad(message: impl Into<String>) -> ApiError {
    refused(Refusal {
        code: "BadRequestException",
        message: message.into(),
    })
}

fn not_found(name: &str) -> ApiError {
    refused(Refusal {
        code: "NotFoundException",
        message: format!("Cannot find group {name}."),
    })
}

/// The group a request names (`Group` or `GroupName`), which must exist.
fn named_group(ctx: &Ctx, input: &Value) -> Result<GroupRecord, ApiError> {
    let named = input
        .get("Group")
        .or_else(|| input.get("GroupName"))
        .and_then(Value::as_str)
        .ok_or_else(|| bad("The request must name a group (Group or GroupName)."))?;
    let name = rg::name_of(named, &ctx.region, &ctx.state.config.account_id).map_err(refused)?;
    ctx.state
        .store
        .get_group(&ctx.region, &name)?
        .ok_or_else(|| not_found(&name))
}

fn group_json(ctx: &Ctx, g: &GroupRecord) -> Value {
    let mut v = json!({
        "GroupArn": rg::group_arn(&g.region, &ctx.state.config.account_id, &g.name),
        "Name": g.name,
    });
    if !g.description.is_empty() {
        v["Description"] = json!(g.description);
    }
    v
}

fn query_json(g: &GroupRecord) -> Value {
    json!({ "Type": g.query_type, "Query": g.query })
}

/// `MaxResults` (1–50) and the position after `NextToken`.
fn paging(input: &Value) -> Result<(usize, Option<String>), ApiError> {
    let max = match input.get("MaxResults") {
        None | Some(Value::Null) => 50,
        Some(v) => match v.as_u64() {
            Some(n @ 1..=50) => n as usize,
            _ => return Err(bad("MaxResults must be a number from 1 to 50.")),
        },
    };
    let after = match input.get("NextToken").and_then(Value::as_str) {
        None => None,
        Some(t) => Some(
            bosun_core::paging::decode_token(t)
                .ok_or_else(|| bad("The NextToken is not valid."))?,
        ),
    };
    Ok((max, after))
}
