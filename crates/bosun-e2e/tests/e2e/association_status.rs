//! What associations leave on their nodes, with real agents: a failing run makes the node
//! `NON_COMPLIANT` (type `Association`, the association's severity) and a succeeding one
//! `COMPLIANT`, counted by the compliance summaries; `MANUAL` associations get no item from
//! Bosun and only they take `PARTIAL` uploads; `DescribeInstanceAssociationsStatus` and
//! `DescribeEffectiveInstanceAssociations` show a node's associations and not another's;
//! `UpdateAssociationStatus` sets a legacy association's status, with AWS's errors.

use std::time::Duration;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::primitives::DateTime;
use aws_sdk_ssm::types::{
    AssociationComplianceSeverity, AssociationDescription, AssociationStatus,
    AssociationStatusName, AssociationSyncCompliance, ComplianceExecutionSummary, ComplianceItem,
    ComplianceItemEntry, ComplianceQueryOperatorType, ComplianceSeverity, ComplianceStatus,
    ComplianceStringFilter, ComplianceUploadType, Target,
};
use aws_sdk_ssm::Client;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;

const LIMIT: Duration = Duration::from_secs(60);
const UNKNOWN_NODE: &str = "mi-0123456789abcdef0";

async fn create(
    client: &Client,
    target: Target,
    script: &str,
    severity: Option<AssociationComplianceSeverity>,
    sync: Option<AssociationSyncCompliance>,
) -> String {
    client
        .create_association()
        .name("AWS-RunShellScript")
        .targets(target)
        .parameters("commands", vec![script.to_string()])
        .schedule_expression("rate(30 minutes)")
        .set_compliance_severity(severity)
        .set_sync_compliance(sync)
        .send()
        .await
        .expect("CreateAssociation")
        .association_description
        .unwrap()
        .association_id
        .unwrap()
}

fn nodes(ids: &[&str]) -> Target {
    Target::builder()
        .key("InstanceIds")
        .set_values(Some(ids.iter().map(|s| s.to_string()).collect()))
        .build()
}

async fn wait_outcome(client: &Client, id: &str) -> AssociationDescription {
    wait_for(&format!("association {id} to finish"), LIMIT, || async {
        let d = client
            .describe_association()
            .association_id(id)
            .send()
            .await
            .ok()?
            .association_description?;
        let status = d.overview()?.status()?;
        (status == "Success" || status == "Failed").then_some(d)
    })
    .await
}

/// The node's `Association` compliance items.
async fn association_items(client: &Client, node: &str) -> Vec<ComplianceItem> {
    client
        .list_compliance_items()
        .resource_ids(node)
        .resource_types("ManagedInstance")
        .filters(
            ComplianceStringFilter::builder()
                .key("ComplianceType")
                .values("Association")
                .r#type(ComplianceQueryOperatorType::Equal)
                .build(),
        )
        .send()
        .await
        .expect("ListComplianceItems")
        .compliance_items
        .unwrap_or_default()
}

fn item_of<'a>(items: &'a [ComplianceItem], id: &str) -> Option<&'a ComplianceItem> {
    items.iter().find(|i| i.id() == Some(id))
}

async fn status_ids(client: &Client, node: &str) -> Vec<String> {
    client
        .describe_instance_associations_status()
        .instance_id(node)
        .send()
        .await
        .expect("DescribeInstanceAssociationsStatus")
        .instance_association_status_infos()
        .iter()
        .map(|i| i.association_id().unwrap().to_string())
        .collect()
}

