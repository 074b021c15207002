//! `bosun port-forward NODE LOCAL:HOST:PORT`: a local TCP port carried to a port on the node
//! (or a host it reaches) through one port session. Each accepted connection is a smux v1
//! stream (odd ids from 3, as AWS's plugin opens them) over the data channel; the agent dials
//! the destination once per stream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use bosun_core::session::smux::{push_frames, SmuxCommand, SmuxDecoder, SmuxFrame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::channel::{self, Input, Output};
use crate::client::Connection;

/// `bosun port-forward` arguments.
#[derive(clap::Args, Clone, Debug)]
pub struct PortForwardArgs {
    /// The managed node (mi-… or i-…).
    pub target: String,
    /// LOCAL_PORT:HOST:PORT (HOST as the node sees it; `localhost` is the node itself), or
    /// LOCAL_PORT:PORT for a port on the node.
    pub spec: String,
    /// The local address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
}

/// `8080:localhost:80` → (8080, None, 80); `8080:db.internal:5432` → (8080, Some(host), 5432).
pub fn parse_spec(spec: &str) -> anyhow::Result<(u16, Option<String>, u16)> {
    let parts: Vec<&str> = spec.split(':').collect();
    let port = |s: &str| -> anyhow::Result<u16> {
        s.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .with_context(|| format!("{s:?} is not a port number (1-65535)"))
    };
    match parts.as_slice() {
        [local, remote] => Ok((port(local)?, None, port(remote)?)),
        [local, host, remote] if !host.is_empty() => {
            let host = (*host != "localhost").then(|| host.to_string());
            Ok((port(local)?, host, port(remote)?))
        }
        _ => bail!("expected LOCAL_PORT:HOST:PORT or LOCAL_PORT:PORT, got {spec:?}"),
    }
}

/// Starts the port session and forwards until the session ends or Ctrl-C.
pub async fn port_forward(conn: &Connection, args: PortForwardArgs) -> anyhow::Result<u8> {
    let (local_port, host, remote_port) = parse_spec(&args.spec)?;
    let listener = TcpListener::bind((args.bind.as_str(), local_port))
        .await
        .with_context(|| format!("listening on {}:{local_port}", args.bind))?;
    let mut request = conn
        .sdk
        .start_session()
        .target(&args.target)
        .parameters("portNumber", vec![remote_port.to_string()])
        .parameters("localPortNumber", vec![local_port.to_string()]);
    request = match &host {
        Some(h) => request
            .document_name("AWS-StartPortForwardingSessionToRemoteHost")
            .parameters("host", vec![h.clone()]),
        None => request.document_name("AWS-StartPortForwardingSession"),
    };
    let started = request
        .send()
        .await
        .map_err(|e| anyhow::anyhow!(crate::client::describe_error(&e)))?;
    let (Some(stream_url), Some(token)) = (started.stream_url(), started.token_value()) else {
        bail!("StartSession answered without a stream URL or token");
    };
    eprintln!(
        "forwarding {}:{local_port} to {}:{remote_port} on {} (session {}); Ctrl-C ends it",
        args.bind,
        host.as_deref().unwrap_or("localhost"),
        args.target,
        started.session_id().unwrap_or_default()
    );
    forward(conn, stream_url, token, listener).await
}

/// Runs an open port session: every connection to `listener` is one stream, until the session
/// ends or Ctrl-C (which ends the session on the node too).
pub async fn forward(
    conn: &Connection,
    stream_url: &str,
    token: &str,
    listener: TcpListener,
) -> anyhow::Result<u8> {
    let headers = crate::output::signed_headers(conn, &stream_url.replacen("ws", "http", 1))?;
    let (input_tx, input_rx) = mpsc::channel::<Input>(256);
    let (output_tx, output_rx) = mpsc::channel::<Output>(256);
    let streams: Streams = Arc::new(Mutex::new(HashMap::new()));
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let demux = tokio::spawn(demultiplex(output_rx, streams.clone(), ready_tx));
    let accept = tokio::spawn(accept_loop(listener, input_tx.clone(), streams, ready_rx));
    let interrupt = {
        let tx = input_tx.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = tx.send(Input::Terminate).await;
            }
        })
    };
    drop(input_tx);
    // Each input message is one whole smux frame (header and up to 32 KiB of data).
    let ending = channel::run(stream_url, token, headers, input_rx, output_tx, usize::MAX).await;
    accept.abort();
    interrupt.abort();
    let _ = demux.await;
    let ending = ending?;
    if !ending.reason.is_empty() {
        eprintln!("session ended: {}", ending.reason);
    }
    Ok(0)
}

