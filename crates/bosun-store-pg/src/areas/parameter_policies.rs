//! The parameter policies area of the store on PostgreSQL ([`bosun_store::ParameterPolicyStore`]).

#[allow(unused_imports)]
use bosun_store::*;

use crate::PgStore;

impl ParameterPolicyStore for PgStore {
    fn parameters_with_policies(&self) -> Result<Vec<ParameterVersion>> {
        todo!("PostgreSQL: parameter_policies")
    }

    fn fired_policies(&self, region: &str, key: &str, version: i64) -> Result<Vec<String>> {
        todo!("PostgreSQL: parameter_policies")
    }

    fn fire_parameter_policy(
        &self,
        v: &ParameterVersion,
        policy_type: &str,
        now_ms: i64,
        detail: &str,
    ) -> Result<bool> {
        todo!("PostgreSQL: parameter_policies")
    }

    fn parameter_policy_events(&self, region: Option<&str>) -> Result<Vec<PolicyEvent>> {
        todo!("PostgreSQL: parameter_policies")
    }
}
