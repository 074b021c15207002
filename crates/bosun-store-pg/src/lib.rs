//! Bosun's store on PostgreSQL: the connection pool, its runtime, schema migrations and the
//! helpers the store's areas are written with.
//!
//! Same tables and columns as the SQLite engine (`bosun_store`), written as PostgreSQL DDL in
//! `schema/NNNN_name.sql`; times stay `BIGINT` milliseconds so both engines compare integers.
//! Columns holding a Rust `bool` are `BOOLEAN` here (SQLite's 0/1 `INTEGER`).
//!
//! With the `testing` feature, [`testing::PgCluster`] starts a private throwaway PostgreSQL.

mod access;
mod areas;
mod doorbell;
mod error;
mod migrate;
mod options;
mod store;
mod tls;

#[cfg(feature = "testing")]
pub mod testing;

pub use deadpool_postgres::{ClientWrapper, Transaction};
pub use doorbell::{Heard, PgDoorbell, MAX_PAYLOAD_BYTES};
pub use error::PgError;
pub use migrate::{Migration, MIGRATIONS};
pub use options::PgOptions;
pub use store::PgStore;
pub use tokio_postgres::IsolationLevel;
