//! `LabelParameterVersion` and `UnlabelParameterVersion`.

use bosun_core::parameters::labels::{is_valid, MAX_LABELS_PER_VERSION};
use bosun_core::parameters::name;
use bosun_store::LabelOutcome;
use serde::Deserialize;
use serde_json::{json, Value};

use super::parameters::{arn_prefix, not_found};
use super::{parse, Ctx};
use crate::api::error::ApiError;

/// Checked against botocore's model (name, version where required, 1–10 labels of 1–100
/// characters) before a handler runs.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LabelRequest {
    name: Option<String>,
    parameter_version: Option<i64>,
    labels: Option<Vec<String>>,
}

/// The parameter's key and the version addressed (latest when none is given).
fn target(ctx: &Ctx, req: &LabelRequest) -> Result<(String, String, i64), ApiError> {
    let r = name::parse_reference(req.name.as_deref().unwrap_or_default(), &arn_prefix(ctx))
        .filter(|r| r.selector.is_none())
        .ok_or_else(not_found)?;
    let key = name::key(&r.name);
    let latest = ctx
        .state
        .store
        .parameter(&ctx.region, &key)?
        .ok_or_else(not_found)?;
    Ok((
        key,
        latest.name,
        req.parameter_version.unwrap_or(latest.version),
    ))
}

fn version_not_found(name: &str, version: i64) -> ApiError {
    ApiError::new(
        "ParameterVersionNotFound",
        format!("Systems Manager could not find version {version} of {name}. Verify the version and try again."),
    )
}

pub fn label_parameter_version(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: LabelRequest = parse(body)?;
    let (key, name, version) = target(ctx, &req)?;
    let labels = req.labels.unwrap_or_default();
    let (valid, invalid): (Vec<String>, Vec<String>) =
        labels.into_iter().partition(|l| is_valid(l));
    match ctx.state.store.label_parameter_version(&ctx.region, &key, version, &valid, MAX_LABELS_PER_VERSION)? {
        LabelOutcome::Done => Ok(json!({ "InvalidLabels": invalid, "ParameterVersion": version })),
        LabelOutcome::VersionNotFound => Err(version_not_found(&name, version)),
        LabelOutcome::TooManyLabels => Err(ApiError::new(
            "ParameterVersionLabelLimitExceeded",
            format!("A parameter version can have at most {MAX_LABELS_PER_VERSION} labels; version {version} of {name} would have more."),
        )),
    }
}

pub fn unlabel_parameter_version(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: LabelRequest = parse(body)?;
    let (key, name, version) = target(ctx, &req)?;
    let labels = req.labels.unwrap_or_default();
    let removed = ctx
        .state
        .store
        .unlabel_parameter_version(&ctx.region, &key, version, &labels)?
        .ok_or_else(|| version_not_found(&name, version))?;
    let invalid: Vec<&String> = labels.iter().filter(|l| !removed.contains(l)).collect();
    Ok(json!({ "RemovedLabels": removed, "InvalidLabels": invalid }))
}
