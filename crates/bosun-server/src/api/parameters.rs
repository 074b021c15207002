//! Parameter Store: `PutParameter`, `GetParameter`, `GetParameters`, `GetParameterHistory`,
//! `DeleteParameter`, `DeleteParameters`, and the rendering shared with the search and label
//! handlers. SecureString values are sealed before they reach the store and opened only for
//! `WithDecryption` callers who also hold `kms:Decrypt` on the key.

use std::collections::BTreeMap;

use bosun_core::parameters::{name, policies, Rejection};
use bosun_store::ParameterVersion;
use serde::Deserialize;
use serde_json::{json, Value};

use super::wire::epoch_seconds;
use super::{parse, Ctx};
use crate::api::error::ApiError;
use crate::kms::envelope::{self, OpenError};

pub(super) fn rejection(r: Rejection) -> ApiError {
    ApiError::new(r.code, r.message)
}

/// `ParameterNotFound`: real AWS sends it with an empty message.
pub(super) fn not_found() -> ApiError {
    ApiError::new("ParameterNotFound", "")
}

pub(super) fn arn_prefix(ctx: &Ctx) -> String {
    ctx.scope().ssm_arn("parameter/")
}

pub(super) fn parameter_arn(ctx: &Ctx, name: &str) -> String {
    ctx.scope().ssm_arn(&name::arn_resource(name))
}

fn kms_key_arn(ctx: &Ctx, key_id: &str) -> String {
    format!(
        "arn:aws:kms:{}:{}:key/{key_id}",
        ctx.region, ctx.state.config.account_id
    )
}

pub(super) fn user_arn(ctx: &Ctx) -> String {
    format!(
        "arn:aws:iam::{}:user/{}",
        ctx.state.config.account_id, ctx.principal
    )
}

/// Opens SecureString values for one request, checking `kms:Decrypt` once per key.
pub(super) struct Decrypter<'a, 'b> {
    ctx: &'a Ctx<'b>,
    allowed: Vec<String>,
}

impl<'a, 'b> Decrypter<'a, 'b> {
    pub fn new(ctx: &'a Ctx<'b>) -> Self {
        Self {
            ctx,
            allowed: Vec::new(),
        }
    }

    /// The plaintext of a SecureString version.
    pub fn open(&mut self, v: &ParameterVersion) -> Result<String, ApiError> {
        let broken = |what: &str| {
            ApiError::new(
                "InvalidKeyId",
                format!(
                    "The value of {} version {} can't be decrypted: {what}.",
                    v.name, v.version
                ),
            )
        };
        let key_id = envelope::key_id_of(&v.value)
            .map_err(|_| broken("the stored ciphertext is malformed"))?;
        if !self.allowed.contains(&key_id) {
            self.ctx
                .authorize_and_audit("kms:Decrypt", &kms_key_arn(self.ctx, &key_id))?;
            self.allowed.push(key_id);
        }
        super::parameter_put::keyring_guard(self.ctx)?;
        let arn = parameter_arn(self.ctx, &v.name);
        envelope::open(|id| self.ctx.state.kms.find(id), &arn, v.version, &v.value).map_err(|e| {
            match e {
                OpenError::UnknownKey(id) => {
                    broken(&format!("its key {id} is not in this server's keyring"))
                }
                OpenError::Malformed => broken("the stored ciphertext is malformed"),
                OpenError::Rejected => {
                    broken("the ciphertext does not belong to this parameter version or its key")
                }
            }
        })
    }

    /// The `Value` member: plaintext when asked to decrypt a SecureString, else as stored.
    pub fn value(&mut self, v: &ParameterVersion, decrypt: bool) -> Result<String, ApiError> {
        if decrypt && v.param_type == "SecureString" {
            self.open(v)
        } else {
            Ok(v.value.clone())
        }
    }
}

