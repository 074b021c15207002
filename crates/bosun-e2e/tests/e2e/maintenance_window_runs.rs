//! Maintenance windows really run (issue 15, seed 002), through the real AWS CLI with real
//! agents: a window `at(…)` a few seconds ahead runs its `RUN_COMMAND` task on a resource group
//! of two nodes; with one node stopped the execution ends `FAILED` naming the node that did not
//! run while the online node did run; with both online it ends `SUCCESS`. A target that matches
//! nothing fails its task with a reason, never `SUCCESS`, and priorities order tasks.

use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;
use bosun_e2e::windows::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_group_member_fails_the_window_by_name_and_the_online_one_runs() {
    let mut fleet = Fleet::start(2, 1).await;
    let ids = fleet.ids();
    let (online, stopped) = (ids[0].clone(), ids[1].clone());
    create_group(&fleet.server, "dev-nodes");

    let window = create_window(&fleet.server, "monthly-agent-update");
    let target = register_target(
        &fleet.server,
        &window,
        "RESOURCE_GROUP",
        "Key=resource-groups:Name,Values=dev-nodes",
    );
    register_task(
        &fleet.server,
        &window,
        &target,
        "1",
        "echo updated {{WINDOW_EXECUTION_ID}}",
    );
    arm(&fleet.server, &window, 10);
    let e = wait_execution(&fleet.server, &window).await;
    let execution = e["WindowExecutionId"].as_str().unwrap().to_string();
    assert_eq!(e["Status"], "FAILED", "{e}");
    let details = e["StatusDetails"].as_str().unwrap();
    assert!(details.contains(&stopped), "{details}");
    assert!(details.contains("connection lost"), "{details}");
    assert!(!details.contains(&online), "{details}");

    let got = ssm(
        &fleet.server,
        &[
            "get-maintenance-window-execution",
            "--window-execution-id",
            &execution,
        ],
    );
    assert_eq!(got["Status"], "FAILED");
    assert_eq!(got["TaskIds"].as_array().unwrap().len(), 1, "{got}");
    let tasks = tasks_of(&fleet.server, &execution);
    assert_eq!(tasks[0]["Status"], "FAILED", "{tasks:?}");
    let task = tasks[0]["TaskExecutionId"].as_str().unwrap().to_string();
    let invs = invocations_of(&fleet.server, &execution, &task);
    assert_eq!(invs.len(), 2, "{invs:?}");
    let ran = invs
        .iter()
        .find(|i| i["Status"] == "SUCCESS")
        .unwrap_or_else(|| panic!("{invs:?}"));
    assert_eq!(ran["WindowTargetId"], target.as_str());
    assert_eq!(ran["OwnerInformation"], "seed-002");
    let not_run = invs.iter().find(|i| i["Status"] == "FAILED").unwrap();
    assert!(not_run["StatusDetails"]
        .as_str()
        .unwrap()
        .contains("connection lost"));
    assert!(not_run.get("ExecutionId").is_none(), "{not_run}");
    // The online node really ran the command, with the pseudo-parameter replaced.
    let command = ran["ExecutionId"].as_str().unwrap();
    let inv = fleet.wait_done(command, &online, LIMIT).await;
    assert_eq!(
        inv.standard_output_content(),
        Some(format!("updated {execution}\n").as_str())
    );
    let one = ssm(
        &fleet.server,
        &[
            "get-maintenance-window-execution-task-invocation",
            "--window-execution-id",
            &execution,
            "--task-id",
            &task,
            "--invocation-id",
            ran["InvocationId"].as_str().unwrap(),
        ],
    );
    assert_eq!(one["ExecutionId"], command);
    assert_eq!(one["TaskType"], "RUN_COMMAND");
    // AWS's `Parameters`: the command sent to this node, as JSON text.
    let sent: serde_json::Value =
        serde_json::from_str(one["Parameters"].as_str().unwrap()).unwrap();
    assert_eq!(sent["documentName"], "AWS-RunShellScript", "{sent}");
    assert_eq!(sent["instanceIds"], serde_json::json!([online]), "{sent}");
    assert_eq!(
        sent["parameters"]["commands"][0],
        format!("echo updated {execution}"),
        "{sent}"
    );

    // Both nodes online: the same setup succeeds.
    fleet.agents[1].start();
    fleet.wait_online(&stopped).await;
    let window = create_window(&fleet.server, "monthly-agent-update-2");
    let target = register_target(
        &fleet.server,
        &window,
        "RESOURCE_GROUP",
        "Key=resource-groups:Name,Values=dev-nodes",
    );
    register_task(&fleet.server, &window, &target, "1", "echo updated");
    arm(&fleet.server, &window, 10);
    let e = wait_execution(&fleet.server, &window).await;
    assert_eq!(e["Status"], "SUCCESS", "{e}");
    let execution = e["WindowExecutionId"].as_str().unwrap();
    let task = tasks_of(&fleet.server, execution)[0]["TaskExecutionId"]
        .as_str()
        .unwrap()
        .to_string();
    let invs = invocations_of(&fleet.server, execution, &task);
    assert_eq!(invs.len(), 2, "{invs:?}");
    assert!(invs.iter().all(|i| i["Status"] == "SUCCESS"), "{invs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_matching_nothing_fails_with_a_reason_and_priorities_order_tasks() {
    let fleet = Fleet::start(1, 1).await;
    let server = &fleet.server;
    let window = create_window(server, "ordered");
    let nodes = register_target(server, &window, "INSTANCE", "Key=tag:env,Values=test");
    let nobody = register_target(server, &window, "INSTANCE", "Key=tag:env,Values=nowhere");
    // Registered out of order: the second runs first.
    let later = register_task(server, &window, &nodes, "5", "echo second");
    let first = register_task(server, &window, &nodes, "1", "sleep 2; echo first");
    let empty = register_task(server, &window, &nobody, "9", "echo never");
    arm(server, &window, 10);
    let e = wait_execution(server, &window).await;
    assert_eq!(e["Status"], "FAILED", "{e}");
    let details = e["StatusDetails"].as_str().unwrap();
    assert!(
        details.contains("1 task(s) resolved no target"),
        "{details}"
    );
    let execution = e["WindowExecutionId"].as_str().unwrap();

    let tasks = tasks_of(server, execution);
    assert_eq!(tasks.len(), 3, "{tasks:?}");
    let by_task = |window_task: &str| -> Value {
        let got = ssm(
            server,
            &["describe-maintenance-window-tasks", "--window-id", &window],
        );
        let arn_ok = got["Tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["WindowTaskId"] == window_task);
        assert!(arn_ok);
        tasks
            .iter()
            .map(|t| {
                ssm(
                    server,
                    &[
                        "get-maintenance-window-execution-task",
                        "--window-execution-id",
                        execution,
                        "--task-id",
                        t["TaskExecutionId"].as_str().unwrap(),
                    ],
                )
            })
            .find(|t| {
                let p = t["Priority"].as_i64().unwrap();
                (window_task == first && p == 1)
                    || (window_task == later && p == 5)
                    || (window_task == empty && p == 9)
            })
            .unwrap()
    };
    let (t1, t5, t9) = (by_task(&first), by_task(&later), by_task(&empty));
    assert_eq!(t1["Status"], "SUCCESS", "{t1}");
    assert_eq!(t5["Status"], "SUCCESS", "{t5}");
    assert_eq!(t9["Status"], "FAILED", "{t9}");
    assert!(
        t9["StatusDetails"]
            .as_str()
            .unwrap()
            .contains("No target was resolved"),
        "{t9}"
    );
    // Priority 5 started only after priority 1 ended.
    let end1 = t1["EndTime"].as_f64().unwrap();
    let start5 = t5["StartTime"].as_f64().unwrap();
    assert!(start5 >= end1, "{t1} {t5}");
    let start9 = t9["StartTime"].as_f64().unwrap();
    assert!(start9 >= t5["EndTime"].as_f64().unwrap(), "{t5} {t9}");

    // The execution operations are authorized on the execution's window: a deny there wins
    // over an allow on everything, for the calls by window id and by execution id alike.
    let (_, akid, secret) = server
        .user_with_policy(
            "no-window-history",
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Action":"ssm:*","Resource":"*"}},
                {{"Effect":"Deny","Action":["ssm:DescribeMaintenanceWindowExecutions",
                  "ssm:GetMaintenanceWindowExecution","ssm:DescribeMaintenanceWindowExecutionTasks",
                  "ssm:CancelMaintenanceWindowExecution"],
                  "Resource":"arn:aws:ssm:us-east-1:000000000000:maintenancewindow/{window}"}}]}}"#
            ),
        )
        .await;
    let as_user = |args: &[&str]| {
        let mut all = vec!["ssm"];
        all.extend_from_slice(args);
        server
            .as_admin("aws")
            .args(&all)
            .env("AWS_ACCESS_KEY_ID", &akid)
            .env("AWS_SECRET_ACCESS_KEY", &secret)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SHARED_CREDENTIALS_FILE")
            .output()
            .expect("aws")
    };
    for args in [
        &[
            "describe-maintenance-window-executions",
            "--window-id",
            &window,
        ][..],
        &[
            "get-maintenance-window-execution",
            "--window-execution-id",
            execution,
        ][..],
        &[
            "describe-maintenance-window-execution-tasks",
            "--window-execution-id",
            execution,
        ][..],
        &[
            "cancel-maintenance-window-execution",
            "--window-execution-id",
            execution,
        ][..],
    ] {
        let out = as_user(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was allowed");
        assert!(err.contains("AccessDeniedException"), "{args:?}: {err}");
    }
    let out = as_user(&["describe-maintenance-window-tasks", "--window-id", &window]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A finished execution cannot be cancelled; an unknown one does not exist.
    let err = server
        .aws(&[
            "ssm",
            "cancel-maintenance-window-execution",
            "--window-execution-id",
            execution,
        ])
        .unwrap_err();
    assert!(err.contains("DoesNotExistException"), "{err}");
}

/// The window's executions, newest first as listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_across_a_slot_runs_the_window_exactly_once() {
    let mut fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let marks = tempfile::tempdir().unwrap();
    let mark = marks.path().join("ran");

    // Killed before its slot, restarted after it: the missed slot runs once.
    let window = create_window(&fleet.server, "missed-slot");
    let target = register_target(
        &fleet.server,
        &window,
        "INSTANCE",
        &format!("Key=InstanceIds,Values={node}"),
    );
    let script = format!("echo missed >> {}", mark.display());
    register_task(&fleet.server, &window, &target, "1", &script);
    let slot = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(10);
    arm(&fleet.server, &window, 10);
    fleet.server.kill().await;
    assert!(
        jiff::Timestamp::now() < slot,
        "the server died before the slot"
    );
    wait_for("the slot to pass", LIMIT, || async {
        (jiff::Timestamp::now() >= slot + jiff::SignedDuration::from_secs(2)).then_some(())
    })
    .await;
    fleet.server.restart().await;
    let e = wait_execution(&fleet.server, &window).await;
    assert_eq!(e["Status"], "SUCCESS", "{e}");

    // Killed while its task runs: the restarted server finishes it, never starts another.
    let window2 = create_window(&fleet.server, "killed-mid-run");
    let target = register_target(
        &fleet.server,
        &window2,
        "INSTANCE",
        &format!("Key=InstanceIds,Values={node}"),
    );
    let script = format!("echo during >> {}; sleep 3", mark.display());
    register_task(&fleet.server, &window2, &target, "1", &script);
    arm(&fleet.server, &window2, 10);
    // Killed once the node runs the task (before that, the restarted server would find the
    // node not back yet and fail it as ConnectionLost, which is right but not this test).
    wait_for("the node to run the window's task", LIMIT, || async {
        std::fs::read_to_string(&mark)
            .ok()?
            .contains("during")
            .then_some(())
    })
    .await;
    fleet.server.kill().await;
    fleet.server.restart().await;
    let e = wait_execution(&fleet.server, &window2).await;
    assert_eq!(e["Status"], "SUCCESS", "{e}");

    assert_eq!(executions_of(&fleet.server, &window).len(), 1);
    assert_eq!(executions_of(&fleet.server, &window2).len(), 1);
    let ran = std::fs::read_to_string(&mark).unwrap();
    assert_eq!(ran, "missed\nduring\n", "each window ran its task once");
}
