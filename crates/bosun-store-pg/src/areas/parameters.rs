//! The parameters area of the store on PostgreSQL ([`bosun_store::ParameterStore`]).
//!
//! Locking rule: every change to a parameter's versions or labels (puts, label and unlabel,
//! deletion, a policy firing) first locks the parameter's row in `parameters` (its head, which
//! holds `latest_version`) with `SELECT … FOR UPDATE` or by deleting it. Under READ COMMITTED a
//! waiter re-reads the head once the holder commits, so the compare-and-set on the latest
//! version sees every earlier put: concurrent overwrites get consecutive versions, and none is
//! lost. The primary key (region, key, version) of `parameter_versions` is the backstop.
//! Creating a parameter has no head row to lock yet: it takes an advisory lock on its region's
//! tier instead, so the tier's count and the insert cannot interleave with another creation
//! (the limit holds), and a racing creation of the same key is settled by `ON CONFLICT`.
//!
//! Reads are single statements (one snapshot each), with a version's labels gathered by a
//! subquery. Keys and labels sort with `COLLATE "C"` (byte order, as SQLite's `BINARY`).

use std::collections::BTreeSet;

use bosun_core::events::envelope::ParameterOperation;
use bosun_store::{
    now_ms, parameter_event, LabelOutcome, ParameterStore, ParameterVersion, PutLimits, PutOutcome,
    Result,
};
use deadpool_postgres::Transaction;
use tokio_postgres::Row;

use super::parameters_put::put;
use super::tags;
use crate::{PgError, PgStore};

/// `SELECT` whole versions, as [`from_row`] reads them, followed by the literal `$tail`
/// (`WHERE …`, `ORDER BY …`) over `parameter_versions v JOIN parameters p`. `labelled` also
/// selects each version's labels, sorted; `bare` leaves them empty.
macro_rules! select_versions {
    (bare, $tail:literal) => {
        concat!(
            "SELECT v.region, v.key, p.name, v.version, v.type, v.value, v.key_id, \
             v.description, v.allowed_pattern, v.tier, v.policies, v.data_type, v.modified_ms, \
             v.modified_user \
             FROM parameter_versions v JOIN parameters p ON p.region = v.region AND p.key = v.key ",
            $tail
        )
    };
    (labelled, $tail:literal) => {
        concat!(
            "SELECT v.region, v.key, p.name, v.version, v.type, v.value, v.key_id, \
             v.description, v.allowed_pattern, v.tier, v.policies, v.data_type, v.modified_ms, \
             v.modified_user, \
             ARRAY(SELECT l.label FROM parameter_labels l \
                   WHERE l.region = v.region AND l.key = v.key AND l.version = v.version \
                   ORDER BY l.label COLLATE \"C\") \
             FROM parameter_versions v JOIN parameters p ON p.region = v.region AND p.key = v.key ",
            $tail
        )
    };
}
pub(crate) use select_versions;

/// A version from a row of [`select_versions!`].
pub(crate) fn from_row(r: &Row) -> ParameterVersion {
    ParameterVersion {
        region: r.get(0),
        key: r.get(1),
        name: r.get(2),
        version: r.get(3),
        param_type: r.get(4),
        value: r.get(5),
        key_id: r.get(6),
        description: r.get(7),
        allowed_pattern: r.get(8),
        tier: r.get(9),
        policies: r.get(10),
        data_type: r.get(11),
        modified_ms: r.get(12),
        modified_user: r.get(13),
        labels: if r.len() > 14 { r.get(14) } else { Vec::new() },
    }
}

/// Lock the parameter's head row until the transaction ends; its latest version, `None` when
/// the parameter does not exist (or was deleted while this waited for the lock).
pub(crate) async fn lock_head(
    tx: &Transaction<'_>,
    region: &str,
    key: &str,
) -> std::result::Result<Option<i64>, PgError> {
    let select = tx
        .prepare_cached(
            "SELECT latest_version FROM parameters WHERE region = $1 AND key = $2 FOR UPDATE",
        )
        .await?;
    Ok(tx
        .query_opt(&select, &[&region, &key])
        .await?
        .map(|r| r.get(0)))
}

/// Delete a parameter (versions and labels go with it by cascade) and its tags; whether it
/// existed.
pub(crate) async fn delete_in(
    tx: &Transaction<'_>,
    region: &str,
    key: &str,
) -> std::result::Result<bool, PgError> {
    let delete = tx
        .prepare_cached("DELETE FROM parameters WHERE region = $1 AND key = $2")
        .await?;
    let n = tx.execute(&delete, &[&region, &key]).await?;
    tags::delete_tags(tx, region, "Parameter", key).await?;
    Ok(n > 0)
}

