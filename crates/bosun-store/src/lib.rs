//! Bosun's persistence: an engine-neutral interface, one trait per area, and the SQLite engine
//! behind it ([`SqliteStore`]).
//!
//! Each area module holds its record types, its trait (whose doc comments are the contract
//! every engine keeps, including what each method promises under concurrency) and the logic
//! every engine shares (the audit chain, the idempotency decision, registration checks).
//! [`Store`] is all the area traits together; callers hold an `Arc<dyn Store>` and write
//! `use bosun_store::prelude::*;` to call its methods.
//!
//! Every method is a short transaction; a method that returns `Ok` has made its change durable.
//! All region-scoped state carries the region in its key, as AWS scopes it. Engines run the
//! conformance suite ([`conformance_tests!`], feature `testing`).

mod activations;
mod agent_releases;
pub mod association_events;
mod association_runs;
mod association_status;
mod associations;
mod attachments;
mod audit;
mod automation;
pub mod automation_events;
mod commands;
mod compliance;
#[cfg(feature = "testing")]
pub mod conformance;
mod console_sessions;
mod delivery_limits;
mod documents;
mod error;
mod event_outbox;
mod event_rules;
mod iam;
mod idempotency;
mod instances;
pub mod maintenance_window_events;
mod maintenance_window_runs;
mod maintenance_windows;
mod node_ping;
mod parameter_policies;
mod parameter_validations;
mod parameters;
mod regions;
mod replicas;
mod resource_groups;
mod rule_failures;
pub mod session_events;
mod sessions;
mod sqlite;
mod tags;
mod topics;

pub use activations::{refuse_registration, ActivationRecord, ActivationStore, RegisterOutcome};
pub use agent_releases::{
    AgentReleasePinRecord, AgentReleaseRecord, AgentReleaseStore, PublishOutcome,
};
pub use association_runs::{
    AssociationExecutionRecord, AssociationRunStore, NewCommand, OPEN_EXECUTION_STATUSES,
};
pub use association_status::{
    state_after_end, state_after_forget, AssociationStatusStore, NodeAssociationStatus,
    StatusChange, StatusValue,
};
pub use associations::{
    AssociationDefinition, AssociationFilter, AssociationRecord, AssociationState,
    AssociationStore, AssociationVersionRecord, UpdateAssociation,
};
pub use attachments::{AttachmentBlobRecord, AttachmentStore};
pub use audit::{
    chain_hash, next_link, verify_chain, AuditRecord, AuditStore, AuditVerification, GENESIS,
};
pub use automation::{
    AutomationExecutionRecord, AutomationQuery, AutomationStarted, AutomationStepRecord,
    AutomationStore,
};
pub use commands::{
    notification_column, notification_from_column, CommandRecord, CommandStore, EndedInvocations,
    InvocationDigest, InvocationRecord, PluginRecord, LIVE_INVOCATION_STATUSES,
};
pub use compliance::{ComplianceItemRecord, ComplianceOutcome, ComplianceStore, UploadMode};
pub use console_sessions::{ConsoleSessionRecord, ConsoleSessionStore};
pub use delivery_limits::{key_mark, slot_mark, DeliveryLimitStore};
pub use documents::{AddVersion, DocumentRecord, DocumentStore, DocumentVersionRecord};
pub use error::{Result, StoreError};
pub use event_outbox::{
    new_event_id, now_ms, parameter_event, CommandHead, EventAccount, EventOutboxStore, OutboxEvent,
};
pub use event_rules::{
    EventRuleRecord, EventRuleStore, EventTargetRecord, RuleDeletion, RULE_TAG_TYPE,
};
pub use iam::{AccessKeyRecord, IamStore, NamedPolicy, UserRecord};
pub use idempotency::{
    decide, Answer, CallRecords, CallStore, Claim, ClaimRequest, StoredAnswer, StoredCall,
};
pub use instances::{
    interfaces_from_json, interfaces_json, packages_from_json, packages_json, InstanceRecord,
    InstanceStore, NewInstance, NodeFacts,
};
pub use maintenance_window_runs::{
    MaintenanceWindowRunStore, SlotFired, TaskExecutionRecord, TaskInvocationRecord,
    WindowExecutionRecord, LIVE_WINDOW_STATUSES,
};
pub use maintenance_windows::{
    window_target_ids, Changed, MaintenanceWindowStore, Registered, WindowRecord,
    WindowTargetRecord, WindowTaskRecord, WINDOW_TAG_TYPE,
};
pub use node_ping::{NodePingStore, ReportedPing};
pub use parameter_policies::{ParameterPolicyStore, PolicyEvent};
pub use parameter_validations::{ParameterValidationStore, PendingPut};
pub use parameters::{LabelOutcome, ParameterStore, ParameterVersion, PutLimits, PutOutcome};
pub use regions::{RegionStore, REGIONS_WITH_DATA_SQL};
pub use replicas::{AgentSession, CommandLease, DeliveryMark, ReplicaRecord, ReplicaStore};
pub use resource_groups::{GroupRecord, ResourceGroupStore, GROUP_TAG_TYPE};
pub use rule_failures::{RuleFailureStore, RuleTargetFailure};
pub use sessions::{AgentReport, SessionQuery, SessionRecord, SessionStore, TokenClaim};
pub use sqlite::SqliteStore;
pub use tags::TagStore;
pub use topics::{
    DeliveryRecord, PublishedMessage, SubscriptionRecord, TopicAttribute, TopicRecord, TopicStore,
    CONFIRMATION, NOTIFICATION, TOPIC_TAG_TYPE,
};

