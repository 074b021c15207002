//! The `bosun` command as a user runs it: quickstart, then the unchanged AWS CLI and the
//! bosun CLI against it.

use std::process::Stdio;
use std::time::Duration;

use bosun_e2e::{bin, wait_for, TestServer};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::common::clean;

const DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_quickstart_bosun_and_the_aws_cli_need_no_flags() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let data = dir.path().join("bosun-data");
    // Quickstart as the README says: no --data-dir, from the folder the user is in.
    let mut child = clean(&mut Command::new(bin("bosun")), home.path())
        .args(["quickstart", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    while let Some(line) = tokio::time::timeout(DEADLINE, lines.next_line())
        .await
        .unwrap()
        .unwrap()
    {
        printed.push_str(&line);
        printed.push('\n');
        if line.contains("Ctrl-C") {
            break;
        }
    }
    assert!(
        printed.contains("from this folder (no flags needed)"),
        "{printed}"
    );
    assert!(
        printed.contains("  bosun run --all -- uname -a"),
        "{printed}"
    );
    assert!(!printed.contains("--endpoint-url"), "{printed}");
    let aws_line = printed
        .lines()
        .find(|l| l.contains("aws ssm describe-instance-information"))
        .unwrap_or_else(|| panic!("no AWS CLI line in {printed}"));
    assert!(
        aws_line.contains("AWS_CONFIG_FILE=") && aws_line.contains("AWS_SHARED_CREDENTIALS_FILE=")
    );

    // The AWS CLI, unchanged, with only the two variables quickstart printed.
    let aws = || {
        let mut c = Command::new("aws");
        clean(&mut c, home.path())
            .args(["ssm", "describe-instance-information", "--output", "json"])
            .env("AWS_SHARED_CREDENTIALS_FILE", data.join("credentials"))
            .env("AWS_CONFIG_FILE", data.join("config"));
        c
    };
    let out = wait_for(
        "the AWS CLI to list the quickstart node Online",
        DEADLINE,
        || {
            let mut c = aws();
            async move {
                let out = c
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
    let node = out["InstanceInformationList"][0].clone();
    let node_id = node["InstanceId"].as_str().unwrap().to_string();
    assert_eq!(node["Name"], "quickstart");

    // bosun, from that folder, with no flags at all.
    let bosun = |args: &[&str]| {
        let mut c = Command::new(bin("bosun"));
        clean(&mut c, home.path())
            .args(args)
            .current_dir(dir.path());
        c
    };
    let table = bosun(&["nodes"]).output().await.unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.status.success() && text.contains(&node_id) && text.contains("Online"),
        "{text}{}",
        String::from_utf8_lossy(&table.stderr)
    );
    let name_column = text.lines().next().unwrap().find("NAME").unwrap();
    assert_eq!(
        &text.lines().nth(1).unwrap()[name_column..name_column + 10],
        "quickstart"
    );
    let run = bosun(&["run", "--all", "--", "echo", "no flags"])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success() && stdout.contains(&format!("{node_id} | no flags")),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let put = bosun(&["param", "put", "/app/colour", "blue", "--type", "String"])
        .output()
        .await
        .unwrap();
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    let again = bosun(&["param", "put", "/app/colour", "red"])
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        !again.status.success() && err.contains("use --overwrite"),
        "{err}"
    );
    let get = bosun(&["param", "get", "/app/colour"])
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&get.stdout), "blue\n");

    // `bosun env` prints the lines that make the AWS CLI work in a shell with nothing set.
    let script = format!(
        "eval \"$({} env)\" && aws ssm describe-instance-information --output json",
        bin("bosun").display()
    );
    let mut sh = Command::new("sh");
    let out = clean(&mut sh, home.path())
        .args(["-c", &script])
        .current_dir(dir.path())
        .env("AWS_PROFILE", "elsewhere")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains(&node_id),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bosun_run_streams_output_and_the_aws_cli_waiter_works() {
    let fleet = bosun_e2e::fleet::Fleet::start(2, 2).await;
    let ids = fleet.ids();
    let data = fleet.server.data_dir();
    let run = |args: Vec<String>| {
        let data = data.clone();
        let url = fleet.server.url.clone();
        async move {
            Command::new(bin("bosun"))
                .arg("run")
                .args(["--endpoint-url", &url])
                .arg("--data-dir")
                .arg(&data)
                .args(args)
                .output()
                .await
                .unwrap()
        }
    };
    let out = run(vec![
        "--targets".into(),
        "Key=tag:env,Values=test".into(),
        "--".into(),
        "echo hi; echo warn >&2".into(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for id in &ids {
        assert!(stdout.contains(&format!("{id} | hi")), "{stdout}");
        assert!(
            stdout.contains(&format!("{id} (stderr) | warn")),
            "{stdout}"
        );
    }
    let out = run(vec![
        "--instance-ids".into(),
        ids[0].clone(),
        "--".into(),
        "exit 2".into(),
    ])
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed invocation makes bosun run fail"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Failed"));

    // `bosun commands` lists both; `bosun command show` shows one.
    let (ok, listing, _) = fleet.server.cli(&["commands"]).await;
    assert!(ok && listing.lines().count() >= 3, "{listing}");

    // The unchanged AWS CLI: send by tag, wait, read the output.
    let aws = |args: &[&str]| {
        let mut c = Command::new("aws");
        c.args(args)
            .args(["--endpoint-url", &fleet.server.url, "--output", "json"])
            .env("AWS_SHARED_CREDENTIALS_FILE", data.join("credentials"))
            .env("AWS_CONFIG_FILE", data.join("config"))
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION");
        c
    };
    let sent = aws(&[
        "ssm",
        "send-command",
        "--document-name",
        "AWS-RunShellScript",
        "--targets",
        "Key=tag:env,Values=test",
        "--parameters",
        "commands=uname -s",
    ])
    .output()
    .await
    .unwrap();
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&sent.stdout).unwrap();
    let cmd = v["Command"]["CommandId"].as_str().unwrap().to_string();
    let waited = aws(&[
        "ssm",
        "wait",
        "command-executed",
        "--command-id",
        &cmd,
        "--instance-id",
        &ids[1],
    ])
    .output()
    .await
    .unwrap();
    assert!(
        waited.status.success(),
        "{}",
        String::from_utf8_lossy(&waited.stderr)
    );
    let got = aws(&[
        "ssm",
        "get-command-invocation",
        "--command-id",
        &cmd,
        "--instance-id",
        &ids[1],
    ])
    .output()
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(v["Status"], "Success");
    assert_eq!(v["StandardOutputContent"], "Linux\n");
    let (ok, shown, err) = fleet.server.cli(&["command", "show", &cmd]).await;
    assert!(ok && shown.contains("| Linux"), "{shown}{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bosun_doc_manages_documents_and_bosun_run_runs_them() {
    let fleet = bosun_e2e::fleet::Fleet::start(1, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hello.json");
    std::fs::write(
        &file,
        r#"{"schemaVersion":"2.2","description":"hi","parameters":{"who":{"type":"String","default":"world","allowedPattern":"^[a-z]+$"}},
            "mainSteps":[{"action":"aws:runShellScript","name":"hello","inputs":{"runCommand":["echo hello {{ who }}"]}}]}"#,
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let (ok, out, err) = fleet.server.cli(&["doc", "create", "Hello", f]).await;
    assert!(ok && out.contains("created Hello version 1"), "{out}{err}");
    let (ok, out, _) = fleet.server.cli(&["doc", "ls", "--mine"]).await;
    assert!(ok && out.contains("Hello"), "{out}");
    let (ok, out, _) = fleet.server.cli(&["doc", "show", "Hello"]).await;
    assert!(ok && out.contains("echo hello"), "{out}");
    let id = fleet.ids()[0].clone();
    let run = Command::new(bin("bosun"))
        .args(["run", "--endpoint-url", &fleet.server.url])
        .arg("--data-dir")
        .arg(fleet.server.data_dir())
        .args([
            "--instance-ids",
            &id,
            "--document",
            "Hello",
            "--param",
            "who=bosun",
        ])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success() && stdout.contains("hello bosun"),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (ok, out, _) = fleet.server.cli(&["doc", "delete", "Hello"]).await;
    assert!(ok && out.contains("deleted Hello"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bosun_run_returns_when_a_document_ends_early() {
    let fleet = bosun_e2e::fleet::Fleet::start(1, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("early.json");
    std::fs::write(
        &file,
        r#"{"schemaVersion":"2.2","description":"ends early","mainSteps":[
            {"action":"aws:runShellScript","name":"first","inputs":{"runCommand":["echo first","exit 168"]}},
            {"action":"aws:runShellScript","name":"second","inputs":{"runCommand":["echo second"]}}]}"#,
    )
    .unwrap();
    let (ok, out, err) = fleet
        .server
        .cli(&["doc", "create", "EarlyExit", file.to_str().unwrap()])
        .await;
    assert!(ok, "{out}{err}");
    let id = fleet.ids()[0].clone();
    let run = Command::new(bin("bosun"))
        .args(["run", "--endpoint-url", &fleet.server.url])
        .arg("--data-dir")
        .arg(fleet.server.data_dir())
        .args(["--instance-ids", &id, "--document", "EarlyExit"])
        .kill_on_drop(true)
        .output();
    let run = tokio::time::timeout(DEADLINE, run)
        .await
        .expect("bosun run returns once the document has exited early")
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
    );
    assert!(run.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("first") && !stdout.contains("second"),
        "{stdout}{stderr}"
    );
    assert!(stderr.contains("Success"), "{stderr}");
}
