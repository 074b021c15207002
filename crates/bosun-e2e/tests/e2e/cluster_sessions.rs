//! Sessions across replicas (issues 13 and 18): a session started through any replica reaches a
//! node connected to another one. The replica holding the node's channel relays it, and data
//! channel sockets that land elsewhere (the `StreamUrl` of the replica that answered) are
//! forwarded there, the agent's too when a load balancer sends it elsewhere. Clients:
//! `aws-ssm-bridge` (shell, command, reconnect through a forwarder)
//! and `bosun session`. Skipped without PostgreSQL's binaries (a failure under
//! `BOSUN_REQUIRE_PG=1`).

use std::time::Duration;

use aws_sdk_ssm::types::SessionState;
use aws_ssm_bridge::documents::NonInteractiveCommand;
use aws_ssm_bridge::{
    CloseReason, DocumentSpec, EndpointPolicy, ReconnectConfig, ReconnectingSession,
};
use bosun_e2e::agent::register_through;
use bosun_e2e::cutter::Cutter;
use bosun_e2e::server::{client as client_for, postgres_database};
use bosun_e2e::sessions::{closed, config, manager_via, resumed, Screen};
use bosun_e2e::{wait_for, TestServer};

use crate::cluster::{cluster, fleet_via};

const LIMIT: Duration = Duration::from_secs(30);

/// The session's record, once `status` (through `client`).
async fn record_with_status(
    client: &aws_sdk_ssm::Client,
    session_id: &str,
    state: SessionState,
    status: &str,
) -> aws_sdk_ssm::types::Session {
    wait_for(&format!("session {session_id} {status}"), LIMIT, || async {
        let out = client
            .describe_sessions()
            .state(state.clone())
            .send()
            .await
            .ok()?;
        out.sessions()
            .iter()
            .find(|s| s.session_id() == Some(session_id))
            .filter(|s| s.status().map(|s| s.as_str()) == Some(status))
            .cloned()
    })
    .await
}

