//! Agent releases on SQLite ([`crate::AgentReleaseStore`]): the single writer connection makes
//! each publication's check-then-insert atomic.

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::agent_releases::{AgentReleaseRecord, AgentReleaseStore, PublishOutcome};
use crate::Result;

const COLUMNS: &str = "version, platform, arch, sha256, size, signature, published_ms, is_default";

fn from_row(r: &Row) -> rusqlite::Result<AgentReleaseRecord> {
    Ok(AgentReleaseRecord {
        version: r.get(0)?,
        platform: r.get(1)?,
        arch: r.get(2)?,
        sha256: r.get(3)?,
        size: r.get::<_, i64>(4)? as u64,
        signature: r.get(5)?,
        published_ms: r.get(6)?,
        is_default: r.get(7)?,
    })
}

fn make_default(tx: &rusqlite::Transaction<'_>, v: &str, p: &str, a: &str) -> Result<()> {
    tx.execute(
        "UPDATE agent_releases SET is_default = (version = ?1) WHERE platform = ?2 AND arch = ?3",
        params![v, p, a],
    )?;
    Ok(())
}

impl AgentReleaseStore for SqliteStore {
    fn publish_agent_release(&self, r: &AgentReleaseRecord) -> Result<PublishOutcome> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT sha256 FROM agent_releases WHERE version = ?1 AND platform = ?2 AND arch = ?3",
                params![r.version, r.platform, r.arch],
                |row| row.get(0),
            )
            .optional()?;
        let outcome = match existing {
            Some(sha) if sha != r.sha256 => {
                return Ok(PublishOutcome::Conflict {
                    existing_sha256: sha,
                })
            }
            Some(_) => PublishOutcome::AlreadyPublished,
            None => {
                tx.execute(
                    &format!(
                        "INSERT INTO agent_releases ({COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,0)"
                    ),
                    params![
                        r.version,
                        r.platform,
                        r.arch,
                        r.sha256,
                        r.size as i64,
                        r.signature,
                        r.published_ms
                    ],
                )?;
                PublishOutcome::Created
            }
        };
        if r.is_default {
            make_default(&tx, &r.version, &r.platform, &r.arch)?;
        }
        tx.commit()?;
        Ok(outcome)
    }

    fn get_agent_release(
        &self,
        version: &str,
        platform: &str,
        arch: &str,
    ) -> Result<Option<AgentReleaseRecord>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM agent_releases \
                         WHERE version = ?1 AND platform = ?2 AND arch = ?3"
                    ),
                    params![version, platform, arch],
                    from_row,
                )
                .optional()?)
        })
    }

    fn list_agent_releases(&self) -> Result<Vec<AgentReleaseRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM agent_releases \
                 ORDER BY platform, arch, published_ms, version"
            ))?;
            let rows = stmt.query_map([], from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn set_default_agent_release(&self, version: &str, platform: &str, arch: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let found = tx
            .query_row(
                "SELECT 1 FROM agent_releases WHERE version = ?1 AND platform = ?2 AND arch = ?3",
                params![version, platform, arch],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if found {
            make_default(&tx, version, platform, arch)?;
            tx.commit()?;
        }
        Ok(found)
    }

    fn set_agent_release_signatures(&self, releases: &[AgentReleaseRecord]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for r in releases {
            tx.execute(
                "UPDATE agent_releases SET signature = ?4 \
                 WHERE version = ?1 AND platform = ?2 AND arch = ?3",
                params![r.version, r.platform, r.arch, r.signature],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}
