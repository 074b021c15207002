//! EventBridge rules on the default event bus (the `AWSEvents` API subset Bosun serves): each
//! rule's pattern and state, and its targets (at most a few per rule, each kept as the JSON
//! object `ListTargetsByRule` returns). A rule's tags live in the tags area (resource type
//! [`RULE_TAG_TYPE`], id = the rule's name), written with its creation and removed with its
//! deletion.

use crate::Result;

/// The resource type under which a rule's tags are kept in the tags area.
pub const RULE_TAG_TYPE: &str = "EventRule";

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRuleRecord {
    pub region: String,
    pub name: String,
    /// The pattern's text as given (validated by the caller).
    pub event_pattern: Option<String>,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub created_ms: i64,
}

/// One target of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTargetRecord {
    pub target_id: String,
    pub arn: String,
    /// The target as `ListTargetsByRule` returns it (a JSON object's text).
    pub definition: String,
}

/// What [`EventRuleStore::delete_rule`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleDeletion {
    Deleted,
    NotFound,
    /// Nothing deleted: the rule still has targets.
    HasTargets,
}

/// Rules and their targets.
pub trait EventRuleStore {
    /// Create a rule with its tags, or replace an existing rule's pattern, state, description
    /// and role (its creation time and tags stay). Returns whether it was created. A creation
    /// that would make the region hold more than `max_rules` rules is refused with
    /// `StoreError::LimitExceeded` and changes nothing; atomic: concurrent creations never
    /// exceed the limit, and of two racing creations of one name one creates and the other
    /// replaces.
    fn put_rule(
        &self,
        rule: &EventRuleRecord,
        tags: &[(String, String)],
        max_rules: usize,
    ) -> Result<bool>;

    /// One rule.
    fn get_rule(&self, region: &str, name: &str) -> Result<Option<EventRuleRecord>>;

    /// Every rule of a region, by name (byte order).
    fn list_rules(&self, region: &str) -> Result<Vec<EventRuleRecord>>;

    /// Set a rule's state; `false` when it does not exist.
    fn set_rule_state(&self, region: &str, name: &str, state: &str) -> Result<bool>;

    /// Delete a rule and its tags unless it has targets, atomically with respect to
    /// [`put_targets`](Self::put_targets): a rule deleted never leaves targets behind.
    fn delete_rule(&self, region: &str, name: &str) -> Result<RuleDeletion>;

    /// Add targets to a rule or replace those with the same ids, all or nothing.
    /// `StoreError::NotFound` when the rule does not exist; `StoreError::LimitExceeded` (and
    /// nothing changed) when the rule would end up with more than `max_targets`. Atomic:
    /// concurrent additions never exceed the limit.
    fn put_targets(
        &self,
        region: &str,
        rule: &str,
        targets: &[EventTargetRecord],
        max_targets: usize,
    ) -> Result<()>;

    /// Remove the named targets (absent ids are ignored); `StoreError::NotFound` when the rule
    /// does not exist.
    fn remove_targets(&self, region: &str, rule: &str, ids: &[String]) -> Result<()>;

    /// A rule's targets, by id (byte order); empty when the rule has none or does not exist.
    fn rule_targets(&self, region: &str, rule: &str) -> Result<Vec<EventTargetRecord>>;

    /// The names of the rules with a target of this ARN, by name (byte order).
    fn rule_names_by_target(&self, region: &str, arn: &str) -> Result<Vec<String>>;

    /// Every enabled rule of a region with its targets (by id), rules by name: what an event
    /// is matched against. Rules without targets are included (they match, deliver nothing).
    fn enabled_rules_with_targets(
        &self,
        region: &str,
    ) -> Result<Vec<(EventRuleRecord, Vec<EventTargetRecord>)>>;
}
