//! Port sessions against a local TCP echo listener, in basic and smux mode.

use std::time::Duration;

use bosun_core::session::message_type::{FlagPayload, PayloadType};
use bosun_core::session::smux::{SmuxCommand, SmuxDecoder, SmuxFrame};
use bosun_proto::session::{PortTarget, SessionEndReason, SessionKind, SessionStart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::pump::Link;
use super::run::{run_session, RunSettings};
use super::test_client::Client;

const LIMIT: Duration = Duration::from_secs(20);

/// Echoes every connection back until its EOF, then closes it.
async fn echo_listener() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

fn port_start(port: u16, host: Option<&str>, forwarding_type: Option<&str>) -> SessionStart {
    SessionStart {
        session_id: format!("test-{}", uuid::Uuid::new_v4().simple()),
        document_name: "AWS-StartPortForwardingSession".into(),
        kind: SessionKind::Port,
        command: None,
        port: Some(PortTarget {
            port_number: port,
            host: host.map(str::to_string),
            forwarding_type: forwarding_type.map(str::to_string),
            local_port_number: Some("0".into()),
        }),
        run_as_user: None,
        shell_profile: None,
        agent_token: "t".into(),
        denied_remote_networks: vec!["169.254.169.254/32".into()],
        start_by_ms: 0,
    }
}

async fn launch(
    s: SessionStart,
    version: &str,
) -> (
    Client,
    (mpsc::Sender<SessionEndReason>, mpsc::Sender<Link>),
    tokio::task::JoinHandle<bosun_proto::session::SessionEnd>,
) {
    let (links, links_rx) = mpsc::channel(1);
    let (stop, stop_rx) = mpsc::channel(4);
    let (agent, far) = Link::pair(1024);
    links.send(agent).await.unwrap();
    let task = tokio::spawn(run_session(s, RunSettings::default(), links_rx, stop_rx));
    let mut client = Client::new(far);
    client.version = version.into();
    (client, (stop, links), task)
}

#[tokio::test]
async fn basic_mode_forwards_redials_after_disconnect_and_ends_on_the_terminate_flag() {
    let port = echo_listener().await;
    let (mut c, _stop, task) = launch(port_start(port, None, None), "1.2.707.0").await;
    assert!(c.until(LIMIT, |c| c.handshake_complete).await);
    let props = &c.handshake.as_ref().unwrap().requested_client_actions[0].action_parameters;
    assert_eq!(props["SessionType"], "Port");
    assert_eq!(props["Properties"]["portNumber"], port.to_string());
    c.send(PayloadType::Output, b"ping");
    assert!(
        c.until(LIMIT, |c| c.output == b"ping").await,
        "{:?}",
        c.text()
    );
    c.send(PayloadType::Flag, &FlagPayload::DisconnectToPort.encode());
    c.send(PayloadType::Output, b"again");
    assert!(
        c.until(LIMIT, |c| c.output == b"pingagain").await,
        "{:?}",
        c.text()
    );
    c.send(PayloadType::Flag, &FlagPayload::TerminateSession.encode());
    let end = tokio::time::timeout(LIMIT, task).await.unwrap().unwrap();
    assert_eq!(
        (end.reason, end.exit_code),
        (SessionEndReason::Terminated, None)
    );
    assert!(c.exit_code.is_none());
}

#[tokio::test]
async fn smux_mode_dials_per_stream_and_sends_only_smux() {
    let port = echo_listener().await;
    let s = port_start(port, Some("127.0.0.1"), Some("LocalPortForwarding"));
    let (mut c, stop, task) = launch(s, "1.2.707.0").await;
    assert!(c.until(LIMIT, |c| c.handshake_complete).await);
    for f in [
        SmuxFrame::new(SmuxCommand::Syn, 3, Vec::new()),
        SmuxFrame::new(SmuxCommand::Push, 3, b"hello".to_vec()),
        SmuxFrame::new(SmuxCommand::Syn, 5, Vec::new()),
        SmuxFrame::new(SmuxCommand::Push, 5, b"world".to_vec()),
        SmuxFrame::new(SmuxCommand::Fin, 3, Vec::new()),
    ] {
        c.send(PayloadType::Output, &f.encode().unwrap());
    }
    let frames = |c: &Client| SmuxDecoder::new().push(&c.output).unwrap();
    assert!(
        c.until(LIMIT, |c| {
            let f = frames(c);
            f.iter()
                .any(|f| f.command == SmuxCommand::Fin && f.stream_id == 3)
                && f.iter().any(|f| f.stream_id == 5 && f.data == b"world")
        })
        .await,
        "{:?}",
        c.output
    );
    let f = frames(&c);
    let three: Vec<u8> = f
        .iter()
        .filter(|f| f.stream_id == 3)
        .flat_map(|f| f.data.clone())
        .collect();
    assert_eq!(three, b"hello");
    stop.0.send(SessionEndReason::IdleTimeout).await.unwrap();
    let end = tokio::time::timeout(LIMIT, task).await.unwrap().unwrap();
    assert_eq!(end.reason, SessionEndReason::IdleTimeout);
}

#[tokio::test]
async fn a_denied_remote_address_is_refused() {
    let mut s = port_start(22, Some("127.0.0.1"), Some("LocalPortForwarding"));
    s.denied_remote_networks = vec!["127.0.0.0/8".into()];
    let (_c, _stop, task) = launch(s, "1.2.707.0").await;
    let end = tokio::time::timeout(LIMIT, task).await.unwrap().unwrap();
    assert_eq!(end.reason, SessionEndReason::Failed);
    assert!(end.error.unwrap().contains("denied network 127.0.0.0/8"));
}
