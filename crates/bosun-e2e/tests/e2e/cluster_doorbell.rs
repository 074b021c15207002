//! Replicas on one PostgreSQL database tell each other at once (issue 13's doorbell): with the
//! orchestrator's fallback sweep set to a minute, a command sent through one replica still runs
//! at once on a node connected to the other and ends there, and a watcher on the first replica
//! sees the node's output live, while the command runs, exactly once. Skipped with a message
//! without PostgreSQL's binaries (a failure under `BOSUN_REQUIRE_PG=1`, as in CI).

use std::process::Stdio;
use std::time::Duration;

use aws_sdk_ssm::types::CommandStatus;
use bosun_e2e::agent::register;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::server::postgres_database;
use bosun_e2e::{bin, wait_for, TestServer};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Far below the one-minute sweep: only a ring makes it in time.
const LIMIT: Duration = Duration::from_secs(30);
const SLOW_SWEEP: [&str; 2] = ["--orchestrator-sweep-ms", "60000"];

/// Two replicas sweeping once a minute; the API through the first, one agent on the second.
async fn two_replicas(url: &str) -> (Fleet, TestServer) {
    let mut args = vec!["--database", url];
    args.extend(SLOW_SWEEP);
    let first = TestServer::start_with(&args).await;
    let keyring = first.data_dir().join("kms/keyring.json");
    args.extend(["--kms-key-file", keyring.to_str().unwrap()]);
    let second = TestServer::start_with(&args).await;
    let out = first
        .client()
        .create_activation()
        .iam_role("BosunNode")
        .registration_limit(1)
        .send()
        .await
        .expect("CreateActivation");
    let (id, code) = (out.activation_id.unwrap(), out.activation_code.unwrap());
    let mut agent = register(&second.url, &id, &code, None, &[])
        .await
        .expect("register");
    agent.start();
    let fleet = Fleet {
        client: first.client(),
        server: first,
        agents: vec![agent],
    };
    let node = fleet.agents[0].instance_id.clone();
    fleet.wait_online(&node).await;
    (fleet, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_ring_each_other_and_live_output_reaches_a_watcher_on_another_replica() {
    let Some(url) = postgres_database().await else {
        return;
    };
    let (fleet, second) = two_replicas(&url).await;
    let ids = fleet.ids();

    // Planned by the first replica, delivered by the second, rolled up by the first again.
    let rung = fleet.run(&ids, &["echo rung"], &[]).await;
    let c = fleet.wait_command(&rung, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Success));

    // Live output: the node prints, then waits for the test's go-ahead files.
    let dir = tempfile::tempdir().unwrap();
    let (go, done) = (dir.path().join("go"), dir.path().join("done"));
    let wait_go = format!("while [ ! -e {} ]; do sleep 0.1; done", go.display());
    let wait_done = format!("while [ ! -e {} ]; do sleep 0.1; done", done.display());
    let command = fleet
        .run(
            &ids,
            &[&wait_go, "echo hello-live", &wait_done, "echo the-end"],
            &[],
        )
        .await;
    let mut watch = tokio::process::Command::new(bin("bosun"))
        .args(["command", "watch", &command])
        .arg("--data-dir")
        .arg(fleet.server.data_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("bosun command watch");
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    // The second replica has heard of the watcher before the node prints anything.
    wait_for(
        "the second replica to hear of the watcher",
        LIMIT,
        || async {
            second
                .log()
                .lines()
                .any(|l| l.contains("watcher on another replica") && l.contains(&command))
                .then_some(())
        },
    )
    .await;
    std::fs::write(&go, "").unwrap();
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("hello-live")) {
        let line = tokio::time::timeout(LIMIT, lines.next_line())
            .await
            .expect("live output in time, while the command runs")
            .expect("reading the watch")
            .expect("the watch goes on");
        seen.push(line);
    }
    std::fs::write(&done, "").unwrap();
    while let Some(line) = tokio::time::timeout(LIMIT, lines.next_line())
        .await
        .expect("the watch ends in time")
        .expect("reading the watch")
    {
        seen.push(line);
    }
    let status = watch.wait().await.unwrap();
    assert!(status.success(), "{seen:?}");
    let count = |text: &str| seen.iter().filter(|l| l.contains(text)).count();
    assert_eq!(
        (count("hello-live"), count("the-end")),
        (1, 1),
        "each line once: {seen:?}"
    );
}
