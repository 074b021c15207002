//! The update step itself (`bosun-agent run-plugin` under the step's supervisor, so it
//! outlives the agent it replaces): decide, verify, stage, hand over to the agent, wait for
//! the new agent's health report, and roll back when it does not come. Its exit code is the
//! step's; what happened is printed to the step's output.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bosun_core::agent_release::{
    arch_of, decide, release_payload, update_spec, UpdateDecision, PLATFORM_LINUX,
};
use bosun_core::document::{Attachment, ReleaseFile};
use sha2::{Digest, Sha256};

use super::marker::{self, Marker, Phase};
use super::rollback::{roll_back, wait_healthy, Agent};
use crate::plugins::job::Job;

/// Carry out the step; `Ok(code)` or `Err(why)` (printed to stderr, exit code 1).
pub fn run(job: &Job) -> Result<i32, String> {
    let spec = update_spec(&job.plan.inputs)?;
    let state_dir = job.ctx.state_dir.clone();
    if state_dir.as_os_str().is_empty() {
        return Err("this step was prepared by an agent without update support".into());
    }
    let Some(Attachment::AgentRelease { files, .. }) = &job.plan.attachment else {
        return Err(
            "the server attached no agent release to this step; it is resolved when the command \
             is sent"
                .into(),
        );
    };
    if files.is_empty() {
        return Err(
            "no agent release applies to this node: no version was named, no pin of its \
                    region or tags applies to it and no default release is set (bosun \
                    agent-release default, or pin)"
                .into(),
        );
    }
    let arch = arch_of(std::env::consts::ARCH)
        .ok_or_else(|| format!("no agent releases exist for {}", std::env::consts::ARCH))?;
    let file = files
        .iter()
        .find(|f| f.platform == PLATFORM_LINUX && f.arch == arch)
        .ok_or_else(|| {
            format!(
                "agent release {} has no file for {PLATFORM_LINUX}/{arch}",
                files.first().map(|f| f.version.as_str()).unwrap_or("?")
            )
        })?;
    let current = crate::agent_version();
    match decide(current, &file.version, spec.allow_downgrade) {
        UpdateDecision::AlreadyAt => {
            println!(
                "The agent is already at version {}; nothing to do.",
                file.version
            );
            return Ok(0);
        }
        UpdateDecision::DowngradeRefused(why) => return Err(why),
        UpdateDecision::Install => {}
    }
    if let Some(done) = super::stale::settle(&state_dir, current) {
        println!("{done}");
    }
    if let Some(m) = marker::read(&state_dir) {
        if m.step_dir != job.ctx.dir {
            return Err(format!(
                "another agent update (to {}) is in progress",
                m.target_version
            ));
        }
        marker::clear(&state_dir);
    }
    verify_signature(&state_dir, file)?;
    let exe = job.ctx.agent_exe.clone();
    let staged = sibling(&exe, "new");
    let previous = sibling(&exe, "previous");
    download(&state_dir, file, &staged)?;
    println!(
        "Downloaded agent {} for {PLATFORM_LINUX}/{arch} ({} bytes, sha256 {}); its hash and \
         signature check out.",
        file.version, file.size, file.sha256
    );
    let found = Agent::find(&state_dir).and_then(|a| copy_binary(&exe, &previous).map(|()| a));
    let agent = found.inspect_err(|_| {
        let _ = std::fs::remove_file(&staged);
    })?;
    let m = Marker {
        phase: Phase::Staged,
        target_version: file.version.clone(),
        previous_version: current.to_string(),
        exe: exe.clone(),
        staged: staged.clone(),
        previous: previous.clone(),
        agent_pid: agent.pid,
        step_dir: job.ctx.dir.clone(),
        watchdog_pid: std::process::id(),
        watchdog_start: marker::proc_state(std::process::id())
            .map(|(_, start)| start)
            .unwrap_or_default(),
        boot_id: marker::boot_id(),
    };
    let _ = std::fs::remove_file(marker::health_path(&state_dir));
    marker::write(&state_dir, &m).map_err(|e| format!("could not record the update: {e}"))?;
    println!(
        "Updating the agent from {current} to {}: the agent drains, swaps and restarts.",
        file.version
    );
    let timeout = Duration::from_secs(job.ctx.update_health_timeout_secs.max(1));
    let outcome = wait_healthy(&state_dir, &file.version, timeout);
    match outcome {
        Ok(()) => {
            marker::clear(&state_dir);
            println!(
                "The agent was updated from {current} to {} and reported healthy.",
                file.version
            );
            Ok(0)
        }
        Err(why) => {
            let rolled = roll_back(&state_dir, &m, &agent, timeout);
            marker::clear(&state_dir);
            let _ = std::fs::remove_file(&staged);
            let what = format!(
                "the new agent {} did not report healthy within {} s ({why}); ",
                file.version,
                timeout.as_secs()
            );
            Err(match rolled {
                Ok(()) => format!("{what}rolled back to {current}"),
                Err(e) => format!("{what}the rollback to {current} failed: {e}"),
            })
        }
    }
}

