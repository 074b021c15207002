//! The plugins that are not scripts, end to end on a real agent: `aws:downloadContent` from a
//! real HTTP server started by the test and from a Bosun document, `aws:runDocument` with a
//! Bosun document and with a file on the node, and the built-ins made of them
//! (`AWS-RunRemoteScript`, `AWS-RunDocument`).

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{CommandInvocationStatus, CommandPlugin, DocumentFormat};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::web::{Route, WebServer};
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(30);

const TOOL: &str = "#!/bin/sh\necho \"tool says $1\"\n";

/// A fleet of one agent whose downloads are capped at 1 MiB.
async fn fleet() -> Fleet {
    let mut fleet = Fleet::start(1, 0).await;
    fleet.agents[0].configure(r#"{"Agent": {"MaxDownloadMegabytes": 1}}"#);
    fleet.agents[0].start();
    let id = fleet.agents[0].instance_id.clone();
    fleet.wait_online(&id).await;
    fleet
}

async fn web() -> WebServer {
    let route = |body: &[u8], auth: Option<&str>| Route {
        body: body.to_vec(),
        authorization: auth.map(str::to_string),
    };
    WebServer::start(HashMap::from([
        ("/bin/tool.sh".to_string(), route(TOOL.as_bytes(), None)),
        ("/big.bin".to_string(), route(&vec![b'x'; 2 << 20], None)),
        // "Basic " + base64("ops:s3cret")
        (
            "/private/tool.sh".to_string(),
            route(TOOL.as_bytes(), Some("Basic b3BzOnMzY3JldA==")),
        ),
    ]))
    .await
}

async fn create(fleet: &Fleet, name: &str, content: serde_json::Value) {
    fleet
        .client
        .create_document()
        .name(name)
        .content(content.to_string())
        .document_format(DocumentFormat::Json)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateDocument {name}: {e:?}"));
}

async fn send(
    fleet: &Fleet,
    doc: &str,
    params: &[(&str, String)],
) -> Result<
    String,
    aws_sdk_ssm::error::SdkError<aws_sdk_ssm::operation::send_command::SendCommandError>,
> {
    let mut req = fleet
        .client
        .send_command()
        .document_name(doc)
        .instance_ids(fleet.ids()[0].clone());
    for (k, v) in params {
        req = req.parameters(*k, vec![v.clone()]);
    }
    Ok(req.send().await?.command.unwrap().command_id.unwrap())
}

/// Run a document to the end; returns the invocation status and its steps.
async fn run(
    fleet: &Fleet,
    doc: &str,
    params: &[(&str, String)],
) -> (CommandInvocationStatus, Vec<CommandPlugin>) {
    let id = fleet.ids()[0].clone();
    let cmd = send(fleet, doc, params).await.expect("SendCommand");
    fleet.wait_done(&cmd, &id, LIMIT).await;
    let list = fleet
        .client
        .list_command_invocations()
        .command_id(&cmd)
        .details(true)
        .send()
        .await
        .unwrap();
    let inv = &list.command_invocations()[0];
    (
        inv.status().unwrap().clone(),
        inv.command_plugins().to_vec(),
    )
}

fn output(p: &CommandPlugin) -> &str {
    p.output().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_content_over_http_then_a_script_uses_the_file() {
    let fleet = fleet().await;
    let web = web().await;
    create(
        &fleet,
        "FetchAndRun",
        json!({
            "schemaVersion": "2.2",
            "parameters": {"url": {"type": "String"}, "user": {"type": "String", "default": ""},
                           "password": {"type": "String", "default": ""},
                           "auth": {"type": "String", "default": "None"}},
            "mainSteps": [
                {"action": "aws:downloadContent", "name": "fetch", "inputs": {
                    "sourceType": "HTTP",
                    "sourceInfo": {"url": "{{ url }}", "allowInsecureDownload": "true",
                                   "authMethod": "{{ auth }}", "username": "{{ user }}", "password": "{{ password }}"},
                    "destinationPath": "tools",
                    "onFailure": "exit"}},
                {"action": "aws:runShellScript", "name": "use", "inputs": {
                    "runCommand": ["./tools/tool.sh hello", "basename \"$(pwd)\"", "stat -c %a tools/tool.sh"]}}
            ]
        }),
    )
    .await;

    let url = format!("{}/bin/tool.sh", web.url);
    let (status, steps) = run(&fleet, "FetchAndRun", &[("url", url.clone())]).await;
    assert_eq!(status, CommandInvocationStatus::Success, "{steps:?}");
    assert!(
        output(&steps[0]).contains(&format!("Downloaded {url} to "))
            && output(&steps[0])
                .contains(&format!("@downloads/tools/tool.sh ({} bytes)", TOOL.len())),
        "{steps:?}"
    );
    assert_eq!(output(&steps[1]), "tool says hello\n@downloads\n700\n");
    let saved = std::fs::read_dir(fleet.agents[0].orchestration_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path().join("@downloads/tools/tool.sh"))
        .find(|p| p.exists())
        .expect("the file is in the command's download folder");
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), TOOL);
    assert_eq!(
        std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777,
        0o700
    );

    // HTTP Basic credentials: refused without them, accepted with them.
    let private = format!("{}/private/tool.sh", web.url);
    let (status, steps) = run(&fleet, "FetchAndRun", &[("url", private.clone())]).await;
    assert_eq!(status, CommandInvocationStatus::Failed);
    assert!(output(&steps[0]).contains("401"), "{steps:?}");
    // The step after it was skipped (onFailure: exit): reported as the AWS agent reports a
    // skipped step, Success with code 0 and a message saying why, never left Pending.
    assert_eq!(steps[1].status().map(|s| s.as_str()), Some("Success"));
    assert_eq!(steps[1].response_code(), 0);
    assert!(output(&steps[1]).contains("was skipped"), "{steps:?}");
    let creds = [
        ("url", private),
        ("auth", "Basic".to_string()),
        ("user", "ops".to_string()),
        ("password", "s3cret".to_string()),
    ];
    let (status, steps) = run(&fleet, "FetchAndRun", &creds).await;
    assert_eq!(status, CommandInvocationStatus::Success, "{steps:?}");
    assert!(output(&steps[1]).starts_with("tool says hello\n"));

    // Too large for Agent.MaxDownloadMegabytes (1 MiB here): fails and leaves no file behind.
    let (status, steps) = run(
        &fleet,
        "FetchAndRun",
        &[("url", format!("{}/big.bin", web.url))],
    )
    .await;
    assert_eq!(status, CommandInvocationStatus::Failed);
    assert!(
        output(&steps[0]).contains("larger than the download limit of 1 MiB"),
        "{steps:?}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(fleet.agents[0].orchestration_dir())
        .unwrap()
        .flatten()
        .flat_map(|e| {
            std::fs::read_dir(e.path().join("@downloads/tools"))
                .into_iter()
                .flatten()
        })
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n != "tool.sh")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A missing file fails the step and names the answer.
    let (status, steps) = run(
        &fleet,
        "FetchAndRun",
        &[("url", format!("{}/nope", web.url))],
    )
    .await;
    assert_eq!(status, CommandInvocationStatus::Failed);
    assert!(output(&steps[0]).contains("404"), "{steps:?}");
    assert!(web.served() >= 5);

    // Refused before anything is sent: plain http without the opt-in, a destination that
    // leaves the command's folder.
    for (name, info, dest) in [
        ("Plain", json!({"url": url}), ""),
        (
            "Escape",
            json!({"url": url, "allowInsecureDownload": "true"}),
            "../../etc",
        ),
    ] {
        create(
            &fleet,
            name,
            json!({"schemaVersion": "2.2", "mainSteps": [{"action": "aws:downloadContent", "name": "fetch",
                "inputs": {"sourceType": "HTTP", "sourceInfo": info, "destinationPath": dest}}]}),
        )
        .await;
        let err = send(&fleet, name, &[]).await.unwrap_err();
        assert_eq!(err.code(), Some("InvalidDocument"), "{name}: {err:?}");
    }

    // The built-in AWS-RunRemoteScript: download into a folder, run the command line there.
    let info = json!({"url": url, "allowInsecureDownload": "true"}).to_string();
    let (status, steps) = run(
        &fleet,
        "AWS-RunRemoteScript",
        &[
            ("sourceType", "HTTP".to_string()),
            ("sourceInfo", info),
            ("commandLine", "tool.sh remote".to_string()),
            ("workingDirectory", "remote".to_string()),
        ],
    )
    .await;
    assert_eq!(status, CommandInvocationStatus::Success, "{steps:?}");
    assert_eq!(output(&steps[1]), "tool says remote\n");
}

