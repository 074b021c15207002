//! `aws:runShellScript`: the step's lines are the script.

use std::path::Path;

use bosun_core::document::StepPlan;

use super::{Launch, Plugin};

pub struct RunShellScript;

impl Plugin for RunShellScript {
    fn action(&self) -> &'static str {
        "aws:runShellScript"
    }

    fn prepare(&self, plan: &StepPlan, _dir: &Path) -> Result<Launch, String> {
        Ok(Launch {
            script: plan.run_command.join("\n"),
            files: Vec::new(),
        })
    }
}
