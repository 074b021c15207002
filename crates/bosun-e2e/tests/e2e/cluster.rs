//! Several `bosun server` replicas serving one PostgreSQL database at once (issue 13): agents
//! connected to different replicas, commands sent through a third, and the command's owning
//! replica killed mid fan-out. Skipped with a message without PostgreSQL's binaries (a failure
//! under `BOSUN_REQUIRE_PG=1`, as in CI).

use std::path::Path;
use std::time::Duration;

use aws_sdk_ssm::types::{CommandInvocationStatus, CommandStatus};
use bosun_e2e::agent::{register, Agent};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::server::{client as client_for, postgres_database};
use bosun_e2e::{wait_for, TestServer};

const LIMIT: Duration = Duration::from_secs(30);
/// A command's lease (15 s) running out, agents reconnecting, resends (5 s), and the steps.
const FAILOVER_LIMIT: Duration = Duration::from_secs(90);

/// Three replicas of one database (the second and third given the first's keyring), and
/// agents: two connected to the first (then the second), two to the second (then the first).
pub(crate) async fn cluster(url: &str) -> (Vec<TestServer>, Vec<Agent>) {
    cluster_with(url, None).await
}

/// [`cluster`], each agent started with this `agent.json`, if any.
async fn cluster_with(url: &str, agent_json: Option<&str>) -> (Vec<TestServer>, Vec<Agent>) {
    let first = TestServer::start_with(&["--database", url]).await;
    let keyring = first.data_dir().join("kms/keyring.json");
    let mut replicas = vec![first];
    for _ in 0..2 {
        let args = [
            "--database",
            url,
            "--kms-key-file",
            keyring.to_str().unwrap(),
        ];
        replicas.push(TestServer::start_with(&args).await);
    }
    let out = replicas[0]
        .client()
        .create_activation()
        .iam_role("BosunNode")
        .registration_limit(4)
        .send()
        .await
        .expect("CreateActivation");
    let (id, code) = (out.activation_id.unwrap(), out.activation_code.unwrap());
    let a_then_b = format!("{},{}", replicas[0].url, replicas[1].url);
    let b_then_a = format!("{},{}", replicas[1].url, replicas[0].url);
    let mut agents = Vec::new();
    for servers in [&a_then_b, &a_then_b, &b_then_a, &b_then_a] {
        let mut agent = register(servers, &id, &code, None, &[])
            .await
            .expect("register");
        if let Some(json) = agent_json {
            std::fs::write(agent.state_dir.join("agent.json"), json).expect("agent.json");
        }
        agent.start();
        agents.push(agent);
    }
    (replicas, agents)
}

/// A fleet whose API client talks to `replicas[via]` with the first replica's admin key.
pub(crate) fn fleet_via(replicas: &mut Vec<TestServer>, agents: Vec<Agent>, via: usize) -> Fleet {
    let (akid, secret) = replicas[0].admin_credentials();
    let client = client_for(&replicas[via].url, "us-east-1", &akid, &secret);
    Fleet {
        server: replicas.remove(via),
        client,
        agents,
    }
}

/// The index of the replica whose log says it took ownership of `command_id` (epoch 1).
async fn owner_of(replicas: &[&TestServer], command_id: &str) -> usize {
    wait_for("a replica to own the command", LIMIT, || async {
        replicas.iter().position(|r| {
            r.log()
                .lines()
                .any(|l| l.contains("took ownership") && l.contains(command_id))
        })
    })
    .await
}

fn marks(dir: &Path, node: &str) -> String {
    std::fs::read_to_string(dir.join(node)).unwrap_or_default()
}

/// A command through `fleet` running one node at a time, each run leaving `start`/`end` marker
/// lines in the returned directory; returns once a first node has finished, with the command
/// id and the index of its owning replica (`replicas[0]`, `replicas[1]`, then `fleet.server`).
async fn slow_fan_out(
    fleet: &Fleet,
    replicas: &[TestServer],
    ids: &[String],
) -> (tempfile::TempDir, String, usize) {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("{}/$AWS_SSM_INSTANCE_ID", dir.path().display());
    let commands = vec![
        format!("echo start >> {marker}"),
        "sleep 2".to_string(),
        format!("echo end >> {marker}"),
    ];
    let slow = fleet
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some(ids.to_vec()))
        .parameters("commands", commands)
        .max_concurrency("1")
        .send()
        .await
        .expect("SendCommand")
        .command
        .unwrap()
        .command_id
        .unwrap();
    let owner = {
        let all = [&replicas[0], &replicas[1], &fleet.server];
        owner_of(&all, &slow).await
    };
    wait_for("a first node to finish", LIMIT, || async {
        ids.iter()
            .any(|id| marks(dir.path(), id).contains("end"))
            .then_some(())
    })
    .await;
    (dir, slow, owner)
}

