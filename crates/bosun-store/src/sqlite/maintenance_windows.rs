//! Maintenance windows on SQLite: the one writer connection serialises every creation, so a
//! count, a token look-up and the insert that follows cannot interleave with another writer.
//! A change of a definition appends its event in its transaction.

use bosun_core::events::envelope::Event;
use bosun_core::events::envelope_maintenance_window_definitions::Registration;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::tags::put_tags;
use super::SqliteStore;
use crate::event_outbox::now_ms;
use crate::maintenance_window_events::{
    target_events, task_registration_events, window_state_events,
};
use crate::maintenance_windows::{
    window_target_ids, Changed, MaintenanceWindowStore, Registered, WindowRecord,
    WindowTargetRecord, WindowTaskRecord, WINDOW_TAG_TYPE,
};
use crate::{Result, StoreError};

const WINDOW_COLS: &str = "region, window_id, name, description, schedule, schedule_timezone, \
     schedule_offset, start_date, end_date, duration_hours, cutoff_hours, \
     allow_unassociated_targets, enabled, client_token, request_hash, created_ms, modified_ms";

const TARGET_COLS: &str = "region, window_id, window_target_id, resource_type, targets_json, \
     owner_information, name, description, client_token, request_hash, created_ms";

const TASK_COLS: &str = "region, window_id, window_task_id, task_arn, task_type, targets_json, \
     service_role_arn, task_parameters_json, invocation_parameters_json, priority, \
     max_concurrency, max_errors, name, description, cutoff_behavior, client_token, \
     request_hash, created_ms, registered_by";

fn window_from(r: &Row<'_>) -> rusqlite::Result<WindowRecord> {
    Ok(WindowRecord {
        region: r.get(0)?,
        window_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        schedule: r.get(4)?,
        schedule_timezone: r.get(5)?,
        schedule_offset: r.get(6)?,
        start_date: r.get(7)?,
        end_date: r.get(8)?,
        duration_hours: r.get(9)?,
        cutoff_hours: r.get(10)?,
        allow_unassociated_targets: r.get(11)?,
        enabled: r.get(12)?,
        client_token: r.get(13)?,
        request_hash: r.get(14)?,
        created_ms: r.get(15)?,
        modified_ms: r.get(16)?,
    })
}

fn target_from(r: &Row<'_>) -> rusqlite::Result<WindowTargetRecord> {
    Ok(WindowTargetRecord {
        region: r.get(0)?,
        window_id: r.get(1)?,
        window_target_id: r.get(2)?,
        resource_type: r.get(3)?,
        targets_json: r.get(4)?,
        owner_information: r.get(5)?,
        name: r.get(6)?,
        description: r.get(7)?,
        client_token: r.get(8)?,
        request_hash: r.get(9)?,
        created_ms: r.get(10)?,
    })
}

fn task_from(r: &Row<'_>) -> rusqlite::Result<WindowTaskRecord> {
    Ok(WindowTaskRecord {
        region: r.get(0)?,
        window_id: r.get(1)?,
        window_task_id: r.get(2)?,
        task_arn: r.get(3)?,
        task_type: r.get(4)?,
        targets_json: r.get(5)?,
        service_role_arn: r.get(6)?,
        task_parameters_json: r.get(7)?,
        invocation_parameters_json: r.get(8)?,
        priority: r.get(9)?,
        max_concurrency: r.get(10)?,
        max_errors: r.get(11)?,
        name: r.get(12)?,
        description: r.get(13)?,
        cutoff_behavior: r.get(14)?,
        client_token: r.get(15)?,
        request_hash: r.get(16)?,
        created_ms: r.get(17)?,
        registered_by: r.get(18)?,
    })
}

fn window_exists(conn: &Connection, region: &str, window_id: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM maintenance_windows WHERE region = ?1 AND window_id = ?2",
            params![region, window_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

fn targets_of(
    conn: &Connection,
    region: &str,
    window_id: &str,
) -> rusqlite::Result<Vec<WindowTargetRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TARGET_COLS} FROM maintenance_window_targets \
         WHERE region = ?1 AND window_id = ?2 ORDER BY window_target_id"
    ))?;
    let rows = stmt.query_map(params![region, window_id], target_from)?;
    rows.collect()
}

fn tasks_of(
    conn: &Connection,
    region: &str,
    window_id: &str,
) -> rusqlite::Result<Vec<WindowTaskRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TASK_COLS} FROM maintenance_window_tasks \
         WHERE region = ?1 AND window_id = ?2 ORDER BY window_task_id"
    ))?;
    let rows = stmt.query_map(params![region, window_id], task_from)?;
    rows.collect()
}

