//! Compliance through the real SDK and AWS CLI: custom items on a node, complete and partial
//! uploads, unchanged content hashes, the custom-type limit, the three listings with filters,
//! refusals with AWS's codes, and per-node authorization.

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::primitives::DateTime;
use aws_sdk_ssm::types::{
    ComplianceExecutionSummary, ComplianceItemEntry, ComplianceQueryOperatorType,
    ComplianceSeverity, ComplianceStatus, ComplianceStringFilter, ComplianceUploadType,
};
use aws_sdk_ssm::Client;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::TestServer;

fn entry(id: &str, status: ComplianceStatus, severity: ComplianceSeverity) -> ComplianceItemEntry {
    ComplianceItemEntry::builder()
        .id(id)
        .title(format!("check {id}"))
        .status(status)
        .severity(severity)
        .details("Source", "e2e")
        .build()
        .unwrap()
}

fn summary() -> ComplianceExecutionSummary {
    ComplianceExecutionSummary::builder()
        .execution_time(DateTime::from_secs(1_700_000_000))
        .execution_id("run-1")
        .execution_type("Command")
        .build()
        .unwrap()
}

async fn put(
    c: &Client,
    node: &str,
    ctype: &str,
    items: Vec<ComplianceItemEntry>,
) -> Result<(), (String, String)> {
    c.put_compliance_items()
        .resource_id(node)
        .resource_type("ManagedInstance")
        .compliance_type(ctype)
        .execution_summary(summary())
        .set_items(Some(items))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            (
                e.code().unwrap_or_default().to_string(),
                e.message().unwrap_or_default().to_string(),
            )
        })
}

