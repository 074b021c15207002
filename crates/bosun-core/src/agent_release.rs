//! Agent releases and agent self-update, the pure rules: release version strings and their
//! order, the platforms and architectures Bosun serves, the exact bytes the server's release
//! key signs for a release, what `aws:updateSsmAgent`'s inputs mean, and what an update does
//! given the running version (`decide`); which release a node gets when no version is named
//! (`pins`: a version pinned for its region or one of its tags, else the default).

use std::cmp::Ordering;

use serde_json::Value;

pub mod pins;

/// The only platform releases exist for.
pub const PLATFORM_LINUX: &str = "linux";

/// The architectures releases exist for (Go/Debian names, as AWS's agent downloads use).
pub const ARCHES: &[&str] = &["amd64", "arm64"];

/// Largest agent binary a release may hold.
pub const MAX_RELEASE_BYTES: u64 = 128 << 20;

/// Longest version string (the agent's version slot holds it).
pub const MAX_VERSION_CHARS: usize = 32;

/// A release version: 2 to 4 dot-separated decimal numbers (`1.2`, `3.3.40.0`), no leading
/// zeros, each below 10^9. Compared number by number, a missing part counting as 0.
#[derive(Debug, Clone)]
pub struct ReleaseVersion {
    parts: Vec<u64>,
    text: String,
}

impl ReleaseVersion {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{text:?} is not a release version: 2 to 4 dot-separated numbers without \
                 leading zeros, such as 1.4.0"
            )
        };
        if text.len() > MAX_VERSION_CHARS {
            return Err(bad());
        }
        let pieces: Vec<&str> = text.split('.').collect();
        if !(2..=4).contains(&pieces.len()) {
            return Err(bad());
        }
        let mut parts = Vec::with_capacity(pieces.len());
        for p in pieces {
            let ok = !p.is_empty()
                && p.len() <= 9
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p == "0" || !p.starts_with('0'));
            if !ok {
                return Err(bad());
            }
            parts.push(p.parse::<u64>().map_err(|_| bad())?);
        }
        Ok(Self {
            parts,
            text: text.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for ReleaseVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ReleaseVersion {}

impl PartialOrd for ReleaseVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ReleaseVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.parts.len().max(other.parts.len());
        for i in 0..n {
            let a = self.parts.get(i).copied().unwrap_or(0);
            let b = other.parts.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        Ordering::Equal
    }
}

/// Whether `arch` is one releases are published for.
pub fn check_arch(arch: &str) -> Result<(), String> {
    if ARCHES.contains(&arch) {
        Ok(())
    } else {
        Err(format!(
            "{arch:?} is not an architecture agent releases are published for ({})",
            ARCHES.join(", ")
        ))
    }
}

/// Whether `platform` is one releases are published for.
pub fn check_platform(platform: &str) -> Result<(), String> {
    if platform == PLATFORM_LINUX {
        Ok(())
    } else {
        Err(format!(
            "{platform:?} is not a platform agent releases are published for (linux)"
        ))
    }
}

/// The architecture name of a Rust target architecture (`std::env::consts::ARCH`).
pub fn arch_of(rust_arch: &str) -> Option<&'static str> {
    match rust_arch {
        "x86_64" => Some("amd64"),
        "aarch64" => Some("arm64"),
        _ => None,
    }
}

/// The bytes the release key signs for one release file: its version, platform, arch, SHA-256
/// and size, so a signature cannot be moved to another version or file.
pub fn release_payload(
    version: &str,
    platform: &str,
    arch: &str,
    sha256_hex: &str,
    size: u64,
) -> Vec<u8> {
    format!("bosun-agent-release/v1\n{version}\n{platform}\n{arch}\n{sha256_hex}\n{size}\n")
        .into_bytes()
}

/// The bytes the old release key signs to hand trust over to a new one.
pub fn key_rotation_payload(new_key_b64: &str) -> Vec<u8> {
    format!("bosun-release-key-rotation/v1\n{new_key_b64}\n").into_bytes()
}

/// The server path an agent downloads a release file from (node-signed GET).
pub fn download_path(version: &str, platform: &str, arch: &str) -> String {
    format!("/v1/agent-releases/{version}/{platform}/{arch}")
}

/// The inputs of an `aws:updateSsmAgent` step, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateSpec {
    /// Empty: the default release.
    pub target_version: String,
    pub allow_downgrade: bool,
}

/// Read `aws:updateSsmAgent`'s inputs: `agentName` and `source` are required by AWS's schema
/// (their values name AWS's agent and manifest; Bosun's releases come from its server), and
/// `allowDowngrade` is `"true"` or `"false"`, `targetVersion` empty or a release version.
pub fn update_spec(inputs: &Value) -> Result<UpdateSpec, String> {
    let text = |k: &str| inputs.get(k).and_then(Value::as_str);
    for required in ["agentName", "source"] {
        if text(required).is_none() {
            return Err(format!("aws:updateSsmAgent needs the input {required}"));
        }
    }
    let allow_downgrade = match text("allowDowngrade") {
        Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(format!(
                "allowDowngrade must be \"true\" or \"false\", not {other:?}"
            ))
        }
        None => return Err("aws:updateSsmAgent needs the input allowDowngrade".into()),
    };
    let target_version = text("targetVersion").unwrap_or("").trim().to_string();
    if !target_version.is_empty() {
        ReleaseVersion::parse(&target_version)?;
    }
    Ok(UpdateSpec {
        target_version,
        allow_downgrade,
    })
}

