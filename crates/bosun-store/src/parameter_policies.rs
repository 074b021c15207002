//! Parameter policies in the store: which latest versions carry policies, which policies
//! already fired, and firing one (event row, its `Parameter Store Policy Action` in the event
//! outbox, plus deletion for `Expiration`) atomically.

use bosun_core::events::envelope::Event;

use crate::parameters::ParameterVersion;
use crate::Result;

/// An action recorded by a policy (`bosun param events` lists these; the bus gets `event`).
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

/// Parameter policies' state.
pub trait ParameterPolicyStore {
    /// Latest versions (every region) that carry policies.
    fn parameters_with_policies(&self) -> Result<Vec<ParameterVersion>>;

    /// Policy types already fired for one version.
    fn fired_policies(&self, region: &str, key: &str, version: i64) -> Result<Vec<String>>;

    /// Record a fired policy; for `Expiration` also delete the parameter (with its versions,
    /// labels and tags), but only if `version` is still its latest (a newer put replaced the
    /// policies). Atomic, and each (parameter, version, policy type) fires at most once: of
    /// concurrent calls at most one returns `true`. `event` (its `Parameter Store Policy
    /// Action`) is appended to the event outbox in the same transaction, exactly when the
    /// policy fires. Returns `false` when nothing happened (already fired, or superseded).
    fn fire_parameter_policy(
        &self,
        v: &ParameterVersion,
        policy_type: &str,
        now_ms: i64,
        detail: &str,
        event: &Event,
    ) -> Result<bool>;

    /// Recorded policy events, oldest first (optionally one region only).
    fn parameter_policy_events(&self, region: Option<&str>) -> Result<Vec<PolicyEvent>>;
}
