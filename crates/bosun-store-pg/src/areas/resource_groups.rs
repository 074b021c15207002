//! Resource groups on PostgreSQL ([`bosun_store::ResourceGroupStore`]).
//!
//! Rules for READ COMMITTED: a creation inserts with `ON CONFLICT DO NOTHING` on the
//! (region, name) key, so of two racing creations exactly one inserts and the other answers
//! `AlreadyExists`; an update and a deletion lock the group's row (`FOR UPDATE`) before
//! reading it, so the row they return is the one they changed.

use bosun_store::{GroupRecord, ResourceGroupStore, Result, StoreError, GROUP_TAG_TYPE};
use tokio_postgres::Row;

use super::tags::{delete_tags, put_tags};
use crate::PgStore;

const COLS: &str = "region, name, description, query_type, query, created_ms";

fn group_from(r: &Row) -> GroupRecord {
    GroupRecord {
        region: r.get(0),
        name: r.get(1),
        description: r.get(2),
        query_type: r.get(3),
        query: r.get(4),
        created_ms: r.get(5),
    }
}

impl ResourceGroupStore for PgStore {
    fn create_group(&self, g: &GroupRecord, tags: &[(String, String)]) -> Result<()> {
        Ok(self.transaction(async |tx| {
            let inserted = tx
                .execute(
                    &format!(
                        "INSERT INTO resource_groups ({COLS}) VALUES ($1,$2,$3,$4,$5,$6) \
                         ON CONFLICT (region, name) DO NOTHING"
                    ),
                    &[
                        &g.region,
                        &g.name,
                        &g.description,
                        &g.query_type,
                        &g.query,
                        &g.created_ms,
                    ],
                )
                .await?;
            if inserted == 0 {
                return Err(StoreError::AlreadyExists(format!("resource group {}", g.name)).into());
            }
            put_tags(tx, &g.region, GROUP_TAG_TYPE, &g.name, tags).await?;
            Ok(())
        })?)
    }

    fn get_group(&self, region: &str, name: &str) -> Result<Option<GroupRecord>> {
        Ok(self.with_client(async |c| {
            let row = c
                .query_opt(
                    &format!("SELECT {COLS} FROM resource_groups WHERE region = $1 AND name = $2"),
                    &[&region, &name],
                )
                .await?;
            Ok(row.as_ref().map(group_from))
        })?)
    }

    fn list_groups(&self, region: &str) -> Result<Vec<GroupRecord>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {COLS} FROM resource_groups WHERE region = $1 \
                         ORDER BY name COLLATE \"C\""
                    ),
                    &[&region],
                )
                .await?;
            Ok(rows.iter().map(group_from).collect())
        })?)
    }

    fn update_group(
        &self,
        region: &str,
        name: &str,
        description: Option<&str>,
        query: Option<(&str, &str)>,
    ) -> Result<Option<GroupRecord>> {
        Ok(self.transaction(async |tx| {
            let Some(row) = tx
                .query_opt(
                    &format!(
                        "SELECT {COLS} FROM resource_groups WHERE region = $1 AND name = $2 \
                         FOR UPDATE"
                    ),
                    &[&region, &name],
                )
                .await?
            else {
                return Ok(None);
            };
            let mut g = group_from(&row);
            if let Some(d) = description {
                g.description = d.to_string();
            }
            if let Some((t, q)) = query {
                g.query_type = t.to_string();
                g.query = q.to_string();
            }
            tx.execute(
                "UPDATE resource_groups SET description = $3, query_type = $4, query = $5 \
                 WHERE region = $1 AND name = $2",
                &[&region, &name, &g.description, &g.query_type, &g.query],
            )
            .await?;
            Ok(Some(g))
        })?)
    }

    fn delete_group(&self, region: &str, name: &str) -> Result<Option<GroupRecord>> {
        Ok(self.transaction(async |tx| {
            let Some(row) = tx
                .query_opt(
                    &format!(
                        "DELETE FROM resource_groups WHERE region = $1 AND name = $2 \
                         RETURNING {COLS}"
                    ),
                    &[&region, &name],
                )
                .await?
            else {
                return Ok(None);
            };
            delete_tags(tx, region, GROUP_TAG_TYPE, name).await?;
            Ok(Some(group_from(&row)))
        })?)
    }
}
