//! `MaintenanceWindowFilter`s (`Key` + `Values`) of the describe calls, and their paging.

use bosun_core::paging;
use serde::Deserialize;

use crate::api::documents::decode;
use crate::api::error::ApiError;

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Filter {
    key: Option<String>,
    values: Option<Vec<String>>,
}

impl Filter {
    pub(super) fn key(&self) -> &str {
        self.key.as_deref().unwrap_or_default()
    }

    pub(super) fn first_value(&self) -> Option<&str> {
        self.values.as_ref()?.first().map(String::as_str)
    }
}

/// Refuse a filter key the call does not know (AWS: a `ValidationException`).
pub(super) fn check_filters(filters: &[Filter], keys: &[&str]) -> Result<(), ApiError> {
    for f in filters {
        let key = f.key.as_deref().unwrap_or_default();
        if !keys.contains(&key) {
            return Err(ApiError::validation(format!(
                "The filter key {key} is not valid here; use one of: {}.",
                keys.join(", ")
            )));
        }
    }
    Ok(())
}

/// Whether an item passes every filter: one of a filter's values equals the item's value for
/// its key (`Enabled` without regard to case, `True` as `true`); a filter without values passes.
pub(super) fn matches(filters: &[Filter], value_of: impl Fn(&str) -> String) -> bool {
    filters.iter().all(|f| {
        let key = f.key.as_deref().unwrap_or_default();
        let actual = value_of(key);
        let values = f.values.as_deref().unwrap_or_default();
        values.is_empty()
            || values.iter().any(|v| {
                if key == "Enabled" {
                    v.eq_ignore_ascii_case(&actual)
                } else {
                    *v == actual
                }
            })
    })
}

/// One page of `items` (sorted by `key`) after the request's `NextToken`.
pub(super) fn page<T>(
    items: Vec<T>,
    next_token: &Option<String>,
    max_results: Option<i64>,
    key: impl Fn(&T) -> &str,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let after = decode(next_token)?;
    let max = max_results.unwrap_or(50).max(1) as usize;
    let page = paging::page_after(items, after.as_deref(), max, key);
    Ok((page.items, page.next_token))
}