async fn effective_ids(client: &Client, node: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let out = client
            .describe_effective_instance_associations()
            .instance_id(node)
            .max_results(1)
            .set_next_token(token)
            .send()
            .await
            .expect("DescribeEffectiveInstanceAssociations");
        for a in out.associations() {
            assert!(
                a.content()
                    .is_some_and(|c| c.contains("aws:runShellScript")),
                "{a:?}"
            );
            assert_eq!(a.instance_id(), Some(node));
            ids.push(a.association_id().unwrap().to_string());
        }
        token = out.next_token;
        if token.is_none() {
            return ids;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_leave_node_status_and_association_compliance() {
    let fleet = Fleet::start(2, 2).await;
    let client = fleet.client.clone();
    let (a, b) = (fleet.ids()[0].clone(), fleet.ids()[1].clone());

    // A failing run on node a: Failed, NON_COMPLIANT with the association's severity.
    let failing = create(
        &client,
        nodes(&[&a]),
        "exit 3",
        Some(AssociationComplianceSeverity::High),
        None,
    )
    .await;
    let d = wait_outcome(&client, &failing).await;
    assert_eq!(d.overview().unwrap().status(), Some("Failed"), "{d:?}");
    let execution = client
        .describe_association_executions()
        .association_id(&failing)
        .send()
        .await
        .unwrap()
        .association_executions()[0]
        .clone();
    let items = association_items(&client, &a).await;
    let item = item_of(&items, &failing).expect("the failing association's item");
    assert_eq!(item.status(), Some(&ComplianceStatus::NonCompliant));
    assert_eq!(item.severity(), Some(&ComplianceSeverity::High));
    assert_eq!(item.resource_type(), Some("ManagedInstance"));
    assert_eq!(item.compliance_type(), Some("Association"));
    let details = item.details().unwrap();
    assert_eq!(
        details.get("DocumentName").map(String::as_str),
        Some("AWS-RunShellScript")
    );
    assert_eq!(
        details.get("DocumentVersion").map(String::as_str),
        Some("1")
    );
    let summary = item.execution_summary().unwrap();
    assert_eq!(summary.execution_id(), execution.execution_id());
    assert_eq!(summary.execution_type(), Some("Command"));
    assert!(item_of(&association_items(&client, &b).await, &failing).is_none());

    let types = client.list_compliance_summaries().send().await.unwrap();
    let assoc = types
        .compliance_summary_items()
        .iter()
        .find(|t| t.compliance_type() == Some("Association"))
        .expect("an Association summary");
    let non = assoc.non_compliant_summary().unwrap();
    assert_eq!(non.non_compliant_count(), 1);
    assert_eq!(non.severity_summary().unwrap().high_count(), 1);
    let resources = client
        .list_resource_compliance_summaries()
        .filters(
            ComplianceStringFilter::builder()
                .key("ComplianceType")
                .values("Association")
                .r#type(ComplianceQueryOperatorType::Equal)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let of_a = resources
        .resource_compliance_summary_items()
        .iter()
        .find(|r| r.resource_id() == Some(a.as_str()))
        .expect("node a's summary");
    assert_eq!(of_a.status(), Some(&ComplianceStatus::NonCompliant));
    assert_eq!(of_a.overall_severity(), Some(&ComplianceSeverity::High));

    // A succeeding run on both nodes: COMPLIANT, default severity.
    let tag = Target::builder().key("tag:env").values("test").build();
    let passing = create(&client, tag, "echo kept", None, None).await;
    assert_eq!(
        wait_outcome(&client, &passing)
            .await
            .overview()
            .unwrap()
            .status(),
        Some("Success")
    );
    for node in [&a, &b] {
        let items = association_items(&client, node).await;
        let item = item_of(&items, &passing).expect("the passing association's item");
        assert_eq!(item.status(), Some(&ComplianceStatus::Compliant));
        assert_eq!(item.severity(), Some(&ComplianceSeverity::Unspecified));
    }

    // MANUAL: Bosun writes nothing; the user's PARTIAL upload names it.
    let manual = create(
        &client,
        nodes(&[&b]),
        "echo manual",
        None,
        Some(AssociationSyncCompliance::Manual),
    )
    .await;
    wait_outcome(&client, &manual).await;
    assert!(item_of(&association_items(&client, &b).await, &manual).is_none());
    let upload = |id: &str| {
        client
            .put_compliance_items()
            .resource_id(&b)
            .resource_type("ManagedInstance")
            .compliance_type("Association")
            .execution_summary(
                ComplianceExecutionSummary::builder()
                    .execution_time(DateTime::from_secs(1_700_000_000))
                    .build()
                    .unwrap(),
            )
            .items(
                ComplianceItemEntry::builder()
                    .id(id)
                    .severity(ComplianceSeverity::Low)
                    .status(ComplianceStatus::NonCompliant)
                    .build()
                    .unwrap(),
            )
            .upload_type(ComplianceUploadType::Partial)
            .send()
    };
    upload(&manual)
        .await
        .expect("a PARTIAL upload for a MANUAL association");
    let items = association_items(&client, &b).await;
    assert_eq!(
        item_of(&items, &manual).and_then(|i| i.severity()),
        Some(&ComplianceSeverity::Low)
    );
    assert!(
        item_of(&items, &passing).is_some(),
        "PARTIAL keeps the others"
    );
    let refused = upload(&passing).await.unwrap_err();
    assert_eq!(refused.code(), Some("InvalidItemContentException"));

    // The nodes' associations.
    let of_a = status_ids(&client, &a).await;
    assert!(
        of_a.contains(&failing) && of_a.contains(&passing),
        "{of_a:?}"
    );
    assert!(!of_a.contains(&manual), "{of_a:?}");
    let of_b = status_ids(&client, &b).await;
    assert!(!of_b.contains(&failing), "{of_b:?}");
    let info = client
        .describe_instance_associations_status()
        .instance_id(&a)
        .send()
        .await
        .unwrap()
        .instance_association_status_infos()
        .iter()
        .find(|i| i.association_id() == Some(failing.as_str()))
        .cloned()
        .unwrap();
    assert_eq!(info.status(), Some("Failed"));
    assert_eq!(info.name(), Some("AWS-RunShellScript"));
    assert_eq!(info.association_version(), Some("1"));
    assert_eq!(info.instance_id(), Some(a.as_str()));
    assert!(info.execution_date().is_some());
    assert_eq!(
        info.execution_summary(),
        Some("1 out of 1 plugin processed, 0 success, 1 failed, 0 timedout, 0 skipped. ")
    );
    let mut effective = effective_ids(&client, &a).await;
    effective.sort();
    let mut expected = vec![failing.clone(), passing.clone()];
    expected.sort();
    assert_eq!(effective, expected);
    assert!(!effective_ids(&client, &b).await.contains(&failing));
    // Through the AWS CLI too.
    let cli = fleet
        .server
        .aws(&[
            "ssm",
            "describe-instance-associations-status",
            "--instance-id",
            &b,
        ])
        .expect("the CLI's call");
    assert!(cli["InstanceAssociationStatusInfos"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["AssociationId"] == manual.as_str()));
    let unknown = client
        .describe_instance_associations_status()
        .instance_id(UNKNOWN_NODE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some("InvalidInstanceId"));
    let unknown = client
        .describe_effective_instance_associations()
        .instance_id(UNKNOWN_NODE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some("InvalidInstanceId"));

    // A deleted association leaves no item behind.
    client
        .delete_association()
        .association_id(&failing)
        .send()
        .await
        .unwrap();
    assert!(item_of(&association_items(&client, &a).await, &failing).is_none());
    assert!(!status_ids(&client, &a).await.contains(&failing));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_association_status_sets_a_legacy_associations_status() {
    let fleet = Fleet::start(2, 2).await;
    let client = fleet.client.clone();
    let (a, b) = (fleet.ids()[0].clone(), fleet.ids()[1].clone());
    let legacy = client
        .create_association()
        .name("AWS-RunShellScript")
        .instance_id(&a)
        .parameters("commands", vec!["echo legacy".to_string()])
        .send()
        .await
        .unwrap()
        .association_description
        .unwrap()
        .association_id
        .unwrap();
    let d = wait_outcome(&client, &legacy).await;
    assert_eq!(
        d.status().map(|s| s.name()),
        Some(&AssociationStatusName::Success),
        "a legacy association's status follows its run: {d:?}"
    );
    let status = |name: AssociationStatusName, message: &str| {
        AssociationStatus::builder()
            .date(DateTime::from_secs(1_800_000_000))
            .name(name)
            .message(message)
            .additional_info("{\"agent\":\"test\"}")
            .build()
            .unwrap()
    };
    let update = |document: &str, node: &str, s: AssociationStatus| {
        client
            .update_association_status()
            .name(document)
            .instance_id(node)
            .association_status(s)
            .send()
    };
    let out = update(
        "AWS-RunShellScript",
        &a,
        status(AssociationStatusName::Failed, "the agent says no"),
    )
    .await
    .expect("UpdateAssociationStatus");
    let s = out.association_description().unwrap().status().unwrap();
    assert_eq!(s.name(), &AssociationStatusName::Failed);
    assert_eq!(s.message(), "the agent says no");
    assert_eq!(s.additional_info(), Some("{\"agent\":\"test\"}"));
    let described = client
        .describe_association()
        .association_id(&legacy)
        .send()
        .await
        .unwrap()
        .association_description
        .unwrap();
    assert_eq!(described.status(), Some(s));
    let row = client
        .describe_instance_associations_status()
        .instance_id(&a)
        .send()
        .await
        .unwrap()
        .instance_association_status_infos()
        .iter()
        .find(|i| i.association_id() == Some(legacy.as_str()))
        .cloned()
        .unwrap();
    assert_eq!(row.status(), Some("Failed"));

    let again = update(
        "AWS-RunShellScript",
        &a,
        status(AssociationStatusName::Failed, "the agent says no"),
    )
    .await;
    assert_eq!(again.unwrap_err().code(), Some("StatusUnchanged"));
    let other_node = update(
        "AWS-RunShellScript",
        &b,
        status(AssociationStatusName::Success, "x"),
    )
    .await;
    assert_eq!(
        other_node.unwrap_err().code(),
        Some("AssociationDoesNotExist")
    );
    let unknown_node = update(
        "AWS-RunShellScript",
        UNKNOWN_NODE,
        status(AssociationStatusName::Success, "x"),
    )
    .await;
    assert_eq!(unknown_node.unwrap_err().code(), Some("InvalidInstanceId"));
    let unknown_document = update(
        "NoSuchDocument",
        &a,
        status(AssociationStatusName::Success, "x"),
    )
    .await;
    assert_eq!(
        unknown_document.unwrap_err().code(),
        Some("InvalidDocument")
    );
}
