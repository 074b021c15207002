//! `StartSession`: authorize the caller on the node and on the document, resolve what the
//! session runs and the preferences that govern it, store the session (token hashes only) and
//! ask the node's agent to join.

use std::collections::BTreeMap;

use bosun_core::session_document::{
    plan, preferences, session_type, Preferences, SessionDocError, SessionType,
    DEFAULT_SESSION_DOCUMENT,
};
use bosun_proto::session::{PortTarget, SessionKind, SessionStart};
use bosun_store::SessionRecord;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{new_token, session_arn, stream_url};
use crate::api::documents::{content_error, find};
use crate::api::error::ApiError;
use crate::api::{parse, Ctx};
use crate::documents::{content, Selector};
use crate::sessions::{Handoff, NewLive, CLIENT_TOKEN_TTL_MS};
use crate::state::random_bytes;

/// The user tag naming the OS user a session runs as (with `runAsEnabled`), as in AWS.
const RUN_AS_TAG: &str = "SSMSessionRunAs";

/// Networks a port session never reaches unless the preferences say otherwise: the instance
/// metadata service's link-local range.
const DENIED_REMOTE_NETWORKS: &[&str] = &["169.254.169.254/32", "fd00:ec2::254/128"];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    target: String,
    document_name: Option<String>,
    reason: Option<String>,
    parameters: Option<BTreeMap<String, Vec<String>>>,
}

fn doc_error(e: SessionDocError) -> ApiError {
    match e {
        SessionDocError::InvalidParameters(m) => ApiError::new("InvalidParameters", m),
        SessionDocError::InvalidDocument(m) | SessionDocError::Unsupported(m) => {
            ApiError::new("InvalidDocument", m)
        }
    }
}

/// A parsed Session document: its content and declared parameters.
type SessionDoc = (Value, Vec<(String, bosun_core::document::ParameterDecl)>);

