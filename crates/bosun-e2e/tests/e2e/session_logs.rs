//! Session logs end to end: a real shell through `aws-ssm-bridge`, its log stored while the
//! session runs and read back through `DescribeSessions` `OutputUrl` and `bosun session-log`;
//! input typed with echo off is not in it; only callers allowed `ssm:DescribeSessions` read it.

use std::time::Duration;

use aws_sdk_ssm::types::SessionState;
use aws_ssm_bridge::{EndpointPolicy, SessionConfig};
use bosun_core::session_log::parse;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::http::signed_get;
use bosun_e2e::sessions::{manager, Screen};
use bosun_e2e::{wait_for, TestServer};

const LIMIT: Duration = Duration::from_secs(30);

/// The session's log as `bosun session-log` prints it (text, escape sequences removed).
async fn log_text(server: &TestServer, session_id: &str) -> String {
    let (ok, out, err) = server.cli(&["session-log", session_id]).await;
    assert!(ok, "bosun session-log: {err}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_is_logged_as_it_runs_without_what_was_typed_with_echo_off() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let mut config = SessionConfig::new(&id);
    config.endpoint_policy = EndpointPolicy::AllowAny;
    let session = manager(&fleet.server)
        .start_session(config)
        .await
        .expect("StartSession");
    let screen = Screen::watch(&session);
    session.send_terminal_size(100, 30).await.unwrap();
    session.send("echo logged-$((6*7))\r").await.unwrap();
    screen.wait_for_text("logged-42").await;

    // Stored while the session still runs.
    wait_for("the running session's log", LIMIT, || async {
        log_text(&fleet.server, session.id())
            .await
            .contains("logged-42")
            .then_some(())
    })
    .await;

    // The secret is typed only once the shell has turned echo off and said so.
    session
        .send("stty -echo; echo echo-$((1+1))-off; read secret; stty echo; echo got-${#secret}\r")
        .await
        .unwrap();
    screen.wait_for_text("echo-2-off").await;
    session.send("hunter2-in-the-log\r").await.unwrap();
    screen.wait_for_text("got-18").await;
    session.send("exit\r").await.unwrap();
    tokio::time::timeout(LIMIT, session.closed())
        .await
        .expect("the session ends");

    let record = wait_for("the session in History", LIMIT, || async {
        let out = fleet
            .client
            .describe_sessions()
            .state(SessionState::History)
            .send()
            .await
            .ok()?;
        out.sessions()
            .iter()
            .find(|s| s.session_id() == Some(session.id()))
            .cloned()
    })
    .await;
    let url = record
        .output_url()
        .and_then(|u| u.s3_output_url())
        .expect("OutputUrl.S3OutputUrl")
        .to_string();
    assert_eq!(
        url,
        format!("{}/v1/sessions/{}/log", fleet.server.url, session.id())
    );

    let text = log_text(&fleet.server, session.id()).await;
    assert!(text.contains("logged-42"), "{text}");
    assert!(text.contains("got-18"), "{text}");
    assert!(
        !text.contains("hunter2"),
        "no-echo input was logged: {text}"
    );

    let (akid, secret) = fleet.server.admin_credentials();
    let raw = signed_get(&url, &akid, &secret, "us-east-1").await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    let (header, events) = parse(&raw.body).expect("an asciinema v2 cast");
    assert_eq!(header.version, 2);
    // The client's size is the header's, or a resize event when the shell printed first.
    assert!(
        (header.width, header.height) == (100, 30)
            || events.iter().any(|e| e.kind == "r" && e.data == "100x30"),
        "{}",
        raw.body
    );
    assert!(events.iter().all(|e| e.kind == "o" || e.kind == "r"));
    assert!(events.windows(2).all(|w| w[0].seconds <= w[1].seconds));
    assert!(!raw.body.contains("hunter2"));

    // Reading a log is allowed by ssm:DescribeSessions on the session; a deny wins.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"ssm:*","Resource":"*"}},
            {{"Effect":"Deny","Action":"ssm:DescribeSessions","Resource":"arn:aws:ssm:us-east-1:*:session/{}"}}]}}"#,
        session.id()
    );
    let (_, akid, secret) = fleet.server.user_with_policy("auditor", &policy).await;
    let denied = signed_get(&url, &akid, &secret, "us-east-1").await;
    assert_eq!(denied.status, 400, "{}", denied.body);
    assert!(denied.body.contains("AccessDenied"), "{}", denied.body);
    let rest = url.strip_prefix("http://").unwrap();
    let (addr, path) = rest.split_at(rest.find('/').unwrap());
    let unsigned = bosun_e2e::http::get(addr, path).await.unwrap();
    assert_ne!(unsigned.status, 200, "{}", unsigned.body);

    let missing = format!(
        "{}/v1/sessions/admin-0123456789abcdef0/log",
        fleet.server.url
    );
    let (akid, secret) = fleet.server.admin_credentials();
    let gone = signed_get(&missing, &akid, &secret, "us-east-1").await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert!(gone.body.contains("DoesNotExistException"), "{}", gone.body);
}
