//! Managed nodes: registration records, reported host facts, ping times, deregistration.

use crate::Result;

/// A node being registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInstance {
    pub region: String,
    pub instance_id: String,
    pub activation_id: String,
    pub public_key: String,
    pub name: String,
    pub iam_role: String,
    pub registration_ms: i64,
    pub info: NodeFacts,
}

/// Host facts a node reports (mirrors the agent's `NodeInfo`; kept here so the store does not
/// depend on the wire crate).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeFacts {
    pub computer_name: String,
    pub ip_address: String,
    pub platform_type: String,
    pub platform_name: String,
    pub platform_version: String,
    pub agent_version: String,
    /// Interfaces with hardware and IPv4 addresses (stored as JSON text), for Wake-on-LAN.
    pub network_interfaces: Vec<bosun_core::power::NetworkInterface>,
    /// The node's boot id when it last reported (empty: an agent that does not say).
    pub boot_id: String,
    /// Distributor packages the node reports installed (stored as JSON text, migration 26).
    pub packages: Vec<bosun_core::document::InstalledPackage>,
}

/// Installed packages as stored (JSON text).
pub fn packages_json(packages: &[bosun_core::document::InstalledPackage]) -> String {
    serde_json::to_string(packages).expect("packages serialize")
}

/// Installed packages from their stored JSON text (none when it does not parse).
pub fn packages_from_json(text: &str) -> Vec<bosun_core::document::InstalledPackage> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Interfaces as stored (JSON text).
pub fn interfaces_json(interfaces: &[bosun_core::power::NetworkInterface]) -> String {
    serde_json::to_string(interfaces).expect("interfaces serialize")
}

/// Interfaces from their stored JSON text (none when it does not parse).
pub fn interfaces_from_json(text: &str) -> Vec<bosun_core::power::NetworkInterface> {
    serde_json::from_str(text).unwrap_or_default()
}

/// A stored node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRecord {
    pub region: String,
    pub instance_id: String,
    pub activation_id: String,
    pub public_key: String,
    pub name: String,
    pub iam_role: String,
    pub registration_ms: i64,
    pub info: NodeFacts,
    pub last_ping_ms: i64,
    pub deregistered: bool,
}

/// Managed nodes (registered through [`crate::ActivationStore::register_instance`]).
pub trait InstanceStore {
    /// A node by id, in any region (ids are globally unique).
    fn get_instance(&self, instance_id: &str) -> Result<Option<InstanceRecord>>;

    /// The nodes among `ids` that exist, in any region and no given order, each once: one
    /// read for a command's targets instead of one per node.
    fn instances_by_ids(&self, ids: &[String]) -> Result<Vec<InstanceRecord>> {
        let mut seen = std::collections::HashSet::new();
        let mut found = Vec::new();
        for id in ids.iter().filter(|id| seen.insert(*id)) {
            found.extend(self.get_instance(id)?);
        }
        Ok(found)
    }

    /// Every node of a region (deregistered ones too), ordered by id.
    fn list_instances(&self, region: &str) -> Result<Vec<InstanceRecord>>;

    /// Record fresh host facts and a ping time for a node (nothing when it is unknown).
    fn update_instance_info(&self, instance_id: &str, info: &NodeFacts, now_ms: i64) -> Result<()>;

    /// Record the last time a node was heard from (nothing when it is unknown).
    fn touch_instance(&self, instance_id: &str, now_ms: i64) -> Result<()>;

    /// Mark a node deregistered (its key stops working); `false` when it is unknown in the
    /// region or already deregistered (of concurrent calls, exactly one gets `true`).
    fn deregister_instance(&self, region: &str, instance_id: &str) -> Result<bool>;

    /// Change the IAM role recorded for a node; `false` when it is unknown in the region or
    /// deregistered.
    fn set_instance_role(&self, region: &str, instance_id: &str, role: &str) -> Result<bool>;
}
