//! Regions holding data, on SQLite.

use super::SqliteStore;
use crate::regions::{RegionStore, REGIONS_WITH_DATA_SQL};
use crate::Result;

impl RegionStore for SqliteStore {
    fn regions_with_data(&self) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!("{REGIONS_WITH_DATA_SQL} ORDER BY 1"))?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
        })
    }
}