/// Every node ran the slow command's step exactly once and the command succeeded.
async fn assert_ran_once(fleet: &Fleet, dir: &Path, slow: &str, ids: &[String]) {
    let done = fleet.wait_command(slow, FAILOVER_LIMIT).await;
    assert_eq!(done.status(), Some(&CommandStatus::Success), "{done:?}");
    assert_eq!((done.completed_count(), done.error_count()), (4, 0));
    for id in ids {
        let inv = fleet.wait_done(slow, id, LIMIT).await;
        assert_eq!(
            inv.status(),
            Some(&CommandInvocationStatus::Success),
            "{id}"
        );
        assert_eq!(
            marks(dir, id),
            "start\nend\n",
            "{id} ran its step exactly once"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_one_database_and_finish_a_fan_out_when_its_owner_is_killed() {
    let Some(url) = postgres_database().await else {
        return;
    };
    let (mut replicas, agents) = cluster(&url).await;
    // The API through the third replica, which no agent is connected to.
    let fleet = fleet_via(&mut replicas, agents, 2);
    let ids = fleet.ids();
    for id in &ids {
        fleet.wait_online(id).await;
    }

    // Every node is reached, whichever replica holds its connection.
    let hello = fleet
        .run(&ids, &["echo hello from $AWS_SSM_INSTANCE_ID"], &[])
        .await;
    for id in &ids {
        let inv = fleet.wait_done(&hello, id, LIMIT).await;
        assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
        assert_eq!(
            inv.standard_output_content(),
            Some(format!("hello from {id}\n").as_str())
        );
    }
    let c = fleet.wait_command(&hello, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Success));
    assert_eq!(
        (c.target_count(), c.completed_count(), c.error_count()),
        (4, 4, 0)
    );

    // One node at a time, each run leaving marker lines; kill the owner after the first ends.
    let (dir, slow, owner) = slow_fan_out(&fleet, &replicas, &ids).await;
    let mut fleet = fleet;
    let survivor = match owner {
        2 => {
            fleet.server.kill().await;
            0
        }
        n => {
            replicas[n].kill().await;
            1 - n
        }
    };
    let (akid, secret) = replicas[0].admin_credentials();
    fleet.client = client_for(&replicas[survivor].url, "us-east-1", &akid, &secret);
    assert_ran_once(&fleet, dir.path(), &slow, &ids).await;
    // A survivor took the command over (a claim after the owner's, so with a new epoch).
    let others: Vec<&TestServer> = [&replicas[0], &replicas[1], &fleet.server]
        .into_iter()
        .enumerate()
        .filter(|(n, _)| *n != owner)
        .map(|(_, r)| r)
        .collect();
    owner_of(&others, &slow).await;
    // Every node is online again, on a survivor.
    for id in &ids {
        fleet.wait_online(id).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_stopped_with_sigterm_leaves_and_its_command_is_taken_over() {
    let Some(url) = postgres_database().await else {
        return;
    };
    let (mut replicas, agents) = cluster(&url).await;
    let mut fleet = fleet_via(&mut replicas, agents, 2);
    let ids = fleet.ids();
    for id in &ids {
        fleet.wait_online(id).await;
    }
    let (dir, slow, owner) = slow_fan_out(&fleet, &replicas, &ids).await;
    // A drain, as in a rolling upgrade: the owner exits cleanly, leaving the database.
    let survivor = match owner {
        2 => 0,
        n => 1 - n,
    };
    let stopping = if owner == 2 {
        &mut fleet.server
    } else {
        &mut replicas[owner]
    };
    let exit = stopping.terminate(LIMIT).await;
    assert!(exit.success(), "{exit:?}");
    assert!(
        stopping.log().contains("left the database"),
        "{}",
        stopping.log()
    );
    let (akid, secret) = replicas[0].admin_credentials();
    fleet.client = client_for(&replicas[survivor].url, "us-east-1", &akid, &secret);
    assert_ran_once(&fleet, dir.path(), &slow, &ids).await;
    let others: Vec<&TestServer> = [&replicas[0], &replicas[1], &fleet.server]
        .into_iter()
        .enumerate()
        .filter(|(n, _)| *n != owner)
        .map(|(_, r)| r)
        .collect();
    owner_of(&others, &slow).await;
}

/// Send `signal` (`STOP`, `CONT`) to a replica's process.
fn signal(server: &TestServer, signal: &str) {
    let pid = server.pid().expect("the replica runs").to_string();
    let ok = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .expect("kill(1)")
        .success();
    assert!(ok, "kill -{signal} {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_owner_is_replaced_and_changes_nothing_when_it_wakes() {
    let Some(url) = postgres_database().await else {
        return;
    };
    let (mut replicas, agents) = cluster(&url).await;
    let mut fleet = fleet_via(&mut replicas, agents, 2);
    let ids = fleet.ids();
    for id in &ids {
        fleet.wait_online(id).await;
    }
    let (dir, slow, owner) = slow_fan_out(&fleet, &replicas, &ids).await;
    // SIGSTOP, not a kill: sockets stay open and the lease stays in the database, so the others
    // must notice by silence (agents) and by the lease running out (the command). The frozen
    // set always holds agents: with the agentless third replica as owner, the first freezes too.
    let frozen: Vec<usize> = if owner == 2 { vec![2, 0] } else { vec![owner] };
    let survivor = if frozen.contains(&0) { 1 } else { 0 };
    let replica = |n: usize| if n == 2 { &fleet.server } else { &replicas[n] };
    for &n in &frozen {
        signal(replica(n), "STOP");
    }
    let (akid, secret) = replicas[0].admin_credentials();
    let owner_url = replica(owner).url.clone();
    fleet.client = client_for(&replicas[survivor].url, "us-east-1", &akid, &secret);
    assert_ran_once(&fleet, dir.path(), &slow, &ids).await;

    // Woken, the old owner's stale writes are fenced: it serves again and the finished
    // command, its counts and the nodes' runs stay as they are.
    for &n in &frozen {
        signal(if n == 2 { &fleet.server } else { &replicas[n] }, "CONT");
    }
    let woken = client_for(&owner_url, "us-east-1", &akid, &secret);
    let seen = wait_for("the woken owner to answer", LIMIT, || async {
        woken
            .list_commands()
            .command_id(&slow)
            .send()
            .await
            .ok()
            .and_then(|out| out.commands.and_then(|c| c.into_iter().next()))
    })
    .await;
    assert_eq!(seen.status(), Some(&CommandStatus::Success), "{seen:?}");
    assert_ran_once(&fleet, dir.path(), &slow, &ids).await;
    for id in &ids {
        fleet.wait_online(id).await;
    }
}

/// A command through `fleet` (`AWS-RunShellScript`) with these commands and parameters.
async fn send(fleet: &Fleet, ids: &[String], command: &str, params: &[(&str, &str)]) -> String {
    let mut req = fleet
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some(ids.to_vec()))
        .parameters("commands", vec![command.to_string()])
        .timeout_seconds(30);
    for (k, v) in params {
        req = req.parameters(*k, vec![v.to_string()]);
    }
    req.send()
        .await
        .expect("SendCommand")
        .command
        .unwrap()
        .command_id
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_stops_queued_steps_on_nodes_of_every_replica() {
    let Some(url) = postgres_database().await else {
        return;
    };
    // One command worker per node, so a second command waits, acknowledged, behind the first.
    let (mut replicas, agents) =
        cluster_with(&url, Some(r#"{"Mds":{"CommandWorkersLimit":1}}"#)).await;
    // Sent through the agentless third replica: whichever replica owns the command, the nodes
    // of at least one other replica have it.
    let fleet = fleet_via(&mut replicas, agents, 2);
    let ids = fleet.ids();
    for id in &ids {
        fleet.wait_online(id).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let started = format!(
        "touch {}/started-$AWS_SSM_INSTANCE_ID; sleep 300",
        dir.path().display()
    );
    let blocker = send(&fleet, &ids, &started, &[("executionTimeout", "400")]).await;
    // Each node's only worker busy before the next command is sent (deliveries from different
    // replicas' passes may otherwise arrive in either order).
    for node in &ids {
        let marker = dir.path().join(format!("started-{node}"));
        wait_for(&format!("{node} running the blocker"), LIMIT, || async {
            marker.exists().then_some(())
        })
        .await;
    }
    let marker = format!("touch {}/$AWS_SSM_INSTANCE_ID", dir.path().display());
    // Its deadline: 30 s to deliver + 5 s to run, passed while it waits for the worker.
    let queued = send(&fleet, &ids, &marker, &[("executionTimeout", "5")]).await;
    let owner = {
        let all = [&replicas[0], &replicas[1], &fleet.server];
        owner_of(&all, &queued).await
    };
    for node in &ids {
        let inv = fleet
            .wait_done(&queued, node, Duration::from_secs(90))
            .await;
        assert_eq!(inv.status_details(), Some("DeliveryTimedOut"), "{node}");
    }
    // The replicas holding nodes, other than the owner, told their nodes to drop it.
    for (n, replica) in replicas.iter().enumerate().filter(|(n, _)| *n != owner) {
        wait_for(
            &format!("replica {n} to stop the queued command"),
            LIMIT,
            || async {
                replica
                    .log()
                    .lines()
                    .any(|l| l.contains("past its deadline stopped") && l.contains(&queued))
                    .then_some(())
            },
        )
        .await;
    }
    // Freed, the nodes never run it.
    fleet
        .client
        .cancel_command()
        .command_id(&blocker)
        .send()
        .await
        .expect("CancelCommand");
    fleet.wait_command(&blocker, LIMIT).await;
    let probe = fleet.run(&ids, &["true"], &[]).await;
    for node in &ids {
        fleet.wait_done(&probe, node, LIMIT).await;
        assert!(
            !dir.path().join(node).exists(),
            "{node} ran an expired command"
        );
    }
}
