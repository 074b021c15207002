//! The tags area of the store on PostgreSQL ([`bosun_store::TagStore`]).

#[allow(unused_imports)]
use bosun_store::*;

use crate::PgStore;

impl TagStore for PgStore {
    fn tags(
        &self,
        region: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<Vec<(String, String)>> {
        todo!("PostgreSQL: tags")
    }

    fn tags_of_type(
        &self,
        region: &str,
        resource_type: &str,
    ) -> Result<Vec<(String, String, String)>> {
        todo!("PostgreSQL: tags")
    }

    fn add_tags(
        &self,
        region: &str,
        resource_type: &str,
        resource_id: &str,
        tags: &[(String, String)],
        max_tags: usize,
    ) -> Result<bool> {
        todo!("PostgreSQL: tags")
    }

    fn remove_tags(
        &self,
        region: &str,
        resource_type: &str,
        resource_id: &str,
        keys: &[String],
    ) -> Result<()> {
        todo!("PostgreSQL: tags")
    }
}