/// A whole store: every area's methods. Implemented by every type that implements all the
/// area traits; use it as `dyn Store`.
pub trait Store:
    ActivationStore
    + AgentReleaseStore
    + AttachmentStore
    + AssociationStore
    + AssociationRunStore
    + AssociationStatusStore
    + AuditStore
    + AutomationStore
    + CallStore
    + CommandStore
    + ComplianceStore
    + ConsoleSessionStore
    + DeliveryLimitStore
    + DocumentStore
    + EventRuleStore
    + EventOutboxStore
    + IamStore
    + InstanceStore
    + MaintenanceWindowStore
    + MaintenanceWindowRunStore
    + NodePingStore
    + ParameterStore
    + ParameterPolicyStore
    + ParameterValidationStore
    + RegionStore
    + ResourceGroupStore
    + ReplicaStore
    + RuleFailureStore
    + SessionStore
    + TagStore
    + TopicStore
    + Send
    + Sync
{
}

impl<T> Store for T where
    T: ActivationStore
        + AgentReleaseStore
        + AttachmentStore
        + AutomationStore
        + AssociationStore
        + AssociationRunStore
        + AssociationStatusStore
        + AuditStore
        + CallStore
        + CommandStore
        + ComplianceStore
        + ConsoleSessionStore
        + DeliveryLimitStore
        + DocumentStore
        + EventRuleStore
        + EventOutboxStore
        + IamStore
        + InstanceStore
        + MaintenanceWindowStore
        + MaintenanceWindowRunStore
        + NodePingStore
        + ParameterStore
        + ParameterPolicyStore
        + ParameterValidationStore
        + RegionStore
        + ResourceGroupStore
        + ReplicaStore
        + RuleFailureStore
        + SessionStore
        + TagStore
        + TopicStore
        + Send
        + Sync
        + ?Sized
{
}

/// Every store trait, to call store methods on a `&dyn Store`: `use bosun_store::prelude::*;`.
pub mod prelude {
    pub use crate::{
        ActivationStore, AgentReleaseStore, AssociationRunStore, AssociationStatusStore,
        AssociationStore, AttachmentStore, AuditStore, AutomationStore, CallStore, CommandStore,
        ComplianceStore, ConsoleSessionStore, DeliveryLimitStore, DocumentStore, EventOutboxStore,
        EventRuleStore, IamStore, InstanceStore, MaintenanceWindowRunStore, MaintenanceWindowStore,
        NodePingStore, ParameterPolicyStore, ParameterStore, ParameterValidationStore, RegionStore,
        ReplicaStore, ResourceGroupStore, RuleFailureStore, SessionStore, Store, TagStore,
        TopicStore,
    };
}
