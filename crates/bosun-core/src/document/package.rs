//! Distributor packages: the schema 2.0 manifest of a `Package` document (user guide, "Create a
//! package", advanced: `schemaVersion`, `version`, `publisher`, `packages` platform → platform
//! version → architecture → `{file}`, `files` name → `{checksums: {sha256}}`), the rules Bosun
//! keeps for it, which of its files are attached, and which entry fits a node. Pure.
//!
//! Rules (refused as `InvalidDocumentContent`): `version` is a version name (1–128 of
//! `[a-zA-Z0-9_.-]`); `packages` names at least one platform and every platform, platform
//! version and architecture level is a non-empty object, ending in `{"file": NAME}` with NAME a
//! key of `files`; every file name is a plain name (no separators, no `.`/`..`, at most 128
//! characters of `[a-zA-Z0-9_.+-]`), at most [`MAX_PACKAGE_FILES`] of them, each with a 64-digit
//! hex `checksums.sha256`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Most files a package version may have (AWS's limit of `Attachments` per request).
pub const MAX_PACKAGE_FILES: usize = 20;
/// Largest attachment file Bosun stores (bytes). AWS takes larger S3 objects; Bosun keeps
/// attachments in its own blob store and holds one in memory while it is uploaded.
pub const MAX_ATTACHMENT_BYTES: u64 = 64 << 20;

/// A validated manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageManifest {
    pub version: String,
    pub publisher: String,
    /// Every platform/version/architecture entry, in the manifest's (sorted) order.
    pub entries: Vec<PlatformEntry>,
    /// File name → lower-case hex SHA-256.
    pub files: BTreeMap<String, String>,
}

/// One leaf of `packages`: the file a platform, platform version and architecture install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformEntry {
    pub platform: String,
    pub platform_version: String,
    pub arch: String,
    pub file: String,
}

/// A package a node reports installed (its name and manifest version).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledPackage {
    pub name: String,
    pub version: String,
}

fn err(msg: impl Into<String>) -> String {
    msg.into()
}

/// Whether `name` may name a package file: a plain file name, never a path.
pub fn file_name_ok(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.+-".contains(&b))
}

fn version_name_ok(v: &str) -> bool {
    (1..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

fn level<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, String> {
    match v.as_object() {
        Some(m) if !m.is_empty() => Ok(m),
        Some(_) => Err(err(format!("{at} has no entries."))),
        None => Err(err(format!("{at} must be an object."))),
    }
}

/// Parse and check a package manifest (the document's content as a JSON value).
pub fn parse_manifest(content: &Value) -> Result<PackageManifest, String> {
    let version = match content.get("version") {
        Some(Value::String(v)) if version_name_ok(v) => v.clone(),
        Some(v) => {
            return Err(err(format!(
                "version {v} must be 1 to 128 characters of letters, digits, _, . and -."
            )))
        }
        None => return Err(err("A package manifest needs a version.")),
    };
    let publisher = match content.get("publisher") {
        None => String::new(),
        Some(Value::String(p)) => p.clone(),
        Some(_) => return Err(err("publisher must be a string.")),
    };
    let files_obj = level(content.get("files").unwrap_or(&Value::Null), "files")?;
    if files_obj.len() > MAX_PACKAGE_FILES {
        return Err(err(format!(
            "files names {} files; a package version has at most {MAX_PACKAGE_FILES}.",
            files_obj.len()
        )));
    }
    let mut files = BTreeMap::new();
    for (name, f) in files_obj {
        if !file_name_ok(name) {
            return Err(err(format!(
                "files: {name:?} is not a file name (1 to 128 characters of letters, digits, \
                 _, ., + and -; no path separators, . or ..)."
            )));
        }
        let sum = f.pointer("/checksums/sha256").and_then(Value::as_str);
        match sum {
            Some(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
                files.insert(name.clone(), s.to_ascii_lowercase());
            }
            Some(_) => {
                return Err(err(format!(
                    "files.{name}.checksums.sha256 must be 64 hexadecimal digits."
                )))
            }
            None => return Err(err(format!("files.{name} needs checksums.sha256."))),
        }
    }
    let packages = level(content.get("packages").unwrap_or(&Value::Null), "packages")?;
    let mut entries = Vec::new();
    for (platform, versions) in packages {
        for (platform_version, arches) in level(versions, &format!("packages.{platform}"))? {
            let at = format!("packages.{platform}.{platform_version}");
            for (arch, leaf) in level(arches, &at)? {
                let at = format!("{at}.{arch}");
                let file = leaf
                    .get("file")
                    .and_then(Value::as_str)
                    .ok_or_else(|| err(format!("{at} needs a file.")))?;
                if !files.contains_key(file) {
                    return Err(err(format!(
                        "{at}.file {file:?} is not one of the manifest's files."
                    )));
                }
                entries.push(PlatformEntry {
                    platform: platform.clone(),
                    platform_version: platform_version.clone(),
                    arch: arch.clone(),
                    file: file.to_string(),
                });
            }
        }
    }
    Ok(PackageManifest {
        version,
        publisher,
        entries,
        files,
    })
}

/// The first manifest file whose hash is not among `available` (hash → size), if any: every
/// file a manifest names must be attached with the same SHA-256.
pub fn missing_attachment<'a>(
    manifest: &'a PackageManifest,
    available: &BTreeMap<String, u64>,
) -> Option<(&'a str, &'a str)> {
    manifest
        .files
        .iter()
        .find(|(_, sum)| !available.contains_key(*sum))
        .map(|(n, s)| (n.as_str(), s.as_str()))
}

/// The Distributor platform name of a Linux distribution's `/etc/os-release` `ID`.
pub fn platform_of_os_id(id: &str) -> String {
    match id {
        "amzn" => "amazon",
        "rhel" => "redhat",
        "sles" | "opensuse-leap" => "suse",
        "ol" => "oracle",
        other => other,
    }
    .to_string()
}

/// The Distributor architecture name of Rust's `std::env::consts::ARCH`.
pub fn arch_of(rust_arch: &str) -> &str {
    match rust_arch {
        "x86" => "i386",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The entry that fits a node: the platform name, then its version, then the architecture,
/// each exact before `_any`.
pub fn select_entry<'a>(
    entries: &'a [PlatformEntry],
    platform: &str,
    platform_version: &str,
    arch: &str,
) -> Option<&'a PlatformEntry> {
    let rank = |value: &str, want: &str| match value {
        v if v == want => Some(0),
        "_any" => Some(1),
        _ => None,
    };
    entries
        .iter()
        .filter_map(|e| {
            Some((
                (
                    rank(&e.platform, platform)?,
                    rank(&e.platform_version, platform_version)?,
                    rank(&e.arch, arch)?,
                ),
                e,
            ))
        })
        .min_by_key(|(r, _)| *r)
        .map(|(_, e)| e)
}

#[cfg(test)]
#[path = "package_tests.rs"]
mod tests;
