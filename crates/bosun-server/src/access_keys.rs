//! Secret access keys at rest: sealed with the keyring's default master key (AES-256-GCM
//! envelope, bound to the access key id), never stored in plaintext. SigV4 needs the secret
//! itself, so it is encrypted rather than hashed; the API opens it on use and keeps opened
//! secrets in memory by (access key id, sealed bytes), so a request costs no AES work.

use std::collections::HashMap;
use std::path::Path;
use std::sync::RwLock;

use anyhow::{bail, Context};
use bosun_store::prelude::*;

use crate::kms::envelope::{self, OpenError};
use crate::kms::{Keyring, DEFAULT_KEY_ALIAS};

/// The associated-data domain of access-key secrets (SecureStrings use another).
const DOMAIN: &str = "bosun-access-key";

/// Most opened secrets kept (the cache starts over past this).
const OPENED_KEPT: usize = 10_000;

/// Seal a secret access key for storage.
pub fn seal(keyring: &Keyring, access_key_id: &str, secret: &str) -> anyhow::Result<String> {
    let master = keyring
        .find(DEFAULT_KEY_ALIAS)
        .with_context(|| format!("the keyring has no {DEFAULT_KEY_ALIAS} key"))?;
    envelope::seal_bound(&master, DOMAIN, access_key_id, secret)
}

/// Open a sealed secret access key.
pub fn open(keyring: &Keyring, access_key_id: &str, sealed: &str) -> Result<String, OpenError> {
    envelope::open_bound(|id| keyring.find(id), DOMAIN, access_key_id, sealed)
}

/// Secrets already opened, by access key id, each with the sealed bytes it came from.
#[derive(Default)]
pub struct OpenedSecrets {
    opened: RwLock<HashMap<String, (String, String)>>,
}

impl OpenedSecrets {
    /// The secret of `access_key_id` sealed as `sealed`, opened once and then remembered.
    pub fn get(
        &self,
        keyring: &Keyring,
        access_key_id: &str,
        sealed: &str,
    ) -> Result<String, OpenError> {
        if let Some((s, secret)) = self
            .opened
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(access_key_id)
        {
            if s == sealed {
                return Ok(secret.clone());
            }
        }
        let secret = open(keyring, access_key_id, sealed)?;
        let mut map = self.opened.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= OPENED_KEPT {
            map.clear();
        }
        map.insert(
            access_key_id.to_string(),
            (sealed.to_string(), secret.clone()),
        );
        Ok(secret)
    }
}

/// Seal the plaintext secrets a database from an older version holds (stored in one
/// transaction, the plaintext scrubbed from the files); returns how many were converted.
/// Nothing is stored unless every one of them could be sealed.
pub fn seal_plaintext(store: &dyn Store, keyring: &Keyring) -> anyhow::Result<usize> {
    let plaintext = store.plaintext_secrets()?;
    if plaintext.is_empty() {
        return Ok(0);
    }
    let mut sealed = Vec::with_capacity(plaintext.len());
    for (id, secret) in plaintext {
        let sealed_secret = seal(keyring, &id, &secret)?;
        sealed.push((id, secret, sealed_secret));
    }
    Ok(store.replace_plaintext_secrets(&sealed)?)
}

/// The stored access keys whose sealing master key this keyring lacks (they cannot
/// authenticate with it).
pub fn unopenable(store: &dyn Store, keyring: &Keyring) -> anyhow::Result<Vec<String>> {
    let mut missing = Vec::new();
    for (id, sealed) in store.sealed_secrets()? {
        let known = envelope::key_id_of(&sealed)
            .ok()
            .is_some_and(|key| keyring.find(&key).is_some());
        if !known {
            missing.push(id);
        }
    }
    Ok(missing)
}

