//! Parameter policies in the store: which latest versions carry policies, which policies
//! already fired, and firing one (event row, plus deletion for `Expiration`) atomically.

use crate::parameters::ParameterVersion;
use crate::Result;

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

/// Parameter policies' state.
pub trait ParameterPolicyStore {
    /// Latest versions (every region) that carry policies.
    fn parameters_with_policies(&self) -> Result<Vec<ParameterVersion>>;

    /// Policy types already fired for one version.
    fn fired_policies(&self, region: &str, key: &str, version: i64) -> Result<Vec<String>>;

    /// Record a fired policy; for `Expiration` also delete the parameter (with its versions,
    /// labels and tags), but only if `version` is still its latest (a newer put replaced the
    /// policies). Atomic, and each (parameter, version, policy type) fires at most once: of
    /// concurrent calls at most one returns `true`. Returns `false` when nothing happened
    /// (already fired, or superseded).
    fn fire_parameter_policy(
        &self,
        v: &ParameterVersion,
        policy_type: &str,
        now_ms: i64,
        detail: &str,
    ) -> Result<bool>;

    /// Recorded policy events, oldest first (optionally one region only).
    fn parameter_policy_events(&self, region: Option<&str>) -> Result<Vec<PolicyEvent>>;
}
