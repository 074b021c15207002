//! The `bosun` command as a user runs it: quickstart, then the unchanged AWS CLI and the
//! bosun CLI against it.

use std::process::Stdio;
use std::time::Duration;

use bosun_e2e::{bin, wait_for, TestServer};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_brings_a_node_online_for_the_aws_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bosun-data");
    let mut child = Command::new(bin("bosun"))
        .args(["quickstart", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(&data)
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    let mut printed = String::new();
    while let Some(line) = tokio::time::timeout(DEADLINE, lines.next_line())
        .await
        .unwrap()
        .unwrap()
    {
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.strip_prefix("Bosun is running at ") {
            url = rest.split_whitespace().next().map(str::to_string);
        }
        if line.contains("Ctrl-C") {
            break;
        }
    }
    let url = url.unwrap_or_else(|| panic!("no URL in {printed}"));
    assert!(
        printed.contains("aws ssm describe-instance-information --endpoint-url"),
        "{printed}"
    );

    // The AWS CLI, unchanged, exactly as quickstart told us.
    let out = wait_for(
        "the AWS CLI to list the quickstart node Online",
        DEADLINE,
        || {
            let (url, data) = (url.clone(), data.clone());
            async move {
                let out = Command::new("aws")
                    .args([
                        "ssm",
                        "describe-instance-information",
                        "--endpoint-url",
                        &url,
                        "--output",
                        "json",
                    ])
                    .env("AWS_SHARED_CREDENTIALS_FILE", data.join("credentials"))
                    .env("AWS_CONFIG_FILE", data.join("config"))
                    .env_remove("AWS_ACCESS_KEY_ID")
                    .env_remove("AWS_SECRET_ACCESS_KEY")
                    .env_remove("AWS_PROFILE")
                    .env_remove("AWS_REGION")
                    .env_remove("AWS_DEFAULT_REGION")
                    .output()
                    .await
                    .expect("the AWS CLI (`pip install awscli`) must be on PATH");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                let online = v["InstanceInformationList"]
                    .as_array()
                    .is_some_and(|l| l.len() == 1 && l[0]["PingStatus"] == "Online");
                online.then_some(v)
            }
        },
    )
    .await;
    let node = &out["InstanceInformationList"][0];
    assert!(node["InstanceId"].as_str().unwrap().starts_with("mi-"));
    assert_eq!(node["Name"], "quickstart");

    // `bosun nodes` shows the same node.
    let table = Command::new(bin("bosun"))
        .args(["nodes", "--endpoint-url", &url])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.status.success()
            && text.contains(node["InstanceId"].as_str().unwrap())
            && text.contains("Online"),
        "{text}"
    );
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_create_prints_a_working_register_command() {
    let server = TestServer::start().await;
    let (ok, out, err) = server
        .cli(&["activation", "create", "--limit", "1", "--tag", "env=dev"])
        .await;
    assert!(ok, "{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("Register a node:"))
        .expect("register line");
    let words: Vec<&str> = line.split_whitespace().collect();
    let arg = |flag: &str| words[words.iter().position(|w| *w == flag).unwrap() + 1].to_string();
    let agent = bosun_e2e::agent::register(&server.url, &arg("--id"), &arg("--code"), None, &[])
        .await
        .expect("registers with the printed id and code");
    let tags = server
        .client()
        .list_tags_for_resource()
        .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::ManagedInstance)
        .resource_id(&agent.instance_id)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_list().len(), 1);
    assert_eq!(tags.tag_list()[0].key(), "env");
}
