//! Automation associations (issue 16): `aws ssm create-association` of a runbook with
//! `--automation-target-parameter-name` runs it at creation as one rate-controlled automation
//! — one child per target node, each running a real command on its node — and the association
//! execution ends with the automation: its targets are the children, its id is the
//! automation's. `StartAssociationsOnce` runs it again; bad requests get clear errors; the
//! runbook's association is not the nodes' own (no instance association status).

use aws_sdk_ssm::types::AutomationExecutionStatus;
use bosun_e2e::automation::{create_runbook, get, LIMIT};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;
use serde_json::{json, Value};

fn runbook(dir: &str) -> Value {
    json!({
        "schemaVersion": "0.3",
        "parameters": {
            "InstanceId": {"type": "String"},
            "Marker": {"type": "String", "allowedValues": ["hello", "again"]}
        },
        "mainSteps": [{"name": "touch", "action": "aws:runCommand", "inputs": {
            "DocumentName": "AWS-RunShellScript", "InstanceIds": ["{{ InstanceId }}"],
            "Parameters": {"commands": [format!("echo {{{{ Marker }}}} >> {dir}/{{{{ InstanceId }}}}")]}}}]
    })
}

/// The association's executions, latest first, once the latest has `n` and ended.
async fn ended(fleet: &Fleet, association: &str, n: usize) -> Vec<Value> {
    wait_for(
        &format!("execution {n} of {association} to end"),
        LIMIT,
        || async {
            let out = fleet
                .server
                .aws(&[
                    "ssm",
                    "describe-association-executions",
                    "--association-id",
                    association,
                ])
                .ok()?;
            let list = out["AssociationExecutions"].as_array()?.clone();
            (list.len() == n && list[0]["Status"] != "Pending" && list[0]["Status"] != "InProgress")
                .then_some(list)
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runbook_association_runs_one_child_per_node_and_ends_with_its_automation() {
    let fleet = Fleet::start(2, 2).await;
    let ids = fleet.ids();
    let c = fleet.client.clone();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_string();
    create_runbook(&c, "Ops-Touch", runbook(&path)).await;
    let server = &fleet.server;

    let targets = format!("Key=InstanceIds,Values={}", ids.join(","));
    let created = server
        .aws(&[
            "ssm",
            "create-association",
            "--name",
            "Ops-Touch",
            "--targets",
            &targets,
            "--automation-target-parameter-name",
            "InstanceId",
            "--parameters",
            "Marker=hello",
            "--max-concurrency",
            "1",
            "--schedule-expression",
            "rate(30 minutes)",
        ])
        .expect("create-association");
    let description = &created["AssociationDescription"];
    assert_eq!(description["AutomationTargetParameterName"], "InstanceId");
    assert!(
        !description.to_string().contains("@runAs"),
        "Bosun's bookkeeping stays out of the answer: {description}"
    );
    let association = description["AssociationId"].as_str().unwrap().to_string();

    // It runs at creation: one automation, one child per node, each node's command run once.
    let executions = ended(&fleet, &association, 1).await;
    assert_eq!(executions[0]["Status"], "Success", "{executions:?}");
    assert_eq!(
        executions[0]["ResourceCountByStatus"], "{Success=2}",
        "{executions:?}"
    );
    let execution = executions[0]["ExecutionId"].as_str().unwrap().to_string();
    let parent = get(&c, &execution).await;
    assert_eq!(
        parent.automation_execution_status(),
        Some(&AutomationExecutionStatus::Success)
    );
    assert_eq!(parent.target_parameter_name(), Some("InstanceId"));
    assert!(parent.executed_by().unwrap().ends_with(":user/admin"));
    for id in &ids {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(id)).unwrap(),
            "hello\n"
        );
    }
    let targets = server
        .aws(&[
            "ssm",
            "describe-association-execution-targets",
            "--association-id",
            &association,
            "--execution-id",
            &execution,
        ])
        .expect("describe-association-execution-targets");
    let rows = targets["AssociationExecutionTargets"].as_array().unwrap();
    let mut nodes: Vec<&str> = rows
        .iter()
        .map(|r| r["ResourceId"].as_str().unwrap())
        .collect();
    nodes.sort();
    let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(nodes, want, "{targets}");
    for r in rows {
        assert_eq!(r["ResourceType"], "ManagedInstance");
        assert_eq!(r["Status"], "Success");
        assert_eq!(r["OutputSource"]["OutputSourceType"], "Automation");
        let child = get(&c, r["OutputSource"]["OutputSourceId"].as_str().unwrap()).await;
        assert_eq!(
            child.parent_automation_execution_id(),
            Some(execution.as_str())
        );
    }

    // Run again on request: a second automation, the same nodes once more.
    server
        .aws(&[
            "ssm",
            "start-associations-once",
            "--association-ids",
            &association,
        ])
        .expect("start-associations-once");
    let executions = ended(&fleet, &association, 2).await;
    assert_eq!(executions[0]["Status"], "Success", "{executions:?}");
    assert_ne!(executions[0]["ExecutionId"], execution.as_str());
    for id in &ids {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(id)).unwrap(),
            "hello\nhello\n"
        );
    }
    // Updated without naming the target parameter again: it keeps it, and the new version runs
    // with the new parameters.
    let updated = server
        .aws(&[
            "ssm",
            "update-association",
            "--association-id",
            &association,
            "--parameters",
            "Marker=again",
            "--schedule-expression",
            "rate(30 minutes)",
        ])
        .expect("update-association");
    assert_eq!(
        updated["AssociationDescription"]["AutomationTargetParameterName"],
        "InstanceId"
    );
    assert_eq!(updated["AssociationDescription"]["AssociationVersion"], "2");
    let executions = ended(&fleet, &association, 3).await;
    assert_eq!(executions[0]["Status"], "Success", "{executions:?}");
    for id in &ids {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(id)).unwrap(),
            "hello\nhello\nagain\n"
        );
    }
    // The runbook's association is not the nodes' own.
    let own = server
        .aws(&[
            "ssm",
            "describe-effective-instance-associations",
            "--instance-id",
            &ids[0],
        ])
        .expect("describe-effective-instance-associations");
    assert_eq!(own["Associations"], json!([]), "{own}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_runbook_associations_are_refused_and_a_failed_child_fails_the_execution() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let c = fleet.client.clone();
    let dir = tempfile::tempdir().unwrap();
    create_runbook(&c, "Ops-Touch", runbook(dir.path().to_str().unwrap())).await;
    let server = &fleet.server;
    let target = format!("Key=InstanceIds,Values={node}");
    let create = |extra: &[&str]| {
        let mut args = vec!["ssm", "create-association", "--targets", target.as_str()];
        args.extend_from_slice(extra);
        server.aws(&args)
    };
    let refused = |extra: &[&str], code: &str, text: &str| {
        let err = create(extra).expect_err("refused");
        assert!(err.contains(code) && err.contains(text), "{err}");
    };
    refused(
        &["--name", "Ops-Touch", "--parameters", "Marker=hello"],
        "InvalidParameters",
        "AutomationTargetParameterName",
    );
    refused(
        &[
            "--name",
            "Ops-Touch",
            "--automation-target-parameter-name",
            "NodeId",
            "--parameters",
            "Marker=hello",
        ],
        "InvalidAutomationExecutionParametersException",
        "NodeId",
    );
    refused(
        &[
            "--name",
            "Ops-Touch",
            "--automation-target-parameter-name",
            "InstanceId",
            "--parameters",
            "Marker=nope",
        ],
        "InvalidAutomationExecutionParametersException",
        "must be one of",
    );
    refused(
        &[
            "--name",
            "AWS-RunShellScript",
            "--automation-target-parameter-name",
            "InstanceId",
            "--parameters",
            "commands=true",
        ],
        "InvalidParameters",
        "Command document",
    );

    // A child whose command fails fails the execution, saying how the automation ended.
    let created = create(&[
        "--name",
        "Ops-Touch",
        "--automation-target-parameter-name",
        "InstanceId",
        "--parameters",
        "Marker=hello",
    ])
    .expect("create-association");
    let association = created["AssociationDescription"]["AssociationId"]
        .as_str()
        .unwrap()
        .to_string();
    let ok = ended(&fleet, &association, 1).await;
    assert_eq!(ok[0]["Status"], "Success", "{ok:?}");
    // The runbook's folder gone, its command fails.
    let path = dir.path().to_path_buf();
    drop(dir);
    assert!(!path.exists());
    server
        .aws(&[
            "ssm",
            "start-associations-once",
            "--association-ids",
            &association,
        ])
        .expect("start-associations-once");
    let failed = ended(&fleet, &association, 2).await;
    assert_eq!(failed[0]["Status"], "Failed", "{failed:?}");
    assert_eq!(failed[0]["DetailedStatus"], "Failed", "{failed:?}");
    let shown = server
        .aws(&[
            "ssm",
            "describe-association",
            "--association-id",
            &association,
        ])
        .expect("describe-association");
    assert_eq!(
        shown["AssociationDescription"]["Overview"]["Status"], "Failed",
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_maps_run_one_child_per_map_and_are_refused_where_they_do_not_apply() {
    let fleet = Fleet::start(2, 2).await;
    let ids = fleet.ids();
    let c = fleet.client.clone();
    let dir = tempfile::tempdir().unwrap();
    create_runbook(&c, "Ops-Touch", runbook(dir.path().to_str().unwrap())).await;
    let server = &fleet.server;
    let maps = json!([
        {"InstanceId": [ids[0]], "Marker": ["hello"]},
        {"InstanceId": [ids[1]], "Marker": ["again"]}
    ])
    .to_string();
    let created = server
        .aws(&[
            "ssm",
            "create-association",
            "--name",
            "Ops-Touch",
            "--target-maps",
            &maps,
        ])
        .expect("create-association");
    let description = &created["AssociationDescription"];
    assert_eq!(description["TargetMaps"].as_array().map(Vec::len), Some(2));
    let association = description["AssociationId"].as_str().unwrap().to_string();
    let executions = ended(&fleet, &association, 1).await;
    assert_eq!(
        executions[0]["Status"],
        "Success",
        "{executions:?} {}",
        server.log()
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(&ids[0])).unwrap(),
        "hello\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(&ids[1])).unwrap(),
        "again\n"
    );
    let execution = executions[0]["ExecutionId"].as_str().unwrap();
    let targets = server
        .aws(&[
            "ssm",
            "describe-association-execution-targets",
            "--association-id",
            &association,
            "--execution-id",
            execution,
        ])
        .expect("describe-association-execution-targets");
    let rows = targets["AssociationExecutionTargets"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{targets}");
    for r in rows {
        assert_eq!(r["ResourceType"], "Automation");
        assert_eq!(r["ResourceId"], r["OutputSource"]["OutputSourceId"]);
    }

    // Where they do not apply: with Targets, on a Command document, with a map the runbook
    // does not take.
    let target = format!("Key=InstanceIds,Values={}", ids[0]);
    for (args, code, text) in [
        (
            vec![
                "--name",
                "Ops-Touch",
                "--target-maps",
                maps.as_str(),
                "--targets",
                target.as_str(),
            ],
            "InvalidTargetMaps",
            "Both Targets and TargetMaps",
        ),
        (
            vec![
                "--name",
                "AWS-RunShellScript",
                "--target-maps",
                r#"[{"commands":["true"]}]"#,
            ],
            "InvalidTargetMaps",
            "Command document",
        ),
        (
            vec![
                "--name",
                "Ops-Touch",
                "--target-maps",
                r#"[{"Nope":["x"]}]"#,
            ],
            "InvalidAutomationExecutionParametersException",
            "Nope",
        ),
    ] {
        let mut all = vec!["ssm", "create-association"];
        all.extend(args);
        let err = server.aws(&all).expect_err("refused");
        assert!(err.contains(code) && err.contains(text), "{err}");
    }
}
