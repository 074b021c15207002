//! The activations area of the store on PostgreSQL ([`bosun_store::ActivationStore`]).
//!
//! A registration locks its activation's row (`SELECT … FOR UPDATE`) for the whole transaction:
//! registrations against one activation queue on that lock, each sees the count the previous
//! one committed, so concurrent registrations never exceed the limit. A deletion takes the same
//! row lock, so a registration either completes before it or finds the activation gone.

use bosun_store::{
    refuse_registration, ActivationRecord, ActivationStore, NewInstance, RegisterOutcome, Result,
};
use deadpool_postgres::Transaction;
use tokio_postgres::Row;

use super::instances;
use super::tags::{delete_tags, put_tags};
use crate::{PgError, PgStore};

const COLUMNS: &str = "region, activation_id, description, default_instance_name, iam_role, \
     registration_limit, registrations_count, expiration_ms, created_ms";

/// The tags' resource type for activations, and for the nodes registered against them.
const ACTIVATION: &str = "Activation";
const MANAGED_INSTANCE: &str = "ManagedInstance";

fn from_row(r: &Row) -> std::result::Result<ActivationRecord, tokio_postgres::Error> {
    Ok(ActivationRecord {
        region: r.try_get(0)?,
        activation_id: r.try_get(1)?,
        description: r.try_get(2)?,
        default_instance_name: r.try_get(3)?,
        iam_role: r.try_get(4)?,
        registration_limit: r.try_get(5)?,
        registrations_count: r.try_get(6)?,
        expiration_ms: r.try_get(7)?,
        created_ms: r.try_get(8)?,
    })
}

impl ActivationStore for PgStore {
    fn create_activation(
        &self,
        a: &ActivationRecord,
        code_hash: &str,
        tags: &[(String, String)],
    ) -> Result<()> {
        let insert = format!(
            "INSERT INTO activations ({COLUMNS}, code_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        self.transaction(async |tx| {
            tx.execute(
                &insert,
                &[
                    &a.region,
                    &a.activation_id,
                    &a.description,
                    &a.default_instance_name,
                    &a.iam_role,
                    &a.registration_limit,
                    &a.registrations_count,
                    &a.expiration_ms,
                    &a.created_ms,
                    &code_hash,
                ],
            )
            .await?;
            put_tags(tx, &a.region, ACTIVATION, &a.activation_id, tags).await
        })?;
        Ok(())
    }

    fn list_activations(&self, region: &str) -> Result<Vec<ActivationRecord>> {
        let select = format!(
            "SELECT {COLUMNS} FROM activations WHERE region = $1 \
             ORDER BY activation_id COLLATE \"C\""
        );
        Ok(self.with_client(async |client| {
            let rows = client.query(&select, &[&region]).await?;
            Ok(rows
                .iter()
                .map(from_row)
                .collect::<std::result::Result<_, _>>()?)
        })?)
    }

    fn delete_activation(&self, region: &str, activation_id: &str) -> Result<bool> {
        Ok(self.transaction(async |tx| {
            let deleted = tx
                .execute(
                    "DELETE FROM activations WHERE region = $1 AND activation_id = $2",
                    &[&region, &activation_id],
                )
                .await?;
            delete_tags(tx, region, ACTIVATION, activation_id).await?;
            Ok(deleted > 0)
        })?)
    }

    fn register_instance(
        &self,
        activation_id: &str,
        code_hash: &str,
        node: &NewInstance,
        now_ms: i64,
    ) -> Result<RegisterOutcome> {
        Ok(self.transaction(async |tx| {
            // The row lock serialises this registration with every other one (and with a
            // deletion) of the same activation until commit.
            let found = tx
                .query_opt(
                    "SELECT code_hash, registration_limit, registrations_count, expiration_ms \
                     FROM activations WHERE region = $1 AND activation_id = $2 FOR UPDATE",
                    &[&node.region, &activation_id],
                )
                .await?;
            let Some(row) = found else {
                return Ok(RegisterOutcome::InvalidActivation);
            };
            let stored_hash: String = row.try_get(0)?;
            if let Some(refused) = refuse_registration(
                &stored_hash,
                code_hash,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
                now_ms,
            ) {
                return Ok(refused);
            }
            instances::insert(tx, node).await?;
            tx.execute(
                "UPDATE activations SET registrations_count = registrations_count + 1 \
                 WHERE region = $1 AND activation_id = $2",
                &[&node.region, &activation_id],
            )
            .await?;
            let tags = activation_tags(tx, &node.region, activation_id).await?;
            put_tags(tx, &node.region, MANAGED_INSTANCE, &node.instance_id, &tags).await?;
            Ok(RegisterOutcome::Registered)
        })?)
    }

    fn get_activation(
        &self,
        region: &str,
        activation_id: &str,
    ) -> Result<Option<ActivationRecord>> {
        let select =
            format!("SELECT {COLUMNS} FROM activations WHERE region = $1 AND activation_id = $2");
        Ok(self.with_client(async |client| {
            let row = client
                .query_opt(&select, &[&region, &activation_id])
                .await?;
            Ok(row.as_ref().map(from_row).transpose()?)
        })?)
    }
}

/// An activation's tags, to copy to a node registered against it.
async fn activation_tags(
    tx: &Transaction<'_>,
    region: &str,
    activation_id: &str,
) -> std::result::Result<Vec<(String, String)>, PgError> {
    let rows = tx
        .query(
            "SELECT key, value FROM tags \
             WHERE region = $1 AND resource_type = $2 AND resource_id = $3 ORDER BY key COLLATE \"C\"",
            &[&region, &ACTIVATION, &activation_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<std::result::Result<_, tokio_postgres::Error>>()?)
}