/// A version's (name, type, description) for its events; the caller holds the head row's lock.
async fn described(
    tx: &Transaction<'_>,
    region: &str,
    key: &str,
    version: i64,
) -> std::result::Result<(String, String, String), PgError> {
    let row = tx
        .query_one(
            "SELECT p.name, v.type, v.description FROM parameters p JOIN parameter_versions v \
             ON v.region = p.region AND v.key = p.key \
             WHERE p.region = $1 AND p.key = $2 AND v.version = $3",
            &[&region, &key, &version],
        )
        .await?;
    let description: Option<String> = row.try_get(2)?;
    Ok((
        row.try_get(0)?,
        row.try_get(1)?,
        description.unwrap_or_default(),
    ))
}

/// A put with its `Parameter Store Change` event when `Stored`, inside `tx`.
pub(crate) async fn put_and_emit(
    tx: &Transaction<'_>,
    account: &str,
    v: &ParameterVersion,
    expected_latest: Option<i64>,
    overwrite: bool,
    tags: &[(String, String)],
    limits: &PutLimits,
) -> std::result::Result<PutOutcome, PgError> {
    let outcome = put(tx, v, expected_latest, overwrite, tags, limits).await?;
    if outcome == PutOutcome::Stored {
        let operation = match expected_latest {
            None => ParameterOperation::Create,
            Some(_) => ParameterOperation::Update,
        };
        let description = v.description.as_deref().unwrap_or("");
        let change = (v.name.as_str(), v.param_type.as_str(), description);
        emit(tx, account, &v.region, operation, change).await?;
    }
    Ok(outcome)
}

/// Write a `Parameter Store Change` event for (name, type, description): the transaction's
/// last statements.
async fn emit(
    tx: &Transaction<'_>,
    account: &str,
    region: &str,
    operation: ParameterOperation,
    (name, param_type, description): (&str, &str, &str),
) -> std::result::Result<(), PgError> {
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
    super::event_outbox::append(tx, &[event], now).await
}

/// Whether the version exists; the caller holds the head row's lock.
async fn version_exists(
    tx: &Transaction<'_>,
    region: &str,
    key: &str,
    version: i64,
) -> std::result::Result<bool, PgError> {
    let select = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM parameter_versions \
             WHERE region = $1 AND key = $2 AND version = $3)",
        )
        .await?;
    Ok(tx
        .query_one(&select, &[&region, &key, &version])
        .await?
        .get(0))
}

/// Distinct labels, in the order first given.
fn distinct(labels: &[String]) -> Vec<&str> {
    let mut seen = BTreeSet::new();
    labels
        .iter()
        .map(String::as_str)
        .filter(|l| seen.insert(*l))
        .collect()
}

impl PgStore {
    /// At most one version, with labels, from a `labelled` [`select_versions!`] statement.
    fn one_version(
        &self,
        sql: &'static str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<ParameterVersion>> {
        Ok(self.with_client(async |c| {
            let select = c.prepare_cached(sql).await?;
            Ok(c.query_opt(&select, params).await?.as_ref().map(from_row))
        })?)
    }

    /// Every version a [`select_versions!`] statement selects.
    fn versions(
        &self,
        sql: &'static str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<ParameterVersion>> {
        Ok(self.with_client(async |c| {
            let select = c.prepare_cached(sql).await?;
            Ok(c.query(&select, params)
                .await?
                .iter()
                .map(from_row)
                .collect())
        })?)
    }
}

