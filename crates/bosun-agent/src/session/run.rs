//! One session from start to end: wait for the data channel, handshake when the session type
//! needs one, run the process, relay bytes, end the process group, and say how it ended.

use std::time::Duration;

use bosun_core::session::frame::ClientMessage;
use bosun_core::session::handshake::{
    check_handshake_response, session_type_request, SessionType, HANDSHAKE_TIMEOUT_MS,
};
use bosun_core::session::message_type::{FlagPayload, PayloadType};
use bosun_core::session::payloads::{
    HandshakeComplete, HandshakeRequest, HandshakeResponse, PortSessionProperties, TerminalSize,
};
use bosun_core::session::versions::agent_port_mode;
use bosun_proto::session::{SessionEnd, SessionEndReason, SessionKind, SessionStart};
use nix::sys::signal::Signal;
use std::os::unix::process::ExitStatusExt as _;
use tokio::sync::mpsc;

use super::process::{SessionProcess, SpawnSpec};
use super::pump::{now_ms, Inbound, Link, Pump};

/// The `AgentVersion` told to clients: 4-part numeric and above 3.1.1511.0, so the stock plugin
/// turns smux keepalive off and sends the terminate flag.
pub const HANDSHAKE_AGENT_VERSION: &str = "3.3.0.0";

/// Timings of a session run.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// SIGHUP → SIGKILL grace (`Mds.StopTimeoutMillis`).
    pub stop_grace: Duration,
    /// How long to wait for the first data channel connection.
    pub connect_limit: Duration,
    /// How long to wait for the last output to be acknowledged (AWS: 2 s).
    pub drain_limit: Duration,
    /// How long to keep reading output once the process exited.
    pub output_linger: Duration,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            stop_grace: Duration::from_secs(20),
            connect_limit: Duration::from_secs(60),
            drain_limit: Duration::from_secs(2),
            output_linger: Duration::from_secs(2),
        }
    }
}

pub fn ended(
    session_id: &str,
    reason: SessionEndReason,
    exit_code: Option<i32>,
    signal: Option<String>,
    error: Option<String>,
) -> SessionEnd {
    SessionEnd {
        session_id: session_id.to_string(),
        reason,
        exit_code,
        signal,
        escaped: Vec::new(),
        error,
        ended_at_ms: now_ms() as i64,
    }
}

fn failed(start: &SessionStart, error: String) -> SessionEnd {
    ended(
        &start.session_id,
        SessionEndReason::Failed,
        None,
        None,
        Some(error),
    )
}

fn session_type(kind: SessionKind) -> SessionType {
    match kind {
        SessionKind::StandardStream => SessionType::StandardStream,
        SessionKind::InteractiveCommands => SessionType::InteractiveCommands,
        SessionKind::NonInteractiveCommands => SessionType::NonInteractiveCommands,
        SessionKind::Port => SessionType::Port,
    }
}

/// Run one session over the connections `links` brings; `stop` asks for an early end.
pub async fn run_session(
    start: SessionStart,
    settings: RunSettings,
    links: mpsc::Receiver<Link>,
    mut stop: mpsc::Receiver<SessionEndReason>,
) -> SessionEnd {
    if start.start_by_ms > 0 && (now_ms() as i64) > start.start_by_ms {
        return failed(&start, "the session's start deadline passed".into());
    }
    if start.kind == SessionKind::Port {
        return run_port(start, settings, links, stop).await;
    }
    let user = match super::user::resolve(start.run_as_user.as_deref()) {
        Ok(u) => u,
        Err(e) => return failed(&start, e),
    };
    let mut pump = Pump::new(&start.session_id, links);
    let connected = tokio::select! {
        c = pump.wait_connected(settings.connect_limit) => c,
        r = stop.recv() => {
            let reason = r.unwrap_or(SessionEndReason::Terminated);
            return ended(&start.session_id, reason, None, None, None);
        }
    };
    if !connected {
        return failed(
            &start,
            "the agent could not connect to the session's data channel".into(),
        );
    }
    let kind = session_type(start.kind);
    if kind.requires_handshake(false) {
        if let Err(e) = handshake(&mut pump, kind, serde_json::Value::Null, &mut stop).await {
            pump.send_state("Terminating");
            return e.into_end(&start);
        }
    }
    let spec = SpawnSpec {
        session_id: start.session_id.clone(),
        user,
        command: start.command.clone(),
        pty: kind != SessionType::NonInteractiveCommands,
    };
    let process = match SessionProcess::spawn(&spec) {
        Ok(p) => p,
        Err(e) => {
            let msg = format!("cannot start {}: {e}", spec.user.shell.display());
            pump.send_state("Terminating");
            return failed(&start, msg);
        }
    };
    super::shell::relay(&start, &settings, pump, process, stop).await
}

