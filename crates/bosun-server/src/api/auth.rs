//! Who is calling (SigV4 against the stored access keys) and may they (IAM policies).
//!
//! A call reads its access key and its user's policies in one visit to the store; parsed
//! policies are kept by their text (a pure function of it), so an unchanged policy is parsed
//! once, while every call still sees the policies stored at that moment.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::http::{HeaderMap, Method, Uri};
use bosun_core::policy::{evaluate, Decision, PolicyDocument};
use bosun_core::sigv4::{self, RequestParts};
use bosun_store::NamedPolicy;

use crate::api::error::ApiError;
use crate::state::AppState;

/// An authenticated caller.
pub struct Caller {
    pub user: String,
    pub region: String,
    /// The access key that signed the request (idempotent retries are keyed on it).
    pub access_key_id: String,
    /// The user's policies (name, JSON text) as stored when the call was authenticated.
    policies: Vec<NamedPolicy>,
}

/// Most distinct policy texts kept parsed (the cache starts over past this).
const PARSED_POLICIES_KEPT: usize = 1024;

/// The parsed form of a policy text; `Err` for a text that does not parse.
fn parsed(text: &str) -> Result<Arc<PolicyDocument>, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<PolicyDocument>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(p) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(text) {
        return Ok(p.clone());
    }
    let doc = Arc::new(PolicyDocument::parse(text).map_err(|e| e.to_string())?);
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= PARSED_POLICIES_KEPT {
        map.clear();
    }
    map.insert(text.to_string(), doc.clone());
    Ok(doc)
}

/// What a request's signature must show besides being valid.
pub struct Expect<'a> {
    /// The signing name of the API the request is for (`ssm`, `resource-groups`).
    pub service: &'a str,
    /// Whether `X-Amz-Target` must be among the signed headers (the AWS JSON protocols).
    pub signed_target: bool,
}

/// Verify the request's SigV4 signature and return the caller.
pub fn authenticate(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    now_ms: i64,
    expect: Expect,
) -> Result<Caller, ApiError> {
    let mut pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    // HTTP/2 carries the host in the `:authority` pseudo-header, which clients sign as `host`.
    if !headers.contains_key("host") {
        if let Some(authority) = uri.authority() {
            pairs.push(("host".into(), authority.as_str().to_string()));
        }
    }
    let parts = RequestParts {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &pairs,
        body,
    };
    let sig_error = |e: sigv4::SigV4Error| ApiError::new(e.aws_error_code(), e.message());
    let (credential, signed_headers, _signature) =
        sigv4::parse_authorization(&parts).map_err(sig_error)?;
    let Some((key, policies)) = state
        .store
        .access_key_and_policies(&credential.access_key_id)?
    else {
        return Err(ApiError::new(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    };
    let secret = open_secret(state, &key)?;
    let now = jiff::Timestamp::from_millisecond(now_ms).map_err(ApiError::internal)?;
    let verified = sigv4::verify(
        &parts,
        &secret,
        expect.service,
        now,
        state.config.max_clock_skew,
    )
    .map_err(|e| {
        if e == sigv4::SigV4Error::SignatureDoesNotMatch {
            // The canonical request holds header values and the body's hash, never a secret.
            let body_hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body));
            tracing::debug!(
                canonical_request = %sigv4::canonical_request(&parts, &signed_headers, &body_hash),
                "signature mismatch"
            );
        }
        sig_error(e)
    })?;
    if expect.signed_target
        && !signed_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("x-amz-target"))
    {
        return Err(ApiError::new(
            "IncompleteSignatureException",
            "The X-Amz-Target header must be signed.",
        ));
    }
    if !state.regions.serves(&verified.region) {
        return Err(ApiError::new(
            "InvalidSignatureException",
            state.regions.refusal(&verified.region),
        ));
    }
    Ok(Caller {
        user: key.user_name,
        region: verified.region,
        access_key_id: credential.access_key_id,
        policies,
    })
}

