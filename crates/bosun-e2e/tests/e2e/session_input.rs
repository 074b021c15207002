//! Input given to `bosun session` before its session is ready is not lost (issue 18): the client
//! holds it until the agent's handshake is complete, as the agent starts the command only then.

use std::process::Stdio;
use std::time::Duration;

use bosun_e2e::fleet::Fleet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_written_at_once_reaches_the_remote_command() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let server = &fleet.server;
    let mut child = tokio::process::Command::new(bosun_e2e::bin("bosun"))
        .args(["session", &node, "--command", "cat"])
        .args(["--data-dir", server.data_dir().to_str().unwrap()])
        .args(["--endpoint-url", &server.url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("bosun session runs");
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
