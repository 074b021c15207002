//! The activations area of the store on PostgreSQL ([`bosun_store::ActivationStore`]).

#[allow(unused_imports)]
use bosun_store::*;

use crate::PgStore;

impl ActivationStore for PgStore {
    fn create_activation(
        &self,
        a: &ActivationRecord,
        code_hash: &str,
        tags: &[(String, String)],
    ) -> Result<()> {
        todo!("PostgreSQL: activations")
    }

    fn list_activations(&self, region: &str) -> Result<Vec<ActivationRecord>> {
        todo!("PostgreSQL: activations")
    }

    fn delete_activation(&self, region: &str, activation_id: &str) -> Result<bool> {
        todo!("PostgreSQL: activations")
    }

    fn register_instance(
        &self,
        activation_id: &str,
        code_hash: &str,
        node: &NewInstance,
        now_ms: i64,
    ) -> Result<RegisterOutcome> {
        todo!("PostgreSQL: activations")
    }

    fn get_activation(
        &self,
        region: &str,
        activation_id: &str,
    ) -> Result<Option<ActivationRecord>> {
        todo!("PostgreSQL: activations")
    }
}
