//! The agent release key: an Ed25519 key generated on the first start and kept in the data dir
//! (`release-signing.key`, 0600, base64 of the 32-byte seed). It signs every published agent
//! release (`bosun_core::agent_release::release_payload`); agents receive its public half in
//! `Welcome`, pin the first they see and verify every release against it. The seed is never
//! logged or shown. Replicas must share the file (copy it, like the keyring), or nodes would
//! see another key and refuse updates.
//!
//! `bosun admin rotate-release-key` (server stopped) replaces the key: the old key signs the
//! hand-over (`release-signing.rotation`, sent to agents with the new key so they re-pin it),
//! every release whose signature verifies under the old key is re-signed with the new one, and
//! a release that verifies under neither is refused. The new key and hand-over are written as
//! `*.next` files first and renamed into place last, so an interrupted rotation is finished by
//! running it again.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bosun_proto::KeyRotation;
use ed25519_dalek::{Signer, SigningKey};

use crate::agents::node_auth::verify_signature;

pub struct ReleaseKey {
    key: SigningKey,
    /// The previous key's hand-over to this one, if the key was rotated.
    rotation: Option<KeyRotation>,
}

/// What a rotation did.
pub struct Rotated {
    pub previous: String,
    pub current: String,
    pub resigned: usize,
}

fn rotation_path(data_dir: &Path) -> PathBuf {
    data_dir.join("release-signing.rotation")
}

fn next(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".next");
    path.with_file_name(name)
}

