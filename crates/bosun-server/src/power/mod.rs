//! Node power (issue 16): waking a stopped node (a power-controller document run on another
//! node, or Wake-on-LAN packets sent by an Online relay on its subnet), and stopping or
//! restarting a node through its own agent.
//!
//! Each operation is two calls, so a caller's loop (the Automation step driver, the
//! `bosun node` CLI through [`crate::api::power`]) owns the waiting and the timeout:
//! `start_*` authorizes and acts once, returning an attempt; [`check`] says whether that
//! attempt is done, still pending, or failed (and why). Nothing here sleeps.
//!
//! Authorization (documented in the README): every power operation is `ssm:SendCommand` on the
//! target node's ARN; a power-controller wake is also `ssm:SendCommand` on the controller
//! node and on the controller document, since Bosun runs that document there as the caller.
//! A Wake-on-LAN relay runs no command (it only broadcasts a packet), so it needs nothing.

mod attempt;
mod nodes;
mod restart;
mod wake;

pub use attempt::{PowerAttempt, PowerState, RelayUsed};
pub use nodes::is_online;
pub use restart::{start_restart, start_stop};
pub use wake::start_wake;

use crate::api::error::ApiError;
use crate::api::Ctx;

/// Whether `attempt` on its node is done, still pending, or failed. Reads only; call it as
/// often as the caller's loop likes.
pub fn check(ctx: &Ctx, attempt: &PowerAttempt) -> Result<PowerState, ApiError> {
    match attempt {
        PowerAttempt::AlreadyOnline { .. } => Ok(PowerState::Done),
        PowerAttempt::Controller { .. } | PowerAttempt::WakeOnLan { .. } => {
            wake::check(ctx, attempt)
        }
        PowerAttempt::Stop { .. } | PowerAttempt::Restart { .. } => restart::check(ctx, attempt),
    }
}
