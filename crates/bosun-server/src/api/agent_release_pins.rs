//! `BosunAgentRelease.PinAgentRelease|UnpinAgentRelease|ListAgentReleasePins` (IAM
//! `bosun:<Operation>`, served beside the other agent release operations): a published version
//! pinned for the caller's region, or with `Tag: {Key, Value}` for the nodes of the region
//! carrying that tag. What a node then gets is `bosun_core::agent_release::pins`.

use bosun_core::agent_release::{ReleaseVersion, PLATFORM_LINUX};
use bosun_core::tags::{check_tags, TagError};
use bosun_store::AgentReleasePinRecord;
use serde_json::{json, Value};

use super::agent_releases::invalid;
use super::error::ApiError;
use super::Ctx;

/// The request's `Tag`, checked with the tag rules; `None` for the region's own pin.
fn tag_of(input: &Value) -> Result<Option<(String, String)>, ApiError> {
    let Some(tag) = input.get("Tag").filter(|t| !t.is_null()) else {
        return Ok(None);
    };
    let text = |k: &str| tag.get(k).and_then(Value::as_str);
    let (Some(key), Some(value)) = (text("Key"), text("Value")) else {
        return Err(invalid(
            "Tag must be an object with a Key and a Value (strings), e.g. \
             {\"Key\": \"Ring\", \"Value\": \"canary\"}",
        ));
    };
    let pair = (key.to_string(), value.to_string());
    check_tags(std::slice::from_ref(&pair), "Tag").map_err(|e| match e {
        TagError::Validation(m) | TagError::Reserved(m) => invalid(m),
    })?;
    Ok(Some(pair))
}

fn scope_text(region: &str, tag: &Option<(String, String)>) -> String {
    match tag {
        None => format!("region {region}"),
        Some((k, v)) => format!("tag {k}={v} in region {region}"),
    }
}

fn shape(p: &AgentReleasePinRecord) -> Value {
    let mut v = json!({
        "Version": p.version,
        "Region": p.region,
        "PinnedTime": p.pinned_ms as f64 / 1000.0,
    });
    if let Some((key, value)) = &p.tag {
        v["Tag"] = json!({ "Key": key, "Value": value });
    }
    v
}

pub(super) fn pin(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let requested = input
        .get("Version")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("Version is required"))?;
    let wanted = ReleaseVersion::parse(requested).map_err(invalid)?;
    let tag = tag_of(&input)?;
    let not_published = || {
        invalid(format!(
            "agent release {requested} is not published for {PLATFORM_LINUX}: publish it first \
             (bosun agent-release publish; bosun agent-release list shows the published ones)"
        ))
    };
    // The version as it was published (1.2 and 1.2.0 are one version).
    let version = ctx
        .state
        .store
        .list_agent_releases()?
        .into_iter()
        .find(|r| {
            r.platform == PLATFORM_LINUX
                && ReleaseVersion::parse(&r.version).is_ok_and(|v| v == wanted)
        })
        .map(|r| r.version)
        .ok_or_else(not_published)?;
    let record = AgentReleasePinRecord {
        region: ctx.region.clone(),
        tag,
        version,
        pinned_ms: ctx.now_ms,
    };
    if !ctx.state.store.pin_agent_release(&record)? {
        return Err(not_published());
    }
    Ok(json!({ "Pin": shape(&record) }))
}

pub(super) fn unpin(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let tag = tag_of(&input)?;
    let borrowed = tag.as_ref().map(|(k, v)| (k.as_str(), v.as_str()));
    if !ctx.state.store.unpin_agent_release(&ctx.region, borrowed)? {
        return Err(ApiError::new(
            "ResourceNotFoundException",
            format!(
                "no agent release is pinned for {}",
                scope_text(&ctx.region, &tag)
            ),
        ));
    }
    Ok(json!({ "Unpinned": scope_text(&ctx.region, &tag) }))
}

pub(super) fn list(ctx: &Ctx, _input: Value) -> Result<Value, ApiError> {
    let pins: Vec<Value> = ctx
        .state
        .store
        .agent_release_pins(&ctx.region)?
        .iter()
        .map(shape)
        .collect();
    Ok(json!({ "Region": ctx.region, "Pins": pins }))
}
