//! `TargetMaps` on `StartAutomationExecution` end to end: one child execution per map, its
//! parameters the map's over the request's, run on real agents under the parent's
//! MaxConcurrency and MaxErrors; `Targets` with `TargetMaps` refused with botocore's words.

use std::collections::HashMap;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{AutomationExecutionStatus, Target};
use bosun_e2e::automation::{children, create_runbook, get, wait_status};
use bosun_e2e::fleet::Fleet;

fn map(pairs: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_target_map_runs_one_child_with_its_parameters() {
    let fleet = Fleet::start(2, 2).await;
    let ids = fleet.ids();
    let c = &fleet.client;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maps.log");
    let log = log.to_str().unwrap().to_string();
    create_runbook(
        c,
        "Say-Word",
        serde_json::json!({
            "schemaVersion": "0.3",
            "parameters": {
                "InstanceId": {"type": "String"},
                "Word": {"type": "String"},
                "Log": {"type": "String"}
            },
            "mainSteps": [{"name": "say", "action": "aws:runCommand", "inputs": {
                "DocumentName": "AWS-RunShellScript", "InstanceIds": ["{{ InstanceId }}"],
                "Parameters": {"commands": [
                    "if [ {{ Word }} = bad ]; then exit 1; fi",
                    "echo {{ Word }} {{ InstanceId }} >> {{ Log }}"]}}}]
        }),
    )
    .await;
    let start = |maps: Vec<HashMap<String, Vec<String>>>| async {
        c.start_automation_execution()
            .document_name("Say-Word")
            .parameters("Log", vec![log.clone()])
            .set_target_maps(Some(maps))
            .max_concurrency("1")
            .send()
            .await
            .unwrap()
            .automation_execution_id
            .unwrap()
    };
    let id = start(vec![
        map(&[("InstanceId", &ids[0]), ("Word", "alpha")]),
        map(&[("InstanceId", &ids[1]), ("Word", "beta")]),
        map(&[("InstanceId", &ids[0]), ("Word", "gamma")]),
    ])
    .await;
    let e = wait_status(c, &id, AutomationExecutionStatus::Success).await;
    assert_eq!(e.target_maps().len(), 3, "{e:#?}");
    assert_eq!(e.max_concurrency(), Some("1"));
    assert!(
        e.targets().is_empty() && e.target_parameter_name().is_none(),
        "{e:#?}"
    );
    let kids = children(c, &id).await;
    assert_eq!(kids.len(), 3, "{kids:#?}");
    let mut seen = Vec::new();
    for k in &kids {
        let child = get(c, k.automation_execution_id().unwrap()).await;
        let p = child.parameters().unwrap();
        assert_eq!(p["Log"], std::slice::from_ref(&log));
        seen.push(format!("{} {}", p["Word"][0], p["InstanceId"][0]));
        assert_eq!(
            child.automation_execution_status(),
            Some(&AutomationExecutionStatus::Success)
        );
    }
    seen.sort();
    let want = [
        format!("alpha {}", ids[0]),
        format!("beta {}", ids[1]),
        format!("gamma {}", ids[0]),
    ];
    assert_eq!(seen, want);
    // MaxConcurrency 1: one after the other, in the maps' order.
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!("{}\n", want.join("\n"))
    );

    // MaxErrors 0: the failing second map stops the third from starting.
    std::fs::remove_file(&log).unwrap();
    let id = start(vec![
        map(&[("InstanceId", &ids[1]), ("Word", "one")]),
        map(&[("InstanceId", &ids[1]), ("Word", "bad")]),
        map(&[("InstanceId", &ids[1]), ("Word", "three")]),
    ])
    .await;
    let e = wait_status(c, &id, AutomationExecutionStatus::Failed).await;
    assert!(
        e.failure_message()
            .unwrap()
            .contains("1 of 3 target(s) were not started"),
        "{e:#?}"
    );
    assert_eq!(children(c, &id).await.len(), 2);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!("one {}\n", ids[1])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_maps_are_refused_with_targets_or_a_target_parameter() {
    let fleet = Fleet::start(0, 0).await;
    let c = &fleet.client;
    create_runbook(
        c,
        "Nap-Maps",
        serde_json::json!({
            "schemaVersion": "0.3",
            "parameters": {"Name": {"type": "String"}},
            "mainSteps": [{"name": "nap", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}}]
        }),
    )
    .await;
    let err = c
        .start_automation_execution()
        .document_name("Nap-Maps")
        .target_maps(map(&[("Name", "a")]))
        .target_parameter_name("Name")
        .targets(Target::builder().key("ParameterValues").values("b").build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some("InvalidAutomationExecutionParametersException")
    );
    assert_eq!(
        err.message(),
        Some("Both Targets and TargetMaps can't be specified together.")
    );
    let err = c
        .start_automation_execution()
        .document_name("Nap-Maps")
        .target_maps(map(&[("Name", "a")]))
        .target_parameter_name("Name")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    let err = c
        .start_automation_execution()
        .document_name("Nap-Maps")
        .target_maps(map(&[("Other", "a")]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some("InvalidAutomationExecutionParametersException")
    );
    // Nothing was started by the refused requests.
    let all = c.describe_automation_executions().send().await.unwrap();
    assert!(all.automation_execution_metadata_list().is_empty());
}
