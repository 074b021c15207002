//! Automation end to end: runbooks started through the SDK run on the server's runtime against
//! real agents (a real Run Command command, a branch on its status, a sleep, property waits and
//! a call of the server's own DescribeInstanceInformation), approvals through
//! SendAutomationSignal, AWS's errors for bad starts, stop with a cancel flow, and the
//! starter's permissions. Fleets and crashes: `automation_fleet.rs`.

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{
    AutomationExecutionFilter, AutomationExecutionFilterKey, AutomationExecutionStatus,
    DocumentFormat, DocumentType, SignalType, StopType, Target,
};
use aws_sdk_ssm::Client;
use bosun_e2e::automation::{create_runbook, get, main_runbook, wait_status, ALLOW_ALL, LIMIT};
use bosun_e2e::fleet::Fleet;

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
    // Each target map's parameters are checked at the start; targets need their parameter.
    let r = c
        .start_automation_execution()
        .document_name("Needs-Param")
        .target_maps(std::collections::HashMap::from([(
            "Count".to_string(),
            vec!["many".to_string()],
        )]))
        .send()
        .await;
    assert_eq!(code(r), "InvalidAutomationExecutionParametersException");
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
        .target_parameter_name("Count")
        .targets(Target::builder().key("ParameterValues").values("1").build())
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

    // A step's onCancel runs its cancel flow, after which the execution is Cancelled.
    create_runbook(
        c,
        "Cancel-Flow",
        serde_json::json!({
            "schemaVersion": "0.3",
            "mainSteps": [
                {"name": "wait", "action": "aws:pause", "inputs": {}, "onCancel": "step:cleanup"},
                {"name": "never", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}, "isEnd": true},
                {"name": "cleanup", "action": "aws:executeAwsApi", "isEnd": true,
                 "inputs": {"Service": "ssm", "Api": "DescribeInstanceInformation"}}
            ]
        }),
    )
    .await;
    let id = c
        .start_automation_execution()
        .document_name("Cancel-Flow")
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
    let steps: Vec<_> = e
        .step_executions()
        .iter()
        .map(|s| (s.step_name().unwrap(), s.step_status().unwrap().as_str()))
        .collect();
    assert_eq!(steps, [("wait", "Cancelled"), ("cleanup", "Success")]);
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
