//! The documents area of the store on PostgreSQL ([`bosun_store::DocumentStore`]).
//!
//! Locking rules (READ COMMITTED does not serialise read-modify-writes by itself):
//! - creations in a region take a transaction-scoped advisory lock on the region, so the count
//!   checked against the limit cannot change before the insert commits; the primary key makes
//!   one of two creations with the same name fail;
//! - adding a version, setting the default and deleting a version lock the document's row
//!   (`FOR UPDATE`): versions get distinct consecutive numbers, and a default is only ever set
//!   on a version that is still there.

use bosun_store::{
    AddVersion, DocumentRecord, DocumentStore, DocumentVersionRecord, Result, StoreError,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::{PgError, PgStore, Transaction};

type PgResult<T> = std::result::Result<T, PgError>;
type RowResult<T> = std::result::Result<T, tokio_postgres::Error>;

const DOC_COLS: &str = "region, name, document_type, target_type, display_name, created_ms, \
     default_version, latest_version";
const VER_COLS: &str =
    "version, version_name, content, format, schema_version, hash, requires_json, created_ms";

fn doc_from_row(r: &Row) -> RowResult<DocumentRecord> {
    Ok(DocumentRecord {
        region: r.try_get(0)?,
        name: r.try_get(1)?,
        document_type: r.try_get(2)?,
        target_type: r.try_get(3)?,
        display_name: r.try_get(4)?,
        created_ms: r.try_get(5)?,
        default_version: r.try_get(6)?,
        latest_version: r.try_get(7)?,
    })
}

fn ver_from_row(r: &Row) -> RowResult<DocumentVersionRecord> {
    Ok(DocumentVersionRecord {
        version: r.try_get(0)?,
        version_name: r.try_get(1)?,
        content: r.try_get(2)?,
        format: r.try_get(3)?,
        schema_version: r.try_get(4)?,
        hash: r.try_get(5)?,
        requires_json: r.try_get(6)?,
        created_ms: r.try_get(7)?,
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
    name: &str,
    v: &DocumentVersionRecord,
) -> PgResult<()> {
    let statement = tx
        .prepare_cached(&format!(
            "INSERT INTO document_versions (region, name, {VER_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .await?;
    tx.execute(
        &statement,
        &[
            &region,
            &name,
            &v.version,
            &v.version_name,
            &v.content,
            &v.format,
            &v.schema_version,
            &v.hash,
            &v.requires_json,
            &v.created_ms,
        ],
    )
    .await?;
    Ok(())
}

/// Lock a document's row until the transaction ends; its latest version number, `None` when
/// the document does not exist.
async fn lock_document(tx: &Transaction<'_>, region: &str, name: &str) -> PgResult<Option<i64>> {
    let statement = tx
        .prepare_cached(
            "SELECT latest_version FROM documents WHERE region = $1 AND name = $2 FOR UPDATE",
        )
        .await?;
    Ok(match tx.query_opt(&statement, &[&region, &name]).await? {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
}

/// Add the next version of a document whose row the transaction has locked.
async fn add_version_in(
    tx: &Transaction<'_>,
    region: &str,
    name: &str,
    v: &DocumentVersionRecord,
    max_versions: usize,
) -> PgResult<AddVersion> {
    let Some(latest) = lock_document(tx, region, name).await? else {
        return Ok(AddVersion::NoSuchDocument);
    };
    let statement = tx
        .prepare_cached(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE hash = $3), \
             COUNT(*) FILTER (WHERE version_name <> '' AND version_name = $4) \
             FROM document_versions WHERE region = $1 AND name = $2",
        )
        .await?;
    let row = tx
        .query_one(&statement, &[&region, &name, &v.hash, &v.version_name])
        .await?;
    let (count, same_hash, same_name): (i64, i64, i64) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    if same_hash > 0 {
        return Ok(AddVersion::DuplicateContent);
    }
    if same_name > 0 {
        return Ok(AddVersion::DuplicateVersionName);
    }
    if count as usize >= max_versions {
        return Ok(AddVersion::LimitExceeded);
    }
    let version = latest + 1;
    let numbered = DocumentVersionRecord {
        version,
        ..v.clone()
    };
    insert_version(tx, region, name, &numbered).await?;
    tx.execute(
        "UPDATE documents SET latest_version = $3 WHERE region = $1 AND name = $2",
        &[&region, &name, &version],
    )
    .await?;
    Ok(AddVersion::Added(version))
}

impl DocumentStore for PgStore {
    fn create_document(
        &self,
        d: &DocumentRecord,
        first: &DocumentVersionRecord,
        tags: &[(String, String)],
        max_documents: usize,
    ) -> Result<()> {
        Ok(self.transaction(async |tx| {
            // Serialise creations in the region until this one commits.
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('bosun.documents:' || $1, 0))",
                &[&d.region],
            )
            .await?;
            let count: i64 = tx
                .query_one(
                    "SELECT COUNT(*) FROM documents WHERE region = $1",
                    &[&d.region],
                )
                .await?
                .try_get(0)?;
            if count as usize >= max_documents {
                return Err(
                    StoreError::LimitExceeded(format!("{max_documents} documents")).into(),
                );
            }
            let inserted = tx
                .execute(
                    &format!(
                        "INSERT INTO documents ({DOC_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT DO NOTHING"
                    ),
                    &[
                        &d.region,
                        &d.name,
                        &d.document_type,
                        &d.target_type,
                        &d.display_name,
                        &d.created_ms,
                        &d.default_version,
                        &d.latest_version,
                    ],
                )
                .await?;
            if inserted == 0 {
                return Err(StoreError::AlreadyExists(format!("document {}", d.name)).into());
            }
            insert_version(tx, &d.region, &d.name, first).await?;
            let put_tag = tx
                .prepare_cached(
                    "INSERT INTO tags (region, resource_type, resource_id, key, value) \
                     VALUES ($1, 'Document', $2, $3, $4) \
                     ON CONFLICT (region, resource_type, resource_id, key) \
                     DO UPDATE SET value = EXCLUDED.value",
                )
                .await?;
            for (key, value) in tags {
                tx.execute(&put_tag, &[&d.region, &d.name, key, value])
                    .await?;
            }
            Ok(())
        })?)
    }

    fn get_document(&self, region: &str, name: &str) -> Result<Option<DocumentRecord>> {
        Ok(select(
            self,
            &format!("SELECT {DOC_COLS} FROM documents WHERE region = $1 AND name = $2"),
            &[&region, &name],
            doc_from_row,
        )?
        .pop())
    }

    fn list_documents(&self, region: &str) -> Result<Vec<DocumentRecord>> {
        select(
            self,
            &format!(
                "SELECT {DOC_COLS} FROM documents WHERE region = $1 ORDER BY name COLLATE \"C\""
            ),
            &[&region],
            doc_from_row,
        )
    }

    fn document_version(
        &self,
        region: &str,
        name: &str,
        version: i64,
    ) -> Result<Option<DocumentVersionRecord>> {
        Ok(select(
            self,
            &format!(
                "SELECT {VER_COLS} FROM document_versions \
                 WHERE region = $1 AND name = $2 AND version = $3"
            ),
            &[&region, &name, &version],
            ver_from_row,
        )?
        .pop())
    }

    fn document_versions(&self, region: &str, name: &str) -> Result<Vec<DocumentVersionRecord>> {
        select(
            self,
            &format!(
                "SELECT {VER_COLS} FROM document_versions WHERE region = $1 AND name = $2 \
                 ORDER BY version"
            ),
            &[&region, &name],
            ver_from_row,
        )
    }

    fn add_document_version(
        &self,
        region: &str,
        name: &str,
        v: &DocumentVersionRecord,
        max_versions: usize,
    ) -> Result<AddVersion> {
        Ok(self.transaction(async |tx| add_version_in(tx, region, name, v, max_versions).await)?)
    }

    fn set_default_document_version(&self, region: &str, name: &str, version: i64) -> Result<bool> {
        Ok(self.transaction(async |tx| {
            if lock_document(tx, region, name).await?.is_none() {
                return Ok(false);
            }
            // A new statement after the lock: it sees a version deletion committed before.
            let n = tx
                .execute(
                    "UPDATE documents SET default_version = $3 WHERE region = $1 AND name = $2 \
                     AND EXISTS (SELECT 1 FROM document_versions \
                     WHERE region = $1 AND name = $2 AND version = $3)",
                    &[&region, &name, &version],
                )
                .await?;
            Ok(n > 0)
        })?)
    }

    fn delete_document(&self, region: &str, name: &str) -> Result<bool> {
        Ok(self.transaction(async |tx| {
            // Versions and shares go with the row (ON DELETE CASCADE); tags are separate.
            let n = tx
                .execute(
                    "DELETE FROM documents WHERE region = $1 AND name = $2",
                    &[&region, &name],
                )
                .await?;
            tx.execute(
                "DELETE FROM tags WHERE region = $1 AND resource_type = 'Document' \
                 AND resource_id = $2",
                &[&region, &name],
            )
            .await?;
            Ok(n > 0)
        })?)
    }

    fn delete_document_version(&self, region: &str, name: &str, version: i64) -> Result<bool> {
        Ok(self.transaction(async |tx| {
            if lock_document(tx, region, name).await?.is_none() {
                return Ok(false);
            }
            // The latest version number stays: AWS never reuses version numbers.
            let n = tx
                .execute(
                    "DELETE FROM document_versions WHERE region = $1 AND name = $2 AND version = $3",
                    &[&region, &name, &version],
                )
                .await?;
            Ok(n > 0)
        })?)
    }

    fn document_shares(&self, region: &str, name: &str) -> Result<Vec<(String, String)>> {
        select(
            self,
            "SELECT account_id, shared_version FROM document_shares \
             WHERE region = $1 AND name = $2 ORDER BY account_id COLLATE \"C\"",
            &[&region, &name],
            |r| Ok((r.try_get(0)?, r.try_get(1)?)),
        )
    }

    fn modify_document_shares(
        &self,
        region: &str,
        name: &str,
        add: &[String],
        remove: &[String],
        version: &str,
    ) -> Result<()> {
        Ok(self.transaction(async |tx| {
            let delete = tx
                .prepare_cached(
                    "DELETE FROM document_shares WHERE region = $1 AND name = $2 AND account_id = $3",
                )
                .await?;
            for account in remove {
                tx.execute(&delete, &[&region, &name, account]).await?;
            }
            let upsert = tx
                .prepare_cached(
                    "INSERT INTO document_shares (region, name, account_id, shared_version) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (region, name, account_id) \
                     DO UPDATE SET shared_version = EXCLUDED.shared_version",
                )
                .await?;
            for account in add {
                tx.execute(&upsert, &[&region, &name, account, &version])
                    .await?;
            }
            Ok(())
        })?)
    }
}
