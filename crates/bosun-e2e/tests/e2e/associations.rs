//! State Manager associations through the real SDK and the AWS CLI against a real server:
//! created, described, listed with filters and pages, updated into new versions with the
//! optimistic version check, tagged and deleted; every bad request refused with AWS's code and
//! nothing stored; IAM checked on the document and on every node.

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{
    AssociationComplianceSeverity, AssociationFilter, AssociationFilterKey,
    CreateAssociationBatchRequestEntry, DocumentType, Fault, InstanceAssociationOutputLocation,
    ResourceTypeForTagging, S3OutputLocation, Tag, Target,
};
use aws_sdk_ssm::Client;
use bosun_e2e::fleet::Fleet;

const NODE_ARN: &str = "arn:aws:ssm:us-east-1:000000000000:managed-instance/";
const DOC_ARN: &str = "arn:aws:ssm:us-east-1:000000000000:document/";

fn tag_target() -> Target {
    Target::builder().key("tag:env").values("test").build()
}

/// A `CreateAssociation` of `AWS-RunShellScript` on the `env=test` nodes.
fn create(
    client: &Client,
) -> aws_sdk_ssm::operation::create_association::builders::CreateAssociationFluentBuilder {
    client
        .create_association()
        .name("AWS-RunShellScript")
        .targets(tag_target())
        .parameters("commands", vec!["echo keep".to_string()])
}

/// The code of a refused call.
fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(r: Result<T, E>) -> String {
    let e = r.expect_err("the call must be refused");
    format!(
        "{}: {}",
        e.code().unwrap_or_default(),
        e.message().unwrap_or_default()
    )
}

