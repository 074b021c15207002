//! Agent releases on SQLite ([`crate::AgentReleaseStore`]): the single writer connection makes
//! each publication's check-then-insert atomic. A pin is one statement that inserts only when
//! its version is published, so no pin names a version that never was.

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::agent_releases::{
    AgentReleasePinRecord, AgentReleaseRecord, AgentReleaseStore, PublishOutcome,
};
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

/// A pin's scope as its two columns (empty for the region's own pin).
fn scope_columns<'a>(tag: Option<(&'a str, &'a str)>) -> (&'a str, &'a str) {
    tag.unwrap_or(("", ""))
}

fn pin_from_row(r: &Row) -> rusqlite::Result<AgentReleasePinRecord> {
    let key: String = r.get(1)?;
    let value: String = r.get(2)?;
    Ok(AgentReleasePinRecord {
        region: r.get(0)?,
        tag: (!key.is_empty()).then_some((key, value)),
        version: r.get(3)?,
        pinned_ms: r.get(4)?,
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

    fn pin_agent_release(&self, pin: &AgentReleasePinRecord) -> Result<bool> {
        let (key, value) = scope_columns(pin.tag.as_ref().map(|(k, v)| (k.as_str(), v.as_str())));
        let changed = self.conn().execute(
            "INSERT INTO agent_release_pins (region, tag_key, tag_value, version, pinned_ms) \
             SELECT ?1, ?2, ?3, ?4, ?5 \
             WHERE EXISTS (SELECT 1 FROM agent_releases WHERE version = ?4) \
             ON CONFLICT (region, tag_key, tag_value) \
             DO UPDATE SET version = excluded.version, pinned_ms = excluded.pinned_ms",
            params![pin.region, key, value, pin.version, pin.pinned_ms],
        )?;
        Ok(changed == 1)
    }

    fn unpin_agent_release(&self, region: &str, tag: Option<(&str, &str)>) -> Result<bool> {
        let (key, value) = scope_columns(tag);
        let removed = self.conn().execute(
            "DELETE FROM agent_release_pins WHERE region = ?1 AND tag_key = ?2 AND tag_value = ?3",
            params![region, key, value],
        )?;
        Ok(removed == 1)
    }

    fn agent_release_pins(&self, region: &str) -> Result<Vec<AgentReleasePinRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT region, tag_key, tag_value, version, pinned_ms FROM agent_release_pins \
                 WHERE region = ?1 ORDER BY tag_key, tag_value",
            )?;
            let rows = stmt.query_map([region], pin_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}
