//! Session Manager's API against a real server and real agents, with the test playing the
//! client on the data channel websocket: tokens are single-use and bound to their session,
//! ResumeSession issues a new one, TerminateSession and the time limits close the channel with
//! `channel_closed` and move the session to the history, IAM is checked on the node and the
//! document. (The agent joining sessions is built separately; here sessions stay Connecting
//! on the agent's side.)

use std::time::Duration;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{SessionFilter, SessionFilterKey, SessionState};
use aws_sdk_ssm::Client;
use bosun_core::session::frame::ClientMessage;
use bosun_core::session::payloads::ChannelClosed;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::poll::wait_for;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

const LIMIT: Duration = Duration::from_secs(20);
const NODE_ARN: &str = "arn:aws:ssm:us-east-1:000000000000:managed-instance/";
const DOC_ARN: &str = "arn:aws:ssm:us-east-1:000000000000:document/";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Debug)]
struct Started {
    id: String,
    token: String,
    url: String,
}

async fn start(client: &Client, target: &str) -> Result<Started, (String, String)> {
    match client
        .start_session()
        .target(target)
        .reason("e2e")
        .send()
        .await
    {
        Ok(out) => Ok(Started {
            id: out.session_id.unwrap(),
            token: out.token_value.unwrap(),
            url: out.stream_url.unwrap(),
        }),
        Err(e) => Err((
            e.code().unwrap_or_default().to_string(),
            e.message().unwrap_or_default().to_string(),
        )),
    }
}

/// Open the data channel at `url` and present `token` as a client.
async fn open(url: &str, token: &str) -> Socket {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket");
    // As the npm client sends it: no ClientId/ClientVersion, the schema version as a number.
    let open =
        serde_json::json!({"MessageSchemaVersion": 1, "RequestId": "r", "TokenValue": token});
    ws.send(Message::Text(open.to_string().into()))
        .await
        .unwrap();
    ws
}

/// The close reason the server sends a refused socket.
async fn refused(url: &str, token: &str) -> String {
    let mut ws = open(url, token).await;
    match tokio::time::timeout(LIMIT, ws.next())
        .await
        .expect("an answer")
    {
        Some(Ok(Message::Close(Some(f)))) => f.reason.to_string(),
        Some(Ok(Message::Close(None))) | None | Some(Err(_)) => String::new(),
        Some(Ok(other)) => panic!("a refused socket got {other:?}"),
    }
}

/// The next `channel_closed` on a bound client socket (its digest checked).
async fn channel_closed(ws: &mut Socket) -> ChannelClosed {
    loop {
        match tokio::time::timeout(LIMIT, ws.next())
            .await
            .expect("channel_closed in time")
        {
            Some(Ok(Message::Binary(b))) => {
                let frame = ClientMessage::decode(&b).unwrap();
                assert!(frame.has_valid_digest());
                if frame.message_type == "channel_closed" {
                    return serde_json::from_slice(&frame.payload).unwrap();
                }
            }
            Some(Ok(Message::Ping(_))) | Some(Ok(Message::Pong(_))) => {}
            other => panic!("expected channel_closed, got {other:?}"),
        }
    }
}

async fn describe(
    client: &Client,
    state: SessionState,
    filters: &[(SessionFilterKey, &str)],
) -> Vec<aws_sdk_ssm::types::Session> {
    let mut req = client.describe_sessions().state(state);
    for (k, v) in filters {
        req = req.filters(
            SessionFilter::builder()
                .key(k.clone())
                .value(*v)
                .build()
                .unwrap(),
        );
    }
    req.send().await.unwrap().sessions.unwrap_or_default()
}

