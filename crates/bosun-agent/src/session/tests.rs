//! In-process tests of sessions over a [`super::pump::Link`] pair, against a client end built
//! from `bosun_core::session`'s `DataChannel` (client role), with real shells and processes.

use std::time::Duration;

use bosun_core::session::message_type::{FlagPayload, PayloadType};
use bosun_proto::session::{SessionEnd, SessionEndReason, SessionKind, SessionStart};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::pump::Link;
use super::run::{run_session, RunSettings};
use super::test_client::Client;

const LIMIT: Duration = Duration::from_secs(20);

fn start(kind: SessionKind, command: Option<&str>) -> SessionStart {
    SessionStart {
        session_id: format!("test-{}", uuid::Uuid::new_v4().simple()),
        document_name: "doc".into(),
        kind,
        command: command.map(str::to_string),
        port: None,
        run_as_user: None,
        shell_profile: None,
        agent_token: "t".into(),
        denied_remote_networks: Vec::new(),
        start_by_ms: 0,
    }
}

struct Running {
    client: Client,
    links: mpsc::Sender<Link>,
    stop: mpsc::Sender<SessionEndReason>,
    task: JoinHandle<SessionEnd>,
}

fn settings() -> RunSettings {
    RunSettings {
        stop_grace: Duration::from_millis(1500),
        ..RunSettings::default()
    }
}

async fn launch(s: SessionStart, settings: RunSettings) -> Running {
    let (links, links_rx) = mpsc::channel(1);
    let (stop, stop_rx) = mpsc::channel(4);
    let (agent, far) = Link::pair(1024);
    links.send(agent).await.unwrap();
    let task = tokio::spawn(run_session(s, settings, links_rx, stop_rx));
    Running {
        client: Client::new(far),
        links,
        stop,
        task,
    }
}

impl Running {
    async fn end(self) -> (Client, SessionEnd) {
        let mut client = self.client;
        assert!(
            client
                .until(LIMIT, |c| c.exit_code.is_some()
                    && c.states.iter().any(|s| s == "Terminating"))
                .await,
            "no ExitCode/Terminating; output {:?}, states {:?}",
            client.text(),
            client.states
        );
        let end = tokio::time::timeout(LIMIT, self.task)
            .await
            .unwrap()
            .unwrap();
        (client, end)
    }
}

