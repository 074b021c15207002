//! AES-256-GCM envelope encryption for SecureString values (and access-key secrets at rest).
//!
//! Each value gets a fresh 32-byte data key. The value is sealed with the data key; the data
//! key is sealed with a master key. Both seals bind what the value belongs to as associated
//! data — a domain (what kind of secret) and a subject (for a parameter its ARN and version) —
//! so a ciphertext copied to another parameter, version or kind of secret fails to open.
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

const SECURE_STRING: &str = "bosun-ssm-securestring";

fn aad(domain: &str, purpose: &str, subject: &str) -> Vec<u8> {
    format!("{domain}/{purpose}\n{subject}").into_bytes()
}

fn parameter_subject(arn: &str, version: i64) -> String {
    format!("{arn}\n{version}")
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
    seal_bound(
        master,
        SECURE_STRING,
        &parameter_subject(arn, version),
        plaintext,
    )
}

/// Encrypt `plaintext` under `master`, bound to `domain` and `subject`.
pub fn seal_bound(
    master: &MasterKey,
    domain: &str,
    subject: &str,
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
                aad: &aad(domain, "key", subject),
            },
        )
        .map_err(|_| anyhow::anyhow!("sealing the data key failed"))?;
    let sealed_value = cipher(&data_key)
        .encrypt(
            Nonce::from_slice(&n2),
            Payload {
                msg: plaintext.as_bytes(),
                aad: &aad(domain, "value", subject),
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
    open_bound(find, SECURE_STRING, &parameter_subject(arn, version), blob)
}

/// Decrypt a blob made by [`seal_bound`] for the same `domain` and `subject`.
pub fn open_bound(
    find: impl Fn(&str) -> Option<MasterKey>,
    domain: &str,
    subject: &str,
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
                aad: &aad(domain, "key", subject),
            },
        )
        .map_err(|_| OpenError::Rejected)?;
    let data_key: [u8; 32] = data_key.try_into().map_err(|_| OpenError::Rejected)?;
    let value = cipher(&data_key)
        .decrypt(
            Nonce::from_slice(n2),
            Payload {
                msg: &raw[at..],
                aad: &aad(domain, "value", subject),
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

    #[test]
    fn the_domain_is_bound_too() {
        let k = key();
        let find = |id: &str| (id == k.key_id).then(|| k.clone());
        let arn = "arn:aws:ssm:us-east-1:000000000000:parameter/a";
        let blob = seal(&k, arn, 1, "s3cret").unwrap();
        let subject = format!("{arn}\n1");
        assert_eq!(
            open_bound(find, SECURE_STRING, &subject, &blob).unwrap(),
            "s3cret",
            "seal is seal_bound in the SecureString domain (existing blobs still open)"
        );
        assert_eq!(
            open_bound(find, "bosun-access-key", &subject, &blob),
            Err(OpenError::Rejected)
        );
        let other = seal_bound(&k, "bosun-access-key", "AKIAEXAMPLE", "s3cret").unwrap();
        assert_eq!(
            open_bound(find, "bosun-access-key", "AKIAEXAMPLE", &other).unwrap(),
            "s3cret"
        );
        assert_eq!(
            open_bound(find, "bosun-access-key", "AKIAOTHER", &other),
            Err(OpenError::Rejected)
        );
    }
}
