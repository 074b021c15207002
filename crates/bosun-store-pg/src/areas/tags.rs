//! The tags area of the store on PostgreSQL ([`bosun_store::TagStore`]), and the helpers other
//! areas use to write and remove a resource's tags inside their own transactions.
//!
//! Locking rule: every change that can add tags to a resource first takes a transaction-scoped
//! advisory lock on that resource ([`lock_tags`]), so the limit check (read the tag set, count
//! the merged keys) and the write cannot interleave with another addition, even when the
//! resource has no tag rows yet to lock. Removals only lower the count and need no lock.
//!
//! Keys sort with `COLLATE "C"` (byte order, as SQLite's `BINARY`) whatever the database's
//! default collation.

use bosun_store::{Result, TagStore};
use deadpool_postgres::Transaction;

use crate::{PgError, PgStore};

/// The first key of the advisory locks on resources' tag sets (`"tags"` in ASCII); the second
/// is a hash of the resource. The two-key lock space never meets single-key locks (migrations).
const TAG_LOCK_CLASS: i32 = 0x7461_6773;

/// Take the transaction-scoped lock on one resource's tag set (held until commit or rollback).
pub(crate) async fn lock_tags(
    tx: &Transaction<'_>,
    region: &str,
    resource_type: &str,
    resource_id: &str,
) -> std::result::Result<(), PgError> {
    // Region and type never contain a space and the id comes last, so the text is unambiguous;
    // two resources whose texts hash alike only wait for each other.
    let resource = format!("{region} {resource_type} {resource_id}");
    let lock = tx
        .prepare_cached("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .await?;
    tx.execute(&lock, &[&TAG_LOCK_CLASS, &resource]).await?;
    Ok(())
}

/// One resource's tags, sorted by key.
async fn tags_in(
    tx: &Transaction<'_>,
    region: &str,
    resource_type: &str,
    resource_id: &str,
) -> std::result::Result<Vec<(String, String)>, PgError> {
    let select = tx.prepare_cached(SELECT_TAGS).await?;
    let rows = tx
        .query(&select, &[&region, &resource_type, &resource_id])
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

const SELECT_TAGS: &str = "SELECT key, value FROM tags \
     WHERE region = $1 AND resource_type = $2 AND resource_id = $3 ORDER BY key COLLATE \"C\"";

/// Add or overwrite tags of a resource (a key given twice keeps its last value), under the
/// resource's tag lock. For areas that write tags with the resource they create.
pub(crate) async fn put_tags(
    tx: &Transaction<'_>,
    region: &str,
    resource_type: &str,
    resource_id: &str,
    tags: &[(String, String)],
) -> std::result::Result<(), PgError> {
    if tags.is_empty() {
        return Ok(());
    }
    lock_tags(tx, region, resource_type, resource_id).await?;
    upsert_tags(tx, region, resource_type, resource_id, tags).await
}

/// Write the tags in one statement; the caller holds the resource's tag lock.
async fn upsert_tags(
    tx: &Transaction<'_>,
    region: &str,
    resource_type: &str,
    resource_id: &str,
    tags: &[(String, String)],
) -> std::result::Result<(), PgError> {
    // One row per key: ON CONFLICT DO UPDATE refuses to touch a row twice in one statement.
    let distinct = bosun_core::tags::merge(&[], tags);
    let (keys, values): (Vec<&str>, Vec<&str>) = distinct
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .unzip();
    let upsert = tx
        .prepare_cached(
            "INSERT INTO tags (region, resource_type, resource_id, key, value) \
             SELECT $1, $2, $3, t.key, t.value FROM UNNEST($4::TEXT[], $5::TEXT[]) AS t(key, value) \
             ON CONFLICT (region, resource_type, resource_id, key) DO UPDATE SET value = EXCLUDED.value",
        )
        .await?;
    tx.execute(
        &upsert,
        &[&region, &resource_type, &resource_id, &keys, &values],
    )
    .await?;
    Ok(())
}

/// Remove every tag of a resource (the resource is being deleted).
pub(crate) async fn delete_tags(
    tx: &Transaction<'_>,
    region: &str,
    resource_type: &str,
    resource_id: &str,
) -> std::result::Result<(), PgError> {
    let delete = tx
        .prepare_cached(
            "DELETE FROM tags WHERE region = $1 AND resource_type = $2 AND resource_id = $3",
        )
        .await?;
    tx.execute(&delete, &[&region, &resource_type, &resource_id])
        .await?;
    Ok(())
}

impl TagStore for PgStore {
    fn tags(
        &self,
        region: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<Vec<(String, String)>> {
        Ok(self.with_client(async |c| {
            let select = c.prepare_cached(SELECT_TAGS).await?;
            let rows = c
                .query(&select, &[&region, &resource_type, &resource_id])
                .await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })?)
    }

    fn tags_of_type(
        &self,
        region: &str,
        resource_type: &str,
    ) -> Result<Vec<(String, String, String)>> {
        Ok(self.with_client(async |c| {
            let select = c
                .prepare_cached(
                    "SELECT resource_id, key, value FROM tags WHERE region = $1 AND resource_type = $2 \
                     ORDER BY resource_id COLLATE \"C\", key COLLATE \"C\"",
                )
                .await?;
            let rows = c.query(&select, &[&region, &resource_type]).await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
        })?)
    }

    fn add_tags(
        &self,
        region: &str,
        resource_type: &str,
        resource_id: &str,
        tags: &[(String, String)],
        max_tags: usize,
    ) -> Result<bool> {
        Ok(self.transaction(async |tx| {
            lock_tags(tx, region, resource_type, resource_id).await?;
            let existing = tags_in(tx, region, resource_type, resource_id).await?;
            if bosun_core::tags::merge(&existing, tags).len() > max_tags {
                return Ok(false);
            }
            upsert_tags(tx, region, resource_type, resource_id, tags).await?;
            Ok(true)
        })?)
    }

    fn remove_tags(
        &self,
        region: &str,
        resource_type: &str,
        resource_id: &str,
        keys: &[String],
    ) -> Result<()> {
        // One statement: atomic on its own.
        Ok(self.with_client(async |c| {
            let delete = c
                .prepare_cached(
                    "DELETE FROM tags WHERE region = $1 AND resource_type = $2 AND resource_id = $3 \
                     AND key = ANY($4::TEXT[])",
                )
                .await?;
            c.execute(&delete, &[&region, &resource_type, &resource_id, &keys])
                .await?;
            Ok(())
        })?)
    }
}
