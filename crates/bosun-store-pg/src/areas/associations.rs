//! The associations area of the store on PostgreSQL ([`bosun_store::AssociationStore`]).
//!
//! Locking rules (READ COMMITTED does not serialise read-modify-writes by itself):
//! - creations in a region take a transaction-scoped advisory lock on the region, so the count
//!   checked against the limit cannot change before the insert commits; the partial unique
//!   index on (region, document, node) makes one of two legacy creations for a pair fail;
//! - an update locks the association's row (`FOR UPDATE`) before comparing its latest version,
//!   so of concurrent updates expecting one version exactly one sees it, and numbers are
//!   distinct.

use bosun_store::{
    AssociationDefinition, AssociationFilter, AssociationRecord, AssociationState,
    AssociationStore, AssociationVersionRecord, Result, StoreError, UpdateAssociation,
};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::{PgError, PgStore, Transaction};

type PgResult<T> = std::result::Result<T, PgError>;
type RowResult<T> = std::result::Result<T, tokio_postgres::Error>;

/// The definition's columns, in both tables.
const DEF_COLS: &str = "name, document_version, instance_id, association_name, \
     schedule_expression, apply_only_at_cron_interval, schedule_offset, duration_hours, spec_json";
pub(super) const HEAD_COLS: &str =
    "region, association_id, latest_version, created_ms, updated_ms, \
     name, document_version, instance_id, association_name, \
     schedule_expression, apply_only_at_cron_interval, schedule_offset, duration_hours, spec_json, \
     status_name, status_message, status_date_ms, overview_status, overview_detailed_status, \
     overview_counts_json, last_execution_ms, last_successful_execution_ms";

fn definition_at(r: &Row, i: usize) -> RowResult<AssociationDefinition> {
    Ok(AssociationDefinition {
        name: r.try_get(i)?,
        document_version: r.try_get(i + 1)?,
        instance_id: r.try_get(i + 2)?,
        association_name: r.try_get(i + 3)?,
        schedule_expression: r.try_get(i + 4)?,
        apply_only_at_cron_interval: r.try_get(i + 5)?,
        schedule_offset: r.try_get(i + 6)?,
        duration_hours: r.try_get(i + 7)?,
        spec_json: r.try_get(i + 8)?,
    })
}

pub(super) fn record_from_row(r: &Row) -> RowResult<AssociationRecord> {
    Ok(AssociationRecord {
        region: r.try_get(0)?,
        association_id: r.try_get(1)?,
        version: r.try_get(2)?,
        created_ms: r.try_get(3)?,
        updated_ms: r.try_get(4)?,
        definition: definition_at(r, 5)?,
        state: AssociationState {
            status_name: r.try_get(14)?,
            status_message: r.try_get(15)?,
            status_date_ms: r.try_get(16)?,
            overview_status: r.try_get(17)?,
            overview_detailed_status: r.try_get(18)?,
            overview_counts_json: r.try_get(19)?,
            last_execution_ms: r.try_get(20)?,
            last_successful_execution_ms: r.try_get(21)?,
        },
    })
}

fn version_from_row(r: &Row) -> RowResult<AssociationVersionRecord> {
    Ok(AssociationVersionRecord {
        version: r.try_get(0)?,
        created_ms: r.try_get(1)?,
        definition: definition_at(r, 2)?,
    })
}

/// Run a read statement on `store` and map its rows.
fn select<T>(
    store: &PgStore,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    map: fn(&Row) -> RowResult<T>,
) -> Result<Vec<T>> {
    Ok(store.with_client(async |client| {
        let statement = client.prepare_cached(sql).await?;
        let rows = client.query(&statement, params).await?;
        Ok(rows.iter().map(map).collect::<RowResult<Vec<T>>>()?)
    })?)
}