fn inner_doc() -> serde_json::Value {
    json!({
        "schemaVersion": "2.2",
        "parameters": {"who": {"type": "String", "default": "nobody", "allowedPattern": "^[a-z]+$"},
                       "code": {"type": "String", "default": "0"}},
        "mainSteps": [
            {"action": "aws:runShellScript", "name": "greet",
             "inputs": {"runCommand": ["echo \"inner says {{ who }}\"", "exit {{ code }}"]}},
            {"action": "aws:runShellScript", "name": "after",
             "inputs": {"runCommand": ["echo after"]}}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_document_runs_bosun_documents_and_files_on_the_node() {
    let fleet = fleet().await;
    create(&fleet, "Inner", inner_doc()).await;
    create(
        &fleet,
        "Outer",
        json!({
            "schemaVersion": "2.2",
            "mainSteps": [
                {"action": "aws:runDocument", "name": "nested", "inputs": {
                    "documentType": "SSMDocument", "documentPath": "Inner",
                    "documentParameters": {"who": "outer"}}},
                {"action": "aws:downloadContent", "name": "save", "inputs": {
                    "sourceType": "SSMDocument", "sourceInfo": {"name": "Inner:1"}, "destinationPath": "docs"}},
                {"action": "aws:runDocument", "name": "local", "inputs": {
                    "documentType": "LocalPath", "documentPath": "docs/Inner.json",
                    "documentParameters": "{\"who\": \"local\", \"code\": \"3\"}"}}
            ]
        }),
    )
    .await;
    let (status, steps) = run(&fleet, "Outer", &[]).await;
    assert_eq!(status, CommandInvocationStatus::Failed, "{steps:?}");
    assert_eq!(steps[0].status().map(|s| s.as_str()), Some("Success"));
    assert_eq!(output(&steps[0]), "inner says outer\nafter\n");
    assert!(
        output(&steps[1]).contains("Downloaded document Inner (version 1)"),
        "{steps:?}"
    );
    // The local copy ran with its own parameters; its failing step fails this step with its
    // exit code, and the nested steps after it still ran (no onFailure).
    assert_eq!(steps[2].status().map(|s| s.as_str()), Some("Failed"));
    assert_eq!(steps[2].response_code(), 3);
    assert!(
        output(&steps[2]).starts_with("inner says local\nafter\n"),
        "{steps:?}"
    );

    // Parameters of the nested document are checked when the command is sent.
    create(
        &fleet,
        "BadParams",
        json!({"schemaVersion": "2.2", "mainSteps": [{"action": "aws:runDocument", "name": "n",
            "inputs": {"documentType": "SSMDocument", "documentPath": "Inner",
                       "documentParameters": {"who": "Not Allowed; rm -rf /"}}}]}),
    )
    .await;
    let err = send(&fleet, "BadParams", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameters"), "{err:?}");
    // A document that runs itself stops at the nesting limit.
    create(
        &fleet,
        "Loop",
        json!({"schemaVersion": "2.2", "mainSteps": [{"action": "aws:runDocument", "name": "again",
            "inputs": {"documentType": "SSMDocument", "documentPath": "Loop"}}]}),
    )
    .await;
    let err = send(&fleet, "Loop", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidDocument"));
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("at most 3 levels"),
        "{err:?}"
    );
    // Within the depth limit, a document may still not multiply into unbounded work: 11 steps
    // each running 11 steps each running 11 steps is over the per-command step budget (the
    // leaf steps are for Windows, so the accepted command skips them here).
    let runs = |name: &str| -> serde_json::Value {
        let steps: Vec<_> = (0..11)
            .map(|i| {
                json!({"action": "aws:runDocument", "name": format!("r{i}"),
                "inputs": {"documentType": "SSMDocument", "documentPath": name}})
            })
            .collect();
        json!({"schemaVersion": "2.2", "mainSteps": steps})
    };
    let leaf: Vec<_> = (0..11)
        .map(|i| {
            json!({"action": "aws:runShellScript", "name": format!("s{i}"),
            "precondition": {"StringEquals": ["platformType", "Windows"]},
            "inputs": {"runCommand": ["true"]}})
        })
        .collect();
    create(
        &fleet,
        "Wide3",
        json!({"schemaVersion": "2.2", "mainSteps": leaf}),
    )
    .await;
    create(&fleet, "Wide2", runs("Wide3")).await;
    create(&fleet, "Wide1", runs("Wide2")).await;
    send(&fleet, "Wide2", &[])
        .await
        .expect("121 nested steps are within the budget");
    let err = send(&fleet, "Wide1", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidDocument"), "{err:?}");
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("exceed 1000 nested steps"),
        "{err:?}"
    );
    let err = send(
        &fleet,
        "AWS-RunDocument",
        &[
            ("sourceType", "SSMDocument".into()),
            ("sourceInfo", json!({"name": "Missing"}).to_string()),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Some("InvalidDocument"), "{err:?}");

    // The built-in AWS-RunDocument: fetch a Bosun document and run it with parameters.
    let (status, steps) = run(
        &fleet,
        "AWS-RunDocument",
        &[
            ("sourceType", "SSMDocument".into()),
            ("sourceInfo", json!({"name": "Inner"}).to_string()),
            ("documentParameters", json!({"who": "builtin"}).to_string()),
        ],
    )
    .await;
    assert_eq!(status, CommandInvocationStatus::Success, "{steps:?}");
    assert_eq!(output(&steps[1]), "inner says builtin\nafter\n");
}
