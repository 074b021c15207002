//! Run Command events on SQLite: what a status change emits, read from the rows the same
//! transaction writes (so the event and the change cannot diverge).

use std::collections::HashMap;

use bosun_core::events::envelope::{is_status_transition, Event};
use rusqlite::{params, Connection, OptionalExtension};

use crate::event_outbox::{now_ms, CommandHead};

/// The events of one transaction, written into the outbox just before it commits.
pub(super) struct Emitter<'a> {
    account: &'a str,
    now_ms: i64,
    heads: HashMap<String, Option<CommandHead>>,
    pub events: Vec<Event>,
}

impl<'a> Emitter<'a> {
    pub fn new(account: &'a str) -> Self {
        Self {
            account,
            now_ms: now_ms(),
            heads: HashMap::new(),
            events: Vec::new(),
        }
    }

    fn head(
        &mut self,
        conn: &Connection,
        command_id: &str,
    ) -> rusqlite::Result<Option<&CommandHead>> {
        if !self.heads.contains_key(command_id) {
            let head = conn
                .prepare_cached(
                    "SELECT region, command_id, document_name, requested_ms, expires_ms, \
                     request_json FROM commands WHERE command_id = ?1",
                )?
                .query_row([command_id], |r| {
                    Ok(CommandHead::new(
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        &r.get::<_, String>(5)?,
                    ))
                })
                .optional()?;
            self.heads.insert(command_id.to_string(), head);
        }
        Ok(self.heads[command_id].as_ref())
    }

    /// An invocation went from `old` (`None`: created) to `new`.
    pub fn invocation(
        &mut self,
        conn: &Connection,
        command_id: &str,
        instance_id: &str,
        old: Option<&str>,
        new: &str,
    ) -> rusqlite::Result<()> {
        if !is_status_transition(old, new) {
            return Ok(());
        }
        let (account, now) = (self.account, self.now_ms);
        if let Some(head) = self.head(conn, command_id)? {
            let event = head.invocation_event(account, now, instance_id, new);
            self.events.push(event);
        }
        Ok(())
    }

    /// A command went from `old` (`None`: created) to `new`.
    pub fn command(
        &mut self,
        conn: &Connection,
        command_id: &str,
        old: Option<&str>,
        new: &str,
    ) -> rusqlite::Result<()> {
        if !is_status_transition(old, new) {
            return Ok(());
        }
        let nodes = instance_ids(conn, command_id)?;
        let nodes: Vec<&str> = nodes.iter().map(String::as_str).collect();
        let (account, now) = (self.account, self.now_ms);
        if let Some(head) = self.head(conn, command_id)? {
            let event = head.command_event(account, now, &nodes, new);
            self.events.push(event);
        }
        Ok(())
    }

    /// Write the collected events into the outbox (inside the change's transaction).
    pub fn flush(self, conn: &Connection) -> rusqlite::Result<()> {
        super::event_outbox::append(conn, &self.events, self.now_ms)
    }
}

/// A command's nodes in dispatch order.
fn instance_ids(conn: &Connection, command_id: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT instance_id FROM invocations WHERE command_id = ?1 ORDER BY seq")?;
    let rows = stmt.query_map([command_id], |r| r.get(0))?;
    rows.collect()
}

/// An invocation's stored status.
pub(super) fn invocation_status(
    conn: &Connection,
    command_id: &str,
    instance_id: &str,
) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT status FROM invocations WHERE command_id = ?1 AND instance_id = ?2",
    )?
    .query_row(params![command_id, instance_id], |r| r.get(0))
    .optional()
}

/// A command's stored status.
pub(super) fn command_status(
    conn: &Connection,
    command_id: &str,
) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT status FROM commands WHERE command_id = ?1")?
        .query_row([command_id], |r| r.get(0))
        .optional()
}
