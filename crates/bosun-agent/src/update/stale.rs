//! Settling an update marker whose watchdog is gone (killed, or the node restarted): the
//! marker would otherwise refuse every later update as "in progress" until removed by hand.
//! What is settled is what the watchdog would have done from the marker's phase:
//! - `staged`: nothing was swapped, so the update is abandoned — the staged binary removed;
//! - `swapped`: the new binary is in place; if the agent running now reports the target
//!   version the update is rolled forward (done), else `<bin>.previous` is put back, which
//!   the agent runs from its next start;
//! - `rolling_back`: the previous binary is put back if it is not yet.
//!
//! Then the marker and its files are removed, and what was done is logged.

use std::path::Path;

use super::marker::{self, Phase};

/// Settle a stale marker in `state_dir`, seen by a process of agent version `running`;
/// returns what was done, `None` when there is no marker or its watchdog still runs.
pub fn settle(state_dir: &Path, running: &str) -> Option<String> {
    let m = marker::read(state_dir)?;
    let why = m.stale_reason()?;
    let restore = || match std::fs::rename(&m.previous, &m.exe) {
        Ok(()) => format!(
            "put {} back as {} (it runs from the agent's next start)",
            m.previous_version,
            m.exe.display()
        ),
        Err(e) => format!(
            "could not put {} back over {}: {e}",
            m.previous.display(),
            m.exe.display()
        ),
    };
    let done = match m.phase {
        Phase::Staged => {
            let _ = std::fs::remove_file(&m.staged);
            format!(
                "abandoned the update to {} before its swap (removed {})",
                m.target_version,
                m.staged.display()
            )
        }
        Phase::Swapped if running == m.target_version => format!(
            "rolled the update to {} forward: this agent runs it",
            m.target_version
        ),
        Phase::Swapped => format!(
            "rolled the update to {} back: this agent reports {running}; {}",
            m.target_version,
            restore()
        ),
        Phase::RollingBack if m.previous.exists() => format!(
            "finished the rollback from {}: {}",
            m.target_version,
            restore()
        ),
        Phase::RollingBack => format!(
            "the rollback from {} to {} had finished",
            m.target_version, m.previous_version
        ),
    };
    marker::clear(state_dir);
    let what = format!("a stale agent update marker was settled ({why}): {done}");
    tracing::warn!("{what}");
    Some(what)
}

#[cfg(test)]
#[path = "stale_tests.rs"]
mod tests;
