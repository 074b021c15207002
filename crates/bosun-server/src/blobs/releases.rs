//! Agent release binaries in the blob store: `agent-releases/<version>/<platform>/<arch>/<sha256>`,
//! one object per content, written durably before the release row is stored (so a listed
//! release always has its bytes, and two racing publications of one version with different
//! content never overwrite each other's bytes). Keys are built only from checked parts.

use bosun_core::agent_release::{check_arch, check_platform, ReleaseVersion};
use bytes::Bytes;

use super::{BlobError, Blobs};

fn key(version: &str, platform: &str, arch: &str, sha256: &str) -> Result<String, BlobError> {
    let hex = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
    if ReleaseVersion::parse(version).is_err()
        || check_platform(platform).is_err()
        || check_arch(arch).is_err()
        || !hex
    {
        return Err(BlobError::BadLocation);
    }
    Ok(format!(
        "agent-releases/{version}/{platform}/{arch}/{sha256}"
    ))
}

impl Blobs {
    /// Store a release's bytes (durably).
    pub fn put_release(
        &self,
        version: &str,
        platform: &str,
        arch: &str,
        sha256: &str,
        data: Bytes,
    ) -> Result<(), BlobError> {
        self.backend
            .put(&key(version, platform, arch, sha256)?, data, true)
    }

    /// A release's bytes; `None` when they are not stored.
    pub fn get_release(
        &self,
        version: &str,
        platform: &str,
        arch: &str,
        sha256: &str,
    ) -> Result<Option<Bytes>, BlobError> {
        self.backend.get(&key(version, platform, arch, sha256)?)
    }
}
