//! The store conformance suite on the SQLite engine: a database file in a temporary directory
//! per case, so reads go through the read-only reader connections as in the server.

use std::ops::Deref;

use bosun_store::{SqliteStore, Store};

/// A fresh database file, deleted with its directory when the case ends.
struct TempStore {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl Deref for TempStore {
    type Target = dyn Store;

    fn deref(&self) -> &Self::Target {
        &self.store
    }
}

fn make_store() -> TempStore {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("bosun.db")).unwrap();
    TempStore { store, _dir: dir }
}

bosun_store::conformance_tests!(make_store);
