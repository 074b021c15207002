//! Maintenance windows from a test, through the real AWS CLI: a window that runs once when
//! armed, its targets and tasks, waiting for its execution and reading its tasks and
//! invocations.

use std::time::Duration;

use serde_json::Value;

use crate::{wait_for, TestServer};

/// How long a test waits for a window's run.
pub const LIMIT: Duration = Duration::from_secs(90);

pub fn ssm(server: &TestServer, args: &[&str]) -> Value {
    let mut all = vec!["ssm"];
    all.extend_from_slice(args);
    server.aws(&all).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// `at(…)` `secs` seconds from now, in UTC.
pub fn at_in(secs: i64) -> String {
    let t = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(secs);
    format!("at({})", t.strftime("%Y-%m-%dT%H:%M:%S"))
}

/// A window that runs once, a day from now: registering its targets and tasks through the CLI
/// may take long on a loaded machine, so [`arm`] brings its run near only once they are in.
pub fn create_window(server: &TestServer, name: &str) -> String {
    ssm(
        server,
        &[
            "create-maintenance-window",
            "--name",
            name,
            "--schedule",
            &at_in(86_400),
            "--duration",
            "2",
            "--cutoff",
            "0",
            "--allow-unassociated-targets",
        ],
    )["WindowId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Move the window's one run to `lead` seconds from now (one call, so the run cannot come
/// before it returns on any machine).
pub fn arm(server: &TestServer, window: &str, lead: i64) {
    ssm(
        server,
        &[
            "update-maintenance-window",
            "--window-id",
            window,
            "--schedule",
            &at_in(lead),
        ],
    );
}

pub fn register_target(
    server: &TestServer,
    window: &str,
    resource_type: &str,
    targets: &str,
) -> String {
    ssm(
        server,
        &[
            "register-target-with-maintenance-window",
            "--window-id",
            window,
            "--resource-type",
            resource_type,
            "--targets",
            targets,
            "--owner-information",
            "seed-002",
        ],
    )["WindowTargetId"]
        .as_str()
        .unwrap()
        .to_string()
}

pub fn register_task(
    server: &TestServer,
    window: &str,
    target: &str,
    priority: &str,
    script: &str,
) -> String {
    let params = serde_json::json!({
        "RunCommand": {"Parameters": {"commands": [script]}, "TimeoutSeconds": 600}
    })
    .to_string();
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
            &format!("Key=WindowTargetIds,Values={target}"),
            "--priority",
            priority,
            "--max-concurrency",
            "100%",
            "--max-errors",
            "1",
            "--task-invocation-parameters",
            &params,
        ],
    )["WindowTaskId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Wait for the window's one execution to end; its `DescribeMaintenanceWindowExecutions` entry.
pub async fn wait_execution(server: &TestServer, window: &str) -> Value {
    wait_for(&format!("window {window} to run"), LIMIT, || async {
        let out = ssm(
            server,
            &[
                "describe-maintenance-window-executions",
                "--window-id",
                window,
            ],
        );
        let list = out["WindowExecutions"].as_array()?.clone();
        let e = list.first()?.clone();
        let status = e["Status"].as_str()?;
        (!["PENDING", "IN_PROGRESS", "CANCELLING"].contains(&status)).then_some(e)
    })
    .await
}

pub fn tasks_of(server: &TestServer, execution: &str) -> Vec<Value> {
    ssm(
        server,
        &[
            "describe-maintenance-window-execution-tasks",
            "--window-execution-id",
            execution,
        ],
    )["WindowExecutionTaskIdentities"]
        .as_array()
        .unwrap()
        .clone()
}

pub fn invocations_of(server: &TestServer, execution: &str, task: &str) -> Vec<Value> {
    ssm(
        server,
        &[
            "describe-maintenance-window-execution-task-invocations",
            "--window-execution-id",
            execution,
            "--task-id",
            task,
        ],
    )["WindowExecutionTaskInvocationIdentities"]
        .as_array()
        .unwrap()
        .clone()
}

pub fn create_group(server: &TestServer, name: &str) {
    let inner = r#"{"ResourceTypeFilters":["AWS::EC2::Instance"],"TagFilters":[{"Key":"env","Values":["test"]}]}"#;
    let query = serde_json::json!({ "Type": "TAG_FILTERS_1_0", "Query": inner }).to_string();
    server
        .aws(&[
            "resource-groups",
            "create-group",
            "--name",
            name,
            "--resource-query",
            &query,
        ])
        .expect("create-group");
}

pub fn executions_of(server: &TestServer, window: &str) -> Vec<Value> {
    ssm(
        server,
        &[
            "describe-maintenance-window-executions",
            "--window-id",
            window,
        ],
    )["WindowExecutions"]
        .as_array()
        .unwrap()
        .clone()
}
