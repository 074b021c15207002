//! Tags on SQLite, and the helpers other areas use to write and read tags inside their own
//! transactions.

use rusqlite::{params, Connection};

use super::SqliteStore;
use crate::tags::TagStore;
use crate::Result;

pub(crate) fn get_tags(
    conn: &Connection,
    region: &str,
    resource_type: &str,
    resource_id: &str,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, value FROM tags WHERE region = ?1 AND resource_type = ?2 AND resource_id = ?3 ORDER BY key",
    )?;
    let rows = stmt.query_map(params![region, resource_type, resource_id], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    rows.collect()
}

pub(crate) fn put_tags(
    conn: &Connection,
    region: &str,
    resource_type: &str,
    resource_id: &str,
    tags: &[(String, String)],
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO tags (region, resource_type, resource_id, key, value) VALUES (?1,?2,?3,?4,?5) \
         ON CONFLICT (region, resource_type, resource_id, key) DO UPDATE SET value = excluded.value",
    )?;
    for (k, v) in tags {
        stmt.execute(params![region, resource_type, resource_id, k, v])?;
    }
    Ok(())
}

impl TagStore for SqliteStore {
    fn tags(
        &self,
        region: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<Vec<(String, String)>> {
        self.read(|conn| Ok(get_tags(conn, region, resource_type, resource_id)?))
    }

    fn tags_of_type(
        &self,
        region: &str,
        resource_type: &str,
    ) -> Result<Vec<(String, String, String)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT resource_id, key, value FROM tags WHERE region = ?1 AND resource_type = ?2 ORDER BY resource_id, key",
            )?;
            let rows = stmt.query_map(params![region, resource_type], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn add_tags(
        &self,
        region: &str,
        resource_type: &str,
        resource_id: &str,
        tags: &[(String, String)],
        max_tags: usize,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let existing = get_tags(&tx, region, resource_type, resource_id)?;
        let merged = bosun_core::tags::merge(&existing, tags);
        if merged.len() > max_tags {
            return Ok(false);
        }
        put_tags(&tx, region, resource_type, resource_id, tags)?;
        tx.commit()?;
        Ok(true)
    }

    fn remove_tags(
        &self,
        region: &str,
        resource_type: &str,
        resource_id: &str,
        keys: &[String],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for k in keys {
            tx.execute(
                "DELETE FROM tags WHERE region = ?1 AND resource_type = ?2 AND resource_id = ?3 AND key = ?4",
                params![region, resource_type, resource_id, k],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}
