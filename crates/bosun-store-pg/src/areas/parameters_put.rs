//! Putting a parameter version on PostgreSQL: the compare-and-set under the head row's lock,
//! creation under the (region, tier) advisory lock, and dropping the oldest of too many versions.
//! The locking rule is described in `parameters.rs`.

use bosun_store::{ParameterVersion, PutLimits, PutOutcome};
use deadpool_postgres::Transaction;

use super::parameters::lock_head;
use super::tags;
use crate::PgError;

/// Store `v` as the parameter's next version (see [`bosun_store::ParameterStore::put_parameter`]).
pub(super) async fn put(
    tx: &Transaction<'_>,
    v: &ParameterVersion,
    expected_latest: Option<i64>,
    overwrite: bool,
    tags: &[(String, String)],
    limits: &PutLimits,
) -> Result<PutOutcome, PgError> {
    if expected_latest.is_none() {
        // Taken before the head's lock, like every creation, so creations queue in one order.
        lock_creations(tx, &v.region, is_advanced(&v.tier)).await?;
    }
    let latest = lock_head(tx, &v.region, &v.key).await?;
    if latest.is_some() && !overwrite {
        return Ok(PutOutcome::AlreadyExists);
    }
    if latest != expected_latest {
        return Ok(PutOutcome::Conflict);
    }
    let refused = match latest {
        None => create(tx, v, overwrite, tags, limits).await?,
        Some(_) => advance(tx, v, limits).await?,
    };
    if let Some(outcome) = refused {
        return Ok(outcome);
    }
    insert_version(tx, v).await?;
    Ok(PutOutcome::Stored)
}

/// The first key of the advisory locks on creations per (region, tier) (`"parm"` in ASCII).
const CREATE_LOCK_CLASS: i32 = 0x7061_726d;

/// Whether the version counts against the Advanced tier's limit (else the Standard one's).
fn is_advanced(tier: &str) -> bool {
    tier == "Advanced"
}

/// Serialize creations of parameters of one tier in one region until the transaction ends.
async fn lock_creations(tx: &Transaction<'_>, region: &str, advanced: bool) -> Result<(), PgError> {
    let tier = if advanced { "Advanced" } else { "Standard" };
    let lock = tx
        .prepare_cached("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .await?;
    tx.execute(&lock, &[&CREATE_LOCK_CLASS, &format!("{region} {tier}")])
        .await?;
    Ok(())
}

/// The new parameter's head row and tags, if its tier has room; the outcome when not stored.
async fn create(
    tx: &Transaction<'_>,
    v: &ParameterVersion,
    overwrite: bool,
    tags: &[(String, String)],
    limits: &PutLimits,
) -> Result<Option<PutOutcome>, PgError> {
    let (count_sql, max) = if is_advanced(&v.tier) {
        (
            "SELECT COUNT(*) FROM parameters WHERE region = $1 AND tier = 'Advanced'",
            limits.max_advanced,
        )
    } else {
        (
            "SELECT COUNT(*) FROM parameters WHERE region = $1 AND tier <> 'Advanced'",
            limits.max_standard,
        )
    };
    let count: i64 = tx
        .query_one(&tx.prepare_cached(count_sql).await?, &[&v.region])
        .await?
        .get(0);
    if count >= max {
        return Ok(Some(PutOutcome::LimitExceeded));
    }
    let insert = tx
        .prepare_cached(
            "INSERT INTO parameters (region, key, name, latest_version, tier, has_policies) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (region, key) DO NOTHING",
        )
        .await?;
    let inserted = tx
        .execute(
            &insert,
            &[
                &v.region,
                &v.key,
                &v.name,
                &v.version,
                &v.tier,
                &v.policies.is_some(),
            ],
        )
        .await?;
    if inserted == 0 {
        // Created meanwhile by a put of the other tier, which committed first: answer as if
        // this put had come after it.
        return Ok(Some(if overwrite {
            PutOutcome::Conflict
        } else {
            PutOutcome::AlreadyExists
        }));
    }
    tags::put_tags(tx, &v.region, "Parameter", &v.key, tags).await?;
    Ok(None)
}

/// Make room for one more version and move the head to `v`; the outcome when refused. The
/// caller holds the head row's lock.
async fn advance(
    tx: &Transaction<'_>,
    v: &ParameterVersion,
    limits: &PutLimits,
) -> Result<Option<PutOutcome>, PgError> {
    let kept = tx
        .prepare_cached(
            "SELECT COUNT(*), MIN(version) FROM parameter_versions WHERE region = $1 AND key = $2",
        )
        .await?;
    let row = tx.query_one(&kept, &[&v.region, &v.key]).await?;
    let (count, oldest): (i64, Option<i64>) = (row.get(0), row.get(1));
    if let Some(oldest) = oldest.filter(|_| count >= limits.max_versions) {
        let labelled = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM parameter_labels \
                 WHERE region = $1 AND key = $2 AND version = $3)",
            )
            .await?;
        if tx
            .query_one(&labelled, &[&v.region, &v.key, &oldest])
            .await?
            .get(0)
        {
            return Ok(Some(PutOutcome::OldestLabelled(oldest)));
        }
        let drop = tx
            .prepare_cached(
                "DELETE FROM parameter_versions WHERE region = $1 AND key = $2 AND version = $3",
            )
            .await?;
        tx.execute(&drop, &[&v.region, &v.key, &oldest]).await?;
    }
    let update = tx
        .prepare_cached(
            "UPDATE parameters SET latest_version = $3, tier = $4, has_policies = $5 \
             WHERE region = $1 AND key = $2",
        )
        .await?;
    tx.execute(
        &update,
        &[
            &v.region,
            &v.key,
            &v.version,
            &v.tier,
            &v.policies.is_some(),
        ],
    )
    .await?;
    Ok(None)
}

async fn insert_version(tx: &Transaction<'_>, v: &ParameterVersion) -> Result<(), PgError> {
    let insert = tx
        .prepare_cached(
            "INSERT INTO parameter_versions (region, key, version, type, value, key_id, \
             description, allowed_pattern, tier, policies, data_type, modified_ms, modified_user) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .await?;
    tx.execute(
        &insert,
        &[
            &v.region,
            &v.key,
            &v.version,
            &v.param_type,
            &v.value,
            &v.key_id,
            &v.description,
            &v.allowed_pattern,
            &v.tier,
            &v.policies,
            &v.data_type,
            &v.modified_ms,
            &v.modified_user,
        ],
    )
    .await?;
    Ok(())
}
