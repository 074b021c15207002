//! The server on PostgreSQL (`--database postgres://…`): real agents run real commands, state
//! survives a server restart, nothing lands in the data dir's SQLite file, and a second server
//! on the same database serves beside the first (replicas: see also `cluster.rs`). Skipped with a message without PostgreSQL's binaries
//! (a failure under `BOSUN_REQUIRE_PG=1`, as in CI).

use std::time::Duration;

use aws_sdk_ssm::types::{CommandInvocationStatus, ParameterType};
use bosun_e2e::agent::register;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::server::{client as client_for, postgres_database};
use bosun_e2e::{bin, TestServer};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_postgres_runs_commands_and_keeps_its_state_across_restarts() {
    let Some(url) = postgres_database().await else {
        return;
    };
    let server = TestServer::start_with(&["--database", &url]).await;
    let mut fleet = Fleet::start_on(server, 2, 2).await;
    let ids = fleet.ids();
    let cmd = fleet
        .run(&ids, &["echo hello from $AWS_SSM_INSTANCE_ID"], &[])
        .await;
    for id in &ids {
        let inv = fleet.wait_done(&cmd, id, LIMIT).await;
        assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
        assert_eq!(
            inv.standard_output_content(),
            Some(format!("hello from {id}\n").as_str())
        );
    }
    fleet
        .client
        .put_parameter()
        .name("/pg/secret")
        .value("s3cr3t-on-postgres")
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .expect("PutParameter");

    fleet.server.restart().await;
    let client = fleet.server.client();
    let got = client
        .get_parameter()
        .name("/pg/secret")
        .with_decryption(true)
        .send()
        .await
        .expect("GetParameter after restart");
    assert_eq!(
        got.parameter().and_then(|p| p.value()),
        Some("s3cr3t-on-postgres")
    );
    let commands = client.list_commands().send().await.expect("ListCommands");
    assert!(
        commands
            .commands()
            .iter()
            .any(|c| c.command_id() == Some(cmd.as_str())),
        "the command survived the restart"
    );
    // The agents reconnect to the restarted server and run more work.
    for id in &ids {
        fleet.wait_online(id).await;
    }
    let again = fleet.run(&ids, &["echo again"], &[]).await;
    for id in &ids {
        let inv = fleet.wait_done(&again, id, LIMIT).await;
        assert_eq!(inv.standard_output_content(), Some("again\n"));
    }
    assert!(
        !fleet.server.data_dir().join("bosun.db").exists(),
        "no SQLite database beside a PostgreSQL store"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_database_serves_beside_the_first() {
    let Some(url) = postgres_database().await else {
        return;
    };
    let first = TestServer::start_with(&["--database", &url]).await;
    let keyring = first.data_dir().join("kms/keyring.json");
    let second = TestServer::start_with(&[
        "--database",
        &url,
        "--kms-key-file",
        keyring.to_str().unwrap(),
    ])
    .await;
    let (akid, secret) = first.admin_credentials();
    let created = first
        .client()
        .put_parameter()
        .name("/replicas/shared")
        .value("from the first")
        .r#type(ParameterType::String)
        .send()
        .await
        .expect("PutParameter on the first");
    assert_eq!(created.version(), 1);
    let through_second = client_for(&second.url, "us-east-1", &akid, &secret)
        .get_parameter()
        .name("/replicas/shared")
        .send()
        .await
        .expect("GetParameter on the second, with the first's admin key");
    assert_eq!(
        through_second.parameter().and_then(|p| p.value()),
        Some("from the first")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_is_down_calls_fail_as_server_errors_and_recover_after() {
    // A cluster of its own: stopping it disturbs no other test.
    let Some((cluster, url)) = tokio::task::spawn_blocking(|| {
        let cluster = bosun_store_pg::testing::PgCluster::start()?;
        let url = cluster.fresh_database();
        Some((cluster, url))
    })
    .await
    .unwrap() else {
        return;
    };
    let server = TestServer::start_with(&["--database", &url]).await;
    let client = server.client();
    client
        .put_parameter()
        .name("/pg/up")
        .value("v1")
        .r#type(ParameterType::String)
        .send()
        .await
        .expect("PutParameter");
    let ready = bosun_e2e::http::get(&server.addr, "/readyz").await.unwrap();
    assert_eq!(ready.status, 200);

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.stop();
        cluster
    })
    .await
    .unwrap();
    let not_ready = bosun_e2e::http::get(&server.addr, "/readyz").await.unwrap();
    assert_eq!(not_ready.status, 503);
    let healthy = bosun_e2e::http::get(&server.addr, "/healthz")
        .await
        .unwrap();
    assert_eq!(healthy.status, 200, "the process still serves");
    let err = client
        .get_parameter()
        .name("/pg/up")
        .send()
        .await
        .expect_err("no database, no answer");
    let status = err.raw_response().map(|r| r.status().as_u16());
    assert!(
        matches!(status, Some(500..=599)),
        "a server error, which SDKs retry: {err:?}"
    );

    let _cluster = tokio::task::spawn_blocking(move || {
        cluster.restart();
        cluster
    })
    .await
    .unwrap();
    let got = client
        .get_parameter()
        .name("/pg/up")
        .send()
        .await
        .expect("GetParameter after PostgreSQL is back");
    assert_eq!(got.parameter().and_then(|p| p.value()), Some("v1"));
    let ready = bosun_e2e::http::get(&server.addr, "/readyz").await.unwrap();
    assert_eq!(ready.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bosun_migrate_prepares_an_empty_database_once() {
    let Some(url) = tokio::task::spawn_blocking(|| {
        bosun_store_pg::testing::PgCluster::shared().map(|c| c.fresh_empty_database())
    })
    .await
    .unwrap() else {
        return;
    };
    let migrate = || {
        std::process::Command::new(bin("bosun"))
            .args(["migrate", "--database", &url])
            .output()
            .expect("run bosun migrate")
    };
    let first = migrate();
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{first:?}");
    assert!(out.contains("applied migrations [1,"), "{out}");
    let second = migrate();
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success() && out.contains("already up to date"),
        "{out}"
    );
    // A server starts on the migrated database.
    let server = TestServer::start_with(&["--database", &url]).await;
    server
        .client()
        .list_commands()
        .send()
        .await
        .expect("ListCommands");
}

/// Issue 13: `--standby` (kept for compatibility) now starts a replica that serves at once;
/// when the other is killed, agents registered with both URLs follow to it, and the command
/// history and the admin's keys carry over because they live in the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_takes_over_when_the_serving_server_dies_and_agents_follow() {
    let Some(url) = postgres_database().await else {
        return;
    };
    let active = TestServer::start_with(&["--database", &url]).await;
    let keyring = active.data_dir().join("kms/keyring.json");
    let mut standby = TestServer::start_standby(&[
        "--database",
        &url,
        "--kms-key-file",
        keyring.to_str().unwrap(),
    ])
    .await;
    standby.wait_serving(LIMIT).await;
    assert!(
        standby.log().contains("--standby is no longer needed"),
        "{}",
        standby.log()
    );

    let client = active.client();
    let act = client
        .create_activation()
        .iam_role("BosunNode")
        .send()
        .await
        .expect("CreateActivation");
    let both = format!("{},{}", active.url, standby.url);
    let mut agent = register(
        &both,
        act.activation_id().unwrap(),
        act.activation_code().unwrap(),
        None,
        &[],
    )
    .await
    .expect("register");
    agent.start();
    let id = agent.instance_id.clone();
    let (akid, secret) = active.admin_credentials();
    let mut fleet = Fleet {
        server: active,
        client,
        agents: vec![agent],
    };
    fleet.wait_online(&id).await;
    let before = fleet
        .run(std::slice::from_ref(&id), &["echo before"], &[])
        .await;
    let inv = fleet.wait_done(&before, &id, LIMIT).await;
    assert_eq!(inv.standard_output_content(), Some("before\n"));

    fleet.server.kill().await;
    fleet.client = client_for(&standby.url, "us-east-1", &akid, &secret);
    let listed = fleet
        .client
        .list_commands()
        .send()
        .await
        .expect("ListCommands");
    assert!(listed
        .commands()
        .iter()
        .any(|c| c.command_id() == Some(before.as_str())));
    fleet.wait_online(&id).await;
    let after = fleet
        .run(std::slice::from_ref(&id), &["echo after"], &[])
        .await;
    let inv = fleet.wait_done(&after, &id, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    assert_eq!(inv.standard_output_content(), Some("after\n"));
}

#[tokio::test]
async fn standby_needs_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(bin("bosun"))
        .args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--standby",
            "--data-dir",
        ])
        .arg(dir.path().join("d"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--standby needs a postgres:// --database"),
        "{stderr}"
    );
}
