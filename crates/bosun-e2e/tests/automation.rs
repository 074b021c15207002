//! Automation end to end: runbooks started through the SDK run on the server's runtime against
//! real agents (a real Run Command command, a branch on its status, a sleep, a call of the
//! server's own DescribeInstanceInformation), approvals through SendAutomationSignal, AWS's
//! errors for bad starts, stop, and a server killed mid-runbook resuming without running a
//! step twice.

use std::time::Duration;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{
    AutomationExecution, AutomationExecutionFilter, AutomationExecutionFilterKey,
    AutomationExecutionStatus, DocumentFormat, DocumentType, SignalType, StopType, Target,
};
use aws_sdk_ssm::Client;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;

const LIMIT: Duration = Duration::from_secs(60);

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"*"}]}"#;

async fn create_runbook(client: &Client, name: &str, content: serde_json::Value) {
    client
        .create_document()
        .name(name)
        .content(content.to_string())
        .document_type(DocumentType::Automation)
        .document_format(DocumentFormat::Json)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateDocument {name}: {:?}", e.into_service_error()));
}

async fn get(client: &Client, id: &str) -> AutomationExecution {
    client
        .get_automation_execution()
        .automation_execution_id(id)
        .send()
        .await
        .expect("GetAutomationExecution")
        .automation_execution
        .expect("an execution")
}

/// Wait until execution `id` has status `want`, failing at once if it ends otherwise.
async fn wait_status(
    client: &Client,
    id: &str,
    want: AutomationExecutionStatus,
) -> AutomationExecution {
    wait_for(&format!("{id} {want:?}"), LIMIT, || async {
        let e = get(client, id).await;
        let status = e.automation_execution_status().cloned();
        if status.as_ref() == Some(&want) {
            return Some(e);
        }
        let ended = matches!(
            status,
            Some(
                AutomationExecutionStatus::Success
                    | AutomationExecutionStatus::Failed
                    | AutomationExecutionStatus::Cancelled
                    | AutomationExecutionStatus::Timedout
            )
        );
        assert!(!ended, "{id} ended {status:?}, not {want:?}: {e:#?}");
        None
    })
    .await
}

