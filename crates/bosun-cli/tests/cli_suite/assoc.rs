//! `bosun assoc` against a real server with a real agent: create, list (next run on the
//! operator's clock, zone named), show (each node's status in the last run), history, run-now,
//! delete, and AWS's errors said in one line.

use std::time::Duration;

use bosun_e2e::fleet::Fleet;
use bosun_e2e::{bin, wait_for, TestServer};
use tokio::process::Command;

/// `bosun <args>` against `server` with `TZ` set; (success, stdout, stderr).
async fn bosun(server: &TestServer, tz: &str, args: &[&str]) -> (bool, String, String) {
    // The global flags first: everything after `--` is the shell command.
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

/// The executions `bosun assoc history --json` lists.
async fn executions(server: &TestServer, id: &str) -> Vec<serde_json::Value> {
    let (ok, out, err) = bosun(server, "UTC", &["assoc", "history", id, "--json"]).await;
    assert!(ok, "{err}");
    serde_json::from_str::<Vec<serde_json::Value>>(&out).expect("history --json is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assoc_create_list_show_history_run_now_and_delete() {
    let fleet = Fleet::start(1, 1).await;
    let server = &fleet.server;
    let node = fleet.ids()[0].clone();
    let paris = "Europe/Paris";

    let (ok, out, err) = bosun(server, paris, &["assoc", "list"]).await;
    assert!(ok && out.starts_with("No associations"), "{out}{err}");

    let (ok, out, err) = bosun(
        server,
        paris,
        &[
            "assoc",
            "create",
            "--name",
            "keep-tidy",
            "--target",
            "tag:env=test",
            "--schedule",
            "cron(0 5 ? * TUE *)",
            "--max-concurrency",
            "100%",
            "--max-errors",
            "0%",
            "--compliance-severity",
            "HIGH",
            "--",
            "echo",
            "tidy",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("created association "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the new association's id")
        .to_string();
    assert!(out.contains("Targets:   tag:env=test"), "{out}");

    // It runs at creation on the tagged node.
    let first = wait_for(
        "the first execution ends",
        Duration::from_secs(60),
        || async {
            let list = executions(server, &id).await;
            list.first()
                .filter(|e| e["Status"] == "Success")
                .map(|e| e["ExecutionId"].as_str().unwrap().to_string())
        },
    )
    .await;

    // Listed with its next slot (Tuesday 05:00 UTC) on the Paris clock, the zone named.
    let (ok, out, err) = bosun(server, paris, &["assoc", "list"]).await;
    assert!(ok, "{err}");
    let header = out.lines().next().unwrap();
    assert!(
        header.starts_with("NAME") && header.contains("NEXT RUN (Europe/Paris)"),
        "{out}"
    );
    let row = out.lines().find(|l| l.contains(&id)).expect("listed");
    assert!(
        row.starts_with("keep-tidy")
            && row.contains("AWS-RunShellScript")
            && row.contains("cron(0 5 ? * TUE *)")
            && row.contains("Success")
            && (row.contains("06:00 CET") || row.contains("07:00 CEST")),
        "{row}"
    );
    // The same slot in another zone.
    let (_, out, _) = bosun(server, "Asia/Tokyo", &["assoc", "list"]).await;
    assert!(
        out.contains("NEXT RUN (Asia/Tokyo)") && out.contains("14:00 JST"),
        "{out}"
    );
    let (ok, out, _) = bosun(server, paris, &["assoc", "list", "--json"]).await;
    let listed: serde_json::Value = serde_json::from_str(&out).expect("list --json is JSON");
    assert!(ok && listed[0]["TimeZone"] == paris, "{out}");
    assert!(
        listed[0]["NextRun"].as_str().unwrap().contains("T05:00:00"),
        "{out}"
    );

    // Show: the definition, the next run, the last execution and the node's status in it.
    let (ok, out, err) = bosun(server, paris, &["assoc", "show", &id]).await;
    assert!(ok, "{err}");
    for expected in [
        format!("Association: {id}"),
        "Name:        keep-tidy".to_string(),
        "Parameter:   commands = echo tidy".to_string(),
        "max concurrency 100%, max errors 0%".to_string(),
        "Severity:    HIGH".to_string(),
        "(Europe/Paris)".to_string(),
        format!("Last run:    {first} Success"),
    ] {
        assert!(out.contains(&expected), "{expected:?} in:\n{out}");
    }
    let node_row = out
        .lines()
        .find(|l| l.starts_with(&node))
        .expect("the node's row");
    assert!(node_row.contains("Success"), "{node_row}");
    let table_header = out.lines().find(|l| l.starts_with("NODE")).unwrap();
    assert!(table_header.contains("COMMAND"), "{out}");

    let (ok, out, err) = bosun(server, paris, &["assoc", "history", &id]).await;
    assert!(ok, "{err}");
    assert!(
        out.lines().next().unwrap().starts_with("EXECUTION")
            && out.contains("STARTED (Europe/Paris)"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with(&first) && l.contains("Success")),
        "{out}"
    );

    // Run now: a second execution.
    let (ok, out, err) = bosun(server, paris, &["assoc", "run-now", &id]).await;
    assert!(ok && out.contains(&format!("started {id}")), "{out}{err}");
    wait_for("a second execution", Duration::from_secs(60), || async {
        (executions(server, &id).await.len() == 2).then_some(())
    })
    .await;

    let (ok, out, err) = bosun(server, paris, &["assoc", "delete", &id]).await;
    assert!(
        ok && out.contains(&format!("deleted association {id}")),
        "{out}{err}"
    );
    // Gone: AWS's code and message in one line.
    let (ok, _, err) = bosun(server, paris, &["assoc", "show", &id]).await;
    assert!(
        !ok && err.contains("AssociationDoesNotExist: The specified association does not exist."),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assoc_errors_name_the_aws_code_and_store_nothing() {
    let server = TestServer::start().await;
    let create = |schedule: &'static str| {
        [
            "assoc",
            "create",
            "--target",
            "*",
            "--schedule",
            schedule,
            "--",
            "true",
        ]
    };
    let (ok, _, err) = bosun(&server, "UTC", &create("rate(5 minutes)")).await;
    assert!(!ok && err.starts_with("error: InvalidSchedule: "), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    // The CLI refuses a target word it cannot read before asking the server.
    let (ok, _, err) = bosun(
        &server,
        "UTC",
        &["assoc", "create", "--target", "env=prod", "--", "true"],
    )
    .await;
    assert!(!ok && err.contains("tag:Key=Value"), "{err}");
    let (ok, _, err) = bosun(
        &server,
        "UTC",
        &["assoc", "run-now", "00000000-0000-4000-8000-000000000000"],
    )
    .await;
    assert!(!ok && err.contains("AssociationDoesNotExist"), "{err}");
    let (ok, out, _) = bosun(&server, "UTC", &["assoc", "list"]).await;
    assert!(ok && out.starts_with("No associations"), "{out}");
}
