//! Associations against a changing world: a cron slot that passes while the server is down
//! (`kill -9`) runs exactly once after the restart, and a node that newly matches an
//! association's targets (registered later, tagged later) gets it within seconds while the
//! nodes that already have it are not run again. Each run appends the node's id to a marker
//! file on the agent side, so the lines count the real runs.

use std::path::Path;
use std::time::Duration;

use aws_sdk_ssm::types::{AssociationExecution, ResourceTypeForTagging, Tag, Target};
use aws_sdk_ssm::Client;
use bosun_e2e::agent::register;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;
use jiff::{Timestamp, ToSpan};

const LIMIT: Duration = Duration::from_secs(60);

/// A shell step that appends the node's id to `marker`.
fn mark(marker: &Path) -> String {
    format!("echo \"$AWS_SSM_INSTANCE_ID\" >> {}", marker.display())
}

/// The marker's lines (node ids), sorted.
fn marks(marker: &Path) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_to_string(marker)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

async fn wait_marks(marker: &Path, expected: &[String]) {
    let mut expected = expected.to_vec();
    expected.sort();
    wait_for(
        &format!("{} to list {expected:?}", marker.display()),
        LIMIT,
        || async { (marks(marker) == expected).then_some(()) },
    )
    .await
}

async fn create(client: &Client, targets: Target, script: &str, schedule: &str) -> String {
    client
        .create_association()
        .name("AWS-RunShellScript")
        .targets(targets)
        .parameters("commands", vec![script.to_string()])
        .schedule_expression(schedule)
        .send()
        .await
        .expect("CreateAssociation")
        .association_description
        .unwrap()
        .association_id
        .unwrap()
}

async fn executions(client: &Client, id: &str) -> Vec<AssociationExecution> {
    client
        .describe_association_executions()
        .association_id(id)
        .send()
        .await
        .expect("DescribeAssociationExecutions")
        .association_executions
        .unwrap_or_default()
}

/// Wait until the association has `n` executions, all `Success`.
async fn wait_successes(client: &Client, id: &str, n: usize) -> Vec<AssociationExecution> {
    wait_for(
        &format!("{n} successful executions of {id}"),
        LIMIT,
        || async {
            let list = executions(client, id).await;
            (list.len() == n && list.iter().all(|e| e.status() == Some("Success"))).then_some(list)
        },
    )
    .await
}