impl ParameterStore for PgStore {
    fn put_parameter(
        &self,
        v: &ParameterVersion,
        expected_latest: Option<i64>,
        overwrite: bool,
        tags: &[(String, String)],
        limits: &PutLimits,
    ) -> Result<PutOutcome> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            put_and_emit(tx, &account, v, expected_latest, overwrite, tags, limits).await
        })?)
    }

    fn parameter(&self, region: &str, key: &str) -> Result<Option<ParameterVersion>> {
        self.one_version(
            select_versions!(
                labelled,
                "WHERE v.region = $1 AND v.key = $2 AND v.version = p.latest_version"
            ),
            &[&region, &key],
        )
    }

    fn parameter_version(
        &self,
        region: &str,
        key: &str,
        version: i64,
    ) -> Result<Option<ParameterVersion>> {
        self.one_version(
            select_versions!(
                labelled,
                "WHERE v.region = $1 AND v.key = $2 AND v.version = $3"
            ),
            &[&region, &key, &version],
        )
    }

    fn parameter_by_label(
        &self,
        region: &str,
        key: &str,
        label: &str,
    ) -> Result<Option<ParameterVersion>> {
        self.one_version(
            select_versions!(
                labelled,
                "JOIN parameter_labels bl \
                   ON bl.region = v.region AND bl.key = v.key AND bl.version = v.version \
                 WHERE v.region = $1 AND v.key = $2 AND bl.label = $3"
            ),
            &[&region, &key, &label],
        )
    }

    fn parameter_history(&self, region: &str, key: &str) -> Result<Vec<ParameterVersion>> {
        self.versions(
            select_versions!(
                labelled,
                "WHERE v.region = $1 AND v.key = $2 ORDER BY v.version"
            ),
            &[&region, &key],
        )
    }

    fn list_parameters(&self, region: &str) -> Result<Vec<ParameterVersion>> {
        self.versions(
            select_versions!(
                bare,
                "WHERE v.region = $1 AND v.version = p.latest_version ORDER BY v.key COLLATE \"C\""
            ),
            &[&region],
        )
    }

    fn parameter_labels(&self, region: &str) -> Result<Vec<(String, String, i64)>> {
        Ok(self.with_client(async |c| {
            let select = c
                .prepare_cached(
                    "SELECT key, label, version FROM parameter_labels WHERE region = $1 \
                     ORDER BY key COLLATE \"C\", label COLLATE \"C\"",
                )
                .await?;
            let rows = c.query(&select, &[&region]).await?;
            Ok(rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect())
        })?)
    }

    fn delete_parameter(&self, region: &str, key: &str) -> Result<bool> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            let Some(latest) = lock_head(tx, region, key).await? else {
                return delete_in(tx, region, key).await;
            };
            let (name, param_type, description) = described(tx, region, key, latest).await?;
            let deleted = delete_in(tx, region, key).await?;
            let change = (name.as_str(), param_type.as_str(), description.as_str());
            emit(tx, &account, region, ParameterOperation::Delete, change).await?;
            Ok(deleted)
        })?)
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
        Ok(self.transaction(async |tx| {
            if lock_head(tx, region, key).await?.is_none()
                || !version_exists(tx, region, key, version).await?
            {
                return Ok(LabelOutcome::VersionNotFound);
            }
            let current = tx
                .prepare_cached(
                    "SELECT label FROM parameter_labels \
                     WHERE region = $1 AND key = $2 AND version = $3",
                )
                .await?;
            let mut after: BTreeSet<String> = tx
                .query(&current, &[&region, &key, &version])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            after.extend(labels.iter().cloned());
            if after.len() > max_per_version {
                return Ok(LabelOutcome::TooManyLabels);
            }
            let upsert = tx
                .prepare_cached(
                    "INSERT INTO parameter_labels (region, key, label, version) \
                     SELECT $1, $2, l, $3 FROM UNNEST($4::TEXT[]) AS l \
                     ON CONFLICT (region, key, label) DO UPDATE SET version = EXCLUDED.version",
                )
                .await?;
            tx.execute(&upsert, &[&region, &key, &version, &distinct(labels)])
                .await?;
            let (name, param_type, description) = described(tx, region, key, version).await?;
            let change = (name.as_str(), param_type.as_str(), description.as_str());
            let label = ParameterOperation::LabelParameterVersion;
            emit(tx, &account, region, label, change).await?;
            Ok(LabelOutcome::Done)
        })?)
    }

    fn unlabel_parameter_version(
        &self,
        region: &str,
        key: &str,
        version: i64,
        labels: &[String],
    ) -> Result<Option<Vec<String>>> {
        Ok(self.transaction(async |tx| {
            if lock_head(tx, region, key).await?.is_none()
                || !version_exists(tx, region, key, version).await?
            {
                return Ok(None);
            }
            let delete = tx
                .prepare_cached(
                    "DELETE FROM parameter_labels \
                     WHERE region = $1 AND key = $2 AND version = $3 AND label = ANY($4::TEXT[]) \
                     RETURNING label",
                )
                .await?;
            let gone: BTreeSet<String> = tx
                .query(&delete, &[&region, &key, &version, &labels])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            Ok(Some(
                distinct(labels)
                    .into_iter()
                    .filter(|l| gone.contains(*l))
                    .map(str::to_string)
                    .collect(),
            ))
        })?)
    }
}
