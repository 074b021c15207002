//! `bosun run` and `bosun command …` as an operator uses them: Ctrl-C cancels on the server,
//! twice detaches; repeated `--param` builds a StringList; `command show` prints all output.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bosun_e2e::fleet::Fleet;
use bosun_e2e::{bin, wait_for};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::common::clean;

const LIMIT: Duration = Duration::from_secs(30);

/// `bosun <args>` against the fleet's server, with stderr collected line by line as it comes.
fn spawn(fleet: &Fleet, home: &std::path::Path, args: &[&str]) -> (Child, Arc<Mutex<String>>) {
    let mut c = Command::new(bin("bosun"));
    // (Flags before the subcommand: everything after `--` is the shell command.)
    let mut child = clean(&mut c, home)
        .arg("--data-dir")
        .arg(fleet.server.data_dir())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let err = Arc::new(Mutex::new(String::new()));
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let sink = err.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let mut s = sink.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
    (child, err)
}

/// Run `bosun <args>` against the fleet's server to the end: (ok, stdout, stderr).
async fn bosun(fleet: &Fleet, args: &[&str]) -> (bool, String, String) {
    let home = tempfile::tempdir().unwrap();
    let mut c = Command::new(bin("bosun"));
    let out = clean(&mut c, home.path())
        .arg("--data-dir")
        .arg(fleet.server.data_dir())
        .args(args)
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn wait_stderr(err: &Arc<Mutex<String>>, text: &str) -> String {
    wait_for(&format!("bosun to print {text:?}"), LIMIT, || {
        let err = err.clone();
        async move {
            let s = err.lock().unwrap().clone();
            s.contains(text).then_some(s)
        }
    })
    .await
}

fn command_id(stderr: &str) -> String {
    stderr
        .split_whitespace()
        .skip_while(|w| *w != "command")
        .nth(1)
        .unwrap_or_else(|| panic!("no command id in {stderr}"))
        .to_string()
}

async fn status(fleet: &Fleet, id: &str) -> String {
    let out = fleet
        .client
        .list_commands()
        .command_id(id)
        .send()
        .await
        .unwrap();
    out.commands()[0].status().unwrap().as_str().to_string()
}

fn interrupt(child: &Child) {
    kill(Pid::from_raw(child.id().unwrap() as i32), Signal::SIGINT).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_on_the_server_and_twice_detaches() {
    let fleet = Fleet::start(1, 1).await;
    let home = tempfile::tempdir().unwrap();
    let node = fleet.ids()[0].clone();

    // Once: the command is cancelled on the server, bosun waits for that and fails.
    let (mut child, err) = spawn(
        &fleet,
        home.path(),
        &["run", "--instance-ids", &node, "--", "sleep 60"],
    );
    let seen = wait_stderr(&err, "1 running").await;
    let id = command_id(&seen);
    interrupt(&child);
    wait_stderr(&err, &format!("cancelling command {id} on the server")).await;
    let code = tokio::time::timeout(LIMIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code.code(), Some(1), "{}", err.lock().unwrap());
    assert_eq!(status(&fleet, &id).await, "Cancelled");
    wait_stderr(&err, "Cancelled").await;

    // Twice: bosun stops watching and says how to follow or cancel; the command goes on.
    // (A step that ignores SIGTERM: it is stopping, not stopped, until SIGKILL 20 s later.)
    // The step says when its trap is set (a file the agent, on this machine, creates): a
    // Ctrl-C before that would stop it at once and the first cancel would simply succeed.
    let ready = home.path().join("trap-set");
    let stubborn = format!(
        "trap '' TERM; touch {}; for i in $(seq 600); do sleep 0.1; done",
        ready.display()
    );
    let (mut child, err) = spawn(
        &fleet,
        home.path(),
        &["run", "--instance-ids", &node, "--", &stubborn],
    );
    let seen = wait_stderr(&err, "1 running").await;
    let id = command_id(&seen);
    wait_for("the step to set its trap", LIMIT, || {
        let ready = ready.clone();
        async move { ready.exists().then_some(()) }
    })
    .await;
    interrupt(&child);
    wait_stderr(&err, "cancelling command").await;
    interrupt(&child);
    let code = tokio::time::timeout(LIMIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code.code(), Some(130));
    // (The reader may still be collecting the last lines: wait for them.)
    let text = wait_stderr(&err, &format!("bosun command cancel {id}")).await;
    assert!(
        text.contains(&format!("bosun command watch {id}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("bosun command cancel {id}")),
        "{text}"
    );

    // Detached at once (one Ctrl-C is a cancel request, so here: watch, then cancel from the CLI).
    let (mut child, err) = spawn(
        &fleet,
        home.path(),
        &["run", "--instance-ids", &node, "--", "sleep 60 # 3"],
    );
    let id = command_id(&wait_stderr(&err, "1 running").await);
    child.kill().await.unwrap();
    assert_eq!(status(&fleet, &id).await, "InProgress");
    let (mut watcher, watch_err) = spawn(&fleet, home.path(), &["command", "watch", &id]);
    wait_stderr(&watch_err, "1 running").await;
    let (ok, out, e) = fleet.server.cli(&["command", "cancel", &id]).await;
    assert!(
        ok && out.contains(&format!("asked the server to cancel {id}")),
        "{out}{e}"
    );
    let code = tokio::time::timeout(LIMIT, watcher.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code.code(), Some(1), "a cancelled command is not a success");
    wait_stderr(&watch_err, "Cancelled").await;
    assert_eq!(status(&fleet, &id).await, "Cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_params_and_param_json_reach_the_node() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let run = |extra: Vec<&str>| {
        let mut args = vec!["run", "--instance-ids", &node];
        args.extend(extra);
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        let fleet = &fleet;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            bosun(fleet, &args).await
        }
    };
    let (ok, out, err) = run(vec![
        "--param",
        "commands=echo first",
        "--param",
        "commands=echo second",
    ])
    .await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("{node} | first")) && out.contains(&format!("{node} | second")),
        "{out}"
    );
    let (ok, out, err) = run(vec![
        "--json",
        "--param-json",
        r#"{"commands": ["echo one", "echo two"]}"#,
    ])
    .await;
    assert!(ok, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Success"], true);
    assert_eq!(
        v["Invocations"][0]["Steps"][0]["StandardOutput"],
        "one\ntwo\n"
    );
    // --json fails like the plain form when a node fails.
    let (ok, out, _) = run(vec!["--json", "--", "exit 3"]).await;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(!ok && v["Invocations"][0]["ResponseCode"] == 3, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_show_and_run_print_output_past_the_api_limit() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    // 48,894 characters: twice what GetCommandInvocation inlines.
    let (ok, out, err) = bosun(
        &fleet,
        &[
            "run",
            "--instance-ids",
            &node,
            "--",
            "seq 1 10000; echo end >&2",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let printed: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with(&format!("{node} | ")))
        .collect();
    assert_eq!(printed.len(), 10000, "bosun run prints every line");
    assert_eq!(printed[9999], format!("{node} | 10000"));
    let id = command_id(&err);
    let (ok, shown, err) = bosun(&fleet, &["command", "show", &id]).await;
    assert!(ok, "{err}");
    let lines: Vec<&str> = shown.lines().filter(|l| l.starts_with("   | ")).collect();
    assert_eq!(lines.len(), 10001, "all of stdout and stderr");
    assert_eq!(lines[0], "   | 1");
    assert_eq!(lines[9999], "   | 10000");
    assert_eq!(lines[10000], "   | end");
    assert!(shown.contains("   stderr:"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_on_an_offline_node_says_so_by_name() {
    // Two nodes, one of them never started: its invocation waits while the node is offline.
    let fleet = Fleet::start(2, 1).await;
    let home = tempfile::tempdir().unwrap();
    let (online, offline) = (fleet.ids()[0].clone(), fleet.ids()[1].clone());
    let ids = format!("{online},{offline}");
    let (mut child, err) = spawn(
        &fleet,
        home.path(),
        &["run", "--instance-ids", &ids, "--", "echo hi"],
    );
    let seen = wait_stderr(&err, &format!("[1/2 done (1 ok), 1 offline ({offline})]")).await;
    let id = command_id(&seen);
    interrupt(&child);
    wait_stderr(&err, "cancelling command").await;
    let code = tokio::time::timeout(LIMIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code.code(), Some(1));
    assert_eq!(status(&fleet, &id).await, "Cancelled");
}
