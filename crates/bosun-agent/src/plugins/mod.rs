//! Document plugins (`action` of a step), each its own small module behind one trait: a plugin
//! turns a resolved step into what the step supervisor runs. Steps whose plugin is not here fail
//! with a message saying so.

mod powershell;
mod shell;

use std::path::Path;

use bosun_core::document::StepPlan;

/// What the supervisor runs for a step: a `/bin/sh` script, plus files written next to it.
pub struct Launch {
    pub script: String,
    pub files: Vec<(&'static str, String)>,
}

/// One plugin.
pub trait Plugin: Sync {
    /// The `action` it implements, e.g. `aws:runShellScript`.
    fn action(&self) -> &'static str;
    /// Prepare a step (`dir` is its orchestration folder); `Err` explains why it cannot run here.
    fn prepare(&self, plan: &StepPlan, dir: &Path) -> Result<Launch, String>;
}

const PLUGINS: &[&dyn Plugin] = &[&shell::RunShellScript, &powershell::RunPowerShellScript];

/// The plugin for an action.
pub fn plugin_for(action: &str) -> Option<&'static dyn Plugin> {
    PLUGINS
        .iter()
        .copied()
        .find(|p| p.action().eq_ignore_ascii_case(action))
}

/// Find an executable on `PATH`.
pub fn find_on_path(name: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH")?
        .to_string_lossy()
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
