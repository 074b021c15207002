//! Agent releases on PostgreSQL ([`bosun_store::AgentReleaseStore`]): a publication inserts with
//! `ON CONFLICT DO NOTHING` and reads the row back under `FOR UPDATE`, so of concurrent
//! publications of one version one creates it; defaults change under the same row locks. A pin
//! is one statement that inserts only when its version is published.

use bosun_store::{
    AgentReleasePinRecord, AgentReleaseRecord, AgentReleaseStore, PublishOutcome, Result,
};
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

/// A pin's scope as its two columns (empty for the region's own pin).
fn scope_columns<'a>(tag: Option<(&'a str, &'a str)>) -> (&'a str, &'a str) {
    tag.unwrap_or(("", ""))
}

fn pin_from_row(r: &Row) -> RowResult<AgentReleasePinRecord> {
    let key: String = r.try_get(1)?;
    let value: String = r.try_get(2)?;
    Ok(AgentReleasePinRecord {
        region: r.try_get(0)?,
        tag: (!key.is_empty()).then_some((key, value)),
        version: r.try_get(3)?,
        pinned_ms: r.try_get(4)?,
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

    fn pin_agent_release(&self, pin: &AgentReleasePinRecord) -> Result<bool> {
        let (key, value) = scope_columns(pin.tag.as_ref().map(|(k, v)| (k.as_str(), v.as_str())));
        Ok(self.with_client(async |c| {
            let changed = c
                .execute(
                    "INSERT INTO agent_release_pins \
                     (region, tag_key, tag_value, version, pinned_ms) \
                     SELECT $1, $2, $3, $4::TEXT, $5 \
                     WHERE EXISTS (SELECT 1 FROM agent_releases WHERE version = $4::TEXT) \
                     ON CONFLICT (region, tag_key, tag_value) \
                     DO UPDATE SET version = excluded.version, pinned_ms = excluded.pinned_ms",
                    &[&pin.region, &key, &value, &pin.version, &pin.pinned_ms],
                )
                .await?;
            Ok(changed == 1)
        })?)
    }

    fn unpin_agent_release(&self, region: &str, tag: Option<(&str, &str)>) -> Result<bool> {
        let (key, value) = scope_columns(tag);
        Ok(self.with_client(async |c| {
            let removed = c
                .execute(
                    "DELETE FROM agent_release_pins \
                     WHERE region = $1 AND tag_key = $2 AND tag_value = $3",
                    &[&region, &key, &value],
                )
                .await?;
            Ok(removed == 1)
        })?)
    }

    fn agent_release_pins(&self, region: &str) -> Result<Vec<AgentReleasePinRecord>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    "SELECT region, tag_key, tag_value, version, pinned_ms \
                     FROM agent_release_pins WHERE region = $1 \
                     ORDER BY tag_key COLLATE \"C\", tag_value COLLATE \"C\"",
                    &[&region],
                )
                .await?;
            Ok(rows
                .iter()
                .map(pin_from_row)
                .collect::<RowResult<Vec<_>>>()?)
        })?)
    }
}
