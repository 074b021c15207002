//! Parameter Store: parameters, their versions (at most 100 kept), labels, and the events
//! their policies produced. SecureString values arrive here already encrypted.
//!
//! A stored put (`Create` or `Update`), a delete and a label change write their `Parameter Store
//! Change` event into the outbox in the same transaction ([`crate::EventOutboxStore`]); refused
//! changes emit nothing.

use crate::Result;

/// One version of a parameter, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterVersion {
    pub region: String,
    /// Store key (see `bosun_core::parameters::name::key`).
    pub key: String,
    /// The name as first created.
    pub name: String,
    pub version: i64,
    pub param_type: String,
    /// Plain text for String/StringList; the encrypted envelope for SecureString.
    pub value: String,
    pub key_id: Option<String>,
    pub description: Option<String>,
    pub allowed_pattern: Option<String>,
    pub tier: String,
    pub policies: Option<String>,
    pub data_type: String,
    pub modified_ms: i64,
    pub modified_user: String,
    /// Labels on this version (filled by reads).
    pub labels: Vec<String>,
}

/// Limits a put must respect.
pub struct PutLimits {
    pub max_versions: i64,
    pub max_standard: i64,
    pub max_advanced: i64,
}

/// What happened to a put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    Stored,
    /// The latest version is not the one the caller built on (a concurrent put); retry.
    Conflict,
    /// The parameter exists and the put did not ask to overwrite.
    AlreadyExists,
    /// 100 versions exist and the oldest one carries a label.
    OldestLabelled(i64),
    /// The region holds the maximum number of parameters of this tier.
    LimitExceeded,
}

/// What a label request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelOutcome {
    Done,
    VersionNotFound,
    /// The version would carry more labels than allowed.
    TooManyLabels,
}

/// Parameters, their versions and labels.
pub trait ParameterStore {
    /// Store `v` as a new version. `v.version` must be one more than the current latest
    /// (`expected_latest`, `None` for a new parameter); tags are written only on create.
    ///
    /// Atomic and serialised per parameter (compare-and-set on the latest version): of
    /// concurrent puts built on the same latest version exactly one is `Stored`, the others
    /// get `Conflict` and retry, so versions are consecutive and none is lost. Outcomes in
    /// order of checking: `AlreadyExists` (exists, `overwrite` false), `Conflict`,
    /// `LimitExceeded` (a new parameter past its tier's limit in the region), and when
    /// `max_versions` exist, the oldest is dropped unless it carries a label
    /// (`OldestLabelled`).
    fn put_parameter(
        &self,
        v: &ParameterVersion,
        expected_latest: Option<i64>,
        overwrite: bool,
        tags: &[(String, String)],
        limits: &PutLimits,
    ) -> Result<PutOutcome>;

    /// The latest version of a parameter, with its labels (one consistent snapshot).
    fn parameter(&self, region: &str, key: &str) -> Result<Option<ParameterVersion>>;

    /// One version of a parameter with its labels; `Ok(None)` when the version (or parameter)
    /// is unknown.
    fn parameter_version(
        &self,
        region: &str,
        key: &str,
        version: i64,
    ) -> Result<Option<ParameterVersion>>;

    /// The version carrying `label`, if any, with its labels.
    fn parameter_by_label(
        &self,
        region: &str,
        key: &str,
        label: &str,
    ) -> Result<Option<ParameterVersion>>;

    /// Every kept version of a parameter, oldest first, with labels.
    fn parameter_history(&self, region: &str, key: &str) -> Result<Vec<ParameterVersion>>;

    /// The latest version of every parameter in a region, ordered by key (labels not filled).
    fn list_parameters(&self, region: &str) -> Result<Vec<ParameterVersion>>;

    /// Every label in a region: (key, label, version), by key then label.
    fn parameter_labels(&self, region: &str) -> Result<Vec<(String, String, i64)>>;

    /// Delete a parameter with all its versions, labels and tags, atomically. `Ok(false)`: it
    /// did not exist.
    fn delete_parameter(&self, region: &str, key: &str) -> Result<bool>;

    /// Attach labels to a version, moving any that sit on another version of the parameter;
    /// refused (changing nothing) when the version would carry more than `max_per_version`.
    /// Atomic and serialised with puts and other label changes of the parameter.
    fn label_parameter_version(
        &self,
        region: &str,
        key: &str,
        version: i64,
        labels: &[String],
        max_per_version: usize,
    ) -> Result<LabelOutcome>;

    /// Remove labels from a version, atomically; returns the labels removed (others were not
    /// on it), `None` when the version does not exist.
    fn unlabel_parameter_version(
        &self,
        region: &str,
        key: &str,
        version: i64,
        labels: &[String],
    ) -> Result<Option<Vec<String>>>;
}
