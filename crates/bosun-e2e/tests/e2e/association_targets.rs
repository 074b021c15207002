//! An association's targets as they change, with real agents: its `Overview` counts every
//! node it targets (also after a run that reached only a newly tagged node), a node untagged
//! or deregistered leaves its node statuses, `Association` compliance and `Overview`, and a
//! `resource-groups:Name` association runs on the group's nodes, then on a node that joins the
//! group. Execution targets name their Run Command command as AWS does.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ssm::types::{
    ComplianceItem, ComplianceQueryOperatorType, ComplianceStringFilter, ResourceTypeForTagging,
    Tag, Target,
};
use aws_sdk_ssm::Client;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;

const LIMIT: Duration = Duration::from_secs(60);

async fn tag(client: &Client, node: &str, key: &str, value: &str) {
    client
        .add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::ManagedInstance)
        .resource_id(node)
        .tags(Tag::builder().key(key).value(value).build().unwrap())
        .send()
        .await
        .expect("AddTagsToResource");
}

async fn create(client: &Client, target: Target) -> String {
    client
        .create_association()
        .name("AWS-RunShellScript")
        .targets(target)
        .parameters("commands", vec!["echo converged".to_string()])
        .schedule_expression("rate(30 minutes)")
        .send()
        .await
        .expect("CreateAssociation")
        .association_description
        .unwrap()
        .association_id
        .unwrap()
}

/// The association's `Overview` once it is `want` with `counts`.
async fn wait_overview(client: &Client, id: &str, want: &str, counts: &[(&str, i32)]) {
    let counts: BTreeMap<String, i32> = counts.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    wait_for(
        &format!("Overview {want} {counts:?} of {id}"),
        LIMIT,
        || async {
            let d = client
                .describe_association()
                .association_id(id)
                .send()
                .await
                .ok()?
                .association_description?;
            let o = d.overview()?.clone();
            let got: BTreeMap<String, i32> = o
                .association_status_aggregated_count()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect();
            (o.status() == Some(want) && got == counts).then_some(())
        },
    )
    .await
}

/// Execution ids of the association that ended with `Success`, latest first, once there are
/// `n`.
async fn wait_successes(client: &Client, id: &str, n: usize) -> Vec<String> {
    wait_for(
        &format!("{n} successful executions of {id}"),
        LIMIT,
        || async {
            let list = client
                .describe_association_executions()
                .association_id(id)
                .send()
                .await
                .ok()?
                .association_executions
                .unwrap_or_default();
            (list.len() == n && list.iter().all(|e| e.status() == Some("Success"))).then(|| {
                list.iter()
                    .map(|e| e.execution_id().unwrap().to_string())
                    .collect()
            })
        },
    )
    .await
}

/// The nodes an execution ran on, sorted, checking each target's shape.
async fn execution_nodes(client: &Client, id: &str, execution: &str) -> Vec<String> {
    let out = client
        .describe_association_execution_targets()
        .association_id(id)
        .execution_id(execution)
        .send()
        .await
        .expect("DescribeAssociationExecutionTargets");
    let mut nodes = Vec::new();
    for t in out.association_execution_targets() {
        assert_eq!(t.resource_type(), Some("ManagedInstance"));
        assert_eq!(
            (t.status(), t.detailed_status()),
            (Some("Success"), Some("Success"))
        );
        let source = t.output_source().expect("OutputSource");
        assert_eq!(source.output_source_type(), Some("RunCommand"));
        let command = source.output_source_id().unwrap();
        let listed = client
            .list_command_invocations()
            .command_id(command)
            .instance_id(t.resource_id().unwrap())
            .send()
            .await
            .expect("ListCommandInvocations");
        assert_eq!(
            listed.command_invocations().len(),
            1,
            "OutputSourceId is the node's Run Command command"
        );
        nodes.push(t.resource_id().unwrap().to_string());
    }
    nodes.sort();
    nodes
}

async fn association_items(client: &Client, node: &str, id: &str) -> Vec<ComplianceItem> {
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
        .into_iter()
        .filter(|i| i.id() == Some(id))
        .collect()
}

async fn node_statuses(client: &Client, node: &str) -> Vec<String> {
    let out = client
        .describe_instance_associations_status()
        .instance_id(node)
        .send()
        .await
        .expect("DescribeInstanceAssociationsStatus");
    for info in out.instance_association_status_infos() {
        assert_eq!(
            info.error_code(),
            None,
            "no ErrorCode for a run that worked"
        );
        assert!(
            info.output_url().is_none(),
            "no OutputLocation, no OutputUrl"
        );
    }
    out.instance_association_status_infos()
        .iter()
        .map(|i| i.association_id().unwrap().to_string())
        .collect()
}

