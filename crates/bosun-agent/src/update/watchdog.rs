//! The update step itself (`bosun-agent run-plugin` under the step's supervisor, so it
//! outlives the agent it replaces): decide, verify, stage, hand over to the agent, wait for
//! the new agent's health report, and roll back when it does not come. Its exit code is the
//! step's; what happened is printed to the step's output.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bosun_core::agent_release::{
    arch_of, decide, release_payload, update_spec, UpdateDecision, PLATFORM_LINUX,
};
use bosun_core::document::{Attachment, ReleaseFile};
use sha2::{Digest, Sha256};

use super::marker::{self, Marker, Phase};
use crate::plugins::job::Job;

const POLL: Duration = Duration::from_millis(200);

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
    if let Some(m) = marker::read(&state_dir) {
        if !m.step_dir.join(crate::step::EXIT_FILE).exists() && m.step_dir != job.ctx.dir {
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
    let agent = Agent::find(&state_dir)?;
    copy_binary(&exe, &previous)?;
    let m = Marker {
        phase: Phase::Staged,
        target_version: file.version.clone(),
        previous_version: current.to_string(),
        exe: exe.clone(),
        staged: staged.clone(),
        previous: previous.clone(),
        agent_pid: agent.pid,
        step_dir: job.ctx.dir.clone(),
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

/// The running agent: its pid (from `agent.pid`) and start time (which an exec keeps, so the
/// process the agent becomes is recognised and a reused pid is not), and how to start it again.
struct Agent {
    pid: u32,
    start_time: String,
    argv: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    cwd: PathBuf,
}

impl Agent {
    fn find(state_dir: &Path) -> Result<Agent, String> {
        let pid: u32 = std::fs::read_to_string(state_dir.join("agent.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or("the agent's pid file is missing; is the agent running?")?;
        let proc = PathBuf::from(format!("/proc/{pid}"));
        let argv = split_nul(&std::fs::read(proc.join("cmdline")).unwrap_or_default());
        if argv.is_empty() || !argv.iter().any(|a| a == "run") {
            return Err(format!("process {pid} is not a running bosun-agent"));
        }
        let env = split_nul(&std::fs::read(proc.join("environ")).unwrap_or_default())
            .into_iter()
            .filter_map(|kv| {
                let bytes = kv.as_bytes();
                let eq = bytes.iter().position(|b| *b == b'=')?;
                Some((
                    OsString::from(std::ffi::OsStr::from_bytes(&bytes[..eq])),
                    OsString::from(std::ffi::OsStr::from_bytes(&bytes[eq + 1..])),
                ))
            })
            .collect();
        let cwd = std::fs::read_link(proc.join("cwd")).unwrap_or_else(|_| PathBuf::from("/"));
        let (_, start_time) = proc_state(pid).ok_or(format!("process {pid} is gone"))?;
        Ok(Agent {
            pid,
            start_time,
            argv,
            env,
            cwd,
        })
    }

    /// Whether the agent's process still lives (not a zombie), whatever it executes now.
    fn is_running(&self) -> bool {
        match proc_state(self.pid) {
            Some((state, start)) => {
                !matches!(state.as_str(), "Z" | "X") && start == self.start_time
            }
            None => false,
        }
    }
}

/// A process's state letter and start time (`/proc/<pid>/stat` fields 3 and 22).
fn proc_state(pid: u32) -> Option<(String, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some((fields.first()?.to_string(), fields.get(19)?.to_string()))
}

fn split_nul(bytes: &[u8]) -> Vec<OsString> {
    bytes
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| OsString::from(std::ffi::OsStr::from_bytes(s)))
        .collect()
}

/// Wait for a health report of `version` until `timeout`.
fn wait_healthy(state_dir: &Path, version: &str, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(h) = marker::read_health(state_dir) {
            if h.version == version {
                return Ok(());
            }
        }
        if let Ok(why) = std::fs::read_to_string(marker::swap_failed_path(state_dir)) {
            return Err(why.trim().to_string());
        }
        if Instant::now() >= deadline {
            return Err("no health report".into());
        }
        std::thread::sleep(POLL);
    }
}

/// Stop what runs, put the previous binary back, start it, and wait until it is healthy.
fn roll_back(state_dir: &Path, m: &Marker, agent: &Agent, timeout: Duration) -> Result<(), String> {
    let mut m = m.clone();
    m.phase = Phase::RollingBack;
    marker::write(state_dir, &m).map_err(|e| format!("could not record the rollback: {e}"))?;
    let _ = std::fs::remove_file(marker::health_path(state_dir));
    let _ = std::fs::remove_file(marker::swap_failed_path(state_dir));
    if agent.is_running() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(agent.pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        let gone_by = Instant::now() + Duration::from_secs(10);
        while agent.is_running() {
            if Instant::now() >= gone_by {
                return Err(format!("process {} did not stop", agent.pid));
            }
            std::thread::sleep(POLL);
        }
    }
    std::fs::rename(&m.previous, &m.exe).map_err(|e| {
        format!(
            "could not restore {} over {}: {e}",
            m.previous.display(),
            m.exe.display()
        )
    })?;
    let log_path = state_dir.join("agent-restarted.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| format!("could not open {}: {e}", log_path.display()))?;
    let err = log
        .try_clone()
        .map_err(|e| format!("could not open {}: {e}", log_path.display()))?;
    let mut cmd = std::process::Command::new(&m.exe);
    cmd.args(&agent.argv[1..])
        .env_clear()
        .envs(agent.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&agent.cwd)
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(err);
    // SAFETY: setsid is async-signal-safe; the restarted agent leaves this step's session so
    // the supervisor's stop signals never reach it.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(drop)
                .map_err(std::io::Error::from)
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", m.exe.display()))?;
    eprintln!(
        "Restored agent {} and started it again (process {}).",
        m.previous_version,
        child.id()
    );
    // Any report of the previous version counts (the report file was removed above): a
    // service manager may have started the restored binary first, and then ours exits on the
    // state dir's lock.
    wait_healthy(state_dir, &m.previous_version, timeout)
        .map_err(|e| format!("the restored agent did not report healthy either: {e}"))
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
