//! The README's maintenance window example (seed 002), run as written: the shell block between
//! the `readme-windows` markers of README.md goes through `bash` and the real AWS CLI against a
//! real server whose agents are tagged `env=dev`; the window's run is then moved near (its
//! schedule is monthly) and must succeed on exactly the group's nodes.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_ssm::types::Tag;
use bosun_e2e::agent::{register, Agent};
use bosun_e2e::{wait_for, TestServer};

const LIMIT: Duration = Duration::from_secs(90);

/// The sh block between the markers.
fn readme_block() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let begin = readme
        .find("<!-- readme-windows:begin -->")
        .expect("the begin marker");
    let end = readme
        .find("<!-- readme-windows:end -->")
        .expect("the end marker");
    let body = readme[begin..end]
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.rsplit_once("```"))
        .map(|(body, _)| body)
        .expect("a ```sh block between the markers");
    assert!(
        body.contains("aws resource-groups create-group")
            && body.contains("--resource-type RESOURCE_GROUP")
            && body.contains("Key=resource-groups:Name,Values=dev-nodes")
            && body.contains("--max-concurrency 100% --max-errors 1")
            && body.contains("--task-arn AWS-RunShellScript"),
        "the README example is the seed-002 window:\n{body}"
    );
    body.to_string()
}

/// `n` registered, running agents from an activation tagged `env=value`.
async fn agents(server: &TestServer, value: &str, n: usize) -> Vec<Agent> {
    let out = server
        .client()
        .create_activation()
        .iam_role("BosunNode")
        .registration_limit(n as i32)
        .tags(Tag::builder().key("env").value(value).build().unwrap())
        .send()
        .await
        .expect("CreateActivation");
    let (id, code) = (out.activation_id.unwrap(), out.activation_code.unwrap());
    let mut list = Vec::new();
    for _ in 0..n {
        let mut a = register(&server.url, &id, &code, None, &[])
            .await
            .expect("register");
        a.start();
        list.push(a);
    }
    list
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_window_example_runs_on_the_groups_nodes() {
    let script = readme_block();
    let server = TestServer::start().await;
    let client = server.client();
    let dev = agents(&server, "dev", 2).await;
    let _prod = agents(&server, "prod", 1).await;
    let dev_ids: BTreeSet<String> = dev.iter().map(|a| a.instance_id.clone()).collect();
    wait_for("the agents online", LIMIT, || async {
        let out = client.describe_instance_information().send().await.ok()?;
        (out.instance_information_list().len() == 3
            && out
                .instance_information_list()
                .iter()
                .all(|n| n.ping_status() == Some(&aws_sdk_ssm::types::PingStatus::Online)))
        .then_some(())
    })
    .await;

    let data = server.data_dir();
    let out = tokio::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("BOSUN_ENDPOINT", &server.url)
        .env("AWS_SHARED_CREDENTIALS_FILE", data.join("credentials"))
        .env("AWS_CONFIG_FILE", data.join("config"))
        .env("AWS_PAGER", "")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_SSM")
        .output()
        .await
        .expect("bash and the AWS CLI");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README's commands failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\"WindowExecutions\""), "{stdout}");

    let windows = client.describe_maintenance_windows().send().await.unwrap();
    let [window] = windows.window_identities() else {
        panic!("one window: {windows:?}")
    };
    let id = window.window_id().unwrap().to_string();
    assert_eq!(window.schedule(), Some("cron(0 3 ? * SUN#1 *)"));
    // Its run is monthly: bring one run near to see it work.
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(10);
    client
        .update_maintenance_window()
        .window_id(&id)
        .schedule(format!("at({})", soon.strftime("%Y-%m-%dT%H:%M:%S")))
        .send()
        .await
        .expect("UpdateMaintenanceWindow");
    let execution = wait_for("the window's run to end", LIMIT, || async {
        let out = client
            .describe_maintenance_window_executions()
            .window_id(&id)
            .send()
            .await
            .ok()?;
        let e = out.window_executions().first()?.clone();
        let status = e.status()?.as_str().to_string();
        (!["PENDING", "IN_PROGRESS", "CANCELLING"].contains(&status.as_str())).then_some(e)
    })
    .await;
    assert_eq!(
        execution.status().map(|s| s.as_str()),
        Some("SUCCESS"),
        "{execution:?}"
    );
    let execution_id = execution.window_execution_id().unwrap();
    let tasks = client
        .describe_maintenance_window_execution_tasks()
        .window_execution_id(execution_id)
        .send()
        .await
        .unwrap();
    let [task] = tasks.window_execution_task_identities() else {
        panic!("one task: {tasks:?}")
    };
    let invocations = client
        .describe_maintenance_window_execution_task_invocations()
        .window_execution_id(execution_id)
        .task_id(task.task_execution_id().unwrap())
        .send()
        .await
        .unwrap();
    let mut ran = BTreeSet::new();
    for i in invocations.window_execution_task_invocation_identities() {
        assert_eq!(i.status().map(|s| s.as_str()), Some("SUCCESS"), "{i:?}");
        let command = i.execution_id().unwrap();
        let listed = client
            .list_command_invocations()
            .command_id(command)
            .send()
            .await
            .unwrap();
        for inv in listed.command_invocations() {
            ran.insert(inv.instance_id().unwrap().to_string());
        }
    }
    assert_eq!(
        ran, dev_ids,
        "the group's nodes ran the task, and only they"
    );
}
