//! Activations on SQLite: a registration is one `IMMEDIATE` transaction (SQLite's single
//! writer serialises them), so the limit check and the count cannot race.

use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};

use super::SqliteStore;
use crate::activations::{refuse_registration, ActivationRecord, ActivationStore, RegisterOutcome};
use crate::instances::NewInstance;
use crate::Result;

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

impl ActivationStore for SqliteStore {
    fn create_activation(
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
        super::tags::put_tags(&tx, &a.region, "Activation", &a.activation_id, tags)?;
        tx.commit()?;
        Ok(())
    }

    fn list_activations(&self, region: &str) -> Result<Vec<ActivationRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM activations WHERE region = ?1 ORDER BY activation_id"
            ))?;
            let rows = stmt.query_map([region], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn delete_activation(&self, region: &str, activation_id: &str) -> Result<bool> {
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

    fn register_instance(
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
        if let Some(refused) =
            refuse_registration(&stored_hash, code_hash, limit, count, expiration_ms, now_ms)
        {
            return Ok(refused);
        }
        super::instances::insert(&tx, node)?;
        tx.execute(
            "UPDATE activations SET registrations_count = registrations_count + 1 \
             WHERE region = ?1 AND activation_id = ?2",
            params![node.region, activation_id],
        )?;
        let tags = super::tags::get_tags(&tx, &node.region, "Activation", activation_id)?;
        super::tags::put_tags(
            &tx,
            &node.region,
            "ManagedInstance",
            &node.instance_id,
            &tags,
        )?;
        tx.commit()?;
        Ok(RegisterOutcome::Registered)
    }

    fn get_activation(
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
