//! Automation's envelopes compared with the examples AWS documents (api-surface.md §5.6).

use super::*;

const EVENT_MS: i64 = 1_480_448_615_000; // 2016-11-29T19:43:35Z

fn origin(id: &str) -> Origin<'_> {
    Origin {
        account: "123456789012",
        region: "us-east-2",
        id,
        now_ms: EVENT_MS,
    }
}

fn facts() -> AutomationFacts<'static> {
    AutomationFacts {
        execution_id: "333ba70b-2333-48db-b17e-a5e69c6f4d1c",
        document_name: "runcommand1",
        document_version: "1",
    }
}

#[test]
fn an_execution_status_change_is_the_documented_event() {
    let event = execution_status_change(
        origin("d290ece9-1088-4383-9df6-cd5b4ac42b99"),
        &facts(),
        "arn:aws:iam::123456789012:user/userName",
        "Success",
        1_480_448_600_000, // 19:43:20
        1_480_448_605_753, // 19:43:25.753 → 5753 ms
    );
    let expected = json!({
        "version": "0",
        "id": "d290ece9-1088-4383-9df6-cd5b4ac42b99",
        "detail-type": "EC2 Automation Execution Status-change Notification",
        "source": "aws.ssm",
        "account": "123456789012",
        "time": "2016-11-29T19:43:35Z",
        "region": "us-east-2",
        "resources": [
            "arn:aws:ssm:us-east-2:123456789012:automation-execution/333ba70b-2333-48db-b17e-a5e69c6f4d1c",
            "arn:aws:ssm:us-east-2:123456789012:automation-definition/runcommand1:1"
        ],
        "detail": {
            "ExecutionId": "333ba70b-2333-48db-b17e-a5e69c6f4d1c",
            "Definition": "runcommand1",
            "DefinitionVersion": 1.0,
            "Status": "Success",
            "StartTime": "Nov 29, 2016 7:43:20 PM",
            "EndTime": "Nov 29, 2016 7:43:25 PM",
            "Time": 5753.0,
            "ExecutedBy": "arn:aws:iam::123456789012:user/userName"
        }
    });
    assert_eq!(event.envelope, expected);
    assert_eq!(event.detail_type, AUTOMATION_EXECUTION_STATUS_CHANGE);
    assert_eq!(event.region, "us-east-2");
    assert_eq!(event.id, "d290ece9-1088-4383-9df6-cd5b4ac42b99");
    // The wire text keeps the numbers floats, as AWS writes them.
    let text = event.envelope.to_string();
    assert!(text.contains("\"DefinitionVersion\":1.0"), "{text}");
    assert!(text.contains("\"Time\":5753.0"), "{text}");
}

#[test]
fn a_step_status_change_is_the_documented_event() {
    let event = step_status_change(
        origin("eeca120b-a321-433e-9635-dab369006a6b"),
        &facts(),
        &StepEnd {
            step_name: "runFixedCmds",
            action: "aws:runCommand",
            status: "Success",
            start_ms: 1_480_448_603_000, // 19:43:23
            end_ms: 1_480_448_605_630,   // 19:43:25.630 → 2630 ms
        },
    );
    let expected = json!({
        "version": "0",
        "id": "eeca120b-a321-433e-9635-dab369006a6b",
        "detail-type": "EC2 Automation Step Status-change Notification",
        "source": "aws.ssm",
        "account": "123456789012",
        "time": "2016-11-29T19:43:35Z",
        "region": "us-east-2",
        "resources": [
            "arn:aws:ssm:us-east-2:123456789012:automation-execution/333ba70b-2333-48db-b17e-a5e69c6f4d1c",
            "arn:aws:ssm:us-east-2:123456789012:automation-definition/runcommand1:1"
        ],
        "detail": {
            "ExecutionId": "333ba70b-2333-48db-b17e-a5e69c6f4d1c",
            "Definition": "runcommand1",
            "DefinitionVersion": 1.0,
            "Status": "Success",
            "EndTime": "Nov 29, 2016 7:43:25 PM",
            "StartTime": "Nov 29, 2016 7:43:23 PM",
            "Time": 2630.0,
            "StepName": "runFixedCmds",
            "Action": "aws:runCommand"
        }
    });
    assert_eq!(event.envelope, expected);
    assert_eq!(event.detail_type, AUTOMATION_STEP_STATUS_CHANGE);
    assert!(event.envelope["detail"].get("ExecutedBy").is_none());
}

#[test]
fn times_are_java_medium_dates_in_utc() {
    assert_eq!(
        automation_time(1_480_448_605_000),
        "Nov 29, 2016 7:43:25 PM"
    );
    // Midnight and noon are 12, single-digit days and hours are not padded.
    assert_eq!(
        automation_time(1_704_067_200_000),
        "Jan 1, 2024 12:00:00 AM"
    );
    assert_eq!(
        automation_time(1_704_110_409_000),
        "Jan 1, 2024 12:00:09 PM"
    );
    assert_eq!(automation_time(1_717_229_045_000), "Jun 1, 2024 8:04:05 AM");
}

#[test]
fn a_version_that_is_not_a_number_is_kept_as_text() {
    let mut f = facts();
    f.document_version = "12";
    let e = execution_status_change(origin("x"), &f, "", "Failed", 0, 0);
    assert_eq!(e.envelope["detail"]["DefinitionVersion"], json!(12.0));
    assert_eq!(e.envelope["detail"]["Time"], json!(0.0));
    assert!(e.envelope["resources"][1]
        .as_str()
        .unwrap()
        .ends_with("automation-definition/runcommand1:12"));
    f.document_version = "v2";
    let e = execution_status_change(origin("x"), &f, "", "Failed", 0, 0);
    assert_eq!(e.envelope["detail"]["DefinitionVersion"], json!("v2"));
}

#[test]
fn only_entering_a_final_status_emits() {
    for status in ["Success", "Failed", "TimedOut", "Cancelled", "Rejected"] {
        assert!(emits_status_change(None, status), "{status}");
        assert!(emits_status_change(Some("InProgress"), status), "{status}");
        assert!(!emits_status_change(Some(status), status), "{status}");
    }
    for status in [
        "Pending",
        "InProgress",
        "Waiting",
        "Cancelling",
        "PendingApproval",
        "Approved",
    ] {
        assert!(!emits_status_change(None, status), "{status}");
        assert!(!emits_status_change(Some("Pending"), status), "{status}");
    }
    assert!(!emits_status_change(None, "NotAStatus"));
}
