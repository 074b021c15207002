//! Tags of any resource, keyed by (region, resource type, resource id).
//!
//! Resources that carry tags (activations, documents, parameters, nodes) have them written
//! with their creation and removed with their deletion by the other areas' methods.

use crate::Result;

/// Tags of resources.
pub trait TagStore {
    /// Tags of one resource, sorted by key.
    fn tags(
        &self,
        region: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<Vec<(String, String)>>;

    /// Tags of every resource of a type in a region: (resource id, key, value), by resource
    /// id then key.
    fn tags_of_type(
        &self,
        region: &str,
        resource_type: &str,
    ) -> Result<Vec<(String, String, String)>>;

    /// Add or overwrite tags, refusing (and changing nothing) if the resource would end up
    /// with more than `max_tags`; returns `Ok(false)` in that case. Atomic and serialised per
    /// resource: concurrent additions never exceed the limit.
    fn add_tags(
        &self,
        region: &str,
        resource_type: &str,
        resource_id: &str,
        tags: &[(String, String)],
        max_tags: usize,
    ) -> Result<bool>;

    /// Remove the named tag keys, atomically (absent keys are ignored, as in AWS).
    fn remove_tags(
        &self,
        region: &str,
        resource_type: &str,
        resource_id: &str,
        keys: &[String],
    ) -> Result<()>;
}
