//! The instances area of the store on PostgreSQL ([`bosun_store::InstanceStore`]).

#[allow(unused_imports)]
use bosun_store::*;

use crate::PgStore;

impl InstanceStore for PgStore {
    fn get_instance(&self, instance_id: &str) -> Result<Option<InstanceRecord>> {
        todo!("PostgreSQL: instances")
    }

    fn list_instances(&self, region: &str) -> Result<Vec<InstanceRecord>> {
        todo!("PostgreSQL: instances")
    }

    fn update_instance_info(&self, instance_id: &str, info: &NodeFacts, now_ms: i64) -> Result<()> {
        todo!("PostgreSQL: instances")
    }

    fn touch_instance(&self, instance_id: &str, now_ms: i64) -> Result<()> {
        todo!("PostgreSQL: instances")
    }

    fn deregister_instance(&self, region: &str, instance_id: &str) -> Result<bool> {
        todo!("PostgreSQL: instances")
    }

    fn set_instance_role(&self, region: &str, instance_id: &str, role: &str) -> Result<bool> {
        todo!("PostgreSQL: instances")
    }
}
