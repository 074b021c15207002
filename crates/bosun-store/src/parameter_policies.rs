//! Parameter policies in the store: which latest versions carry policies, which policies
//! already fired, and firing one (event row, plus deletion for `Expiration`) atomically.

use rusqlite::{params, TransactionBehavior};

use crate::parameters::{from_row, latest_version, ParameterVersion, COLUMNS, FROM};
use crate::{Result, Store};

/// An event recorded by a policy (until the events bus exists, operators list these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEvent {
    pub seq: i64,
    pub region: String,
    pub name: String,
    pub version: i64,
    pub policy_type: String,
    pub time_ms: i64,
    pub detail: String,
}

impl Store {
    /// Latest versions (every region) that carry policies.
    pub fn parameters_with_policies(&self) -> Result<Vec<ParameterVersion>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE p.has_policies = 1 AND v.version = p.latest_version"
        ))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Policy types already fired for one version.
    pub fn fired_policies(&self, region: &str, key: &str, version: i64) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT policy_type FROM parameter_policy_events WHERE region = ?1 AND key = ?2 AND version = ?3",
        )?;
        let rows = stmt.query_map(params![region, key, version], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Record a fired policy; for `Expiration` also delete the parameter, but only if `version`
    /// is still its latest (a newer put replaced the policies). One transaction.
    /// Returns false when nothing happened (already fired, or superseded).
    pub fn fire_parameter_policy(
        &self,
        v: &ParameterVersion,
        policy_type: &str,
        now_ms: i64,
        detail: &str,
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
        tx.commit()?;
        Ok(true)
    }

    /// Recorded policy events, oldest first (optionally one region only).
    pub fn parameter_policy_events(&self, region: Option<&str>) -> Result<Vec<PolicyEvent>> {
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

#[cfg(test)]
mod tests {
    use crate::parameters::tests::{version, LIMITS};
    use crate::Store;

    #[test]
    fn expiration_deletes_once_and_records_an_event() {
        let s = Store::open_in_memory().unwrap();
        let mut v = version("/exp", 1);
        v.policies = Some("[]".into());
        s.put_parameter(&v, None, false, &[("k".into(), "v".into())], &LIMITS)
            .unwrap();
        assert_eq!(s.parameters_with_policies().unwrap().len(), 1);
        assert!(s.fire_parameter_policy(&v, "Expiration", 5, "{}").unwrap());
        assert!(!s.fire_parameter_policy(&v, "Expiration", 6, "{}").unwrap());
        assert!(s.parameter("us-east-1", "/exp").unwrap().is_none());
        assert!(s.tags("us-east-1", "Parameter", "/exp").unwrap().is_empty());
        let events = s.parameter_policy_events(Some("us-east-1")).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].policy_type, "Expiration");
    }
}
