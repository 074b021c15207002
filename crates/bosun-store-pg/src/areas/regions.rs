//! Regions holding data, on PostgreSQL ([`bosun_store::RegionStore`]).

use bosun_store::{RegionStore, Result, REGIONS_WITH_DATA_SQL};

use crate::PgStore;

impl RegionStore for PgStore {
    fn regions_with_data(&self) -> Result<Vec<String>> {
        Ok(self.with_client(async |c| {
            let sql = format!(
                "SELECT region FROM ({REGIONS_WITH_DATA_SQL}) AS r ORDER BY region COLLATE \"C\""
            );
            let rows = c.query(&sql, &[]).await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })?)
    }
}