/// `<bin>.<suffix>` in the binary's folder (so renames stay on one file system).
fn sibling(exe: &Path, suffix: &str) -> PathBuf {
    let mut name = exe.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    exe.with_file_name(name)
}

fn verify_signature(state_dir: &Path, f: &ReleaseFile) -> Result<(), String> {
    let key = crate::release_key::pinned(state_dir).ok_or(
        "no release key is pinned on this node (it has not connected to a server that sends \
         one); nothing was installed",
    )?;
    let payload = release_payload(&f.version, &f.platform, &f.arch, &f.sha256, f.size);
    if f.signature.is_empty() {
        return Err(format!(
            "agent release {} is not signed; nothing was installed",
            f.version
        ));
    }
    if !crate::release_key::verify(&key, &payload, &f.signature) {
        return Err(format!(
            "the signature of agent release {} does not verify against the pinned release key; \
             nothing was installed",
            f.version
        ));
    }
    Ok(())
}

/// Download into `staged` (0755) and check size and SHA-256; nothing is left on a mismatch.
fn download(state_dir: &Path, f: &ReleaseFile, staged: &Path) -> Result<(), String> {
    let identity = crate::identity::Identity::load(state_dir).map_err(|e| e.to_string())?;
    let servers: Vec<String> = crate::server_urls(&identity.server)
        .into_iter()
        .map(String::from)
        .collect();
    let now = jiff::Timestamp::now().as_second();
    let written =
        crate::server_get::download(&identity, &servers, &f.path, staged, f.size, 0o755, now)?;
    let digest = match std::fs::File::open(staged) {
        Ok(mut file) => {
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1 << 16];
            loop {
                match file.read(&mut buf) {
                    Ok(0) => break Ok(hex::encode(hasher.finalize())),
                    Ok(n) => hasher.update(&buf[..n]),
                    Err(e) => break Err(e.to_string()),
                }
            }
        }
        Err(e) => Err(e.to_string()),
    };
    let refuse = |why: String| {
        let _ = std::fs::remove_file(staged);
        Err(why)
    };
    match digest {
        Err(e) => refuse(format!("could not read the downloaded release: {e}")),
        Ok(_) if written != f.size => refuse(format!(
            "the downloaded release has {written} bytes, not the {} it was published with; \
             nothing was installed",
            f.size
        )),
        Ok(d) if d != f.sha256 => refuse(format!(
            "the downloaded release's sha256 is {d}, not the published {}; nothing was installed",
            f.sha256
        )),
        Ok(_) => Ok(()),
    }
}

/// Copy the running binary to `<bin>.previous` (0755, atomically).
fn copy_binary(exe: &Path, previous: &Path) -> Result<(), String> {
    let mut from =
        std::fs::File::open(exe).map_err(|e| format!("could not read {}: {e}", exe.display()))?;
    bosun_fs::write_atomic_with(previous, 0o755, |f| std::io::copy(&mut from, f))
        .map(drop)
        .map_err(|e| {
            format!(
                "could not keep the current agent as {}: {e}",
                previous.display()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine;
    use ed25519_dalek::{Signer, SigningKey};

    fn file(signature: String) -> ReleaseFile {
        ReleaseFile {
            version: "1.2.0".into(),
            platform: "linux".into(),
            arch: "amd64".into(),
            sha256: "ab".repeat(32),
            size: 10,
            signature,
            path: "/v1/agent-releases/1.2.0/linux/amd64".into(),
        }
    }

    #[test]
    fn releases_must_be_signed_by_the_pinned_key_over_their_own_fields() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[5; 32]);
        let f = file(String::new());
        // Nothing pinned yet: refused.
        assert!(verify_signature(dir.path(), &f)
            .unwrap_err()
            .contains("no release key is pinned"));
        let public = B64.encode(key.verifying_key().to_bytes());
        crate::release_key::on_welcome(dir.path(), Some(&public), None).unwrap();
        assert!(verify_signature(dir.path(), &f)
            .unwrap_err()
            .contains("is not signed"));
        let payload = release_payload(&f.version, &f.platform, &f.arch, &f.sha256, f.size);
        let good = file(B64.encode(key.sign(&payload).to_bytes()));
        verify_signature(dir.path(), &good).unwrap();
        // The same signature on another version, or by another key: refused.
        let mut moved = good.clone();
        moved.version = "1.3.0".into();
        assert!(verify_signature(dir.path(), &moved)
            .unwrap_err()
            .contains("does not verify against the pinned release key"));
        let other = SigningKey::from_bytes(&[6; 32]);
        let forged = file(B64.encode(other.sign(&payload).to_bytes()));
        assert!(verify_signature(dir.path(), &forged).is_err());
    }

    #[test]
    fn siblings_stay_in_the_binarys_folder() {
        let exe = Path::new("/opt/bosun/bosun-agent");
        assert_eq!(
            sibling(exe, "previous"),
            Path::new("/opt/bosun/bosun-agent.previous")
        );
        assert_eq!(sibling(exe, "new"), Path::new("/opt/bosun/bosun-agent.new"));
    }
}
