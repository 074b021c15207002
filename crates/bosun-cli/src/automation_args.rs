//! `bosun automation …` flags: start runbooks, follow and list their executions, approve,
//! resume, signal and stop them.

use clap::{Args, Subcommand, ValueEnum};

use crate::fleet;

#[derive(Subcommand)]
pub enum AutomationCommand {
    /// Start a runbook (StartAutomationExecution); prints the execution id, or with --wait
    /// follows its steps and exits 0 only when it ends Success.
    Start(StartArgs),
    /// One execution: its status, parameters, outputs and each step.
    Show {
        /// The execution id.
        execution_id: String,
        /// Print it as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Recent executions, newest first.
    List {
        /// Only executions in this status (Success, Failed, InProgress, Waiting, …).
        #[arg(long)]
        status: Option<String>,
        /// Only runbooks whose name starts with this.
        #[arg(long)]
        document: Option<String>,
        /// How many to show (1-50).
        #[arg(long, default_value_t = 20)]
        limit: i32,
    },
    /// Approve the execution's waiting aws:approve step (or reject it with --reject).
    Approve {
        /// The execution id.
        execution_id: String,
        /// Reject instead of approving.
        #[arg(long)]
        reject: bool,
        /// A comment kept with the decision.
        #[arg(long)]
        comment: Option<String>,
    },
    /// Resume the execution's aws:pause step.
    Resume {
        /// The execution id.
        execution_id: String,
    },
    /// Send an execution a signal (SendAutomationSignal): StartStep runs the named step of an
    /// Interactive execution waiting between steps, StopStep stops a running step, Resume
    /// resumes a waiting aws:pause step.
    Signal(SignalArgs),
    /// Stop an execution (Cancel), or with --complete end it as it stands.
    Stop {
        /// The execution id.
        execution_id: String,
        /// Stop with Type Complete instead of Cancel.
        #[arg(long)]
        complete: bool,
    },
}

#[derive(Args, Clone, Debug)]
pub struct StartArgs {
    /// The runbook (an Automation document), e.g. AWS-StartEC2Instance.
    pub document: String,
    /// A runbook parameter, NAME=VALUE; repeat a name to build a StringList.
    #[arg(long = "param", short = 'p', value_parser = fleet::parse_tag, value_name = "NAME=VALUE")]
    pub params: Vec<(String, String)>,
    /// The runbook version (default: its default version).
    #[arg(long)]
    pub version: Option<String>,
    /// Follow the execution until it ends; the exit status says how it ended.
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this many seconds (the execution goes on).
    #[arg(long, default_value_t = 3600)]
    pub timeout: u64,
    /// Auto runs the steps by themselves; Interactive waits before each step for
    /// `bosun automation signal ID --type StartStep --step NAME`.
    #[arg(long, value_enum, ignore_case = true)]
    pub mode: Option<Mode>,
}

/// StartAutomationExecution's `Mode`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    #[value(name = "Auto")]
    Auto,
    #[value(name = "Interactive")]
    Interactive,
}

#[derive(Args, Clone, Debug)]
pub struct SignalArgs {
    /// The execution id.
    pub execution_id: String,
    /// The signal.
    #[arg(long = "type", value_enum, ignore_case = true)]
    pub signal: Signal,
    /// The step: its name (StartStep; Resume, optionally), or for StopStep its name or step
    /// execution id (a name means that step's running execution).
    #[arg(long)]
    pub step: Option<String>,
}

/// The signals `bosun automation signal` sends (Approve/Reject: `bosun automation approve`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    #[value(name = "StartStep")]
    StartStep,
    #[value(name = "StopStep")]
    StopStep,
    #[value(name = "Resume")]
    Resume,
}