fn main_runbook() -> serde_json::Value {
    serde_json::json!({
        "schemaVersion": "0.3",
        "description": "Run a command, branch on it, sleep, look at the node.",
        "parameters": {
            "InstanceId": {"type": "String"},
            "Greeting": {"type": "String", "default": "hello"}
        },
        "mainSteps": [
            {
                "name": "run",
                "action": "aws:runCommand",
                "inputs": {
                    "DocumentName": "AWS-RunShellScript",
                    "InstanceIds": ["{{ InstanceId }}"],
                    "Parameters": {"commands": ["echo {{ Greeting }} from {{ automation:EXECUTION_ID }}"]}
                }
            },
            {
                "name": "check",
                "action": "aws:branch",
                "inputs": {
                    "Choices": [{"NextStep": "nap", "Variable": "{{ run.Status }}", "StringEquals": "Success"}],
                    "Default": "never"
                }
            },
            {"name": "never", "action": "aws:pause", "inputs": {}, "isEnd": true},
            {"name": "nap", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}},
            {
                "name": "online",
                "action": "aws:waitForAwsResourceProperty",
                "timeoutSeconds": 30,
                "inputs": {
                    "Service": "ssm",
                    "Api": "DescribeInstanceInformation",
                    "InstanceInformationFilterList": [{"key": "InstanceIds", "valueSet": ["{{ InstanceId }}"]}],
                    "PropertySelector": "$.InstanceInformationList[0].PingStatus",
                    "DesiredValues": ["Online"]
                }
            },
            {
                "name": "assertLinux",
                "action": "aws:assertAwsResourceProperty",
                "inputs": {
                    "Service": "ssm",
                    "Api": "DescribeInstanceInformation",
                    "Filters": [{"Key": "InstanceIds", "Values": ["{{ InstanceId }}"]}],
                    "PropertySelector": "$.InstanceInformationList[0].PlatformType",
                    "DesiredValues": ["Linux"]
                }
            },
            {
                "name": "describe",
                "action": "aws:executeAwsApi",
                "inputs": {
                    "Service": "ssm",
                    "Api": "DescribeInstanceInformation",
                    "Filters": [{"Key": "InstanceIds", "Values": ["{{ InstanceId }}"]}]
                },
                "outputs": [{"Name": "Ping", "Selector": "$.InstanceInformationList[0].PingStatus", "Type": "String"}],
                "isEnd": true
            }
        ],
        "outputs": ["run.Output", "describe.Ping"]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runbook_runs_a_command_branches_sleeps_and_calls_the_api_to_success() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let c = &fleet.client;
    create_runbook(c, "Greet-Runbook", main_runbook()).await;
    let id = c
        .start_automation_execution()
        .document_name("Greet-Runbook")
        .parameters("InstanceId", vec![node.clone()])
        .send()
        .await
        .expect("StartAutomationExecution")
        .automation_execution_id
        .unwrap();
    let e = wait_status(c, &id, AutomationExecutionStatus::Success).await;
    let steps = e.step_executions();
    let names: Vec<_> = steps.iter().map(|s| s.step_name().unwrap()).collect();
    assert_eq!(
        names,
        ["run", "check", "nap", "online", "assertLinux", "describe"],
        "{e:#?}"
    );
    for s in steps {
        assert_eq!(
            s.step_status(),
            Some(&AutomationExecutionStatus::Success),
            "{s:#?}"
        );
    }
    // Inputs are the interpolated values, each as JSON text.
    let run = &steps[0];
    assert_eq!(run.action(), Some("aws:runCommand"));
    let inputs = run.inputs().unwrap();
    assert_eq!(inputs["InstanceIds"], format!("[\"{node}\"]"));
    assert_eq!(
        inputs["Parameters"],
        format!("{{\"commands\":[\"echo hello from {id}\"]}}")
    );
    let outputs = run.outputs().unwrap();
    assert_eq!(outputs["Status"], ["Success"]);
    assert_eq!(outputs["ResponseCode"], ["0"]);
    assert_eq!(outputs["Output"], [format!("hello from {id}\n")]);
    let command_id = outputs["CommandId"][0].clone();
    let inv = fleet.wait_done(&command_id, &node, LIMIT).await;
    assert_eq!(
        inv.standard_output_content(),
        Some(format!("hello from {id}\n").as_str())
    );
    // The sleep lasted its second.
    let nap = &steps[2];
    let slept = nap.execution_end_time().unwrap().as_secs_f64()
        - nap.execution_start_time().unwrap().as_secs_f64();
    assert!(slept >= 1.0, "{nap:#?}");
    assert_eq!(steps[5].outputs().unwrap()["Ping"], ["Online"]);
    // The execution's outputs, parameters (with the default) and counters.
    let out = e.outputs().unwrap();
    assert_eq!(out["run.Output"], [format!("hello from {id}\n")]);
    assert_eq!(out["describe.Ping"], ["Online"]);
    assert_eq!(e.parameters().unwrap()["Greeting"], ["hello"]);
    assert_eq!(
        e.parameters().unwrap()["InstanceId"],
        std::slice::from_ref(&node)
    );
    let counters = e.progress_counters().unwrap();
    assert_eq!((counters.total_steps(), counters.success_steps()), (6, 6));
    assert!(e.executed_by().unwrap().ends_with(":user/admin"), "{e:#?}");

    // Listed with its filters; step executions listed on their own.
    let listed = c
        .describe_automation_executions()
        .filters(
            AutomationExecutionFilter::builder()
                .key(AutomationExecutionFilterKey::DocumentNamePrefix)
                .values("Greet-")
                .build()
                .unwrap(),
        )
        .filters(
            AutomationExecutionFilter::builder()
                .key(AutomationExecutionFilterKey::ExecutionStatus)
                .values("Success")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let list = listed.automation_execution_metadata_list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].automation_execution_id(), Some(id.as_str()));
    let err = c
        .describe_automation_executions()
        .filters(
            AutomationExecutionFilter::builder()
                .key(AutomationExecutionFilterKey::TagKey)
                .values("x")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidFilterKey"));
    let described = c
        .describe_automation_step_executions()
        .automation_execution_id(&id)
        .reverse_order(true)
        .send()
        .await
        .unwrap();
    let names: Vec<_> = described
        .step_executions()
        .iter()
        .map(|s| s.step_name().unwrap())
        .collect();
    assert_eq!(
        names,
        ["describe", "assertLinux", "online", "nap", "check", "run"]
    );

    // A ClientToken retry gets the first execution; the token with another request is refused.
    let token = "3f6c1b4e-2a7d-4c1e-9b0a-5d8e7f6a1c2b";
    let start = |greeting: &'static str| {
        c.start_automation_execution()
            .document_name("Greet-Runbook")
            .client_token(token)
            .parameters("InstanceId", vec![node.clone()])
            .parameters("Greeting", vec![greeting.to_string()])
            .send()
    };
    let first = start("hi").await.unwrap().automation_execution_id.unwrap();
    let again = start("hi").await.unwrap().automation_execution_id.unwrap();
    assert_eq!(first, again);
    let err = start("other").await.unwrap_err();
    assert_eq!(err.code(), Some("IdempotentParameterMismatch"));
    wait_status(c, &first, AutomationExecutionStatus::Success).await;
}

