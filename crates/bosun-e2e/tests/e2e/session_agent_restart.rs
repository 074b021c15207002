//! A session outlives an agent restart (issue 18): each session runs in its own worker process
//! (`bosun-agent session-worker`), as command steps run under their own supervisors. The agent
//! is killed mid-session: the shell goes on (same shell, same variables), the restarted agent
//! finds the worker again, reports its real exit code, and a `TerminateSession` after the
//! restart still ends a session started before it. And the worker's own data channel, cut
//! mid-output, redials with the session's agent token and loses nothing.

use std::time::Duration;

use aws_ssm_bridge::CloseReason;
use bosun_e2e::agent::register_through;
use bosun_e2e::cutter::Cutter;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::sessions::{closed, config, ended_record, manager, Screen};
use bosun_e2e::wait_for;

const LIMIT: Duration = Duration::from_secs(30);

/// Kill the agent (SIGKILL: nothing of it runs on) and start it again.
async fn restart_agent(fleet: &mut Fleet, node: &str, running: usize) {
    fleet.agents[0].kill().await;
    fleet.agents[0].start();
    fleet.wait_online(node).await;
    wait_for(
        "the restarted agent to find its sessions",
        LIMIT,
        || async {
            let log = fleet.agents[0].log();
            (log.matches("session still running from before the restart")
                .count()
                >= running)
                .then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_outlive_an_agent_restart_and_end_as_they_would_have() {
    let mut fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let sessions = manager(&fleet.server);
    let live = fleet.agents[0].state_dir.join("sessions/live");

    let shell = sessions
        .start_session(config(&node))
        .await
        .expect("StartSession");
    let screen = Screen::watch(&shell);
    shell
        .send("export MARK=$((6*7)); echo set-$MARK\r")
        .await
        .unwrap();
    screen.wait_for_text("set-42").await;

    fleet.agents[0].kill().await;
    // With no agent at all, the session still answers.
    shell.send("echo alone-$MARK\r").await.unwrap();
    screen.wait_for_text("alone-42").await;
    fleet.agents[0].start();
    fleet.wait_online(&node).await;
    wait_for("the restarted agent to find the session", LIMIT, || async {
        fleet.agents[0]
            .log()
            .contains("session still running from before the restart")
            .then_some(())
    })
    .await;
    shell.send("echo after-$MARK\r").await.unwrap();
    screen.wait_for_text("after-42").await;
    shell.send("exit 4\r").await.unwrap();
    match closed(&shell).await {
        CloseReason::AgentClosed { exit_code, .. } => assert_eq!(exit_code, Some(4)),
        other => panic!("the shell's exit should close the session: {other:?}"),
    }
    // The restarted agent reported the worker's end: the record has the real exit code.
    let record = ended_record(&fleet.client, shell.id()).await;
    assert!(
        record.details().unwrap_or_default().contains("exit code 4"),
        "{record:?}"
    );
    wait_for("the worker's folder to go", LIMIT, || async {
        (!live.join(shell.id()).exists()).then_some(())
    })
    .await;

    // Started before a restart, terminated after it: the adopted worker ends the session.
    let second = sessions
        .start_session(config(&node))
        .await
        .expect("StartSession");
    let screen = Screen::watch(&second);
    second.send("echo second-$((1+1))\r").await.unwrap();
    screen.wait_for_text("second-2").await;
    restart_agent(&mut fleet, &node, 1).await;
    fleet
        .client
        .terminate_session()
        .session_id(second.id())
        .send()
        .await
        .expect("TerminateSession");
    closed(&second).await;
    ended_record(&fleet.client, second.id()).await;
    wait_for("the adopted worker to end", LIMIT, || async {
        (!live.join(second.id()).exists()).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_data_channel_redials_after_a_drop_and_nothing_is_lost() {
    let mut fleet = Fleet::start(0, 0).await;
    // The node reaches the server through a balancer that sends its data channels through a
    // forwarder the test cuts; everything else goes straight through.
    let cuttable = Cutter::start(&fleet.server.addr).await;
    let balancer = Cutter::start_routed(&fleet.server.addr, &cuttable.addr).await;
    let mut agent = register_through(&fleet.client, &balancer.url()).await;
    agent.start();
    let node = agent.instance_id.clone();
    fleet.agents.push(agent);
    fleet.wait_online(&node).await;

    let shell = manager(&fleet.server)
        .start_session(config(&node))
        .await
        .expect("StartSession");
    let screen = Screen::watch(&shell);
    shell
        .send("export MARK=$((6*7)); stty -echo\r")
        .await
        .unwrap();
    shell
        .send("for i in $(seq 1 15); do echo tick-$i; sleep 0.2; done; echo end-$MARK\r")
        .await
        .unwrap();
    screen.wait_for_text("tick-3\n").await;
    assert!(
        cuttable.cut() > 0,
        "the agent's data channel was open to cut"
    );
    // The node redials with its token and the same sequence space: every line once, in order.
    screen.wait_for_text("end-42\n").await;
    assert_eq!(
        screen.ticks(),
        (1..=15).collect::<Vec<_>>(),
        "{}",
        screen.text()
    );
    assert!(fleet.agents[0]
        .log()
        .contains("data channel lost; redialling"));
    shell.send("exit 6\r").await.unwrap();
    match closed(&shell).await {
        CloseReason::AgentClosed { exit_code, .. } => assert_eq!(exit_code, Some(6)),
        other => panic!("{other:?}"),
    }
}
