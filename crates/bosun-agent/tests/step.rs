//! End-to-end tests of the step supervisor with real processes.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bosun_agent::step::{
    attach, read_exit, read_supervisor_record, start, Attach, Outcome, StepHandle, StepSpec,
    SupervisorRecord,
};

fn supervisor_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_bosun-agent"))
}

fn spec(dir: &Path, script: &str) -> StepSpec {
    let mut spec = StepSpec::new(dir, script);
    spec.timeout = Duration::from_secs(30);
    spec.stop_timeout = Duration::from_secs(2);
    spec
}

fn run(spec: &StepSpec) -> StepHandle {
    start(spec, &supervisor_bin(), &[OsString::from("supervise")]).expect("start")
}

/// Poll `check` every 10 ms until it holds, or panic after `limit`.
fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Pids of live (not zombie) processes whose process group is `pgid`.
fn live_in_group(pgid: i32) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in fs::read_dir("/proc").unwrap() {
        let name = entry.unwrap().file_name();
        let Ok(pid) = name.to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields[2].parse::<i32>() == Ok(pgid) && fields[0] != "Z" {
            pids.push(pid);
        }
    }
    pids
}

/// The supervisor record once the child is running.
fn running_record(dir: &Path) -> SupervisorRecord {
    let mut record = None;
    wait_for(
        "supervisor.json with a child",
        Duration::from_secs(5),
        || {
            record = read_supervisor_record(dir).unwrap();
            record.as_ref().is_some_and(|r| r.child_pgid.is_some())
        },
    );
    record.unwrap()
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap_or_default()
}

#[tokio::test]
async fn exit_codes_and_separate_streams() {
    let dir = tempfile::tempdir().unwrap();
    let exit = run(&spec(dir.path(), "echo out; echo err >&2; exit 3"))
        .wait()
        .await
        .unwrap();
    assert_eq!(exit.outcome, Outcome::Exited { code: 3 });
    assert!(exit.start_ms > 0 && exit.end_ms >= exit.start_ms);
    assert_eq!(read(dir.path(), "stdout"), "out\n");
    assert_eq!(read(dir.path(), "stderr"), "err\n");

    let dir = tempfile::tempdir().unwrap();
    let exit = run(&spec(dir.path(), "echo fine")).wait().await.unwrap();
    assert!(exit.success(), "{exit:?}");
    assert_eq!(read(dir.path(), "stdout"), "fine\n");
    let mode = fs::metadata(dir.path().join("_script.sh")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o700
    );
}

#[tokio::test]
async fn working_directory_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let mut s = spec(
        dir.path(),
        "pwd; printf '%s\\n' \"$GREETING\" \"${PATH:+inherited}\"",
    );
    s.working_dir = Some(work.path().to_path_buf());
    s.env = vec![("GREETING".into(), "hello there".into())];
    let exit = run(&s).wait().await.unwrap();
    assert!(exit.success(), "{exit:?}");
    let expected = format!("{}\nhello there\ninherited\n", work.path().display());
    assert_eq!(read(dir.path(), "stdout"), expected);

    // Without a working directory the script runs in the step directory.
    let dir = tempfile::tempdir().unwrap();
    run(&spec(dir.path(), "pwd")).wait().await.unwrap();
    assert_eq!(
        read(dir.path(), "stdout"),
        format!("{}\n", dir.path().display())
    );
}

#[tokio::test]
async fn timeout_kills_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = spec(dir.path(), "sleep 30 & sleep 30");
    s.timeout = Duration::from_secs(2);
    let began = Instant::now();
    let handle = run(&s);
    let pgid = running_record(dir.path()).child_pgid.unwrap();
    wait_for("shell and both sleeps", Duration::from_secs(5), || {
        live_in_group(pgid).len() >= 3
    });
    let exit = handle.wait().await.unwrap();
    let took = began.elapsed();
    assert_eq!(exit.outcome, Outcome::TimedOut);
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "{took:?}"
    );
    assert_eq!(live_in_group(pgid), Vec::<i32>::new());
}

#[tokio::test]
async fn cancel_stops_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let handle = run(&spec(dir.path(), "sleep 60"));
    let pgid = running_record(dir.path()).child_pgid.unwrap();
    wait_for("the sleep", Duration::from_secs(5), || {
        live_in_group(pgid).len() >= 2
    });
    let began = Instant::now();
    handle.cancel().unwrap();
    let exit = handle.wait().await.unwrap();
    assert_eq!(exit.outcome, Outcome::Cancelled);
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(live_in_group(pgid), Vec::<i32>::new());
}

#[tokio::test]
async fn cancel_right_after_start_counts() {
    let dir = tempfile::tempdir().unwrap();
    let handle = run(&spec(dir.path(), "sleep 60"));
    handle.cancel().unwrap();
    let exit = handle.wait().await.unwrap();
    assert_eq!(exit.outcome, Outcome::Cancelled);
}

