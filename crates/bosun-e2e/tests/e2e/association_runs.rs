//! Associations really run: a real agent runs an association as soon as it is created, its
//! `Overview` and execution dates show the outcome (`Success`, or `Failed` for a failing
//! script), `ApplyOnlyAtCronInterval` waits for its slot, and a server restart (SIGKILL) does
//! not run a slot that already ran. `DescribeAssociationExecutions` lists the executions,
//! `DescribeAssociationExecutionTargets` their nodes, and `StartAssociationsOnce` runs one now.

use std::time::Duration;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{
    AssociationDescription, AssociationExecution, AssociationExecutionFilter,
    AssociationExecutionFilterKey, AssociationExecutionTargetsFilter,
    AssociationExecutionTargetsFilterKey, AssociationFilterOperatorType, Target,
};
use aws_sdk_ssm::Client;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;

const LIMIT: Duration = Duration::from_secs(60);

/// Create a `rate(30 minutes)` association of `AWS-RunShellScript` on the `env=test` nodes.
async fn create(client: &Client, script: &str) -> String {
    client
        .create_association()
        .name("AWS-RunShellScript")
        .targets(Target::builder().key("tag:env").values("test").build())
        .parameters("commands", vec![script.to_string()])
        .schedule_expression("rate(30 minutes)")
        .send()
        .await
        .expect("CreateAssociation")
        .association_description
        .unwrap()
        .association_id
        .unwrap()
}

async fn describe(client: &Client, id: &str) -> AssociationDescription {
    client
        .describe_association()
        .association_id(id)
        .send()
        .await
        .expect("DescribeAssociation")
        .association_description
        .unwrap()
}

/// Wait until the association's `Overview.Status` is final and return the description.
async fn wait_outcome(client: &Client, id: &str) -> AssociationDescription {
    wait_for(
        &format!("association {id} to finish a run"),
        LIMIT,
        || async {
            let d = describe(client, id).await;
            let status = d.overview()?.status()?;
            (status == "Success" || status == "Failed").then_some(d)
        },
    )
    .await
}