fn log_mentions(replica: &TestServer, needle: &str, session_id: &str) -> bool {
    replica
        .log()
        .lines()
        .any(|l| l.contains(needle) && l.contains(session_id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_through_any_replica_reach_nodes_connected_to_another() {
    let Some(url) = postgres_database().await else {
        return;
    };
    // Nodes 0 and 1 connect to replica 0, nodes 2 and 3 to replica 1; the API and the
    // sessions' data channels go through replica 2, which holds no node.
    let (mut replicas, agents) = cluster(&url).await;
    let fleet = fleet_via(&mut replicas, agents, 2);
    let ids = fleet.ids();
    for id in &ids {
        fleet.wait_online(id).await;
    }
    let admin = &replicas[0];
    let via_third = manager_via(admin, &fleet.server.url);
    let status = fleet
        .client
        .get_connection_status()
        .target(&ids[0])
        .send()
        .await
        .expect("GetConnectionStatus");
    assert_eq!(status.status().map(|s| s.as_str()), Some("connected"));

    // A shell on a node of replica 0, its exit status back to the client.
    let shell = via_third
        .start_session(config(&ids[0]))
        .await
        .expect("StartSession through a replica without the node");
    let screen = Screen::watch(&shell);
    shell.send("echo relayed-$((40+2))\r").await.unwrap();
    screen.wait_for_text("relayed-42").await;
    shell.send("exit 3\r").await.unwrap();
    match closed(&shell).await {
        CloseReason::AgentClosed { exit_code, .. } => assert_eq!(exit_code, Some(3)),
        other => panic!("the shell's exit should close the session: {other:?}"),
    }
    let (akid, secret) = admin.admin_credentials();
    let via_second = client_for(&replicas[1].url, "us-east-1", &akid, &secret);
    record_with_status(&via_second, shell.id(), SessionState::History, "Terminated").await;
    assert!(
        log_mentions(
            &replicas[0],
            "relaying a session started on another replica",
            shell.id()
        ),
        "replica 0, which holds the node, relays the session"
    );
    assert!(log_mentions(
        &fleet.server,
        "data channel forwarded to the relaying replica",
        shell.id()
    ));

    // A command on a node of replica 1, started through replica 0: its output and exit code.
    let via_first = manager_via(admin, &admin.url);
    let mut cfg = config(&ids[2]);
    cfg.document = Some(DocumentSpec::new(&NonInteractiveCommand::new(
        "echo out-$((6*7)); exit 7",
    )));
    let command = via_first.start_session(cfg).await.expect("StartSession");
    let screen = Screen::watch(&command);
    match closed(&command).await {
        CloseReason::AgentClosed { exit_code, .. } => {
            assert_eq!(exit_code, Some(7), "{}", screen.text())
        }
        other => panic!("{other:?}"),
    }
    assert!(screen.text().contains("out-42"), "{}", screen.text());

    // Terminated through a replica that neither started nor relays it: the relaying replica
    // closes the client's socket and the node ends the shell.
    let shell = via_third
        .start_session(config(&ids[3]))
        .await
        .expect("StartSession");
    let screen = Screen::watch(&shell);
    shell.send("echo ready-$((1+1))\r").await.unwrap();
    screen.wait_for_text("ready-2").await;
    admin
        .client()
        .terminate_session()
        .session_id(shell.id())
        .send()
        .await
        .expect("TerminateSession through replica 0");
    closed(&shell).await;
    let record = record_with_status(
        &fleet.client,
        shell.id(),
        SessionState::History,
        "Terminated",
    )
    .await;
    assert!(
        record
            .details()
            .unwrap_or_default()
            .contains("terminated by"),
        "{record:?}"
    );

    // `bosun session --command` through replica 2: the remote exit status is its own.
    let out = tokio::process::Command::new(bosun_e2e::bin("bosun"))
        .args(["session", &ids[1], "--command", "echo cli-$((2*3)); exit 5"])
        .args(["--data-dir", admin.data_dir().to_str().unwrap()])
        .args(["--endpoint-url", &fleet.server.url])
        .env("AWS_ACCESS_KEY_ID", akid)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .stdin(std::process::Stdio::null())
        .output();
    let out = tokio::time::timeout(LIMIT, out)
        .await
        .expect("bosun session ends")
        .expect("bosun session runs");
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("cli-6"));

    // A client whose connections are cut resumes through replica 2 (`ResumeSession` there, a
    // new socket forwarded again) and loses nothing printed meanwhile.
    let cutter = Cutter::start(&fleet.server.addr).await;
    let mut reconnect = ReconnectConfig {
        initial_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(2),
        ..ReconnectConfig::default()
    };
    reconnect.session.endpoint_policy = EndpointPolicy::AllowAny;
    let session = ReconnectingSession::connect_with(
        ids[2].clone(),
        reconnect,
        manager_via(admin, &cutter.url()),
    )
    .await
    .expect("StartSession through the forwarder");
    let first_id = session.current().await.unwrap().id().to_string();
    let mut events = session.events();
    let screen = Screen::collect(session.output());
    session.send("stty -echo\r").await.unwrap();
    session
        .send("for i in $(seq 1 15); do echo tick-$i; sleep 0.2; done; echo end-$((7*6))\r")
        .await
        .unwrap();
    screen.wait_for_text("tick-3\n").await;
    assert!(cutter.cut() > 0, "a connection was open to cut");
    resumed(&mut events, &first_id).await;
    screen.wait_for_text("end-42\n").await;
    assert_eq!(
        screen.ticks(),
        (1..=15).collect::<Vec<_>>(),
        "{}",
        screen.text()
    );
    session.terminate().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_channel_a_load_balancer_sends_to_another_replica_is_forwarded() {
    let Some(url) = postgres_database().await else {
        return;
    };
    let (mut replicas, agents) = cluster(&url).await;
    let fleet = fleet_via(&mut replicas, agents, 2);
    // A node behind a load balancer: its channel reaches replica 0, its session data channels
    // replica 1.
    let balancer = Cutter::start_routed(&replicas[0].addr, &replicas[1].addr).await;
    let admin = &replicas[0];
    let mut agent = register_through(&admin.client(), &balancer.url()).await;
    agent.start();
    let node = agent.instance_id.clone();
    fleet.wait_online(&node).await;

    // Through replica 2: the client's socket and the agent's are both forwarded to replica 0.
    let mut cfg = config(&node);
    cfg.document = Some(DocumentSpec::new(&NonInteractiveCommand::new(
        "echo balanced-$((5*5)); exit 9",
    )));
    let session = manager_via(admin, &fleet.server.url)
        .start_session(cfg)
        .await
        .expect("StartSession");
    let screen = Screen::watch(&session);
    match closed(&session).await {
        CloseReason::AgentClosed { exit_code, .. } => {
            assert_eq!(exit_code, Some(9), "{}", screen.text())
        }
        other => panic!("{other:?}"),
    }
    assert!(screen.text().contains("balanced-25"), "{}", screen.text());
    for (name, replica) in [
        ("replica 1 (the agent's)", &replicas[1]),
        ("replica 2 (the client's)", &fleet.server),
    ] {
        assert!(
            log_mentions(
                replica,
                "data channel forwarded to the relaying replica",
                session.id()
            ),
            "{name} forwards its socket to replica 0"
        );
    }
    assert!(log_mentions(
        &replicas[0],
        "relaying a session started on another replica",
        session.id()
    ));
}