#[tokio::test]
async fn shell_echo_then_exit_3_reaches_the_client_and_the_end() {
    let mut r = launch(start(SessionKind::StandardStream, None), settings()).await;
    // The shell speaks first (a prompt): the client only starts once output arrives.
    assert!(
        r.client.until(LIMIT, |c| !c.output.is_empty()).await,
        "no prompt"
    );
    assert_eq!(
        r.client.states.first().map(String::as_str),
        Some("Connected")
    );
    assert!(r.client.handshake.is_none());
    r.client
        .send(PayloadType::Size, br#"{"cols":100,"rows":30}"#);
    r.client
        .send(PayloadType::Output, b"echo h\"\"i; stty size\n");
    assert!(
        r.client
            .until(LIMIT, |c| c.text().contains("hi\r\n30 100"))
            .await,
        "{:?}",
        r.client.text()
    );
    r.client.send(PayloadType::Output, b"exit 3\n");
    let (client, end) = r.end().await;
    assert_eq!(client.exit_code.as_deref(), Some("3"));
    assert_eq!(
        (end.reason, end.exit_code, end.signal),
        (SessionEndReason::Exited, Some(3), None)
    );
}

#[tokio::test]
async fn a_killed_shell_reports_its_signal_and_never_0() {
    let r = launch(
        start(SessionKind::InteractiveCommands, Some("kill -9 $$")),
        settings(),
    )
    .await;
    let (client, end) = r.end().await;
    assert_eq!(client.exit_code.as_deref(), Some("137"));
    assert_eq!(end.exit_code, None);
    assert_eq!(end.signal.as_deref(), Some("SIGKILL"));
}

#[tokio::test]
async fn non_interactive_commands_handshake_then_merge_output_and_take_input() {
    let cmd = "read x; echo \"got:$x\"; echo err >&2; exit 4";
    let mut r = launch(
        start(SessionKind::NonInteractiveCommands, Some(cmd)),
        settings(),
    )
    .await;
    assert!(r.client.until(LIMIT, |c| c.handshake_complete).await);
    let request = r.client.handshake.clone().unwrap();
    assert_eq!(request.agent_version, super::run::HANDSHAKE_AGENT_VERSION);
    r.client.send(PayloadType::Output, b"abc\n");
    let (client, end) = r.end().await;
    assert_eq!(client.text(), "got:abc\nerr\n");
    assert_eq!(client.exit_code.as_deref(), Some("4"));
    assert_eq!(end.exit_code, Some(4));
}

#[tokio::test]
async fn terminate_ends_the_group_within_the_grace_even_when_it_ignores_sighup() {
    let s = start(
        SessionKind::InteractiveCommands,
        Some("trap '' HUP; echo ready; sleep 1000; true"),
    );
    let id = s.session_id.clone();
    let mut r = launch(s, settings()).await;
    assert!(r.client.until(LIMIT, |c| c.text().contains("ready")).await);
    let began = std::time::Instant::now();
    r.stop.send(SessionEndReason::Terminated).await.unwrap();
    let (client, end) = r.end().await;
    assert!(
        began.elapsed() < Duration::from_secs(8),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(end.reason, SessionEndReason::Terminated);
    assert_eq!(end.signal.as_deref(), Some("SIGKILL"));
    assert_eq!(client.exit_code.as_deref(), Some("137"));
    assert!(
        super::reap::escaped(&id, 0).is_empty(),
        "the sleep survived"
    );
}

#[tokio::test]
async fn the_terminate_flag_and_channel_closed_end_the_session() {
    let mut r = launch(
        start(
            SessionKind::InteractiveCommands,
            Some("echo ready; sleep 1000"),
        ),
        settings(),
    )
    .await;
    assert!(r.client.until(LIMIT, |c| c.text().contains("ready")).await);
    r.client
        .send(PayloadType::Flag, &FlagPayload::TerminateSession.encode());
    let (_, end) = r.end().await;
    assert_eq!(
        (end.reason, end.signal.as_deref()),
        (SessionEndReason::Terminated, Some("SIGHUP"))
    );

    let mut r = launch(
        start(
            SessionKind::InteractiveCommands,
            Some("echo ready; sleep 1000"),
        ),
        settings(),
    )
    .await;
    assert!(r.client.until(LIMIT, |c| c.text().contains("ready")).await);
    let closed = bosun_core::session::frame::ClientMessage::new(
        "channel_closed",
        super::pump::now_ms(),
        0,
        0,
        uuid::Uuid::new_v4(),
        0,
        br#"{"Output":"idle"}"#.to_vec(),
    );
    r.client.raw(&closed);
    let end = tokio::time::timeout(LIMIT, r.task).await.unwrap().unwrap();
    assert_eq!(end.reason, SessionEndReason::Terminated);
    assert_ne!(end.exit_code, Some(0));
}

#[tokio::test]
async fn escaped_processes_are_listed_not_killed() {
    let cmd = "setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo started";
    let r = launch(
        start(SessionKind::NonInteractiveCommands, Some(cmd)),
        settings(),
    )
    .await;
    let (_, end) = r.end().await;
    assert_eq!(end.exit_code, Some(0));
    let sleeper = end
        .escaped
        .iter()
        .find(|p| p.command == "sleep 1000")
        .unwrap_or_else(|| panic!("{:?}", end.escaped));
    let pid = nix::unistd::Pid::from_raw(sleeper.pid as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
}

#[tokio::test]
async fn lost_duplicated_and_reordered_frames_and_a_new_connection_are_recovered() {
    let cmd = "read x; echo \"got:$x\"; read y; echo \"then:$y\"";
    let mut r = launch(
        start(SessionKind::NonInteractiveCommands, Some(cmd)),
        settings(),
    )
    .await;
    // The HandshakeRequest is lost: retransmission brings it.
    r.client.drop_next = 1;
    assert!(r.client.until(LIMIT, |c| c.handshake_complete).await);
    // Two input frames, sent second first, each twice.
    let mut frames = Vec::new();
    for part in [&b"ab"[..], b"c\n"] {
        let f = r.client.chan.outgoing.send(
            1,
            part.to_vec(),
            uuid::Uuid::new_v4(),
            super::pump::now_ms(),
        );
        frames.push(f.unwrap().unwrap());
    }
    for i in [1, 1, 0, 0] {
        let f = frames[i].clone();
        r.client.raw(&f);
    }
    assert!(
        r.client
            .until(LIMIT, |c| c.text().contains("got:abc\n"))
            .await,
        "{:?}",
        r.client.text()
    );
    // The connection drops; a new one comes; sequence numbers continue.
    let (agent, far) = Link::pair(1024);
    r.client.link = far;
    r.links.send(agent).await.unwrap();
    r.client.send(PayloadType::Output, b"d\n");
    let (client, end) = r.end().await;
    assert_eq!(client.text(), "got:abc\nthen:d\n");
    assert_eq!(end.exit_code, Some(0));
}

#[tokio::test]
async fn missing_run_as_user_fails_clearly() {
    let mut s = start(SessionKind::StandardStream, None);
    s.run_as_user = Some("bosun-no-such-user".into());
    let r = launch(s, settings()).await;
    let end = tokio::time::timeout(LIMIT, r.task).await.unwrap().unwrap();
    assert_eq!(end.reason, SessionEndReason::Failed);
    assert!(end.error.unwrap().contains("does not exist"));
}

/// A passwd user other than the agent's with a real login shell and an existing home.
fn other_login_user() -> Option<String> {
    let me = nix::unistd::Uid::current().as_raw();
    std::fs::read_to_string("/etc/passwd")
        .ok()?
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() == 7).then(|| (f[0].to_string(), f[2].parse::<u32>().ok(), f[5], f[6]))
        })
        .find(|(_, uid, home, shell)| {
            uid.is_some_and(|u| u != me)
                && std::path::Path::new(home).is_dir()
                && shell.ends_with("sh")
                && std::path::Path::new(shell).exists()
        })
        .map(|(name, ..)| name)
}

