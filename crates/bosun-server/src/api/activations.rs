//! `CreateActivation`, `DescribeActivations`, `DeleteActivation`.

use bosun_core::ids;
use bosun_core::paging;
use bosun_core::tags::{check_tags, TagError};
use bosun_core::validate::Validation;
use bosun_store::ActivationRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire::{epoch_seconds, millis_from_epoch_seconds, pairs_to_tags, tags_to_pairs, Tag};
use super::{parse, reply, Ctx};
use crate::api::error::ApiError;
use crate::state::random_bytes;

const DAY_MS: i64 = 24 * 3600 * 1000;
const MAX_EXPIRY_MS: i64 = 30 * DAY_MS;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateActivationRequest {
    description: Option<String>,
    default_instance_name: Option<String>,
    iam_role: Option<String>,
    registration_limit: Option<i64>,
    expiration_date: Option<f64>,
    tags: Option<Vec<Tag>>,
    #[allow(dead_code)]
    registration_metadata: Option<Vec<Value>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateActivationResult {
    activation_id: String,
    activation_code: String,
}

fn default_name_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
}

pub fn create_activation(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: CreateActivationRequest = parse(body)?;
    let mut v = Validation::new();
    v.required("iamRole", req.iam_role.as_ref());
    v.length("iamRole", req.iam_role.as_deref(), 0, 64);
    v.length("description", req.description.as_deref(), 0, 256);
    v.length(
        "defaultInstanceName",
        req.default_instance_name.as_deref(),
        0,
        256,
    );
    if let Some(n) = req
        .default_instance_name
        .as_deref()
        .filter(|n| !default_name_ok(n))
    {
        v.pattern_failed("defaultInstanceName", n, r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$");
    }
    v.range("registrationLimit", req.registration_limit, 1, 1000);
    v.list_length("tags", req.tags.as_ref().map(Vec::len), 0, 1000);
    v.finish().map_err(ApiError::validation)?;
    let tags = tags_to_pairs(req.tags.as_deref().unwrap_or_default());
    check_tags(&tags, "tags").map_err(|e| match e {
        TagError::Validation(m) => ApiError::validation(m),
        TagError::Reserved(m) => ApiError::new("InvalidParameters", m),
    })?;
    let expiration_ms = match req.expiration_date {
        None => ctx.now_ms + DAY_MS,
        Some(s) => {
            let ms = millis_from_epoch_seconds(s);
            if ms <= ctx.now_ms {
                return Err(ApiError::new(
                    "InvalidParameters",
                    "ExpirationDate must be in the future.",
                ));
            }
            if ms > ctx.now_ms + MAX_EXPIRY_MS {
                return Err(ApiError::new(
                    "InvalidParameters",
                    "ExpirationDate can be at most 30 days in the future.",
                ));
            }
            ms
        }
    };
    let activation_id = ids::uuid_v4(random_bytes());
    let code = ids::activation_code(random_bytes());
    let record = ActivationRecord {
        region: ctx.region.clone(),
        activation_id: activation_id.clone(),
        description: req.description.unwrap_or_default(),
        default_instance_name: req.default_instance_name.unwrap_or_default(),
        iam_role: req.iam_role.unwrap_or_default(),
        registration_limit: req.registration_limit.unwrap_or(1),
        registrations_count: 0,
        expiration_ms,
        created_ms: ctx.now_ms,
    };
    ctx.state
        .store
        .create_activation(&record, &ids::hash_activation_code(&code), &tags)?;
    reply(&CreateActivationResult {
        activation_id,
        activation_code: code,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeActivationsRequest {
    filters: Option<Vec<ActivationFilter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ActivationFilter {
    filter_key: Option<String>,
    filter_values: Option<Vec<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Activation {
    activation_id: String,
    description: String,
    default_instance_name: String,
    iam_role: String,
    registration_limit: i64,
    registrations_count: i64,
    expiration_date: f64,
    expired: bool,
    created_date: f64,
    tags: Vec<Tag>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeActivationsResult {
    activation_list: Vec<Activation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

const ACTIVATION_FILTER_KEYS: &[&str] = &["ActivationIds", "DefaultInstanceName", "IamRole"];

pub fn describe_activations(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: DescribeActivationsRequest = parse(body)?;
    let mut v = Validation::new();
    v.range("maxResults", req.max_results, 1, 50);
    for (i, f) in req.filters.iter().flatten().enumerate() {
        v.one_of(
            &format!("filters.{}.member.filterKey", i + 1),
            f.filter_key.as_deref(),
            ACTIVATION_FILTER_KEYS,
        );
    }
    v.finish().map_err(ApiError::validation)?;
    let after = match &req.next_token {
        Some(t) => Some(paging::decode_token(t).ok_or_else(|| {
            ApiError::new("InvalidNextToken", "The specified token is not valid.")
        })?),
        None => None,
    };
    let filters = req.filters.unwrap_or_default();
    let matches = |a: &ActivationRecord| {
        filters.iter().all(|f| {
            let values = f.filter_values.as_deref().unwrap_or_default();
            let field = match f.filter_key.as_deref() {
                Some("ActivationIds") => &a.activation_id,
                Some("DefaultInstanceName") => &a.default_instance_name,
                _ => &a.iam_role,
            };
            values.is_empty() || values.iter().any(|v| v == field)
        })
    };
    let all: Vec<ActivationRecord> = ctx
        .state
        .store
        .list_activations(&ctx.region)?
        .into_iter()
        .filter(matches)
        .collect();
    let max = req.max_results.unwrap_or(50) as usize;
    let page = paging::page_after(all, after.as_deref(), max, |a| a.activation_id.as_str());
    let mut list = Vec::with_capacity(page.items.len());
    for a in page.items {
        let tags = ctx
            .state
            .store
            .tags(&ctx.region, "Activation", &a.activation_id)?;
        list.push(Activation {
            expired: ctx.now_ms >= a.expiration_ms,
            expiration_date: epoch_seconds(a.expiration_ms),
            created_date: epoch_seconds(a.created_ms),
            tags: pairs_to_tags(&tags),
            activation_id: a.activation_id,
            description: a.description,
            default_instance_name: a.default_instance_name,
            iam_role: a.iam_role,
            registration_limit: a.registration_limit,
            registrations_count: a.registrations_count,
        });
    }
    reply(&DescribeActivationsResult {
        activation_list: list,
        next_token: page.next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteActivationRequest {
    activation_id: Option<String>,
}

pub fn delete_activation(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: DeleteActivationRequest = parse(body)?;
    let mut v = Validation::new();
    v.required("activationId", req.activation_id.as_ref());
    if let Some(id) = req
        .activation_id
        .as_deref()
        .filter(|id| !ids::is_lower_uuid(id))
    {
        v.pattern_failed(
            "activationId",
            id,
            "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        );
    }
    v.finish().map_err(ApiError::validation)?;
    let id = req.activation_id.unwrap_or_default();
    if !ctx.state.store.delete_activation(&ctx.region, &id)? {
        return Err(ApiError::new(
            "InvalidActivationId",
            format!("The activation ID {id} is not valid. Verify that you entered the correct ActivationId and try again."),
        ));
    }
    reply(&serde_json::json!({}))
}
