//! Nothing dropped silently: a notification whose retries ran out (its http subscriber was
//! down for all of AWS's three retries, 20 s apart) stays as a failed record; `bosun notify
//! failed` lists it with why its last attempt failed, and `bosun notify redrive` sends it again
//! once the subscriber is back.

use std::time::Duration;

use bosun_e2e::subscriber::{confirmed_topic, Subscriber};
use bosun_e2e::{wait_for, TestServer};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_is_listed_and_redriven() {
    let server = TestServer::start().await;
    let mut sub = Subscriber::start().await;
    let topic = confirmed_topic(&server, &sub, "ops", "/hook", LIMIT).await;
    sub.stop().await;
    server
        .aws(&[
            "sns",
            "publish",
            "--topic-arn",
            &topic,
            "--message",
            "disk full on web-3",
        ])
        .expect("publish");
    // First attempt and three retries 20 s apart: failed after about a minute.
    wait_for(
        "the delivery kept as failed",
        Duration::from_secs(120),
        || async {
            server
                .read_store(|s| s.list_deliveries("us-east-1").unwrap())
                .await
                .into_iter()
                .any(|d| d.failed && d.message == "disk full on web-3")
                .then_some(())
        },
    )
    .await;
    let (ok, out, err) = server.cli(&["notify", "failed"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("disk full on web-3") && out.contains("ops"),
        "{out}"
    );
    assert!(out.contains(&sub.url("/hook")), "names the endpoint: {out}");
    // Why the last attempt failed is kept with the dead letter and shown.
    let stored = server
        .read_store(|s| s.list_deliveries("us-east-1").unwrap())
        .await;
    let why = &stored.iter().find(|d| d.failed).unwrap().last_error;
    assert!(why.to_lowercase().contains("refused"), "{why}");
    assert!(out.to_lowercase().contains("refused"), "{out}");

    sub.resume().await;
    let (ok, _, err) = server.cli(&["notify", "redrive", "--topic", "ops"]).await;
    assert!(ok, "{err}");
    assert!(err.contains("1 failed deliveries sent again"), "{err}");
    let got = sub.wait("/hook", "Notification", 1, LIMIT).await;
    assert_eq!(got.json()["Message"], "disk full on web-3");
    let (ok, _, err) = server.cli(&["notify", "failed"]).await;
    assert!(ok && err.contains("no failed deliveries"), "{err}");
}
