//! PostgreSQL under stress (issue 13): a database restart in the middle of a fan-out loses no
//! invocation and runs none twice; servers started together on an empty database migrate it
//! exactly once and bootstrap one admin. Each test runs its own private cluster, so restarting it disturbs no other
//! test. Skipped with a message without PostgreSQL's binaries (a failure under
//! `BOSUN_REQUIRE_PG=1`, as in CI).

use std::time::Duration;

use aws_sdk_ssm::types::CommandInvocationStatus;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::{bin, wait_for, TestServer};
use bosun_store_pg::testing::PgCluster;

const LIMIT: Duration = Duration::from_secs(120);
const NODES: usize = 4;

async fn private_cluster(empty: bool) -> Option<(PgCluster, String)> {
    tokio::task::spawn_blocking(move || {
        let cluster = PgCluster::start()?;
        let url = if empty {
            cluster.fresh_empty_database()
        } else {
            cluster.fresh_database()
        };
        Some((cluster, url))
    })
    .await
    .expect("starting PostgreSQL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_during_fan_out_loses_nothing_and_runs_nothing_twice() {
    let Some((cluster, url)) = private_cluster(false).await else {
        return;
    };
    let server = TestServer::start_with(&["--database", &url]).await;
    let fleet = Fleet::start_on(server, NODES, NODES).await;
    let marks = tempfile::tempdir().unwrap();
    let mark = format!(
        "echo ran >> {}/\"$AWS_SSM_INSTANCE_ID\"",
        marks.path().display()
    );
    // One node at a time, two seconds each: the restart lands mid fan-out.
    let cmd = fleet
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some(fleet.ids()))
        .parameters("commands", vec![mark, "sleep 2".into()])
        .max_concurrency("1")
        .send()
        .await
        .expect("SendCommand")
        .command
        .unwrap()
        .command_id
        .unwrap();
    wait_for("the first node to start running", LIMIT, || async {
        (std::fs::read_dir(marks.path()).ok()?.count() > 0).then_some(())
    })
    .await;

    let _cluster = tokio::task::spawn_blocking(move || {
        cluster.restart();
        cluster
    })
    .await
    .unwrap();

    for id in fleet.ids() {
        let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
        assert_eq!(
            inv.status(),
            Some(&CommandInvocationStatus::Success),
            "{id}: {:?}",
            inv.status_details()
        );
        let ran = std::fs::read_to_string(marks.path().join(&id)).unwrap_or_default();
        assert_eq!(ran, "ran\n", "{id} ran the command exactly once");
    }
    let listed = wait_for("the command's aggregate status", LIMIT, || async {
        let out = fleet
            .client
            .list_commands()
            .command_id(&cmd)
            .send()
            .await
            .ok()?;
        let c = out.commands().first()?.clone();
        (c.status() == Some(&aws_sdk_ssm::types::CommandStatus::Success)).then_some(c)
    })
    .await;
    assert_eq!(listed.completed_count(), NODES as i32);
    assert_eq!(listed.error_count(), 0);
}

/// A result that reaches the server while the database is down is stored once it is back,
/// without the agent reconnecting: the connection stays up, so the agent sends the
/// unacknowledged result again on its own (and the server retries a failed write).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_that_arrives_while_postgres_is_down_is_stored_when_it_returns() {
    let Some((cluster, url)) = private_cluster(false).await else {
        return;
    };
    let server = TestServer::start_with(&["--database", &url]).await;
    let fleet = Fleet::start_on(server, 1, 1).await;
    let id = fleet.ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let (started, go) = (dir.path().join("started"), dir.path().join("go"));
    // The command finishes only once the test says so, while the database is down.
    let script = format!(
        "touch {}; while [ ! -e {} ]; do sleep 0.1; done; echo finished",
        started.display(),
        go.display()
    );
    let cmd = fleet
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(&id)
        .parameters("commands", vec![script])
        .send()
        .await
        .expect("SendCommand")
        .command
        .unwrap()
        .command_id
        .unwrap();
    wait_for("the command to start on the node", LIMIT, || async {
        started.exists().then_some(())
    })
    .await;
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.stop();
        cluster
    })
    .await
    .unwrap();
    std::fs::write(&go, "").unwrap();
    wait_for("the server to fail to take the result", LIMIT, || async {
        let log = fleet.server.log();
        (log.contains("could not handle an agent report")
            || log.contains("could not store agent reports"))
        .then_some(())
    })
    .await;
    let _cluster = tokio::task::spawn_blocking(move || {
        cluster.restart();
        cluster
    })
    .await
    .unwrap();
    let inv = fleet.wait_done(&cmd, &id, LIMIT).await;
    assert_eq!(
        inv.status(),
        Some(&CommandInvocationStatus::Success),
        "{:?}",
        inv.status_details()
    );
    assert_eq!(inv.standard_output_content(), Some("finished\n"));
    let agent_log = fleet.agents[0].log();
    assert_eq!(
        agent_log.matches("connected to the server").count(),
        1,
        "the agent stayed connected: {agent_log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_started_together_on_an_empty_database_migrate_it_once_and_all_serve() {
    let Some((_cluster, url)) = private_cluster(true).await else {
        return;
    };
    // Three at once: replicas of one database, all serving.
    let mut servers = Vec::new();
    for _ in 0..3 {
        servers.push(TestServer::start_standby(&["--database", &url]).await);
    }
    for s in &servers {
        bosun_e2e::wait_for("every replica to serve", LIMIT, || async {
            let r = bosun_e2e::http::get(&s.addr, "/healthz").await.ok()?;
            (r.status == 200).then_some(())
        })
        .await;
    }
    // Exactly one of them created the admin user and holds its key.
    let keyed: Vec<usize> = (0..3)
        .filter(|i| servers[*i].data_dir().join("credentials").exists())
        .collect();
    assert_eq!(keyed.len(), 1, "one admin key, written by one replica");
    let serving = keyed[0];
    // Every migration is recorded once, and the serving one works on the result.
    let out = std::process::Command::new(bin("bosun"))
        .args(["migrate", "--database", &url])
        .output()
        .expect("run bosun migrate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("already up to date"),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The migrations were applied once in all: the three logs together name each one once.
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/../bosun-store-pg/schema");
    let migrations = std::fs::read_dir(schema)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count();
    let applied: usize = servers
        .iter()
        .map(|s| s.log().matches("applied PostgreSQL migration").count())
        .sum();
    assert_eq!(applied, migrations, "each migration applied by one server");
    // The two that lost the races did not fail: they serve too.
    for (i, s) in servers.iter().enumerate() {
        let pid = s.pid().expect("a running server");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit(')').next().unwrap_or("").trim_start();
        assert!(
            !stat.is_empty() && !state.starts_with('Z'),
            "server {i} is still running: {}",
            s.log()
        );
    }
    servers[serving]
        .client()
        .list_commands()
        .send()
        .await
        .expect("ListCommands on the migrated database");
}
