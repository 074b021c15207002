//! `GET /v1/data-channel/{session_id}`: a session's data channel socket, for the client and for
//! the node's agent alike. The first text frame is `OpenDataChannelInput`; its token decides
//! the side (the session's agent token, good for every redial, with the node's id as
//! `ClientInstanceId`; or the client's current single-use token). A refused socket gets a close
//! frame saying why and the session is unharmed. Then binary frames are relayed unchanged ([`super::frames`]). A socket
//! for a session relayed by another replica is forwarded there ([`super::proxy`]).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bosun_core::session::payloads::OpenDataChannelInput;
use bosun_store::TokenClaim;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::{close, Side};
use crate::state::{now_ms, AppState};

const OPEN_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_FRAME_BYTES: usize = 2 * 1024 * 1024;
/// Bytes a data channel socket reads at once. The websocket library fills its whole read
/// buffer with zeros before each read (128 KiB by default, per socket: two per session), so an
/// idle session held that much; bigger frames still arrive whole, over more reads.
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Axum handler of the data channel path. Any `Authorization` header is ignored: the token in
/// the first frame is what admits a socket.
pub async fn data_channel(
    State(state): State<Arc<AppState>>,
    Path(session_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let arrival = Arrival {
        query,
        forwarded: headers.contains_key(super::proxy::RELAYED_BY),
    };
    ws.max_message_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| async move { run(state, session_id, arrival, socket).await })
}

/// How a socket came.
struct Arrival {
    query: Option<String>,
    /// Another replica forwarded it (it is never forwarded again).
    forwarded: bool,
}

async fn refuse(mut socket: WebSocket, session_id: &str, reason: &str) {
    tracing::info!(%session_id, %reason, "data channel refused");
    let _ = socket.send(close(reason)).await;
}

/// The first text frame, as sent and parsed (pings answered meanwhile).
async fn open_input(socket: &mut WebSocket) -> Result<(String, OpenDataChannelInput), String> {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(t))) => {
                return serde_json::from_str(&t)
                    .map(|input| (t.to_string(), input))
                    .map_err(|e| format!("the first frame is not an OpenDataChannelInput: {e}"))
            }
            Some(Ok(Message::Ping(p))) => {
                let _ = socket.send(Message::Pong(p)).await;
            }
            Some(Ok(Message::Pong(_))) => {}
            Some(Ok(Message::Binary(_))) => {
                return Err("the first frame must be a text OpenDataChannelInput".into())
            }
            _ => return Err("closed before OpenDataChannelInput".into()),
        }
    }
}

