//! Parameter policies on SQLite: firing is one `IMMEDIATE` transaction, and the events table's
//! unique key makes each policy of a version fire once; the policy's event is appended in it.

use bosun_core::events::envelope::Event;
use rusqlite::{params, TransactionBehavior};

use super::parameters::{from_row, latest_version, COLUMNS, FROM};
use super::SqliteStore;
use crate::parameter_policies::{ParameterPolicyStore, PolicyEvent};
use crate::parameters::ParameterVersion;
use crate::Result;

impl ParameterPolicyStore for SqliteStore {
    fn parameters_with_policies(&self) -> Result<Vec<ParameterVersion>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE p.has_policies = 1 AND v.version = p.latest_version"
        ))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn fired_policies(&self, region: &str, key: &str, version: i64) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT policy_type FROM parameter_policy_events WHERE region = ?1 AND key = ?2 AND version = ?3",
        )?;
        let rows = stmt.query_map(params![region, key, version], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn fire_parameter_policy(
        &self,
        v: &ParameterVersion,
        policy_type: &str,
        now_ms: i64,
        detail: &str,
        event: &Event,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if latest_version(&tx, &v.region, &v.key)? != Some(v.version) {
            return Ok(false);
        }
        let n = tx.execute(
            "INSERT OR IGNORE INTO parameter_policy_events (region, key, name, version, policy_type, time_ms, detail) VALUES (?1,?2,?3,?4,?5,?6,?7)",
            params![v.region, v.key, v.name, v.version, policy_type, now_ms, detail],
        )?;
        if n == 0 {
            return Ok(false);
        }
        if policy_type == "Expiration" {
            tx.execute(
                "DELETE FROM parameters WHERE region = ?1 AND key = ?2",
                params![v.region, v.key],
            )?;
            tx.execute(
                "DELETE FROM tags WHERE region = ?1 AND resource_type = 'Parameter' AND resource_id = ?2",
                params![v.region, v.key],
            )?;
        }
        super::event_outbox::append(&tx, std::slice::from_ref(event), now_ms)?;
        tx.commit()?;
        Ok(true)
    }

    fn parameter_policy_events(&self, region: Option<&str>) -> Result<Vec<PolicyEvent>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT seq, region, name, version, policy_type, time_ms, detail FROM parameter_policy_events \
             WHERE ?1 IS NULL OR region = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([region], |r| {
            Ok(PolicyEvent {
                seq: r.get(0)?,
                region: r.get(1)?,
                name: r.get(2)?,
                version: r.get(3)?,
                policy_type: r.get(4)?,
                time_ms: r.get(5)?,
                detail: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
