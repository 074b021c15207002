//! Automation's EventBridge events reach a rule's target: a rule made with the AWS CLI on
//! `EC2 Automation Execution Status-change Notification` with `Status: Failed` sends, through
//! an SNS topic, the whole event of a runbook whose `aws:branch` matches no choice to a real
//! confirmed http subscriber, with AWS's detail; a runbook that succeeds sends nothing there.
//! A second rule on `EC2 Automation Step Status-change Notification` gets the failed step's.

use aws_sdk_ssm::types::AutomationExecutionStatus;
use bosun_e2e::automation::{create_runbook, wait_status, LIMIT};
use bosun_e2e::subscriber::{confirmed_topic, publish, rule_to_topic, Subscriber};
use bosun_e2e::TestServer;
use serde_json::{json, Value};

/// A runbook with a sleep and a branch on `Pick`: `Pick=go` ends successfully, anything else
/// matches no choice (and there is no `Default`), so the branch and the execution fail.
fn branching_runbook() -> Value {
    json!({
        "schemaVersion": "0.3",
        "description": "Branch on a parameter.",
        "parameters": {"Pick": {"type": "String"}},
        "mainSteps": [
            {"name": "nap", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}},
            {
                "name": "choose",
                "action": "aws:branch",
                "inputs": {
                    "Choices": [{"NextStep": "done", "Variable": "{{ Pick }}", "StringEquals": "go"}]
                }
            },
            {"name": "done", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}, "isEnd": true}
        ]
    })
}

fn notifications(sub: &Subscriber, path: &str) -> Vec<Value> {
    sub.at(path)
        .into_iter()
        .filter(|r| r.header("x-amz-sns-message-type") == Some("Notification"))
        .map(|r| r.json())
        .collect()
}

/// `Nov 29, 2016 7:43:25 PM`: a month, a day, a year, a 12-hour time and AM/PM.
fn is_automation_time(s: &str) -> bool {
    let parts: Vec<&str> = s.split(' ').collect();
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    parts.len() == 5
        && months.contains(&parts[0])
        && parts[1].ends_with(',')
        && parts[2].len() == 4
        && parts[3].split(':').count() == 3
        && ["AM", "PM"].contains(&parts[4])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_runbook_reaches_the_rule_target_and_a_success_does_not() {
    let server = TestServer::start().await;
    let c = server.client();
    let sub = Subscriber::start().await;
    let topic = confirmed_topic(&server, &sub, "automation-alerts", "/alerts", LIMIT).await;

    let pattern = json!({
        "source": ["aws.ssm"],
        "detail-type": ["EC2 Automation Execution Status-change Notification"],
        "detail": {"Status": ["Failed"]}
    });
    rule_to_topic(&server, "automation-failed", &pattern, &topic);

    let steps_topic = confirmed_topic(&server, &sub, "automation-steps", "/steps", LIMIT).await;
    let pattern = json!({
        "source": ["aws.ssm"],
        "detail-type": ["EC2 Automation Step Status-change Notification"],
        "detail": {"Definition": ["Branchy"], "Status": ["Failed"]}
    });
    rule_to_topic(&server, "automation-step-failed", &pattern, &steps_topic);

    create_runbook(&c, "Branchy", branching_runbook()).await;
    let start = |pick: &'static str| {
        let c = c.clone();
        async move {
            c.start_automation_execution()
                .document_name("Branchy")
                .parameters("Pick", vec![pick.to_string()])
                .send()
                .await
                .expect("StartAutomationExecution")
                .automation_execution_id
                .unwrap()
        }
    };
    // The success ends first: its event is in the outbox before the failure's, so had it
    // matched it would be delivered first.
    let ok = start("go").await;
    wait_status(&c, &ok, AutomationExecutionStatus::Success).await;
    let bad = start("stop").await;
    let failed = wait_status(&c, &bad, AutomationExecutionStatus::Failed).await;
    let steps = failed.step_executions();
    assert_eq!(steps.len(), 2, "{failed:#?}");
    assert_eq!(
        steps[1].step_status(),
        Some(&AutomationExecutionStatus::Failed)
    );

    let first = sub.wait("/alerts", "Notification", 1, LIMIT).await.json();
    let event: Value = serde_json::from_str(first["Message"].as_str().unwrap()).unwrap();
    assert_eq!(
        event["detail-type"],
        "EC2 Automation Execution Status-change Notification"
    );
    assert_eq!(event["source"], "aws.ssm");
    assert_eq!(event["account"], "000000000000");
    assert_eq!(event["region"], "us-east-1");
    assert_eq!(
        event["resources"],
        json!([
            format!("arn:aws:ssm:us-east-1:000000000000:automation-execution/{bad}"),
            "arn:aws:ssm:us-east-1:000000000000:automation-definition/Branchy:1"
        ])
    );
    let detail = &event["detail"];
    assert_eq!(detail["ExecutionId"], bad.as_str());
    assert_eq!(detail["Definition"], "Branchy");
    assert_eq!(detail["DefinitionVersion"], json!(1.0));
    assert_eq!(detail["Status"], "Failed");
    assert_eq!(
        detail["ExecutedBy"].as_str(),
        failed.executed_by(),
        "{detail}"
    );
    for key in ["StartTime", "EndTime"] {
        let t = detail[key].as_str().unwrap_or_default();
        assert!(is_automation_time(t), "{key}: {detail}");
    }
    let took = detail["Time"].as_f64().expect("Time is a number");
    let stored_ms = failed.execution_end_time().unwrap().as_secs_f64() * 1000.0
        - failed.execution_start_time().unwrap().as_secs_f64() * 1000.0;
    assert!((took - stored_ms).abs() < 2.0, "{took} vs {stored_ms}");
    let text = first["Message"].as_str().unwrap();
    assert!(text.contains("\"DefinitionVersion\":1.0"), "{text}");
    assert!(detail.get("StepName").is_none(), "{detail}");

    // A marker published after the failure's event: anything else the rule matched (the
    // success, a second event for the failure) would have arrived before it.
    publish(&server, &topic, "marker");
    sub.wait("/alerts", "Notification", 2, LIMIT).await;
    let messages = notifications(&sub, "/alerts");
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[1]["Message"], "marker");

    // The step rule got the branch's failure, and only that (the sleeps succeeded).
    let step = sub.wait("/steps", "Notification", 1, LIMIT).await.json();
    let event: Value = serde_json::from_str(step["Message"].as_str().unwrap()).unwrap();
    assert_eq!(
        event["detail-type"],
        "EC2 Automation Step Status-change Notification"
    );
    let detail = &event["detail"];
    assert_eq!(detail["ExecutionId"], bad.as_str());
    assert_eq!(detail["StepName"], "choose");
    assert_eq!(detail["Action"], "aws:branch");
    assert_eq!(detail["Status"], "Failed");
    assert!(detail.get("ExecutedBy").is_none(), "{detail}");
    assert!(detail["Time"].is_f64(), "{detail}");
    publish(&server, &steps_topic, "marker");
    sub.wait("/steps", "Notification", 2, LIMIT).await;
    let messages = notifications(&sub, "/steps");
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[1]["Message"], "marker");
}
