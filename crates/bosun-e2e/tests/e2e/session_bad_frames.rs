//! Bad data channel frames from a client, against a real server and a real agent's shell: frames
//! that do not decode (too short, a length field that disagrees with the bytes), a text frame
//! after the opening one, an unknown message type and a sequence number far outside the
//! receive window are dropped or refused — the malformed ones logged by the server — and the
//! session goes on: the next valid input runs in the shell and its output comes back.

use std::time::Duration;

use aws_sdk_ssm::types::SessionState;
use bosun_core::session::frame::ClientMessage;
use bosun_core::session::message_type::{stream_data_flags, PayloadType};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

const LIMIT: Duration = Duration::from_secs(30);

fn frame(kind: &str, seq: i64, payload: &[u8]) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    ClientMessage::new(
        kind,
        now,
        seq,
        stream_data_flags(seq),
        uuid::Uuid::new_v4(),
        PayloadType::Output.as_u32(),
        payload.to_vec(),
    )
    .encode()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_are_dropped_and_the_shell_goes_on() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let started = fleet
        .client
        .start_session()
        .target(&id)
        .send()
        .await
        .expect("StartSession");
    let (session_id, token, url) = (
        started.session_id.unwrap(),
        started.token_value.unwrap(),
        started.stream_url.unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let open =
        serde_json::json!({"MessageSchemaVersion": 1, "RequestId": "r", "TokenValue": token});
    ws.send(Message::Text(open.to_string().into()))
        .await
        .unwrap();

    let send = |bytes: Vec<u8>| Message::Binary(bytes.into());
    // Does not decode: too short, and a frame with bytes its length field does not count.
    ws.send(send(vec![0u8; 10])).await.unwrap();
    let mut padded = frame("input_stream_data", 0, b"echo padded-$((1+1))\r");
    padded.extend_from_slice(b"extra");
    ws.send(send(padded)).await.unwrap();
    // Decodes, but is nothing the agent takes: a text frame, an unknown type, and input far
    // beyond the receive window (never run: the sequence numbers before it never come).
    ws.send(Message::Text("not a frame".into())).await.unwrap();
    ws.send(send(frame(
        "bogus_message_type",
        0,
        b"echo bogus-$((2+2))\r",
    )))
    .await
    .unwrap();
    ws.send(send(frame(
        "input_stream_data",
        1_000_000,
        b"echo far-$((3+3))\r",
    )))
    .await
    .unwrap();
    // The session goes on: the next valid input runs.
    ws.send(send(frame(
        "input_stream_data",
        0,
        b"echo valid-$((3+4))\r",
    )))
    .await
    .unwrap();

    let mut screen = String::new();
    let deadline = tokio::time::Instant::now() + LIMIT;
    while !screen.contains("valid-7") {
        let message = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no valid-7 on the screen: {screen:?}"))
            .expect("the channel stays open")
            .expect("a frame");
        if let Message::Binary(bytes) = message {
            let f = ClientMessage::decode(&bytes).expect("the agent's frames decode");
            if f.message_type == "output_stream_data"
                && f.payload_type == PayloadType::Output.as_u32()
            {
                screen.push_str(&String::from_utf8_lossy(&f.payload));
            }
        }
    }
    for never in ["padded-2", "bogus-4", "far-6"] {
        assert!(!screen.contains(never), "{never} ran: {screen:?}");
    }
    let log = fleet.server.log();
    assert!(
        log.matches("dropping a malformed data channel frame")
            .count()
            >= 2,
        "the malformed frames are logged"
    );
    let status = wait_for("the session still Connected", LIMIT, || async {
        let out = fleet
            .client
            .describe_sessions()
            .state(SessionState::Active)
            .send()
            .await
            .ok()?;
        out.sessions()
            .iter()
            .find(|s| s.session_id() == Some(session_id.as_str()))
            .and_then(|s| s.status().map(|s| s.as_str().to_string()))
    })
    .await;
    assert_eq!(status, "Connected");
    fleet
        .client
        .terminate_session()
        .session_id(&session_id)
        .send()
        .await
        .unwrap();
}
