//! Tests of State Manager's event envelopes.

use super::*;

const ORIGIN: Origin<'static> = Origin {
    account: "123456789012",
    region: "us-east-2",
    id: "db839caf-6f6c-40af-9a48-25b2ae2b7774",
    now_ms: 1_494_975_670_000,
};

fn facts<'a>(targets: Option<&'a Value>) -> AssociationFacts<'a> {
    AssociationFacts {
        association_id: "6e37940a-23ba-4ab0-9b96-5d0a1a05464f",
        document_name: "AWS-RunPowerShellScript",
        document_version: "",
        targets,
        instance_id: "",
        created_ms: 1_487_006_574_458,
        last_execution_ms: Some(1_494_975_601_000),
        last_successful_execution_ms: Some(1_494_975_601_000),
    }
}

#[test]
fn association_state_change_has_awss_fields_and_quirks() {
    let targets = json!([{"Key": "InstanceIds", "Values": ["i-12345678"]}]);
    let counts = json!({"Success": 1});
    let head = AssociationHead {
        facts: facts(Some(&targets)),
        association_version: 1,
        updated_ms: 1_487_006_574_458,
        status: "Success",
        aggregated_count: &counts,
        schedule_expression: "cron(0 */30 * * * ? *)",
    };
    let event = association_state_change(ORIGIN, &head);
    assert_eq!(event.detail_type, ASSOCIATION_STATE_CHANGE);
    assert_eq!(
        event.envelope,
        json!({
            "version": "0", "id": ORIGIN.id,
            "detail-type": "EC2 State Manager Association State Change",
            "source": "aws.ssm", "account": "123456789012", "time": "2017-05-16T23:01:10Z",
            "region": "us-east-2",
            "resources": ["arn:aws:ssm:us-east-2::document/AWS-RunPowerShellScript"],
            "detail": {
                "association-id": "6e37940a-23ba-4ab0-9b96-5d0a1a05464f",
                "document-name": "AWS-RunPowerShellScript",
                "association-version": "1",
                "document-version": "Optional.empty",
                "targets": "[{\"key\":\"InstanceIds\",\"values\":[\"i-12345678\"]}]",
                "creation-date": "2017-02-13T17:22:54.458Z",
                "last-successful-execution-date": "2017-05-16T23:00:01.000Z",
                "last-execution-date": "2017-05-16T23:00:01.000Z",
                "last-updated-date": "2017-02-13T17:22:54.458Z",
                "status": "Success",
                "association-status-aggregated-count": "{\"Success\":1}",
                "schedule-expression": "cron(0 */30 * * * ? *)",
                "association-cwe-version": "1.0"
            }
        })
    );
}

#[test]
fn a_new_legacy_association_targets_its_node_and_has_no_execution_times() {
    let mut f = facts(None);
    f.instance_id = "mi-0123456789abcdef0";
    f.document_name = "my-doc";
    f.document_version = "2";
    f.last_execution_ms = None;
    f.last_successful_execution_ms = None;
    let counts = json!({});
    let head = AssociationHead {
        facts: f,
        association_version: 3,
        updated_ms: 0,
        status: "Pending",
        aggregated_count: &counts,
        schedule_expression: "",
    };
    let e = association_state_change(ORIGIN, &head).envelope;
    let d = &e["detail"];
    assert_eq!(
        d["targets"],
        "[{\"key\":\"InstanceIds\",\"values\":[\"mi-0123456789abcdef0\"]}]"
    );
    assert_eq!(d["document-version"], "2");
    assert_eq!(d["association-version"], "3");
    assert_eq!(d["association-status-aggregated-count"], "{}");
    assert!(d.get("last-execution-date").is_none());
    assert!(d.get("schedule-expression").is_none());
    assert_eq!(
        e["resources"],
        json!(["arn:aws:ssm:us-east-2:123456789012:document/my-doc"])
    );
}

#[test]
fn instance_association_state_change_names_the_node_and_document() {
    let targets = json!([{"Key": "tag:Env", "Values": ["prod"]}]);
    let mut f = facts(Some(&targets));
    f.document_name = "my-custom-document";
    let node = NodeOutcome {
        instance_id: "i-12345678",
        document_version: "1",
        execution_ms: 1_487_867_028_000,
        status: "Failed",
        detailed_status: "Failed",
        error_code: "1",
        execution_summary: "1 out of 1 plugin processed, 0 success, 1 failed",
        output_url: "",
    };
    let e = instance_association_state_change(ORIGIN, &f, &node);
    assert_eq!(e.detail_type, INSTANCE_ASSOCIATION_STATE_CHANGE);
    assert_eq!(
        e.envelope["resources"],
        json!([
            "arn:aws:ec2:us-east-2:123456789012:instance/i-12345678",
            "arn:aws:ssm:us-east-2:123456789012:document/my-custom-document"
        ])
    );
    assert_eq!(
        e.envelope["detail"],
        json!({
            "association-id": "6e37940a-23ba-4ab0-9b96-5d0a1a05464f",
            "instance-id": "i-12345678",
            "document-name": "my-custom-document",
            "document-version": "1",
            "targets": "[{\"key\":\"tag:Env\",\"values\":[\"prod\"]}]",
            "creation-date": "2017-02-13T17:22:54.458Z",
            "last-execution-date": "2017-02-23T16:23:48.000Z",
            "status": "Failed",
            "detailed-status": "Failed",
            "error-code": "1",
            "execution-summary": "1 out of 1 plugin processed, 0 success, 1 failed",
            "output-url": "",
            "instance-association-cwe-version": "1"
        })
    );
    let ok = NodeOutcome {
        status: "Success",
        ..node
    };
    let d = instance_association_state_change(ORIGIN, &f, &ok).envelope["detail"].clone();
    assert_eq!(
        d["last-successful-execution-date"],
        "2017-02-23T16:23:48.000Z"
    );
}