/// The Session document `name` (`None`: the default preferences document does not exist).
fn session_document(ctx: &Ctx, name: &str) -> Result<Option<SessionDoc>, ApiError> {
    let doc = match find(ctx, name, Selector::Default) {
        Ok(d) => d,
        Err(e) if name == DEFAULT_SESSION_DOCUMENT && e.code == "InvalidDocument" => {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    if doc.document_type != "Session" {
        return Err(ApiError::new(
            "InvalidDocument",
            format!(
                "{} is a {} document; StartSession needs a Session document.",
                doc.name, doc.document_type
            ),
        ));
    }
    let value = content::parse(&doc.content, &doc.format).map_err(content_error)?;
    let validated = content::validated(&value, "Session").map_err(content_error)?;
    Ok(Some((value, validated.parameters)))
}

/// The region's preferences: `SSM-SessionManagerRunShell` if the caller's account made one.
fn region_preferences(ctx: &Ctx) -> Result<Preferences, ApiError> {
    match session_document(ctx, DEFAULT_SESSION_DOCUMENT)? {
        Some((value, _)) => preferences(&value).map_err(doc_error),
        None => Ok(Preferences::default()),
    }
}

fn kind(t: SessionType) -> SessionKind {
    match t {
        SessionType::StandardStream => SessionKind::StandardStream,
        SessionType::InteractiveCommands => SessionKind::InteractiveCommands,
        SessionType::NonInteractiveCommands => SessionKind::NonInteractiveCommands,
        SessionType::Port => SessionKind::Port,
    }
}

/// `<caller's user name>-<17 lowercase hex digits>`, as AWS forms session ids.
fn new_session_id(principal: &str) -> String {
    let bytes = random_bytes::<9>();
    let hex = hex::encode(bytes);
    format!("{principal}-{}", &hex[..17])
}

pub fn start_session(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: Request = parse(body)?;
    let document_name = req
        .document_name
        .clone()
        .unwrap_or_else(|| DEFAULT_SESSION_DOCUMENT.to_string());
    let bare = crate::documents::bare_name(&document_name).to_string();
    let scope = ctx.scope();
    let node_arn = scope.managed_instance_arn(&req.target);
    let doc_arn = scope.ssm_arn(&format!("document/{bare}"));
    // Both resources, before anything about them is looked up; one deny refuses.
    ctx.authorize_arns("ssm:StartSession", [node_arn.as_str(), doc_arn.as_str()])?;
    let not_connected = || {
        ApiError::new(
            "TargetNotConnected",
            format!("{} is not connected.", req.target),
        )
    };
    let node = ctx.state.store.get_instance(&req.target)?;
    if !node.is_some_and(|n| n.region == ctx.region && !n.deregistered) {
        return Err(not_connected());
    }
    // The replica holding the node's channel relays the session: this one, or the one the
    // session is handed to.
    let relay = if ctx.state.hub.is_connected(&req.target) {
        None
    } else {
        let presence = crate::replicas::Presence::load(&*ctx.state.store, ctx.now_ms)
            .map_err(ApiError::internal)?;
        match presence.holder_elsewhere(&req.target, &ctx.state.replica.id) {
            Some(replica) => Some(replica.to_string()),
            None => return Err(not_connected()),
        }
    };
    let parameters = req.parameters.clone().unwrap_or_default();
    let (plan, prefs) = match session_document(ctx, &bare)? {
        Some((value, decls)) => {
            let p = plan(&value, &decls, &parameters).map_err(doc_error)?;
            let prefs = if session_type(&value).map_err(doc_error)? == SessionType::StandardStream {
                preferences(&value).map_err(doc_error)?
            } else {
                region_preferences(ctx)?
            };
            (p, prefs)
        }
        None => {
            if !parameters.is_empty() {
                return Err(ApiError::new(
                    "InvalidParameters",
                    "SSM-SessionManagerRunShell declares no parameters.",
                ));
            }
            let default = json!({"schemaVersion": "1.0", "sessionType": "Standard_Stream"});
            (
                plan(&default, &[], &parameters).map_err(doc_error)?,
                Preferences::default(),
            )
        }
    };
    // As AWS: with runAsEnabled, the caller's SSMSessionRunAs tag names the OS user, else the
    // preferences' runAsDefaultUser; the agent refuses a user the node does not have.
    let run_as_user = if prefs.run_as_enabled {
        let tagged = ctx
            .state
            .store
            .user_tags(&ctx.principal)?
            .into_iter()
            .find(|(k, v)| k == RUN_AS_TAG && !v.is_empty())
            .map(|(_, v)| v);
        Some(
            tagged
                .or_else(|| prefs.run_as_default_user.clone())
                .ok_or_else(|| {
                    ApiError::new(
                        "InvalidDocument",
                        format!(
                            "The Session Manager preferences enable runAsEnabled, but user {} has \
                             no {RUN_AS_TAG} tag and the preferences name no runAsDefaultUser.",
                            ctx.principal
                        ),
                    )
                })?,
        )
    } else {
        None
    };
    let session_id = new_session_id(&ctx.principal);
    let (client_token, client_hash) = new_token();
    let (agent_token, agent_hash) = new_token();
    let now = ctx.now_ms;
    let owner = format!(
        "arn:aws:iam::{}:user/{}",
        ctx.state.config.account_id, ctx.principal
    );
    let reason = req.reason.clone().unwrap_or_default();
    let start = SessionStart {
        session_id: session_id.clone(),
        document_name: bare.clone(),
        kind: kind(plan.session_type),
        command: plan.command.clone(),
        port: plan.port.as_ref().map(|p| PortTarget {
            port_number: p.port_number,
            host: p.host.clone(),
            forwarding_type: p.forwarding_type.clone(),
            local_port_number: p.local_port_number.clone(),
        }),
        run_as_user,
        shell_profile: prefs.shell_profile_linux.clone(),
        agent_token,
        denied_remote_networks: DENIED_REMOTE_NETWORKS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        start_by_ms: now + CLIENT_TOKEN_TTL_MS,
    };
    let record = SessionRecord {
        session_id: session_id.clone(),
        region: ctx.region.clone(),
        target: req.target.clone(),
        document_name: bare.clone(),
        owner,
        reason: reason.clone(),
        status: "Connecting".into(),
        details: String::new(),
        start_ms: now,
        end_ms: None,
        output_url: if crate::sessions::is_logged(kind(plan.session_type)) {
            crate::sessions::log_url(&ctx.base_url, &session_id)
        } else {
            String::new()
        },
        max_duration_s: prefs.max_duration_s,
        idle_timeout_s: prefs.idle_timeout_s,
        client_token_hash: client_hash,
        client_token_expires_ms: now + CLIENT_TOKEN_TTL_MS,
        // Handed over: the relaying replica makes the agent's token.
        agent_token_hash: if relay.is_some() {
            String::new()
        } else {
            agent_hash
        },
        agent_accepted: false,
        replica_id: relay
            .clone()
            .unwrap_or_else(|| ctx.state.replica.id.clone()),
        handoff: match &relay {
            Some(_) => Handoff::to_json(start.clone(), prefs.idle_counts_input),
            None => String::new(),
        },
        end_reason: None,
        agent_report: None,
    };
    ctx.state.store.create_session(&record)?;
    let detail = json!({
        "SessionId": session_id, "Target": req.target, "DocumentName": bare, "Reason": reason,
    });
    ctx.audit_allowed(
        &session_arn(ctx.state, &ctx.region, &session_id),
        detail.to_string(),
    )?;
    match &relay {
        Some(replica) => ctx.state.doorbell.session(replica, &session_id),
        None => ctx.state.sessions.add(
            ctx.state,
            NewLive {
                target: req.target.clone(),
                start,
                idle_timeout_s: prefs.idle_timeout_s,
                max_duration_s: prefs.max_duration_s,
                idle_counts_input: prefs.idle_counts_input,
                start_ms: now,
            },
        ),
    }
    Ok(json!({
        "SessionId": session_id,
        "TokenValue": client_token,
        "StreamUrl": stream_url(&ctx.base_url, &session_id),
    }))
}
