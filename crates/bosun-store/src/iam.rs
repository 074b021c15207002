//! Users, their access keys and their attached policies.
//!
//! Secret access keys are stored only sealed: the store keeps the opaque bytes its caller
//! sealed (the server, with its keyring) and never sees the secret. Databases written before
//! secrets were sealed hold them in plaintext; the caller reads them with
//! [`IamStore::plaintext_secrets`], seals them and stores the sealed forms with
//! [`IamStore::replace_plaintext_secrets`], which also scrubs the plaintext from storage.

use crate::Result;

/// A user (principal) of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub name: String,
    pub created_ms: i64,
}

/// An access key and the user it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    pub access_key_id: String,
    /// The secret access key as sealed by the caller (opaque to the store).
    pub sealed_secret: String,
    pub user_name: String,
    pub active: bool,
}

/// A policy attached to a user: (policy name, JSON text).
pub type NamedPolicy = (String, String);

/// Users, access keys and user policies.
pub trait IamStore {
    /// Create a user; `AlreadyExists` if the name is taken (of concurrent creations of one
    /// name, exactly one succeeds).
    fn create_user(&self, name: &str, now_ms: i64) -> Result<()>;

    /// Every user, by name.
    fn list_users(&self) -> Result<Vec<UserRecord>>;

    /// Give a user a new access key (its secret already sealed); `NotFound` if the user does
    /// not exist.
    fn create_access_key(&self, key: &AccessKeyRecord, now_ms: i64) -> Result<()>;

    /// Every access key's id and sealed secret (active or not), by id, for checking that the
    /// keyring can open them. Keys whose secret is still in plaintext are not listed.
    fn sealed_secrets(&self) -> Result<Vec<(String, String)>>;

    /// The secrets a database from before sealing holds in plaintext: (access key id,
    /// plaintext secret). Empty for a database created since (and for any engine but SQLite).
    fn plaintext_secrets(&self) -> Result<Vec<(String, String)>>;

    /// Store sealed forms of plaintext secrets: (access key id, the plaintext as read by
    /// [`IamStore::plaintext_secrets`], its sealed form), in one transaction: on error nothing is
    /// converted. A key whose plaintext changed since it was read is left as it is. The plaintext
    /// is scrubbed from storage (SQLite: freed bytes zeroed, WAL checkpointed and truncated).
    /// Returns how many keys were converted.
    fn replace_plaintext_secrets(&self, sealed: &[(String, String, String)]) -> Result<usize>;

    /// An active access key whose secret is sealed (a plaintext one left by an older version is
    /// not usable until the server seals it at start).
    fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>>;

    /// An active access key (as [`IamStore::access_key`]) and its user's policies, read
    /// together from one consistent snapshot: what authenticating and authorizing one API call
    /// needs, in one visit to the database.
    fn access_key_and_policies(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(AccessKeyRecord, Vec<NamedPolicy>)>>;

    /// Attach (or replace) a named inline policy on a user; `NotFound` if the user does not
    /// exist.
    fn put_user_policy(&self, user_name: &str, policy_name: &str, document: &str) -> Result<()>;

    /// Detach a policy; `false` when it was not attached.
    fn delete_user_policy(&self, user_name: &str, policy_name: &str) -> Result<bool>;

    /// Every access key (active or not; a plaintext one with an empty sealed secret),
    /// optionally of one user: (key, created ms), by user, then creation time, then id.
    fn list_access_keys(&self, user: Option<&str>) -> Result<Vec<(AccessKeyRecord, i64)>>;

    /// Mark an access key inactive (calls signed with it are refused); `NotFound` if unknown.
    fn deactivate_access_key(&self, access_key_id: &str) -> Result<()>;

    /// Delete an access key; `NotFound` if unknown.
    fn delete_access_key(&self, access_key_id: &str) -> Result<()>;

    /// The policy documents attached to a user: (name, JSON text), by name.
    fn user_policies(&self, user_name: &str) -> Result<Vec<(String, String)>>;

    /// Set a tag on a user (IAM's `TagUser`; e.g. `SSMSessionRunAs`), replacing its value;
    /// `NotFound` if the user does not exist. Deleted with the user (migration 33).
    fn tag_user(&self, user_name: &str, key: &str, value: &str) -> Result<()>;

    /// Remove a tag from a user; `false` when it had none of that key.
    fn untag_user(&self, user_name: &str, key: &str) -> Result<bool>;

    /// A user's tags: (key, value), by key.
    fn user_tags(&self, user_name: &str) -> Result<Vec<(String, String)>>;
}
