//! Resource groups on SQLite (the one writer connection serialises creations).

use rusqlite::{params, OptionalExtension, Row};

use super::tags::{get_tags, put_tags};
use super::SqliteStore;
use crate::resource_groups::{GroupRecord, ResourceGroupStore, GROUP_TAG_TYPE};
use crate::{Result, StoreError};

const COLS: &str = "region, name, description, query_type, query, created_ms";

fn group_from(r: &Row<'_>) -> rusqlite::Result<GroupRecord> {
    Ok(GroupRecord {
        region: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        query_type: r.get(3)?,
        query: r.get(4)?,
        created_ms: r.get(5)?,
    })
}

fn group_in(
    conn: &rusqlite::Connection,
    region: &str,
    name: &str,
) -> rusqlite::Result<Option<GroupRecord>> {
    conn.query_row(
        &format!("SELECT {COLS} FROM resource_groups WHERE region = ?1 AND name = ?2"),
        params![region, name],
        group_from,
    )
    .optional()
}

impl ResourceGroupStore for SqliteStore {
    fn create_group(&self, g: &GroupRecord, tags: &[(String, String)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if group_in(&tx, &g.region, &g.name)?.is_some() {
            return Err(StoreError::AlreadyExists(format!(
                "resource group {}",
                g.name
            )));
        }
        tx.execute(
            &format!("INSERT INTO resource_groups ({COLS}) VALUES (?1,?2,?3,?4,?5,?6)"),
            params![
                g.region,
                g.name,
                g.description,
                g.query_type,
                g.query,
                g.created_ms
            ],
        )?;
        // A group of that name deleted earlier left no tags (deletion removes them).
        debug_assert!(get_tags(&tx, &g.region, GROUP_TAG_TYPE, &g.name)?.is_empty());
        put_tags(&tx, &g.region, GROUP_TAG_TYPE, &g.name, tags)?;
        tx.commit()?;
        Ok(())
    }

    fn get_group(&self, region: &str, name: &str) -> Result<Option<GroupRecord>> {
        self.read(|conn| Ok(group_in(conn, region, name)?))
    }

    fn list_groups(&self, region: &str) -> Result<Vec<GroupRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLS} FROM resource_groups WHERE region = ?1 ORDER BY name"
            ))?;
            let rows = stmt.query_map(params![region], group_from)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn update_group(
        &self,
        region: &str,
        name: &str,
        description: Option<&str>,
        query: Option<(&str, &str)>,
    ) -> Result<Option<GroupRecord>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let Some(mut g) = group_in(&tx, region, name)? else {
            return Ok(None);
        };
        if let Some(d) = description {
            g.description = d.to_string();
        }
        if let Some((t, q)) = query {
            g.query_type = t.to_string();
            g.query = q.to_string();
        }
        tx.execute(
            "UPDATE resource_groups SET description = ?3, query_type = ?4, query = ?5 \
             WHERE region = ?1 AND name = ?2",
            params![region, name, g.description, g.query_type, g.query],
        )?;
        tx.commit()?;
        Ok(Some(g))
    }

    fn delete_group(&self, region: &str, name: &str) -> Result<Option<GroupRecord>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let Some(g) = group_in(&tx, region, name)? else {
            return Ok(None);
        };
        tx.execute(
            "DELETE FROM resource_groups WHERE region = ?1 AND name = ?2",
            params![region, name],
        )?;
        tx.execute(
            "DELETE FROM tags WHERE region = ?1 AND resource_type = ?2 AND resource_id = ?3",
            params![region, GROUP_TAG_TYPE, name],
        )?;
        tx.commit()?;
        Ok(Some(g))
    }
}