async fn count(client: &Client) -> usize {
    client
        .list_associations()
        .send()
        .await
        .unwrap()
        .associations()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn associations_are_created_versioned_listed_tagged_and_deleted() {
    let fleet = Fleet::start(2, 0).await;
    let client = &fleet.client;
    let node = fleet.ids()[0].clone();

    let created = create(client)
        .schedule_expression("rate(30 minutes)")
        .association_name("keep-state")
        .max_concurrency("100%")
        .max_errors("0")
        .compliance_severity(AssociationComplianceSeverity::High)
        .tags(Tag::builder().key("team").value("ops").build().unwrap())
        .send()
        .await
        .expect("CreateAssociation")
        .association_description
        .unwrap();
    let id = created.association_id().unwrap().to_string();
    assert_eq!(created.association_version(), Some("1"));
    assert_eq!(created.name(), Some("AWS-RunShellScript"));
    assert_eq!(created.document_version(), Some("$DEFAULT"));
    assert_eq!(created.schedule_expression(), Some("rate(30 minutes)"));
    assert_eq!(created.association_name(), Some("keep-state"));
    assert_eq!(created.max_errors(), Some("0"));
    assert_eq!(created.targets()[0].key(), Some("tag:env"));
    let overview = created.overview().unwrap();
    assert_eq!(overview.status(), Some("Pending"));
    assert_eq!(overview.detailed_status(), Some("Creating"));
    assert!(created.date().is_some());

    let described = client
        .describe_association()
        .association_id(&id)
        .send()
        .await
        .unwrap()
        .association_description
        .unwrap();
    // The scheduler may have started its first run since (tests/e2e/association_runs.rs).
    let mut seen = described.clone();
    seen.last_execution_date = None;
    assert_eq!(seen, created);

    // Version 2, then a stale expected version is refused and stores nothing.
    let updated = client
        .update_association()
        .association_id(&id)
        .association_version("1")
        .schedule_expression("cron(0 5 ? * TUE *)")
        .apply_only_at_cron_interval(true)
        .schedule_offset(2)
        .parameters("commands", vec!["echo weekly".to_string()])
        .association_name("keep-state")
        .send()
        .await
        .expect("UpdateAssociation")
        .association_description
        .unwrap();
    assert_eq!(updated.association_version(), Some("2"));
    assert_eq!(updated.schedule_offset(), Some(2));
    assert_eq!(updated.targets()[0].key(), Some("tag:env"), "targets kept");
    let stale = client
        .update_association()
        .association_id(&id)
        .association_version("1")
        .schedule_expression("rate(1 day)")
        .send()
        .await;
    let stale = code(stale);
    assert!(stale.starts_with("InvalidAssociationVersion"), "{stale}");
    let versions = client
        .list_association_versions()
        .association_id(&id)
        .send()
        .await
        .unwrap();
    let listed: Vec<(&str, &str)> = versions
        .association_versions()
        .iter()
        .map(|v| {
            (
                v.association_version().unwrap(),
                v.schedule_expression().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![("1", "rate(30 minutes)"), ("2", "cron(0 5 ? * TUE *)")]
    );
    let paged = client
        .list_association_versions()
        .association_id(&id)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(paged.association_versions().len(), 1);
    let second = client
        .list_association_versions()
        .association_id(&id)
        .max_results(1)
        .next_token(paged.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        second.association_versions()[0].association_version(),
        Some("2")
    );
    assert!(second.next_token().is_none());
    let first = client
        .describe_association()
        .association_id(&id)
        .association_version("1")
        .send()
        .await
        .unwrap()
        .association_description
        .unwrap();
    assert_eq!(first.schedule_expression(), Some("rate(30 minutes)"));
    let missing = client
        .describe_association()
        .association_id(&id)
        .association_version("9")
        .send()
        .await;
    assert!(code(missing).starts_with("InvalidAssociationVersion"));

    // A legacy association by InstanceId: found by document and node, one per pair.
    let legacy = client
        .create_association()
        .name("AWS-RunShellScript")
        .instance_id(&node)
        .parameters("commands", vec!["echo legacy".to_string()])
        .send()
        .await
        .expect("legacy CreateAssociation")
        .association_description
        .unwrap();
    assert_eq!(legacy.status().unwrap().name().as_str(), "Associated");
    assert_eq!(legacy.targets()[0].values(), std::slice::from_ref(&node));
    let again = client
        .create_association()
        .name("AWS-RunShellScript")
        .instance_id(&node)
        .parameters("commands", vec!["echo legacy".to_string()])
        .send()
        .await;
    assert!(code(again).starts_with("AssociationAlreadyExists"));
    let by_node = client
        .describe_association()
        .name("AWS-RunShellScript")
        .instance_id(&node)
        .send()
        .await
        .unwrap()
        .association_description
        .unwrap();
    assert_eq!(by_node.association_id(), legacy.association_id());

    // Filters and pages.
    let filter = |key: AssociationFilterKey, value: &str| {
        AssociationFilter::builder()
            .key(key)
            .value(value)
            .build()
            .unwrap()
    };
    let named = client
        .list_associations()
        .association_filter_list(filter(AssociationFilterKey::AssociationName, "keep-state"))
        .send()
        .await
        .unwrap();
    assert_eq!(named.associations().len(), 1);
    assert_eq!(named.associations()[0].association_version(), Some("2"));
    let on_node = client
        .list_associations()
        .association_filter_list(filter(AssociationFilterKey::InstanceId, &node))
        .send()
        .await
        .unwrap();
    assert_eq!(on_node.associations().len(), 1);
    assert_eq!(
        on_node.associations()[0].association_id(),
        legacy.association_id()
    );
    let pending = client
        .list_associations()
        .association_filter_list(filter(AssociationFilterKey::Name, "AWS-RunShellScript"))
        .association_filter_list(filter(AssociationFilterKey::Status, "Pending"))
        .send()
        .await
        .unwrap();
    assert_eq!(pending.associations().len(), 2);
    // Associations run at creation (tests/e2e/association_runs.rs), none before 2020.
    let ran_before_2020 = client
        .list_associations()
        .association_filter_list(filter(
            AssociationFilterKey::LastExecutedBefore,
            "2020-01-01T00:00:00Z",
        ))
        .send()
        .await
        .unwrap();
    assert!(ran_before_2020.associations().is_empty());
    let groups = client
        .list_associations()
        .association_filter_list(filter(AssociationFilterKey::ResourceGroupName, "web"))
        .send()
        .await;
    assert!(code(groups).contains("Resource Groups"));
    let page = client
        .list_associations()
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.associations().len(), 1);
    let rest = client
        .list_associations()
        .max_results(1)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.associations().len(), 1);
    assert_ne!(
        rest.associations()[0].association_id(),
        page.associations()[0].association_id()
    );
    assert!(rest.next_token().is_none());

    // Tags.
    let tags = |client: &Client, id: &str| {
        client
            .list_tags_for_resource()
            .resource_type(ResourceTypeForTagging::Association)
            .resource_id(id.to_string())
            .send()
    };
    assert_eq!(tags(client, &id).await.unwrap().tag_list()[0].key(), "team");
    client
        .add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::Association)
        .resource_id(&id)
        .tags(Tag::builder().key("tier").value("1").build().unwrap())
        .send()
        .await
        .unwrap();
    client
        .remove_tags_from_resource()
        .resource_type(ResourceTypeForTagging::Association)
        .resource_id(&id)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let now: Vec<String> = tags(client, &id)
        .await
        .unwrap()
        .tag_list()
        .iter()
        .map(|t| t.key().to_string())
        .collect();
    assert_eq!(now, ["tier"]);

    // Deletion.
    client
        .delete_association()
        .association_id(&id)
        .send()
        .await
        .unwrap();
    let gone = client
        .describe_association()
        .association_id(&id)
        .send()
        .await;
    assert!(code(gone).starts_with("AssociationDoesNotExist"));
    let gone = client.delete_association().association_id(&id).send().await;
    assert!(code(gone).starts_with("AssociationDoesNotExist"));
    let gone = client
        .update_association()
        .association_id(&id)
        .schedule_expression("rate(1 day)")
        .send()
        .await;
    assert!(code(gone).starts_with("AssociationDoesNotExist"));
    assert!(
        tags(client, &id).await.is_err(),
        "tags go with the association"
    );
    client
        .delete_association()
        .name("AWS-RunShellScript")
        .instance_id(&node)
        .send()
        .await
        .unwrap();
    assert_eq!(count(client).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_aws_errors_and_store_nothing() {
    let fleet = Fleet::start(1, 0).await;
    let client = &fleet.client;
    client
        .create_document()
        .name("Runbook")
        .document_type(DocumentType::Automation)
        .content(
            serde_json::json!({"schemaVersion": "0.3", "mainSteps": [
                {"name": "wait", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}}]})
            .to_string(),
        )
        .send()
        .await
        .expect("an Automation runbook");
    let cases: Vec<(&str, Result<_, _>)> = vec![
        (
            "InvalidDocument",
            client
                .create_association()
                .name("NoSuchDoc")
                .targets(tag_target())
                .send()
                .await,
        ),
        (
            // A runbook needs AutomationTargetParameterName (association_automation.rs).
            "InvalidParameters",
            client
                .create_association()
                .name("Runbook")
                .targets(tag_target())
                .send()
                .await,
        ),
        (
            "InvalidDocumentVersion",
            create(client).document_version("7").send().await,
        ),
        (
            "InvalidParameters",
            create(client)
                .parameters("nope", vec!["x".into()])
                .send()
                .await,
        ),
        (
            "InvalidParameters",
            client
                .create_association()
                .name("AWS-RunShellScript")
                .targets(tag_target())
                .send()
                .await,
        ),
        (
            "InvalidSchedule",
            create(client)
                .schedule_expression("rate(5 minutes)")
                .send()
                .await,
        ),
        (
            "InvalidSchedule",
            create(client)
                .schedule_expression("every tuesday")
                .send()
                .await,
        ),
        (
            "InvalidSchedule",
            create(client)
                .schedule_expression("rate(1 day)")
                .apply_only_at_cron_interval(true)
                .send()
                .await,
        ),
        (
            "InvalidSchedule",
            create(client)
                .schedule_expression("cron(0 5 ? * TUE *)")
                .schedule_offset(2)
                .send()
                .await,
        ),
        (
            "ValidationException",
            create(client)
                .schedule_expression("cron(0 5 ? * TUE *)")
                .duration(2)
                .send()
                .await,
        ),
        (
            "ValidationException",
            create(client)
                .schedule_expression("cron(0 5 ? * TUE *)")
                .apply_only_at_cron_interval(true)
                .schedule_offset(7)
                .send()
                .await,
        ),
        (
            "ValidationException",
            create(client).max_concurrency("0").send().await,
        ),
        (
            "ValidationException",
            create(client).max_errors("abc").send().await,
        ),
        (
            "ValidationException",
            create(client)
                .compliance_severity(AssociationComplianceSeverity::from("SEVERE"))
                .send()
                .await,
        ),
        (
            "ValidationException",
            create(client).association_name("x").send().await,
        ),
        (
            "InvalidTarget",
            create(client)
                .targets(
                    Target::builder()
                        .key("resource-groups:Name")
                        .values("web")
                        .build(),
                )
                .send()
                .await,
        ),
        (
            "InvalidTarget",
            client
                .create_association()
                .name("AWS-RunShellScript")
                .parameters("commands", vec!["true".into()])
                .send()
                .await,
        ),
        (
            "InvalidTarget",
            create(client)
                .targets(Target::builder().key("color").values("red").build())
                .send()
                .await,
        ),
        (
            "InvalidInstanceId",
            client
                .create_association()
                .name("AWS-RunShellScript")
                .instance_id("mi-0123456789abcdef0")
                .parameters("commands", vec!["true".into()])
                .send()
                .await,
        ),
        (
            "InvalidOutputLocation",
            create(client)
                .output_location(
                    InstanceAssociationOutputLocation::builder()
                        .s3_location(
                            S3OutputLocation::builder()
                                .output_s3_bucket_name("logs")
                                .build(),
                        )
                        .build(),
                )
                .send()
                .await,
        ),
        (
            "ValidationException",
            create(client).calendar_names("change-freeze").send().await,
        ),
        (
            // On a Command document.
            "InvalidParameters",
            create(client)
                .automation_target_parameter_name("InstanceId")
                .send()
                .await,
        ),
    ];
    for (i, (expected, outcome)) in cases.into_iter().enumerate() {
        let got = code(outcome);
        assert!(got.starts_with(&format!("{expected}:")), "case {i}: {got}");
    }
    assert_eq!(count(client).await, 0, "nothing stored");

    // The batch: each entry succeeds or fails on its own, with AWS's fault.
    let good = CreateAssociationBatchRequestEntry::builder()
        .name("AWS-RunShellScript")
        .targets(tag_target())
        .parameters("commands", vec!["echo batch".to_string()])
        .build()
        .unwrap();
    let bad = CreateAssociationBatchRequestEntry::builder()
        .name("NoSuchDoc")
        .targets(tag_target())
        .build()
        .unwrap();
    let out = client
        .create_association_batch()
        .entries(good)
        .entries(bad)
        .send()
        .await
        .expect("CreateAssociationBatch");
    assert_eq!(out.successful().len(), 1);
    let failed = &out.failed()[0];
    assert_eq!(failed.fault(), Some(&Fault::Client));
    assert!(
        failed.message().unwrap().starts_with("InvalidDocument"),
        "{failed:?}"
    );
    assert_eq!(failed.entry().unwrap().name(), "NoSuchDoc");
    assert_eq!(count(client).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_is_checked_on_the_document_and_every_node() {
    let fleet = Fleet::start(2, 0).await;
    let ids = fleet.ids();
    let (a, b) = (&ids[0], &ids[1]);
    let (shell_only, _, _) = fleet
        .server
        .user_with_policy(
            "shell-only",
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Action":["ssm:CreateAssociation","ssm:CreateAssociationBatch"],
                  "Resource":["{DOC_ARN}AWS-RunShellScript","{NODE_ARN}*"]}},
                {{"Effect":"Allow","Action":["ssm:ListAssociations"],"Resource":"*"}}]}}"#
            ),
        )
        .await;
    let other_doc = shell_only
        .create_association()
        .name("AWS-RunPowerShellScript")
        .targets(tag_target())
        .parameters("commands", vec!["echo no".to_string()])
        .send()
        .await;
    assert!(code(other_doc).starts_with("AccessDeniedException"));
    create(&shell_only)
        .send()
        .await
        .expect("allowed on this document");
    let batch = shell_only
        .create_association_batch()
        .entries(
            CreateAssociationBatchRequestEntry::builder()
                .name("AWS-RunPowerShellScript")
                .targets(tag_target())
                .parameters("commands", vec!["echo no".to_string()])
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(batch.successful().is_empty());
    assert!(batch.failed()[0]
        .message()
        .unwrap()
        .starts_with("AccessDeniedException"));

    let (not_b, _, _) = fleet
        .server
        .user_with_policy(
            "not-b",
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Action":"ssm:*","Resource":"*"}},
                {{"Effect":"Deny","Action":"ssm:CreateAssociation","Resource":"{NODE_ARN}{b}"}}]}}"#
            ),
        )
        .await;
    let before = count(&fleet.client).await;
    let by_tag = create(&not_b).send().await;
    let denied = code(by_tag);
    assert!(
        denied.starts_with("AccessDeniedException") && denied.contains(b.as_str()),
        "{denied}"
    );
    let by_id = not_b
        .create_association()
        .name("AWS-RunShellScript")
        .instance_id(b)
        .parameters("commands", vec!["echo no".to_string()])
        .send()
        .await;
    assert!(code(by_id).starts_with("AccessDeniedException"));
    not_b
        .create_association()
        .name("AWS-RunShellScript")
        .instance_id(a)
        .parameters("commands", vec!["echo yes".to_string()])
        .send()
        .await
        .expect("allowed on a");
    assert_eq!(count(&fleet.client).await, before + 1);
}