async fn status_of(client: &Client, state: SessionState, id: &str) -> Option<String> {
    describe(client, state, &[(SessionFilterKey::SessionId, id)])
        .await
        .first()
        .and_then(|s| s.status.as_ref().map(|s| s.as_str().to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_start_resume_terminate_and_guard_their_tokens() {
    let fleet = Fleet::start(2, 1).await;
    let ids = fleet.ids();
    let (online, offline) = (ids[0].as_str(), ids[1].as_str());
    let c = &fleet.client;

    let s = start(c, online).await.unwrap();
    let (user, hex) = s.id.rsplit_once('-').unwrap();
    assert!(!user.is_empty() && hex.len() == 17, "{}", s.id);
    assert!(hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    let host = fleet.server.url.trim_start_matches("http://");
    assert_eq!(
        s.url,
        format!(
            "ws://{host}/v1/data-channel/{}?role=publish_subscribe",
            s.id
        )
    );
    assert!(s.token.len() >= 43);

    let (code, msg) = start(c, offline).await.unwrap_err();
    assert_eq!(code, "TargetNotConnected", "{msg}");
    let e = c
        .start_session()
        .target(online)
        .document_name("AWS-RunShellScript")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidDocument"), "{e:?}");
    let e = c
        .start_session()
        .target(online)
        .document_name("AWS-StartPortForwardingSession")
        .parameters("portNumber", vec!["99999".into()])
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameters"), "{e:?}");
    let status = c
        .get_connection_status()
        .target(online)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status.unwrap().as_str(), "connected");
    let status = c
        .get_connection_status()
        .target(offline)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status.unwrap().as_str(), "notconnected");

    // Active, with the filters; not in the history.
    let active = describe(c, SessionState::Active, &[]).await;
    let mine = active
        .iter()
        .find(|x| x.session_id() == Some(&s.id))
        .expect("active");
    assert_eq!(mine.target(), Some(online));
    assert_eq!(mine.status().map(|s| s.as_str()), Some("Connecting"));
    assert_eq!(mine.document_name(), Some("SSM-SessionManagerRunShell"));
    assert_eq!(mine.reason(), Some("e2e"));
    let owner = mine.owner().unwrap().to_string();
    assert!(describe(c, SessionState::History, &[]).await.is_empty());
    assert_eq!(
        describe(
            c,
            SessionState::Active,
            &[(SessionFilterKey::TargetId, online)]
        )
        .await
        .len(),
        1
    );
    assert!(describe(
        c,
        SessionState::Active,
        &[(SessionFilterKey::TargetId, offline)]
    )
    .await
    .is_empty());
    assert_eq!(
        describe(
            c,
            SessionState::Active,
            &[(SessionFilterKey::Owner, &owner)]
        )
        .await
        .len(),
        1
    );
    assert_eq!(
        describe(
            c,
            SessionState::Active,
            &[(SessionFilterKey::Status, "Connecting")]
        )
        .await
        .len(),
        1
    );
    assert!(describe(
        c,
        SessionState::Active,
        &[(SessionFilterKey::InvokedAfter, "2100-01-01T00:00:00Z")]
    )
    .await
    .is_empty());
    assert_eq!(
        describe(
            c,
            SessionState::Active,
            &[(SessionFilterKey::InvokedBefore, "2100-01-01T00:00:00Z")]
        )
        .await
        .len(),
        1
    );
    let e = c
        .describe_sessions()
        .state(SessionState::Active)
        .filters(
            SessionFilter::builder()
                .key(SessionFilterKey::from("Bogus"))
                .value("x")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.code(),
            Some("InvalidFilterKey") | Some("ValidationException")
        ),
        "{e:?}"
    );

    // A second session, then paging newest first.
    let other = start(c, online).await.unwrap();
    let page = c
        .describe_sessions()
        .state(SessionState::Active)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.sessions().len(), 1);
    let next = c
        .describe_sessions()
        .state(SessionState::Active)
        .max_results(1)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    let mut both: Vec<String> = page
        .sessions()
        .iter()
        .chain(next.sessions())
        .map(|x| x.session_id().unwrap().to_string())
        .collect();
    both.sort();
    let mut expected = vec![s.id.clone(), other.id.clone()];
    expected.sort();
    assert_eq!(both, expected);

    // Tokens: another session's is refused and leaves it usable; the right one binds once.
    assert!(refused(&s.url, &other.token).await.contains("not valid"));
    let mut client_ws = open(&s.url, &s.token).await;
    let connected = || async {
        (status_of(c, SessionState::Active, &s.id).await.as_deref() == Some("Connected"))
            .then_some(())
    };
    wait_for("the client bound", LIMIT, connected).await;
    assert!(
        refused(&s.url, &s.token).await.contains("not valid"),
        "a used token"
    );
    let mut other_ws = open(&other.url, &other.token).await;

    // Resume: a new token, which binds; the old one stays refused.
    let resumed = c.resume_session().session_id(&s.id).send().await.unwrap();
    let new_token = resumed.token_value.unwrap();
    assert_ne!(new_token, s.token);
    assert_eq!(resumed.stream_url.as_deref(), Some(s.url.as_str()));
    assert!(refused(&s.url, &s.token).await.contains("not valid"));
    let mut resumed_ws = open(&s.url, &new_token).await;
    // The replaced socket is closed.
    loop {
        match tokio::time::timeout(LIMIT, client_ws.next())
            .await
            .expect("closed")
        {
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
            _ => {}
        }
    }

    // Terminate: channel_closed to the client, History with Terminated, tokens dead.
    c.terminate_session()
        .session_id(&s.id)
        .send()
        .await
        .unwrap();
    let closed = channel_closed(&mut resumed_ws).await;
    assert_eq!(closed.session_id, s.id);
    assert!(closed.output.contains("terminated"), "{}", closed.output);
    assert_eq!(
        status_of(c, SessionState::History, &s.id).await.as_deref(),
        Some("Terminated")
    );
    assert!(status_of(c, SessionState::Active, &s.id).await.is_none());
    let ended = describe(
        c,
        SessionState::History,
        &[(SessionFilterKey::SessionId, &s.id)],
    )
    .await;
    assert!(ended[0].end_date().is_some());
    assert!(ended[0].details().unwrap().contains("terminated"));
    assert!(refused(&s.url, &new_token).await.contains("ended"));
    let e = c
        .resume_session()
        .session_id(&s.id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("DoesNotExistException"), "{e:?}");
    c.terminate_session()
        .session_id(&s.id)
        .send()
        .await
        .expect("terminating twice is fine");
    let e = c
        .terminate_session()
        .session_id("nobody-0123456789abcdef0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("DoesNotExistException"), "{e:?}");

    // The other session was unharmed by all of this.
    assert_eq!(
        status_of(c, SessionState::Active, &other.id)
            .await
            .as_deref(),
        Some("Connected")
    );
    // Its client goes away: Disconnected (still active) until a resume binds a new socket.
    other_ws.close(None).await.unwrap();
    drop(other_ws);
    let is = |want: &'static str| {
        let id = other.id.clone();
        move || {
            let id = id.clone();
            async move {
                (status_of(c, SessionState::Active, &id).await.as_deref() == Some(want))
                    .then_some(())
            }
        }
    };
    wait_for("the session Disconnected", LIMIT, is("Disconnected")).await;
    let token = c
        .resume_session()
        .session_id(&other.id)
        .send()
        .await
        .unwrap()
        .token_value
        .unwrap();
    let mut other_ws = open(&other.url, &token).await;
    wait_for("the session Connected again", LIMIT, is("Connected")).await;
    c.terminate_session()
        .session_id(&other.id)
        .send()
        .await
        .unwrap();
    channel_closed(&mut other_ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_session_is_authorized_on_the_node_and_the_document() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let shell = "SSM-SessionManagerRunShell";
    let policy = |deny: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"ssm:*","Resource":"*"}},
            {{"Effect":"Deny","Action":"ssm:StartSession","Resource":"{deny}"}}]}}"#
        )
    };
    let (no_doc, _, _) = fleet
        .server
        .user_with_policy("no-doc", &policy(&format!("{DOC_ARN}{shell}")))
        .await;
    let (no_node, _, _) = fleet
        .server
        .user_with_policy("no-node", &policy(&format!("{NODE_ARN}{node}")))
        .await;
    let (ok, _, _) = fleet
        .server
        .user_with_policy("ok", &policy(&format!("{DOC_ARN}AWS-StartSSHSession")))
        .await;
    for (who, arn) in [
        (&no_doc, format!("{DOC_ARN}{shell}")),
        (&no_node, format!("{NODE_ARN}{node}")),
    ] {
        let (code, msg) = start(who, &node).await.unwrap_err();
        assert_eq!(code, "AccessDeniedException", "{msg}");
        assert!(msg.contains(&arn), "{msg}");
    }
    let s = start(&ok, &node).await.expect("allowed on both");
    assert!(s.id.starts_with("ok-"), "{}", s.id);
    let e = ok
        .start_session()
        .target(&node)
        .document_name("AWS-StartSSHSession")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDeniedException"));
    // Resume and Terminate are checked on the session's ARN.
    let arn = format!("arn:aws:ssm:us-east-1:000000000000:session/{}", s.id);
    let (locked, _, _) = fleet.server.user_with_policy(
        "locked",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"ssm:*","Resource":"*"}},
            {{"Effect":"Deny","Action":["ssm:TerminateSession","ssm:ResumeSession"],"Resource":"{arn}"}}]}}"#
        ),
    )
    .await;
    let e = locked
        .terminate_session()
        .session_id(&s.id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDeniedException"));
    let e = locked
        .resume_session()
        .session_id(&s.id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDeniedException"));
    ok.terminate_session()
        .session_id(&s.id)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_limits_end_sessions_and_say_which() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let c = &fleet.client;
    let prefs = |inputs: serde_json::Value| {
        serde_json::json!({"schemaVersion": "1.0", "description": "prefs", "sessionType": "Standard_Stream", "inputs": inputs}).to_string()
    };
    // KMS encryption is refused, not ignored.
    c.create_document()
        .name("SSM-SessionManagerRunShell")
        .document_type(aws_sdk_ssm::types::DocumentType::Session)
        .content(prefs(serde_json::json!({"kmsKeyId": "alias/x"})))
        .send()
        .await
        .unwrap();
    let (code, msg) = start(c, &node).await.unwrap_err();
    assert_eq!(code, "InvalidDocument");
    assert!(msg.contains("kmsKeyId"), "{msg}");

    // Idle: 2 s without user data.
    let update = |inputs| {
        let c = c.clone();
        let content = prefs(inputs);
        async move {
            let out = c
                .update_document()
                .name("SSM-SessionManagerRunShell")
                .content(content)
                .document_version("$LATEST")
                .send()
                .await
                .unwrap();
            let v = out.document_description.unwrap().document_version.unwrap();
            c.update_document_default_version()
                .name("SSM-SessionManagerRunShell")
                .document_version(v)
                .send()
                .await
                .unwrap();
        }
    };
    update(serde_json::json!({"idleSessionTimeout": "20", "idleSessionTimeoutSeconds": "2"})).await;
    let s = start(c, &node).await.unwrap();
    let mut ws = open(&s.url, &s.token).await;
    let began = std::time::Instant::now();
    let closed = channel_closed(&mut ws).await;
    assert!(closed.output.contains("idle"), "{}", closed.output);
    assert!(
        began.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        began.elapsed()
    );
    let ended = describe(
        c,
        SessionState::History,
        &[(SessionFilterKey::SessionId, &s.id)],
    )
    .await;
    assert!(
        ended[0].details().unwrap().contains("inactivity"),
        "{:?}",
        ended[0].details()
    );

    // Maximum duration: 3 s, even with an idle limit far away.
    update(
        serde_json::json!({"idleSessionTimeoutSeconds": "600", "maxSessionDurationSeconds": "3"}),
    )
    .await;
    let s = start(c, &node).await.unwrap();
    let listed = describe(
        c,
        SessionState::Active,
        &[(SessionFilterKey::SessionId, &s.id)],
    )
    .await;
    assert_eq!(
        listed[0].max_session_duration(),
        Some("1"),
        "whole minutes, rounded up"
    );
    let mut ws = open(&s.url, &s.token).await;
    let closed = channel_closed(&mut ws).await;
    assert!(
        closed.output.contains("maximum session duration"),
        "{}",
        closed.output
    );
    let ended = describe(
        c,
        SessionState::History,
        &[(SessionFilterKey::SessionId, &s.id)],
    )
    .await;
    let (start_s, end_s) = (ended[0].start_date().unwrap(), ended[0].end_date().unwrap());
    let lasted = end_s.as_secs_f64() - start_s.as_secs_f64();
    assert!((3.0..4.5).contains(&lasted), "{lasted}");
}
