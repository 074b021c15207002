//! Session Manager test clients: an `aws-ssm-bridge` `SessionManager` signing as the server's
//! admin, and a [`Screen`] collecting what a session shows.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_ssm_bridge::{
    CloseReason, EndpointPolicy, OutputStream, ReconnectEvent, Session, SessionConfig,
    SessionManager,
};
use tokio::sync::broadcast;

use crate::{wait_for, TestServer};

/// How long a screen waits for text.
const LIMIT: Duration = Duration::from_secs(30);

/// A session on `target` with the default document, any endpoint allowed (the test servers
/// are on loopback).
pub fn config(target: &str) -> SessionConfig {
    let mut config = SessionConfig::new(target);
    config.endpoint_policy = EndpointPolicy::AllowAny;
    config
}

/// Wait (bounded) for a session to end; why it ended.
pub async fn closed(session: &Session) -> CloseReason {
    tokio::time::timeout(LIMIT, session.closed())
        .await
        .expect("the session ends");
    session
        .close_reason()
        .expect("a closed session has a reason")
}

/// Wait (bounded) until a `ReconnectingSession` resumed session `first_id`; a new session
/// instead, or giving up, fails the test.
pub async fn resumed(events: &mut broadcast::Receiver<ReconnectEvent>, first_id: &str) {
    let resumed = tokio::time::timeout(LIMIT, async {
        loop {
            match events.recv().await {
                Ok(ReconnectEvent::Resumed { session_id, .. }) => return session_id,
                Ok(ReconnectEvent::Reconnected { session_id, .. }) => {
                    panic!("a new session {session_id} instead of resuming {first_id}")
                }
                Ok(ReconnectEvent::GaveUp { reason, .. }) => panic!("gave up: {reason}"),
                Ok(_) => {}
                Err(e) => panic!("events: {e}"),
            }
        }
    })
    .await
    .expect("resumed within the limit");
    assert_eq!(resumed, first_id, "the same session carries on");
}

/// The session's record once it is in `DescribeSessions` History (waits, bounded).
pub async fn ended_record(
    client: &aws_sdk_ssm::Client,
    session_id: &str,
) -> aws_sdk_ssm::types::Session {
    wait_for("the session in History", LIMIT, || async {
        let out = client
            .describe_sessions()
            .state(aws_sdk_ssm::types::SessionState::History)
            .send()
            .await
            .ok()?;
        out.sessions()
            .iter()
            .find(|s| s.session_id() == Some(session_id))
            .cloned()
    })
    .await
}

/// A `SessionManager` for this server with the admin's key, as an AWS SDK user builds one.
pub fn manager(server: &TestServer) -> SessionManager {
    manager_via(server, &server.url)
}

/// [`manager`], reaching the server through `url` (a forwarder in front of it).
pub fn manager_via(server: &TestServer, url: &str) -> SessionManager {
    let (akid, secret) = server.admin_credentials();
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            akid, secret, None, None, "e2e",
        )))
        .build();
    SessionManager::from_conf(&config)
}

/// Collects a session's output in the background; `wait_for_text` polls it with a deadline.
pub struct Screen(Arc<Mutex<Vec<u8>>>);

impl Screen {
    pub fn watch(session: &Session) -> Screen {
        Screen::collect(session.output())
    }

    /// Collects an output stream (a `ReconnectingSession`'s too, across its reconnects).
    pub fn collect(mut output: OutputStream) -> Screen {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        tokio::spawn(async move {
            while let Some(bytes) = output.recv().await {
                sink.lock().unwrap().extend_from_slice(&bytes);
            }
        });
        Screen(seen)
    }

    /// What the screen shows so far, without carriage returns.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).replace('\r', "")
    }

    /// The numbers of the `tick-N` lines shown, in order.
    pub fn ticks(&self) -> Vec<u32> {
        self.text()
            .lines()
            .filter_map(|l| l.trim().strip_prefix("tick-"))
            .map(|n| n.parse().unwrap())
            .collect()
    }

    pub async fn wait_for_text(&self, needle: &str) {
        wait_for(
            &format!("{needle:?} on the session's screen"),
            LIMIT,
            || async { self.text().contains(needle).then_some(()) },
        )
        .await
    }
}
