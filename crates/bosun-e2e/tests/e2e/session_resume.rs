//! A session whose connection drops is resumed, not lost (issue 18): `aws-ssm-bridge`'s
//! `ReconnectingSession`, reaching the server through a forwarder whose connections the test
//! cuts mid-output, calls `ResumeSession` for the same session, rejoins the data channel and
//! carries on in the same sequence space: the shell is the same one, and every line printed
//! while it was away arrives once, in order.

use std::time::Duration;

use aws_ssm_bridge::{EndpointPolicy, ReconnectConfig, ReconnectingSession};
use bosun_e2e::cutter::Cutter;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::sessions::{manager_via, resumed, Screen};
use bosun_e2e::wait_for;

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_resumed_and_nothing_printed_meanwhile_is_lost() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let cutter = Cutter::start(&fleet.server.addr).await;
    let mut config = ReconnectConfig {
        initial_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(2),
        ..ReconnectConfig::default()
    };
    config.session.endpoint_policy = EndpointPolicy::AllowAny;
    let session =
        ReconnectingSession::connect_with(node, config, manager_via(&fleet.server, &cutter.url()))
            .await
            .expect("StartSession");
    let first_id = session.current().await.unwrap().id().to_string();
    let mut events = session.events();
    let screen = Screen::collect(session.output());
    let shows = |needle: String| {
        let screen = &screen;
        async move {
            wait_for(&format!("{needle:?} on the screen"), LIMIT, || async {
                screen.text().contains(&needle).then_some(())
            })
            .await
        }
    };

    session
        .send("export MARK=$((6*7)); stty -echo\r")
        .await
        .unwrap();
    // Lines over a few seconds, numbered; the connection is cut while they come.
    session
        .send("for i in $(seq 1 20); do echo tick-$i; sleep 0.2; done; echo end-$MARK\r")
        .await
        .unwrap();
    shows("tick-3\n".into()).await;
    assert!(cutter.cut() > 0, "a connection was open to cut");
    resumed(&mut events, &first_id).await;

    // The same shell ($MARK survives), and every tick once, in order.
    shows("end-42\n".into()).await;
    assert_eq!(
        screen.ticks(),
        (1..=20).collect::<Vec<_>>(),
        "{}",
        screen.text()
    );
    session.terminate().await.unwrap();
}
