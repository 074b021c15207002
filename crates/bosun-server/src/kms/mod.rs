//! Bosun's key service for SecureString parameters: a keyring of AES-256 master keys (a JSON
//! file, mode 0600, written atomically) and envelope encryption ([`envelope`]).
//!
//! The keyring lives at `<data-dir>/kms/keyring.json` unless `--kms-key-file` names another
//! file. The key aliased `alias/aws/ssm` is created on first use. Keys are server-wide; their
//! ARNs are reported in the caller's region.

pub mod envelope;

use std::path::{Path, PathBuf};
use std::sync::RwLock;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::state::random_bytes;

pub use bosun_core::parameters::DEFAULT_KEY_ALIAS;

/// One master key. `material` is 32 bytes, hex-encoded.
#[derive(Clone, Serialize, Deserialize)]
pub struct MasterKey {
    pub key_id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub material: String,
    pub created_ms: i64,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("key_id", &self.key_id)
            .field("aliases", &self.aliases)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    fn bytes(&self) -> Option<[u8; 32]> {
        hex::decode(&self.material).ok()?.try_into().ok()
    }

    /// An HMAC of the key's id under its own material: equal for equal keys, different when
    /// the same id holds other material, and revealing nothing of the material.
    pub fn commitment(&self) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let material = self.bytes().unwrap_or_default();
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&material)
            .expect("HMAC takes a key of any length");
        mac.update(b"bosun keyring fingerprint\n");
        mac.update(self.key_id.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[derive(Default, Serialize, Deserialize)]
struct KeyringFile {
    keys: Vec<MasterKey>,
}

/// The master keys, loaded from (and saved to) one file.
pub struct Keyring {
    path: PathBuf,
    keys: RwLock<Vec<MasterKey>>,
}

fn load(path: &Path) -> anyhow::Result<Vec<MasterKey>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let file: KeyringFile = serde_json::from_slice(&bytes)
                .with_context(|| format!("the keyring {} is not valid JSON", path.display()))?;
            for k in &file.keys {
                anyhow::ensure!(
                    k.bytes().is_some(),
                    "key {} in {} has no 32-byte material",
                    k.key_id,
                    path.display()
                );
            }
            Ok(file.keys)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

impl Keyring {
    /// The default keyring path for a data directory.
    pub fn default_path(data_dir: &Path) -> PathBuf {
        data_dir.join("kms").join("keyring.json")
    }

    /// Open the keyring, creating it with the default key if it has none.
    pub fn open(path: &Path, now_ms: i64) -> anyhow::Result<Keyring> {
        let ring = Keyring {
            path: path.to_path_buf(),
            keys: RwLock::new(load(path)?),
        };
        if ring.find(DEFAULT_KEY_ALIAS).is_none() {
            ring.create_key(Some(DEFAULT_KEY_ALIAS), now_ms)?;
        }
        Ok(ring)
    }

    /// Create a new master key (with an optional `alias/...`) and save the keyring.
    pub fn create_key(&self, alias: Option<&str>, now_ms: i64) -> anyhow::Result<MasterKey> {
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        // Another process (the CLI) may have added keys since we loaded.
        *keys = load(&self.path)?;
        if let Some(a) = alias {
            anyhow::ensure!(
                a.starts_with("alias/")
                    && a.len() > 6
                    && a.len() <= 256
                    && a.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b)),
                "an alias looks like alias/name (letters, digits, / _ -)"
            );
            anyhow::ensure!(
                !keys.iter().any(|k| k.aliases.iter().any(|x| x == a)),
                "the alias {a} already exists"
            );
        }
        let key = MasterKey {
            key_id: bosun_core::ids::uuid_v4(random_bytes()),
            aliases: alias.map(|a| vec![a.to_string()]).unwrap_or_default(),
            material: hex::encode(random_bytes::<32>()),
            created_ms: now_ms,
        };
        keys.push(key.clone());
        let dir = self.path.parent().unwrap_or(Path::new("."));
        bosun_fs::create_private_dir_all(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
        let text = serde_json::to_vec_pretty(&KeyringFile { keys: keys.clone() })?;
        bosun_fs::write_atomic(&self.path, &text, 0o600)
            .with_context(|| format!("writing {}", self.path.display()))?;
        Ok(key)
    }

    /// Find a key by id, key ARN, alias or alias ARN; reloads the file once on a miss so keys
    /// created by `bosun kms create-key` are seen without a restart.
    pub fn find(&self, key_ref: &str) -> Option<MasterKey> {
        let lookup = |keys: &[MasterKey]| {
            let tail = if key_ref.starts_with("arn:") {
                key_ref.splitn(6, ':').nth(5).unwrap_or("")
            } else {
                key_ref
            };
            let id = tail.strip_prefix("key/").unwrap_or(tail);
            keys.iter()
                .find(|k| k.key_id == id || k.aliases.iter().any(|a| a == tail))
                .cloned()
        };
        if let Some(k) = lookup(&self.keys.read().unwrap_or_else(|p| p.into_inner())) {
            return Some(k);
        }
        let fresh = load(&self.path).ok()?;
        let found = lookup(&fresh);
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        found
    }

    /// Every key (for listings).
    pub fn keys(&self) -> Vec<MasterKey> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyring_creates_the_default_key_and_finds_keys_every_way() {
        let dir = tempfile::tempdir().unwrap();
        let path = Keyring::default_path(dir.path());
        let ring = Keyring::open(&path, 1).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let default = ring.find(DEFAULT_KEY_ALIAS).unwrap();
        let extra = Keyring::open(&path, 2)
            .unwrap()
            .create_key(Some("alias/team"), 2)
            .unwrap();
        // The first keyring sees the key created through another handle.
        assert_eq!(ring.find("alias/team").unwrap().key_id, extra.key_id);
        assert_eq!(ring.find(&extra.key_id).unwrap().key_id, extra.key_id);
        let arn = format!("arn:aws:kms:us-east-1:000000000000:key/{}", default.key_id);
        assert_eq!(ring.find(&arn).unwrap().key_id, default.key_id);
        assert!(ring
            .find("arn:aws:kms:us-east-1:000000000000:alias/aws/ssm")
            .is_some());
        assert!(ring.find("alias/nope").is_none());
        assert!(ring.create_key(Some("alias/team"), 3).is_err());
        assert!(!format!("{default:?}").contains(&default.material));
    }
}
