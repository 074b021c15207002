//! The agent release key: an Ed25519 key generated on the first start and kept in the data dir
//! (`release-signing.key`, 0600, base64 of the 32-byte seed). It signs every published agent
//! release (`bosun_core::agent_release::release_payload`); agents receive its public half in
//! `Welcome`, pin the first they see and verify every release against it. The seed is never
//! logged or shown. Replicas must share the file (copy it, like the keyring), or nodes would
//! see another key and refuse updates.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};

pub struct ReleaseKey {
    key: SigningKey,
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

    /// Read the key, or create it (first start).
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let path = Self::path(data_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let seed = B64
                    .decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                    .with_context(|| format!("{} is not a Bosun release key", path.display()))?;
                Ok(Self {
                    key: SigningKey::from_bytes(&seed),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let seed = crate::state::random_bytes::<32>();
                bosun_fs::write_atomic(&path, B64.encode(seed).as_bytes(), 0o600)
                    .with_context(|| format!("writing {}", path.display()))?;
                tracing::info!(path = %path.display(), "created the agent release signing key");
                Ok(Self {
                    key: SigningKey::from_bytes(&seed),
                })
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// The public key agents pin (base64).
    pub fn public_b64(&self) -> String {
        B64.encode(self.key.verifying_key().to_bytes())
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
        assert!(crate::agents::node_auth::verify_signature(
            &b.public_b64(),
            b"x",
            &sig
        ));
        assert!(!format!("{a:?}").contains(&B64.encode(a.key.to_bytes())));
    }
}
