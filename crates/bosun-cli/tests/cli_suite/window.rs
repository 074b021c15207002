//! `bosun window` against a real server with a real agent: create (schedule in a named zone),
//! add a tag target and a Run Command task, list with the next run on the operator's clock, show,
//! then one execution brought near, shown with the node that ran it; AWS's errors in one line.

use std::time::Duration;

use aws_sdk_ssm::types::MaintenanceWindowExecutionStatus;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::{bin, wait_for, TestServer};
use tokio::process::Command;

/// `bosun <args>` against `server` with `TZ` set; (success, stdout, stderr).
async fn bosun(server: &TestServer, tz: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin("bosun"))
        .arg("--data-dir")
        .arg(server.data_dir())
        .args(["--endpoint-url", &server.url])
        .args(args)
        .env("TZ", tz)
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run bosun");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn word_after<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("{prefix:?} in {out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_create_target_task_list_show_and_an_execution_per_node() {
    let fleet = Fleet::start(1, 1).await;
    let server = &fleet.server;
    let node = fleet.ids()[0].clone();
    let tokyo = "Asia/Tokyo";

    let (ok, out, err) = bosun(server, tokyo, &["window", "list"]).await;
    assert!(
        ok && out.starts_with("No maintenance windows"),
        "{out}{err}"
    );

    let (ok, out, err) = bosun(
        server,
        tokyo,
        &[
            "window",
            "create",
            "--name",
            "weekly-update",
            "--schedule",
            "cron(0 2 ? * SUN *)",
            "--timezone",
            "Asia/Tokyo",
            "--duration",
            "2",
            "--cutoff",
            "1",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let window = word_after(&out, "created maintenance window ").to_string();

    let (ok, out, err) = bosun(
        server,
        tokyo,
        &["window", "add-target", &window, "--target", "tag:env=test"],
    )
    .await;
    assert!(ok, "{err}");
    let target = word_after(&out, "registered window target ").to_string();
    let (ok, out, err) = bosun(
        server,
        tokyo,
        &[
            "window", "add-task", &window, "--name", "update", "--", "echo", "updated",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let task = word_after(&out, "registered window task ").to_string();

    // Listed with its next slot: Sunday 02:00 in Tokyo, on the operator's (Tokyo) clock.
    let (ok, out, err) = bosun(server, tokyo, &["window", "list"]).await;
    assert!(ok, "{err}");
    assert!(
        out.lines()
            .next()
            .unwrap()
            .contains("NEXT RUN (Asia/Tokyo)"),
        "{out}"
    );
    let row = out.lines().find(|l| l.contains(&window)).expect("listed");
    assert!(
        row.starts_with("weekly-update") && row.contains("02:00 JST") && row.contains("2h/1h"),
        "{row}"
    );
    let (ok, out, err) = bosun(server, tokyo, &["window", "show", &window]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("Target:    {target} tag:env=test"))
            && out.contains(&format!(
                "Task:      {task} priority 1 RUN_COMMAND AWS-RunShellScript"
            ))
            && out.contains("Next run:  ")
            && out.contains("02:00 JST"),
        "{out}"
    );

    // Bring a run near; its execution names the node that ran the task.
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
    fleet
        .client
        .update_maintenance_window()
        .window_id(&window)
        .schedule(format!("at({})", soon.strftime("%Y-%m-%dT%H:%M:%S")))
        .schedule_timezone("UTC")
        .send()
        .await
        .expect("UpdateMaintenanceWindow");
    let execution = wait_for(
        "the window's run succeeds",
        Duration::from_secs(60),
        || async {
            let out = fleet
                .client
                .describe_maintenance_window_executions()
                .window_id(&window)
                .send()
                .await
                .ok()?;
            let e = out.window_executions().first()?;
            (e.status() == Some(&MaintenanceWindowExecutionStatus::Success))
                .then(|| e.window_execution_id().unwrap().to_string())
        },
    )
    .await;
    let (ok, out, err) = bosun(server, tokyo, &["window", "execution", &execution]).await;
    assert!(ok, "{err}");
    let row = out
        .lines()
        .find(|l| l.contains(&node))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        row.contains("AWS-RunShellScript") && row.contains("SUCCESS"),
        "{out}"
    );
    let (ok, out, _) = bosun(
        server,
        tokyo,
        &["window", "execution", &execution, "--json"],
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&out).expect("execution --json is JSON");
    assert!(
        ok && v["Invocations"][0]["InstanceId"] == node.as_str(),
        "{out}"
    );
    assert_eq!(v["Invocations"][0]["CommandStatus"], "Success", "{out}");

    // AWS's errors, in one line, and nothing stored.
    let (ok, _, err) = bosun(
        server,
        tokyo,
        &[
            "window",
            "create",
            "--name",
            "bad",
            "--schedule",
            "cron(0 2 ? * SUN *)",
            "--duration",
            "2",
            "--cutoff",
            "2",
        ],
    )
    .await;
    assert!(!ok && err.contains("ValidationException"), "{err}");
    let (ok, out, _) = bosun(server, tokyo, &["window", "list"]).await;
    // No row is named "bad" (a window id may end in "bad": look at the NAME column only).
    assert!(ok && !out.lines().any(|l| l.starts_with("bad ")), "{out}");

    let (ok, out, err) = bosun(server, tokyo, &["window", "delete", &window]).await;
    assert!(ok && out.contains("deleted"), "{err}");
}
