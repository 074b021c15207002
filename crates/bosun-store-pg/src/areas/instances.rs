//! The instances area of the store on PostgreSQL ([`bosun_store::InstanceStore`]).
//!
//! Every change is one `UPDATE` whose `WHERE` holds its precondition: under READ COMMITTED a
//! concurrent update of the same row waits for the other to commit and then re-checks the
//! condition against the new row, so deregistration is a compare-and-set (of concurrent calls
//! exactly one matches `NOT deregistered`) and a role change never lands on a node whose
//! deregistration committed first.

use bosun_store::{InstanceRecord, InstanceStore, NewInstance, NodeFacts, Result};
use deadpool_postgres::Transaction;
use tokio_postgres::Row;

use crate::{PgError, PgStore};

const COLUMNS: &str =
    "region, instance_id, activation_id, public_key, name, iam_role, registration_ms, \
     computer_name, ip_address, platform_type, platform_name, platform_version, agent_version, \
     last_ping_ms, deregistered, network_interfaces, boot_id, packages";

fn from_row(r: &Row) -> std::result::Result<InstanceRecord, tokio_postgres::Error> {
    Ok(InstanceRecord {
        region: r.try_get(0)?,
        instance_id: r.try_get(1)?,
        activation_id: r.try_get(2)?,
        public_key: r.try_get(3)?,
        name: r.try_get(4)?,
        iam_role: r.try_get(5)?,
        registration_ms: r.try_get(6)?,
        info: NodeFacts {
            computer_name: r.try_get(7)?,
            ip_address: r.try_get(8)?,
            platform_type: r.try_get(9)?,
            platform_name: r.try_get(10)?,
            platform_version: r.try_get(11)?,
            agent_version: r.try_get(12)?,
            network_interfaces: bosun_store::interfaces_from_json(r.try_get(15)?),
            boot_id: r.try_get(16)?,
            packages: bosun_store::packages_from_json(r.try_get(17)?),
        },
        last_ping_ms: r.try_get(13)?,
        deregistered: r.try_get(14)?,
    })
}

/// Store a newly registered node (first heard from at its registration), in the registration's
/// transaction.
pub(super) async fn insert(
    tx: &Transaction<'_>,
    n: &NewInstance,
) -> std::result::Result<(), PgError> {
    let insert = format!(
        "INSERT INTO instances ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $7, FALSE, $14, $15, $16)"
    );
    tx.execute(
        &insert,
        &[
            &n.region,
            &n.instance_id,
            &n.activation_id,
            &n.public_key,
            &n.name,
            &n.iam_role,
            &n.registration_ms,
            &n.info.computer_name,
            &n.info.ip_address,
            &n.info.platform_type,
            &n.info.platform_name,
            &n.info.platform_version,
            &n.info.agent_version,
            &bosun_store::interfaces_json(&n.info.network_interfaces),
            &n.info.boot_id,
            &bosun_store::packages_json(&n.info.packages),
        ],
    )
    .await?;
    Ok(())
}

impl InstanceStore for PgStore {
    fn get_instance(&self, instance_id: &str) -> Result<Option<InstanceRecord>> {
        let select = format!("SELECT {COLUMNS} FROM instances WHERE instance_id = $1");
        Ok(self.with_client(async |client| {
            // Prepared once per connection: this read is on every agent connection's path.
            let statement = client.prepare_cached(&select).await?;
            let row = client.query_opt(&statement, &[&instance_id]).await?;
            Ok(row.as_ref().map(from_row).transpose()?)
        })?)
    }

    fn instances_by_ids(&self, ids: &[String]) -> Result<Vec<InstanceRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let select = format!("SELECT {COLUMNS} FROM instances WHERE instance_id = ANY($1)");
        Ok(self.with_client(async |client| {
            let statement = client.prepare_cached(&select).await?;
            let rows = client.query(&statement, &[&ids]).await?;
            Ok(rows
                .iter()
                .map(from_row)
                .collect::<std::result::Result<_, _>>()?)
        })?)
    }

    fn list_instances(&self, region: &str) -> Result<Vec<InstanceRecord>> {
        let select = format!(
            "SELECT {COLUMNS} FROM instances WHERE region = $1 ORDER BY instance_id COLLATE \"C\""
        );
        Ok(self.with_client(async |client| {
            let rows = client.query(&select, &[&region]).await?;
            Ok(rows
                .iter()
                .map(from_row)
                .collect::<std::result::Result<_, _>>()?)
        })?)
    }

    fn update_instance_info(&self, instance_id: &str, info: &NodeFacts, now_ms: i64) -> Result<()> {
        self.with_client(async |client| {
            client
                .execute(
                    "UPDATE instances SET computer_name = $2, ip_address = $3, platform_type = $4, \
                     platform_name = $5, platform_version = $6, agent_version = $7, \
                     last_ping_ms = $8, network_interfaces = $9, boot_id = $10, \
                     packages = $11 WHERE instance_id = $1",
                    &[
                        &instance_id,
                        &info.computer_name,
                        &info.ip_address,
                        &info.platform_type,
                        &info.platform_name,
                        &info.platform_version,
                        &info.agent_version,
                        &now_ms,
                        &bosun_store::interfaces_json(&info.network_interfaces),
                        &info.boot_id,
                        &bosun_store::packages_json(&info.packages),
                    ],
                )
                .await?;
            Ok(())
        })?;
        Ok(())
    }

    fn touch_instance(&self, instance_id: &str, now_ms: i64) -> Result<()> {
        self.with_client(async |client| {
            client
                .execute(
                    "UPDATE instances SET last_ping_ms = $2 WHERE instance_id = $1",
                    &[&instance_id, &now_ms],
                )
                .await?;
            Ok(())
        })?;
        Ok(())
    }

    fn deregister_instance(&self, region: &str, instance_id: &str) -> Result<bool> {
        Ok(self.with_client(async |client| {
            let changed = client
                .execute(
                    "UPDATE instances SET deregistered = TRUE \
                     WHERE region = $1 AND instance_id = $2 AND NOT deregistered",
                    &[&region, &instance_id],
                )
                .await?;
            Ok(changed > 0)
        })?)
    }

    fn set_instance_role(&self, region: &str, instance_id: &str, role: &str) -> Result<bool> {
        Ok(self.with_client(async |client| {
            let changed = client
                .execute(
                    "UPDATE instances SET iam_role = $3 \
                     WHERE region = $1 AND instance_id = $2 AND NOT deregistered",
                    &[&region, &instance_id, &role],
                )
                .await?;
            Ok(changed > 0)
        })?)
    }
}
