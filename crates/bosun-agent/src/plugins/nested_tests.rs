//! Tests of how a nested document's steps run: order, failure handling, timeouts.

use std::path::Path;

use bosun_core::document::{OnFailure, StepPlan};

use super::{run_steps, StepContext};

fn shell(name: &str, line: &str, log: &Path) -> StepPlan {
    StepPlan {
        name: name.into(),
        action: "aws:runShellScript".into(),
        run_command: vec![line.into()],
        timeout_seconds: 60,
        env: vec![("LOG".into(), log.to_string_lossy().into())],
        ..Default::default()
    }
}

fn context(dir: &Path) -> StepContext {
    let downloads = dir.join("@downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    StepContext {
        dir: dir.join("step"),
        downloads,
        agent_exe: "/nonexistent/bosun-agent".into(),
        depth: 1,
        max_download_bytes: 1 << 20,
        state_dir: dir.join("state"),
        update_health_timeout_secs: 5,
    }
}

fn log_of(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn failures_continue_by_default_and_stop_with_exit_but_finally_steps_run() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let ctx = context(dir.path());
    let steps = vec![
        shell("one", "echo one >> \"$LOG\"; exit 4", &log),
        shell("two", "echo two >> \"$LOG\"", &log),
        StepPlan {
            on_failure: OnFailure::Exit,
            ..shell("three", "echo three >> \"$LOG\"; exit 5", &log)
        },
        shell("four", "echo four >> \"$LOG\"", &log),
        StepPlan {
            finally_step: true,
            ..shell("last", "echo last >> \"$LOG\"", &log)
        },
    ];
    assert_eq!(run_steps(&steps, &ctx, 1), 4, "the first failure's code");
    assert_eq!(log_of(&log), "one\ntwo\nthree\nlast\n");
}

#[test]
fn exit_codes_168_and_169_stop_only_the_nested_document() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let ctx = context(dir.path());
    let stop_ok = vec![
        shell("a", "echo a >> \"$LOG\"; exit 168", &log),
        shell("b", "echo b >> \"$LOG\"", &log),
    ];
    assert_eq!(run_steps(&stop_ok, &ctx, 1), 0);
    let stop_failed = vec![
        shell("c", "echo c >> \"$LOG\"; exit 169", &log),
        shell("d", "echo d >> \"$LOG\"", &log),
    ];
    assert_eq!(run_steps(&stop_failed, &ctx, 1), 1);
    let success_and_exit = vec![
        StepPlan {
            on_failure: OnFailure::SuccessAndExit,
            ..shell("e", "echo e >> \"$LOG\"; exit 9", &log)
        },
        shell("f", "echo f >> \"$LOG\"", &log),
    ];
    assert_eq!(run_steps(&success_and_exit, &ctx, 1), 0);
    assert_eq!(log_of(&log), "a\nc\ne\n");
}

#[test]
fn a_step_past_its_timeout_is_stopped_with_everything_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let ctx = context(dir.path());
    let pid_file = dir.path().join("pid");
    let slow = StepPlan {
        timeout_seconds: 1,
        ..shell(
            "slow",
            &format!("sleep 600 & echo $! > '{}'; wait", pid_file.display()),
            &log,
        )
    };
    let steps = vec![slow, shell("next", "echo next >> \"$LOG\"", &log)];
    assert_eq!(run_steps(&steps, &ctx, 1), 1);
    assert_eq!(log_of(&log), "next\n", "later steps still run");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let stat = crate::step::proc_stat(pid.trim());
    assert!(
        stat.as_ref().map_or(true, |s| !s.is_alive()),
        "the background sleep was killed: {stat:?}"
    );
}

#[test]
fn steps_run_in_the_download_folder_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let ctx = context(dir.path());
    let steps = vec![
        shell("here", "pwd >> \"$LOG\"", &log),
        StepPlan {
            working_directory: "/".into(),
            ..shell("root", "pwd >> \"$LOG\"", &log)
        },
    ];
    assert_eq!(run_steps(&steps, &ctx, 1), 0);
    assert_eq!(log_of(&log), format!("{}\n/\n", ctx.downloads.display()));
}
