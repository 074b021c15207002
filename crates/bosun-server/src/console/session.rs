//! Console sessions: signing in with an access key (checked as SigV4 would accept it), the
//! session token in an HttpOnly cookie (only its SHA-256 stored), the CSRF token derived from
//! it, and the caller a session stands for on each call.

use axum::http::{HeaderMap, StatusCode};
use bosun_core::signin_limit;
use bosun_store::ConsoleSessionRecord;
use sha2::{Digest, Sha256};

use crate::api::auth::{self, Caller};
use crate::api::error::ApiError;
use crate::state::{random_bytes, AppState};

/// The session cookie's name.
pub const COOKIE: &str = "bosun_console";
/// The header every console call carries the CSRF token in.
pub const CSRF_HEADER: &str = "x-bosun-console-csrf";
/// How long a session lives after signing in.
pub const SESSION_MS: i64 = 12 * 3600 * 1000;

/// A new session: its token (cookie value) and CSRF token, for the answer to a login.
pub struct SignedIn {
    pub token: String,
    pub csrf: String,
    pub user: String,
}

/// The answer to a call without a live session (none, expired, signed out, or its access key
/// deactivated or deleted): the same whatever the reason.
pub fn ended() -> ApiError {
    ApiError::new(
        "UnrecognizedClientException",
        "No live console session: sign in again.",
    )
    .with_status(StatusCode::UNAUTHORIZED)
}

/// The stored form of a token: lower-case hex SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The CSRF token of a session: derived from its (secret) token, so only a page that was given
/// it at sign-in knows it, and any replica can check it without storing it.
pub fn csrf_for(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"bosun-console-csrf\0");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

/// Equality of two secrets in time independent of where they differ (both are hashed first, so
/// their lengths do not show either).
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// The session token a request's cookie carries, if any.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

/// The session token of a console call, after checking its CSRF header: a request without the
/// cookie is unauthenticated (401); one whose header does not match (a cross-site form post
/// cannot set it) is refused (403).
pub fn token_with_csrf(headers: &HeaderMap) -> Result<String, ApiError> {
    let token = cookie_token(headers).ok_or_else(ended)?;
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if sent.is_empty() || !same_secret(sent, &csrf_for(&token)) {
        return Err(ApiError::new(
            "AccessDeniedException",
            "The console request lacks its session's X-Bosun-Console-Csrf token.",
        )
        .with_status(StatusCode::FORBIDDEN));
    }
    Ok(token)
}

/// Sign in: the access key must be one SigV4 would accept (active, its secret sealed and
/// opening with the keyring) and the secret must match; a wrong secret and an unknown key get
/// the same answer. Failures are counted per client `address` and per key id, and once either
/// reaches its limit (`bosun_core::signin_limit`) every sign-in from there or for that key is
/// refused until the window ends. Stores the session and prunes expired ones.
pub fn login(
    state: &AppState,
    access_key_id: &str,
    secret: &str,
    address: &str,
    now_ms: i64,
) -> Result<SignedIn, ApiError> {
    let refused = || {
        ApiError::new(
            "UnrecognizedClientException",
            "The access key id or secret access key is not valid.",
        )
        .with_status(StatusCode::UNAUTHORIZED)
    };
    let window = signin_limit::window_start(now_ms);
    let counters = failure_counters(access_key_id, address);
    let mut counts = [0u32; 2];
    for (count, key) in counts.iter_mut().zip(&counters) {
        if let Some(key) = key {
            *count = state.store.signin_failures(key, window)?;
        }
    }
    if signin_limit::refused(counts[0], counts[1]) {
        return Err(throttled(now_ms));
    }
    let fail = || -> Result<SignedIn, ApiError> {
        let expires = signin_limit::window_end(now_ms);
        for key in counters.iter().flatten() {
            if state.store.note_signin_failure(key, window, expires)? == 1 {
                // A new window's first failure: a good moment to drop past windows' counts.
                state.store.prune_console_sessions(now_ms)?;
            }
        }
        Err(refused())
    };
    let Some(key) = state.store.access_key(access_key_id)? else {
        // Compare anyway, so an unknown key costs about what a wrong secret does.
        same_secret(secret, access_key_id);
        return fail();
    };
    let stored = auth::open_secret(state, &key)?;
    if !same_secret(secret, &stored) {
        return fail();
    }
    let token = hex::encode(random_bytes::<32>());
    state.store.create_console_session(&ConsoleSessionRecord {
        token_hash: token_hash(&token),
        access_key_id: key.access_key_id,
        created_ms: now_ms,
        expires_ms: now_ms + SESSION_MS,
    })?;
    if let Err(e) = state.store.prune_console_sessions(now_ms) {
        tracing::warn!(error = %e, "could not prune expired console sessions");
    }
    Ok(SignedIn {
        csrf: csrf_for(&token),
        token,
        user: key.user_name,
    })
}

/// The store keys a failed sign-in counts against: the address's and, when the id looks like
/// an access key id (so no typed secret is ever stored), the key's.
fn failure_counters(access_key_id: &str, address: &str) -> [Option<String>; 2] {
    let looks_like_key = !access_key_id.is_empty()
        && access_key_id.len() <= 32
        && access_key_id.chars().all(|c| c.is_ascii_alphanumeric());
    [
        Some(signin_limit::address_key(address)),
        looks_like_key.then(|| signin_limit::key_id_key(access_key_id)),
    ]
}

/// The answer while sign-ins are refused: 429, saying until when.
fn throttled(now_ms: i64) -> ApiError {
    let until = jiff::Timestamp::from_millisecond(signin_limit::window_end(now_ms))
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    ApiError::new(
        "ThrottlingException",
        format!(
            "Too many failed sign-ins from this address or for this access key; try again after {until}."
        ),
    )
    .with_status(StatusCode::TOO_MANY_REQUESTS)
}

/// The caller a live session stands for, in `region`: the pipeline's first step for console
/// calls (reads only).
pub fn caller(
    state: &AppState,
    token: &str,
    region: &str,
    now_ms: i64,
) -> Result<Caller, ApiError> {
    let session = state
        .store
        .live_console_session(&token_hash(token), now_ms)?
        .ok_or_else(ended)?;
    auth::key_caller(state, &session.access_key_id, region)?.ok_or_else(ended)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_is_derived_from_the_token_and_checked_against_the_cookie() {
        let token = "ab".repeat(32);
        let csrf = csrf_for(&token);
        assert_ne!(
            csrf,
            token_hash(&token),
            "the stored hash does not give the CSRF token"
        );
        let mut headers = HeaderMap::new();
        headers.insert("cookie", format!("x=1; {COOKIE}={token}").parse().unwrap());
        let err = token_with_csrf(&headers).err().unwrap();
        assert_eq!(err.status, StatusCode::FORBIDDEN);
        headers.insert(CSRF_HEADER, csrf_for("other").parse().unwrap());
        assert!(token_with_csrf(&headers).is_err());
        headers.insert(CSRF_HEADER, csrf.parse().unwrap());
        assert_eq!(token_with_csrf(&headers).unwrap(), token);
        assert_eq!(
            token_with_csrf(&HeaderMap::new()).err().unwrap().status,
            StatusCode::UNAUTHORIZED
        );
        assert!(same_secret("a", "a") && !same_secret("a", "b"));
    }
}
