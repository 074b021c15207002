//! Hybrid activations and the atomic registration of a node against one.

use crate::instances::NewInstance;
use crate::Result;

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

/// Activations and registering nodes against them.
pub trait ActivationStore {
    /// Store a new activation with its tags; atomic: both or neither.
    fn create_activation(
        &self,
        a: &ActivationRecord,
        code_hash: &str,
        tags: &[(String, String)],
    ) -> Result<()>;

    /// Every activation of a region, ordered by id.
    fn list_activations(&self, region: &str) -> Result<Vec<ActivationRecord>>;

    /// Delete an activation and its tags (atomically); `false` when it did not exist.
    /// Registered nodes stay registered.
    fn delete_activation(&self, region: &str, activation_id: &str) -> Result<bool>;

    /// Register a node: check the code, expiry and limit ([`refuse_registration`]), insert the
    /// node, count it and copy the activation's tags to it.
    ///
    /// Atomic and serialised with every other registration against the same activation:
    /// concurrent registrations never exceed the limit, and a refused one changes nothing.
    fn register_instance(
        &self,
        activation_id: &str,
        code_hash: &str,
        node: &NewInstance,
        now_ms: i64,
    ) -> Result<RegisterOutcome>;

    /// One activation, if it exists in the region.
    fn get_activation(&self, region: &str, activation_id: &str)
        -> Result<Option<ActivationRecord>>;
}

/// Why a registration must be refused, given what the activation row holds (`None`: go ahead).
/// Every engine decides with this, inside its registration transaction.
pub fn refuse_registration(
    stored_code_hash: &str,
    code_hash: &str,
    registration_limit: i64,
    registrations_count: i64,
    expiration_ms: i64,
    now_ms: i64,
) -> Option<RegisterOutcome> {
    if !constant_time_eq(stored_code_hash.as_bytes(), code_hash.as_bytes()) {
        return Some(RegisterOutcome::InvalidActivation);
    }
    if now_ms >= expiration_ms {
        return Some(RegisterOutcome::Expired);
    }
    if registrations_count >= registration_limit {
        return Some(RegisterOutcome::LimitExceeded);
    }
    None
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