/// Wait until `node` has no `Association` item of association `id` and (unless it is
/// deregistered: then the node is unknown to `DescribeInstanceAssociationsStatus`) no status
/// row.
async fn wait_forgotten(client: &Client, node: &str, id: &str, deregistered: bool) {
    wait_for(&format!("{node} to leave {id}"), LIMIT, || async {
        let statuses = if deregistered {
            Vec::new()
        } else {
            node_statuses(client, node).await
        };
        let items = association_items(client, node, id).await;
        (!statuses.iter().any(|s| s == id) && items.is_empty()).then_some(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_counts_every_target_and_nodes_that_leave_are_forgotten() {
    let fleet = Fleet::start(3, 3).await;
    let client = fleet.client.clone();
    let mut ids = fleet.ids();
    ids.sort();
    for node in &ids[..2] {
        tag(&client, node, "role", "web").await;
    }
    let web = Target::builder().key("tag:role").values("web").build();
    let id = create(&client, web).await;
    let first = wait_successes(&client, &id, 1).await;
    assert_eq!(
        execution_nodes(&client, &id, &first[0]).await,
        ids[..2].to_vec()
    );
    wait_overview(&client, &id, "Success", &[("Success", 2)]).await;

    // A node tagged later runs in an execution of its own; the Overview still counts all three.
    tag(&client, &ids[2], "role", "web").await;
    let runs = wait_successes(&client, &id, 2).await;
    assert_eq!(
        execution_nodes(&client, &id, &runs[0]).await,
        vec![ids[2].clone()]
    );
    wait_overview(&client, &id, "Success", &[("Success", 3)]).await;
    for node in &ids {
        assert_eq!(node_statuses(&client, node).await, vec![id.clone()]);
        let items = association_items(&client, node, &id).await;
        assert_eq!(items.len(), 1, "{node}");
        assert_eq!(items[0].status().map(|s| s.as_str()), Some("COMPLIANT"));
    }

    // Untagged: no longer a target, so no longer counted or reported for the association.
    client
        .remove_tags_from_resource()
        .resource_type(ResourceTypeForTagging::ManagedInstance)
        .resource_id(&ids[2])
        .tag_keys("role")
        .send()
        .await
        .expect("RemoveTagsFromResource");
    wait_forgotten(&client, &ids[2], &id, false).await;
    wait_overview(&client, &id, "Success", &[("Success", 2)]).await;

    // Deregistered: its rows go too.
    client
        .deregister_managed_instance()
        .instance_id(&ids[1])
        .send()
        .await
        .expect("DeregisterManagedInstance");
    wait_forgotten(&client, &ids[1], &id, true).await;
    wait_overview(&client, &id, "Success", &[("Success", 1)]).await;
    assert_eq!(node_statuses(&client, &ids[0]).await, vec![id.clone()]);
    assert_eq!(association_items(&client, &ids[0], &id).await.len(), 1);

    // Tagged again: a node that matches again gets the association again.
    tag(&client, &ids[2], "role", "web").await;
    wait_successes(&client, &id, 3).await;
    wait_overview(&client, &id, "Success", &[("Success", 2)]).await;
}

fn group_query(key: &str, value: &str) -> String {
    let inner = format!(
        r#"{{"ResourceTypeFilters":["AWS::EC2::Instance"],"TagFilters":[{{"Key":"{key}","Values":["{value}"]}}]}}"#
    );
    serde_json::json!({ "Type": "TAG_FILTERS_1_0", "Query": inner }).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_association_targeting_a_resource_group_runs_on_its_nodes() {
    let fleet = Fleet::start(3, 3).await;
    let client = fleet.client.clone();
    let mut ids = fleet.ids();
    ids.sort();
    for node in &ids[..2] {
        tag(&client, node, "team", "blue").await;
    }
    fleet
        .server
        .aws(&[
            "resource-groups",
            "create-group",
            "--name",
            "blue-nodes",
            "--resource-query",
            &group_query("team", "blue"),
        ])
        .expect("create-group");
    let group = Target::builder()
        .key("resource-groups:Name")
        .values("blue-nodes")
        .build();
    let id = create(&client, group).await;
    let first = wait_successes(&client, &id, 1).await;
    assert_eq!(
        execution_nodes(&client, &id, &first[0]).await,
        ids[..2].to_vec()
    );
    wait_overview(&client, &id, "Success", &[("Success", 2)]).await;

    // A node that joins the group (by its tag) gets the association.
    tag(&client, &ids[2], "team", "blue").await;
    let runs = wait_successes(&client, &id, 2).await;
    assert_eq!(
        execution_nodes(&client, &id, &runs[0]).await,
        vec![ids[2].clone()]
    );
    wait_overview(&client, &id, "Success", &[("Success", 3)]).await;
}
