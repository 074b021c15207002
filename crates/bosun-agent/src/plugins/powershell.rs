//! `aws:runPowerShellScript`: runs the lines with PowerShell (`pwsh`) when it is installed;
//! otherwise the step fails saying so.

use std::path::PathBuf;

use bosun_core::document::StepPlan;

use super::{find_on_path, sh_quote, Launch, Plugin, StepContext};

pub struct RunPowerShellScript;

const SCRIPT_FILE: &str = "_script.ps1";

impl Plugin for RunPowerShellScript {
    fn action(&self) -> &'static str {
        "aws:runPowerShellScript"
    }

    fn check(&self, _plan: &StepPlan) -> Result<(), String> {
        pwsh().map(drop)
    }

    fn prepare(&self, plan: &StepPlan, ctx: &StepContext) -> Result<Launch, String> {
        let pwsh = pwsh()?;
        let ps1 = ctx.dir.join(SCRIPT_FILE);
        // The shell script only starts PowerShell on the file; paths are quoted for sh.
        // ENV_VAR parameters (and secrets) are referenced as `${SSM_x}` in the planned lines;
        // define PowerShell variables of those names from the environment so the same text works.
        let mut lines: Vec<String> = plan
            .env
            .iter()
            .filter(|(name, _)| name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
            .map(|(name, _)| format!("${{{name}}} = $env:{name}"))
            .collect();
        lines.extend(plan.run_command.iter().cloned());
        Ok(Launch {
            script: format!(
                "exec {} -NoProfile -NonInteractive -File {}",
                sh_quote(&pwsh),
                sh_quote(&ps1)
            ),
            files: vec![(SCRIPT_FILE, lines.join("\n"))],
        })
    }
}

fn pwsh() -> Result<PathBuf, String> {
    find_on_path("pwsh").ok_or_else(|| {
        "PowerShell (pwsh) is not installed on this node, so aws:runPowerShellScript cannot run"
            .to_string()
    })
}