#[tokio::test]
async fn run_as_switches_user_home_and_shell_when_root_and_is_refused_otherwise() {
    let root = nix::unistd::Uid::current().is_root();
    let name = if root {
        other_login_user().expect("a root test machine has a login user besides root")
    } else {
        "root".to_string()
    };
    let cmd = "id -un; pwd; echo \"$HOME|$USER|$BOSUN_SESSION_ID\"";
    let mut s = start(SessionKind::NonInteractiveCommands, Some(cmd));
    s.run_as_user = Some(name.clone());
    let id = s.session_id.clone();
    let r = launch(s, settings()).await;
    if !root {
        let end = tokio::time::timeout(LIMIT, r.task).await.unwrap().unwrap();
        assert_eq!(end.reason, SessionEndReason::Failed);
        assert!(end.error.unwrap().contains("not root"));
        return;
    }
    let (client, end) = r.end().await;
    let user = super::user::resolve(Some(&name)).unwrap();
    let home = user.home.display().to_string();
    assert_eq!(
        client.text(),
        format!("{name}\n{home}\n{home}|{name}|{id}\n")
    );
    assert_eq!(end.exit_code, Some(0));
}

#[tokio::test]
async fn output_beyond_the_send_window_flows_as_acks_come_back() {
    // About 8 MB: many times the window of unacknowledged output.
    let cmd = "yes abcdefg | head -c 8000000";
    let r = launch(
        start(SessionKind::NonInteractiveCommands, Some(cmd)),
        settings(),
    )
    .await;
    let (client, end) = r.end().await;
    assert_eq!(client.output.len(), 8_000_000);
    assert!(client.output.starts_with(b"abcdefg\nabcdefg\n"));
    assert_eq!(end.exit_code, Some(0));
}

/// An agent started with SIGHUP ignored (under `nohup`) still ends a session's shell with the
/// hangup: the session's processes start with default signal handling.
#[tokio::test]
async fn a_session_started_by_an_agent_ignoring_sighup_still_ends_on_the_hangup() {
    // SAFETY: setting a signal disposition; restored below. Other tests in this process only
    // gain from it (their sessions must not depend on the agent's dispositions either).
    let previous = unsafe { nix::libc::signal(nix::libc::SIGHUP, nix::libc::SIG_IGN) };
    let mut r = launch(
        start(
            SessionKind::InteractiveCommands,
            Some("echo ready; sleep 1000"),
        ),
        settings(),
    )
    .await;
    assert!(r.client.until(LIMIT, |c| c.text().contains("ready")).await);
    r.client
        .send(PayloadType::Flag, &FlagPayload::TerminateSession.encode());
    let (_, end) = r.end().await;
    // SAFETY: restoring the disposition saved above.
    unsafe { nix::libc::signal(nix::libc::SIGHUP, previous) };
    assert_eq!(
        (end.reason, end.signal.as_deref()),
        (SessionEndReason::Terminated, Some("SIGHUP"))
    );
}