/// Ids of the commands whose `commands` parameter is `script`.
async fn commands_running(client: &Client, script: &str) -> Vec<String> {
    let out = client.list_commands().send().await.expect("ListCommands");
    out.commands()
        .iter()
        .filter(|c| {
            c.parameters()
                .and_then(|p| p.get("commands"))
                .is_some_and(|v| v == &vec![script.to_string()])
        })
        .map(|c| c.command_id().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn associations_run_at_creation_report_their_outcome_and_run_a_slot_once() {
    let mut fleet = Fleet::start(1, 1).await;
    let client = fleet.client.clone();
    let node = fleet.ids()[0].clone();

    let kept = create(&client, "echo state-kept").await;
    let d = wait_outcome(&client, &kept).await;
    let overview = d.overview().unwrap();
    assert_eq!(overview.status(), Some("Success"), "{d:?}");
    assert_eq!(overview.detailed_status(), Some("Success"));
    assert_eq!(
        overview
            .association_status_aggregated_count()
            .and_then(|c| c.get("Success")),
        Some(&1),
        "{d:?}"
    );
    assert!(d.last_execution_date().is_some(), "{d:?}");
    assert_eq!(d.last_execution_date(), d.last_successful_execution_date());
    let runs = commands_running(&client, "echo state-kept").await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    let inv = fleet.wait_done(&runs[0], &node, LIMIT).await;
    assert_eq!(inv.standard_output_content(), Some("state-kept\n"));
    let command = fleet.wait_command(&runs[0], LIMIT).await;
    assert_eq!(
        command.max_concurrency(),
        Some("100%"),
        "AWS's default for associations"
    );
    let listed = executions(&client, &kept, None).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].status(), Some("Success"));
    assert_eq!(listed[0].association_version(), Some("1"));
    assert_eq!(listed[0].resource_count_by_status(), Some("{Success=1}"));
    let id = listed[0].execution_id().unwrap();
    assert_eq!(
        executions_with(&client, &kept, "ExecutionId", id)
            .await
            .len(),
        1
    );
    assert!(executions_with(&client, &kept, "Status", "Failed")
        .await
        .is_empty());
    // The execution's targets: the command's invocations, one per node.
    let targets = client
        .describe_association_execution_targets()
        .association_id(&kept)
        .execution_id(id)
        .send()
        .await
        .expect("DescribeAssociationExecutionTargets");
    let targets = targets.association_execution_targets();
    assert_eq!(targets.len(), 1, "{targets:?}");
    assert_eq!(targets[0].resource_id(), Some(node.as_str()));
    assert_eq!(targets[0].resource_type(), Some("ManagedInstance"));
    assert_eq!(targets[0].status(), Some("Success"));
    let source = targets[0].output_source().unwrap();
    assert_eq!(source.output_source_type(), Some("RunCommand"));
    assert_eq!(source.output_source_id(), Some(runs[0].as_str()));
    let none = client
        .describe_association_execution_targets()
        .association_id(&kept)
        .execution_id(id)
        .filters(
            AssociationExecutionTargetsFilter::builder()
                .key(AssociationExecutionTargetsFilterKey::Status)
                .value("Failed")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(none.association_execution_targets().is_empty());
    let missing = client
        .describe_association_execution_targets()
        .association_id(&kept)
        .execution_id("00000000-0000-4000-8000-000000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("AssociationExecutionDoesNotExist"));

    // A crash and a restart: the slot that ran is recorded, so it does not run again.
    fleet.server.restart().await;
    let client = fleet.server.client();
    fleet.wait_online(&node).await;
    let waiting = client
        .create_association()
        .name("AWS-RunShellScript")
        .targets(Target::builder().key("tag:env").values("test").build())
        .parameters("commands", vec!["echo at-the-slot".to_string()])
        .schedule_expression("cron(0 5 ? * TUE *)")
        .apply_only_at_cron_interval(true)
        .send()
        .await
        .expect("CreateAssociation")
        .association_description
        .unwrap()
        .association_id
        .unwrap();
    let failing = create(&client, "exit 3").await;
    let d = wait_outcome(&client, &failing).await;
    let overview = d.overview().unwrap();
    assert_eq!(overview.status(), Some("Failed"), "{d:?}");
    assert_eq!(
        overview
            .association_status_aggregated_count()
            .and_then(|c| c.get("Failed")),
        Some(&1),
        "{d:?}"
    );
    assert!(d.last_execution_date().is_some());
    assert!(d.last_successful_execution_date().is_none(), "{d:?}");
    // The failing association was fired and rolled up by passes of the restarted server,
    // which considered every association: none ran again, and the cron one did not run.
    assert_eq!(commands_running(&client, "echo state-kept").await, runs);
    assert_eq!(commands_running(&client, "exit 3").await.len(), 1);
    assert!(commands_running(&client, "echo at-the-slot")
        .await
        .is_empty());
    let d = describe(&client, &waiting).await;
    assert_eq!(d.overview().unwrap().status(), Some("Pending"), "{d:?}");
    assert!(d.last_execution_date().is_none());
    assert!(executions(&client, &waiting, None).await.is_empty());

    // StartAssociationsOnce runs it now, as an execution of its own; unknown ids start nothing.
    let unknown = client
        .start_associations_once()
        .association_ids(&kept)
        .association_ids("00000000-0000-4000-8000-000000000000")
        .send()
        .await
        .expect_err("an unknown association");
    assert_eq!(unknown.code(), Some("AssociationDoesNotExist"));
    // Authorized on each association named: a deny on one refuses the call, nothing starts.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"ssm:*","Resource":"*"}},
            {{"Effect":"Deny","Action":"ssm:StartAssociationsOnce",
              "Resource":"arn:aws:ssm:us-east-1:000000000000:association/{kept}"}}]}}"#
    );
    let (limited, _, _) = fleet.server.user_with_policy("operator", &policy).await;
    let denied = limited
        .start_associations_once()
        .association_ids(&waiting)
        .association_ids(&kept)
        .send()
        .await
        .expect_err("a denied association");
    assert_eq!(denied.code(), Some("AccessDeniedException"));
    assert!(commands_running(&client, "echo at-the-slot")
        .await
        .is_empty());
    assert_eq!(commands_running(&client, "echo state-kept").await, runs);
    client
        .start_associations_once()
        .association_ids(&waiting)
        .send()
        .await
        .expect("StartAssociationsOnce");
    let ran = wait_for("the started association to run", LIMIT, || async {
        let list = commands_running(&client, "echo at-the-slot").await;
        (!list.is_empty()).then_some(list)
    })
    .await;
    let inv = fleet.wait_done(&ran[0], &node, LIMIT).await;
    assert_eq!(inv.standard_output_content(), Some("at-the-slot\n"));
    assert_eq!(
        wait_outcome(&client, &waiting)
            .await
            .overview()
            .unwrap()
            .status(),
        Some("Success")
    );
    assert_eq!(executions(&client, &waiting, None).await.len(), 1);
    assert_eq!(commands_running(&client, "echo state-kept").await, runs);
}

async fn executions(
    client: &Client,
    id: &str,
    filter: Option<AssociationExecutionFilter>,
) -> Vec<AssociationExecution> {
    client
        .describe_association_executions()
        .association_id(id)
        .set_filters(filter.map(|f| vec![f]))
        .send()
        .await
        .expect("DescribeAssociationExecutions")
        .association_executions
        .unwrap_or_default()
}

async fn executions_with(
    client: &Client,
    id: &str,
    key: &str,
    value: &str,
) -> Vec<AssociationExecution> {
    let filter = AssociationExecutionFilter::builder()
        .key(AssociationExecutionFilterKey::from(key))
        .value(value)
        .r#type(AssociationFilterOperatorType::Equal)
        .build()
        .unwrap();
    executions(client, id, Some(filter)).await
}
