//! A window's `Cutoff` with real agents, through the AWS CLI (issue 15): no task starts in the
//! last `Cutoff` hours, and a `CANCEL_TASK` task still running then is cancelled on its node.
//!
//! `Cutoff` is in hours, so a test cannot wait for it; nor does Bosun have a test clock. The
//! executor reads each execution's start from the store on every pass, so while the first task
//! runs (a real command waiting for a file the test controls) the test moves the execution's
//! recorded start back 90 minutes directly in the store, as an execution that started 90
//! minutes ago would look: with `Duration` 2 and `Cutoff` 1 the cutoff has then passed. The
//! second task cannot start before the first ends, and the first cannot end before the test
//! lets it (once the executor has recorded the second as skipped), so the executor has no way
//! to start the second task but to ignore the cutoff.

use aws_sdk_ssm::types::CommandInvocationStatus;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;
use bosun_e2e::windows::*;
use bosun_e2e::TestServer;
use serde_json::Value;

use crate::run_command::pid_alive;

/// How far back the execution's start is moved: past the cutoff (1 h before the end of a 2 h
/// window), before the end.
const BACK_MS: i64 = 90 * 60 * 1000;

/// A window of `Duration` 2 and `Cutoff` 1 on `node`, whose priority-1 task (`cutoff_behavior`)
/// writes its shell's pid to `pid` and waits for `release`, and whose priority-2 task appends
/// to `late`. The window id.
fn window_with_two_tasks(
    server: &TestServer,
    name: &str,
    node: &str,
    cutoff_behavior: &str,
    files: &Files,
) -> String {
    let window = create_window(server, name);
    ssm(
        server,
        &[
            "update-maintenance-window",
            "--window-id",
            &window,
            "--cutoff",
            "1",
        ],
    );
    let target = register_target(
        server,
        &window,
        "INSTANCE",
        &format!("Key=InstanceIds,Values={node}"),
    );
    let first = format!(
        "echo $$ > {}; while [ ! -f {} ]; do sleep 0.2; done; echo first",
        files.pid.display(),
        files.release.display()
    );
    let second = format!("echo second >> {}", files.late.display());
    for (priority, script, behavior) in [
        ("1", &first, cutoff_behavior),
        ("2", &second, "CONTINUE_TASK"),
    ] {
        let params = serde_json::json!({
            "RunCommand": {"Parameters": {"commands": [script]}, "TimeoutSeconds": 600}
        })
        .to_string();
        ssm(
            server,
            &[
                "register-task-with-maintenance-window",
                "--window-id",
                &window,
                "--task-arn",
                "AWS-RunShellScript",
                "--task-type",
                "RUN_COMMAND",
                "--targets",
                &format!("Key=WindowTargetIds,Values={target}"),
                "--priority",
                priority,
                "--max-concurrency",
                "1",
                "--max-errors",
                "0",
                "--cutoff-behavior",
                behavior,
                "--task-invocation-parameters",
                &params,
            ],
        );
    }
    window
}

struct Files {
    _dir: tempfile::TempDir,
    pid: std::path::PathBuf,
    release: std::path::PathBuf,
    late: std::path::PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    Files {
        pid: dir.path().join("pid"),
        release: dir.path().join("release"),
        late: dir.path().join("late"),
        _dir: dir,
    }
}

/// Once the first task runs on the node: the window's live execution id.
async fn running_execution(server: &TestServer, window: &str, files: &Files) -> String {
    wait_for("the first task to run on the node", LIMIT, || async {
        std::fs::read_to_string(&files.pid)
            .ok()
            .filter(|s| s.ends_with('\n'))
            .map(|_| ())
    })
    .await;
    let list = executions_of(server, window);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["Status"], "IN_PROGRESS", "{list:?}");
    list[0]["WindowExecutionId"].as_str().unwrap().to_string()
}

/// Move the execution's recorded start `BACK_MS` into the past, in the server's own store.
async fn start_earlier(server: &TestServer, execution: &str) {
    let sql = format!(
        "UPDATE maintenance_window_executions SET start_ms = start_ms - {BACK_MS} \
         WHERE window_execution_id = '{execution}' AND status = 'IN_PROGRESS'"
    );
    let database = server.database().map(str::to_string);
    let file = server.data_dir().join("bosun.db");
    let changed = tokio::task::spawn_blocking(move || match database {
        Some(url) if url.starts_with("postgres") => {
            let store = bosun_store_pg::PgStore::connect(&url).expect("connect");
            store
                .with_client(async |c| Ok(c.execute(sql.as_str(), &[]).await?))
                .expect("update the execution's start")
        }
        _ => {
            let db = rusqlite::Connection::open(file).unwrap();
            db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
            db.execute(&sql, []).unwrap() as u64
        }
    })
    .await
    .unwrap();
    assert_eq!(changed, 1, "the execution was live and is moved");
}