fn env_test() -> Target {
    Target::builder().key("tag:env").values("test").build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_slot_missed_during_a_crash_runs_once_after_the_restart() {
    let mut fleet = Fleet::start(1, 1).await;
    let client = fleet.client.clone();
    let node = fleet.ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("slot");

    // The next whole minute at least 20 s away: time to create the association and crash.
    let now = Timestamp::now();
    let mut slot = now
        .round(
            jiff::TimestampRound::new()
                .smallest(jiff::Unit::Minute)
                .mode(jiff::RoundMode::Ceil),
        )
        .unwrap();
    if slot.duration_since(now).as_secs() < 20 {
        slot = slot.checked_add(1.minute()).unwrap();
    }
    let at = slot.to_zoned(jiff::tz::TimeZone::UTC);
    let schedule = format!("cron({} {} * * ? *)", at.minute(), at.hour());
    let id = client
        .create_association()
        .name("AWS-RunShellScript")
        .targets(env_test())
        .parameters("commands", vec![mark(&marker)])
        .schedule_expression(&schedule)
        .apply_only_at_cron_interval(true)
        .send()
        .await
        .expect("CreateAssociation")
        .association_description
        .unwrap()
        .association_id
        .unwrap();
    assert!(executions(&client, &id).await.is_empty(), "not at creation");

    fleet.server.kill().await;
    assert!(Timestamp::now() < slot, "the server died before the slot");
    wait_for("the slot to pass", Duration::from_secs(120), || async {
        (Timestamp::now() >= slot.checked_add(2.seconds()).unwrap()).then_some(())
    })
    .await;
    fleet.server.restart().await;
    let client = fleet.server.client();
    // The agent reconnects with a backoff that grew while the server was down: no
    // `wait_online` (20 s); the run itself is the proof it is back.
    let ran = wait_for(
        "the missed slot's run",
        Duration::from_secs(150),
        || async {
            let list = executions(&client, &id).await;
            list.iter()
                .any(|e| e.status() == Some("Success"))
                .then_some(list)
        },
    )
    .await;
    assert_eq!(ran.len(), 1, "{ran:?}");
    wait_marks(&marker, std::slice::from_ref(&node)).await;
    assert_eq!(ran[0].association_version(), Some("1"));

    // Another crash after the run: the slot stays done. A new association's run proves the
    // restarted scheduler has looked at every association since.
    fleet.server.restart().await;
    let client = fleet.server.client();
    let probe_marker = dir.path().join("probe");
    let probe = create(
        &client,
        env_test(),
        &mark(&probe_marker),
        "rate(30 minutes)",
    )
    .await;
    // As above: the agent comes back after its reconnect backoff.
    wait_for("the probe's run", Duration::from_secs(150), || async {
        (marks(&probe_marker) == [node.clone()]).then_some(())
    })
    .await;
    wait_successes(&client, &probe, 1).await;
    assert_eq!(executions(&client, &id).await.len(), 1);
    assert_eq!(marks(&marker), vec![node]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_that_newly_match_get_the_association_and_the_others_do_not_run_again() {
    let mut fleet = Fleet::start(2, 2).await;
    let client = fleet.client.clone();
    let first = fleet.ids();
    let dir = tempfile::tempdir().unwrap();
    let tagged_marker = dir.path().join("tagged");
    let everyone_marker = dir.path().join("everyone");

    let tagged = create(
        &client,
        env_test(),
        &mark(&tagged_marker),
        "rate(30 minutes)",
    )
    .await;
    let everyone = create(
        &client,
        Target::builder().key("InstanceIds").values("*").build(),
        &mark(&everyone_marker),
        "rate(30 minutes)",
    )
    .await;
    wait_successes(&client, &tagged, 1).await;
    wait_successes(&client, &everyone, 1).await;
    wait_marks(&tagged_marker, &first).await;
    wait_marks(&everyone_marker, &first).await;

    // A node registered afterwards, without the tag: `*` reaches it, the tag target does not.
    let out = client
        .create_activation()
        .iam_role("BosunNode")
        .send()
        .await
        .expect("CreateActivation");
    let mut late = register(
        &fleet.server.url,
        out.activation_id().unwrap(),
        out.activation_code().unwrap(),
        None,
        &[],
    )
    .await
    .expect("register");
    late.start();
    fleet.wait_online(&late.instance_id).await;
    let mut all = first.clone();
    all.push(late.instance_id.clone());
    wait_marks(&everyone_marker, &all).await;
    let runs = wait_successes(&client, &everyone, 2).await;
    let newest = runs.iter().max_by_key(|e| e.created_time()).unwrap();
    let targets = client
        .describe_association_execution_targets()
        .association_id(&everyone)
        .execution_id(newest.execution_id().unwrap())
        .send()
        .await
        .expect("DescribeAssociationExecutionTargets");
    let nodes: Vec<_> = targets
        .association_execution_targets()
        .iter()
        .map(|t| t.resource_id().unwrap().to_string())
        .collect();
    assert_eq!(
        nodes,
        vec![late.instance_id.clone()],
        "only the new node ran"
    );
    assert_eq!(executions(&client, &tagged).await.len(), 1);

    // Tagged later: it gets the tag association, once.
    client
        .add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::ManagedInstance)
        .resource_id(&late.instance_id)
        .tags(Tag::builder().key("env").value("test").build().unwrap())
        .send()
        .await
        .expect("AddTagsToResource");
    wait_marks(&tagged_marker, &all).await;
    wait_successes(&client, &tagged, 2).await;

    // A restart looks for new nodes again and finds none: nothing runs twice.
    fleet.server.restart().await;
    let client = fleet.server.client();
    for id in &all {
        fleet.wait_online(id).await;
    }
    let probe_marker = dir.path().join("probe");
    let probe = create(
        &client,
        env_test(),
        &mark(&probe_marker),
        "rate(30 minutes)",
    )
    .await;
    wait_marks(&probe_marker, &all).await;
    wait_successes(&client, &probe, 1).await;
    assert_eq!(executions(&client, &tagged).await.len(), 2);
    assert_eq!(executions(&client, &everyone).await.len(), 2);
    assert_eq!(marks(&tagged_marker), {
        let mut s = all.clone();
        s.sort();
        s
    });
    assert_eq!(marks(&everyone_marker).len(), 3);
}