fn read_seed(path: &Path) -> anyhow::Result<Option<[u8; 32]>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(
            B64.decode(text.trim())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                .with_context(|| format!("{} is not a Bosun release key", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn public_of(key: &SigningKey) -> String {
    B64.encode(key.verifying_key().to_bytes())
}

/// Rotate the release key of `data_dir` (the server must be stopped: hold its lock).
pub fn rotate(data_dir: &Path, store: &dyn bosun_store::Store) -> anyhow::Result<Rotated> {
    use bosun_core::agent_release::{key_rotation_payload, release_payload};
    let path = ReleaseKey::path(data_dir);
    let old = SigningKey::from_bytes(
        &read_seed(&path)?.context("there is no release key to rotate (start the server once)")?,
    );
    let next_key = next(&path);
    let new = match read_seed(&next_key)? {
        Some(seed) => SigningKey::from_bytes(&seed),
        None => {
            let seed = crate::state::random_bytes::<32>();
            bosun_fs::write_atomic(&next_key, B64.encode(seed).as_bytes(), 0o600)
                .with_context(|| format!("writing {}", next_key.display()))?;
            SigningKey::from_bytes(&seed)
        }
    };
    let (old_pub, new_pub) = (public_of(&old), public_of(&new));
    let rotation = KeyRotation {
        previous_key: old_pub.clone(),
        signature: B64.encode(old.sign(&key_rotation_payload(&new_pub)).to_bytes()),
    };
    let next_rotation = next(&rotation_path(data_dir));
    bosun_fs::write_atomic(&next_rotation, &serde_json::to_vec(&rotation)?, 0o600)
        .with_context(|| format!("writing {}", next_rotation.display()))?;
    let mut resigned = Vec::new();
    for mut r in store.list_agent_releases()? {
        let payload = release_payload(&r.version, &r.platform, &r.arch, &r.sha256, r.size);
        if verify_signature(&new_pub, &payload, &r.signature) {
            continue;
        }
        if !verify_signature(&old_pub, &payload, &r.signature) {
            anyhow::bail!(
                "agent release {} for {}/{}: its signature verifies under neither key, so it is \
                 not re-signed (its row may have been changed); nothing was rotated",
                r.version,
                r.platform,
                r.arch
            );
        }
        r.signature = B64.encode(new.sign(&payload).to_bytes());
        resigned.push(r);
    }
    store.set_agent_release_signatures(&resigned)?;
    std::fs::rename(&next_rotation, rotation_path(data_dir))?;
    std::fs::rename(&next_key, &path)?;
    if let Ok(dir) = std::fs::File::open(data_dir) {
        let _ = dir.sync_all();
    }
    Ok(Rotated {
        previous: old_pub,
        current: new_pub,
        resigned: resigned.len(),
    })
}

impl std::fmt::Debug for ReleaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReleaseKey({})", self.public_b64())
    }
}

impl ReleaseKey {
    /// Where the key lives in a data dir.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("release-signing.key")
    }

    /// Read the key, or create it (first start), with the hand-over to it if it was rotated.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let path = Self::path(data_dir);
        if next(&path).exists() {
            anyhow::bail!(
                "a release key rotation was interrupted ({} exists): run `bosun admin \
                 rotate-release-key` again to finish it",
                next(&path).display()
            );
        }
        let key = match read_seed(&path)? {
            Some(seed) => SigningKey::from_bytes(&seed),
            None => {
                let seed = crate::state::random_bytes::<32>();
                bosun_fs::write_atomic(&path, B64.encode(seed).as_bytes(), 0o600)
                    .with_context(|| format!("writing {}", path.display()))?;
                tracing::info!(path = %path.display(), "created the agent release signing key");
                SigningKey::from_bytes(&seed)
            }
        };
        let current = public_of(&key);
        let rotation = std::fs::read(rotation_path(data_dir))
            .ok()
            .and_then(|b| serde_json::from_slice::<KeyRotation>(&b).ok())
            .filter(|r| {
                let payload = bosun_core::agent_release::key_rotation_payload(&current);
                verify_signature(&r.previous_key, &payload, &r.signature)
            });
        Ok(Self { key, rotation })
    }

    /// The previous key's hand-over to this one, for agents that pinned the previous key.
    pub fn rotation(&self) -> Option<KeyRotation> {
        self.rotation.clone()
    }

    /// The public key agents pin (base64).
    pub fn public_b64(&self) -> String {
        public_of(&self.key)
    }

    /// Sign `payload`; base64.
    pub fn sign(&self, payload: &[u8]) -> String {
        B64.encode(self.key.sign(payload).to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_created_once_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = ReleaseKey::load_or_create(dir.path()).unwrap();
        let mode = std::fs::metadata(ReleaseKey::path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = ReleaseKey::load_or_create(dir.path()).unwrap();
        assert_eq!(a.public_b64(), b.public_b64());
        let sig = a.sign(b"x");
        assert!(verify_signature(&b.public_b64(), b"x", &sig));
        assert!(!format!("{a:?}").contains(&B64.encode(a.key.to_bytes())));
    }

    #[test]
    fn rotation_re_signs_verified_releases_and_hands_over() {
        use bosun_core::agent_release::{key_rotation_payload, release_payload};
        use bosun_store::{AgentReleaseRecord, SqliteStore, Store};
        let dir = tempfile::tempdir().unwrap();
        let store: Box<dyn Store> = Box::new(SqliteStore::open_in_memory().unwrap());
        let old = ReleaseKey::load_or_create(dir.path()).unwrap();
        assert!(old.rotation().is_none());
        let mut r = AgentReleaseRecord {
            version: "1.0".into(),
            platform: "linux".into(),
            arch: "amd64".into(),
            sha256: "aa".into(),
            size: 3,
            signature: String::new(),
            published_ms: 1,
            is_default: true,
        };
        let payload = release_payload("1.0", "linux", "amd64", "aa", 3);
        r.signature = old.sign(&payload);
        store.publish_agent_release(&r).unwrap();
        // A row that does not verify under the current key stops the rotation.
        let mut bad = r.clone();
        bad.version = "1.1".into();
        store.publish_agent_release(&bad).unwrap();
        let e = rotate(dir.path(), &*store).err().unwrap().to_string();
        assert!(e.contains("verifies under neither key"), "{e}");
        assert!(
            ReleaseKey::load_or_create(dir.path()).is_err(),
            "interrupted"
        );
        let mut fixed = bad.clone();
        fixed.signature = old.sign(&release_payload("1.1", "linux", "amd64", "aa", 3));
        store.set_agent_release_signatures(&[fixed]).unwrap();
        // Run again: it finishes with the same new key.
        let done = rotate(dir.path(), &*store).unwrap();
        assert_eq!(done.previous, old.public_b64());
        assert_eq!(done.resigned, 2);
        let new = ReleaseKey::load_or_create(dir.path()).unwrap();
        assert_eq!(new.public_b64(), done.current);
        let handed = new.rotation().unwrap();
        assert_eq!(handed.previous_key, old.public_b64());
        assert!(verify_signature(
            &old.public_b64(),
            &key_rotation_payload(&new.public_b64()),
            &handed.signature
        ));
        let row = store
            .get_agent_release("1.0", "linux", "amd64")
            .unwrap()
            .unwrap();
        assert!(verify_signature(
            &new.public_b64(),
            &payload,
            &row.signature
        ));
    }
}
