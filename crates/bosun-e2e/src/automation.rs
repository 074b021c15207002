//! Helpers for Automation tests: runbooks created, executions read and waited for.

use std::time::Duration;

use aws_sdk_ssm::types::{
    AutomationExecution, AutomationExecutionFilter, AutomationExecutionFilterKey,
    AutomationExecutionMetadata, AutomationExecutionStatus, DocumentFormat, DocumentType,
};
use aws_sdk_ssm::Client;

use crate::wait_for;

pub const LIMIT: Duration = Duration::from_secs(60);

/// A policy allowing every SSM action.
pub const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"*"}]}"#;

/// Create an Automation document (JSON).
pub async fn create_runbook(client: &Client, name: &str, content: serde_json::Value) {
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

/// `GetAutomationExecution`'s execution.
pub async fn get(client: &Client, id: &str) -> AutomationExecution {
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
pub async fn wait_status(
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

/// A runbook with a command, a branch on its status, a sleep, a property wait and
/// assertion, and a call of DescribeInstanceInformation, for `InstanceId`.
pub fn main_runbook() -> serde_json::Value {
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

/// Start and end times (seconds) of an ended execution.
pub fn span(e: &AutomationExecution) -> (f64, f64) {
    (
        e.execution_start_time().unwrap().as_secs_f64(),
        e.execution_end_time().unwrap().as_secs_f64(),
    )
}

/// The executions whose parent is `parent` (`DescribeAutomationExecutions` by
/// `ParentExecutionId`).
pub async fn children(c: &Client, parent: &str) -> Vec<AutomationExecutionMetadata> {
    c.describe_automation_executions()
        .filters(
            AutomationExecutionFilter::builder()
                .key(AutomationExecutionFilterKey::ParentExecutionId)
                .values(parent)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("DescribeAutomationExecutions")
        .automation_execution_metadata_list()
        .to_vec()
}