fn approval_runbook() -> serde_json::Value {
    serde_json::json!({
        "schemaVersion": "0.3",
        "mainSteps": [
            {
                "name": "ask",
                "action": "aws:approve",
                "inputs": {"Approvers": ["approver"], "Message": "go?"}
            },
            {"name": "after", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_waits_for_an_approver_and_a_rejection_fails_it() {
    let fleet = Fleet::start(0, 0).await;
    let c = &fleet.client;
    let (approver, _, _) = fleet.server.user_with_policy("approver", ALLOW_ALL).await;
    create_runbook(c, "Ask", approval_runbook()).await;
    let start = || async {
        c.start_automation_execution()
            .document_name("Ask")
            .send()
            .await
            .unwrap()
            .automation_execution_id
            .unwrap()
    };
    let id = start().await;
    let e = wait_status(c, &id, AutomationExecutionStatus::Waiting).await;
    assert_eq!(e.current_step_name(), Some("ask"));
    // Someone not among the approvers cannot approve; a pause signal does not fit either.
    let signal = |client: &Client, id: &str, kind: SignalType| {
        client
            .send_automation_signal()
            .automation_execution_id(id)
            .signal_type(kind)
            .send()
    };
    let err = signal(c, &id, SignalType::Approve).await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidAutomationSignalException"));
    let err = signal(&approver, &id, SignalType::Resume)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidAutomationSignalException"));
    let err = signal(&approver, &id, SignalType::StartStep)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidAutomationSignalException"));
    assert_eq!(
        get(c, &id).await.automation_execution_status(),
        Some(&AutomationExecutionStatus::Waiting)
    );
    signal(&approver, &id, SignalType::Approve).await.unwrap();
    let e = wait_status(c, &id, AutomationExecutionStatus::Success).await;
    let ask = &e.step_executions()[0];
    assert_eq!(ask.outputs().unwrap()["ApprovalStatus"], ["Approved"]);
    assert_eq!(e.step_executions().len(), 2);

    let id = start().await;
    wait_status(c, &id, AutomationExecutionStatus::Waiting).await;
    approver
        .send_automation_signal()
        .automation_execution_id(&id)
        .signal_type(SignalType::Reject)
        .payload("Comment", vec!["not today".into()])
        .send()
        .await
        .unwrap();
    let e = wait_status(c, &id, AutomationExecutionStatus::Failed).await;
    assert_eq!(e.step_executions().len(), 1, "{e:#?}");
    let ask = &e.step_executions()[0];
    assert_eq!(ask.step_status(), Some(&AutomationExecutionStatus::Failed));
    assert_eq!(ask.outputs().unwrap()["ApprovalStatus"], ["Rejected"]);
    assert!(
        e.failure_message()
            .unwrap()
            .contains("rejected by approver"),
        "{e:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_starts_get_aws_errors_and_a_stop_cancels() {
    let fleet = Fleet::start(0, 0).await;
    let c = &fleet.client;
    create_runbook(
        c,
        "Needs-Param",
        serde_json::json!({
            "schemaVersion": "0.3",
            "parameters": {"Count": {"type": "Integer"}},
            "mainSteps": [{"name": "wait", "action": "aws:pause", "inputs": {}}]
        }),
    )
    .await;
    let code = |r: Result<_, aws_sdk_ssm::error::SdkError<_>>| {
        let e: aws_sdk_ssm::error::SdkError<
            aws_sdk_ssm::operation::start_automation_execution::StartAutomationExecutionError,
        > = r.map(|_: aws_sdk_ssm::operation::start_automation_execution::StartAutomationExecutionOutput| ()).unwrap_err();
        e.code().unwrap_or_default().to_string()
    };
    let r = c
        .start_automation_execution()
        .document_name("Nope")
        .send()
        .await;
    assert_eq!(code(r), "AutomationDefinitionNotFoundException");
    let r = c
        .start_automation_execution()
        .document_name("Needs-Param")
        .document_version("7")
        .send()
        .await;
    assert_eq!(code(r), "AutomationDefinitionVersionNotFoundException");
    let r = c
        .start_automation_execution()
        .document_name("Needs-Param")
        .send()
        .await;
    assert_eq!(code(r), "InvalidAutomationExecutionParametersException");
    let r = c
        .start_automation_execution()
        .document_name("Needs-Param")
        .parameters("Count", vec!["many".into()])
        .send()
        .await;
    assert_eq!(code(r), "InvalidAutomationExecutionParametersException");
    let r = c
        .start_automation_execution()
        .document_name("AWS-RunShellScript")
        .send()
        .await;
    assert_eq!(code(r), "AutomationDefinitionNotFoundException");
    // Target maps are not run yet: refused, not ignored; targets need their parameter.
    let r = c
        .start_automation_execution()
        .document_name("Needs-Param")
        .target_maps(std::collections::HashMap::from([(
            "Count".to_string(),
            vec!["1".to_string()],
        )]))
        .send()
        .await;
    assert_eq!(code(r), "ValidationException");
    let r = c
        .start_automation_execution()
        .document_name("Needs-Param")
        .targets(Target::builder().key("ParameterValues").values("1").build())
        .send()
        .await;
    assert_eq!(code(r), "ValidationException");
    let r = c
        .start_automation_execution()
        .document_name("Needs-Param")
        .target_parameter_name("Count")
        .targets(Target::builder().key("ParameterValues").values("x").build())
        .send()
        .await;
    assert_eq!(code(r), "InvalidAutomationExecutionParametersException");
    let r = c
        .start_automation_execution()
        .document_name("Needs-Param")
        .target_parameter_name("Count")
        .targets(Target::builder().key("tag:env").values("nowhere").build())
        .send()
        .await;
    assert_eq!(code(r), "InvalidTarget");
    let r = c
        .start_automation_execution()
        .document_name("Needs-Param")
        .parameters("Count", vec!["1".into()])
        .mode(aws_sdk_ssm::types::ExecutionMode::Interactive)
        .send()
        .await;
    assert_eq!(code(r), "ValidationException");
    // An action that needs AWS's own services is refused at the start.
    let script = serde_json::json!({
        "schemaVersion": "0.3",
        "mainSteps": [{"name": "py", "action": "aws:executeScript",
            "inputs": {"Runtime": "python3.8", "Handler": "h", "Script": "def h(e, c): return 1"}}]
    });
    let created = c
        .create_document()
        .name("Script")
        .content(script.to_string())
        .document_type(DocumentType::Automation)
        .document_format(DocumentFormat::Json)
        .send()
        .await;
    created.expect("schema 0.3 allows aws:executeScript");
    let r = c
        .start_automation_execution()
        .document_name("Script")
        .send()
        .await;
    assert_eq!(code(r), "ValidationException");
    // A property assertion that does not hold fails its step and the execution.
    create_runbook(
        c,
        "Assert-Online",
        serde_json::json!({
            "schemaVersion": "0.3",
            "mainSteps": [{"name": "check", "action": "aws:assertAwsResourceProperty", "inputs": {
                "Service": "ssm", "Api": "DescribeInstanceInformation",
                "PropertySelector": "$.InstanceInformationList[0].PingStatus",
                "DesiredValues": ["Online"]}}]
        }),
    )
    .await;
    let id = c
        .start_automation_execution()
        .document_name("Assert-Online")
        .send()
        .await
        .unwrap()
        .automation_execution_id
        .unwrap();
    let e = wait_status(c, &id, AutomationExecutionStatus::Failed).await;
    let check = &e.step_executions()[0];
    assert!(
        check.failure_message().unwrap().contains("desired values"),
        "{check:#?}"
    );
    let err = c
        .get_automation_execution()
        .automation_execution_id("0f3a2b1c-1111-4222-8333-944455556666")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AutomationExecutionNotFoundException"));

    // A stop cancels a waiting execution; a second stop finds it ended.
    let id = c
        .start_automation_execution()
        .document_name("Needs-Param")
        .parameters("Count", vec!["1".into()])
        .send()
        .await
        .unwrap()
        .automation_execution_id
        .unwrap();
    wait_status(c, &id, AutomationExecutionStatus::Waiting).await;
    c.stop_automation_execution()
        .automation_execution_id(&id)
        .send()
        .await
        .unwrap();
    let e = wait_status(c, &id, AutomationExecutionStatus::Cancelled).await;
    assert_eq!(
        e.step_executions()[0].step_status(),
        Some(&AutomationExecutionStatus::Cancelled)
    );
    let err = c
        .stop_automation_execution()
        .automation_execution_id(&id)
        .r#type(StopType::Cancel)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidAutomationStatusUpdateException"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_runbook_resumes_without_running_a_step_twice() {
    let mut fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runs.log");
    let log = log.to_str().unwrap().to_string();
    let c = fleet.client.clone();
    create_runbook(
        &c,
        "Twice",
        serde_json::json!({
            "schemaVersion": "0.3",
            "parameters": {"InstanceId": {"type": "String"}, "Log": {"type": "String"}},
            "mainSteps": [
                {"name": "first", "action": "aws:runCommand", "inputs": {
                    "DocumentName": "AWS-RunShellScript", "InstanceIds": ["{{ InstanceId }}"],
                    "Parameters": {"commands": ["echo first >> {{ Log }}", "sleep 3"]}}},
                {"name": "nap", "action": "aws:sleep", "inputs": {"Duration": "PT4S"}},
                {"name": "second", "action": "aws:runCommand", "inputs": {
                    "DocumentName": "AWS-RunShellScript", "InstanceIds": ["{{ InstanceId }}"],
                    "Parameters": {"commands": ["echo second >> {{ Log }}"]}}}
            ]
        }),
    )
    .await;
    let id = c
        .start_automation_execution()
        .document_name("Twice")
        .parameters("InstanceId", vec![node.clone()])
        .parameters("Log", vec![log.clone()])
        .send()
        .await
        .unwrap()
        .automation_execution_id
        .unwrap();
    // Kill -9 while the first step's command runs: the resumed step reads that command back.
    wait_for("the first command running", LIMIT, || async {
        let e = get(&c, &id).await;
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        (e.current_step_name() == Some("first") && log == "first\n").then_some(())
    })
    .await;
    fleet.server.restart().await;
    let c = fleet.server.client();
    // And again while the sleep runs (the first command has ended).
    wait_for("the sleep step", LIMIT, || async {
        let e = get(&c, &id).await;
        (e.current_step_name() == Some("nap")).then_some(())
    })
    .await;
    fleet.server.restart().await;
    let c = fleet.server.client();
    let e = wait_status(&c, &id, AutomationExecutionStatus::Success).await;
    let names: Vec<_> = e
        .step_executions()
        .iter()
        .map(|s| s.step_name().unwrap())
        .collect();
    assert_eq!(names, ["first", "nap", "second"]);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "first\nsecond\n");
    // One command per runCommand step, the step's own.
    let commands = c.list_commands().send().await.unwrap();
    assert_eq!(commands.commands().len(), 2, "{commands:#?}");
    let first = &e.step_executions()[0];
    let command_id = &first.outputs().unwrap()["CommandId"][0];
    assert!(commands
        .commands()
        .iter()
        .any(|cmd| cmd.command_id() == Some(command_id.as_str())));
    let nap = &e.step_executions()[1];
    let slept = nap.execution_end_time().unwrap().as_secs_f64()
        - nap.execution_start_time().unwrap().as_secs_f64();
    assert!(slept >= 4.0, "{nap:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runbook_acts_with_its_starters_permissions_only() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let c = &fleet.client;
    create_runbook(c, "Greet-Runbook", main_runbook()).await;
    create_runbook(c, "Secret-Runbook", approval_runbook()).await;
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ssm:SendCommand",
             "Resource": format!("arn:aws:ssm:*:*:managed-instance/{node}")},
            {"Effect": "Deny", "Action": "ssm:StartAutomationExecution",
             "Resource": "arn:aws:ssm:*:*:automation-definition/Secret-*"}
        ]
    });
    let (limited, _, _) = fleet
        .server
        .user_with_policy("limited", &policy.to_string())
        .await;
    let err = limited
        .start_automation_execution()
        .document_name("Secret-Runbook")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    // Its runCommand step is refused on the node as the user's own SendCommand would be.
    let id = limited
        .start_automation_execution()
        .document_name("Greet-Runbook")
        .parameters("InstanceId", vec![node.clone()])
        .send()
        .await
        .unwrap()
        .automation_execution_id
        .unwrap();
    let e = wait_status(&limited, &id, AutomationExecutionStatus::Failed).await;
    let run = &e.step_executions()[0];
    assert_eq!(run.step_status(), Some(&AutomationExecutionStatus::Failed));
    assert!(
        run.failure_message().unwrap().contains("AccessDenied"),
        "{run:#?}"
    );
    assert_eq!(e.step_executions().len(), 1);
    let commands = c.list_commands().send().await.unwrap();
    assert!(commands.commands().is_empty(), "{commands:#?}");
}

/// Start and end times (seconds) of an execution.
fn span(e: &AutomationExecution) -> (f64, f64) {
    (
        e.execution_start_time().unwrap().as_secs_f64(),
        e.execution_end_time().unwrap().as_secs_f64(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_run_one_child_each_with_the_ramp_and_the_error_threshold() {
    let fleet = Fleet::start(2, 2).await;
    let c = &fleet.client;
    create_runbook(
        c,
        "Per-Value",
        serde_json::json!({
            "schemaVersion": "0.3",
            "parameters": {"Value": {"type": "String"}},
            "mainSteps": [
                {"name": "pick", "action": "aws:branch", "inputs": {
                    "Choices": [{"NextStep": "boom", "Variable": "{{ Value }}", "StartsWith": "bad"}],
                    "Default": "nap"}},
                {"name": "nap", "action": "aws:sleep", "inputs": {"Duration": "PT2S"}, "isEnd": true},
                {"name": "boom", "action": "aws:executeAwsApi",
                 "inputs": {"Service": "ssm", "Api": "DeleteParameter", "Name": "x"}, "isEnd": true}
            ]
        }),
    )
    .await;
    let values = ["ok1", "bad1", "ok2", "bad2", "ok3"];
    let parent = c
        .start_automation_execution()
        .document_name("Per-Value")
        .target_parameter_name("Value")
        .targets(
            Target::builder()
                .key("ParameterValues")
                .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
                .build(),
        )
        .max_concurrency("2")
        .max_errors("1")
        .send()
        .await
        .unwrap()
        .automation_execution_id
        .unwrap();
    let p = wait_status(c, &parent, AutomationExecutionStatus::Failed).await;
    assert_eq!(p.target_parameter_name(), Some("Value"));
    assert_eq!(
        (p.max_concurrency(), p.max_errors()),
        (Some("2"), Some("1"))
    );
    assert_eq!(
        p.resolved_targets().unwrap().parameter_values(),
        values.map(String::from)
    );
    assert!(p.failure_message().unwrap().contains("MaxErrors"), "{p:#?}");
    let listed = c
        .describe_automation_executions()
        .filters(
            AutomationExecutionFilter::builder()
                .key(AutomationExecutionFilterKey::ParentExecutionId)
                .values(&parent)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mut children = Vec::new();
    for m in listed.automation_execution_metadata_list() {
        children.push(get(c, m.automation_execution_id().unwrap()).await);
    }
    // Children start in the order of the values (two may start at one instant).
    let position = |e: &AutomationExecution| values.iter().position(|v| Some(*v) == e.target());
    children.sort_by_key(position);
    let targets: Vec<_> = children.iter().map(|e| e.target().unwrap()).collect();
    let debug: Vec<_> = children
        .iter()
        .map(|e| (e.target(), e.automation_execution_status(), span(e)))
        .collect();
    // The second error (bad2) exceeded MaxErrors 1: ok3 never started.
    assert_eq!(targets, ["ok1", "bad1", "ok2", "bad2"], "{debug:?}");
    let statuses: Vec<_> = children
        .iter()
        .map(|e| e.automation_execution_status().unwrap().as_str())
        .collect();
    assert_eq!(statuses, ["Success", "Failed", "Success", "Failed"]);
    for child in &children {
        assert_eq!(
            child.parent_automation_execution_id(),
            Some(parent.as_str())
        );
        assert_eq!(
            child.parameters().unwrap()["Value"],
            [child.target().unwrap()]
        );
    }
    // The ramp: the first child ran alone; never more than MaxConcurrency at once.
    let spans: Vec<_> = children.iter().map(span).collect();
    assert!(
        spans[0].1 <= spans[1].0 && spans[0].1 <= spans[2].0,
        "{spans:?}"
    );
    for (i, (start, _)) in spans.iter().enumerate() {
        let running = spans
            .iter()
            .filter(|(s, e)| s <= start && e > start)
            .count();
        assert!(running <= 2, "{i}: {spans:?}");
    }

    // Nodes by tag: one child per node, each running its command on its own node.
    create_runbook(c, "Greet-Runbook", main_runbook()).await;
    let parent = c
        .start_automation_execution()
        .document_name("Greet-Runbook")
        .target_parameter_name("InstanceId")
        .targets(Target::builder().key("tag:env").values("test").build())
        .max_concurrency("1")
        .send()
        .await
        .unwrap()
        .automation_execution_id
        .unwrap();
    let p = wait_status(c, &parent, AutomationExecutionStatus::Success).await;
    let mut nodes = p.resolved_targets().unwrap().parameter_values().to_vec();
    nodes.sort();
    let mut ids = fleet.ids();
    ids.sort();
    assert_eq!(nodes, ids);
    let listed = c
        .describe_automation_executions()
        .filters(
            AutomationExecutionFilter::builder()
                .key(AutomationExecutionFilterKey::ParentExecutionId)
                .values(&parent)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(listed.automation_execution_metadata_list().len(), 2);
    for m in listed.automation_execution_metadata_list() {
        let child = get(c, m.automation_execution_id().unwrap()).await;
        assert_eq!(
            child.automation_execution_status(),
            Some(&AutomationExecutionStatus::Success)
        );
        let run = &child.step_executions()[0];
        assert_eq!(
            run.inputs().unwrap()["InstanceIds"],
            format!("[\"{}\"]", child.target().unwrap())
        );
        assert_eq!(
            run.outputs().unwrap()["Output"],
            [format!(
                "hello from {}\n",
                child.automation_execution_id().unwrap()
            )]
        );
    }
}
