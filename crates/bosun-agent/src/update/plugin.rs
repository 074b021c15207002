//! `aws:updateSsmAgent` as a plugin: its inputs are checked up front and it runs as a job of
//! the agent binary under the step's supervisor (see [`super::watchdog`]).

use bosun_core::agent_release::update_spec;
use bosun_core::document::StepPlan;

use crate::plugins::job;
use crate::plugins::{Launch, Plugin, StepContext};

pub struct UpdateSsmAgent;

impl Plugin for UpdateSsmAgent {
    fn action(&self) -> &'static str {
        "aws:updateSsmAgent"
    }

    fn check(&self, plan: &StepPlan) -> Result<(), String> {
        update_spec(&plan.inputs).map(drop)
    }

    fn prepare(&self, plan: &StepPlan, ctx: &StepContext) -> Result<Launch, String> {
        self.check(plan)?;
        job::launch(plan, ctx)
    }
}
