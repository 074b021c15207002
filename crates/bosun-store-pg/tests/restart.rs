//! A `PgStore` survives a PostgreSQL restart: while the server is down a call fails at once
//! with a retryable error, and after the restart the same store works again. Runs on a cluster
//! of its own, so stopping it disturbs no other test.

use std::time::{Duration, Instant};

use bosun_store_pg::testing::PgCluster;
use bosun_store_pg::PgStore;

fn one_plus_one(store: &PgStore) -> Result<i32, bosun_store_pg::PgError> {
    store.with_client(async |c| Ok(c.query_one("SELECT 1 + 1", &[]).await?.get(0)))
}

#[test]
fn a_store_works_again_after_postgres_restarts() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let store = PgStore::connect(&cluster.fresh_database()).unwrap();
    assert_eq!(one_plus_one(&store).unwrap(), 2);

    cluster.stop();
    let started = Instant::now();
    let err = one_plus_one(&store).unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "failed fast");
    let err = store
        .transaction(async |tx| Ok(tx.execute("SELECT 1", &[]).await?))
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");

    cluster.restart();
    assert_eq!(
        one_plus_one(&store).unwrap(),
        2,
        "the first call after the restart works"
    );
    // The schema survived too.
    assert_eq!(store.migrate().unwrap(), Vec::<i64>::new());
}
