//! Uploaded attachment files on PostgreSQL ([`bosun_store::AttachmentStore`]): an upload is
//! one `INSERT … ON CONFLICT DO NOTHING`, so concurrent uploads of the same bytes keep one row;
//! unreferenced uploads are removed under a SHARE lock on `document_versions`.

use bosun_store::{AttachmentBlobRecord, AttachmentStore, Result};
use tokio_postgres::Row;

use crate::PgStore;

type RowResult<T> = std::result::Result<T, tokio_postgres::Error>;

const COLS: &str = "region, sha256, size, uploaded_ms";

fn from_row(r: &Row) -> RowResult<AttachmentBlobRecord> {
    Ok(AttachmentBlobRecord {
        region: r.try_get(0)?,
        sha256: r.try_get(1)?,
        size: r.try_get(2)?,
        uploaded_ms: r.try_get(3)?,
    })
}

impl AttachmentStore for PgStore {
    fn record_attachment_blob(&self, b: &AttachmentBlobRecord) -> Result<AttachmentBlobRecord> {
        Ok(self.transaction(async |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO attachment_blobs ({COLS}) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (region, sha256) DO NOTHING"
                ),
                &[&b.region, &b.sha256, &b.size, &b.uploaded_ms],
            )
            .await?;
            let row = tx
                .query_one(
                    &format!(
                        "SELECT {COLS} FROM attachment_blobs WHERE region = $1 AND sha256 = $2"
                    ),
                    &[&b.region, &b.sha256],
                )
                .await?;
            Ok(from_row(&row)?)
        })?)
    }

    fn attachment_blob(&self, region: &str, sha256: &str) -> Result<Option<AttachmentBlobRecord>> {
        Ok(self.with_client(async |client| {
            let row = client
                .query_opt(
                    &format!(
                        "SELECT {COLS} FROM attachment_blobs WHERE region = $1 AND sha256 = $2"
                    ),
                    &[&region, &sha256],
                )
                .await?;
            Ok(row.as_ref().map(from_row).transpose()?)
        })?)
    }

    fn remove_unreferenced_attachment_blobs(
        &self,
        region: &str,
        sha256s: &[String],
    ) -> Result<Vec<String>> {
        Ok(self.transaction(async |tx| {
            // SHARE conflicts with every insert into document_versions: a version naming one
            // of these files is either committed and seen below, or added after the removal.
            tx.batch_execute("LOCK TABLE document_versions IN SHARE MODE")
                .await?;
            let mut gone = Vec::new();
            for sha in sha256s {
                let sha = sha.to_ascii_lowercase();
                tx.execute(
                    "DELETE FROM attachment_blobs WHERE region = $1 AND sha256 = $2 \
                     AND NOT EXISTS (SELECT 1 FROM document_versions \
                         WHERE region = $1 AND strpos(lower(content), $2) > 0)",
                    &[&region, &sha],
                )
                .await?;
                let left: i64 = tx
                    .query_one(
                        "SELECT COUNT(*) FROM attachment_blobs WHERE sha256 = $1",
                        &[&sha],
                    )
                    .await?
                    .try_get(0)?;
                if left == 0 && !gone.contains(&sha) {
                    gone.push(sha);
                }
            }
            Ok(gone)
        })?)
    }
}