async fn run_port(
    start: SessionStart,
    settings: RunSettings,
    links: mpsc::Receiver<Link>,
    mut stop: mpsc::Receiver<SessionEndReason>,
) -> SessionEnd {
    let Some(target) = start.port.clone() else {
        return failed(&start, "a port session needs a port number".into());
    };
    let addrs = match super::port_target::resolve(&target, &start.denied_remote_networks).await {
        Ok(a) => a,
        Err(e) => return failed(&start, e),
    };
    let mut pump = Pump::new(&start.session_id, links);
    let connected = tokio::select! {
        c = pump.wait_connected(settings.connect_limit) => c,
        r = stop.recv() => {
            let reason = r.unwrap_or(SessionEndReason::Terminated);
            return ended(&start.session_id, reason, None, None, None);
        }
    };
    if !connected {
        return failed(
            &start,
            "the agent could not connect to the session's data channel".into(),
        );
    }
    let properties = PortSessionProperties {
        port_number: Some(target.port_number.to_string()),
        host: target.host.clone(),
        forwarding_type: target.forwarding_type.clone(),
        local_port_number: target.local_port_number.clone(),
        local_unix_socket: None,
        local_connection_type: None,
    };
    let properties = serde_json::to_value(properties).unwrap_or_default();
    let response = match handshake(&mut pump, SessionType::Port, properties, &mut stop).await {
        Ok(r) => r,
        Err(e) => {
            pump.send_state("Terminating");
            return e.into_end(&start);
        }
    };
    let mode = agent_port_mode(&response.client_version, target.forwarding_type.as_deref());
    super::port::relay(&start, &settings, pump, addrs, mode, stop).await
}

/// Why a handshake did not complete.
enum HandshakeEnd {
    Failed(String),
    /// Ended from outside (`TerminateSession`) before the client answered.
    Stopped(SessionEndReason),
}

impl From<String> for HandshakeEnd {
    fn from(e: String) -> Self {
        Self::Failed(e)
    }
}

impl HandshakeEnd {
    fn into_end(self, start: &SessionStart) -> SessionEnd {
        match self {
            Self::Failed(e) => failed(start, e),
            Self::Stopped(reason) => ended(&start.session_id, reason, None, None, None),
        }
    }
}

/// Ask the client for the session type and wait for its answer (inbound data before the answer
/// is acked and dropped, as AWS's agent does).
async fn handshake(
    pump: &mut Pump,
    kind: SessionType,
    properties: serde_json::Value,
    stop: &mut mpsc::Receiver<SessionEndReason>,
) -> Result<HandshakeResponse, HandshakeEnd> {
    let request: HandshakeRequest = session_type_request(HANDSHAKE_AGENT_VERSION, kind, properties);
    let started = std::time::Instant::now();
    pump.send_stream(
        PayloadType::HandshakeRequest.as_u32(),
        serde_json::to_vec(&request).unwrap_or_default(),
    )
    .map_err(|e| HandshakeEnd::Failed(e.to_string()))?;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(HANDSHAKE_TIMEOUT_MS);
    loop {
        let inbound = tokio::select! {
            i = tokio::time::timeout_at(deadline, pump.next()) => match i {
                Ok(i) => i,
                Err(_) => return Err(bosun_core::session::handshake::HandshakeError::TimedOut.to_string().into()),
            },
            r = stop.recv() => return Err(HandshakeEnd::Stopped(r.unwrap_or(SessionEndReason::Terminated))),
        };
        let frame: ClientMessage = match inbound {
            Inbound::Data(f) => f,
            Inbound::Acked => continue,
            Inbound::Closed(_) | Inbound::Gone => {
                return Err(HandshakeEnd::Stopped(SessionEndReason::Terminated))
            }
        };
        if frame.payload_type != PayloadType::HandshakeResponse.as_u32() {
            continue;
        }
        let response: HandshakeResponse = serde_json::from_slice(&frame.payload)
            .map_err(|e| HandshakeEnd::Failed(format!("malformed HandshakeResponse: {e}")))?;
        check_handshake_response(&request, &response)
            .map_err(|e| HandshakeEnd::Failed(e.to_string()))?;
        let complete = HandshakeComplete {
            handshake_time_to_complete_ns: started.elapsed().as_nanos() as i64,
            customer_message: String::new(),
        };
        pump.send_stream(
            PayloadType::HandshakeComplete.as_u32(),
            serde_json::to_vec(&complete).unwrap_or_default(),
        )
        .map_err(|e| HandshakeEnd::Failed(e.to_string()))?;
        return Ok(response);
    }
}

/// What a client frame asks of a process session.
pub enum Input {
    Bytes(Vec<u8>),
    Size(TerminalSize),
    Terminate,
    /// A flag or payload this session type ignores.
    Nothing,
}

pub fn input_of(frame: ClientMessage) -> Input {
    match PayloadType::from_u32(frame.payload_type) {
        Some(PayloadType::Output) => Input::Bytes(frame.payload),
        Some(PayloadType::Size) => serde_json::from_slice(&frame.payload)
            .map(Input::Size)
            .unwrap_or(Input::Nothing),
        Some(PayloadType::Flag) => match FlagPayload::decode(&frame.payload) {
            Some(FlagPayload::TerminateSession) => Input::Terminate,
            _ => Input::Nothing,
        },
        _ => Input::Nothing,
    }
}

/// Exit code (`None` when killed), signal name, and the code told to the client (128+N).
pub fn exit_facts(status: std::process::ExitStatus) -> (Option<i32>, Option<String>, i32) {
    match (status.code(), status.signal()) {
        (Some(code), _) => (Some(code), None, code),
        (None, Some(sig)) => {
            let name = Signal::try_from(sig)
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|_| format!("SIG{sig}"));
            (None, Some(name), 128 + sig)
        }
        (None, None) => (None, None, 255),
    }
}
