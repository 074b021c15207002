//! `bosun run` as a person sees it, in a pseudo-terminal: one live status line redrawn in
//! place, node output above it as it arrives, colours (none with NO_COLOR); and through a pipe,
//! no escape codes at all.

use bosun_e2e::bin;
use bosun_e2e::fleet::Fleet;
use rexpect::session::spawn_command;

/// Everything `bosun run` wrote to its terminal, read until it exits.
fn in_terminal(fleet: &Fleet, node: &str, script: &str, no_color: bool) -> String {
    let home = tempfile::tempdir().unwrap();
    let mut c = std::process::Command::new(bin("bosun"));
    for var in [
        "NO_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "AWS_PROFILE",
        "BOSUN_ENDPOINT",
    ] {
        c.env_remove(var);
    }
    c.env("HOME", home.path())
        .env("TERM", "xterm-256color")
        .args([
            "run",
            "--instance-ids",
            node,
            "--endpoint-url",
            &fleet.server.url,
        ])
        .arg("--data-dir")
        .arg(fleet.server.data_dir())
        .args(["--", script]);
    if no_color {
        c.env("NO_COLOR", "1");
    }
    let mut session = spawn_command(c, Some(60_000)).expect("spawn in a pty");
    session.exp_eof().expect("bosun run ends")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_gets_a_live_status_line_and_colours_a_pipe_gets_plain_text() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let script = "echo first; sleep 2; echo second";

    let (f, n) = (&fleet, node.clone());
    let text = tokio::task::block_in_place(|| in_terminal(f, &n, script, false));
    // The status line is redrawn in place (carriage return, clear line), in colour.
    assert!(text.contains("\r\x1b[2K["), "{text:?}");
    assert!(text.contains("\x1b[36m1 running"), "{text:?}");
    // Output arrives while the command runs: "first" comes before the line saying it runs
    // is last drawn, and "second" after.
    let first = text.find(" first\r").expect("first line");
    let second = text.find(" second\r").expect("second line");
    let running_between = text[first..second].contains("1 running");
    assert!(
        running_between,
        "the status line is redrawn under live output: {text:?}"
    );
    // The node's name before each output line is dim.
    assert!(
        text.contains(&format!("\x1b[2m{node} |\x1b[0m first")),
        "{text:?}"
    );
    // The summary table colours the outcome.
    assert!(text.contains("\x1b[32mSuccess\x1b[0m"), "{text:?}");

    // NO_COLOR: still live, no colours.
    let text = tokio::task::block_in_place(|| in_terminal(f, &n, "echo plain", true));
    assert!(text.contains("\r\x1b[2K["), "{text:?}");
    assert!(
        !text.contains("\x1b[3") && !text.contains("\x1b[2m"),
        "{text:?}"
    );
    assert!(text.contains(&format!("{node} | plain")), "{text:?}");

    // A pipe: no escape codes at all, status changes as plain lines.
    let out = tokio::process::Command::new(bin("bosun"))
        .args(["--endpoint-url", &fleet.server.url, "--data-dir"])
        .arg(fleet.server.data_dir())
        .args(["run", "--instance-ids", &node, "--", "echo piped"])
        .env_remove("NO_COLOR")
        .env("CLICOLOR", "1")
        .output()
        .await
        .unwrap();
    let (ok, out, err) = (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(ok, "{err}");
    assert!(
        !out.contains('\x1b') && !err.contains('\x1b'),
        "{out:?}{err:?}"
    );
    assert!(out.contains(&format!("{node} | piped")));
    assert!(err.contains("[1/1 done (1 ok)] Success"), "{err}");
}
