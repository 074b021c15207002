//! Port sessions: TCP forwarding in basic mode (one connection; the client's DisconnectToPort
//! flag closes it and the next data redials) or smux mode (the agent is the smux server: each
//! SYN dials a connection, PSH carries bytes both ways, FIN closes). Only smux bytes ever go to
//! the client in smux mode.

use std::collections::HashMap;
use std::net::SocketAddr;

use bosun_core::session::message_type::{FlagPayload, PayloadType};
use bosun_core::session::smux::{SmuxCommand, SmuxDecoder, SmuxFrame};
use bosun_core::session::versions::PortMode;
use bosun_proto::session::{SessionEnd, SessionEndReason, SessionStart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::pump::{Inbound, Pump};
use super::run::{ended, RunSettings};

/// Bytes read from a connection per frame (smux header included in smux mode): more than
/// AWS's 1,024, as for process output (`process.rs`).
const CHUNK: usize = 8 * 1024;

enum Event {
    Data(u32, Vec<u8>),
    Eof(u32),
    DialFailed(u32, String),
}

struct Conn {
    tx: mpsc::Sender<Vec<u8>>,
    task: JoinHandle<()>,
}

/// One connection: dial the checked addresses, then copy both ways. Dropping `tx` shuts the
/// write side; the task ends at the remote's EOF.
fn spawn_conn(
    id: u32,
    addrs: Vec<SocketAddr>,
    events: mpsc::Sender<Event>,
    read_max: usize,
) -> Conn {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(256);
    let task = tokio::spawn(async move {
        let mut last = String::from("no address");
        let mut stream = None;
        for addr in &addrs {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    // Forwarded bytes go at once: Nagle's algorithm against the peer's delayed
                    // acks would hold small writes (keystrokes, echoes) for tens of milliseconds.
                    let _ = s.set_nodelay(true);
                    stream = Some(s);
                    break;
                }
                Err(e) => last = format!("cannot connect to {addr}: {e}"),
            }
        }
        let Some(stream) = stream else {
            let _ = events.send(Event::DialFailed(id, last)).await;
            return;
        };
        let (mut r, mut w) = stream.into_split();
        let writer = tokio::spawn(async move {
            while let Some(bytes) = rx.recv().await {
                if w.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            let _ = w.shutdown().await;
        });
        let mut buf = vec![0u8; read_max];
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if events
                        .send(Event::Data(id, buf[..n].to_vec()))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        let _ = events.send(Event::Eof(id)).await;
        let _ = writer.await;
    });
    Conn { tx, task }
}

