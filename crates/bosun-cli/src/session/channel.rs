//! The client end of a Session Manager data channel over its websocket: the token message, then
//! AWS's binary frames both ways with `bosun_core::session`'s acks, ordering and retransmission,
//! the handshake answered, and the session's exit code kept. No terminal here: input comes from
//! a channel and output goes to one, so the same loop serves `bosun session` and the
//! `session-manager-plugin` entry point.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use bosun_core::session::channel::{ChannelRole, DataChannel, InboundEvent};
use bosun_core::session::frame::ClientMessage;
use bosun_core::session::handshake::answer_handshake_request;
use bosun_core::session::message_type::{FlagPayload, PayloadType};
use bosun_core::session::payloads::{decode_exit_code, HandshakeRequest, TerminalSize};
use bosun_core::session::reliability::{IncomingConfig, OutgoingConfig};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

/// The version this client reports in its handshake answer and token message: the plugin's,
/// four numeric parts above 1.2.331.0, so agents use smux without keepalives for port sessions.
pub const CLIENT_VERSION: &str = super::plugin::PLUGIN_VERSION;

/// What the user does to the session.
#[derive(Debug)]
pub enum Input {
    /// Bytes typed (or piped) to the remote shell or command.
    Bytes(Vec<u8>),
    /// The terminal's new size.
    Resize { cols: u32, rows: u32 },
    /// End the session (the agent ends the remote process group).
    Terminate,
}

/// What the session sends this client.
#[derive(Debug)]
pub enum Output {
    /// Bytes from the remote shell, command or port.
    Data(Vec<u8>),
    /// The handshake is complete: port sessions may start their streams.
    Ready,
}

/// How a session ended for this client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    /// The remote shell's or command's exit status, when the agent sent one.
    pub exit_code: Option<i32>,
    /// The service's reason, from `channel_closed` (empty when it gave none).
    pub reason: String,
}

/// Opens the data channel at `stream_url` with `token` and runs it until the session ends.
/// `headers` are added to the websocket upgrade (a SigV4 signature, as newer AWS clients send).
pub async fn run(
    stream_url: &str,
    token: &str,
    headers: Vec<(String, String)>,
    mut input: mpsc::Receiver<Input>,
    output: mpsc::Sender<Output>,
    input_chunk: usize,
) -> anyhow::Result<Ending> {
    let mut request = stream_url.into_client_request()?;
    for (name, value) in headers {
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::try_from(name.as_str())?,
            value.parse().context("signature header")?,
        );
    }
    let (socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .with_context(|| format!("opening the session's data channel at {stream_url}"))?;
    let (mut sink, mut stream) = socket.split();
    let open = serde_json::json!({
        "MessageSchemaVersion": "1.0",
        "RequestId": Uuid::new_v4().to_string(),
        "TokenValue": token,
        "ClientId": Uuid::new_v4().to_string(),
        "ClientVersion": CLIENT_VERSION,
    });
    sink.send(Message::Text(open.to_string().into())).await?;

    let mut channel = DataChannel::new(
        ChannelRole::Client,
        OutgoingConfig::default(),
        IncomingConfig::default(),
        true,
    );
    let mut exit_code = None;
    let mut input_open = true;
    // Input waits for the handshake (commands, ports) or a shell's first output: the agent
    // starts the process only then, and bytes sent earlier would have nothing to go to.
    let mut ready = false;
    loop {
        let wait = channel
            .outgoing
            .next_retransmission_at_ms()
            .map(|at| Duration::from_millis(at.saturating_sub(now_ms()).max(1)))
            .unwrap_or(Duration::from_secs(3600));
        tokio::select! {
            frame = stream.next() => {
                let bytes = match frame {
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(Message::Close(close))) => {
                        let reason = close.map(|c| c.reason.to_string()).unwrap_or_default();
                        return Ok(Ending { exit_code, reason });
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e).context("the session's data channel failed"),
                    None => return Ok(Ending { exit_code, reason: String::new() }),
                };
                let Ok(frame) = ClientMessage::decode(&bytes) else { continue };
                match channel.on_frame(frame, now_ms(), Uuid::new_v4()) {
                    InboundEvent::Data { received, acknowledge } => {
                        if let Some(ack) = acknowledge {
                            sink.send(Message::Binary(ack.encode()?.into())).await?;
                        }
                        for frame in received.deliver {
                            match PayloadType::from_u32(frame.payload_type) {
                                Some(PayloadType::Output | PayloadType::StdErr) => {
                                    // A shell has no handshake (as with AWS's agent): its first
                                    // output says it runs and can take input.
                                    ready = true;
                                    let _ = output.send(Output::Data(frame.payload)).await;
                                }
                                Some(PayloadType::HandshakeComplete) => {
                                    ready = true;
                                    let _ = output.send(Output::Ready).await;
                                }
                                Some(PayloadType::ExitCode) => {
                                    exit_code = decode_exit_code(&frame.payload);
                                }
                                Some(PayloadType::HandshakeRequest) => {
                                    let request: HandshakeRequest =
                                        serde_json::from_slice(&frame.payload)
                                            .context("the agent's handshake request")?;
                                    let answer = answer_handshake_request(&request, CLIENT_VERSION);
                                    send(&mut channel, &mut sink, PayloadType::HandshakeResponse, serde_json::to_vec(&answer)?).await?;
                                }
                                _ => {}
                            }
                        }
                    }
                    InboundEvent::Closed(closed) => {
                        return Ok(Ending { exit_code, reason: closed.output });
                    }
                    _ => {}
                }
            }
            event = input.recv(), if input_open && ready => match event {
                Some(Input::Bytes(bytes)) => {
                    for piece in bytes.chunks(input_chunk) {
                        send(&mut channel, &mut sink, PayloadType::Output, piece.to_vec()).await?;
                    }
                }
                Some(Input::Resize { cols, rows }) => {
                    let size = serde_json::to_vec(&TerminalSize { cols, rows })?;
                    send(&mut channel, &mut sink, PayloadType::Size, size).await?;
                }
                Some(Input::Terminate) => {
                    let flag = FlagPayload::TerminateSession.encode().to_vec();
                    send(&mut channel, &mut sink, PayloadType::Flag, flag).await?;
                }
                None => input_open = false,
            },
            () = tokio::time::sleep(wait) => {
                let due = channel.outgoing.due_retransmissions(now_ms(), 64)
                    .map_err(|e| anyhow::anyhow!("the session stopped acknowledging input: {e}"))?;
                for frame in due {
                    sink.send(Message::Binary(frame.encode()?.into())).await?;
                }
            }
        }
    }
}

async fn send<S>(
    channel: &mut DataChannel,
    sink: &mut S,
    payload_type: PayloadType,
    payload: Vec<u8>,
) -> anyhow::Result<()>
where
    S: futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    let frame = channel
        .outgoing
        .send(payload_type.as_u32(), payload, Uuid::new_v4(), now_ms())
        .map_err(|e| anyhow::anyhow!("too much unacknowledged input: {e}"))?;
    if let Some(frame) = frame {
        sink.send(Message::Binary(frame.encode()?.into())).await?;
    }
    Ok(())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
