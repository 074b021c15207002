//! AES-256-GCM envelope encryption for SecureString values.
//!
//! Each value gets a fresh 32-byte data key. The value is sealed with the data key; the data
//! key is sealed with a master key. Both seals bind the parameter's ARN and version as
//! associated data, so a ciphertext copied to another parameter or version fails to open.
//! Blob layout (then base64): `BSK1` | key id (36 ASCII) | nonce (12) | sealed data key (48)
//! | nonce (12) | sealed value.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;

use super::MasterKey;
use crate::state::random_bytes;

const MAGIC: &[u8; 4] = b"BSK1";
const ID_LEN: usize = 36;
const NONCE: usize = 12;
const SEALED_KEY: usize = 32 + 16;

/// Why a blob did not open. Carries no key or plaintext material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    Malformed,
    /// The blob names a master key the keyring does not hold.
    UnknownKey(String),
    /// Authentication failed: wrong key, tampered bytes, or another parameter's ciphertext.
    Rejected,
}

fn aad(purpose: &str, arn: &str, version: i64) -> Vec<u8> {
    format!("bosun-ssm-securestring/{purpose}\n{arn}\n{version}").into_bytes()
}

fn cipher(bytes: &[u8; 32]) -> Aes256Gcm {
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes))
}

/// Encrypt `plaintext` for parameter `arn` at `version` under `master`.
pub fn seal(
    master: &MasterKey,
    arn: &str,
    version: i64,
    plaintext: &str,
) -> anyhow::Result<String> {
    let mk = master
        .bytes()
        .ok_or_else(|| anyhow::anyhow!("master key {} has no material", master.key_id))?;
    anyhow::ensure!(master.key_id.len() == ID_LEN, "key ids are 36 characters");
    let data_key: [u8; 32] = random_bytes();
    let (n1, n2): ([u8; NONCE], [u8; NONCE]) = (random_bytes(), random_bytes());
    let sealed_key = cipher(&mk)
        .encrypt(
            Nonce::from_slice(&n1),
            Payload {
                msg: &data_key,
                aad: &aad("key", arn, version),
            },
        )
        .map_err(|_| anyhow::anyhow!("sealing the data key failed"))?;
    let sealed_value = cipher(&data_key)
        .encrypt(
            Nonce::from_slice(&n2),
            Payload {
                msg: plaintext.as_bytes(),
                aad: &aad("value", arn, version),
            },
        )
        .map_err(|_| anyhow::anyhow!("sealing the value failed"))?;
    let mut blob = Vec::with_capacity(4 + ID_LEN + 2 * NONCE + SEALED_KEY + sealed_value.len());
    blob.extend_from_slice(MAGIC);
    blob.extend_from_slice(master.key_id.as_bytes());
    blob.extend_from_slice(&n1);
    blob.extend_from_slice(&sealed_key);
    blob.extend_from_slice(&n2);
    blob.extend_from_slice(&sealed_value);
    Ok(base64::engine::general_purpose::STANDARD.encode(blob))
}

/// The master key id a blob was sealed with.
pub fn key_id_of(blob: &str) -> Result<String, OpenError> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .map_err(|_| OpenError::Malformed)?;
    if raw.len() < 4 + ID_LEN + 2 * NONCE + SEALED_KEY + 16 || &raw[..4] != MAGIC {
        return Err(OpenError::Malformed);
    }
    String::from_utf8(raw[4..4 + ID_LEN].to_vec()).map_err(|_| OpenError::Malformed)
}

/// Decrypt a blob made by [`seal`] for the same `arn` and `version`.
pub fn open(
    find: impl Fn(&str) -> Option<MasterKey>,
    arn: &str,
    version: i64,
    blob: &str,
) -> Result<String, OpenError> {
    let id = key_id_of(blob)?;
    let master = find(&id).ok_or(OpenError::UnknownKey(id))?;
    let mk = master.bytes().ok_or(OpenError::Malformed)?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .map_err(|_| OpenError::Malformed)?;
    let mut at = 4 + ID_LEN;
    let n1 = &raw[at..at + NONCE];
    at += NONCE;
    let sealed_key = &raw[at..at + SEALED_KEY];
    at += SEALED_KEY;
    let n2 = &raw[at..at + NONCE];
    at += NONCE;
    let data_key = cipher(&mk)
        .decrypt(
            Nonce::from_slice(n1),
            Payload {
                msg: sealed_key,
                aad: &aad("key", arn, version),
            },
        )
        .map_err(|_| OpenError::Rejected)?;
    let data_key: [u8; 32] = data_key.try_into().map_err(|_| OpenError::Rejected)?;
    let value = cipher(&data_key)
        .decrypt(
            Nonce::from_slice(n2),
            Payload {
                msg: &raw[at..],
                aad: &aad("value", arn, version),
            },
        )
        .map_err(|_| OpenError::Rejected)?;
    String::from_utf8(value).map_err(|_| OpenError::Rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey {
            key_id: "0f2b3c4d-1111-4222-8333-444455556666".into(),
            aliases: vec![],
            material: hex::encode([7u8; 32]),
            created_ms: 0,
        }
    }

    #[test]
    fn round_trip_and_binding() {
        let k = key();
        let find = |id: &str| (id == k.key_id).then(|| k.clone());
        let arn = "arn:aws:ssm:us-east-1:000000000000:parameter/a";
        let blob = seal(&k, arn, 1, "s3cret").unwrap();
        assert!(!blob.contains("s3cret"));
        assert_ne!(
            blob,
            seal(&k, arn, 1, "s3cret").unwrap(),
            "fresh data key and nonces"
        );
        assert_eq!(open(find, arn, 1, &blob).unwrap(), "s3cret");
        assert_eq!(open(find, arn, 2, &blob), Err(OpenError::Rejected));
        assert_eq!(
            open(
                find,
                "arn:aws:ssm:us-east-1:000000000000:parameter/b",
                1,
                &blob
            ),
            Err(OpenError::Rejected)
        );
        assert_eq!(
            open(|_| None, arn, 1, &blob),
            Err(OpenError::UnknownKey(k.key_id.clone()))
        );
        assert_eq!(open(find, arn, 1, "bm9wZQ=="), Err(OpenError::Malformed));
        let mut raw = base64::engine::general_purpose::STANDARD
            .decode(&blob)
            .unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let tampered = base64::engine::general_purpose::STANDARD.encode(raw);
        assert_eq!(open(find, arn, 1, &tampered), Err(OpenError::Rejected));
    }
}
