//! Uploaded attachment files on SQLite ([`crate::AttachmentStore`]).

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::attachments::{AttachmentBlobRecord, AttachmentStore};
use crate::Result;

const COLS: &str = "region, sha256, size, uploaded_ms";

fn from_row(r: &Row) -> rusqlite::Result<AttachmentBlobRecord> {
    Ok(AttachmentBlobRecord {
        region: r.get(0)?,
        sha256: r.get(1)?,
        size: r.get(2)?,
        uploaded_ms: r.get(3)?,
    })
}

impl AttachmentStore for SqliteStore {
    fn record_attachment_blob(&self, b: &AttachmentBlobRecord) -> Result<AttachmentBlobRecord> {
        let conn = self.conn();
        conn.execute(
            &format!(
                "INSERT INTO attachment_blobs ({COLS}) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (region, sha256) DO NOTHING"
            ),
            params![b.region, b.sha256, b.size, b.uploaded_ms],
        )?;
        Ok(conn.query_row(
            &format!("SELECT {COLS} FROM attachment_blobs WHERE region = ?1 AND sha256 = ?2"),
            params![b.region, b.sha256],
            from_row,
        )?)
    }

    fn attachment_blob(&self, region: &str, sha256: &str) -> Result<Option<AttachmentBlobRecord>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {COLS} FROM attachment_blobs WHERE region = ?1 AND sha256 = ?2"
                    ),
                    params![region, sha256],
                    from_row,
                )
                .optional()?)
        })
    }

    fn remove_unreferenced_attachment_blobs(
        &self,
        region: &str,
        sha256s: &[String],
    ) -> Result<Vec<String>> {
        // The one writer connection: no document version is added while this runs.
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut gone = Vec::new();
        for sha in sha256s {
            let sha = sha.to_ascii_lowercase();
            tx.execute(
                "DELETE FROM attachment_blobs WHERE region = ?1 AND sha256 = ?2 \
                 AND NOT EXISTS (SELECT 1 FROM document_versions \
                     WHERE region = ?1 AND instr(lower(content), ?2) > 0)",
                params![region, sha],
            )?;
            let left: i64 = tx.query_row(
                "SELECT COUNT(*) FROM attachment_blobs WHERE sha256 = ?1",
                params![sha],
                |r| r.get(0),
            )?;
            if left == 0 && !gone.contains(&sha) {
                gone.push(sha);
            }
        }
        tx.commit()?;
        Ok(gone)
    }
}