/// The execution's two task executions, by priority.
fn tasks_by_priority(server: &TestServer, execution: &str) -> (Value, Value) {
    let get = |id: &str| {
        ssm(
            server,
            &[
                "get-maintenance-window-execution-task",
                "--window-execution-id",
                execution,
                "--task-id",
                id,
            ],
        )
    };
    let mut tasks: Vec<Value> = tasks_of(server, execution)
        .iter()
        .map(|t| get(t["TaskExecutionId"].as_str().unwrap()))
        .collect();
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    tasks.sort_by_key(|t| t["Priority"].as_i64());
    let second = tasks.pop().unwrap();
    (tasks.pop().unwrap(), second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cutoff_keeps_a_late_task_from_starting_while_a_running_one_finishes() {
    let fleet = Fleet::start(1, 1).await;
    let server = &fleet.server;
    let node = fleet.ids()[0].clone();
    let f = files();
    let window = window_with_two_tasks(server, "cutoff-continue", &node, "CONTINUE_TASK", &f);
    arm(server, &window, 10);
    let execution = running_execution(server, &window, &f).await;
    start_earlier(server, &execution).await;
    // The executor sees the cutoff and records the late task as never started; only then is
    // the first released (a pass that read the execution before the move cannot start the late
    // task after the first ends).
    wait_for("the late task to be skipped", LIMIT, || async {
        let tasks = tasks_of(server, &execution);
        tasks
            .iter()
            .any(|t| t["Status"] == "TIMED_OUT")
            .then_some(())
    })
    .await;
    std::fs::write(&f.release, "").unwrap();

    let e = wait_execution(server, &window).await;
    assert_eq!(e["Status"], "TIMED_OUT", "{e}");
    let details = e["StatusDetails"].as_str().unwrap();
    assert!(details.contains("1 task(s) never started"), "{details}");
    let (first, second) = tasks_by_priority(server, &execution);
    // CONTINUE_TASK: the running task went on to the end.
    assert_eq!(first["Status"], "SUCCESS", "{first}");
    assert_eq!(second["Status"], "TIMED_OUT", "{second}");
    assert_eq!(
        second["StatusDetails"], "Not started: the window's cutoff was reached.",
        "{second}"
    );
    assert!(second.get("StartTime").is_none(), "{second}");
    let task = second["TaskExecutionId"].as_str().unwrap();
    assert!(invocations_of(server, &execution, task).is_empty());
    assert!(!f.late.exists(), "the late task ran on the node");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_task_cancels_the_running_command_on_its_node_at_the_cutoff() {
    let fleet = Fleet::start(1, 1).await;
    let server = &fleet.server;
    let node = fleet.ids()[0].clone();
    let f = files();
    let window = window_with_two_tasks(server, "cutoff-cancel", &node, "CANCEL_TASK", &f);
    arm(server, &window, 10);
    let execution = running_execution(server, &window, &f).await;
    // Never released: only the cutoff can end it.
    start_earlier(server, &execution).await;

    let e = wait_execution(server, &window).await;
    assert_eq!(e["Status"], "TIMED_OUT", "{e}");
    let (first, second) = tasks_by_priority(server, &execution);
    assert_eq!(first["Status"], "TIMED_OUT", "{first}");
    assert_eq!(second["Status"], "TIMED_OUT", "{second}");
    assert!(!f.late.exists(), "the late task ran on the node");
    let task = first["TaskExecutionId"].as_str().unwrap();
    let invs = invocations_of(server, &execution, task);
    assert_eq!(invs.len(), 1, "{invs:?}");
    assert_eq!(invs[0]["Status"], "TIMED_OUT", "{invs:?}");
    assert_eq!(invs[0]["StatusDetails"], "Cancelled at the window's cutoff");
    // The command was really cancelled on the node: Run Command says so and its shell is gone.
    let command = invs[0]["ExecutionId"].as_str().unwrap();
    let inv = fleet.wait_done(command, &node, LIMIT).await;
    assert_eq!(
        inv.status(),
        Some(&CommandInvocationStatus::Cancelled),
        "{inv:?}"
    );
    let pid: i32 = std::fs::read_to_string(&f.pid)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_for("the cancelled command's shell to end", LIMIT, || async {
        (!pid_alive(pid)).then_some(())
    })
    .await;
}
