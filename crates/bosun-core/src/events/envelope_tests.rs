//! The envelopes compared with the examples AWS documents (api-surface.md §5.2, §5.5).

use super::*;

const REQUESTED_MS: i64 = 1_468_187_490_049; // 2016-07-10T21:51:30.049Z
const EXPIRES_MS: i64 = 1_468_533_690_049; // 2016-07-14T22:01:30.049Z
const EVENT_MS: i64 = 1_468_187_492_321; // 2016-07-10T21:51:32.321Z

fn origin(id: &str) -> Origin<'_> {
    Origin {
        account: "123456789012",
        region: "us-east-2",
        id,
        now_ms: EVENT_MS,
    }
}

fn parameters() -> Value {
    json!({"executionTimeout": ["3600"], "commands": ["date"]})
}

fn command() -> CommandFacts<'static> {
    static PARAMETERS: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    CommandFacts {
        command_id: "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b",
        document_name: "AWS-RunPowerShellScript",
        requested_ms: REQUESTED_MS,
        expires_ms: EXPIRES_MS,
        parameters: PARAMETERS.get_or_init(parameters),
    }
}

#[test]
fn a_command_status_change_is_the_documented_event() {
    let event = command_status_change(
        origin("51c0891d-0e34-45b1-83d6-95db273d1602"),
        &command(),
        &["i-abcd1111"],
        "Success",
    );
    let recorded: Value = serde_json::from_str(
        r#"{
          "version": "0",
          "id": "51c0891d-0e34-45b1-83d6-95db273d1602",
          "detail-type": "EC2 Command Status-change Notification",
          "source": "aws.ssm",
          "account": "123456789012",
          "time": "2016-07-10T21:51:32Z",
          "region": "us-east-2",
          "resources": ["arn:aws:ec2:us-east-2:123456789012:instance/i-abcd1111"],
          "detail": {
            "command-id": "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b",
            "document-name": "AWS-RunPowerShellScript",
            "expire-after": "2016-07-14T22:01:30.049Z",
            "parameters": {"executionTimeout": ["3600"], "commands": ["date"]},
            "requested-date-time": "2016-07-10T21:51:30.049Z",
            "status": "Success"
          }
        }"#,
    )
    .unwrap();
    assert_eq!(event.envelope, recorded);
    assert_eq!(event.detail_type, COMMAND_STATUS_CHANGE);
    assert_eq!(event.region, "us-east-2");
    assert_eq!(event.id, "51c0891d-0e34-45b1-83d6-95db273d1602");
}

#[test]
fn an_invocation_status_change_is_the_documented_event() {
    // AWS's example names i-abcd1111 in `resources` and i-9bb89e2b in `instance-id`; one
    // invocation has one node, so here both are i-9bb89e2b.
    let event = invocation_status_change(
        origin("4780e1b8-f56b-4de5-95f2-95db273d1602"),
        &command(),
        "i-9bb89e2b",
        "Success",
    );
    let recorded: Value = serde_json::from_str(
        r#"{
          "version": "0",
          "id": "4780e1b8-f56b-4de5-95f2-95db273d1602",
          "detail-type": "EC2 Command Invocation Status-change Notification",
          "source": "aws.ssm",
          "account": "123456789012",
          "time": "2016-07-10T21:51:32Z",
          "region": "us-east-2",
          "resources": ["arn:aws:ec2:us-east-2:123456789012:instance/i-9bb89e2b"],
          "detail": {
            "command-id": "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b",
            "document-name": "AWS-RunPowerShellScript",
            "instance-id": "i-9bb89e2b",
            "requested-date-time": "2016-07-10T21:51:30.049Z",
            "status": "Success"
          }
        }"#,
    )
    .unwrap();
    assert_eq!(event.envelope, recorded);
}

#[test]
fn hybrid_nodes_are_named_by_their_managed_instance_arn() {
    assert_eq!(
        node_arn("us-east-2", "123456789012", "mi-0123456789abcdef0"),
        "arn:aws:ssm:us-east-2:123456789012:managed-instance/mi-0123456789abcdef0"
    );
    let event = invocation_status_change(origin("x"), &command(), "mi-0123456789abcdef0", "Failed");
    assert_eq!(
        event.envelope["resources"],
        json!(["arn:aws:ssm:us-east-2:123456789012:managed-instance/mi-0123456789abcdef0"])
    );
}

#[test]
fn a_parameter_change_is_the_documented_event() {
    let event = parameter_change(
        Origin {
            now_ms: 1_495_471_428_000,
            ..origin("6a7e4feb-b491-4cf7-a9f1-bf3703497718")
        },
        ParameterOperation::Create,
        "MyExampleParameter",
        "String",
        "Sample Parameter",
    );
    let recorded: Value = serde_json::from_str(
        r#"{
          "version": "0",
          "id": "6a7e4feb-b491-4cf7-a9f1-bf3703497718",
          "detail-type": "Parameter Store Change",
          "source": "aws.ssm",
          "account": "123456789012",
          "time": "2017-05-22T16:43:48Z",
          "region": "us-east-2",
          "resources": ["arn:aws:ssm:us-east-2:123456789012:parameter/MyExampleParameter"],
          "detail": {
            "operation": "Create",
            "name": "MyExampleParameter",
            "type": "String",
            "description": "Sample Parameter"
          }
        }"#,
    )
    .unwrap();
    assert_eq!(event.envelope, recorded);
}

#[test]
fn a_hierarchical_parameter_keeps_its_slash_in_the_name_not_in_the_arn() {
    let event = parameter_change(
        origin("x"),
        ParameterOperation::Delete,
        "/app/db",
        "SecureString",
        "",
    );
    assert_eq!(
        event.envelope["resources"],
        json!(["arn:aws:ssm:us-east-2:123456789012:parameter/app/db"])
    );
    assert_eq!(
        event.envelope["detail"],
        json!({"operation": "Delete", "name": "/app/db", "type": "SecureString"})
    );
}

#[test]
fn times_are_utc_seconds_in_the_envelope_and_milliseconds_in_the_detail() {
    assert_eq!(envelope_time(EVENT_MS), "2016-07-10T21:51:32Z");
    assert_eq!(detail_time(EVENT_MS), "2016-07-10T21:51:32.321Z");
    assert_eq!(detail_time(1_468_187_492_000), "2016-07-10T21:51:32.000Z");
}

#[test]
fn only_a_changed_status_is_a_transition() {
    assert!(is_status_transition(None, "Pending"));
    assert!(is_status_transition(Some("Pending"), "InProgress"));
    assert!(!is_status_transition(Some("InProgress"), "InProgress"));
}

#[test]
fn a_failed_image_validation_is_a_change_event_with_its_exception() {
    let event = parameter_validation_failed(
        origin("e"),
        ParameterOperation::Create,
        "golden-ami",
        "String",
        "aws:ec2:image",
        "Unable to Describe Images",
    );
    assert_eq!(event.detail_type, "Parameter Store Change");
    assert_eq!(
        event.envelope["detail"],
        json!({
            "operation": "Create",
            "name": "golden-ami",
            "type": "String",
            "dataType": "aws:ec2:image",
            "exception": "Unable to Describe Images"
        })
    );
    assert_eq!(
        event.envelope["resources"],
        json!(["arn:aws:ssm:us-east-2:123456789012:parameter/golden-ami"])
    );
}