/// Each open stream's writer half, by smux stream id.
type Streams = Arc<Mutex<HashMap<u32, mpsc::Sender<Option<Vec<u8>>>>>>;

/// Waits for the handshake (connections made before it wait in the listen backlog), then turns
/// each accepted connection into a stream.
async fn accept_loop(
    listener: TcpListener,
    input: mpsc::Sender<Input>,
    streams: Streams,
    ready: tokio::sync::oneshot::Receiver<()>,
) {
    if ready.await.is_err() {
        return;
    }
    let mut next_id: u32 = 1;
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            return;
        };
        // Small writes (keystrokes, echoes) go at once, not after the peer's delayed ack.
        let _ = socket.set_nodelay(true);
        next_id += 2;
        let id = next_id;
        let (tx, rx) = mpsc::channel(64);
        streams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, tx);
        if send_frame(&input, SmuxFrame::new(SmuxCommand::Syn, id, Vec::new()))
            .await
            .is_err()
        {
            return;
        }
        tokio::spawn(pump(socket, id, input.clone(), rx));
    }
}

async fn send_frame(input: &mpsc::Sender<Input>, frame: SmuxFrame) -> anyhow::Result<()> {
    input
        .send(Input::Bytes(frame.encode()?))
        .await
        .map_err(|_| anyhow::anyhow!("the session ended"))
}

/// One local connection: its bytes become PSH frames, the stream's data is written back; either
/// side's end closes both (FIN).
async fn pump(
    socket: TcpStream,
    id: u32,
    input: mpsc::Sender<Input>,
    mut from_remote: mpsc::Receiver<Option<Vec<u8>>>,
) {
    let (mut read, mut write) = socket.into_split();
    let up = {
        let input = input.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        for frame in push_frames(id, &buf[..n]) {
                            if send_frame(&input, frame).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
            let _ = send_frame(&input, SmuxFrame::new(SmuxCommand::Fin, id, Vec::new())).await;
        })
    };
    while let Some(Some(bytes)) = from_remote.recv().await {
        if write.write_all(&bytes).await.is_err() {
            break;
        }
    }
    let _ = write.shutdown().await;
    let _ = up.await;
}

/// Routes the agent's smux byte stream to the local connections, and says when the handshake
/// is complete.
async fn demultiplex(
    mut output: mpsc::Receiver<Output>,
    streams: Streams,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let mut decoder = SmuxDecoder::new();
    while let Some(out) = output.recv().await {
        let bytes = match out {
            Output::Ready => {
                if let Some(tx) = ready.take() {
                    let _ = tx.send(());
                }
                continue;
            }
            Output::Data(bytes) => bytes,
        };
        let Ok(frames) = decoder.push(&bytes) else {
            eprintln!("the session sent bytes that are not smux frames; ending");
            return;
        };
        for frame in frames {
            let tx = streams
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&frame.stream_id)
                .cloned();
            let Some(tx) = tx else { continue };
            match frame.command {
                SmuxCommand::Push => {
                    let _ = tx.send(Some(frame.data)).await;
                }
                SmuxCommand::Fin => {
                    let _ = tx.send(None).await;
                    streams
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&frame.stream_id);
                }
                SmuxCommand::Syn | SmuxCommand::Nop => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarding_specs() {
        assert_eq!(parse_spec("8080:localhost:80").unwrap(), (8080, None, 80));
        assert_eq!(parse_spec("8080:80").unwrap(), (8080, None, 80));
        assert_eq!(
            parse_spec("15432:db.internal:5432").unwrap(),
            (15432, Some("db.internal".into()), 5432)
        );
        assert!(parse_spec("0:80").is_err());
        assert!(parse_spec("8080").is_err());
        assert!(parse_spec("8080::80").is_err());
        assert!(parse_spec("x:80").is_err());
    }
}
