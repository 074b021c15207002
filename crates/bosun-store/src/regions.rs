//! Which regions hold data: the server serves them by default, so data is never hidden by a
//! restart, while a mistyped region is refused rather than silently starting an empty one.

use crate::Result;

/// The regions that hold resources.
pub trait RegionStore {
    /// Every region holding at least one activation, managed node, tag, command, document,
    /// parameter, association or event rule (the region-scoped resources a caller creates; a new region-scoped table
    /// joins this list), sorted and without repeats. Audit records and stored answers do not
    /// count: a refused call leaves them, and must not make its region served.
    fn regions_with_data(&self) -> Result<Vec<String>>;
}

/// The one query both engines run (standard SQL; PostgreSQL sorts by byte order).
pub const REGIONS_WITH_DATA_SQL: &str = "SELECT region FROM activations \
     UNION SELECT region FROM instances \
     UNION SELECT region FROM tags \
     UNION SELECT region FROM commands \
     UNION SELECT region FROM documents \
     UNION SELECT region FROM parameters \
     UNION SELECT region FROM associations \
     UNION SELECT region FROM event_rules";
