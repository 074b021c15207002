//! The running agent's part of an update: when the watchdog has staged a verified binary for
//! this process, drain (take the command gate, so no delivery is accepted and no step starts
//! halfway), rename the staged binary over our own, record the swap, and re-execute (same PID,
//! same arguments, same environment). On failure the reason is written for the watchdog and
//! the agent exits, so the watchdog's rollback starts the previous binary cleanly.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::marker::{self, Phase};
use crate::commands::CommandService;

const POLL: Duration = Duration::from_millis(250);

/// Watch for a staged update of this process.
pub fn spawn(state_dir: PathBuf, exe: PathBuf, commands: Arc<CommandService>) {
    tokio::spawn(async move {
        let me = std::process::id();
        let mut tick = tokio::time::interval(POLL);
        loop {
            tick.tick().await;
            let Some(m) = marker::read(&state_dir) else {
                continue;
            };
            if m.phase != Phase::Staged || m.agent_pid != me {
                continue;
            }
            if m.stale_reason().is_some() {
                // The update step ended (cancelled, timed out, killed) before the swap:
                // without its watchdog there would be no rollback, so the update does not go on.
                tracing::warn!(version = %m.target_version, "the update's watchdog is gone; not swapping");
                super::stale::settle(&state_dir, crate::agent_version());
                continue;
            }
            tracing::info!(version = %m.target_version, "draining for the agent update");
            let _gate = commands.drain().await;
            let why = swap_and_exec(&state_dir, m, &exe);
            tracing::error!(error = %why, "the agent update could not swap binaries");
            let _ = bosun_fs::write_atomic(
                &marker::swap_failed_path(&state_dir),
                why.as_bytes(),
                0o600,
            );
            std::process::exit(1);
        }
    });
}

/// Swap and re-execute; returns only why it failed.
fn swap_and_exec(state_dir: &Path, mut m: marker::Marker, exe: &Path) -> String {
    if m.exe != exe {
        return format!(
            "the update replaces {}, but this agent runs {}",
            m.exe.display(),
            exe.display()
        );
    }
    if let Err(e) = std::fs::rename(&m.staged, exe) {
        return format!(
            "could not move {} over {}: {e}",
            m.staged.display(),
            exe.display()
        );
    }
    if let Some(dir) = exe.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    m.phase = Phase::Swapped;
    if let Err(e) = marker::write(state_dir, &m) {
        return format!("could not record the swap: {e}");
    }
    tracing::info!(version = %m.target_version, "re-executing as the new agent");
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let e = std::process::Command::new(exe).args(args).exec();
    format!("could not start the new agent {}: {e}", exe.display())
}
