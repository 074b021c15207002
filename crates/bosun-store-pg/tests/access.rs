//! `PgStore`'s helpers on a real PostgreSQL: transactions commit or roll back, a serialization
//! failure is retried, other errors are not, timeouts are bounded, errors never show the
//! password, and calling from an async task panics with a clear message.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bosun_store::StoreError;
use bosun_store_pg::testing::PgCluster;
use bosun_store_pg::{IsolationLevel, PgError, PgOptions, PgStore};

fn counter_store(cluster: &PgCluster) -> PgStore {
    let store = PgStore::connect(&cluster.fresh_empty_database()).unwrap();
    store
        .with_client(async |c| {
            c.batch_execute(
                "CREATE TABLE counter (id INT PRIMARY KEY, value BIGINT NOT NULL); \
                 INSERT INTO counter VALUES (1, 0)",
            )
            .await?;
            Ok(())
        })
        .unwrap();
    store
}

fn counter(store: &PgStore) -> i64 {
    store
        .with_client(async |c| Ok(c.query_one("SELECT value FROM counter", &[]).await?.get(0)))
        .unwrap()
}

#[test]
fn a_transaction_commits_on_ok_and_rolls_back_on_err_with_domain_errors_passed_through() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let store = counter_store(cluster);
    store
        .transaction(async |tx| {
            tx.execute("UPDATE counter SET value = value + 1", &[])
                .await?;
            Ok(())
        })
        .unwrap();
    assert_eq!(counter(&store), 1);

    let err = store
        .transaction(async |tx| {
            tx.execute("UPDATE counter SET value = value + 1", &[])
                .await?;
            Err::<(), _>(StoreError::LimitExceeded("counter".into()).into())
        })
        .unwrap_err();
    assert_eq!(counter(&store), 1, "rolled back");
    let err: StoreError = err.into();
    assert!(
        matches!(err, StoreError::LimitExceeded(ref what) if what == "counter"),
        "{err:?}"
    );
}

#[test]
fn a_transaction_that_loses_a_serialization_race_runs_again() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let store = counter_store(cluster);
    let other = PgStore::connect(&store_url(&store, cluster)).unwrap();
    let attempts = AtomicU32::new(0);
    let (read_done, read_done_rx) = mpsc::channel();
    let (other_done, other_done_rx) = mpsc::channel();
    std::thread::scope(|s| {
        let other = &other;
        s.spawn(move || {
            read_done_rx.recv().unwrap();
            other
                .with_client(async |c| {
                    Ok(c.execute("UPDATE counter SET value = value + 10", &[])
                        .await?)
                })
                .unwrap();
            other_done.send(()).unwrap();
        });
        let value = store
            .transaction_at(IsolationLevel::RepeatableRead, async |tx| {
                let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
                let seen: i64 = tx.query_one("SELECT value FROM counter", &[]).await?.get(0);
                if attempt == 1 {
                    // Another session commits a change to the row this snapshot has read.
                    read_done.send(()).unwrap();
                    other_done_rx.recv().unwrap();
                }
                tx.execute("UPDATE counter SET value = $1", &[&(seen + 1)])
                    .await?;
                Ok(seen + 1)
            })
            .unwrap();
        assert_eq!(value, 11);
    });
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(counter(&store), 11, "the other session's +10 was not lost");
}

#[test]
fn a_transaction_failing_for_another_reason_is_not_retried() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let store = counter_store(cluster);
    let attempts = AtomicU32::new(0);
    let err = store
        .transaction(async |tx| {
            attempts.fetch_add(1, Ordering::SeqCst);
            tx.execute("INSERT INTO counter VALUES (1, 5)", &[]).await?;
            Ok(())
        })
        .unwrap_err();
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
    assert_eq!(err.sql_state(), Some("23505"), "{err}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("duplicate key"), "{err}");
}

#[test]
fn a_slow_statement_is_cut_off_by_the_servers_statement_timeout() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let options = PgOptions {
        statement_timeout: Duration::from_millis(200),
        ..PgOptions::default()
    };
    let store = PgStore::connect_with(&cluster.fresh_empty_database(), options).unwrap();
    let started = Instant::now();
    let err = store
        .with_client(async |c| Ok(c.execute("SELECT pg_sleep(30)", &[]).await?))
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(err.sql_state(), Some("57014"), "{err}");
    assert!(err.is_retryable());
}

