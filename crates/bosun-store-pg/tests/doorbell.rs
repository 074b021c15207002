//! The doorbell between replicas: what one sends, every listener on the database hears (the
//! sender too), in order; after PostgreSQL restarts, the listeners say they are connected again
//! and hear new notifications. Runs on a cluster of its own, so stopping it disturbs no other test.

use std::time::Duration;

use bosun_store_pg::testing::PgCluster;
use bosun_store_pg::{Heard, PgDoorbell};
use tokio::sync::mpsc::UnboundedReceiver;

const LIMIT: Duration = Duration::from_secs(30);

async fn next(rx: &mut UnboundedReceiver<Heard>) -> Heard {
    tokio::time::timeout(LIMIT, rx.recv())
        .await
        .expect("something heard in time")
        .expect("the doorbell task is running")
}

/// The next notice on `channel`, skipping `Connected`.
async fn notice(rx: &mut UnboundedReceiver<Heard>) -> (String, String) {
    loop {
        if let Heard::Notice { channel, payload } = next(rx).await {
            return (channel, payload);
        }
    }
}

#[test]
fn replicas_hear_each_others_notifications_and_again_after_a_restart() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.fresh_empty_database();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (a, _b, mut a_heard, mut b_heard) = runtime.block_on(async {
        let (a, mut a_heard) = PgDoorbell::start(&url, &["bosun_wake", "bosun_live"]).unwrap();
        let (b, mut b_heard) = PgDoorbell::start(&url, &["bosun_wake"]).unwrap();
        assert_eq!(next(&mut a_heard).await, Heard::Connected);
        assert_eq!(next(&mut b_heard).await, Heard::Connected);

        for i in 0..3 {
            a.send("bosun_wake", format!("ring {i}"));
        }
        a.send("bosun_live", "chunk".to_string());
        for i in 0..3 {
            let expected = ("bosun_wake".to_string(), format!("ring {i}"));
            assert_eq!(notice(&mut b_heard).await, expected, "in order, elsewhere");
            assert_eq!(notice(&mut a_heard).await, expected, "and to the sender");
        }
        assert_eq!(
            notice(&mut a_heard).await,
            ("bosun_live".to_string(), "chunk".to_string())
        );
        (a, b, a_heard, b_heard)
    });

    // Blocking calls, off the runtime's threads.
    cluster.stop();
    cluster.restart();
    runtime.block_on(async {
        // B does not listen on bosun_live: the next thing it hears is the next ring.
        assert_eq!(next(&mut b_heard).await, Heard::Connected, "reconnected");
        while next(&mut a_heard).await != Heard::Connected {}
        a.send("bosun_wake", "after the restart".to_string());
        assert_eq!(
            notice(&mut b_heard).await,
            ("bosun_wake".to_string(), "after the restart".to_string())
        );
    });
}

#[test]
fn a_channel_name_that_is_not_a_plain_identifier_is_refused() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _guard = runtime.enter();
    let err = PgDoorbell::start("postgres://bosun@127.0.0.1:1/bosun", &["Bad-Name"]).unwrap_err();
    assert!(err.to_string().contains("Bad-Name"), "{err}");
}
