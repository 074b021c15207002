//! A client end for in-process session tests: `bosun_core::session`'s `DataChannel` in the client
//! role over a [`Link`], answering the handshake like Bosun's own client.

use std::time::Duration;

use bosun_core::session::channel::{ChannelRole, DataChannel, InboundEvent};
use bosun_core::session::frame::ClientMessage;
use bosun_core::session::handshake::answer_handshake_request;
use bosun_core::session::message_type::{MessageType, PayloadType};
use bosun_core::session::payloads::{AgentSessionState, HandshakeRequest};
use bosun_core::session::reliability::{IncomingConfig, OutgoingConfig};
use tokio::time::Instant;
use uuid::Uuid;

use super::pump::{now_ms, Link};

pub struct Client {
    pub chan: DataChannel,
    pub link: Link,
    pub output: Vec<u8>,
    pub exit_code: Option<String>,
    pub states: Vec<String>,
    pub handshake: Option<HandshakeRequest>,
    pub handshake_complete: bool,
    /// Output frames to ignore (neither acked nor delivered) before taking any: loss.
    pub drop_next: usize,
    pub closed: bool,
    /// The `ClientVersion` of the handshake answer.
    pub version: String,
}

impl Client {
    pub fn new(link: Link) -> Self {
        Self {
            chan: DataChannel::new(
                ChannelRole::Client,
                OutgoingConfig::default(),
                IncomingConfig::default(),
                true,
            ),
            link,
            output: Vec::new(),
            exit_code: None,
            states: Vec::new(),
            handshake: None,
            handshake_complete: false,
            drop_next: 0,
            closed: false,
            version: "1.2.707.0".into(),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }

    pub fn raw(&mut self, frame: &ClientMessage) {
        let _ = self.link.tx.try_send(frame.encode().unwrap());
    }

    /// Send client input (a sequenced frame, retransmitted until acked).
    pub fn send(&mut self, payload_type: PayloadType, bytes: &[u8]) {
        if let Some(frame) = self
            .chan
            .outgoing
            .send(
                payload_type.as_u32(),
                bytes.to_vec(),
                Uuid::new_v4(),
                now_ms(),
            )
            .unwrap()
        {
            self.raw(&frame);
        }
    }

    /// Serve the channel until `done` holds (`true`) or `limit` passes (`false`).
    pub async fn until(&mut self, limit: Duration, done: impl Fn(&Client) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if done(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            for frame in self
                .chan
                .outgoing
                .due_retransmissions(now_ms(), 64)
                .unwrap()
            {
                self.raw(&frame);
            }
            let got = tokio::time::timeout(Duration::from_millis(50), self.link.rx.recv()).await;
            match got {
                Ok(Some(bytes)) => self.on_bytes(&bytes),
                Ok(None) => self.closed = true,
                Err(_) => {}
            }
            if self.closed {
                return done(self);
            }
        }
    }

    fn on_bytes(&mut self, bytes: &[u8]) {
        let frame = ClientMessage::decode(bytes).unwrap();
        if MessageType::parse(&frame.message_type) == MessageType::AgentSessionState {
            let s: AgentSessionState = serde_json::from_slice(&frame.payload).unwrap();
            self.states.push(s.session_state);
            return;
        }
        if MessageType::parse(&frame.message_type) == MessageType::OutputStreamData
            && self.drop_next > 0
        {
            self.drop_next -= 1;
            return;
        }
        if let InboundEvent::Data {
            received,
            acknowledge,
        } = self.chan.on_frame(frame, now_ms(), Uuid::new_v4())
        {
            if let Some(ack) = acknowledge {
                self.raw(&ack);
            }
            for f in received.deliver {
                self.take(f);
            }
        }
    }

    fn take(&mut self, f: ClientMessage) {
        match PayloadType::from_u32(f.payload_type) {
            Some(PayloadType::Output) => self.output.extend_from_slice(&f.payload),
            Some(PayloadType::ExitCode) => {
                self.exit_code = Some(String::from_utf8(f.payload).unwrap())
            }
            Some(PayloadType::HandshakeRequest) => {
                let request: HandshakeRequest = serde_json::from_slice(&f.payload).unwrap();
                let answer = answer_handshake_request(&request, &self.version);
                self.handshake = Some(request);
                let body = serde_json::to_vec(&answer).unwrap();
                self.send(PayloadType::HandshakeResponse, &body);
            }
            Some(PayloadType::HandshakeComplete) => self.handshake_complete = true,
            _ => {}
        }
    }
}
