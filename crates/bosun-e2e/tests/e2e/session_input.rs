//! Input given to `bosun session` before its session is ready is not lost (issue 18): the client
//! holds it until the agent's handshake is complete (a command) or the shell's first output (a
//! shell has no handshake), as the agent starts the process only then.

use std::process::Stdio;
use std::time::Duration;

use bosun_e2e::fleet::Fleet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMIT: Duration = Duration::from_secs(30);

fn bosun_session(fleet: &Fleet, args: &[&str]) -> tokio::process::Child {
    let server = &fleet.server;
    tokio::process::Command::new(bosun_e2e::bin("bosun"))
        .arg("session")
        .args(args)
        .args(["--data-dir", server.data_dir().to_str().unwrap()])
        .args(["--endpoint-url", &server.url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("bosun session runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_written_at_once_reaches_the_remote_command() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let mut child = bosun_session(&fleet, &[&node, "--command", "cat"]);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // Written before the session can possibly be ready.
    stdin.write_all(b"typed at once\n").await.unwrap();
    stdin.flush().await.unwrap();
    let mut back = Vec::new();
    while !back.ends_with(b"typed at once\n") {
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(LIMIT, stdout.read(&mut buf))
            .await
            .expect("the remote cat echoes what was typed first")
            .unwrap();
        assert!(n > 0, "output ended: {:?}", String::from_utf8_lossy(&back));
        back.extend_from_slice(&buf[..n]);
    }
    assert_eq!(back, b"typed at once\n");
    // Ctrl-C ends the session on the node; `cat` is killed, so the status is not 0.
    let pid = nix::unistd::Pid::from_raw(child.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = tokio::time::timeout(LIMIT, child.wait())
        .await
        .expect("Ctrl-C ends the session")
        .unwrap();
    assert!(!status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_written_at_once_reaches_a_shell_and_its_exit_status_is_bosuns() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let mut child = bosun_session(&fleet, &[&node]);
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"echo shell-$((6*7)); exit 7\n")
        .await
        .unwrap();
    stdin.flush().await.unwrap();
    let out = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .expect("the shell reads the line and exits")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("shell-42"),
        "stdout {stdout:?}, stderr {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(7), "stdout {stdout:?}");
}
