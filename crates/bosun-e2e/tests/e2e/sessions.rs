//! Session Manager end to end with an independent client: `aws-ssm-bridge` 0.6.0 (its own
//! StartSession/TerminateSession calls, SigV4-signed data channel upgrade, payload digests checked)
//! against a real server and a real agent running real shells.

use std::time::Duration;

use tokio::io::AsyncBufReadExt;

use aws_sdk_ssm::types::SessionState;
use aws_ssm_bridge::documents::NonInteractiveCommand;
use aws_ssm_bridge::{CloseReason, DocumentSpec};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::sessions::{closed, config, ended_record, manager, Screen};
use bosun_e2e::wait_for;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_session_echoes_and_its_exit_status_reaches_the_client_and_the_record() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let sessions = manager(&fleet.server);

    let session = sessions
        .start_session(config(&id))
        .await
        .expect("StartSession");
    let screen = Screen::watch(&session);
    session.send_terminal_size(100, 30).await.unwrap();
    session
        .send("echo bosun-$((40+2)) $(stty size)\r")
        .await
        .unwrap();
    screen.wait_for_text("bosun-42 30 100").await;
    session.send("exit 3\r").await.unwrap();
    match closed(&session).await {
        CloseReason::AgentClosed { exit_code, .. } => assert_eq!(exit_code, Some(3)),
        other => panic!("the shell's exit should close the session: {other:?}"),
    }

    let history = ended_record(&fleet.client, session.id()).await;
    assert_eq!(history.target(), Some(id.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_interactive_command_gives_its_output_and_real_exit_code_even_when_killed() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let sessions = manager(&fleet.server);

    for (command, printed, code) in [
        ("echo out-$((6*7)); exit 7", "out-42", 7),
        ("echo dying; kill -9 $$", "dying", 128 + 9),
    ] {
        let mut cfg = config(&id);
        cfg.document = Some(DocumentSpec::new(&NonInteractiveCommand::new(command)));
        let session = sessions.start_session(cfg).await.expect("StartSession");
        let screen = Screen::watch(&session);
        match closed(&session).await {
            CloseReason::AgentClosed { exit_code, .. } => {
                assert_eq!(exit_code, Some(code), "{command}: {}", screen.text())
            }
            other => panic!("{command}: {other:?}"),
        }
        assert!(
            screen.text().contains(printed),
            "{command}: {}",
            screen.text()
        );
    }
}

/// Where `.ci/run` installed `ssm-session` and `ws` (`BOSUN_SSM_SESSION_NODE_MODULES`); `None`
/// skips the test unless `BOSUN_REQUIRE_NODE=1` makes a missing install a failure.
fn ssm_session_node_modules() -> Option<String> {
    match std::env::var("BOSUN_SSM_SESSION_NODE_MODULES") {
        Ok(dir) if std::path::Path::new(&dir).join("ssm-session").is_dir() => Some(dir),
        _ => {
            assert!(
                std::env::var("BOSUN_REQUIRE_NODE").as_deref() != Ok("1"),
                "BOSUN_REQUIRE_NODE=1 but BOSUN_SSM_SESSION_NODE_MODULES has no ssm-session"
            );
            eprintln!("skipped: ssm-session (npm) is not installed");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lenient_npm_client_runs_a_shell_without_a_handshake_or_correct_digests() {
    let Some(modules) = ssm_session_node_modules() else {
        return;
    };
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let started = fleet
        .client
        .start_session()
        .target(&id)
        .send()
        .await
        .expect("StartSession");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/ssm-session-shell.js"
    );
    let child = tokio::process::Command::new("node")
        .arg(script)
        .arg(started.stream_url().unwrap())
        .arg(started.token_value().unwrap())
        .args(["echo npm-$((40+2))", "exit"])
        .env("NODE_PATH", &modules)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(LIMIT, child)
        .await
        .expect("the npm client ends with the session")
        .expect("node runs");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        screen.contains("npm-42"),
        "stdout: {screen}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bosun_session_exits_with_the_remote_commands_status() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let server = &fleet.server;
    for (command, printed, code) in [
        ("echo cli-$((6*7))", "cli-42", 0),
        ("echo four; exit 4", "four", 4),
        ("kill -TERM $$", "", 128 + 15),
    ] {
        let out = tokio::time::timeout(
            LIMIT,
            tokio::process::Command::new(bosun_e2e::bin("bosun"))
                .args(["session", &id, "--command", command])
                .args(["--data-dir", server.data_dir().to_str().unwrap()])
                .args(["--endpoint-url", &server.url])
                .stdin(std::process::Stdio::null())
                .output(),
        )
        .await
        .expect("bosun session ends with the command")
        .expect("bosun runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{command}: stdout {stdout}, stderr {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(printed), "{command}: {stdout}");
    }
}

/// The AWS CLI, unchanged, with `bosun` installed as `session-manager-plugin` on its PATH.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_ssm_start_session_works_with_bosun_as_the_session_manager_plugin() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let server = &fleet.server;
    let bin_dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        bosun_e2e::bin("bosun"),
        bin_dir.path().join("session-manager-plugin"),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut aws = server.as_admin("aws");
    aws.env("PATH", path)
        .args(["ssm", "start-session", "--target", &id])
        .args(["--document-name", "AWS-StartNonInteractiveCommand"])
        .args(["--parameters", r#"{"command":["echo plugin-$((6*7))"]}"#])
        .args(["--endpoint-url", &server.url, "--region", "us-east-1"])
        .stdin(std::process::Stdio::null());
    let out = tokio::time::timeout(LIMIT, tokio::process::Command::from(aws).output())
        .await
        .expect("aws ssm start-session ends with the command")
        .expect("the AWS CLI runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("plugin-42"),
        "status {:?}, stdout {stdout}, stderr {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A TCP echo server on loopback (the node's "service"): returns its port.
pub(crate) async fn echo_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = socket.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    port
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Sends `text` over a new connection to `port` and reads the same number of bytes back.
async fn round_trip(port: u16, text: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("the forwarded port accepts");
    socket.write_all(text.as_bytes()).await.unwrap();
    let mut back = vec![0u8; text.len()];
    tokio::time::timeout(LIMIT, socket.read_exact(&mut back))
        .await
        .expect("the echo comes back through the session")
        .unwrap();
    String::from_utf8(back).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bosun_port_forward_carries_several_connections_through_one_session() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    let server = &fleet.server;
    let remote = echo_server().await;
    let local = free_port();
    let mut forwarder = tokio::process::Command::new(bosun_e2e::bin("bosun"))
        .args(["port-forward", &id, &format!("{local}:localhost:{remote}")])
        .args(["--data-dir", server.data_dir().to_str().unwrap()])
        .args(["--endpoint-url", &server.url])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("bosun port-forward starts");
    // It says so once it listens and its session started (connections made before then wait
    // in the listen backlog). Waiting for its words rather than probing the port: a probe
    // could reach another test's listener that took the free port first.
    let mut said = tokio::io::BufReader::new(forwarder.stderr.take().unwrap()).lines();
    tokio::time::timeout(LIMIT, async {
        while let Some(line) = said.next_line().await.unwrap() {
            if line.starts_with("forwarding ") {
                return;
            }
            eprintln!("bosun port-forward: {line}");
        }
        panic!("bosun port-forward ended before it forwarded");
    })
    .await
    .expect("bosun port-forward starts forwarding");
    let (a, b) = tokio::join!(
        round_trip(local, "first stream"),
        round_trip(local, "second")
    );
    assert_eq!((a.as_str(), b.as_str()), ("first stream", "second"));
    let big = "x".repeat(200_000);
    assert_eq!(round_trip(local, &big).await.len(), big.len());

    // Ctrl-C ends the session on the node as well.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(forwarder.id().unwrap() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    tokio::time::timeout(LIMIT, forwarder.wait())
        .await
        .expect("bosun port-forward exits after Ctrl-C")
        .unwrap();
    wait_for("the port session in History", LIMIT, || async {
        let out = fleet
            .client
            .describe_sessions()
            .state(SessionState::History)
            .send()
            .await
            .ok()?;
        out.sessions()
            .iter()
            .any(|s| s.document_name() == Some("AWS-StartPortForwardingSession"))
            .then_some(())
    })
    .await;
}

/// Writes the region's Session Manager preferences (`SSM-SessionManagerRunShell`) with these
/// inputs, as the console or `aws ssm create-document`/`update-document` would.
pub(crate) async fn set_preferences(client: &aws_sdk_ssm::Client, inputs: serde_json::Value) {
    let content = serde_json::json!({
        "schemaVersion": "1.0",
        "description": "Session Manager preferences",
        "sessionType": "Standard_Stream",
        "inputs": inputs,
    })
    .to_string();
    let created = client
        .create_document()
        .name("SSM-SessionManagerRunShell")
        .document_type(aws_sdk_ssm::types::DocumentType::Session)
        .document_format(aws_sdk_ssm::types::DocumentFormat::Json)
        .content(&content)
        .send()
        .await;
    if created.is_err() {
        let updated = client
            .update_document()
            .name("SSM-SessionManagerRunShell")
            .document_version("$LATEST")
            .content(&content)
            .send()
            .await
            .expect("UpdateDocument SSM-SessionManagerRunShell");
        // A new version is not the default until made so (as with AWS).
        let version = updated
            .document_description()
            .and_then(|d| d.document_version())
            .expect("the new version")
            .to_string();
        client
            .update_document_default_version()
            .name("SSM-SessionManagerRunShell")
            .document_version(version)
            .send()
            .await
            .expect("UpdateDocumentDefaultVersion SSM-SessionManagerRunShell");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_shell_ends_at_the_idle_timeout_and_says_so() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    set_preferences(
        &fleet.client,
        serde_json::json!({"idleSessionTimeoutSeconds": "3"}),
    )
    .await;
    let session = manager(&fleet.server)
        .start_session(config(&id))
        .await
        .expect("StartSession");
    let screen = Screen::watch(&session);
    session.send("echo idle-$((6*7))\r").await.unwrap();
    screen.wait_for_text("idle-42").await;
    let quiet_since = std::time::Instant::now();
    let reason = closed(&session).await;
    let quiet = quiet_since.elapsed();
    assert!(
        quiet >= Duration::from_millis(2500),
        "ended after {quiet:?} of silence, before the 3 s idle timeout: {reason:?}"
    );
    match &reason {
        CloseReason::AgentClosed { detail, .. } => assert!(
            detail
                .as_deref()
                .unwrap_or_default()
                .to_lowercase()
                .contains("idle"),
            "{reason:?}"
        ),
        other => panic!("the server should close an idle session: {other:?}"),
    }
    let record = ended_record(&fleet.client, session.id()).await;
    assert!(
        record
            .details()
            .unwrap_or_default()
            .to_lowercase()
            .contains("idle"),
        "{record:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_session_ends_at_the_maximum_duration_and_says_so() {
    let fleet = Fleet::start(1, 1).await;
    let id = fleet.ids()[0].clone();
    set_preferences(
        &fleet.client,
        serde_json::json!({"idleSessionTimeoutSeconds": "60", "maxSessionDurationSeconds": "4"}),
    )
    .await;
    let started = std::time::Instant::now();
    let session = manager(&fleet.server)
        .start_session(config(&id))
        .await
        .expect("StartSession");
    let screen = Screen::watch(&session);
    // Output all along: only the maximum duration can end it.
    session
        .send("while true; do echo tick; sleep 0.5; done\r")
        .await
        .unwrap();
    screen.wait_for_text("tick").await;
    let reason = closed(&session).await;
    assert!(
        started.elapsed() >= Duration::from_millis(3500),
        "ended after {:?}, before the 4 s maximum: {reason:?}",
        started.elapsed()
    );
    let record = ended_record(&fleet.client, session.id()).await;
    assert!(
        record
            .details()
            .unwrap_or_default()
            .to_lowercase()
            .contains("duration"),
        "{record:?} {reason:?}"
    );
}
