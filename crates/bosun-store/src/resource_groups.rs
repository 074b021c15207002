//! Resource groups (the AWS Resource Groups subset Bosun serves): a named, tag-based query per
//! region. Membership is not stored: the server evaluates the query over the nodes' tags when
//! it needs the members, so a node tagged later is a member at once. A group's own tags live in
//! the tags area (resource type [`GROUP_TAG_TYPE`], id = the group's name), written and removed
//! with the group.

use crate::Result;

/// The resource type under which a group's tags are kept in the tags area.
pub const GROUP_TAG_TYPE: &str = "ResourceGroup";

/// One group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    pub region: String,
    pub name: String,
    pub description: String,
    /// `TAG_FILTERS_1_0`.
    pub query_type: String,
    /// The query's JSON text, as given.
    pub query: String,
    pub created_ms: i64,
}

/// Groups.
pub trait ResourceGroupStore {
    /// Create a group with its tags in one transaction; `StoreError::AlreadyExists` when the
    /// region has a group of that name (also when two creations race: one wins).
    fn create_group(&self, group: &GroupRecord, tags: &[(String, String)]) -> Result<()>;

    /// One group.
    fn get_group(&self, region: &str, name: &str) -> Result<Option<GroupRecord>>;

    /// Every group of a region, by name.
    fn list_groups(&self, region: &str) -> Result<Vec<GroupRecord>>;

    /// Change a group's description and/or query (`None`: unchanged); the group after the
    /// change, or `None` when it does not exist.
    fn update_group(
        &self,
        region: &str,
        name: &str,
        description: Option<&str>,
        query: Option<(&str, &str)>,
    ) -> Result<Option<GroupRecord>>;

    /// Delete a group and its tags in one transaction; the deleted group, or `None`.
    fn delete_group(&self, region: &str, name: &str) -> Result<Option<GroupRecord>>;
}
