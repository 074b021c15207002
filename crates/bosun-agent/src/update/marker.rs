//! The files an update keeps in the agent's state dir: the marker (`update.json`, written
//! before the swap), the new agent's health report (`update-health.json`), and why a swap
//! failed (`update-swap-failed`).

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
