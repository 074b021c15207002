//! The reboot protocol's rules on a node: which step exits ask for a reboot, what becomes of
//! the document around the reboot, and what a restarted agent makes of a recorded request.
//!
//! Sources, and what Bosun does with each:
//! - AWS's guide, "Handling reboots when running commands"
//!   (<https://docs.aws.amazon.com/systems-manager/latest/userguide/send-commands-reboot.html>):
//!   a script exits 194 (Linux, macOS) or 3010 (Windows) to have the agent reboot the node "and
//!   then restart the script after the reboot completed"; scripts are to be idempotent, because
//!   the step runs again; a reboot script "can't be part of an aws:runDocument plugin" (the
//!   agent returns an error).
//! - `aws/amazon-ssm-agent`, `agent/framework/runpluginutil/runpluginutil.go` (`RunPlugins`):
//!   after a plugin returns `SuccessAndReboot` no later plugin runs; when the document resumes,
//!   that plugin is reset to `InProgress` and executed again, plugins that already have a result
//!   are not run again (a `Failed` one is re-reported), and the ones not started run as usual.
//!   The step keeps its first start time; its full output file is opened for appending, so the
//!   output of both runs is kept (`iomodule/fileS3.go`).
//! - Bosun honours 194 and 3010 alike (3010 is Windows' code; on Linux a process's exit status
//!   is 8 bits, so a script's `exit 3010` arrives as 194, 3010 mod 256, anyway), only from the
//!   script plugins (`aws:runShellScript`, `aws:runPowerShellScript`), only with
//!   `Agent.AllowReboot`, and at most [`MAX_REBOOTS_PER_STEP`] times per step (AWS's agent stops
//!   resuming a document after `Mds.CommandRetryLimit`, 15, runs; Bosun fails the step instead
//!   of dropping the document).
//!
//! Whether a reboot happened is told by the kernel's boot id: a request records the boot id of
//! its time, and a different boot id after a restart means the node rebooted. Pure: times are
//! passed in.

/// Exit code asking for a reboot on Linux and macOS.
pub const EXIT_REBOOT: i32 = 194;
/// Exit code asking for a reboot on Windows (`ERROR_SUCCESS_REBOOT_REQUIRED`).
pub const EXIT_REBOOT_WINDOWS: i32 = 3010;
/// Most reboots one step may ask for within one command.
pub const MAX_REBOOTS_PER_STEP: usize = 15;

/// What a step's exit code means for the reboot protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebootAsk {
    /// Not a reboot request.
    No,
    /// A reboot request from a step that may make one.
    Yes,
    /// A reboot exit code from a step that may not ask for a reboot (why).
    NotHere(&'static str),
}

/// Is exit `code` of a step running `action` a reboot request?
pub fn reboot_ask(action: &str, code: i32) -> RebootAsk {
    if code != EXIT_REBOOT && code != EXIT_REBOOT_WINDOWS {
        return RebootAsk::No;
    }
    let script = ["aws:runShellScript", "aws:runPowerShellScript"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(action));
    if script {
        RebootAsk::Yes
    } else {
        RebootAsk::NotHere(
            "only aws:runShellScript and aws:runPowerShellScript steps may ask for a reboot \
             (a reboot script cannot be part of aws:runDocument)",
        )
    }
}

/// Why a reboot request fails when the agent may not reboot.
pub fn not_allowed_message(code: i32) -> String {
    format!(
        "the step asked for a reboot (exit code {code}), but this agent may not reboot the node \
         (Agent.AllowReboot is false)"
    )
}

/// Why a step that asks for one reboot too many fails.
pub fn too_many_message(code: i32) -> String {
    format!(
        "the step asked for a reboot (exit code {code}) after {MAX_REBOOTS_PER_STEP} reboots \
         already; it is not run again (a reboot script must stop asking once its work is done)"
    )
}

/// Why a reboot the node never went through fails the steps that asked for it.
pub fn no_reboot_message(timeout_seconds: u64) -> String {
    format!(
        "the reboot command ran, but the node did not restart within {timeout_seconds} seconds \
         (its boot id did not change)"
    )
}

/// Where the node's reboot stands, as the agent recorded it (`requested_boot_id`: the boot id
/// when the reboot was asked for; `commanded_ms`: when the reboot command was started).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeCheck {
    /// The boot id changed: the node rebooted.
    Rebooted,
    /// The reboot command has not run yet (the agent stopped before it): run it now.
    RunCommand,
    /// The reboot command ran; the node has until this time (epoch ms) to go down.
    WaitUntil(i64),
    /// The reboot command ran long enough ago and the node is still in the same boot.
    NoReboot,
}

/// What to do about a recorded reboot at `now_ms` in boot `current_boot_id`.
pub fn node_check(
    requested_boot_id: &str,
    current_boot_id: &str,
    commanded_ms: Option<i64>,
    now_ms: i64,
    timeout_ms: i64,
) -> NodeCheck {
    if requested_boot_id != current_boot_id {
        return NodeCheck::Rebooted;
    }
    match commanded_ms {
        None => NodeCheck::RunCommand,
        Some(t) if now_ms < t.saturating_add(timeout_ms) => {
            NodeCheck::WaitUntil(t.saturating_add(timeout_ms))
        }
        Some(_) => NodeCheck::NoReboot,
    }
}

/// The node's reboot attempt as a step awaiting it sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt<'a> {
    /// When the reboot command was started, if it was.
    pub commanded_ms: Option<i64>,
    /// Why the attempt failed, once it did.
    pub failure: Option<&'a str>,
}

/// What becomes of a step that asked for a reboot (in boot `asked_boot_id`, at `asked_ms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResume {
    /// The node rebooted since: run the step again.
    Rerun,
    /// Not rebooted yet: the document waits (and the agent reboots the node).
    AwaitReboot,
    /// The reboot it asked for failed: the step fails with this reason.
    Failed(String),
}

/// Decide a step that asked for a reboot. A failed attempt only answers the requests made
/// before its command ran; a later request gets an attempt of its own.
pub fn step_resume(
    asked_boot_id: &str,
    asked_ms: i64,
    current_boot_id: &str,
    attempt: Option<Attempt<'_>>,
) -> StepResume {
    if asked_boot_id != current_boot_id {
        return StepResume::Rerun;
    }
    match attempt {
        Some(Attempt {
            commanded_ms,
            failure: Some(why),
        }) if commanded_ms.is_none_or(|t| asked_ms <= t) => StepResume::Failed(why.to_string()),
        _ => StepResume::AwaitReboot,
    }
}

#[cfg(test)]
#[path = "reboot_tests.rs"]
mod tests;
