//! Agent releases on PostgreSQL ([`bosun_store::AgentReleaseStore`]): a publication inserts with
//! `ON CONFLICT DO NOTHING` and reads the row back under `FOR UPDATE`, so of concurrent
//! publications of one version one creates it; defaults change under the same row locks.

use bosun_store::{AgentReleaseRecord, AgentReleaseStore, PublishOutcome, Result};
use tokio_postgres::Row;

use crate::PgStore;

type RowResult<T> = std::result::Result<T, tokio_postgres::Error>;

const COLUMNS: &str = "version, platform, arch, sha256, size, signature, published_ms, is_default";

fn from_row(r: &Row) -> RowResult<AgentReleaseRecord> {
    Ok(AgentReleaseRecord {
        version: r.try_get(0)?,
        platform: r.try_get(1)?,
        arch: r.try_get(2)?,
        sha256: r.try_get(3)?,
        size: r.try_get::<_, i64>(4)? as u64,
        signature: r.try_get(5)?,
        published_ms: r.try_get(6)?,
        is_default: r.try_get(7)?,
    })
}

const MAKE_DEFAULT: &str =
    "UPDATE agent_releases SET is_default = (version = $1) WHERE platform = $2 AND arch = $3";

impl AgentReleaseStore for PgStore {
    fn publish_agent_release(&self, r: &AgentReleaseRecord) -> Result<PublishOutcome> {
        let size = r.size as i64;
        Ok(self.transaction(async |tx| {
            let inserted = tx
                .execute(
                    &format!(
                        "INSERT INTO agent_releases ({COLUMNS}) \
                         VALUES ($1,$2,$3,$4,$5,$6,$7,FALSE) ON CONFLICT DO NOTHING"
                    ),
                    &[
                        &r.version,
                        &r.platform,
                        &r.arch,
                        &r.sha256,
                        &size,
                        &r.signature,
                        &r.published_ms,
                    ],
                )
                .await?;
            let outcome = if inserted == 1 {
                PublishOutcome::Created
            } else {
                let row = tx
                    .query_one(
                        "SELECT sha256 FROM agent_releases \
                         WHERE version = $1 AND platform = $2 AND arch = $3 FOR UPDATE",
                        &[&r.version, &r.platform, &r.arch],
                    )
                    .await?;
                let sha: String = row.try_get(0)?;
                if sha != r.sha256 {
                    return Ok(PublishOutcome::Conflict {
                        existing_sha256: sha,
                    });
                }
                PublishOutcome::AlreadyPublished
            };
            if r.is_default {
                tx.execute(MAKE_DEFAULT, &[&r.version, &r.platform, &r.arch])
                    .await?;
            }
            Ok(outcome)
        })?)
    }

    fn get_agent_release(
        &self,
        version: &str,
        platform: &str,
        arch: &str,
    ) -> Result<Option<AgentReleaseRecord>> {
        Ok(self.with_client(async |c| {
            let row = c
                .query_opt(
                    &format!(
                        "SELECT {COLUMNS} FROM agent_releases \
                         WHERE version = $1 AND platform = $2 AND arch = $3"
                    ),
                    &[&version, &platform, &arch],
                )
                .await?;
            Ok(row.as_ref().map(from_row).transpose()?)
        })?)
    }

    fn list_agent_releases(&self) -> Result<Vec<AgentReleaseRecord>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {COLUMNS} FROM agent_releases ORDER BY platform COLLATE \"C\", \
                         arch COLLATE \"C\", published_ms, version COLLATE \"C\""
                    ),
                    &[],
                )
                .await?;
            Ok(rows.iter().map(from_row).collect::<RowResult<Vec<_>>>()?)
        })?)
    }

    fn set_default_agent_release(&self, version: &str, platform: &str, arch: &str) -> Result<bool> {
        Ok(self.transaction(async |tx| {
            let found = tx
                .query_opt(
                    "SELECT 1 FROM agent_releases \
                     WHERE version = $1 AND platform = $2 AND arch = $3 FOR UPDATE",
                    &[&version, &platform, &arch],
                )
                .await?
                .is_some();
            if found {
                tx.execute(MAKE_DEFAULT, &[&version, &platform, &arch])
                    .await?;
            }
            Ok(found)
        })?)
    }

    fn set_agent_release_signatures(&self, releases: &[AgentReleaseRecord]) -> Result<()> {
        Ok(self.transaction(async |tx| {
            for r in releases {
                tx.execute(
                    "UPDATE agent_releases SET signature = $4 \
                     WHERE version = $1 AND platform = $2 AND arch = $3",
                    &[&r.version, &r.platform, &r.arch, &r.signature],
                )
                .await?;
            }
            Ok(())
        })?)
    }
}