fn filter(key: &str, value: &str) -> ComplianceStringFilter {
    ComplianceStringFilter::builder()
        .key(key)
        .values(value)
        .r#type(ComplianceQueryOperatorType::Equal)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_compliance_is_stored_summarised_and_filtered() {
    let fleet = Fleet::start_on(TestServer::start().await, 2, 0).await;
    let c = &fleet.client;
    let ids = fleet.ids();
    let (a, b) = (ids[0].as_str(), ids[1].as_str());
    use ComplianceSeverity::{Critical, High, Low};
    use ComplianceStatus::{Compliant, NonCompliant};
    put(
        c,
        a,
        "Custom:Disk",
        vec![
            entry("root", NonCompliant, High),
            entry("var", Compliant, Critical),
        ],
    )
    .await
    .unwrap();
    put(c, b, "Custom:Disk", vec![entry("root", Compliant, Low)])
        .await
        .unwrap();

    let items = c
        .list_compliance_items()
        .resource_ids(a)
        .send()
        .await
        .unwrap();
    let items = items.compliance_items();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].id(), Some("root"));
    assert_eq!(items[0].status(), Some(&NonCompliant));
    assert_eq!(items[0].resource_type(), Some("ManagedInstance"));
    assert_eq!(
        items[0]
            .details()
            .unwrap()
            .get("Source")
            .map(String::as_str),
        Some("e2e")
    );
    let exec = items[0].execution_summary().unwrap();
    assert_eq!(exec.execution_time().secs(), 1_700_000_000);
    assert_eq!(exec.execution_id(), Some("run-1"));
    let only_failing = c
        .list_compliance_items()
        .resource_ids(a)
        .filters(filter("Status", "NON_COMPLIANT"))
        .send()
        .await
        .unwrap();
    assert_eq!(only_failing.compliance_items().len(), 1);

    let resources = c.list_resource_compliance_summaries().send().await.unwrap();
    let resources = resources.resource_compliance_summary_items();
    assert_eq!(resources.len(), 2);
    let ra = resources
        .iter()
        .find(|r| r.resource_id() == Some(a))
        .unwrap();
    assert_eq!(ra.status(), Some(&NonCompliant));
    assert_eq!(ra.overall_severity(), Some(&High));
    assert_eq!(ra.compliant_summary().unwrap().compliant_count(), 1);
    assert_eq!(ra.non_compliant_summary().unwrap().non_compliant_count(), 1);
    let types = c.list_compliance_summaries().send().await.unwrap();
    let disk = &types.compliance_summary_items()[0];
    assert_eq!(disk.compliance_type(), Some("Custom:Disk"));
    assert_eq!(disk.compliant_summary().unwrap().compliant_count(), 1);
    assert_eq!(
        disk.non_compliant_summary().unwrap().non_compliant_count(),
        1
    );

    // A complete upload replaces the type's items; an equal content hash changes nothing.
    c.put_compliance_items()
        .resource_id(a)
        .resource_type("ManagedInstance")
        .compliance_type("Custom:Disk")
        .execution_summary(summary())
        .items(entry("root", Compliant, High))
        .item_content_hash("h1")
        .send()
        .await
        .unwrap();
    c.put_compliance_items()
        .resource_id(a)
        .resource_type("ManagedInstance")
        .compliance_type("Custom:Disk")
        .execution_summary(summary())
        .items(entry("root", NonCompliant, High))
        .item_content_hash("h1")
        .send()
        .await
        .unwrap();
    let now = c
        .list_compliance_items()
        .resource_ids(a)
        .send()
        .await
        .unwrap();
    assert_eq!(now.compliance_items().len(), 1);
    assert_eq!(now.compliance_items()[0].status(), Some(&Compliant));

    // Refusals, with AWS's codes.
    let e = c
        .put_compliance_items()
        .resource_id(a)
        .resource_type("ManagedInstance")
        .compliance_type("Custom:Disk")
        .execution_summary(summary())
        .items(entry("root", Compliant, High))
        .upload_type(ComplianceUploadType::Partial)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));
    let wrong_type = c
        .put_compliance_items()
        .resource_id(a)
        .resource_type("Document")
        .compliance_type("Custom:Disk")
        .execution_summary(summary())
        .items(entry("root", Compliant, High))
        .send()
        .await
        .unwrap_err();
    assert_eq!(wrong_type.code(), Some("InvalidResourceType"));
    assert_eq!(
        put(c, "mi-0123456789abcdef0", "Custom:Disk", vec![])
            .await
            .unwrap_err()
            .0,
        "InvalidResourceId"
    );
    assert_eq!(
        put(
            c,
            a,
            "Custom:Disk",
            vec![entry("x", Compliant, Low), entry("x", Compliant, Low)]
        )
        .await
        .unwrap_err()
        .0,
        "InvalidItemContentException"
    );
    for i in 1..10 {
        put(
            c,
            a,
            &format!("Custom:T{i}"),
            vec![entry("1", Compliant, Low)],
        )
        .await
        .unwrap();
    }
    let (code, message) = put(c, a, "Custom:T10", vec![entry("1", Compliant, Low)])
        .await
        .unwrap_err();
    assert_eq!(code, "ComplianceTypeCountLimitExceededException");
    assert!(message.contains("maximum of 10"), "{message}");
    let bad_filter = c
        .list_compliance_summaries()
        .filters(filter("Colour", "x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad_filter.code(), Some("InvalidFilter"));

    // The AWS CLI reads the same.
    let out = fleet
        .server
        .aws(&["ssm", "list-compliance-items", "--resource-ids", b])
        .unwrap();
    assert_eq!(out["ComplianceItems"][0]["Id"], "root");
    assert_eq!(out["ComplianceItems"][0]["Status"], "COMPLIANT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn putting_compliance_is_authorized_on_the_node() {
    let fleet = Fleet::start_on(TestServer::start().await, 2, 0).await;
    let ids = fleet.ids();
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"ssm:*","Resource":"*"}},
            {{"Effect":"Deny","Action":"ssm:PutComplianceItems","Resource":"arn:aws:ssm:us-east-1:000000000000:managed-instance/{}"}}]}}"#,
        ids[1]
    );
    let (user, _, _) = fleet.server.user_with_policy("auditor", &policy).await;
    put(
        &user,
        &ids[0],
        "Custom:Audit",
        vec![entry(
            "1",
            ComplianceStatus::Compliant,
            ComplianceSeverity::Low,
        )],
    )
    .await
    .unwrap();
    let (code, _) = put(
        &user,
        &ids[1],
        "Custom:Audit",
        vec![entry(
            "1",
            ComplianceStatus::Compliant,
            ComplianceSeverity::Low,
        )],
    )
    .await
    .unwrap_err();
    assert_eq!(code, "AccessDeniedException");
}