/// What an update does on a node running `current`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateDecision {
    /// Already at the target: nothing to do, success.
    AlreadyAt,
    /// Install the target.
    Install,
    /// Refused: the target is older and downgrades were not allowed.
    DowngradeRefused(String),
}

/// Decide an update of an agent at `current` to `target`.
pub fn decide(current: &str, target: &str, allow_downgrade: bool) -> UpdateDecision {
    if current == target {
        return UpdateDecision::AlreadyAt;
    }
    match (
        ReleaseVersion::parse(current),
        ReleaseVersion::parse(target),
    ) {
        (Ok(c), Ok(t)) if c == t => UpdateDecision::AlreadyAt,
        (Ok(c), Ok(t)) if t < c && !allow_downgrade => UpdateDecision::DowngradeRefused(format!(
            "the agent is at version {current}, newer than {target}; set allowDowngrade to \
             true to install an older version"
        )),
        _ => UpdateDecision::Install,
    }
}

/// Whether an agent at `agent_version` is at least `latest` (`IsLatestVersion`); versions that
/// do not parse are compared as text.
pub fn is_latest(agent_version: &str, latest: &str) -> bool {
    match (
        ReleaseVersion::parse(agent_version),
        ReleaseVersion::parse(latest),
    ) {
        (Ok(a), Ok(l)) => a >= l,
        _ => agent_version == latest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(s: &str) -> ReleaseVersion {
        ReleaseVersion::parse(s).unwrap()
    }

    #[test]
    fn versions_parse_strictly_and_compare_by_number() {
        for ok in ["0.1", "1.2.3", "3.3.40.0", "10.0.0.999999999"] {
            assert_eq!(v(ok).as_str(), ok);
        }
        for bad in [
            "",
            "1",
            "1.2.3.4.5",
            "1..2",
            "01.2",
            "1.2-rc1",
            "1.2 ",
            "a.b",
            "1.2.3.",
            "-1.2",
            "1.1234567890",
        ] {
            assert!(ReleaseVersion::parse(bad).is_err(), "{bad:?}");
        }
        assert!(v("1.10") > v("1.9"));
        assert!(v("2.0") > v("1.99.99"));
        assert_eq!(v("1.2").cmp(&v("1.2.0")), Ordering::Equal);
        assert!(v("1.2.0.1") > v("1.2"));
    }

    #[test]
    fn update_decisions() {
        assert_eq!(decide("1.2.0", "1.2.0", false), UpdateDecision::AlreadyAt);
        assert_eq!(decide("1.2", "1.2.0", false), UpdateDecision::AlreadyAt);
        assert_eq!(decide("1.2.0", "1.3.0", false), UpdateDecision::Install);
        assert_eq!(decide("1.3.0", "1.2.0", true), UpdateDecision::Install);
        let UpdateDecision::DowngradeRefused(why) = decide("1.3.0", "1.2.0", false) else {
            panic!("a downgrade needs allowDowngrade");
        };
        assert!(why.contains("allowDowngrade"), "{why}");
        // An agent whose version is not a release version can always be updated.
        assert_eq!(decide("dev", "1.0", false), UpdateDecision::Install);
    }

    #[test]
    fn latest_is_at_least_the_default() {
        assert!(is_latest("1.2.0", "1.2.0"));
        assert!(is_latest("1.3.0", "1.2.0"));
        assert!(!is_latest("1.1.9", "1.2.0"));
        assert!(!is_latest("dev", "1.2.0"));
    }

    #[test]
    fn update_inputs_are_checked() {
        let inputs = json!({"agentName": "bosun-agent", "source": "bosun", "allowDowngrade": "false", "targetVersion": ""});
        assert_eq!(
            update_spec(&inputs).unwrap(),
            UpdateSpec {
                target_version: String::new(),
                allow_downgrade: false
            }
        );
        let mut with = inputs.clone();
        with["targetVersion"] = json!("2.0.1");
        with["allowDowngrade"] = json!("true");
        assert_eq!(update_spec(&with).unwrap().target_version, "2.0.1");
        with["targetVersion"] = json!("latest");
        assert!(update_spec(&with).is_err());
        with["targetVersion"] = json!("2.0.1");
        with["allowDowngrade"] = json!("yes");
        assert!(update_spec(&with).unwrap_err().contains("allowDowngrade"));
        assert!(update_spec(&json!({"source": "x", "allowDowngrade": "false"})).is_err());
    }

    #[test]
    fn payloads_bind_every_field() {
        let a = release_payload("1.0", "linux", "amd64", "ab", 3);
        assert_ne!(a, release_payload("1.1", "linux", "amd64", "ab", 3));
        assert_ne!(a, release_payload("1.0", "linux", "arm64", "ab", 3));
        assert_ne!(a, release_payload("1.0", "linux", "amd64", "ab", 4));
        assert_eq!(
            download_path("1.0", "linux", "amd64"),
            "/v1/agent-releases/1.0/linux/amd64"
        );
        assert!(check_arch("amd64").is_ok() && check_arch("x86").is_err());
        assert!(check_platform("linux").is_ok() && check_platform("windows").is_err());
        assert_eq!(arch_of("x86_64"), Some("amd64"));
    }
}
