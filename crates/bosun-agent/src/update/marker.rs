//! The files an update keeps in the agent's state dir: the marker (`update.json`, written
//! before the swap), the new agent's health report (`update-health.json`), and why a swap
//! failed (`update-swap-failed`). The marker names the watchdog (the update step's process,
//! with its start time) and the boot it runs in, so a marker whose watchdog is gone — killed,
//! or the node restarted — is recognised as stale and settled (`stale.rs`) instead of
//! blocking every later update.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Staged and verified: the agent may drain, swap and re-execute.
    Staged,
    /// The agent renamed the staged binary over its own and is re-executing.
    Swapped,
    /// The watchdog restored the previous binary and restarted it.
    RollingBack,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Marker {
    pub phase: Phase,
    pub target_version: String,
    pub previous_version: String,
    /// The agent's binary (replaced by the swap).
    pub exe: PathBuf,
    /// The verified new binary, next to `exe`.
    pub staged: PathBuf,
    /// A copy of the binary the agent ran before the update.
    pub previous: PathBuf,
    /// The agent process being updated.
    pub agent_pid: u32,
    /// The update step's folder (its `exit.json` tells that the update is over).
    pub step_dir: PathBuf,
    /// The watchdog's process id and start time (`/proc/<pid>/stat` field 22, which tells a
    /// reused pid apart); 0 in markers written before they were recorded.
    #[serde(default)]
    pub watchdog_pid: u32,
    #[serde(default)]
    pub watchdog_start: String,
    /// `/proc/sys/kernel/random/boot_id` when the marker was written.
    #[serde(default)]
    pub boot_id: String,
}

impl Marker {
    /// Why this marker's update can no longer be carried on by its watchdog, if it cannot.
    pub fn stale_reason(&self) -> Option<String> {
        if !self.boot_id.is_empty() && self.boot_id != boot_id() {
            return Some("the node restarted since the update began".into());
        }
        if self.step_dir.join(crate::step::EXIT_FILE).exists() {
            return Some("the update's step has ended".into());
        }
        if self.watchdog_pid != 0 {
            let alive = proc_state(self.watchdog_pid).is_some_and(|(state, start)| {
                !matches!(state.as_str(), "Z" | "X") && start == self.watchdog_start
            });
            if !alive {
                return Some(format!(
                    "its watchdog (process {}) is gone",
                    self.watchdog_pid
                ));
            }
        } else if !self.step_dir.exists() {
            return Some("the update's step folder is gone".into());
        }
        None
    }
}

/// This boot's id (empty where the kernel does not tell).
pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// A process's state letter and start time (`/proc/<pid>/stat` fields 3 and 22).
pub(crate) fn proc_state(pid: u32) -> Option<(String, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some((fields.first()?.to_string(), fields.get(19)?.to_string()))
}

/// What a newly started agent reports once the server accepted it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    pub version: String,
    pub pid: u32,
}

pub fn marker_path(state_dir: &Path) -> PathBuf {
    state_dir.join("update.json")
}

pub fn health_path(state_dir: &Path) -> PathBuf {
    state_dir.join("update-health.json")
}

pub fn swap_failed_path(state_dir: &Path) -> PathBuf {
    state_dir.join("update-swap-failed")
}

pub fn read(state_dir: &Path) -> Option<Marker> {
    let bytes = std::fs::read(marker_path(state_dir)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub fn write(state_dir: &Path, m: &Marker) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(m).map_err(std::io::Error::other)?;
    bosun_fs::write_atomic(&marker_path(state_dir), &bytes, 0o600)
}

pub fn read_health(state_dir: &Path) -> Option<Health> {
    let bytes = std::fs::read(health_path(state_dir)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Remove the update's files (the update is over).
pub fn clear(state_dir: &Path) {
    for p in [
        health_path(state_dir),
        swap_failed_path(state_dir),
        marker_path(state_dir),
    ] {
        let _ = std::fs::remove_file(p);
    }
}