#[tokio::test]
async fn ignored_sigterm_gets_sigkill_after_stop_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let script = "trap 'echo got TERM' TERM; echo ready; while true; do sleep 0.1; done";
    let mut s = spec(dir.path(), script);
    s.stop_timeout = Duration::from_secs(1);
    let handle = run(&s);
    let pgid = running_record(dir.path()).child_pgid.unwrap();
    wait_for("the trap", Duration::from_secs(5), || {
        read(dir.path(), "stdout").contains("ready")
    });
    let began = Instant::now();
    handle.cancel().unwrap();
    let exit = handle.wait().await.unwrap();
    let took = began.elapsed();
    assert_eq!(exit.outcome, Outcome::Cancelled);
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert!(read(dir.path(), "stdout").contains("got TERM"));
    assert_eq!(live_in_group(pgid), Vec::<i32>::new());
}

#[tokio::test]
async fn reattach_running_then_finished() {
    let dir = tempfile::tempdir().unwrap();
    let script = "while [ ! -e release ]; do sleep 0.05; done; echo done; exit 7";
    drop(run(&spec(dir.path(), script)));
    running_record(dir.path());
    let Attach::Running(handle) = attach(dir.path()).unwrap() else {
        panic!("expected a running step");
    };
    fs::write(dir.path().join("release"), "").unwrap();
    let exit = handle.wait().await.unwrap();
    assert_eq!(exit.outcome, Outcome::Exited { code: 7 });
    assert_eq!(read(dir.path(), "stdout"), "done\n");
    match attach(dir.path()).unwrap() {
        Attach::Finished(again) => assert_eq!(again, exit),
        other => panic!("expected Finished, got {other:?}"),
    }
}

#[tokio::test]
async fn killed_supervisor_is_lost_and_its_group_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let handle = run(&spec(dir.path(), "sleep 60 & sleep 60"));
    let record = running_record(dir.path());
    let pgid = record.child_pgid.unwrap();
    wait_for("shell and both sleeps", Duration::from_secs(5), || {
        live_in_group(pgid).len() >= 3
    });
    let supervisor = nix::unistd::Pid::from_raw(record.supervisor_pid);
    nix::sys::signal::kill(supervisor, nix::sys::signal::Signal::SIGKILL).unwrap();

    let exit = handle.wait().await.unwrap();
    assert_eq!(exit.outcome, Outcome::Lost);
    assert!(matches!(attach(dir.path()).unwrap(), Attach::Lost));
    wait_for("the group to die", Duration::from_secs(5), || {
        live_in_group(pgid).is_empty()
    });
    assert_eq!(read_exit(dir.path()).unwrap(), None);
}

#[tokio::test]
async fn killed_shell_is_signaled() {
    let dir = tempfile::tempdir().unwrap();
    let exit = run(&spec(dir.path(), "kill -9 $$")).wait().await.unwrap();
    assert_eq!(exit.outcome, Outcome::Signaled { signal: 9 });
}

#[test]
fn attach_without_supervisor_record_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(attach(dir.path()).unwrap(), Attach::Lost));
}

#[tokio::test]
async fn missing_shell_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = spec(dir.path(), "true");
    s.shell = PathBuf::from("/nonexistent/shell");
    let exit = run(&s).wait().await.unwrap();
    match exit.outcome {
        Outcome::Failed { error } => assert!(error.contains("/nonexistent/shell"), "{error}"),
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[tokio::test]
async fn big_output_goes_to_the_file_not_the_supervisor() {
    const SIZE: u64 = 5 * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "head -c {SIZE} /dev/zero | tr '\\0' x; while [ ! -e release ]; do sleep 0.05; done"
    );
    let handle = run(&spec(dir.path(), &script));
    let stdout = dir.path().join("stdout");
    wait_for("5 MB of output", Duration::from_secs(20), || {
        fs::metadata(&stdout).is_ok_and(|m| m.len() == SIZE)
    });
    let status = fs::read_to_string(format!("/proc/{}/status", handle.supervisor_pid())).unwrap();
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    println!("supervisor VmRSS with {SIZE} bytes of output: {rss_kb} kB");
    assert!(rss_kb < 10 * 1024, "supervisor RSS {rss_kb} kB");
    fs::write(dir.path().join("release"), "").unwrap();
    assert!(handle.wait().await.unwrap().success());
    assert_eq!(fs::metadata(&stdout).unwrap().len(), SIZE);
}

/// `start` returns only once the supervisor's record is on disk: an agent that stops right
/// after starting a step (an update's drain and re-exec, a crash) finds the step running when
/// it comes back, instead of seeing nothing and running it a second time.
#[test]
fn a_started_step_is_found_again_at_once() {
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let handle = run(&spec(dir.path(), "sleep 5"));
        assert!(
            read_supervisor_record(dir.path()).unwrap().is_some(),
            "supervisor.json is written before start() returns"
        );
        match attach(dir.path()).unwrap() {
            Attach::Running(found) => found.cancel().unwrap(),
            other => panic!("a restarted agent would see {other:?}"),
        }
        let _ = handle;
    }
}
