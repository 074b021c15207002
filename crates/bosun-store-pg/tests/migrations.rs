//! Migrations on a real PostgreSQL: a first run applies all, a second applies none, replicas
//! racing on one empty database apply each exactly once, and a database this binary cannot use
//! is refused.

use std::sync::{Arc, Barrier};

use bosun_store_pg::testing::PgCluster;
use bosun_store_pg::{PgError, PgStore, MIGRATIONS};

fn all_versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|m| m.version).collect()
}

/// (version, name, checksum) of every recorded migration, in order.
fn recorded(store: &PgStore) -> Vec<(i64, String, String)> {
    store
        .with_client(async |c| {
            let rows = c
                .query(
                    "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect())
        })
        .unwrap()
}

#[test]
fn migrations_apply_to_an_empty_database_and_a_second_run_does_nothing() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let store = PgStore::connect(&cluster.fresh_empty_database()).unwrap();
    assert_eq!(store.migrate().unwrap(), all_versions());
    let expected: Vec<(i64, String, String)> = MIGRATIONS
        .iter()
        .map(|m| (m.version, m.name.to_string(), m.checksum()))
        .collect();
    assert_eq!(recorded(&store), expected);

    assert_eq!(store.migrate().unwrap(), Vec::<i64>::new());
    assert_eq!(recorded(&store), expected);
    // The schema is usable: the audit chain's head row exists.
    let head: i64 = store
        .with_client(async |c| {
            Ok(c.query_one("SELECT last_seq FROM audit_head", &[])
                .await?
                .get(0))
        })
        .unwrap();
    assert_eq!(head, 0);
}

#[test]
fn a_fresh_database_from_the_template_is_fully_migrated() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let first = cluster.fresh_database();
    let second = cluster.fresh_database();
    assert_ne!(first, second);
    let store = PgStore::connect(&second).unwrap();
    assert_eq!(recorded(&store).len(), MIGRATIONS.len());
    assert_eq!(store.migrate().unwrap(), Vec::<i64>::new());
}

#[test]
fn replicas_migrating_one_empty_database_at_once_apply_each_migration_once() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let url = cluster.fresh_empty_database();
    const REPLICAS: usize = 3;
    let stores: Vec<PgStore> = (0..REPLICAS)
        .map(|_| PgStore::connect(&url).unwrap())
        .collect();
    let start = Arc::new(Barrier::new(REPLICAS));
    let applied: Vec<Vec<i64>> = std::thread::scope(|s| {
        let handles: Vec<_> = stores
            .iter()
            .map(|store| {
                let start = start.clone();
                s.spawn(move || {
                    start.wait();
                    store.migrate()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap().expect("every replica's migrate succeeds"))
            .collect()
    });
    // Together they applied each migration exactly once.
    let mut all: Vec<i64> = applied.concat();
    all.sort();
    assert_eq!(all, all_versions(), "applied per replica: {applied:?}");
    assert_eq!(recorded(&stores[0]).len(), MIGRATIONS.len());
}

#[test]
fn a_database_migrated_by_a_newer_bosun_is_refused() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let store = PgStore::connect(&cluster.fresh_database()).unwrap();
    // Past the newest migration (numbers may skip one a branch reserved).
    let future = MIGRATIONS.iter().map(|m| m.version).max().unwrap() + 1;
    store
        .with_client(async |c| {
            c.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_ms) VALUES ($1, 'from_the_future', 'x', 0)",
                &[&future],
            )
            .await?;
            Ok(())
        })
        .unwrap();
    let err = store.migrate().unwrap_err();
    assert!(matches!(err, PgError::Schema(_)), "{err:?}");
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains("from_the_future") && text.contains("newer Bosun"),
        "{text}"
    );
    let as_store_error: bosun_store::StoreError = err.into();
    assert!(matches!(
        as_store_error,
        bosun_store::StoreError::Corrupt(_)
    ));
}

#[test]
fn an_applied_migration_whose_text_changed_is_refused() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let store = PgStore::connect(&cluster.fresh_database()).unwrap();
    store
        .with_client(async |c| {
            c.execute(
                "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 2",
                &[],
            )
            .await?;
            Ok(())
        })
        .unwrap();
    let text = store.migrate().unwrap_err().to_string();
    assert!(
        text.contains("migration 0002 (commands)") && text.contains("must not change"),
        "{text}"
    );
}