async fn insert_version(
    tx: &Transaction<'_>,
    region: &str,
    id: &str,
    version: i64,
    created_ms: i64,
    d: &AssociationDefinition,
) -> PgResult<()> {
    let statement = tx
        .prepare_cached(&format!(
            "INSERT INTO association_versions (region, association_id, version, created_ms, \
             {DEF_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .await?;
    tx.execute(
        &statement,
        &[
            &region,
            &id,
            &version,
            &created_ms,
            &d.name,
            &d.document_version,
            &d.instance_id,
            &d.association_name,
            &d.schedule_expression,
            &d.apply_only_at_cron_interval,
            &d.schedule_offset,
            &d.duration_hours,
            &d.spec_json,
        ],
    )
    .await?;
    Ok(())
}

fn pair_taken(d: &AssociationDefinition) -> PgError {
    StoreError::AlreadyExists(format!(
        "association of document {} with node {}",
        d.name, d.instance_id
    ))
    .into()
}

async fn head_in(tx: &Transaction<'_>, region: &str, id: &str) -> PgResult<AssociationRecord> {
    let row = tx
        .query_one(
            &format!(
                "SELECT {HEAD_COLS} FROM associations WHERE region = $1 AND association_id = $2"
            ),
            &[&region, &id],
        )
        .await?;
    Ok(record_from_row(&row)?)
}

/// One value of a list query's conditions.
enum Arg {
    Text(String),
    Int(i64),
}

impl AssociationStore for PgStore {
    fn create_association(
        &self,
        a: &AssociationRecord,
        tags: &[(String, String)],
        max_associations: usize,
    ) -> Result<()> {
        Ok(self.transaction(async |tx| {
            // Serialise creations in the region until this one commits.
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('bosun.associations:' || $1, 0))",
                &[&a.region],
            )
            .await?;
            let count: i64 = tx
                .query_one(
                    "SELECT COUNT(*) FROM associations WHERE region = $1",
                    &[&a.region],
                )
                .await?
                .try_get(0)?;
            if count as usize >= max_associations {
                return Err(
                    StoreError::LimitExceeded(format!("{max_associations} associations")).into(),
                );
            }
            let (d, s) = (&a.definition, &a.state);
            let inserted = tx
                .execute(
                    &format!(
                        "INSERT INTO associations ({HEAD_COLS}) VALUES ($1, $2, 1, $3, $3, $4, $5, \
                         $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
                         ON CONFLICT DO NOTHING"
                    ),
                    &[
                        &a.region,
                        &a.association_id,
                        &a.created_ms,
                        &d.name,
                        &d.document_version,
                        &d.instance_id,
                        &d.association_name,
                        &d.schedule_expression,
                        &d.apply_only_at_cron_interval,
                        &d.schedule_offset,
                        &d.duration_hours,
                        &d.spec_json,
                        &s.status_name,
                        &s.status_message,
                        &s.status_date_ms,
                        &s.overview_status,
                        &s.overview_detailed_status,
                        &s.overview_counts_json,
                        &s.last_execution_ms,
                        &s.last_successful_execution_ms,
                    ],
                )
                .await?;
            if inserted == 0 {
                return Err(pair_taken(d));
            }
            insert_version(tx, &a.region, &a.association_id, 1, a.created_ms, d).await?;
            super::tags::put_tags(tx, &a.region, "Association", &a.association_id, tags).await?;
            let events = self
                .association_events(tx, &a.region, &a.association_id)
                .await?;
            super::association_events::append_last(tx, &events).await
        })?)
    }

    fn get_association(
        &self,
        region: &str,
        association_id: &str,
    ) -> Result<Option<AssociationRecord>> {
        Ok(select(
            self,
            &format!(
                "SELECT {HEAD_COLS} FROM associations WHERE region = $1 AND association_id = $2"
            ),
            &[&region, &association_id],
            record_from_row,
        )?
        .pop())
    }

    fn association_of_node(
        &self,
        region: &str,
        name: &str,
        instance_id: &str,
    ) -> Result<Option<AssociationRecord>> {
        Ok(select(
            self,
            &format!(
                "SELECT {HEAD_COLS} FROM associations WHERE region = $1 AND name = $2 \
                 AND instance_id = $3 AND instance_id <> ''"
            ),
            &[&region, &name, &instance_id],
            record_from_row,
        )?
        .pop())
    }

    fn list_associations(
        &self,
        region: &str,
        filter: &AssociationFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AssociationRecord>> {
        let mut sql = format!("SELECT {HEAD_COLS} FROM associations WHERE region = $1");
        let mut args: Vec<Arg> = vec![Arg::Text(region.into())];
        let mut add = |condition: &str, value: Arg| {
            args.push(value);
            sql.push_str(&format!(" AND {condition} ${}", args.len()));
        };
        if let Some(v) = &filter.name {
            add("name =", Arg::Text(v.clone()));
        }
        if let Some(v) = &filter.association_id {
            add("association_id =", Arg::Text(v.clone()));
        }
        if let Some(v) = &filter.association_name {
            add("association_name =", Arg::Text(v.clone()));
        }
        if let Some(v) = &filter.instance_id {
            add("instance_id <> '' AND instance_id =", Arg::Text(v.clone()));
        }
        if let Some(v) = &filter.overview_status {
            add("overview_status =", Arg::Text(v.clone()));
        }
        if let Some(ms) = filter.last_executed_before_ms {
            add("last_execution_ms <", Arg::Int(ms));
        }
        if let Some(ms) = filter.last_executed_after_ms {
            add("last_execution_ms >", Arg::Int(ms));
        }
        if let Some(a) = after {
            add("association_id COLLATE \"C\" >", Arg::Text(a.into()));
        }
        sql.push_str(&format!(
            " ORDER BY association_id COLLATE \"C\" LIMIT {limit}"
        ));
        let params: Vec<&(dyn ToSql + Sync)> = args
            .iter()
            .map(|a| match a {
                Arg::Text(s) => s as &(dyn ToSql + Sync),
                Arg::Int(i) => i as &(dyn ToSql + Sync),
            })
            .collect();
        select(self, &sql, &params, record_from_row)
    }

    fn association_version(
        &self,
        region: &str,
        association_id: &str,
        version: i64,
    ) -> Result<Option<AssociationVersionRecord>> {
        Ok(select(
            self,
            &format!(
                "SELECT version, created_ms, {DEF_COLS} FROM association_versions \
                 WHERE region = $1 AND association_id = $2 AND version = $3"
            ),
            &[&region, &association_id, &version],
            version_from_row,
        )?
        .pop())
    }

    fn association_versions(
        &self,
        region: &str,
        association_id: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AssociationVersionRecord>> {
        let limit = limit as i64;
        select(
            self,
            &format!(
                "SELECT version, created_ms, {DEF_COLS} FROM association_versions \
                 WHERE region = $1 AND association_id = $2 AND version > $3 \
                 ORDER BY version LIMIT $4"
            ),
            &[&region, &association_id, &after, &limit],
            version_from_row,
        )
    }

    fn update_association(
        &self,
        region: &str,
        association_id: &str,
        expected_version: Option<i64>,
        d: &AssociationDefinition,
        now_ms: i64,
        max_versions: usize,
    ) -> Result<UpdateAssociation> {
        Ok(self.transaction(async |tx| {
            let locked = tx
                .query_opt(
                    "SELECT latest_version FROM associations \
                     WHERE region = $1 AND association_id = $2 FOR UPDATE",
                    &[&region, &association_id],
                )
                .await?;
            let Some(latest) = locked.map(|r| r.try_get::<_, i64>(0)).transpose()? else {
                return Ok(UpdateAssociation::NoSuchAssociation);
            };
            if expected_version.is_some_and(|e| e != latest) {
                return Ok(UpdateAssociation::VersionMismatch(latest));
            }
            let count: i64 = tx
                .query_one(
                    "SELECT COUNT(*) FROM association_versions \
                     WHERE region = $1 AND association_id = $2",
                    &[&region, &association_id],
                )
                .await?
                .try_get(0)?;
            if count as usize >= max_versions {
                return Ok(UpdateAssociation::LimitExceeded);
            }
            let version = latest + 1;
            let updated = tx
                .execute(
                    "UPDATE associations SET latest_version = $3, updated_ms = $4, name = $5, \
                     document_version = $6, instance_id = $7, association_name = $8, \
                     schedule_expression = $9, apply_only_at_cron_interval = $10, \
                     schedule_offset = $11, duration_hours = $12, spec_json = $13 \
                     WHERE region = $1 AND association_id = $2",
                    &[
                        &region,
                        &association_id,
                        &version,
                        &now_ms,
                        &d.name,
                        &d.document_version,
                        &d.instance_id,
                        &d.association_name,
                        &d.schedule_expression,
                        &d.apply_only_at_cron_interval,
                        &d.schedule_offset,
                        &d.duration_hours,
                        &d.spec_json,
                    ],
                )
                .await;
            match updated {
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    return Err(pair_taken(d))
                }
                other => other?,
            };
            insert_version(tx, region, association_id, version, now_ms, d).await?;
            let head = head_in(tx, region, association_id).await?;
            let events = self.association_events(tx, region, association_id).await?;
            super::association_events::append_last(tx, &events).await?;
            Ok(UpdateAssociation::Updated(Box::new(head)))
        })?)
    }

    fn delete_association(&self, region: &str, association_id: &str) -> Result<bool> {
        Ok(self.transaction(async |tx| {
            let events = self.association_events(tx, region, association_id).await?;
            // Versions go with the row (ON DELETE CASCADE); tags are separate.
            let n = tx
                .execute(
                    "DELETE FROM associations WHERE region = $1 AND association_id = $2",
                    &[&region, &association_id],
                )
                .await?;
            super::tags::delete_tags(tx, region, "Association", association_id).await?;
            tx.execute(
                "DELETE FROM compliance_items WHERE region = $1 AND \
                 compliance_type = 'Association' AND item_id = $2",
                &[&region, &association_id],
            )
            .await?;
            super::association_events::append_last(tx, &events).await?;
            Ok(n > 0)
        })?)
    }
}
