//! Plugins that are not scripts run as `bosun-agent run-plugin <job file>` under the step's
//! supervisor, like a script would. The job file holds the step and where it runs, but never
//! the step's environment (it may hold secrets, which reach the process only through its
//! environment). The process's exit code is the step's.

use std::path::Path;

use bosun_core::document::StepPlan;
use serde::{Deserialize, Serialize};

use super::{download, nested, package, sh_quote, Launch, StepContext};

/// The job file's name in the step's folder.
pub const JOB_FILE: &str = "_plugin.json";

/// What `run-plugin` carries out.
#[derive(Debug, Serialize, Deserialize)]
pub struct Job {
    pub plan: StepPlan,
    pub ctx: StepContext,
}

/// The launch of a plugin that the agent binary carries out itself.
pub fn launch(plan: &StepPlan, ctx: &StepContext) -> Result<Launch, String> {
    let mut plan = plan.clone();
    plan.env.clear();
    plan.secret_env.clear();
    let job = Job {
        plan,
        ctx: ctx.clone(),
    };
    let text = serde_json::to_string(&job).map_err(|e| e.to_string())?;
    Ok(Launch {
        script: format!(
            "exec {} run-plugin {}",
            sh_quote(&ctx.agent_exe),
            sh_quote(&ctx.dir.join(JOB_FILE))
        ),
        files: vec![(JOB_FILE, text)],
    })
}

/// `bosun-agent run-plugin <job file>`: carry out the job and return the step's exit code;
/// what went wrong is printed to stderr, which is the step's.
pub fn main(path: &Path) -> i32 {
    let job: Job = match std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(job) => job,
        Err(e) => {
            eprintln!(
                "bosun-agent run-plugin: cannot read {}: {e}",
                path.display()
            );
            return 1;
        }
    };
    let action = job.plan.action.as_str();
    let result = if action.eq_ignore_ascii_case("aws:downloadContent") {
        download::run(&job)
    } else if action.eq_ignore_ascii_case("aws:runDocument") {
        nested::run(&job)
    } else if action.eq_ignore_ascii_case("aws:configurePackage") {
        package::run(&job)
    } else if action.eq_ignore_ascii_case("aws:updateSsmAgent") {
        crate::update::run(&job)
    } else {
        Err(format!("{action} is not a plugin this agent runs itself"))
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}
