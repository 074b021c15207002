//! The parameters area of the store on PostgreSQL ([`bosun_store::ParameterStore`]).

#[allow(unused_imports)]
use bosun_store::*;

use crate::PgStore;

impl ParameterStore for PgStore {
    fn put_parameter(
        &self,
        v: &ParameterVersion,
        expected_latest: Option<i64>,
        overwrite: bool,
        tags: &[(String, String)],
        limits: &PutLimits,
    ) -> Result<PutOutcome> {
        todo!("PostgreSQL: parameters")
    }

    fn parameter(&self, region: &str, key: &str) -> Result<Option<ParameterVersion>> {
        todo!("PostgreSQL: parameters")
    }

    fn parameter_version(
        &self,
        region: &str,
        key: &str,
        version: i64,
    ) -> Result<Option<ParameterVersion>> {
        todo!("PostgreSQL: parameters")
    }

    fn parameter_by_label(
        &self,
        region: &str,
        key: &str,
        label: &str,
    ) -> Result<Option<ParameterVersion>> {
        todo!("PostgreSQL: parameters")
    }

    fn parameter_history(&self, region: &str, key: &str) -> Result<Vec<ParameterVersion>> {
        todo!("PostgreSQL: parameters")
    }

    fn list_parameters(&self, region: &str) -> Result<Vec<ParameterVersion>> {
        todo!("PostgreSQL: parameters")
    }

    fn parameter_labels(&self, region: &str) -> Result<Vec<(String, String, i64)>> {
        todo!("PostgreSQL: parameters")
    }

    fn delete_parameter(&self, region: &str, key: &str) -> Result<bool> {
        todo!("PostgreSQL: parameters")
    }

    fn label_parameter_version(
        &self,
        region: &str,
        key: &str,
        version: i64,
        labels: &[String],
        max_per_version: usize,
    ) -> Result<LabelOutcome> {
        todo!("PostgreSQL: parameters")
    }

    fn unlabel_parameter_version(
        &self,
        region: &str,
        key: &str,
        version: i64,
        labels: &[String],
    ) -> Result<Option<Vec<String>>> {
        todo!("PostgreSQL: parameters")
    }
}
