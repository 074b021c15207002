//! `ResumeSession` (a new single-use client token for an active session), `TerminateSession`
//! (end it now) and `GetConnectionStatus` (whether a session can start on a node). Any replica
//! answers them: the session's relaying replica hears of a change made elsewhere. Resume
//! and Terminate are authorized on the session's ARN by the pipeline.

use bosun_proto::session::SessionEndReason;
use bosun_store::SessionRecord;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{new_token, stream_url};
use crate::api::error::ApiError;
use crate::api::{parse, Ctx};
use crate::sessions::CLIENT_TOKEN_TTL_MS;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BySession {
    session_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ByTarget {
    target: String,
}

/// The caller's region's session `id`, or `DoesNotExistException`.
fn session(ctx: &Ctx, id: &str) -> Result<SessionRecord, ApiError> {
    ctx.state
        .store
        .get_session(id)?
        .filter(|s| s.region == ctx.region)
        .ok_or_else(|| {
            ApiError::new(
                "DoesNotExistException",
                format!("Session {id} does not exist."),
            )
        })
}

pub fn resume_session(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: BySession = parse(body)?;
    let s = session(ctx, &req.session_id)?;
    let inactive = || {
        ApiError::new(
            "DoesNotExistException",
            format!("Session {} is not active.", s.session_id),
        )
    };
    if s.end_ms.is_some() {
        return Err(inactive());
    }
    let (token, hash) = new_token();
    let expires = ctx.now_ms + CLIENT_TOKEN_TTL_MS;
    if !ctx
        .state
        .store
        .set_client_token(&s.session_id, &hash, expires)?
    {
        return Err(inactive());
    }
    ctx.state.sessions.resumed(&s.session_id, expires);
    Ok(json!({
        "SessionId": s.session_id,
        "TokenValue": token,
        "StreamUrl": stream_url(&ctx.base_url, &s.session_id),
    }))
}

pub fn terminate_session(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: BySession = parse(body)?;
    let s = session(ctx, &req.session_id)?;
    if s.end_ms.is_none() {
        let details = format!("The session was terminated by {}.", ctx.principal);
        crate::sessions::end_session(
            ctx.state,
            &s.session_id,
            "Terminated",
            &details,
            SessionEndReason::Terminated,
            true,
            ctx.now_ms,
        )?;
    }
    Ok(json!({ "SessionId": s.session_id }))
}

pub fn get_connection_status(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: ByTarget = parse(body)?;
    let known = ctx
        .state
        .store
        .get_instance(&req.target)?
        .is_some_and(|n| n.region == ctx.region && !n.deregistered);
    // Connected to this replica or another: a session can start through any of them.
    let connected = known
        && (ctx.state.hub.is_connected(&req.target)
            || crate::replicas::Presence::load(&*ctx.state.store, ctx.now_ms)
                .map_err(ApiError::internal)?
                .holder_elsewhere(&req.target, &ctx.state.replica.id)
                .is_some());
    Ok(json!({
        "Target": req.target,
        "Status": if connected { "connected" } else { "notconnected" },
    }))
}
