//! Documents on SQLite: creations and new versions run in `IMMEDIATE` transactions, so their
//! checks (limits, duplicates, the next number) cannot race.

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::documents::{AddVersion, DocumentRecord, DocumentStore, DocumentVersionRecord};
use crate::{Result, StoreError};

const DOC_COLS: &str = "region, name, document_type, target_type, display_name, created_ms, default_version, latest_version";
const VER_COLS: &str =
    "version, version_name, content, format, schema_version, hash, requires_json, created_ms";

fn doc_from_row(r: &Row) -> rusqlite::Result<DocumentRecord> {
    Ok(DocumentRecord {
        region: r.get(0)?,
        name: r.get(1)?,
        document_type: r.get(2)?,
        target_type: r.get(3)?,
        display_name: r.get(4)?,
        created_ms: r.get(5)?,
        default_version: r.get(6)?,
        latest_version: r.get(7)?,
    })
}

fn ver_from_row(r: &Row) -> rusqlite::Result<DocumentVersionRecord> {
    Ok(DocumentVersionRecord {
        version: r.get(0)?,
        version_name: r.get(1)?,
        content: r.get(2)?,
        format: r.get(3)?,
        schema_version: r.get(4)?,
        hash: r.get(5)?,
        requires_json: r.get(6)?,
        created_ms: r.get(7)?,
    })
}

fn insert_version(
    conn: &rusqlite::Connection,
    region: &str,
    name: &str,
    v: &DocumentVersionRecord,
) -> rusqlite::Result<()> {
    conn.execute(
        &format!("INSERT INTO document_versions (region, name, {VER_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"),
        params![region, name, v.version, v.version_name, v.content, v.format, v.schema_version, v.hash, v.requires_json, v.created_ms],
    )?;
    Ok(())
}

impl DocumentStore for SqliteStore {
    fn create_document(
        &self,
        d: &DocumentRecord,
        first: &DocumentVersionRecord,
        tags: &[(String, String)],
        max_documents: usize,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let count: i64 = tx.query_row(
            "SELECT COUNT(*) FROM documents WHERE region = ?1",
            [&d.region],
            |r| r.get(0),
        )?;
        if count as usize >= max_documents {
            return Err(StoreError::LimitExceeded(format!(
                "{max_documents} documents"
            )));
        }
        let n = tx.execute(
            &format!("INSERT INTO documents ({DOC_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT DO NOTHING"),
            params![d.region, d.name, d.document_type, d.target_type, d.display_name, d.created_ms, d.default_version, d.latest_version],
        )?;
        if n == 0 {
            return Err(StoreError::AlreadyExists(format!("document {}", d.name)));
        }
        insert_version(&tx, &d.region, &d.name, first)?;
        super::tags::put_tags(&tx, &d.region, "Document", &d.name, tags)?;
        tx.commit()?;
        Ok(())
    }

    fn get_document(&self, region: &str, name: &str) -> Result<Option<DocumentRecord>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {DOC_COLS} FROM documents WHERE region = ?1 AND name = ?2"),
                    params![region, name],
                    doc_from_row,
                )
                .optional()?)
        })
    }

    fn list_documents(&self, region: &str) -> Result<Vec<DocumentRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {DOC_COLS} FROM documents WHERE region = ?1 ORDER BY name"
            ))?;
            let rows = stmt.query_map([region], doc_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn document_version(
        &self,
        region: &str,
        name: &str,
        version: i64,
    ) -> Result<Option<DocumentVersionRecord>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {VER_COLS} FROM document_versions WHERE region = ?1 AND name = ?2 AND version = ?3"),
                    params![region, name, version],
                    ver_from_row,
                )
                .optional()?)
        })
    }

    fn document_versions(&self, region: &str, name: &str) -> Result<Vec<DocumentVersionRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {VER_COLS} FROM document_versions WHERE region = ?1 AND name = ?2 ORDER BY version"
            ))?;
            let rows = stmt.query_map(params![region, name], ver_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn add_document_version(
        &self,
        region: &str,
        name: &str,
        v: &DocumentVersionRecord,
        max_versions: usize,
    ) -> Result<AddVersion> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let latest: Option<i64> = tx
            .query_row(
                "SELECT latest_version FROM documents WHERE region = ?1 AND name = ?2",
                params![region, name],
                |r| r.get(0),
            )
            .optional()?;
        let Some(latest) = latest else {
            return Ok(AddVersion::NoSuchDocument);
        };
        let (count, same_hash, same_name): (i64, i64, i64) = tx.query_row(
            "SELECT COUNT(*), COALESCE(SUM(hash = ?3), 0), COALESCE(SUM(version_name <> '' AND version_name = ?4), 0) \
             FROM document_versions WHERE region = ?1 AND name = ?2",
            params![region, name, v.hash, v.version_name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
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
        insert_version(
            &tx,
            region,
            name,
            &DocumentVersionRecord {
                version,
                ..v.clone()
            },
        )?;
        tx.execute(
            "UPDATE documents SET latest_version = ?3 WHERE region = ?1 AND name = ?2",
            params![region, name, version],
        )?;
        tx.commit()?;
        Ok(AddVersion::Added(version))
    }

    fn set_default_document_version(&self, region: &str, name: &str, version: i64) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE documents SET default_version = ?3 WHERE region = ?1 AND name = ?2 \
             AND EXISTS (SELECT 1 FROM document_versions WHERE region = ?1 AND name = ?2 AND version = ?3)",
            params![region, name, version],
        )?;
        Ok(n > 0)
    }

    fn delete_document(&self, region: &str, name: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM documents WHERE region = ?1 AND name = ?2",
            params![region, name],
        )?;
        tx.execute(
            "DELETE FROM tags WHERE region = ?1 AND resource_type = 'Document' AND resource_id = ?2",
            params![region, name],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    fn delete_document_version(&self, region: &str, name: &str, version: i64) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM document_versions WHERE region = ?1 AND name = ?2 AND version = ?3",
            params![region, name, version],
        )?;
        // The latest version number stays: AWS never reuses version numbers.
        tx.commit()?;
        Ok(n > 0)
    }

    fn document_shares(&self, region: &str, name: &str) -> Result<Vec<(String, String)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare("SELECT account_id, shared_version FROM document_shares WHERE region = ?1 AND name = ?2 ORDER BY account_id")?;
            let rows = stmt.query_map(params![region, name], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn modify_document_shares(
        &self,
        region: &str,
        name: &str,
        add: &[String],
        remove: &[String],
        version: &str,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for a in remove {
            tx.execute(
                "DELETE FROM document_shares WHERE region = ?1 AND name = ?2 AND account_id = ?3",
                params![region, name, a],
            )?;
        }
        for a in add {
            tx.execute(
                "INSERT INTO document_shares (region, name, account_id, shared_version) VALUES (?1,?2,?3,?4) \
                 ON CONFLICT (region, name, account_id) DO UPDATE SET shared_version = excluded.shared_version",
                params![region, name, a, version],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}
