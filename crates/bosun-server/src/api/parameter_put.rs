//! `PutParameter`: validation in AWS's order, the carry-over of an overwritten version's
//! settings, tier and policy rules, sealing SecureString values, and the 100-version limit.
//!
//! A put whose data type is `aws:ec2:image` is answered once every synchronous check passed,
//! and kept as a pending put (`bosun_store::ParameterValidationStore`); the background
//! validator (`crate::image_validation`) later runs the same code in [`Mode::Apply`], which
//! checks the image id and writes the version, as AWS validates such values asynchronously.

use bosun_core::parameters::image_data_type;
use bosun_core::parameters::key_ref::KeyRef;
use bosun_core::parameters::{self as params, name, policies};
use bosun_core::validate::Validation;
use bosun_store::{ParameterVersion, PendingPut, PutLimits, PutOutcome};
use serde::Deserialize;
use serde_json::{json, Value};

use super::parameters::{arn_prefix, parameter_arn, rejection, user_arn};
use super::wire::{tags_to_pairs, Tag};
use super::{parse, Ctx};
use crate::api::error::ApiError;
use crate::kms::envelope;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRequest {
    name: Option<String>,
    description: Option<String>,
    value: Option<String>,
    #[serde(rename = "Type")]
    param_type: Option<String>,
    key_id: Option<String>,
    overwrite: Option<bool>,
    allowed_pattern: Option<String>,
    tags: Option<Vec<Tag>>,
    tier: Option<String>,
    policies: Option<String>,
    data_type: Option<String>,
}

/// How a put is run: as the caller's call, or as the validator applying a pending put.
enum Mode<'a> {
    /// The API call; `request_json` is its body as sent, kept if the put is deferred.
    Call { request_json: String },
    /// A pending put held by `owner`, validated and applied now.
    Apply {
        pending: &'a PendingPut,
        owner: &'a str,
    },
}

pub fn put_parameter(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let request_json = body.to_string();
    let req: PutRequest = parse(body)?;
    let answer = put(ctx, req, Mode::Call { request_json })?;
    Ok(answer.expect("a call always answers"))
}

/// Validate and apply a pending `aws:ec2:image` put held by `owner`, as its caller (`ctx` is
/// [`Ctx::internal`] for them: the call was authorized when it was made). `Ok(Some(answer))`:
/// applied; `Ok(None)`: another replica holds it now; `Err`: validation or the put failed
/// (the caller records the failure).
pub(crate) fn apply_pending(
    ctx: &Ctx,
    pending: &PendingPut,
    owner: &str,
) -> Result<Option<Value>, ApiError> {
    let body: Value = serde_json::from_str(&pending.request_json).map_err(ApiError::internal)?;
    let req: PutRequest = parse(body)?;
    put(ctx, req, Mode::Apply { pending, owner })
}