/// The caller of a web console call: the session's access key, still active (a deactivated or
/// deleted key ends every session made with it), with its user's policies as stored now, in a
/// region this server serves (checked as a signature's scope is); `None` when the key is no
/// longer active.
pub fn key_caller(
    state: &AppState,
    access_key_id: &str,
    region: &str,
) -> Result<Option<Caller>, ApiError> {
    let Some((key, policies)) = state.store.access_key_and_policies(access_key_id)? else {
        return Ok(None);
    };
    if !state.regions.serves(region) {
        return Err(ApiError::new(
            "InvalidSignatureException",
            state.regions.refusal(region),
        ));
    }
    Ok(Some(Caller {
        user: key.user_name,
        region: region.to_string(),
        access_key_id: key.access_key_id,
        policies,
    }))
}

/// Check the caller's attached policies; explicit deny wins, default deny.
pub fn authorize(
    state: &AppState,
    caller: &Caller,
    action: &str,
    resource: &str,
) -> Result<(), ApiError> {
    decide(state, &caller.user, &caller.policies, action, resource)
}

/// [`authorize`] for a user by name (handlers checking a second action, e.g. `kms:Decrypt`).
pub fn authorize_user(
    state: &AppState,
    user: &str,
    action: &str,
    resource: &str,
) -> Result<(), ApiError> {
    decide(
        state,
        user,
        &state.store.user_policies(user)?,
        action,
        resource,
    )
}

fn decide(
    state: &AppState,
    user: &str,
    stored: &[NamedPolicy],
    action: &str,
    resource: &str,
) -> Result<(), ApiError> {
    decide_parsed(state, user, &parse_all(user, stored), action, resource)
}

/// The user's stored policies, parsed (through the cache of parsed texts).
fn parse_all(user: &str, stored: &[NamedPolicy]) -> Vec<Arc<PolicyDocument>> {
    let mut policies = Vec::with_capacity(stored.len());
    for (name, text) in stored {
        match parsed(text) {
            Ok(p) => policies.push(p),
            // A stored policy that no longer parses grants nothing.
            Err(e) => {
                tracing::warn!(user = %user, policy = %name, error = %e, "ignoring unparsable policy")
            }
        }
    }
    policies
}

fn decide_parsed(
    state: &AppState,
    user: &str,
    policies: &[Arc<PolicyDocument>],
    action: &str,
    resource: &str,
) -> Result<(), ApiError> {
    match evaluate(policies, action, resource) {
        Decision::Allow => Ok(()),
        Decision::ExplicitDeny | Decision::ImplicitDeny => Err(ApiError::access_denied(
            &format!("arn:aws:iam::{}:user/{}", state.config.account_id, user),
            action,
            resource,
        )),
    }
}

/// Check one action on every resource a call acts on (a command's target nodes, say), reading
/// and parsing the user's policies once. Explicit deny wins on each resource. `Ok(Some(..))`
/// is the first resource refused, with its `AccessDeniedException`.
pub fn authorize_each<'r>(
    state: &AppState,
    user: &str,
    action: &str,
    resources: impl IntoIterator<Item = &'r str>,
) -> Result<Option<(String, ApiError)>, ApiError> {
    let policies = parse_all(user, &state.store.user_policies(user)?);
    for resource in resources {
        if let Err(denial) = decide_parsed(state, user, &policies, action, resource) {
            return Ok(Some((resource.to_string(), denial)));
        }
    }
    Ok(None)
}

/// The secret of an active access key, opened with the keyring (kept opened in memory): what
/// a SigV4 signature and a console sign-in are checked against.
pub fn open_secret(
    state: &AppState,
    key: &bosun_store::AccessKeyRecord,
) -> Result<String, ApiError> {
    state
        .opened_secrets
        .get(&state.kms, &key.access_key_id, &key.sealed_secret)
        .map_err(|e| {
            ApiError::internal(format!(
                "the secret of access key {} does not open with the keyring: {e:?}",
                key.access_key_id
            ))
        })
}
