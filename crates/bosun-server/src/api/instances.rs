//! `DescribeInstanceInformation`, `DeregisterManagedInstance`, `UpdateManagedInstanceRole`.

use crate::replicas::Presence;
use std::collections::HashMap;

use bosun_core::ids;
use bosun_core::instance::{FilterError, InstanceFacts, InstanceFilter, PingStatus};
use bosun_core::paging;
use bosun_core::validate::Validation;
use bosun_store::InstanceRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire::epoch_seconds;
use super::{parse, reply, Ctx};
use crate::api::error::ApiError;

/// The agent version this server ships with: nodes at least at it are `IsLatestVersion` while
/// no default agent release is published (then the default release is the latest).
pub const LATEST_AGENT_VERSION: &str = env!("CARGO_PKG_VERSION");

const MANAGED_INSTANCE_ID_PATTERN: &str =
    r"(^mi-[0-9a-f]{17}$)|(^eks_c:[0-9A-Za-z][A-Za-z0-9\-_]{0,99}_\w{17}$)";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeInstanceInformationRequest {
    instance_information_filter_list: Option<Vec<LegacyFilter>>,
    filters: Option<Vec<StringFilter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
struct LegacyFilter {
    key: Option<String>,
    #[serde(rename = "valueSet")]
    value_set: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StringFilter {
    key: Option<String>,
    values: Option<Vec<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceInformation {
    instance_id: String,
    ping_status: &'static str,
    last_ping_date_time: f64,
    agent_version: String,
    is_latest_version: bool,
    platform_type: String,
    platform_name: String,
    platform_version: String,
    activation_id: String,
    iam_role: String,
    registration_date: f64,
    resource_type: &'static str,
    name: String,
    #[serde(rename = "IPAddress")]
    ip_address: String,
    computer_name: String,
    source_id: String,
    source_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeInstanceInformationResult {
    instance_information_list: Vec<InstanceInformation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

fn filter_error(e: FilterError) -> ApiError {
    match e {
        FilterError::InvalidFilterKey(m) => ApiError::new("InvalidFilterKey", m),
        FilterError::InvalidInstanceInformationFilterValue(m) => {
            ApiError::new("InvalidInstanceInformationFilterValue", m)
        }
    }
}

/// A node's current ping status and last-heard time: from its channel when it is connected
/// here, from the replica holding its channel when it is connected to another live replica
/// (`presence`), else from the store. A session row naming this replica is not enough: the
/// channel is attached just after it is written.
pub fn ping_of(ctx: &Ctx, presence: &Presence, n: &InstanceRecord) -> (PingStatus, i64) {
    let live = ctx
        .state
        .hub
        .last_heard(&n.instance_id)
        .or_else(|| presence.heard_elsewhere(&n.instance_id, &ctx.state.replica.id));
    let last = live.unwrap_or(n.last_ping_ms).max(n.last_ping_ms);
    let timeout = ctx.state.config.heartbeat_timeout().as_millis() as i64;
    (
        PingStatus::derive(n.deregistered, live.is_some(), last, ctx.now_ms, timeout),
        last,
    )
}

pub fn describe_instance_information(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: DescribeInstanceInformationRequest = parse(body)?;
    let mut v = Validation::new();
    v.range("maxResults", req.max_results, 5, 50);
    for (i, f) in req
        .instance_information_filter_list
        .iter()
        .flatten()
        .enumerate()
    {
        let field = format!("instanceInformationFilterList.{}.member", i + 1);
        v.required(&format!("{field}.key"), f.key.as_ref());
        v.required(&format!("{field}.valueSet"), f.value_set.as_ref());
        v.list_length(
            &format!("{field}.valueSet"),
            f.value_set.as_ref().map(Vec::len),
            1,
            100,
        );
    }
    for (i, f) in req.filters.iter().flatten().enumerate() {
        let field = format!("filters.{}.member", i + 1);
        v.required(&format!("{field}.key"), f.key.as_ref());
        v.length(&format!("{field}.key"), f.key.as_deref(), 1, usize::MAX);
        v.required(&format!("{field}.values"), f.values.as_ref());
        v.list_length(
            &format!("{field}.values"),
            f.values.as_ref().map(Vec::len),
            1,
            100,
        );
    }
    v.finish().map_err(ApiError::validation)?;

    let mut filters = Vec::new();
    for f in req.instance_information_filter_list.unwrap_or_default() {
        let key = f.key.unwrap_or_default();
        filters.push(
            InstanceFilter::parse(&key, f.value_set.unwrap_or_default(), false)
                .map_err(filter_error)?,
        );
    }
    for f in req.filters.unwrap_or_default() {
        let key = f.key.unwrap_or_default();
        filters.push(
            InstanceFilter::parse(&key, f.values.unwrap_or_default(), true)
                .map_err(filter_error)?,
        );
    }
    let after = match &req.next_token {
        Some(t) => Some(paging::decode_token(t).ok_or_else(|| {
            ApiError::new("InvalidNextToken", "The specified token is not valid.")
        })?),
        None => None,
    };

    let tags = node_tags(ctx)?;
    let mut selected = Vec::new();
    let presence = Presence::load(&*ctx.state.store, ctx.now_ms).map_err(ApiError::internal)?;
    for n in ctx.state.store.list_instances(&ctx.region)? {
        let (status, last) = ping_of(ctx, &presence, &n);
        let no_tags = Vec::new();
        let facts = InstanceFacts {
            instance_id: &n.instance_id,
            ping_status: status,
            agent_version: &n.info.agent_version,
            platform_type: &n.info.platform_type,
            activation_id: &n.activation_id,
            iam_role: &n.iam_role,
            resource_type: "ManagedInstance",
            association_status: None,
            tags: tags.get(&n.instance_id).unwrap_or(&no_tags),
        };
        if filters.iter().all(|f| f.matches(&facts)) {
            selected.push((n, status, last));
        }
    }
    let max = req.max_results.unwrap_or(50) as usize;
    let page = paging::page_after(selected, after.as_deref(), max, |(n, _, _)| {
        n.instance_id.as_str()
    });
    // Each node is compared with the release it would get: its pin, else the default.
    let default = super::agent_release_targets::latest_default(&*ctx.state.store)?;
    let default = default.as_deref().unwrap_or(LATEST_AGENT_VERSION);
    let pins = super::agent_release_targets::region_pins(&*ctx.state.store, &ctx.region)?;
    let no_tags = Vec::new();
    let list = page
        .items
        .into_iter()
        .map(|(n, status, last)| InstanceInformation {
            ping_status: status.as_str(),
            last_ping_date_time: epoch_seconds(last),
            is_latest_version: bosun_core::agent_release::is_latest(
                &n.info.agent_version,
                bosun_core::agent_release::pins::target_for(
                    &pins,
                    tags.get(&n.instance_id).unwrap_or(&no_tags),
                )
                .latest(default),
            ),
            registration_date: epoch_seconds(n.registration_ms),
            resource_type: "ManagedInstance",
            source_id: n.instance_id.clone(),
            source_type: "AWS::SSM::ManagedInstance",
            instance_id: n.instance_id,
            agent_version: n.info.agent_version,
            platform_type: n.info.platform_type,
            platform_name: n.info.platform_name,
            platform_version: n.info.platform_version,
            activation_id: n.activation_id,
            iam_role: n.iam_role,
            name: n.name,
            ip_address: n.info.ip_address,
            computer_name: n.info.computer_name,
        })
        .collect();
    reply(&DescribeInstanceInformationResult {
        instance_information_list: list,
        next_token: page.next_token,
    })
}

/// Validate a `ManagedInstanceId` member.
fn check_managed_instance_id(v: &mut Validation, id: Option<&String>) {
    v.required("instanceId", id);
    if let Some(id) = id {
        v.length("instanceId", Some(id), 20, 124);
        if id.len() >= 20 && !ids::is_managed_instance_id(id) && !id.starts_with("eks_c:") {
            v.pattern_failed("instanceId", id, MANAGED_INSTANCE_ID_PATTERN);
        }
    }
}

fn invalid_instance(id: &str) -> ApiError {
    ApiError::new(
        "InvalidInstanceId",
        format!("Instance Id {id} is not valid or is not registered in this region."),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeregisterRequest {
    instance_id: Option<String>,
}

pub fn deregister_managed_instance(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: DeregisterRequest = parse(body)?;
    let mut v = Validation::new();
    check_managed_instance_id(&mut v, req.instance_id.as_ref());
    v.finish().map_err(ApiError::validation)?;
    let id = req.instance_id.unwrap_or_default();
    if !ctx.state.store.deregister_instance(&ctx.region, &id)? {
        return Err(invalid_instance(&id));
    }
    ctx.state.hub.deregistered(&id);
    if let Err(e) = crate::node_pings::announce(ctx.state, &id, None, "Inactive", ctx.now_ms) {
        // The sweep announces it later.
        tracing::warn!(instance_id = %id, error = %e, "could not announce the node Inactive");
    }
    // Its association statuses and `Association` compliance items go (`new_nodes.rs`).
    ctx.state.associations.targets_changed();
    reply(&serde_json::json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateRoleRequest {
    instance_id: Option<String>,
    iam_role: Option<String>,
}

pub fn update_managed_instance_role(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: UpdateRoleRequest = parse(body)?;
    let mut v = Validation::new();
    check_managed_instance_id(&mut v, req.instance_id.as_ref());
    v.required("iamRole", req.iam_role.as_ref());
    v.length("iamRole", req.iam_role.as_deref(), 0, 64);
    v.finish().map_err(ApiError::validation)?;
    let id = req.instance_id.unwrap_or_default();
    if !ctx
        .state
        .store
        .set_instance_role(&ctx.region, &id, &req.iam_role.unwrap_or_default())?
    {
        return Err(invalid_instance(&id));
    }
    reply(&serde_json::json!({}))
}

/// Every managed node's tags in the caller's region, by node id.
pub(crate) fn node_tags(ctx: &Ctx) -> Result<HashMap<String, Vec<(String, String)>>, ApiError> {
    let mut tags: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (id, k, v) in ctx
        .state
        .store
        .tags_of_type(&ctx.region, "ManagedInstance")?
    {
        tags.entry(id).or_default().push((k, v));
    }
    Ok(tags)
}