fn put(ctx: &Ctx, req: PutRequest, mode: Mode<'_>) -> Result<Option<Value>, ApiError> {
    let mut v = Validation::new();
    v.required("name", req.name.as_ref());
    v.length("name", req.name.as_deref(), 1, 2048);
    v.required("value", req.value.as_ref());
    v.length("description", req.description.as_deref(), 0, 1024);
    v.one_of("type", req.param_type.as_deref(), params::TYPES);
    v.length("keyId", req.key_id.as_deref(), 1, 256);
    if let Some(k) = req.key_id.as_deref() {
        if !k
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":/_-".contains(&b))
        {
            v.pattern_failed("keyId", k, "^([a-zA-Z0-9:/_-]+)$");
        }
    }
    v.length("allowedPattern", req.allowed_pattern.as_deref(), 0, 1024);
    v.list_length("tags", req.tags.as_ref().map(Vec::len), 0, 1000);
    v.one_of("tier", req.tier.as_deref(), params::TIERS);
    v.length("policies", req.policies.as_deref(), 1, 4096);
    v.length("dataType", req.data_type.as_deref(), 0, 128);
    v.finish().map_err(ApiError::validation)?;
    let name = req.name.clone().unwrap_or_default();
    let value = req.value.clone().unwrap_or_default();
    if value.is_empty() {
        // The value is never echoed (it may be a secret).
        return Err(ApiError::validation(
            "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    name::validate(&name, arn_prefix(ctx).len()).map_err(rejection)?;
    let overwrite = req.overwrite.unwrap_or(false);
    if overwrite && req.tags.as_ref().is_some_and(|t| !t.is_empty()) {
        return Err(ApiError::validation(
            "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
        ));
    }
    let tags = tags_to_pairs(req.tags.as_deref().unwrap_or_default());
    bosun_core::tags::check_tags(&tags, "tags").map_err(|e| match e {
        bosun_core::tags::TagError::Validation(m) => ApiError::validation(m),
        bosun_core::tags::TagError::Reserved(m) => ApiError::new("InvalidParameters", m),
    })?;
    let key = name::key(&name);
    for _attempt in 0..5 {
        let existing = ctx.state.store.parameter(&ctx.region, &key)?;
        if existing.is_some() && !overwrite {
            return Err(already_exists());
        }
        let param_type = match (&req.param_type, &existing) {
            (Some(t), _) => t.clone(),
            (None, Some(e)) => e.param_type.clone(),
            (None, None) => {
                return Err(ApiError::validation(
                    "A parameter type is required when you create a parameter.",
                ))
            }
        };
        if let Some(e) = &existing {
            if e.param_type != param_type && name::levels(&name) > 1 {
                return Err(ApiError::new(
                    "HierarchyTypeMismatchException",
                    format!(
                        "The parameter type of {name} can't be changed from {} to {param_type} in a hierarchy. Create a new parameter instead.",
                        e.param_type
                    ),
                ));
            }
        }
        let same_type = existing.as_ref().filter(|e| e.param_type == param_type);
        let key_id = if param_type == "SecureString" {
            Some(
                req.key_id
                    .clone()
                    .or_else(|| same_type.and_then(|e| e.key_id.clone()))
                    .unwrap_or_else(|| params::DEFAULT_KEY_ALIAS.to_string()),
            )
        } else if req.key_id.is_some() {
            return Err(ApiError::validation(
                "KeyId is supported only for SecureString parameters.",
            ));
        } else {
            None
        };
        let master = match &key_id {
            Some(k) => Some(find_master_key(ctx, k)?),
            None => None,
        };
        let description = req
            .description
            .clone()
            .or_else(|| existing.as_ref().and_then(|e| e.description.clone()));
        let allowed_pattern = req
            .allowed_pattern
            .clone()
            .or_else(|| existing.as_ref().and_then(|e| e.allowed_pattern.clone()))
            .filter(|p| !p.is_empty());
        let data_type = req
            .data_type
            .clone()
            .filter(|d| !d.is_empty())
            .or_else(|| existing.as_ref().map(|e| e.data_type.clone()))
            .unwrap_or_else(|| "text".into());
        params::check_data_type(&data_type, &param_type).map_err(rejection)?;
        let deferred = image_data_type::validated_asynchronously(&data_type);
        if deferred && matches!(mode, Mode::Apply { .. }) {
            // Only String parameters get here (checked above): the value is no secret.
            image_data_type::check_image_id(&value)
                .map_err(|why| ApiError::new("ValidationException", format!("{why}.")))?;
        }
        if let Some(p) = &allowed_pattern {
            let re = regex::RegexBuilder::new(p)
                .size_limit(1 << 20)
                .build()
                .map_err(|_| {
                    ApiError::new(
                        "InvalidAllowedPatternException",
                        format!("The allowed pattern {p} is not a valid regular expression."),
                    )
                })?;
            if !re.is_match(&value) {
                return Err(ApiError::new(
                    "ParameterPatternMismatchException",
                    format!("Parameter value, cannot be validated against allowedPattern: {p}"),
                ));
            }
        }
        let policies_text = match &req.policies {
            Some(text) => {
                let list = policies::parse(text, ctx.now_ms).map_err(rejection)?;
                (!list.is_empty()).then(|| {
                    Value::Array(
                        list.iter()
                            .map(|p| serde_json::from_str(&p.text).unwrap_or(Value::Null))
                            .collect(),
                    )
                    .to_string()
                })
            }
            None => existing.as_ref().and_then(|e| e.policies.clone()),
        };
        let tier = params::resolve_tier(
            req.tier.as_deref(),
            existing.as_ref().map(|e| e.tier.as_str()),
            value.len(),
            policies_text.is_some(),
        )
        .map_err(rejection)?;
        let version = existing.as_ref().map_or(1, |e| e.version + 1);
        let stored_name = existing.as_ref().map_or(name.clone(), |e| e.name.clone());
        if master.is_some() {
            keyring_guard(ctx)?;
        }
        let stored_value = match &master {
            Some(m) => envelope::seal(m, &parameter_arn(ctx, &stored_name), version, &value)
                .map_err(ApiError::internal)?,
            None => value.clone(),
        };
        let record = ParameterVersion {
            region: ctx.region.clone(),
            key: key.clone(),
            name: stored_name,
            version,
            param_type,
            value: stored_value,
            key_id,
            description,
            allowed_pattern,
            tier: tier.to_string(),
            policies: policies_text,
            data_type,
            modified_ms: ctx.now_ms,
            modified_user: user_arn(ctx),
            labels: vec![],
        };
        let limits = PutLimits {
            max_versions: params::MAX_VERSIONS,
            max_standard: params::MAX_STANDARD_PARAMETERS,
            max_advanced: params::MAX_ADVANCED_PARAMETERS,
        };
        let answer = json!({"Version": version, "Tier": tier});
        let expected = existing.map(|e| e.version);
        let outcome = match &mode {
            Mode::Call { request_json } if deferred => {
                // AWS answers before validating: `Version` is the one the put gets if nothing
                // else is applied to the parameter first.
                let pending = PendingPut {
                    id: 0,
                    region: ctx.region.clone(),
                    key: key.clone(),
                    name: name.clone(),
                    principal: ctx.principal.clone(),
                    request_json: request_json.clone(),
                    accepted_ms: ctx.now_ms,
                    lease_owner: None,
                    lease_until_ms: 0,
                };
                ctx.record_in_change(&answer, |records| {
                    ctx.state.store.add_pending_put(&pending, records)
                })?;
                ctx.state.image_validator.kick();
                return Ok(Some(answer));
            }
            Mode::Call { .. } => ctx
                .state
                .store
                .put_parameter(&record, expected, overwrite, &tags, &limits)?,
            Mode::Apply { pending, owner } => {
                match ctx.state.store.apply_pending_put(
                    pending.id, owner, &record, expected, overwrite, &tags, &limits,
                )? {
                    Some(outcome) => outcome,
                    None => return Ok(None),
                }
            }
        };
        match outcome {
            PutOutcome::Stored => return Ok(Some(answer)),
            PutOutcome::Conflict => continue,
            PutOutcome::AlreadyExists => return Err(already_exists()),
            PutOutcome::OldestLabelled(oldest) => {
                return Err(ApiError::new(
                    "ParameterMaxVersionLimitExceeded",
                    format!(
                        "You attempted to create a new version of {name} by calling the PutParameter API with the overwrite flag. Version {oldest}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again."
                    ),
                ))
            }
            PutOutcome::LimitExceeded => {
                return Err(ApiError::new(
                    "ParameterLimitExceeded",
                    format!("This region already holds the maximum number of {tier}-tier parameters."),
                ))
            }
        }
    }
    Err(ApiError::new(
        "TooManyUpdates",
        "The parameter is being changed by other requests; retry.",
    ))
}

fn already_exists() -> ApiError {
    ApiError::new(
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
    )
}

/// The master key a `KeyId` names (key id, key ARN, alias or alias ARN; keys are server-wide,
/// so an ARN's region is not checked but its account must be this server's), or KMS's
/// not-found answer as Parameter Store passes it on (`InvalidKeyId`).
fn find_master_key(ctx: &Ctx, key_ref: &str) -> Result<crate::kms::MasterKey, ApiError> {
    let parsed = KeyRef::parse(key_ref);
    let account = &ctx.state.config.account_id;
    let found = match &parsed {
        KeyRef::Malformed(_) => None,
        KeyRef::Key {
            account: Some(a), ..
        }
        | KeyRef::Alias {
            account: Some(a), ..
        } if a != account => None,
        _ => ctx.state.kms.find(key_ref),
    };
    found.ok_or_else(|| {
        let kms_request_id = bosun_core::ids::uuid_v4(crate::state::random_bytes());
        ApiError::new(
            "InvalidKeyId",
            parsed.not_found_message(&ctx.region, account, &kms_request_id),
        )
    })
}

/// Refuse to use SecureString keys while another live replica holds a different keyring
/// (`crate::replicas`): what one seals, the others could not open.
pub(crate) fn keyring_guard(ctx: &Ctx) -> Result<(), ApiError> {
    ctx.state.replica.keyring_check().map_err(|why| {
        ApiError::new("InternalServerError", why)
            .with_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
    })
}
