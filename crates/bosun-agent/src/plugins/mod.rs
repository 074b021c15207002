//! Document plugins (`action` of a step), each its own small module behind one trait: a plugin
//! turns a resolved step into what the step supervisor runs. Script plugins hand it a shell
//! script; the others (`aws:downloadContent`, `aws:runDocument`,
//! `aws:configurePackage`) hand it a job file that the
//! agent binary itself carries out under the supervisor (`bosun-agent run-plugin`, see [`job`]),
//! so timeouts, cancellation and surviving an agent restart work the same for every plugin.
//! Steps whose plugin is not here fail with a message saying so.

mod download;
pub(crate) mod fetch;
pub mod job;
mod nested;
mod package;
pub mod package_files;
mod powershell;
mod shell;

use std::path::{Path, PathBuf};

use bosun_core::document::{PlatformType, StepPlan};
use serde::{Deserialize, Serialize};

/// What the supervisor runs for a step: a `/bin/sh` script, plus files written next to it.
pub struct Launch {
    pub script: String,
    pub files: Vec<(&'static str, String)>,
}

/// Where a step runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepContext {
    /// The step's own folder (the launch's files are written here).
    pub dir: PathBuf,
    /// The command's download folder: where `aws:downloadContent` saves by default, where
    /// relative paths of plugins point, and the working directory of steps that name none.
    pub downloads: PathBuf,
    /// This agent's binary (plugins that are not scripts run it).
    pub agent_exe: PathBuf,
    /// How many `aws:runDocument` levels are above this step.
    pub depth: u32,
    /// `Agent.MaxDownloadMegabytes`, in bytes.
    pub max_download_bytes: u64,
    /// The agent's state dir (identity for signed downloads, pinned release key, update
    /// marker, installed packages).
    #[serde(default)]
    pub state_dir: PathBuf,
    /// `Agent.UpdateHealthTimeoutSeconds`.
    #[serde(default)]
    pub update_health_timeout_secs: u64,
}

/// One plugin.
pub trait Plugin: Sync {
    /// The `action` it implements, e.g. `aws:runShellScript`.
    fn action(&self) -> &'static str;
    /// Why the step cannot run on this node, decided before anything starts.
    fn check(&self, _plan: &StepPlan) -> Result<(), String> {
        Ok(())
    }
    /// Prepare a step; `Err` explains why it cannot run here.
    fn prepare(&self, plan: &StepPlan, ctx: &StepContext) -> Result<Launch, String>;
}

const PLUGINS: &[&dyn Plugin] = &[
    &shell::RunShellScript,
    &powershell::RunPowerShellScript,
    &download::DownloadContent,
    &nested::RunDocument,
    &package::ConfigurePackage,
    &crate::update::UpdateSsmAgent,
];

/// The plugin for an action.
pub fn plugin_for(action: &str) -> Option<&'static dyn Plugin> {
    PLUGINS
        .iter()
        .copied()
        .find(|p| p.action().eq_ignore_ascii_case(action))
}

/// Why a step cannot run here: no such plugin, or the plugin's own check.
pub fn unavailable(plan: &StepPlan) -> Option<String> {
    match plugin_for(&plan.action) {
        None => Some(format!(
            "the {} plugin is not supported by this agent yet",
            plan.action
        )),
        Some(p) => p.check(plan).err(),
    }
}

/// Why this node must not run a step: the server's precondition verdict, or a plugin that does
/// not run on Linux.
pub fn skip_reason(plan: &StepPlan) -> Option<String> {
    if let Some(why) = &plan.skip_reason {
        return Some(why.clone());
    }
    if !plan.platforms.is_empty() && !plan.platforms.contains(&PlatformType::Linux) {
        return Some(format!(
            "Step execution skipped: {} does not run on Linux",
            plan.action
        ));
    }
    None
}

/// The working directory of a step: `workingDirectory` if absolute, else under the command's
/// download folder (which is also the default).
pub fn working_directory(plan: &StepPlan, downloads: &Path) -> PathBuf {
    let w = plan.working_directory.trim();
    if Path::new(w).is_absolute() {
        PathBuf::from(w)
    } else {
        downloads.join(w)
    }
}

/// A path quoted for `/bin/sh`.
pub fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.to_string_lossy().replace('\'', "'\\''"))
}

/// Find an executable on `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH")?
        .to_string_lossy()
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
