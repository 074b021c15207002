//! Maintenance window definitions through the real AWS CLI: windows (ClientToken retries and
//! reuse, updates with and without `Replace`, filters), targets, RUN_COMMAND tasks, `Safe`
//! deregistration, upcoming runs in the window's time zone, windows for a target, window tags,
//! and bad requests refused with AWS's error codes without storing anything.

use bosun_e2e::TestServer;
use serde_json::Value;

fn code(result: Result<Value, String>) -> String {
    let err = result.expect_err("an error");
    err.split('(')
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap_or(&err)
        .to_string()
}

fn ssm(server: &TestServer, args: &[&str]) -> Result<Value, String> {
    let mut all = vec!["ssm"];
    all.extend_from_slice(args);
    server.aws(&all)
}

fn create(server: &TestServer, name: &str, token: &str) -> Result<Value, String> {
    ssm(
        server,
        &[
            "create-maintenance-window",
            "--name",
            name,
            "--schedule",
            "cron(0 2 ? * SUN *)",
            "--schedule-timezone",
            "America/Los_Angeles",
            "--duration",
            "3",
            "--cutoff",
            "1",
            "--no-allow-unassociated-targets",
            "--client-token",
            token,
            "--tags",
            "Key=team,Value=ops",
        ],
    )
}

fn window_count(server: &TestServer) -> usize {
    ssm(server, &["describe-maintenance-windows"]).unwrap()["WindowIdentities"]
        .as_array()
        .unwrap()
        .len()
}

