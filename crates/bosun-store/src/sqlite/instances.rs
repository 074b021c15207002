//! Managed nodes on SQLite.

use rusqlite::{params, OptionalExtension, Row, Transaction};

use super::SqliteStore;
use crate::instances::{InstanceRecord, InstanceStore, NewInstance, NodeFacts};
use crate::Result;

const COLUMNS: &str =
    "region, instance_id, activation_id, public_key, name, iam_role, registration_ms, \
     computer_name, ip_address, platform_type, platform_name, platform_version, agent_version, \
     last_ping_ms, deregistered, network_interfaces, boot_id, packages";

fn from_row(r: &Row) -> rusqlite::Result<InstanceRecord> {
    Ok(InstanceRecord {
        region: r.get(0)?,
        instance_id: r.get(1)?,
        activation_id: r.get(2)?,
        public_key: r.get(3)?,
        name: r.get(4)?,
        iam_role: r.get(5)?,
        registration_ms: r.get(6)?,
        info: NodeFacts {
            computer_name: r.get(7)?,
            ip_address: r.get(8)?,
            platform_type: r.get(9)?,
            platform_name: r.get(10)?,
            platform_version: r.get(11)?,
            agent_version: r.get(12)?,
            network_interfaces: crate::instances::interfaces_from_json(&r.get::<_, String>(15)?),
            boot_id: r.get(16)?,
            packages: crate::instances::packages_from_json(&r.get::<_, String>(17)?),
        },
        last_ping_ms: r.get(13)?,
        deregistered: r.get(14)?,
    })
}

pub(crate) fn insert(tx: &Transaction, n: &NewInstance) -> rusqlite::Result<()> {
    tx.execute(
        &format!("INSERT INTO instances ({COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,0,?15,?16,?17)"),
        params![
            n.region, n.instance_id, n.activation_id, n.public_key, n.name, n.iam_role,
            n.registration_ms, n.info.computer_name, n.info.ip_address, n.info.platform_type,
            n.info.platform_name, n.info.platform_version, n.info.agent_version, n.registration_ms,
            crate::instances::interfaces_json(&n.info.network_interfaces), n.info.boot_id,
            crate::instances::packages_json(&n.info.packages)
        ],
    )?;
    Ok(())
}

impl InstanceStore for SqliteStore {
    fn get_instance(&self, instance_id: &str) -> Result<Option<InstanceRecord>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM instances WHERE instance_id = ?1"),
                [instance_id],
                from_row,
            )
            .optional()?)
    }

    fn list_instances(&self, region: &str) -> Result<Vec<InstanceRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM instances WHERE region = ?1 ORDER BY instance_id"
            ))?;
            let rows = stmt.query_map([region], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn update_instance_info(&self, instance_id: &str, info: &NodeFacts, now_ms: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE instances SET computer_name = ?2, ip_address = ?3, platform_type = ?4, \
             platform_name = ?5, platform_version = ?6, agent_version = ?7, last_ping_ms = ?8, \
             network_interfaces = ?9, boot_id = ?10, packages = ?11 WHERE instance_id = ?1",
            params![
                instance_id,
                info.computer_name,
                info.ip_address,
                info.platform_type,
                info.platform_name,
                info.platform_version,
                info.agent_version,
                now_ms,
                crate::instances::interfaces_json(&info.network_interfaces),
                info.boot_id,
                crate::instances::packages_json(&info.packages)
            ],
        )?;
        Ok(())
    }

    fn touch_instance(&self, instance_id: &str, now_ms: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE instances SET last_ping_ms = ?2 WHERE instance_id = ?1",
            params![instance_id, now_ms],
        )?;
        Ok(())
    }

    fn deregister_instance(&self, region: &str, instance_id: &str) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE instances SET deregistered = 1 WHERE region = ?1 AND instance_id = ?2 AND deregistered = 0",
            params![region, instance_id],
        )?;
        Ok(n > 0)
    }

    fn set_instance_role(&self, region: &str, instance_id: &str, role: &str) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE instances SET iam_role = ?3 WHERE region = ?1 AND instance_id = ?2 AND deregistered = 0",
            params![region, instance_id, role],
        )?;
        Ok(n > 0)
    }
}