/// The first target id `targets_json` names that is not a target of the window.
fn missing_target(
    conn: &Connection,
    region: &str,
    window_id: &str,
    targets_json: &str,
) -> rusqlite::Result<Option<String>> {
    let known: Vec<String> = targets_of(conn, region, window_id)?
        .into_iter()
        .map(|t| t.window_target_id)
        .collect();
    Ok(window_target_ids(targets_json)
        .into_iter()
        .find(|id| !known.contains(id)))
}

/// The earlier creation holding `token` in `table` (scoped by `scope` = `region = ?1 [AND
/// window_id = ?2]`): its id and request hash.
fn token_holder(
    conn: &Connection,
    table: &str,
    id_col: &str,
    region: &str,
    window_id: Option<&str>,
    token: &str,
) -> rusqlite::Result<Option<(String, String)>> {
    if token.is_empty() {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {id_col}, request_hash FROM {table} WHERE region = ?1 AND client_token = ?2 \
         AND (?3 IS NULL OR window_id = ?3)"
    );
    conn.query_row(&sql, params![region, token, window_id], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()
}

fn replay(holder: Option<(String, String)>, hash: &str) -> Option<Registered> {
    holder.map(|(id, held)| {
        if held == hash {
            Registered::Replayed(id)
        } else {
            Registered::TokenMismatch
        }
    })
}

fn count(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<usize> {
    let n: i64 = conn.query_row(sql, p, |r| r.get(0))?;
    Ok(n as usize)
}

/// Append a definition change's events in its transaction.
fn emit(tx: &Connection, events: &[Event]) -> rusqlite::Result<()> {
    super::event_outbox::append(tx, events, now_ms())
}

impl MaintenanceWindowStore for SqliteStore {
    fn create_window(
        &self,
        w: &WindowRecord,
        tags: &[(String, String)],
        max_windows: usize,
    ) -> Result<Registered> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let holder = token_holder(
            &tx,
            "maintenance_windows",
            "window_id",
            &w.region,
            None,
            &w.client_token,
        )?;
        if let Some(outcome) = replay(holder, &w.request_hash) {
            return Ok(outcome);
        }
        let n = count(
            &tx,
            "SELECT COUNT(*) FROM maintenance_windows WHERE region = ?1",
            params![w.region],
        )?;
        if n >= max_windows {
            return Err(StoreError::LimitExceeded(format!(
                "{max_windows} maintenance windows"
            )));
        }
        tx.execute(
            &format!(
                "INSERT INTO maintenance_windows ({WINDOW_COLS}) \
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)"
            ),
            params![
                w.region,
                w.window_id,
                w.name,
                w.description,
                w.schedule,
                w.schedule_timezone,
                w.schedule_offset,
                w.start_date,
                w.end_date,
                w.duration_hours,
                w.cutoff_hours,
                w.allow_unassociated_targets,
                w.enabled,
                w.client_token,
                w.request_hash,
                w.created_ms,
                w.modified_ms
            ],
        )?;
        put_tags(&tx, &w.region, WINDOW_TAG_TYPE, &w.window_id, tags)?;
        tx.commit()?;
        Ok(Registered::Created)
    }

    fn get_window(&self, region: &str, window_id: &str) -> Result<Option<WindowRecord>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {WINDOW_COLS} FROM maintenance_windows \
                         WHERE region = ?1 AND window_id = ?2"
                    ),
                    params![region, window_id],
                    window_from,
                )
                .optional()?)
        })
    }

    fn list_windows(&self, region: &str) -> Result<Vec<WindowRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {WINDOW_COLS} FROM maintenance_windows WHERE region = ?1 ORDER BY window_id"
            ))?;
            let rows = stmt.query_map(params![region], window_from)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn update_window(&self, w: &WindowRecord) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let was: Option<bool> = tx
            .query_row(
                "SELECT enabled FROM maintenance_windows WHERE region = ?1 AND window_id = ?2",
                params![w.region, w.window_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(was) = was else {
            return Ok(false);
        };
        let n = tx.execute(
            "UPDATE maintenance_windows SET name = ?3, description = ?4, schedule = ?5, \
             schedule_timezone = ?6, schedule_offset = ?7, start_date = ?8, end_date = ?9, \
             duration_hours = ?10, cutoff_hours = ?11, allow_unassociated_targets = ?12, \
             enabled = ?13, modified_ms = ?14 WHERE region = ?1 AND window_id = ?2",
            params![
                w.region,
                w.window_id,
                w.name,
                w.description,
                w.schedule,
                w.schedule_timezone,
                w.schedule_offset,
                w.start_date,
                w.end_date,
                w.duration_hours,
                w.cutoff_hours,
                w.allow_unassociated_targets,
                w.enabled,
                w.modified_ms
            ],
        )?;
        if n == 1 && was != w.enabled {
            let account = self.event_account.get();
            let events =
                window_state_events(&account, now_ms(), &w.region, &w.window_id, w.enabled);
            emit(&tx, &events)?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    fn delete_window(&self, region: &str, window_id: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for table in ["maintenance_window_tasks", "maintenance_window_targets"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE region = ?1 AND window_id = ?2"),
                params![region, window_id],
            )?;
        }
        let n = tx.execute(
            "DELETE FROM maintenance_windows WHERE region = ?1 AND window_id = ?2",
            params![region, window_id],
        )?;
        tx.execute(
            "DELETE FROM tags WHERE region = ?1 AND resource_type = ?2 AND resource_id = ?3",
            params![region, WINDOW_TAG_TYPE, window_id],
        )?;
        tx.commit()?;
        Ok(n == 1)
    }

    fn register_target(&self, t: &WindowTargetRecord, max_targets: usize) -> Result<Registered> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if !window_exists(&tx, &t.region, &t.window_id)? {
            return Ok(Registered::NoSuchWindow);
        }
        let holder = token_holder(
            &tx,
            "maintenance_window_targets",
            "window_target_id",
            &t.region,
            Some(&t.window_id),
            &t.client_token,
        )?;
        if let Some(outcome) = replay(holder, &t.request_hash) {
            return Ok(outcome);
        }
        let n = count(
            &tx,
            "SELECT COUNT(*) FROM maintenance_window_targets WHERE region = ?1 AND window_id = ?2",
            params![t.region, t.window_id],
        )?;
        if n >= max_targets {
            return Err(StoreError::LimitExceeded(format!(
                "{max_targets} targets per maintenance window"
            )));
        }
        tx.execute(
            &format!(
                "INSERT INTO maintenance_window_targets ({TARGET_COLS}) \
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
            ),
            params![
                t.region,
                t.window_id,
                t.window_target_id,
                t.resource_type,
                t.targets_json,
                t.owner_information,
                t.name,
                t.description,
                t.client_token,
                t.request_hash,
                t.created_ms
            ],
        )?;
        let account = self.event_account.get();
        let events = target_events(
            &account,
            now_ms(),
            &t.region,
            &t.window_id,
            &t.window_target_id,
            Registration::Registered,
        );
        emit(&tx, &events)?;
        tx.commit()?;
        Ok(Registered::Created)
    }

    fn list_targets(&self, region: &str, window_id: &str) -> Result<Vec<WindowTargetRecord>> {
        self.read(|conn| Ok(targets_of(conn, region, window_id)?))
    }

    fn list_region_targets(&self, region: &str) -> Result<Vec<WindowTargetRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {TARGET_COLS} FROM maintenance_window_targets WHERE region = ?1 \
                 ORDER BY window_id, window_target_id"
            ))?;
            let rows = stmt.query_map(params![region], target_from)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn update_target(&self, t: &WindowTargetRecord) -> Result<Changed> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE maintenance_window_targets SET targets_json = ?4, owner_information = ?5, \
             name = ?6, description = ?7 \
             WHERE region = ?1 AND window_id = ?2 AND window_target_id = ?3",
            params![
                t.region,
                t.window_id,
                t.window_target_id,
                t.targets_json,
                t.owner_information,
                t.name,
                t.description
            ],
        )?;
        if n == 1 {
            let account = self.event_account.get();
            let events = target_events(
                &account,
                now_ms(),
                &t.region,
                &t.window_id,
                &t.window_target_id,
                Registration::Updated,
            );
            emit(&tx, &events)?;
        }
        tx.commit()?;
        Ok(if n == 1 {
            Changed::Done
        } else {
            Changed::NotFound
        })
    }

    fn deregister_target(
        &self,
        region: &str,
        window_id: &str,
        window_target_id: &str,
        safe: bool,
    ) -> Result<Changed> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if safe {
            let users: Vec<String> = tasks_of(&tx, region, window_id)?
                .into_iter()
                .filter(|task| {
                    task.window_target_ids()
                        .iter()
                        .any(|id| id == window_target_id)
                })
                .map(|task| task.window_task_id)
                .collect();
            if !users.is_empty() {
                return Ok(Changed::InUse(users));
            }
        }
        let n = tx.execute(
            "DELETE FROM maintenance_window_targets \
             WHERE region = ?1 AND window_id = ?2 AND window_target_id = ?3",
            params![region, window_id, window_target_id],
        )?;
        if n == 1 {
            let account = self.event_account.get();
            let events = target_events(
                &account,
                now_ms(),
                region,
                window_id,
                window_target_id,
                Registration::Deregistered,
            );
            emit(&tx, &events)?;
        }
        tx.commit()?;
        Ok(if n == 1 {
            Changed::Done
        } else {
            Changed::NotFound
        })
    }

    fn register_task(&self, t: &WindowTaskRecord, max_tasks: usize) -> Result<Registered> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if !window_exists(&tx, &t.region, &t.window_id)? {
            return Ok(Registered::NoSuchWindow);
        }
        let holder = token_holder(
            &tx,
            "maintenance_window_tasks",
            "window_task_id",
            &t.region,
            Some(&t.window_id),
            &t.client_token,
        )?;
        if let Some(outcome) = replay(holder, &t.request_hash) {
            return Ok(outcome);
        }
        if let Some(id) = missing_target(&tx, &t.region, &t.window_id, &t.targets_json)? {
            return Ok(Registered::NoSuchTarget(id));
        }
        let n = count(
            &tx,
            "SELECT COUNT(*) FROM maintenance_window_tasks WHERE region = ?1 AND window_id = ?2",
            params![t.region, t.window_id],
        )?;
        if n >= max_tasks {
            return Err(StoreError::LimitExceeded(format!(
                "{max_tasks} tasks per maintenance window"
            )));
        }
        tx.execute(
            &format!(
                "INSERT INTO maintenance_window_tasks ({TASK_COLS}) \
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)"
            ),
            params![
                t.region,
                t.window_id,
                t.window_task_id,
                t.task_arn,
                t.task_type,
                t.targets_json,
                t.service_role_arn,
                t.task_parameters_json,
                t.invocation_parameters_json,
                t.priority,
                t.max_concurrency,
                t.max_errors,
                t.name,
                t.description,
                t.cutoff_behavior,
                t.client_token,
                t.request_hash,
                t.created_ms,
                t.registered_by
            ],
        )?;
        let account = self.event_account.get();
        let events = task_registration_events(
            &account,
            now_ms(),
            &t.region,
            &t.window_id,
            &t.window_task_id,
            Registration::Registered,
        );
        emit(&tx, &events)?;
        tx.commit()?;
        Ok(Registered::Created)
    }

    fn get_task(
        &self,
        region: &str,
        window_id: &str,
        window_task_id: &str,
    ) -> Result<Option<WindowTaskRecord>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {TASK_COLS} FROM maintenance_window_tasks \
                         WHERE region = ?1 AND window_id = ?2 AND window_task_id = ?3"
                    ),
                    params![region, window_id, window_task_id],
                    task_from,
                )
                .optional()?)
        })
    }

    fn list_tasks(&self, region: &str, window_id: &str) -> Result<Vec<WindowTaskRecord>> {
        self.read(|conn| Ok(tasks_of(conn, region, window_id)?))
    }

    fn list_region_tasks(&self, region: &str) -> Result<Vec<WindowTaskRecord>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {TASK_COLS} FROM maintenance_window_tasks WHERE region = ?1 \
                 ORDER BY window_id, window_task_id"
            ))?;
            let rows = stmt.query_map(params![region], task_from)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn update_task(&self, t: &WindowTaskRecord) -> Result<Changed> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if let Some(id) = missing_target(&tx, &t.region, &t.window_id, &t.targets_json)? {
            return Ok(Changed::NoSuchTarget(id));
        }
        let n = tx.execute(
            "UPDATE maintenance_window_tasks SET task_arn = ?4, targets_json = ?5, \
             service_role_arn = ?6, task_parameters_json = ?7, invocation_parameters_json = ?8, \
             priority = ?9, max_concurrency = ?10, max_errors = ?11, name = ?12, \
             description = ?13, cutoff_behavior = ?14, registered_by = ?15 \
             WHERE region = ?1 AND window_id = ?2 AND window_task_id = ?3",
            params![
                t.region,
                t.window_id,
                t.window_task_id,
                t.task_arn,
                t.targets_json,
                t.service_role_arn,
                t.task_parameters_json,
                t.invocation_parameters_json,
                t.priority,
                t.max_concurrency,
                t.max_errors,
                t.name,
                t.description,
                t.cutoff_behavior,
                t.registered_by
            ],
        )?;
        if n == 1 {
            let account = self.event_account.get();
            let events = task_registration_events(
                &account,
                now_ms(),
                &t.region,
                &t.window_id,
                &t.window_task_id,
                Registration::Updated,
            );
            emit(&tx, &events)?;
        }
        tx.commit()?;
        Ok(if n == 1 {
            Changed::Done
        } else {
            Changed::NotFound
        })
    }

    fn deregister_task(&self, region: &str, window_id: &str, window_task_id: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM maintenance_window_tasks \
             WHERE region = ?1 AND window_id = ?2 AND window_task_id = ?3",
            params![region, window_id, window_task_id],
        )?;
        if n == 1 {
            let account = self.event_account.get();
            let events = task_registration_events(
                &account,
                now_ms(),
                region,
                window_id,
                window_task_id,
                Registration::Deregistered,
            );
            emit(&tx, &events)?;
        }
        tx.commit()?;
        Ok(n == 1)
    }
}
