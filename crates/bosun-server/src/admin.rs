//! Local administration of users, access keys and policies (`bosun admin …`), done directly on
//! the data directory's database by an operator who can read it. Every change is audited.

use anyhow::{bail, Context};
use bosun_core::ids;
use bosun_core::policy::PolicyDocument;
use bosun_store::prelude::*;
use bosun_store::{AccessKeyRecord, AuditRecord};

use crate::access_keys;
use crate::kms::Keyring;
use crate::state::{now_ms, random_bytes};

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

pub(crate) fn audit(store: &dyn Store, action: &str, resource: &str) -> anyhow::Result<()> {
    store
        .append_audit(&AuditRecord {
            time_ms: now_ms(),
            principal: "local-admin".into(),
            action: action.into(),
            region: String::new(),
            resource: resource.into(),
            request_id: ids::uuid_v4(random_bytes()),
            source: "bosun admin".into(),
            outcome: "Allowed".into(),
            detail: String::new(),
        })
        .context("writing the audit record")
}

pub fn create_user(store: &dyn Store, name: &str) -> anyhow::Result<()> {
    if !valid_name(name) {
        bail!("user names are 1-64 characters of letters, digits and +=,.@_-");
    }
    store.create_user(name, now_ms())?;
    audit(store, "iam:CreateUser", name)
}

/// Create an access key for a user; returns (access key id, secret access key). The secret is
/// stored only sealed with `keyring`: this answer is the one time it is shown.
pub fn create_access_key(
    store: &dyn Store,
    keyring: &Keyring,
    user: &str,
) -> anyhow::Result<(String, String)> {
    let access_key_id = ids::access_key_id(random_bytes());
    let secret = ids::secret_access_key(random_bytes());
    let record = AccessKeyRecord {
        sealed_secret: access_keys::seal(keyring, &access_key_id, &secret)?,
        access_key_id,
        user_name: user.into(),
        active: true,
    };
    store.create_access_key(&record, now_ms())?;
    audit(store, "iam:CreateAccessKey", user)?;
    Ok((record.access_key_id, secret))
}

/// Attach (or replace) a named policy after checking that it parses.
pub fn put_user_policy(
    store: &dyn Store,
    user: &str,
    policy_name: &str,
    document: &str,
) -> anyhow::Result<()> {
    if !valid_name(policy_name) {
        bail!("policy names are 1-64 characters of letters, digits and +=,.@_-");
    }
    PolicyDocument::parse(document).context("the policy document is not valid")?;
    store.put_user_policy(user, policy_name, document)?;
    audit(store, "iam:PutUserPolicy", &format!("{user}/{policy_name}"))
}

pub fn delete_user_policy(store: &dyn Store, user: &str, policy_name: &str) -> anyhow::Result<()> {
    if !store.delete_user_policy(user, policy_name)? {
        bail!("user {user} has no policy named {policy_name}");
    }
    audit(
        store,
        "iam:DeleteUserPolicy",
        &format!("{user}/{policy_name}"),
    )
}

/// Most tags a user may carry (IAM's limit).
const MAX_USER_TAGS: usize = 50;

/// Whether text uses only IAM's tag characters (letters, digits, spaces and `_.:/=+-@`).
fn tag_text(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
}

/// Tag a user (IAM's `TagUser` rules: keys 1-128 characters, values up to 256, at most 50
/// tags), e.g. `SSMSessionRunAs`, the OS user Session Manager runs the user's sessions as when
/// the preferences enable `runAsEnabled`.
pub fn tag_user(store: &dyn Store, user: &str, key: &str, value: &str) -> anyhow::Result<()> {
    if key.is_empty() || key.chars().count() > 128 || !tag_text(key) {
        bail!("tag keys are 1-128 letters, digits, spaces and _.:/=+-@");
    }
    if value.chars().count() > 256 || !tag_text(value) {
        bail!("tag values are up to 256 letters, digits, spaces and _.:/=+-@");
    }
    let tags = store.user_tags(user)?;
    if tags.len() >= MAX_USER_TAGS && !tags.iter().any(|(k, _)| k == key) {
        bail!("user {user} already has {MAX_USER_TAGS} tags, IAM's limit");
    }
    store.tag_user(user, key, value)?;
    audit(store, "iam:TagUser", &format!("{user}/{key}"))
}

pub fn untag_user(store: &dyn Store, user: &str, key: &str) -> anyhow::Result<()> {
    if !store.untag_user(user, key)? {
        bail!("user {user} has no tag {key}");
    }
    audit(store, "iam:UntagUser", &format!("{user}/{key}"))
}

/// Deactivate an access key: calls signed with it are refused from the next request on.
pub fn deactivate_access_key(store: &dyn Store, access_key_id: &str) -> anyhow::Result<()> {
    store.deactivate_access_key(access_key_id)?;
    audit(store, "iam:UpdateAccessKey", access_key_id)
}

/// Delete an access key.
pub fn delete_access_key(store: &dyn Store, access_key_id: &str) -> anyhow::Result<()> {
    store.delete_access_key(access_key_id)?;
    audit(store, "iam:DeleteAccessKey", access_key_id)
}