/// Seed 003's weekly association, verbatim through the AWS CLI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_creates_and_lists_a_weekly_tag_association() {
    let fleet = Fleet::start(1, 0).await;
    let out = fleet
        .server
        .aws(&[
            "ssm",
            "create-association",
            "--name",
            "AWS-RunShellScript",
            "--targets",
            "Key=tag:env,Values=test",
            "--schedule-expression",
            "cron(0 5 ? * TUE *)",
            "--parameters",
            r#"{"commands":["uptime"]}"#,
            "--max-concurrency",
            "100%",
            "--max-errors",
            "0%",
        ])
        .expect("create-association");
    let description = &out["AssociationDescription"];
    assert_eq!(description["ScheduleExpression"], "cron(0 5 ? * TUE *)");
    assert_eq!(description["Overview"]["Status"], "Pending");
    let listed = fleet
        .server
        .aws(&["ssm", "list-associations"])
        .expect("list-associations");
    assert_eq!(
        listed["Associations"][0]["AssociationId"],
        description["AssociationId"]
    );
}

/// `DeleteDocument` refuses a document an association still uses (the model's
/// `AssociatedInstances`), and deletes it once the association is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_in_use_by_an_association_is_not_deleted() {
    let fleet = Fleet::start(1, 0).await;
    let client = &fleet.client;
    client
        .create_document()
        .name("KeepTidy")
        .document_type(DocumentType::Command)
        .content(
            serde_json::json!({"schemaVersion": "2.2", "description": "tidy", "mainSteps": [
                {"action": "aws:runShellScript", "name": "tidy",
                 "inputs": {"runCommand": ["true"]}}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let id = client
        .create_association()
        .name("KeepTidy")
        .targets(tag_target())
        .send()
        .await
        .unwrap()
        .association_description
        .unwrap()
        .association_id
        .unwrap();
    let refused = code(client.delete_document().name("KeepTidy").send().await);
    assert!(refused.starts_with("AssociatedInstances: "), "{refused}");
    assert!(refused.contains(&id), "{refused}");
    client
        .delete_association()
        .association_id(&id)
        .send()
        .await
        .unwrap();
    client
        .delete_document()
        .name("KeepTidy")
        .send()
        .await
        .unwrap();

    // An AWS document Bosun does not provide yet: the refusal says so rather than that it does
    // not exist.
    let update = code(
        client
            .create_association()
            .name("AWS-RunPatchBaseline")
            .targets(tag_target())
            .schedule_expression("cron(0 5 ? * TUE *)")
            .send()
            .await,
    );
    assert!(update.starts_with("InvalidDocument: "), "{update}");
    assert!(update.contains("does not provide yet"), "{update}");
}
