//! The node's identity on disk: `<state-dir>/identity.json` (mode 0600) holding its id, region,
//! server URL and Ed25519 private key; `<state-dir>/deregistered` once an operator removed it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

use bosun_fs::write_atomic;

#[derive(Clone, Serialize, Deserialize)]
pub struct Identity {
    pub instance_id: String,
    pub region: String,
    pub server: String,
    /// Extra CA certificate (PEM) to trust for the server's TLS certificate.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Ed25519 private key seed, base64.
    private_key: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("instance_id", &self.instance_id)
            .field("region", &self.region)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

pub fn identity_path(state_dir: &Path) -> PathBuf {
    state_dir.join("identity.json")
}

pub fn deregistered_path(state_dir: &Path) -> PathBuf {
    state_dir.join("deregistered")
}

/// Create the state directory (mode 0700) if needed, or make an existing one private (with a
/// warning): command deliveries, scripts and outputs in it can hold secrets.
pub fn ensure_state_dir(state_dir: &Path) -> anyhow::Result<()> {
    bosun_fs::create_private_dir_all(state_dir)
        .with_context(|| format!("creating state directory {}", state_dir.display()))?;
    if bosun_fs::restrict_to_owner(state_dir)
        .with_context(|| format!("restricting the mode of {}", state_dir.display()))?
    {
        tracing::warn!(path = %state_dir.display(), "the state directory was readable by other users; made it private");
    }
    Ok(())
}

/// A fresh key pair from the operating system's random source.
pub fn generate_key() -> anyhow::Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("random source failed: {e}"))?;
    Ok(SigningKey::from_bytes(&seed))
}

impl Identity {
    pub fn new(
        instance_id: String,
        region: String,
        server: String,
        ca_file: Option<PathBuf>,
        key: &SigningKey,
    ) -> Self {
        Self {
            instance_id,
            region,
            server,
            ca_file,
            private_key: B64.encode(key.to_bytes()),
        }
    }

    pub fn signing_key(&self) -> anyhow::Result<SigningKey> {
        let bytes = B64
            .decode(&self.private_key)
            .context("identity key is not base64")?;
        let seed: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| anyhow::anyhow!("identity key has the wrong length"))?;
        Ok(SigningKey::from_bytes(&seed))
    }

    /// Sign bytes with the node key, base64.
    pub fn sign(&self, payload: &[u8]) -> anyhow::Result<String> {
        Ok(B64.encode(self.signing_key()?.sign(payload).to_bytes()))
    }

    pub fn save(&self, state_dir: &Path) -> anyhow::Result<()> {
        ensure_state_dir(state_dir)?;
        let text = serde_json::to_vec_pretty(self)?;
        write_atomic(&identity_path(state_dir), &text, 0o600).context("writing identity.json")
    }

    /// Load the identity, refusing a deregistered node or a key readable by others.
    pub fn load(state_dir: &Path) -> anyhow::Result<Self> {
        let path = identity_path(state_dir);
        let meta = fs::metadata(&path).with_context(|| {
            format!(
                "{} not found: register this node first with `bosun-agent register`",
                path.display()
            )
        })?;
        if meta.permissions().mode() & 0o077 != 0 {
            bail!(
                "{} must not be readable by group or others (chmod 600)",
                path.display()
            );
        }
        let identity: Identity = serde_json::from_slice(&fs::read(&path)?)
            .with_context(|| format!("{} is corrupt", path.display()))?;
        if let Ok(reason) = fs::read_to_string(deregistered_path(state_dir)) {
            bail!(
                "managed node {} was deregistered ({}); it will not run. Register it again with a new activation after removing {}",
                identity.instance_id,
                reason.trim(),
                state_dir.display()
            );
        }
        Ok(identity)
    }
}

/// Record that the server deregistered this node, so later starts refuse to run.
pub fn mark_deregistered(state_dir: &Path, reason: &str) -> anyhow::Result<()> {
    write_atomic(&deregistered_path(state_dir), reason.as_bytes(), 0o600)
        .context("writing the deregistered marker")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_round_trips_with_private_mode_and_deregistration_blocks_loading() {
        let dir = tempfile::tempdir().unwrap();
        let key = generate_key().unwrap();
        let id = Identity::new(
            "mi-0123456789abcdef0".into(),
            "us-east-1".into(),
            "http://x".into(),
            None,
            &key,
        );
        id.save(dir.path()).unwrap();
        let mode = fs::metadata(identity_path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let loaded = Identity::load(dir.path()).unwrap();
        assert_eq!(loaded.signing_key().unwrap().to_bytes(), key.to_bytes());
        assert!(!format!("{loaded:?}").contains(&loaded.private_key));
        mark_deregistered(dir.path(), "operator said so").unwrap();
        let err = Identity::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("deregistered"), "{err}");
    }
}
