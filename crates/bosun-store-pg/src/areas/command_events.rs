//! Run Command events on PostgreSQL: the status transitions a transaction wrote, turned into
//! events from the stored commands and appended to the outbox as its last statements.

use std::collections::HashMap;

use bosun_core::events::envelope::{is_status_transition, Event};
use bosun_store::{now_ms, CommandHead};

use crate::{PgError, Transaction};

type PgResult<T> = std::result::Result<T, PgError>;

/// Status changes written in one transaction, in order.
#[derive(Debug, Default)]
pub(super) struct Transitions {
    /// (command, node or `None` for the command itself, new status).
    changes: Vec<(String, Option<String>, String)>,
}

impl Transitions {
    /// An invocation went from `old` (`None`: created) to `new`.
    pub fn invocation(
        &mut self,
        command_id: &str,
        instance_id: &str,
        old: Option<&str>,
        new: &str,
    ) {
        if is_status_transition(old, new) {
            self.changes
                .push((command_id.into(), Some(instance_id.into()), new.into()));
        }
    }

    /// A command went from `old` (`None`: created) to `new`.
    pub fn command(&mut self, command_id: &str, old: Option<&str>, new: &str) {
        if is_status_transition(old, new) {
            self.changes.push((command_id.into(), None, new.into()));
        }
    }

    /// Build the events and append them to the outbox: call last in the transaction.
    pub async fn emit(self, tx: &Transaction<'_>, account: &str) -> PgResult<()> {
        if self.changes.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let mut ids: Vec<&str> = self.changes.iter().map(|c| c.0.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let heads: HashMap<String, CommandHead> = tx
            .query(
                "SELECT region, command_id, document_name, requested_ms, expires_ms, \
                 request_json FROM commands WHERE command_id = ANY($1)",
                &[&ids],
            )
            .await?
            .iter()
            .map(|r| {
                let head = CommandHead::new(
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    r.try_get(4)?,
                    r.try_get::<_, &str>(5)?,
                );
                Ok((head.command_id.clone(), head))
            })
            .collect::<Result<_, tokio_postgres::Error>>()?;
        let mut events: Vec<Event> = Vec::with_capacity(self.changes.len());
        for (command_id, node, status) in &self.changes {
            let Some(head) = heads.get(command_id) else {
                continue;
            };
            match node {
                Some(node) => events.push(head.invocation_event(account, now, node, status)),
                None => {
                    let nodes: Vec<String> = tx
                        .query(
                            "SELECT instance_id FROM invocations WHERE command_id = $1 \
                             ORDER BY seq",
                            &[command_id],
                        )
                        .await?
                        .iter()
                        .map(|r| r.try_get(0))
                        .collect::<Result<_, _>>()?;
                    let nodes: Vec<&str> = nodes.iter().map(String::as_str).collect();
                    events.push(head.command_event(account, now, &nodes, status));
                }
            }
        }
        super::event_outbox::append(tx, &events, now).await
    }
}