#[test]
fn an_operation_past_its_timeout_fails_and_its_connection_is_not_reused() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let options = PgOptions {
        max_connections: 1,
        operation_timeout: Duration::from_millis(300),
        ..PgOptions::default()
    };
    let store = PgStore::connect_with(&cluster.fresh_empty_database(), options).unwrap();
    let pid = |store: &PgStore| -> i32 {
        store
            .with_client(async |c| Ok(c.query_one("SELECT pg_backend_pid()", &[]).await?.get(0)))
            .unwrap()
    };
    let before = pid(&store);
    let started = Instant::now();
    let err = store
        .transaction(async |tx| Ok(tx.execute("SELECT pg_sleep(30)", &[]).await?))
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(matches!(err, PgError::TimedOut(_)), "{err:?}");
    assert!(err.is_retryable());
    // The only pool slot was freed and a new session serves the next call.
    assert_ne!(pid(&store), before);
}

#[test]
fn a_session_left_idle_inside_a_transaction_is_ended_and_its_locks_released() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let options = PgOptions {
        idle_in_transaction_timeout: Duration::from_millis(500),
        ..PgOptions::default()
    };
    let url = cluster.fresh_empty_database();
    let frozen = PgStore::connect_with(&url, options).unwrap();
    // A client that took a lock inside a transaction and then stopped sending anything, as a
    // SIGSTOP'ed replica does: the pooled session stays open, inside its transaction.
    frozen
        .with_client(async |c| {
            c.batch_execute("BEGIN; SELECT pg_advisory_xact_lock(4242)")
                .await?;
            Ok(())
        })
        .unwrap();
    let other = PgStore::connect(&url).unwrap();
    let free = || {
        other
            .transaction(async |tx| {
                Ok(tx
                    .query_one("SELECT pg_try_advisory_xact_lock(4242)", &[])
                    .await?
                    .get::<_, bool>(0))
            })
            .unwrap()
    };
    assert!(!free(), "the idle transaction holds the lock at first");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !free() {
        assert!(
            Instant::now() < deadline,
            "the idle session still holds its lock"
        );
        std::thread::sleep(Duration::from_millis(50)); // poll interval, bounded by the deadline
    }
}

#[test]
fn connection_errors_are_retryable_and_never_show_the_password() {
    // A port nobody listens on: the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://bosun:Sup3rS3cret@127.0.0.1:{port}/bosun");
    let err = PgStore::connect_with(&url, PgOptions::default()).unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    for text in [
        err.to_string(),
        format!("{err:?}"),
        StoreError::from(err).to_string(),
    ] {
        assert!(!text.contains("Sup3rS3cret"), "{text}");
    }
    let err =
        PgStore::connect("postgres://bosun:Sup3rS3cret@127.0.0.1:notaport/bosun").unwrap_err();
    assert!(!err.to_string().contains("Sup3rS3cret"), "{err}");
}

#[test]
fn it_works_from_a_blocking_thread_and_panics_clearly_on_an_async_worker() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let store = std::sync::Arc::new(PgStore::connect(&cluster.fresh_empty_database()).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let from_blocking = store.clone();
    let answer: i32 = runtime
        .block_on(runtime.spawn_blocking(move || {
            from_blocking
                .with_client(async |c| Ok(c.query_one("SELECT 41 + 1", &[]).await?.get(0)))
                .unwrap()
        }))
        .unwrap();
    assert_eq!(answer, 42);

    let on_worker = store.clone();
    let panic = runtime
        .block_on(runtime.spawn(async move {
            on_worker.with_client(async |c| Ok(c.simple_query("SELECT 1").await?))
        }))
        .unwrap_err();
    let payload = panic.into_panic();
    let text = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(
        text.contains("PgStore was called from an async task"),
        "{text}"
    );
}

/// The URL of the database `store` uses, on `cluster`.
fn store_url(store: &PgStore, cluster: &PgCluster) -> String {
    let dbname = store.target().rsplit('/').next().unwrap().to_string();
    cluster.url(&dbname)
}
