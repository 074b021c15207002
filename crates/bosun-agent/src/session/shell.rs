//! The relay of a process session (shells, InteractiveCommands on a PTY; NonInteractiveCommands
//! on pipes): output to the client, client input to the process, and the end: the process
//! group is ended, escaped processes are listed, the exit code goes to the client as a bare
//! integer (`ExitCode` payload; 128+N for a death by signal N), then `Terminating`.

use bosun_core::session::message_type::PayloadType;
use bosun_proto::session::{SessionEnd, SessionEndReason, SessionStart};
use nix::sys::signal::Signal;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::process::SessionProcess;
use super::pump::{Inbound, Pump};
use super::reap;
use super::run::{ended, exit_facts, input_of, Input, RunSettings};

pub async fn relay(
    start: &SessionStart,
    settings: &RunSettings,
    mut pump: Pump,
    mut process: SessionProcess,
    mut stop: mpsc::Receiver<SessionEndReason>,
) -> SessionEnd {
    let pty = start.kind != bosun_proto::session::SessionKind::NonInteractiveCommands;
    if let Some(profile) = start.shell_profile.as_deref().filter(|p| !p.is_empty()) {
        let mut bytes = profile.as_bytes().to_vec();
        bytes.push(b'\n');
        process.write(bytes);
    }
    let leader = process.pgid;
    let mut reason = SessionEndReason::Exited;
    let mut kill_at: Option<Instant> = None;
    let mut status = None;
    let mut output_open = true;
    let mut linger_until: Option<Instant> = None;
    let mut stop_open = true;
    // Until `channel_closed` or the dialer gave up; then only the process is waited for.
    let mut channel_open = true;
    // The start of a UTF-8 character whose rest has not been read yet.
    let mut carry = Vec::new();
    loop {
        if status.is_some() && (!output_open || linger_until.is_some_and(|t| Instant::now() >= t)) {
            break;
        }
        let terminate = tokio::select! {
            chunk = process.output.recv(), if output_open && pump.can_send() => {
                let out = match chunk {
                    Some(bytes) => {
                        carry.extend_from_slice(&bytes);
                        let rest = carry.split_off(super::utf8::complete_len(&carry));
                        std::mem::replace(&mut carry, rest)
                    }
                    None => {
                        output_open = false;
                        std::mem::take(&mut carry)
                    }
                };
                if !out.is_empty() {
                    if let Err(e) = pump.send_stream(PayloadType::Output.as_u32(), out) {
                        tracing::warn!(session_id = %start.session_id, error = %e, "output dropped");
                    }
                }
                None
            }
            s = process.child.wait(), if status.is_none() => {
                status = Some(s);
                linger_until = Some(Instant::now() + settings.output_linger);
                None
            }
            _ = sleep_until_opt(linger_until), if status.is_some() => None,
            inbound = pump.next(), if channel_open => match inbound {
                Inbound::Data(frame) => match input_of(frame) {
                    Input::Bytes(bytes) => {
                        deliver_input(&process, pty, bytes);
                        None
                    }
                    Input::Size(size) => {
                        process.resize(size.cols, size.rows);
                        None
                    }
                    Input::Terminate => Some(SessionEndReason::Terminated),
                    Input::Nothing => None,
                },
                Inbound::Acked => None,
                Inbound::Closed(_) | Inbound::Gone => {
                    channel_open = false;
                    Some(SessionEndReason::Terminated)
                }
            },
            r = stop.recv(), if stop_open => match r {
                Some(r) => Some(r),
                None => { stop_open = false; None }
            },
            _ = sleep_until_opt(kill_at) => {
                reap::signal_group(leader, Signal::SIGKILL);
                kill_at = None;
                None
            }
        };
        if let Some(r) = terminate {
            if reason == SessionEndReason::Exited && status.is_none() {
                reason = r;
                process.close_input();
                reap::signal_group(leader, Signal::SIGHUP);
                kill_at = Some(Instant::now() + settings.stop_grace);
            }
        }
    }
    // Whatever is left of the group: SIGHUP, then SIGKILL after what remains of the grace.
    let grace = kill_at.map_or(settings.stop_grace, |t| {
        t.saturating_duration_since(Instant::now())
    });
    reap::end_group(leader, grace).await;
    let escaped = reap::escaped(&start.session_id, leader);
    let (exit_code, signal, told) = match status {
        Some(Ok(s)) => exit_facts(s),
        _ => (None, None, 255),
    };
    let _ = pump.send_stream(
        PayloadType::ExitCode.as_u32(),
        told.to_string().into_bytes(),
    );
    pump.send_state("Terminating");
    pump.drain(settings.drain_limit).await;
    let error = match &status {
        Some(Err(e)) => Some(format!("cannot wait for the session's process: {e}")),
        _ => None,
    };
    let mut end = ended(&start.session_id, reason, exit_code, signal, error);
    end.escaped = escaped;
    end
}

/// Client bytes to the process. On pipes there is no terminal to turn Ctrl-C and Ctrl-\ into
/// signals, so the agent does (AWS's agent does the same).
fn deliver_input(process: &SessionProcess, pty: bool, bytes: Vec<u8>) {
    if pty {
        process.write(bytes);
        return;
    }
    let mut plain = Vec::with_capacity(bytes.len());
    for b in bytes {
        match b {
            0x03 => reap::signal_group(process.pgid, Signal::SIGINT),
            0x1c => reap::signal_group(process.pgid, Signal::SIGQUIT),
            other => plain.push(other),
        }
    }
    if !plain.is_empty() {
        process.write(plain);
    }
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
