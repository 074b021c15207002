//! Issue 4's "done when", with the unchanged AWS CLI: a seed-003-style custom document
//! (schema 2.2, a typed parameter, `aws:runShellScript`) written in YAML is created with
//! `aws ssm create-document`, updated, made the default, and run on a real agent with
//! `aws ssm send-command --parameters`; a value that fails the parameter's pattern never runs.

use bosun_e2e::fleet::Fleet;

const V1: &str = r#"schemaVersion: "2.2"
description: Linux Process Monitoring
parameters:
  Service:
    type: String
    description: (Required) The process name to look for.
    allowedPattern: "^[a-zA-Z0-9_.-]{1,15}$"
mainSteps:
  - action: aws:runShellScript
    name: checkProcess
    inputs:
      runCommand:
        - if grep -qx "{{ Service }}" /proc/[0-9]*/comm 2>/dev/null; then echo "{{ Service }} is running"; else echo "{{ Service }} is not running"; exit 1; fi
"#;

fn v2() -> String {
    V1.replace("is running\"", "is running (v2)\"")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_creates_updates_and_runs_a_yaml_document() {
    let fleet = Fleet::start(1, 1).await;
    let s = &fleet.server;
    let aws = |args: &[&str]| s.aws(args).unwrap_or_else(|e| panic!("aws {args:?}: {e}"));
    let dir = tempfile::tempdir().unwrap();
    let (f1, f2) = (dir.path().join("v1.yml"), dir.path().join("v2.yml"));
    std::fs::write(&f1, V1).unwrap();
    std::fs::write(&f2, v2()).unwrap();
    let file = |p: &std::path::Path| format!("file://{}", p.display());

    let created = aws(&[
        "ssm",
        "create-document",
        "--name",
        "ProcessMonitor",
        "--document-type",
        "Command",
        "--document-format",
        "YAML",
        "--content",
        &file(&f1),
    ]);
    assert_eq!(created["DocumentDescription"]["DocumentVersion"], "1");
    assert_eq!(
        created["DocumentDescription"]["Parameters"][0]["Name"],
        "Service"
    );
    let updated = aws(&[
        "ssm",
        "update-document",
        "--name",
        "ProcessMonitor",
        "--document-version",
        "$LATEST",
        "--document-format",
        "YAML",
        "--content",
        &file(&f2),
    ]);
    assert_eq!(updated["DocumentDescription"]["DocumentVersion"], "2");
    aws(&[
        "ssm",
        "update-document-default-version",
        "--name",
        "ProcessMonitor",
        "--document-version",
        "2",
    ]);
    let shown = aws(&[
        "ssm",
        "get-document",
        "--name",
        "ProcessMonitor",
        "--document-format",
        "YAML",
    ]);
    assert_eq!(shown["Content"], v2().as_str());

    let id = fleet.ids()[0].clone();
    let sent = aws(&[
        "ssm",
        "send-command",
        "--document-name",
        "ProcessMonitor",
        "--instance-ids",
        &id,
        "--parameters",
        "Service=bosun-agent",
    ]);
    let cmd = sent["Command"]["CommandId"].as_str().unwrap().to_string();
    aws(&[
        "ssm",
        "wait",
        "command-executed",
        "--command-id",
        &cmd,
        "--instance-id",
        &id,
    ]);
    let inv = aws(&[
        "ssm",
        "get-command-invocation",
        "--command-id",
        &cmd,
        "--instance-id",
        &id,
    ]);
    assert_eq!(inv["Status"], "Success", "{inv}");
    assert_eq!(
        inv["StandardOutputContent"],
        "bosun-agent is running (v2)\n"
    );

    // A value outside the pattern is refused before anything reaches a node.
    let err = s
        .aws(&[
            "ssm",
            "send-command",
            "--document-name",
            "ProcessMonitor",
            "--instance-ids",
            &id,
            "--parameters",
            "Service=sshd; rm -rf /",
        ])
        .unwrap_err();
    assert!(err.contains("InvalidParameters"), "{err}");
}