/// A `Parameter` shape.
pub(super) fn render(
    ctx: &Ctx,
    dec: &mut Decrypter,
    v: &ParameterVersion,
    decrypt: bool,
    selector: Option<&name::Selector>,
) -> Result<Value, ApiError> {
    let mut out = json!({
        "Name": v.name,
        "Type": v.param_type,
        "Value": dec.value(v, decrypt)?,
        "Version": v.version,
        "LastModifiedDate": epoch_seconds(v.modified_ms),
        "ARN": parameter_arn(ctx, &v.name),
        "DataType": v.data_type,
    });
    if let Some(s) = selector {
        out["Selector"] = json!(s.text());
    }
    Ok(out)
}

/// The `Policies` member (`ParameterInlinePolicy` list) of a version.
pub(super) fn render_policies(ctx: &Ctx, v: &ParameterVersion) -> Result<Value, ApiError> {
    let Some(text) = v.policies.as_deref() else {
        return Ok(json!([]));
    };
    let fired = ctx
        .state
        .store
        .fired_policies(&v.region, &v.key, v.version)?;
    let list = policies::parse(text, i64::MIN).unwrap_or_default();
    Ok(Value::Array(
        list.iter()
            .map(|p| {
                let status = if fired.iter().any(|f| f == p.type_name()) {
                    "Finished"
                } else {
                    "Pending"
                };
                json!({"PolicyText": p.text, "PolicyType": p.type_name(), "PolicyStatus": status})
            })
            .collect(),
    ))
}

/// `ParameterMetadata` / `ParameterHistory` members shared by both shapes.
pub(super) fn render_metadata(ctx: &Ctx, v: &ParameterVersion) -> Result<Value, ApiError> {
    let mut out = json!({
        "Name": v.name,
        "Type": v.param_type,
        "LastModifiedDate": epoch_seconds(v.modified_ms),
        "LastModifiedUser": v.modified_user,
        "Version": v.version,
        "Tier": v.tier,
        "Policies": render_policies(ctx, v)?,
        "DataType": v.data_type,
    });
    for (k, val) in [
        ("KeyId", &v.key_id),
        ("Description", &v.description),
        ("AllowedPattern", &v.allowed_pattern),
    ] {
        if let Some(x) = val {
            out[k] = json!(x);
        }
    }
    Ok(out)
}

/// Resolve a read reference to a stored version; `Ok(None)` for anything that does not exist.
/// `Err(ParameterVersionNotFound)` when the parameter exists but the selector does not.
pub(super) fn lookup(
    ctx: &Ctx,
    input: &str,
) -> Result<Option<(ParameterVersion, Option<name::Selector>)>, ApiError> {
    let Some(r) = name::parse_reference(input, &arn_prefix(ctx)) else {
        return Ok(None);
    };
    let key = name::key(&r.name);
    let store = &ctx.state.store;
    let Some(latest) = store.parameter(&ctx.region, &key)? else {
        return Ok(None);
    };
    let found = match &r.selector {
        None => Some(latest),
        Some(name::Selector::Version(n)) => store.parameter_version(&ctx.region, &key, *n)?,
        Some(name::Selector::Label(l)) => store.parameter_by_label(&ctx.region, &key, l)?,
    };
    match found {
        Some(v) => Ok(Some((v, r.selector))),
        None => Err(ApiError::new(
            "ParameterVersionNotFound",
            format!(
                "Systems Manager could not find version {} of {}. Verify the version and try again.",
                r.selector.map(|s| s.text().trim_start_matches(':').to_string()).unwrap_or_default(),
                r.name
            ),
        )),
    }
}

