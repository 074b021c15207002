//! The store conformance suite (`bosun_store::conformance`) on PostgreSQL: every case on a fresh
//! migrated database of the test binary's private cluster. Without PostgreSQL's server binaries
//! the cases are skipped with a message (a failure under `BOSUN_REQUIRE_PG=1`).

use std::sync::Arc;

use bosun_store::Store;
use bosun_store_pg::testing::PgCluster;
use bosun_store_pg::PgStore;

fn make_store() -> Option<Arc<dyn Store>> {
    let cluster = PgCluster::shared()?;
    let store = PgStore::connect(&cluster.fresh_database()).expect("connect to a fresh database");
    Some(Arc::new(store))
}

bosun_store::conformance_tests!(optional make_store);
