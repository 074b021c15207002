//! `aws:runShellScript`: the step's lines are the script.

use bosun_core::document::StepPlan;

use super::{Launch, Plugin, StepContext};

pub struct RunShellScript;

impl Plugin for RunShellScript {
    fn action(&self) -> &'static str {
        "aws:runShellScript"
    }

    fn prepare(&self, plan: &StepPlan, _ctx: &StepContext) -> Result<Launch, String> {
        Ok(Launch {
            script: plan.run_command.join("\n"),
            files: Vec::new(),
        })
    }
}
