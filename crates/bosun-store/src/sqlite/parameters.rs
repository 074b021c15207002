//! Parameter Store on SQLite: puts and label changes run in `IMMEDIATE` transactions, so the
//! compare-and-set on the latest version cannot race.

use rusqlite::{params, OptionalExtension, Row, Transaction, TransactionBehavior};

use super::SqliteStore;
use crate::event_outbox::{now_ms, parameter_event};
use crate::parameters::{LabelOutcome, ParameterStore, ParameterVersion, PutLimits, PutOutcome};
use crate::Result;
use bosun_core::events::envelope::ParameterOperation;

pub(crate) const COLUMNS: &str =
    "v.region, v.key, p.name, v.version, v.type, v.value, v.key_id, v.description, \
     v.allowed_pattern, v.tier, v.policies, v.data_type, v.modified_ms, v.modified_user";
pub(crate) const FROM: &str =
    "parameter_versions v JOIN parameters p ON p.region = v.region AND p.key = v.key";

pub(crate) fn from_row(r: &Row) -> rusqlite::Result<ParameterVersion> {
    Ok(ParameterVersion {
        region: r.get(0)?,
        key: r.get(1)?,
        name: r.get(2)?,
        version: r.get(3)?,
        param_type: r.get(4)?,
        value: r.get(5)?,
        key_id: r.get(6)?,
        description: r.get(7)?,
        allowed_pattern: r.get(8)?,
        tier: r.get(9)?,
        policies: r.get(10)?,
        data_type: r.get(11)?,
        modified_ms: r.get(12)?,
        modified_user: r.get(13)?,
        labels: Vec::new(),
    })
}

fn labels_of(
    tx: &rusqlite::Connection,
    region: &str,
    key: &str,
    version: i64,
) -> rusqlite::Result<Vec<String>> {
    let mut stmt = tx.prepare_cached(
        "SELECT label FROM parameter_labels WHERE region = ?1 AND key = ?2 AND version = ?3 ORDER BY label",
    )?;
    let rows = stmt.query_map(params![region, key, version], |r| r.get(0))?;
    rows.collect()
}

fn with_labels(
    conn: &rusqlite::Connection,
    mut v: ParameterVersion,
) -> rusqlite::Result<ParameterVersion> {
    v.labels = labels_of(conn, &v.region, &v.key, v.version)?;
    Ok(v)
}

/// One version of a parameter with its labels, read on `conn`.
fn version_in(
    conn: &rusqlite::Connection,
    region: &str,
    key: &str,
    version: i64,
) -> rusqlite::Result<Option<ParameterVersion>> {
    let v = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE v.region = ?1 AND v.key = ?2 AND v.version = ?3"
        ))?
        .query_row(params![region, key, version], from_row)
        .optional()?;
    v.map(|v| with_labels(conn, v)).transpose()
}

pub(crate) fn latest_version(
    tx: &Transaction,
    region: &str,
    key: &str,
) -> rusqlite::Result<Option<i64>> {
    tx.query_row(
        "SELECT latest_version FROM parameters WHERE region = ?1 AND key = ?2",
        params![region, key],
        |r| r.get(0),
    )
    .optional()
}

