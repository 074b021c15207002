//! The release key this node trusts: the server's agent release key as first seen (in
//! `Welcome`), pinned in `<state>/release-key` (0600). A different key is accepted only when
//! the pinned key signed the hand-over (`KeyRotation`); otherwise the pinned key stays and
//! releases signed by the new one are refused. Every release an update installs must carry a
//! valid signature of the pinned key over its version, platform, arch, SHA-256 and size.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bosun_core::agent_release::key_rotation_payload;
use bosun_proto::KeyRotation;
use ed25519_dalek::{Signature, VerifyingKey};

fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("release-key")
}

/// The pinned key (base64), if any.
pub fn pinned(state_dir: &Path) -> Option<String> {
    std::fs::read_to_string(path(state_dir))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Whether `signature_b64` is `key_b64`'s Ed25519 signature over `payload`.
pub fn verify(key_b64: &str, payload: &[u8], signature_b64: &str) -> bool {
    let Some(key) = B64
        .decode(key_b64)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .and_then(|k| VerifyingKey::from_bytes(&k).ok())
    else {
        return false;
    };
    let Some(sig) = B64
        .decode(signature_b64)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
    else {
        return false;
    };
    key.verify_strict(payload, &sig).is_ok()
}

/// What the server's `Welcome` said about its release key, applied: pin it when none is
/// pinned, accept a rotation signed by the pinned key, refuse any other change.
pub fn on_welcome(
    state_dir: &Path,
    key: Option<&str>,
    rotation: Option<&KeyRotation>,
) -> Result<(), String> {
    let Some(key) = key else {
        return Ok(());
    };
    let valid_key = B64
        .decode(key)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .is_some_and(|k| VerifyingKey::from_bytes(&k).is_ok());
    if !valid_key {
        return Err("the server sent a release key that is not an Ed25519 public key".into());
    }
    match pinned(state_dir) {
        Some(current) if current == key => Ok(()),
        None => write(state_dir, key),
        Some(current) => match rotation {
            Some(r)
                if r.previous_key == current
                    && verify(&current, &key_rotation_payload(key), &r.signature) =>
            {
                write(state_dir, key)
            }
            _ => Err(format!(
                "the server's release key changed to {key} without a hand-over signed by the \
                 pinned key {current}; the pinned key is kept and releases signed by the new \
                 key are refused (remove {} to trust the new key)",
                path(state_dir).display()
            )),
        },
    }
}

fn write(state_dir: &Path, key: &str) -> Result<(), String> {
    bosun_fs::write_atomic(&path(state_dir), key.as_bytes(), 0o600)
        .map_err(|e| format!("could not pin the release key: {e}"))?;
    tracing::info!(release_key = %key, "pinned the server's release key");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn public(k: &SigningKey) -> String {
        B64.encode(k.verifying_key().to_bytes())
    }

    #[test]
    fn the_first_key_is_pinned_and_changes_need_its_signature() {
        let dir = tempfile::tempdir().unwrap();
        let (old, new, stranger) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[2; 32]),
            SigningKey::from_bytes(&[3; 32]),
        );
        on_welcome(dir.path(), None, None).unwrap();
        assert_eq!(pinned(dir.path()), None);
        on_welcome(dir.path(), Some(&public(&old)), None).unwrap();
        assert_eq!(pinned(dir.path()), Some(public(&old)));
        // A different key without a hand-over, or one signed by another key, is refused.
        let err = on_welcome(dir.path(), Some(&public(&new)), None).unwrap_err();
        assert!(err.contains("without a hand-over"), "{err}");
        let forged = KeyRotation {
            previous_key: public(&old),
            signature: B64.encode(
                stranger
                    .sign(&key_rotation_payload(&public(&new)))
                    .to_bytes(),
            ),
        };
        assert!(on_welcome(dir.path(), Some(&public(&new)), Some(&forged)).is_err());
        assert_eq!(pinned(dir.path()), Some(public(&old)));
        // Signed by the pinned key: accepted.
        let handed = KeyRotation {
            previous_key: public(&old),
            signature: B64.encode(old.sign(&key_rotation_payload(&public(&new))).to_bytes()),
        };
        on_welcome(dir.path(), Some(&public(&new)), Some(&handed)).unwrap();
        assert_eq!(pinned(dir.path()), Some(public(&new)));
        assert!(on_welcome(dir.path(), Some("not a key"), None).is_err());
    }

    #[test]
    fn signatures_verify_only_for_their_key_and_payload() {
        let k = SigningKey::from_bytes(&[9; 32]);
        let sig = B64.encode(k.sign(b"payload").to_bytes());
        assert!(verify(&public(&k), b"payload", &sig));
        assert!(!verify(&public(&k), b"other", &sig));
        assert!(!verify(
            &public(&SigningKey::from_bytes(&[8; 32])),
            b"payload",
            &sig
        ));
        assert!(!verify(&public(&k), b"payload", ""));
        assert!(!verify(&public(&k), b"payload", "!!"));
    }
}