/// Every further name of a multi-name call must pass IAM too (the pipeline checked the first).
fn authorize_names(ctx: &Ctx, action: &str, names: &[String]) -> Result<(), ApiError> {
    for n in names.iter().skip(1) {
        let resource = super::ops::parameter_resource(&ctx.scope(), n);
        super::auth::authorize_user(ctx.state, &ctx.principal, action, &resource)?;
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetRequest {
    name: Option<String>,
    names: Option<Vec<String>>,
    with_decryption: Option<bool>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

// Names, lists of names and page sizes are checked against botocore's model before any
// handler here runs (`bosun_core::model`, from the pipeline).
pub fn get_parameter(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: GetRequest = parse(body)?;
    let (found, selector) =
        lookup(ctx, req.name.as_deref().unwrap_or_default())?.ok_or_else(not_found)?;
    let mut dec = Decrypter::new(ctx);
    let p = render(
        ctx,
        &mut dec,
        &found,
        req.with_decryption.unwrap_or(false),
        selector.as_ref(),
    )?;
    Ok(json!({ "Parameter": p }))
}

pub fn get_parameters(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: GetRequest = parse(body)?;
    let names = req.names.unwrap_or_default();
    authorize_names(ctx, "ssm:GetParameters", &names)?;
    let mut dec = Decrypter::new(ctx);
    let mut found = BTreeMap::new();
    let mut invalid = Vec::new();
    for n in &names {
        match lookup(ctx, n) {
            Ok(Some((p, sel))) => {
                let rendered = render(
                    ctx,
                    &mut dec,
                    &p,
                    req.with_decryption.unwrap_or(false),
                    sel.as_ref(),
                )?;
                found.insert((p.name.clone(), sel.map(|s| s.text())), rendered);
            }
            Ok(None)
            | Err(ApiError {
                code: "ParameterVersionNotFound",
                ..
            }) => {
                if !invalid.contains(n) {
                    invalid.push(n.clone());
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(
        json!({ "Parameters": found.into_values().collect::<Vec<_>>(), "InvalidParameters": invalid }),
    )
}

pub fn get_parameter_history(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: GetRequest = parse(body)?;
    let r = name::parse_reference(req.name.as_deref().unwrap_or_default(), &arn_prefix(ctx))
        .filter(|r| r.selector.is_none())
        .ok_or_else(not_found)?;
    let history = ctx
        .state
        .store
        .parameter_history(&ctx.region, &name::key(&r.name))?;
    if history.is_empty() {
        return Err(not_found());
    }
    let after = match &req.next_token {
        Some(t) => Some(bosun_core::paging::decode_token(t).ok_or_else(|| {
            ApiError::new("InvalidNextToken", "The specified token isn't valid.")
        })?),
        None => None,
    };
    let page = bosun_core::paging::page_after(
        history
            .into_iter()
            .map(|h| (format!("{:020}", h.version), h))
            .collect(),
        after.as_deref(),
        req.max_results.unwrap_or(50) as usize,
        |(k, _)| k.as_str(),
    );
    let mut dec = Decrypter::new(ctx);
    let mut out = Vec::new();
    for (_, h) in &page.items {
        let mut item = render_metadata(ctx, h)?;
        item["Value"] = json!(dec.value(h, req.with_decryption.unwrap_or(false))?);
        item["Labels"] = json!(h.labels);
        out.push(item);
    }
    let mut reply = json!({ "Parameters": out });
    if let Some(t) = page.next_token {
        reply["NextToken"] = json!(t);
    }
    Ok(reply)
}

pub fn delete_parameter(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: GetRequest = parse(body)?;
    let r = name::parse_reference(req.name.as_deref().unwrap_or_default(), &arn_prefix(ctx))
        .filter(|r| r.selector.is_none())
        .ok_or_else(not_found)?;
    if !ctx
        .state
        .store
        .delete_parameter(&ctx.region, &name::key(&r.name))?
    {
        return Err(not_found());
    }
    Ok(json!({}))
}

pub fn delete_parameters(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: GetRequest = parse(body)?;
    let names = req.names.unwrap_or_default();
    authorize_names(ctx, "ssm:DeleteParameters", &names)?;
    let (mut deleted, mut invalid) = (Vec::new(), Vec::new());
    for n in &names {
        let gone = match name::parse_reference(n, &arn_prefix(ctx)).filter(|r| r.selector.is_none())
        {
            Some(r) => ctx
                .state
                .store
                .delete_parameter(&ctx.region, &name::key(&r.name))?,
            None => false,
        };
        if gone {
            deleted.push(n)
        } else {
            invalid.push(n)
        }
    }
    Ok(json!({ "DeletedParameters": deleted, "InvalidParameters": invalid }))
}