/// Where a socket for a session that is not relayed here goes.
enum Elsewhere {
    Refuse(&'static str),
    /// Taken over just now (handed to this replica): go on here.
    Here,
    Forward(String),
}

/// Blocking: why a session is not relayed here, and what to do with its socket.
fn elsewhere(state: &AppState, session_id: &str, forwarded: bool) -> anyhow::Result<Elsewhere> {
    let not_here = "the session is not relayed by this server replica";
    let Some(s) = state.store.get_session(session_id)? else {
        return Ok(Elsewhere::Refuse("no such session"));
    };
    if s.end_ms.is_some() {
        return Ok(Elsewhere::Refuse("the session has ended"));
    }
    if s.replica_id == state.replica.id {
        return Ok(match super::handoff::take_over(state, session_id)? {
            true => Elsewhere::Here,
            false => Elsewhere::Refuse(not_here),
        });
    }
    if forwarded {
        return Ok(Elsewhere::Refuse(not_here));
    }
    Ok(match crate::replicas::url_of(state, &s.replica_id)? {
        Some(url) => Elsewhere::Forward(url),
        None => Elsewhere::Refuse("the server replica relaying the session is not reachable"),
    })
}

async fn run(state: Arc<AppState>, session_id: String, arrival: Arrival, mut socket: WebSocket) {
    let (first, input) = match tokio::time::timeout(OPEN_TIMEOUT, open_input(&mut socket)).await {
        Ok(Ok(i)) => i,
        Ok(Err(e)) => return refuse(socket, &session_id, &e).await,
        Err(_) => return refuse(socket, &session_id, "no OpenDataChannelInput in time").await,
    };
    let hash = token_hash(&input.token_value);
    let side = if input.client_instance_id.is_some() {
        Side::Agent
    } else {
        Side::Client
    };
    // Before the token is spent: a socket for a session relayed by another replica goes there
    // with its token unspent.
    if !state.sessions.is_live(&session_id) {
        let (st, id) = (state.clone(), session_id.clone());
        let forwarded = arrival.forwarded;
        let outcome = tokio::task::spawn_blocking(move || elsewhere(&st, &id, forwarded)).await;
        match outcome {
            Ok(Ok(Elsewhere::Here)) => {}
            Ok(Ok(Elsewhere::Refuse(why))) => return refuse(socket, &session_id, why).await,
            Ok(Ok(Elsewhere::Forward(url))) => {
                let query = arrival.query.as_deref();
                return super::proxy::forward(&state, socket, &url, &session_id, query, first)
                    .await;
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "could not find a session's relaying replica");
                return refuse(socket, &session_id, "internal error").await;
            }
            Err(_) => return refuse(socket, &session_id, "internal error").await,
        }
    }
    let (st, id) = (state.clone(), session_id.clone());
    let claim = tokio::task::spawn_blocking(move || match side {
        Side::Agent => st.store.claim_agent_token(&id, &hash),
        Side::Client => st.store.claim_client_token(&id, &hash, now_ms()),
    })
    .await;
    let record = match claim {
        Ok(Ok(TokenClaim::Claimed(s))) => s,
        Ok(Ok(TokenClaim::NoSession)) => {
            return refuse(socket, &session_id, "no such session").await
        }
        Ok(Ok(TokenClaim::Ended)) => {
            return refuse(socket, &session_id, "the session has ended").await
        }
        Ok(Ok(TokenClaim::Refused)) => {
            let why = "the token is not valid for this session (wrong, used or expired)";
            return refuse(socket, &session_id, why).await;
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "data channel token check failed");
            return refuse(socket, &session_id, "internal error").await;
        }
        Err(_) => return refuse(socket, &session_id, "internal error").await,
    };
    if side == Side::Agent && input.client_instance_id.as_deref() != Some(record.target.as_str()) {
        return refuse(
            socket,
            &session_id,
            "the token belongs to another node's session",
        )
        .await;
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let Some(conn) = state.sessions.attach(&session_id, side, tx) else {
        let why = "the session is not relayed by this server replica";
        return refuse(socket, &session_id, why).await;
    };
    tracing::info!(%session_id, ?side, "data channel connected");
    if side == Side::Client {
        let (st, id) = (state.clone(), session_id.clone());
        let _ =
            tokio::task::spawn_blocking(move || st.store.set_session_status(&id, "Connected", ""))
                .await;
    }
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(m @ Message::Close(_)) => { let _ = socket.send(m).await; break; }
                Some(m) => { if socket.send(m).await.is_err() { break; } }
                None => break,
            },
            inc = socket.next() => match inc {
                Some(Ok(Message::Binary(b))) => {
                    state.sessions.on_frame(&session_id, side, b.to_vec(), now_ms());
                }
                Some(Ok(Message::Ping(p))) => { let _ = socket.send(Message::Pong(p)).await; }
                Some(Ok(Message::Pong(_))) => {}
                Some(Ok(Message::Text(_))) => {
                    tracing::warn!(%session_id, ?side, "ignoring a text frame after OpenDataChannelInput");
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            }
        }
    }
    let gone = state.sessions.detach(&session_id, side, conn);
    tracing::info!(%session_id, ?side, "data channel disconnected");
    if gone && side == Side::Client {
        // AWS's `Disconnected`: the session lives on and `ResumeSession` reconnects it (the
        // store refuses the change once the session ended).
        let (st, id) = (state.clone(), session_id.clone());
        let _ = tokio::task::spawn_blocking(move || {
            st.store.set_session_status(&id, "Disconnected", "")
        })
        .await;
    }
}
