//! Agent self-update (`aws:updateSsmAgent`, issue 19). The step runs under its supervisor as
//! `bosun-agent run-plugin` (`watchdog.rs`), so it outlives the agent it replaces: it checks the
//! release (version rules, the pinned release key's signature, then the downloaded bytes'
//! SHA-256 and size), stages the binary next to the current one (0755), keeps the current one
//! as `<bin>.previous`, and writes the update marker (`<state>/update.json`) before anything
//! is swapped. The running agent sees the marker (`swap.rs`), drains (no delivery is accepted
//! and no step starts while it holds the gate; running steps go on under their supervisors),
//! renames the staged binary over its own and re-executes itself (same PID, same arguments).
//! The new agent writes `<state>/update-health.json` once the server has accepted it
//! (`on_connected`); the watchdog waits for that with the new version until
//! `Agent.UpdateHealthTimeoutSeconds`, else kills what runs, restores `<bin>.previous`,
//! starts it and fails the step saying why. Either agent then re-attaches to the step's
//! supervisor and reports the command's outcome. A marker whose watchdog is gone (killed, or
//! the node restarted) is settled as the watchdog would have (`stale.rs`) when the agent
//! starts and before the next update, so it never blocks later updates.

pub mod marker;
mod plugin;
mod rollback;
pub mod stale;
pub mod swap;
mod watchdog;

use std::path::Path;

pub use plugin::UpdateSsmAgent;
pub use watchdog::run;

/// After the server accepted this agent: report health to an update in progress.
pub fn on_connected(state_dir: &Path) {
    if marker::read(state_dir).is_none() {
        return;
    }
    let health = marker::Health {
        version: crate::agent_version().to_string(),
        pid: std::process::id(),
    };
    match serde_json::to_vec(&health) {
        Ok(bytes) => {
            if let Err(e) = bosun_fs::write_atomic(&marker::health_path(state_dir), &bytes, 0o600) {
                tracing::error!(error = %e, "could not report health to the agent update");
            } else {
                tracing::info!(version = %health.version, "reported healthy to the agent update");
            }
        }
        Err(e) => tracing::error!(error = %e, "could not encode the health report"),
    }
}

/// Hold `<state>/agent.lock` for this process's life (so a restarted agent and one started
/// by a service manager never run on one state dir together) and write `<state>/agent.pid`.
/// The lock's descriptor closes on exec, so a re-executed agent takes it again.
pub fn claim_state_dir(state_dir: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    use nix::fcntl::{Flock, FlockArg};
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let path = state_dir.join("agent.lock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let lock = loop {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        // A lock file an older agent created under a looser umask is tightened too.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", path.display()))?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => break lock,
            Err((_, e)) if std::time::Instant::now() < deadline => {
                tracing::debug!(error = %e, "the state dir is locked; waiting");
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            Err((_, e)) => anyhow::bail!(
                "another bosun-agent runs on {} (its lock {} is held: {e})",
                state_dir.display(),
                path.display()
            ),
        }
    };
    std::mem::forget(lock);
    bosun_fs::write_atomic(
        &state_dir.join("agent.pid"),
        std::process::id().to_string().as_bytes(),
        0o600,
    )
    .with_context(|| "writing agent.pid")?;
    Ok(())
}
