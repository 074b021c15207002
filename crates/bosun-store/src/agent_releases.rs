//! Agent releases (issue 19): one row per published agent binary (version, platform, arch) with
//! its SHA-256, size and the release key's signature; the bytes live in the server's blob store.
//! One release per (platform, arch) may be the default, which `AWS-UpdateSSMAgent` installs when
//! no version is named and `IsLatestVersion` compares against. A version may also be pinned
//! for a region or for a node tag within a region (migration 35); which pin a node follows is
//! `bosun_core::agent_release::pins`.

use crate::Result;

/// One published release file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentReleaseRecord {
    pub version: String,
    pub platform: String,
    pub arch: String,
    /// Lowercase hex.
    pub sha256: String,
    pub size: u64,
    /// Base64 Ed25519 signature over `bosun_core::agent_release::release_payload`.
    pub signature: String,
    pub published_ms: i64,
    pub is_default: bool,
}

/// What publishing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    /// A new release row (made the default if asked).
    Created,
    /// The same version, platform and arch with the same SHA-256 was already published (made
    /// the default if asked); nothing else changed.
    AlreadyPublished,
    /// The same version, platform and arch exists with other content: refused, nothing changed.
    Conflict { existing_sha256: String },
}

/// A version pinned for a region, or for the nodes of a region carrying a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentReleasePinRecord {
    pub region: String,
    /// `None`: the whole region; else the tag (key, value) a node must carry.
    pub tag: Option<(String, String)>,
    pub version: String,
    pub pinned_ms: i64,
}

pub trait AgentReleaseStore {
    /// Publish a release; with `is_default`, it becomes the only default of its platform and
    /// arch in the same transaction. Atomic: of concurrent publications of one version with
    /// different content, one is `Created` and the others `Conflict`.
    fn publish_agent_release(&self, r: &AgentReleaseRecord) -> Result<PublishOutcome>;
    /// One release file.
    fn get_agent_release(
        &self,
        version: &str,
        platform: &str,
        arch: &str,
    ) -> Result<Option<AgentReleaseRecord>>;
    /// Every release, by platform, arch, then publication time.
    fn list_agent_releases(&self) -> Result<Vec<AgentReleaseRecord>>;
    /// Make `version` the default of `platform`/`arch` (and nothing else); false when it was
    /// never published there.
    fn set_default_agent_release(&self, version: &str, platform: &str, arch: &str) -> Result<bool>;
    /// Replace the signatures of these releases (matched by version, platform and arch; the
    /// other fields are not written), all in one transaction: a release key rotation.
    fn set_agent_release_signatures(&self, releases: &[AgentReleaseRecord]) -> Result<()>;
    /// Pin `pin.version` for its scope, replacing that scope's pin if any, only if the version
    /// was published (on any platform) — checked in the same statement; false (and nothing
    /// changed) when it was not.
    fn pin_agent_release(&self, pin: &AgentReleasePinRecord) -> Result<bool>;
    /// Remove the pin of a region (`tag` `None`) or of a tag within it; false when there was
    /// none.
    fn unpin_agent_release(&self, region: &str, tag: Option<(&str, &str)>) -> Result<bool>;
    /// The pins of a region: its own first, then tag pins by key and value (bytewise).
    fn agent_release_pins(&self, region: &str) -> Result<Vec<AgentReleasePinRecord>>;
}