/// A put's checks and writes with its event, inside `tx` (committed by the caller when the
/// outcome is `Stored`; any other outcome wrote nothing).
pub(crate) fn put_in(
    tx: &Transaction,
    account: &str,
    v: &ParameterVersion,
    expected_latest: Option<i64>,
    overwrite: bool,
    tags: &[(String, String)],
    limits: &PutLimits,
) -> Result<PutOutcome> {
    let latest = latest_version(tx, &v.region, &v.key)?;
    if latest.is_some() && !overwrite {
        return Ok(PutOutcome::AlreadyExists);
    }
    if latest != expected_latest {
        return Ok(PutOutcome::Conflict);
    }
    match latest {
        None => {
            let (count, max): (i64, i64) = if v.tier == "Advanced" {
                (
                    tx.query_row(
                        "SELECT COUNT(*) FROM parameters WHERE region = ?1 AND tier = 'Advanced'",
                        [&v.region],
                        |r| r.get(0),
                    )?,
                    limits.max_advanced,
                )
            } else {
                (
                    tx.query_row(
                        "SELECT COUNT(*) FROM parameters WHERE region = ?1 AND tier != 'Advanced'",
                        [&v.region],
                        |r| r.get(0),
                    )?,
                    limits.max_standard,
                )
            };
            if count >= max {
                return Ok(PutOutcome::LimitExceeded);
            }
            tx.execute(
                    "INSERT INTO parameters (region, key, name, latest_version, tier, has_policies) VALUES (?1,?2,?3,?4,?5,?6)",
                    params![v.region, v.key, v.name, v.version, v.tier, v.policies.is_some()],
                )?;
            super::tags::put_tags(tx, &v.region, "Parameter", &v.key, tags)?;
        }
        Some(_) => {
            let (count, oldest): (i64, i64) = tx.query_row(
                    "SELECT COUNT(*), MIN(version) FROM parameter_versions WHERE region = ?1 AND key = ?2",
                    params![v.region, v.key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
            if count >= limits.max_versions {
                if !labels_of(tx, &v.region, &v.key, oldest)?.is_empty() {
                    return Ok(PutOutcome::OldestLabelled(oldest));
                }
                tx.execute(
                        "DELETE FROM parameter_versions WHERE region = ?1 AND key = ?2 AND version = ?3",
                        params![v.region, v.key, oldest],
                    )?;
            }
            tx.execute(
                    "UPDATE parameters SET latest_version = ?3, tier = ?4, has_policies = ?5 WHERE region = ?1 AND key = ?2",
                    params![v.region, v.key, v.version, v.tier, v.policies.is_some()],
                )?;
        }
    }
    tx.execute(
            "INSERT INTO parameter_versions (region, key, version, type, value, key_id, description, allowed_pattern, tier, policies, data_type, modified_ms, modified_user) \
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
            params![
                v.region, v.key, v.version, v.param_type, v.value, v.key_id, v.description,
                v.allowed_pattern, v.tier, v.policies, v.data_type, v.modified_ms, v.modified_user
            ],
        )?;
    let operation = match latest {
        None => ParameterOperation::Create,
        Some(_) => ParameterOperation::Update,
    };
    let description = v.description.as_deref().unwrap_or("");
    emit(
        tx,
        account,
        &v.region,
        operation,
        &v.name,
        &v.param_type,
        description,
    )?;
    Ok(PutOutcome::Stored)
}

impl ParameterStore for SqliteStore {
    fn put_parameter(
        &self,
        v: &ParameterVersion,
        expected_latest: Option<i64>,
        overwrite: bool,
        tags: &[(String, String)],
        limits: &PutLimits,
    ) -> Result<PutOutcome> {
        let account = self.event_account.get();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let outcome = put_in(&tx, &account, v, expected_latest, overwrite, tags, limits)?;
        if outcome == PutOutcome::Stored {
            tx.commit()?;
        }
        Ok(outcome)
    }

    fn parameter(&self, region: &str, key: &str) -> Result<Option<ParameterVersion>> {
        self.read(|conn| {
            let v = conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM {FROM} WHERE v.region = ?1 AND v.key = ?2 AND v.version = p.latest_version"))?
                .query_row(params![region, key], from_row)
                .optional()?;
            Ok(v.map(|v| with_labels(conn, v)).transpose()?)
        })
    }

    fn parameter_version(
        &self,
        region: &str,
        key: &str,
        version: i64,
    ) -> Result<Option<ParameterVersion>> {
        self.read(|conn| Ok(version_in(conn, region, key, version)?))
    }

    fn parameter_by_label(
        &self,
        region: &str,
        key: &str,
        label: &str,
    ) -> Result<Option<ParameterVersion>> {
        self.read(|conn| {
            let version: Option<i64> = conn
                .prepare_cached(
                    "SELECT version FROM parameter_labels WHERE region = ?1 AND key = ?2 AND label = ?3",
                )?
                .query_row(params![region, key, label], |r| r.get(0))
                .optional()?;
            match version {
                Some(v) => Ok(version_in(conn, region, key, v)?),
                None => Ok(None),
            }
        })
    }

    fn parameter_history(&self, region: &str, key: &str) -> Result<Vec<ParameterVersion>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE v.region = ?1 AND v.key = ?2 ORDER BY v.version"
            ))?;
            let rows = stmt.query_map(params![region, key], from_row)?;
            let list = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(list
                .into_iter()
                .map(|v| with_labels(conn, v))
                .collect::<rusqlite::Result<_>>()?)
        })
    }

    fn list_parameters(&self, region: &str) -> Result<Vec<ParameterVersion>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE v.region = ?1 AND v.version = p.latest_version ORDER BY v.key"
            ))?;
            let rows = stmt.query_map([region], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn parameter_labels(&self, region: &str) -> Result<Vec<(String, String, i64)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT key, label, version FROM parameter_labels WHERE region = ?1 ORDER BY key, label",
            )?;
            let rows = stmt.query_map([region], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn delete_parameter(&self, region: &str, key: &str) -> Result<bool> {
        let account = self.event_account.get();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let latest = tx
            .query_row(
                "SELECT p.name, v.type, v.description FROM parameters p JOIN parameter_versions v \
                 ON v.region = p.region AND v.key = p.key AND v.version = p.latest_version \
                 WHERE p.region = ?1 AND p.key = ?2",
                params![region, key],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                },
            )
            .optional()?;
        if let Some((name, param_type, description)) = latest {
            let description = description.unwrap_or_default();
            let delete = ParameterOperation::Delete;
            emit(
                &tx,
                &account,
                region,
                delete,
                &name,
                &param_type,
                &description,
            )?;
        }
        let n = tx.execute(
            "DELETE FROM parameters WHERE region = ?1 AND key = ?2",
            params![region, key],
        )?;
        tx.execute(
            "DELETE FROM tags WHERE region = ?1 AND resource_type = 'Parameter' AND resource_id = ?2",
            params![region, key],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    fn label_parameter_version(
        &self,
        region: &str,
        key: &str,
        version: i64,
        labels: &[String],
        max_per_version: usize,
    ) -> Result<LabelOutcome> {
        let account = self.event_account.get();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: bool = tx.query_row(
            "SELECT COUNT(*) FROM parameter_versions WHERE region = ?1 AND key = ?2 AND version = ?3",
            params![region, key, version],
            |r| r.get::<_, i64>(0),
        )? > 0;
        if !exists {
            return Ok(LabelOutcome::VersionNotFound);
        }
        let mut current = labels_of(&tx, region, key, version)?;
        for l in labels {
            if !current.contains(l) {
                current.push(l.clone());
            }
        }
        if current.len() > max_per_version {
            return Ok(LabelOutcome::TooManyLabels);
        }
        for l in labels {
            tx.execute(
                "INSERT INTO parameter_labels (region, key, label, version) VALUES (?1,?2,?3,?4) \
                 ON CONFLICT (region, key, label) DO UPDATE SET version = excluded.version",
                params![region, key, l, version],
            )?;
        }
        let (name, param_type, description) = tx.query_row(
            "SELECT p.name, v.type, v.description FROM parameters p JOIN parameter_versions v \
             ON v.region = p.region AND v.key = p.key WHERE p.region = ?1 AND p.key = ?2 \
             AND v.version = ?3",
            params![region, key, version],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            },
        )?;
        let label = ParameterOperation::LabelParameterVersion;
        let description = description.unwrap_or_default();
        emit(
            &tx,
            &account,
            region,
            label,
            &name,
            &param_type,
            &description,
        )?;
        tx.commit()?;
        Ok(LabelOutcome::Done)
    }

    fn unlabel_parameter_version(
        &self,
        region: &str,
        key: &str,
        version: i64,
        labels: &[String],
    ) -> Result<Option<Vec<String>>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let exists: bool = tx.query_row(
            "SELECT COUNT(*) FROM parameter_versions WHERE region = ?1 AND key = ?2 AND version = ?3",
            params![region, key, version],
            |r| r.get::<_, i64>(0),
        )? > 0;
        if !exists {
            return Ok(None);
        }
        let mut removed = Vec::new();
        for l in labels {
            let n = tx.execute(
                "DELETE FROM parameter_labels WHERE region = ?1 AND key = ?2 AND label = ?3 AND version = ?4",
                params![region, key, l, version],
            )?;
            if n > 0 {
                removed.push(l.clone());
            }
        }
        tx.commit()?;
        Ok(Some(removed))
    }
}

/// Write a `Parameter Store Change` event inside the change's transaction.
fn emit(
    tx: &rusqlite::Connection,
    account: &str,
    region: &str,
    operation: ParameterOperation,
    name: &str,
    param_type: &str,
    description: &str,
) -> rusqlite::Result<()> {
    let now = now_ms();
    let event = parameter_event(
        account,
        region,
        now,
        operation,
        name,
        param_type,
        description,
    );
    super::event_outbox::append(tx, &[event], now)
}
