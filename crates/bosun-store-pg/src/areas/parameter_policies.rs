//! The parameter policies area of the store on PostgreSQL ([`bosun_store::ParameterPolicyStore`]).
//!
//! Locking rule: firing locks the parameter's head row (as every change to a parameter does, see
//! `parameters.rs`), checks the version is still the latest, and records the event with
//! `ON CONFLICT DO NOTHING` on the unique (region, key, version, policy type): of replicas firing
//! the same policy at once exactly one inserts the row and acts (an `Expiration` deletes the
//! parameter); the others find the row, or the parameter gone, and return `false`. The policy's
//! event is appended last, in the same transaction.

use bosun_core::events::envelope::Event;
use bosun_store::{ParameterPolicyStore, ParameterVersion, PolicyEvent, Result};

use super::parameters::{delete_in, from_row, lock_head, select_versions};
use crate::PgStore;

impl ParameterPolicyStore for PgStore {
    fn parameters_with_policies(&self) -> Result<Vec<ParameterVersion>> {
        Ok(self.with_client(async |c| {
            let select = c
                .prepare_cached(select_versions!(
                    bare,
                    "WHERE p.has_policies AND v.version = p.latest_version \
                     ORDER BY v.region COLLATE \"C\", v.key COLLATE \"C\""
                ))
                .await?;
            Ok(c.query(&select, &[]).await?.iter().map(from_row).collect())
        })?)
    }

    fn fired_policies(&self, region: &str, key: &str, version: i64) -> Result<Vec<String>> {
        Ok(self.with_client(async |c| {
            let select = c
                .prepare_cached(
                    "SELECT policy_type FROM parameter_policy_events \
                     WHERE region = $1 AND key = $2 AND version = $3 ORDER BY seq",
                )
                .await?;
            let rows = c.query(&select, &[&region, &key, &version]).await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })?)
    }

    fn fire_parameter_policy(
        &self,
        v: &ParameterVersion,
        policy_type: &str,
        now_ms: i64,
        detail: &str,
        event: &Event,
    ) -> Result<bool> {
        Ok(self.transaction(async |tx| {
            if lock_head(tx, &v.region, &v.key).await? != Some(v.version) {
                return Ok(false);
            }
            let record = tx
                .prepare_cached(
                    "INSERT INTO parameter_policy_events \
                     (region, key, name, version, policy_type, time_ms, detail) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (region, key, version, policy_type) DO NOTHING",
                )
                .await?;
            let recorded = tx
                .execute(
                    &record,
                    &[
                        &v.region,
                        &v.key,
                        &v.name,
                        &v.version,
                        &policy_type,
                        &now_ms,
                        &detail,
                    ],
                )
                .await?;
            if recorded == 0 {
                return Ok(false);
            }
            if policy_type == "Expiration" {
                delete_in(tx, &v.region, &v.key).await?;
            }
            super::event_outbox::append(tx, std::slice::from_ref(event), now_ms).await?;
            Ok(true)
        })?)
    }

    fn parameter_policy_events(&self, region: Option<&str>) -> Result<Vec<PolicyEvent>> {
        Ok(self.with_client(async |c| {
            let select = c
                .prepare_cached(
                    "SELECT seq, region, name, version, policy_type, time_ms, detail \
                     FROM parameter_policy_events \
                     WHERE $1::TEXT IS NULL OR region = $1::TEXT ORDER BY seq",
                )
                .await?;
            let rows = c.query(&select, &[&region]).await?;
            Ok(rows
                .iter()
                .map(|r| PolicyEvent {
                    seq: r.get(0),
                    region: r.get(1),
                    name: r.get(2),
                    version: r.get(3),
                    policy_type: r.get(4),
                    time_ms: r.get(5),
                    detail: r.get(6),
                })
                .collect())
        })?)
    }
}
