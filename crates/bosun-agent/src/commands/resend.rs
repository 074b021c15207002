//! Results the server has not acknowledged are sent again every [`RESEND_EVERY`] while
//! connected, not only on reconnecting: a server that could not store a result (its database
//! down or locked) keeps the connection, and would otherwise never hear of it again.

use std::sync::Arc;
use std::time::Duration;

use bosun_proto::AgentMessage;

use super::CommandService;

/// How long a result may wait for its acknowledgement before it is sent again.
pub const RESEND_EVERY: Duration = Duration::from_secs(30);

impl CommandService {
    /// Send every spooled (unacknowledged) result again every [`RESEND_EVERY`]. The server
    /// takes a result it already stored as a repeat: it changes nothing and is acknowledged.
    pub fn spawn_result_resender(self: &Arc<Self>) {
        let svc = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(RESEND_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await; // the first tick is immediate; connecting sends them anyway
            loop {
                every.tick().await;
                let spool = svc.clone();
                let replies = match tokio::task::spawn_blocking(move || spool.spool.replies()).await
                {
                    Ok(Ok(replies)) => replies,
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "could not read spooled results");
                        continue;
                    }
                    Err(_) => continue,
                };
                for r in replies {
                    tracing::debug!(command_id = %r.command_id, "result not acknowledged yet; sending it again");
                    if !svc.outbox.send(AgentMessage::Result(r)).await {
                        break; // not connected: connecting sends them all
                    }
                }
            }
        });
    }
}
