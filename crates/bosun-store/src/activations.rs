//! Hybrid activations and the atomic registration of a node against one.

use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};

use crate::instances::NewInstance;
use crate::{Result, Store};

/// An activation as stored (the code itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationRecord {
    pub region: String,
    pub activation_id: String,
    pub description: String,
    pub default_instance_name: String,
    pub iam_role: String,
    pub registration_limit: i64,
    pub registrations_count: i64,
    pub expiration_ms: i64,
    pub created_ms: i64,
}

/// What happened to a registration attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterOutcome {
    Registered,
    /// Unknown activation, or a code that does not match (indistinguishable on purpose).
    InvalidActivation,
    Expired,
    LimitExceeded,
}

const COLUMNS: &str = "region, activation_id, description, default_instance_name, iam_role, \
     registration_limit, registrations_count, expiration_ms, created_ms";

fn from_row(r: &Row) -> rusqlite::Result<ActivationRecord> {
    Ok(ActivationRecord {
        region: r.get(0)?,
        activation_id: r.get(1)?,
        description: r.get(2)?,
        default_instance_name: r.get(3)?,
        iam_role: r.get(4)?,
        registration_limit: r.get(5)?,
        registrations_count: r.get(6)?,
        expiration_ms: r.get(7)?,
        created_ms: r.get(8)?,
    })
}

impl Store {
    /// Store a new activation with its tags, in one transaction.
    pub fn create_activation(
        &self,
        a: &ActivationRecord,
        code_hash: &str,
        tags: &[(String, String)],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            &format!("INSERT INTO activations ({COLUMNS}, code_hash) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"),
            params![
                a.region, a.activation_id, a.description, a.default_instance_name, a.iam_role,
                a.registration_limit, a.registrations_count, a.expiration_ms, a.created_ms, code_hash
            ],
        )?;
        crate::tags::put_tags(&tx, &a.region, "Activation", &a.activation_id, tags)?;
        tx.commit()?;
        Ok(())
    }

    /// Every activation of a region, ordered by id.
    pub fn list_activations(&self, region: &str) -> Result<Vec<ActivationRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM activations WHERE region = ?1 ORDER BY activation_id"
            ))?;
            let rows = stmt.query_map([region], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Delete an activation; `false` when it did not exist. Registered nodes stay registered.
    pub fn delete_activation(&self, region: &str, activation_id: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM activations WHERE region = ?1 AND activation_id = ?2",
            params![region, activation_id],
        )?;
        tx.execute(
            "DELETE FROM tags WHERE region = ?1 AND resource_type = 'Activation' AND resource_id = ?2",
            params![region, activation_id],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    /// Register a node: check the code, expiry and limit, insert the node, count it and copy
    /// the activation's tags to it — all in one immediate transaction, so concurrent
    /// registrations can never exceed the limit.
    pub fn register_instance(
        &self,
        activation_id: &str,
        code_hash: &str,
        node: &NewInstance,
        now_ms: i64,
    ) -> Result<RegisterOutcome> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(String, i64, i64, i64)> = tx
            .query_row(
                "SELECT code_hash, registration_limit, registrations_count, expiration_ms \
                 FROM activations WHERE region = ?1 AND activation_id = ?2",
                params![node.region, activation_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((stored_hash, limit, count, expiration_ms)) = found else {
            return Ok(RegisterOutcome::InvalidActivation);
        };
        if !constant_time_eq(stored_hash.as_bytes(), code_hash.as_bytes()) {
            return Ok(RegisterOutcome::InvalidActivation);
        }
        if now_ms >= expiration_ms {
            return Ok(RegisterOutcome::Expired);
        }
        if count >= limit {
            return Ok(RegisterOutcome::LimitExceeded);
        }
        crate::instances::insert(&tx, node)?;
        tx.execute(
            "UPDATE activations SET registrations_count = registrations_count + 1 \
             WHERE region = ?1 AND activation_id = ?2",
            params![node.region, activation_id],
        )?;
        let tags = crate::tags::get_tags(&tx, &node.region, "Activation", activation_id)?;
        crate::tags::put_tags(
            &tx,
            &node.region,
            "ManagedInstance",
            &node.instance_id,
            &tags,
        )?;
        tx.commit()?;
        Ok(RegisterOutcome::Registered)
    }

    /// One activation, if it exists in the region.
    pub fn get_activation(
        &self,
        region: &str,
        activation_id: &str,
    ) -> Result<Option<ActivationRecord>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM activations WHERE region = ?1 AND activation_id = ?2"
                    ),
                    params![region, activation_id],
                    from_row,
                )
                .optional()?)
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