fn register_task(server: &TestServer, window: &str, targets: &str) -> Result<Value, String> {
    ssm(
        server,
        &[
            "register-task-with-maintenance-window",
            "--window-id",
            window,
            "--task-arn",
            "AWS-RunShellScript",
            "--task-type",
            "RUN_COMMAND",
            "--targets",
            targets,
            "--max-concurrency",
            "1",
            "--max-errors",
            "0",
            "--task-invocation-parameters",
            r#"{"RunCommand":{"Parameters":{"commands":["uptime"]},"TimeoutSeconds":600}}"#,
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_targets_tasks_schedules_and_tags_round_trip() {
    let server = TestServer::start().await;

    // ClientToken: a retry gets the same window, a different request with it is refused.
    let id = create(&server, "patch-web", "token-1").unwrap()["WindowId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(id.starts_with("mw-") && id.len() == 20, "{id}");
    let again = create(&server, "patch-web", "token-1").unwrap();
    assert_eq!(again["WindowId"], id.as_str());
    assert_eq!(
        code(create(&server, "patch-db", "token-1")),
        "IdempotentParameterMismatch"
    );
    assert_eq!(window_count(&server), 1);

    let got = ssm(&server, &["get-maintenance-window", "--window-id", &id]).unwrap();
    assert_eq!(got["Name"], "patch-web");
    assert_eq!(got["Duration"], 3);
    assert_eq!(got["Cutoff"], 1);
    assert_eq!(got["Enabled"], true);
    assert_eq!(got["AllowUnassociatedTargets"], false);
    assert_eq!(got["ScheduleTimezone"], "America/Los_Angeles");
    let next = got["NextExecutionTime"].as_str().unwrap();
    assert!(
        next.ends_with("T02:00-08:00") || next.ends_with("T02:00-07:00"),
        "{next}"
    );

    // Updates: a member at a time, then Replace (which needs every required member).
    let updated = ssm(
        &server,
        &[
            "update-maintenance-window",
            "--window-id",
            &id,
            "--no-enabled",
            "--description",
            "weekly",
        ],
    )
    .unwrap();
    assert_eq!(updated["Enabled"], false);
    assert_eq!(updated["Name"], "patch-web");
    let disabled = ssm(
        &server,
        &[
            "describe-maintenance-windows",
            "--filters",
            "Key=Enabled,Values=False",
        ],
    )
    .unwrap();
    assert_eq!(disabled["WindowIdentities"][0]["WindowId"], id.as_str());
    assert!(disabled["WindowIdentities"][0]
        .get("NextExecutionTime")
        .is_none());
    assert_eq!(
        code(ssm(
            &server,
            &[
                "update-maintenance-window",
                "--window-id",
                &id,
                "--replace",
                "--name",
                "x-name"
            ]
        )),
        "ValidationException"
    );
    let replaced = ssm(
        &server,
        &[
            "update-maintenance-window",
            "--window-id",
            &id,
            "--replace",
            "--name",
            "patch-web",
            "--schedule",
            "rate(7 days)",
            "--duration",
            "4",
            "--cutoff",
            "0",
            "--no-allow-unassociated-targets",
            "--enabled",
        ],
    )
    .unwrap();
    assert!(replaced.get("Description").is_none(), "{replaced}");
    assert!(replaced.get("ScheduleTimezone").is_none(), "{replaced}");
    assert_eq!(replaced["Schedule"], "rate(7 days)");
    let named = ssm(
        &server,
        &[
            "describe-maintenance-windows",
            "--filters",
            "Key=Name,Values=patch-web",
        ],
    )
    .unwrap();
    assert_eq!(named["WindowIdentities"].as_array().unwrap().len(), 1);

    // A target, a task naming it, Safe deregistration refused while the task names it.
    let target = ssm(
        &server,
        &[
            "register-target-with-maintenance-window",
            "--window-id",
            &id,
            "--resource-type",
            "INSTANCE",
            "--targets",
            "Key=tag:role,Values=web",
            "--owner-information",
            "web tier",
        ],
    )
    .unwrap()["WindowTargetId"]
        .as_str()
        .unwrap()
        .to_string();
    let targets = ssm(
        &server,
        &["describe-maintenance-window-targets", "--window-id", &id],
    )
    .unwrap();
    assert_eq!(targets["Targets"][0]["WindowTargetId"], target.as_str());
    assert_eq!(targets["Targets"][0]["Targets"][0]["Key"], "tag:role");
    assert_eq!(targets["Targets"][0]["OwnerInformation"], "web tier");

    let task = register_task(
        &server,
        &id,
        &format!("Key=WindowTargetIds,Values={target}"),
    )
    .unwrap()["WindowTaskId"]
        .as_str()
        .unwrap()
        .to_string();
    let got_task = ssm(
        &server,
        &[
            "get-maintenance-window-task",
            "--window-id",
            &id,
            "--window-task-id",
            &task,
        ],
    )
    .unwrap();
    assert_eq!(got_task["TaskType"], "RUN_COMMAND");
    assert_eq!(got_task["Priority"], 1);
    assert_eq!(got_task["CutoffBehavior"], "CONTINUE_TASK");
    assert_eq!(
        got_task["TaskInvocationParameters"]["RunCommand"]["Parameters"]["commands"][0],
        "uptime"
    );
    let tasks = ssm(
        &server,
        &[
            "describe-maintenance-window-tasks",
            "--window-id",
            &id,
            "--filters",
            "Key=TaskType,Values=RUN_COMMAND",
        ],
    )
    .unwrap();
    assert_eq!(tasks["Tasks"][0]["Type"], "RUN_COMMAND");
    assert_eq!(tasks["Tasks"][0]["WindowTaskId"], task.as_str());

    let deregister_safe = [
        "deregister-target-from-maintenance-window",
        "--window-id",
        &id,
        "--window-target-id",
        &target,
        "--safe",
    ];
    assert_eq!(code(ssm(&server, &deregister_safe)), "TargetInUseException");
    assert_eq!(
        code(ssm(
            &server,
            &[
                "update-maintenance-window-task",
                "--window-id",
                &id,
                "--window-task-id",
                &task,
                "--targets",
                "Key=InstanceIds,Values=mi-0123456789abcdef0",
            ]
        )),
        "ValidationException",
        "the window does not allow unregistered targets"
    );
    let renamed = ssm(
        &server,
        &[
            "update-maintenance-window-task",
            "--window-id",
            &id,
            "--window-task-id",
            &task,
            "--priority",
            "5",
            "--name",
            "uptime-check",
        ],
    )
    .unwrap();
    assert_eq!(renamed["Priority"], 5);
    assert_eq!(renamed["Targets"][0]["Values"][0], target.as_str());
    ssm(
        &server,
        &[
            "deregister-task-from-maintenance-window",
            "--window-id",
            &id,
            "--window-task-id",
            &task,
        ],
    )
    .unwrap();
    ssm(&server, &deregister_safe).unwrap();
    let none = ssm(
        &server,
        &["describe-maintenance-window-targets", "--window-id", &id],
    )
    .unwrap();
    assert!(none["Targets"].as_array().unwrap().is_empty());

    // Upcoming runs: a Sunday 02:00 cron in Tokyo, listed in the window's zone.
    ssm(
        &server,
        &[
            "update-maintenance-window",
            "--window-id",
            &id,
            "--schedule",
            "cron(0 2 ? * SUN *)",
            "--schedule-timezone",
            "Asia/Tokyo",
        ],
    )
    .unwrap();
    let schedule = ssm(
        &server,
        &[
            "describe-maintenance-window-schedule",
            "--window-id",
            &id,
            "--page-size",
            "2",
            "--max-items",
            "5",
        ],
    )
    .unwrap();
    // Five runs over three pages of two (the CLI follows NextToken).
    let runs = schedule["ScheduledWindowExecutions"].as_array().unwrap();
    assert_eq!(runs.len(), 5, "{schedule}");
    let times: Vec<&str> = runs
        .iter()
        .map(|r| r["ExecutionTime"].as_str().unwrap())
        .collect();
    for t in &times {
        assert!(t.ends_with("T02:00+09:00"), "{t}");
        let date: jiff::civil::Date = t[..10].parse().unwrap();
        assert_eq!(date.weekday(), jiff::civil::Weekday::Sunday, "{t}");
    }
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert_eq!(runs[0]["WindowId"], id.as_str());

    // Windows for a target: a node named by a registered target.
    ssm(
        &server,
        &[
            "register-target-with-maintenance-window",
            "--window-id",
            &id,
            "--resource-type",
            "INSTANCE",
            "--targets",
            "Key=InstanceIds,Values=mi-0123456789abcdef0",
        ],
    )
    .unwrap();
    let for_node = ssm(
        &server,
        &[
            "describe-maintenance-windows-for-target",
            "--targets",
            "Key=InstanceIds,Values=mi-0123456789abcdef0",
            "--resource-type",
            "INSTANCE",
        ],
    )
    .unwrap();
    assert_eq!(for_node["WindowIdentities"][0]["WindowId"], id.as_str());
    assert_eq!(for_node["WindowIdentities"][0]["Name"], "patch-web");
    let other = ssm(
        &server,
        &[
            "describe-maintenance-windows-for-target",
            "--targets",
            "Key=InstanceIds,Values=mi-00000000000000000",
            "--resource-type",
            "INSTANCE",
        ],
    )
    .unwrap();
    assert!(other["WindowIdentities"].as_array().unwrap().is_empty());

    // Tags on the window.
    let tag_args = |op: &'static str| {
        vec![
            op,
            "--resource-type",
            "MaintenanceWindow",
            "--resource-id",
            id.as_str(),
        ]
    };
    let listed = ssm(&server, &tag_args("list-tags-for-resource")).unwrap();
    assert_eq!(listed["TagList"][0]["Key"], "team");
    let mut add = tag_args("add-tags-to-resource");
    add.extend(["--tags", "Key=env,Value=prod"]);
    ssm(&server, &add).unwrap();
    let mut remove = tag_args("remove-tags-from-resource");
    remove.extend(["--tag-keys", "team"]);
    ssm(&server, &remove).unwrap();
    let listed = ssm(&server, &tag_args("list-tags-for-resource")).unwrap();
    assert_eq!(listed["TagList"].as_array().unwrap().len(), 1);
    assert_eq!(listed["TagList"][0]["Key"], "env");

    // Deletion takes everything with it.
    let deleted = ssm(&server, &["delete-maintenance-window", "--window-id", &id]).unwrap();
    assert_eq!(deleted["WindowId"], id.as_str());
    assert_eq!(
        code(ssm(
            &server,
            &["get-maintenance-window", "--window-id", &id]
        )),
        "DoesNotExistException"
    );
    assert_eq!(
        code(ssm(&server, &tag_args("list-tags-for-resource"))),
        "InvalidResourceId"
    );
    assert_eq!(window_count(&server), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_aws_errors_and_store_nothing() {
    let server = TestServer::start().await;
    let window = |schedule: &str, extra: &[&str]| {
        let mut args = vec![
            "create-maintenance-window",
            "--name",
            "bad-window",
            "--schedule",
            schedule,
            "--duration",
            "2",
            "--cutoff",
            "1",
            "--allow-unassociated-targets",
        ];
        args.extend_from_slice(extra);
        ssm(&server, &args)
    };
    for (schedule, extra, expected) in [
        (
            "cron(0 2 ? * SUN *)",
            &["--cutoff", "2"][..],
            "ValidationException",
        ),
        (
            "cron(0 2 ? * SUN *)",
            &["--duration", "25"][..],
            "ValidationException",
        ),
        ("cron(not a schedule)", &[][..], "ValidationException"),
        ("rate(1 days)", &[][..], "ValidationException"),
        (
            "cron(0 2 ? * SUN *)",
            &["--schedule-timezone", "Mars/Base"][..],
            "ValidationException",
        ),
        (
            "rate(1 day)",
            &["--schedule-offset", "2"][..],
            "ValidationException",
        ),
        (
            "rate(1 day)",
            &["--start-date", "next tuesday"][..],
            "ValidationException",
        ),
        (
            "rate(1 day)",
            &[
                "--start-date",
                "2030-01-02T00:00:00Z",
                "--end-date",
                "2030-01-01T00:00:00Z",
            ][..],
            "ValidationException",
        ),
    ] {
        assert_eq!(
            code(window(schedule, extra)),
            expected,
            "{schedule} {extra:?}"
        );
    }
    assert_eq!(window_count(&server), 0, "no bad window was stored");

    let id = window("rate(1 day)", &[]).unwrap()["WindowId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        code(ssm(
            &server,
            &[
                "get-maintenance-window",
                "--window-id",
                "mw-00000000000000000"
            ]
        )),
        "DoesNotExistException"
    );
    assert_eq!(
        code(ssm(
            &server,
            &[
                "update-maintenance-window",
                "--window-id",
                &id,
                "--cutoff",
                "5"
            ]
        )),
        "ValidationException"
    );
    let stored = ssm(&server, &["get-maintenance-window", "--window-id", &id]).unwrap();
    assert_eq!(stored["Cutoff"], 1, "a refused update changes nothing");

    // Targets of the wrong shape.
    for (resource_type, targets) in [
        ("RESOURCE_GROUP", "Key=tag:role,Values=web"),
        ("INSTANCE", "Key=resource-groups:Name,Values=web"),
        ("INSTANCE", "Key=InstanceIds,Values=not-a-node"),
    ] {
        assert_eq!(
            code(ssm(
                &server,
                &[
                    "register-target-with-maintenance-window",
                    "--window-id",
                    &id,
                    "--resource-type",
                    resource_type,
                    "--targets",
                    targets,
                ]
            )),
            "ValidationException",
            "{resource_type} {targets}"
        );
    }
    let targets = ssm(
        &server,
        &["describe-maintenance-window-targets", "--window-id", &id],
    )
    .unwrap();
    assert!(targets["Targets"].as_array().unwrap().is_empty());

    // Tasks Bosun cannot run, or that ask for what it cannot do.
    let task = |extra: &[&str]| {
        let mut args = vec![
            "register-task-with-maintenance-window",
            "--window-id",
            id.as_str(),
            "--max-concurrency",
            "1",
            "--max-errors",
            "0",
            "--targets",
            "Key=InstanceIds,Values=mi-0123456789abcdef0",
        ];
        args.extend_from_slice(extra);
        ssm(&server, &args)
    };
    let rc = ["--task-type", "RUN_COMMAND"];
    let shell = ["--task-arn", "AWS-RunShellScript"];
    let uptime = [
        "--task-invocation-parameters",
        r#"{"RunCommand":{"Parameters":{"commands":["uptime"]}}}"#,
    ];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        // An AUTOMATION task runs a runbook, not a Command document.
        (
            vec!["--task-type", "AUTOMATION", "--task-arn", "AWS-RunShellScript"],
            "ValidationException",
        ),
        (
            vec!["--task-type", "LAMBDA", "--task-arn", "arn:aws:lambda:us-east-1:000000000000:function:f"],
            "FeatureNotAvailableException",
        ),
        (
            vec!["--task-type", "STEP_FUNCTIONS", "--task-arn", "arn:aws:states:us-east-1:000000000000:stateMachine:s"],
            "FeatureNotAvailableException",
        ),
        ([&rc[..], &["--task-arn", "No-Such-Document"]].concat(), "InvalidDocument"),
        (
            [&rc[..], &shell[..], &["--task-invocation-parameters", r#"{"RunCommand":{"Parameters":{"nope":["x"]}}}"#]].concat(),
            "InvalidParameters",
        ),
        (
            [&rc[..], &shell[..], &["--task-invocation-parameters", r#"{"RunCommand":{"Parameters":{"commands":["x"]},"OutputS3BucketName":"logs"}}"#]].concat(),
            "ValidationException",
        ),
        (
            [&rc[..], &shell[..], &uptime[..], &["--logging-info", "S3BucketName=logs,S3Region=us-east-1"]].concat(),
            "ValidationException",
        ),
        (
            [&rc[..], &shell[..], &uptime[..], &["--targets", "Key=WindowTargetIds,Values=00000000-0000-4000-8000-000000000000"]].concat(),
            "DoesNotExistException",
        ),
        (
            [&rc[..], &shell[..], &uptime[..], &["--targets", "Key=tag:role,Values=web"]].concat(),
            "ValidationException",
        ),
    ];
    for (extra, expected) in cases {
        assert_eq!(code(task(&extra)), expected, "{extra:?}");
    }
    let e = task(
        &[
            &rc[..],
            &shell[..],
            &[
                "--task-invocation-parameters",
                r#"{"RunCommand":{"OutputS3BucketName":"logs"}}"#,
            ],
        ]
        .concat(),
    )
    .unwrap_err();
    assert!(
        e.contains("OutputS3BucketName"),
        "the refusal names the field: {e}"
    );
    let tasks = ssm(
        &server,
        &["describe-maintenance-window-tasks", "--window-id", &id],
    )
    .unwrap();
    assert!(tasks["Tasks"].as_array().unwrap().is_empty(), "{tasks}");

    // The window allows unregistered targets, so a task on a node id is fine.
    let ok = task(&[&rc[..], &shell[..], &uptime[..]].concat()).unwrap();
    assert!(ok["WindowTaskId"].as_str().is_some());
    // The window is one of that node's windows through the task alone.
    let for_node = ssm(
        &server,
        &[
            "describe-maintenance-windows-for-target",
            "--targets",
            "Key=InstanceIds,Values=mi-0123456789abcdef0",
            "--resource-type",
            "INSTANCE",
        ],
    )
    .unwrap();
    assert_eq!(for_node["WindowIdentities"][0]["WindowId"], id.as_str());
}

/// IAM: the window's ARN for window calls, each node a target or task names, and a task's
/// document, through the Rust SDK signing as a restricted user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_are_checked_on_the_window_its_nodes_and_its_document() {
    use aws_sdk_ssm::error::ProvideErrorMetadata;
    use aws_sdk_ssm::types::{MaintenanceWindowResourceType, MaintenanceWindowTaskType, Target};

    let server = TestServer::start().await;
    let admin = server.client();
    let created = admin
        .create_maintenance_window()
        .name("guarded")
        .schedule("rate(1 day)")
        .duration(2)
        .cutoff(0)
        .allow_unassociated_targets(true)
        .send()
        .await
        .unwrap();
    let id = created.window_id().unwrap().to_string();
    let arn = "arn:aws:ssm:us-east-1:000000000000";
    let (denied_node, allowed_node) = ("mi-0000000000000000b", "mi-0000000000000000a");
    let user = server
        .user_with_policy(
            "limited",
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Action":"ssm:*","Resource":"*"}},
                {{"Effect":"Deny","Action":"ssm:RegisterTargetWithMaintenanceWindow","Resource":"{arn}:managed-instance/{denied_node}"}},
                {{"Effect":"Deny","Action":"ssm:RegisterTaskWithMaintenanceWindow","Resource":"{arn}:document/AWS-RunShellScript"}},
                {{"Effect":"Deny","Action":"ssm:DeleteMaintenanceWindow","Resource":"{arn}:maintenancewindow/{id}"}}]}}"#
            ),
        )
        .await
        .0;
    let nodes = |id: &str| Target::builder().key("InstanceIds").values(id).build();
    let err = user
        .register_target_with_maintenance_window()
        .window_id(&id)
        .resource_type(MaintenanceWindowResourceType::Instance)
        .targets(nodes(denied_node))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"), "{err:?}");
    user.register_target_with_maintenance_window()
        .window_id(&id)
        .resource_type(MaintenanceWindowResourceType::Instance)
        .targets(nodes(allowed_node))
        .send()
        .await
        .unwrap();
    let err = user
        .register_task_with_maintenance_window()
        .window_id(&id)
        .task_arn("AWS-RunShellScript")
        .task_type(MaintenanceWindowTaskType::RunCommand)
        .targets(nodes(allowed_node))
        .max_concurrency("1")
        .max_errors("0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"), "{err:?}");
    let err = user
        .delete_maintenance_window()
        .window_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"), "{err:?}");

    let targets = admin
        .describe_maintenance_window_targets()
        .window_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(targets.targets().len(), 1, "only the allowed node's target");
    let tasks = admin
        .describe_maintenance_window_tasks()
        .window_id(&id)
        .send()
        .await
        .unwrap();
    assert!(tasks.tasks().is_empty());
    admin
        .get_maintenance_window()
        .window_id(&id)
        .send()
        .await
        .expect("the window is still there");
}