/// The keyring `bosun admin` seals new keys with: the server's (`path`), checked to hold the
/// master key that sealed the keys already stored, so a key made with the wrong keyring file
/// (the server runs with `--kms-key-file`) is refused instead of failing to authenticate.
pub fn keyring_for_admin(store: &dyn Store, path: &Path, now_ms: i64) -> anyhow::Result<Keyring> {
    let stored = store.sealed_secrets()?;
    if !stored.is_empty() && !path.exists() {
        bail!(
            "no keyring at {}, but this data directory's access keys were sealed with one: pass the server's --kms-key-file",
            path.display()
        );
    }
    let keyring = Keyring::open(path, now_ms)
        .with_context(|| format!("opening the keyring {}", path.display()))?;
    let opens = |sealed: &str| {
        envelope::key_id_of(sealed)
            .ok()
            .is_some_and(|key| keyring.find(&key).is_some())
    };
    if !stored.is_empty() && !stored.iter().any(|(_, sealed)| opens(sealed)) {
        bail!(
            "the keyring {} does not hold the master key this data directory's access keys were sealed with: pass the server's --kms-key-file",
            path.display()
        );
    }
    let converted = seal_plaintext(store, &keyring)?;
    if converted > 0 {
        tracing::info!(
            count = converted,
            "sealed access-key secrets stored in plaintext by an older version"
        );
    }
    Ok(keyring)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bosun_store::AccessKeyRecord;

    fn record(id: &str, sealed: String) -> AccessKeyRecord {
        AccessKeyRecord {
            access_key_id: id.into(),
            sealed_secret: sealed,
            user_name: "alice".into(),
            active: true,
        }
    }

    #[test]
    fn sealed_secrets_open_only_for_their_key_id_and_cache_by_sealed_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let ring = Keyring::open(&dir.path().join("keyring.json"), 1).unwrap();
        let sealed = seal(&ring, "AKIAONE", "secret-one").unwrap();
        assert!(!sealed.contains("secret-one"));
        assert_eq!(open(&ring, "AKIAONE", &sealed).unwrap(), "secret-one");
        assert_eq!(open(&ring, "AKIATWO", &sealed), Err(OpenError::Rejected));

        let cache = OpenedSecrets::default();
        assert_eq!(cache.get(&ring, "AKIAONE", &sealed).unwrap(), "secret-one");
        // A new sealed value for the same id is opened, not served from the cache.
        let resealed = seal(&ring, "AKIAONE", "secret-new").unwrap();
        assert_eq!(
            cache.get(&ring, "AKIAONE", &resealed).unwrap(),
            "secret-new"
        );
        assert_eq!(
            cache.get(&ring, "AKIATWO", &sealed),
            Err(OpenError::Rejected)
        );
    }

    #[test]
    fn admin_refuses_a_keyring_that_did_not_seal_the_stored_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = bosun_store::SqliteStore::open(&dir.path().join("bosun.db")).unwrap();
        store.create_user("alice", 1).unwrap();
        let server_ring = Keyring::open(&dir.path().join("server.json"), 1).unwrap();
        let sealed = seal(&server_ring, "AKIAONE", "secret-one").unwrap();
        store
            .create_access_key(&record("AKIAONE", sealed), 1)
            .unwrap();

        let missing = dir.path().join("kms/keyring.json");
        let err = keyring_for_admin(&store, &missing, 2).err().unwrap();
        assert!(err.to_string().contains("--kms-key-file"), "{err}");
        assert!(!missing.exists(), "no stray keyring is created");

        let other = dir.path().join("other.json");
        Keyring::open(&other, 1).unwrap();
        let err = keyring_for_admin(&store, &other, 2).err().unwrap();
        assert!(err.to_string().contains("--kms-key-file"), "{err}");
        assert_eq!(
            unopenable(&store, &Keyring::open(&other, 1).unwrap()).unwrap(),
            ["AKIAONE"]
        );

        let ring = keyring_for_admin(&store, &dir.path().join("server.json"), 2).unwrap();
        assert!(unopenable(&store, &ring).unwrap().is_empty());
    }
}