pub async fn relay(
    start: &SessionStart,
    settings: &RunSettings,
    mut pump: Pump,
    addrs: Vec<SocketAddr>,
    mode: PortMode,
    mut stop: mpsc::Receiver<SessionEndReason>,
) -> SessionEnd {
    let smux = matches!(mode, PortMode::Multiplexed { .. });
    let local_forwarding = start
        .port
        .as_ref()
        .and_then(|p| p.forwarding_type.as_deref())
        == Some(bosun_core::session::versions::LOCAL_PORT_FORWARDING);
    let (events_tx, mut events) = mpsc::channel::<Event>(256);
    let read_max = if smux { CHUNK - 8 } else { CHUNK };
    let mut conns: HashMap<u32, Conn> = HashMap::new();
    let mut next_basic_id = 0u32;
    let mut current: Option<u32> = None;
    if !smux {
        conns.insert(0, spawn_conn(0, addrs.clone(), events_tx.clone(), read_max));
        current = Some(0);
    }
    let mut decoder = SmuxDecoder::new();
    let mut error = None;
    let reason = loop {
        tokio::select! {
            ev = events.recv(), if pump.can_send() => match ev {
                Some(Event::Data(id, bytes)) if conns.contains_key(&id) => {
                    let payload = if smux {
                        SmuxFrame::new(SmuxCommand::Push, id, bytes).encode().unwrap_or_default()
                    } else {
                        bytes
                    };
                    let _ = pump.send_stream(PayloadType::Output.as_u32(), payload);
                }
                Some(Event::Eof(id)) if conns.contains_key(&id) => {
                    conns.remove(&id);
                    if smux {
                        let fin = SmuxFrame::new(SmuxCommand::Fin, id, Vec::new());
                        let _ = pump.send_stream(PayloadType::Output.as_u32(), fin.encode().unwrap_or_default());
                    } else {
                        current = None;
                        if !local_forwarding {
                            break SessionEndReason::Exited;
                        }
                    }
                }
                Some(Event::DialFailed(id, e)) if conns.contains_key(&id) => {
                    tracing::warn!(session_id = %start.session_id, error = %e, "port session dial failed");
                    conns.remove(&id);
                    if smux {
                        let _ = pump.send_stream(PayloadType::Flag.as_u32(), FlagPayload::ConnectToPortError.encode().to_vec());
                        let fin = SmuxFrame::new(SmuxCommand::Fin, id, Vec::new());
                        let _ = pump.send_stream(PayloadType::Output.as_u32(), fin.encode().unwrap_or_default());
                    } else {
                        error = Some(e);
                        break SessionEndReason::Failed;
                    }
                }
                _ => {}
            },
            inbound = pump.next() => match inbound {
                Inbound::Data(frame) => match PayloadType::from_u32(frame.payload_type) {
                    Some(PayloadType::Output) if smux => match decoder.push(&frame.payload) {
                        Ok(frames) => {
                            for f in frames {
                                on_smux(f, &mut conns, &addrs, &events_tx, read_max);
                            }
                        }
                        Err(e) => {
                            error = Some(format!("the client's smux stream is corrupt: {e}"));
                            break SessionEndReason::Failed;
                        }
                    },
                    Some(PayloadType::Output) => {
                        let id = match current {
                            Some(id) => id,
                            None => {
                                next_basic_id += 1;
                                let id = next_basic_id;
                                conns.insert(id, spawn_conn(id, addrs.clone(), events_tx.clone(), read_max));
                                current = Some(id);
                                id
                            }
                        };
                        if let Some(c) = conns.get(&id) {
                            let _ = c.tx.send(frame.payload).await;
                        }
                    }
                    Some(PayloadType::Flag) => match FlagPayload::decode(&frame.payload) {
                        Some(FlagPayload::TerminateSession) => break SessionEndReason::Terminated,
                        Some(FlagPayload::DisconnectToPort) if !smux => {
                            if let Some(c) = current.take().and_then(|id| conns.remove(&id)) {
                                c.task.abort();
                            }
                        }
                        _ => {}
                    },
                    _ => {}
                },
                Inbound::Acked => {}
                Inbound::Closed(_) | Inbound::Gone => break SessionEndReason::Terminated,
            },
            r = stop.recv() => break r.unwrap_or(SessionEndReason::Terminated),
        }
    };
    for (_, c) in conns.drain() {
        c.task.abort();
    }
    pump.send_state("Terminating");
    pump.drain(settings.drain_limit).await;
    ended(&start.session_id, reason, None, None, error)
}

fn on_smux(
    f: SmuxFrame,
    conns: &mut HashMap<u32, Conn>,
    addrs: &[SocketAddr],
    events: &mpsc::Sender<Event>,
    read_max: usize,
) {
    match f.command {
        SmuxCommand::Syn => {
            conns.entry(f.stream_id).or_insert_with(|| {
                spawn_conn(f.stream_id, addrs.to_vec(), events.clone(), read_max)
            });
        }
        SmuxCommand::Push => {
            if let Some(c) = conns.get(&f.stream_id) {
                // The per-connection queue absorbs bursts; a connection that cannot keep up is cut.
                if c.tx.try_send(f.data).is_err() {
                    if let Some(c) = conns.remove(&f.stream_id) {
                        c.task.abort();
                    }
                }
            }
        }
        SmuxCommand::Fin => {
            // Half-close: the write side shuts when its queue is dropped; reading goes on until
            // the remote's EOF.
            if let Some(c) = conns.get_mut(&f.stream_id) {
                let (closed, _) = mpsc::channel(1);
                c.tx = closed;
            }
        }
        SmuxCommand::Nop => {}
    }
}
