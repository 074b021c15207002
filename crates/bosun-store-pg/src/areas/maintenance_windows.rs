//! Maintenance windows on PostgreSQL ([`bosun_store::MaintenanceWindowStore`]).
//!
//! Rules for READ COMMITTED: a window creation takes a transaction-scoped advisory lock on the
//! region, so the token look-up, the count and the insert of concurrent creations run one after
//! the other; every change of a window's targets or tasks (and the window's deletion and
//! update) locks the window's row (`FOR UPDATE`) first, so target and task limits, token
//! look-ups, `WindowTargetIds` references and `Safe` deregistrations see every committed change
//! of that window and none in flight. A change of a definition appends its event (built by
//! `bosun_store::maintenance_window_events`) last in its transaction.

use bosun_core::events::envelope::Event;
use bosun_core::events::envelope_maintenance_window_definitions::Registration;
use bosun_store::maintenance_window_events::{
    target_events, task_registration_events, window_state_events,
};
use bosun_store::{
    now_ms, window_target_ids, Changed, MaintenanceWindowStore, Registered, Result, StoreError,
    WindowRecord, WindowTargetRecord, WindowTaskRecord, WINDOW_TAG_TYPE,
};
use deadpool_postgres::Transaction;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::tags::{delete_tags, put_tags};
use crate::{PgError, PgStore};

const WINDOW_COLS: &str = "region, window_id, name, description, schedule, schedule_timezone, \
     schedule_offset, start_date, end_date, duration_hours, cutoff_hours, \
     allow_unassociated_targets, enabled, client_token, request_hash, created_ms, modified_ms";

const TARGET_COLS: &str = "region, window_id, window_target_id, resource_type, targets_json, \
     owner_information, name, description, client_token, request_hash, created_ms";

const TASK_COLS: &str = "region, window_id, window_task_id, task_arn, task_type, targets_json, \
     service_role_arn, task_parameters_json, invocation_parameters_json, priority, \
     max_concurrency, max_errors, name, description, cutoff_behavior, client_token, \
     request_hash, created_ms, registered_by";

fn window_from(r: &Row) -> WindowRecord {
    WindowRecord {
        region: r.get(0),
        window_id: r.get(1),
        name: r.get(2),
        description: r.get(3),
        schedule: r.get(4),
        schedule_timezone: r.get(5),
        schedule_offset: r.get(6),
        start_date: r.get(7),
        end_date: r.get(8),
        duration_hours: r.get(9),
        cutoff_hours: r.get(10),
        allow_unassociated_targets: r.get(11),
        enabled: r.get(12),
        client_token: r.get(13),
        request_hash: r.get(14),
        created_ms: r.get(15),
        modified_ms: r.get(16),
    }
}

fn target_from(r: &Row) -> WindowTargetRecord {
    WindowTargetRecord {
        region: r.get(0),
        window_id: r.get(1),
        window_target_id: r.get(2),
        resource_type: r.get(3),
        targets_json: r.get(4),
        owner_information: r.get(5),
        name: r.get(6),
        description: r.get(7),
        client_token: r.get(8),
        request_hash: r.get(9),
        created_ms: r.get(10),
    }
}

fn task_from(r: &Row) -> WindowTaskRecord {
    WindowTaskRecord {
        region: r.get(0),
        window_id: r.get(1),
        window_task_id: r.get(2),
        task_arn: r.get(3),
        task_type: r.get(4),
        targets_json: r.get(5),
        service_role_arn: r.get(6),
        task_parameters_json: r.get(7),
        invocation_parameters_json: r.get(8),
        priority: r.get(9),
        max_concurrency: r.get(10),
        max_errors: r.get(11),
        name: r.get(12),
        description: r.get(13),
        cutoff_behavior: r.get(14),
        client_token: r.get(15),
        request_hash: r.get(16),
        created_ms: r.get(17),
        registered_by: r.get(18),
    }
}

/// Lock a window's row until commit; `false` when it does not exist.
/// Append a definition change's events, last in its transaction.
async fn emit(tx: &Transaction<'_>, events: &[Event]) -> std::result::Result<(), PgError> {
    super::event_outbox::append(tx, events, now_ms()).await
}

async fn lock_window(
    tx: &Transaction<'_>,
    region: &str,
    window_id: &str,
) -> std::result::Result<bool, PgError> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM maintenance_windows WHERE region = $1 AND window_id = $2 FOR UPDATE",
            &[&region, &window_id],
        )
        .await?
        .is_some())
}

/// The earlier creation holding `token`: its id and request hash.
/// `sql` selects (id, request_hash) by `params`, the token last.
async fn token_holder(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    token: &str,
) -> std::result::Result<Option<(String, String)>, PgError> {
    if token.is_empty() {
        return Ok(None);
    }
    let mut all = params.to_vec();
    all.push(&token);
    let row = tx.query_opt(sql, &all).await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
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

async fn count(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> std::result::Result<usize, PgError> {
    let n: i64 = tx.query_one(sql, params).await?.try_get(0)?;
    Ok(n as usize)
}

/// The first target id `targets_json` names that is not a target of the window.
async fn missing_target(
    tx: &Transaction<'_>,
    region: &str,
    window_id: &str,
    targets_json: &str,
) -> std::result::Result<Option<String>, PgError> {
    let named = window_target_ids(targets_json);
    if named.is_empty() {
        return Ok(None);
    }
    let rows = tx
        .query(
            "SELECT window_target_id FROM maintenance_window_targets \
             WHERE region = $1 AND window_id = $2",
            &[&region, &window_id],
        )
        .await?;
    let known: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    Ok(named.into_iter().find(|id| !known.contains(id)))
}

impl MaintenanceWindowStore for PgStore {
    fn create_window(
        &self,
        w: &WindowRecord,
        tags: &[(String, String)],
        max_windows: usize,
    ) -> Result<Registered> {
        Ok(self.transaction(async |tx| {
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('bosun.maintenance_windows:' || $1, 0))",
                &[&w.region],
            )
            .await?;
            let holder = token_holder(
                tx,
                "SELECT window_id, request_hash FROM maintenance_windows \
                 WHERE region = $1 AND client_token = $2",
                &[&w.region],
                &w.client_token,
            )
            .await?;
            if let Some(outcome) = replay(holder, &w.request_hash) {
                return Ok(outcome);
            }
            let n = count(
                tx,
                "SELECT COUNT(*) FROM maintenance_windows WHERE region = $1",
                &[&w.region],
            )
            .await?;
            if n >= max_windows {
                return Err(
                    StoreError::LimitExceeded(format!("{max_windows} maintenance windows")).into(),
                );
            }
            tx.execute(
                &format!(
                    "INSERT INTO maintenance_windows ({WINDOW_COLS}) VALUES \
                     ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)"
                ),
                &[
                    &w.region,
                    &w.window_id,
                    &w.name,
                    &w.description,
                    &w.schedule,
                    &w.schedule_timezone,
                    &w.schedule_offset,
                    &w.start_date,
                    &w.end_date,
                    &w.duration_hours,
                    &w.cutoff_hours,
                    &w.allow_unassociated_targets,
                    &w.enabled,
                    &w.client_token,
                    &w.request_hash,
                    &w.created_ms,
                    &w.modified_ms,
                ],
            )
            .await?;
            put_tags(tx, &w.region, WINDOW_TAG_TYPE, &w.window_id, tags).await?;
            Ok(Registered::Created)
        })?)
    }

    fn get_window(&self, region: &str, window_id: &str) -> Result<Option<WindowRecord>> {
        Ok(self.with_client(async |c| {
            let row = c
                .query_opt(
                    &format!(
                        "SELECT {WINDOW_COLS} FROM maintenance_windows \
                         WHERE region = $1 AND window_id = $2"
                    ),
                    &[&region, &window_id],
                )
                .await?;
            Ok(row.as_ref().map(window_from))
        })?)
    }

    fn list_windows(&self, region: &str) -> Result<Vec<WindowRecord>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {WINDOW_COLS} FROM maintenance_windows WHERE region = $1 \
                         ORDER BY window_id COLLATE \"C\""
                    ),
                    &[&region],
                )
                .await?;
            Ok(rows.iter().map(window_from).collect())
        })?)
    }

    fn update_window(&self, w: &WindowRecord) -> Result<bool> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            let was = tx
                .query_opt(
                    "SELECT enabled FROM maintenance_windows \
                     WHERE region = $1 AND window_id = $2 FOR UPDATE",
                    &[&w.region, &w.window_id],
                )
                .await?;
            let Some(was) = was.map(|r| r.get::<_, bool>(0)) else {
                return Ok(false);
            };
            let n = tx
                .execute(
                    "UPDATE maintenance_windows SET name = $3, description = $4, schedule = $5, \
                     schedule_timezone = $6, schedule_offset = $7, start_date = $8, \
                     end_date = $9, duration_hours = $10, cutoff_hours = $11, \
                     allow_unassociated_targets = $12, enabled = $13, modified_ms = $14 \
                     WHERE region = $1 AND window_id = $2",
                    &[
                        &w.region,
                        &w.window_id,
                        &w.name,
                        &w.description,
                        &w.schedule,
                        &w.schedule_timezone,
                        &w.schedule_offset,
                        &w.start_date,
                        &w.end_date,
                        &w.duration_hours,
                        &w.cutoff_hours,
                        &w.allow_unassociated_targets,
                        &w.enabled,
                        &w.modified_ms,
                    ],
                )
                .await?;
            if n == 1 && was != w.enabled {
                let events =
                    window_state_events(&account, now_ms(), &w.region, &w.window_id, w.enabled);
                emit(tx, &events).await?;
            }
            Ok(n == 1)
        })?)
    }

    fn delete_window(&self, region: &str, window_id: &str) -> Result<bool> {
        Ok(self.transaction(async |tx| {
            if !lock_window(tx, region, window_id).await? {
                return Ok(false);
            }
            for table in ["maintenance_window_tasks", "maintenance_window_targets"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE region = $1 AND window_id = $2"),
                    &[&region, &window_id],
                )
                .await?;
            }
            tx.execute(
                "DELETE FROM maintenance_windows WHERE region = $1 AND window_id = $2",
                &[&region, &window_id],
            )
            .await?;
            delete_tags(tx, region, WINDOW_TAG_TYPE, window_id).await?;
            Ok(true)
        })?)
    }

    fn register_target(&self, t: &WindowTargetRecord, max_targets: usize) -> Result<Registered> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            if !lock_window(tx, &t.region, &t.window_id).await? {
                return Ok(Registered::NoSuchWindow);
            }
            let holder = token_holder(
                tx,
                "SELECT window_target_id, request_hash FROM maintenance_window_targets \
                 WHERE region = $1 AND window_id = $2 AND client_token = $3",
                &[&t.region, &t.window_id],
                &t.client_token,
            )
            .await?;
            if let Some(outcome) = replay(holder, &t.request_hash) {
                return Ok(outcome);
            }
            let n = count(
                tx,
                "SELECT COUNT(*) FROM maintenance_window_targets \
                 WHERE region = $1 AND window_id = $2",
                &[&t.region, &t.window_id],
            )
            .await?;
            if n >= max_targets {
                return Err(StoreError::LimitExceeded(format!(
                    "{max_targets} targets per maintenance window"
                ))
                .into());
            }
            tx.execute(
                &format!(
                    "INSERT INTO maintenance_window_targets ({TARGET_COLS}) VALUES \
                     ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
                ),
                &[
                    &t.region,
                    &t.window_id,
                    &t.window_target_id,
                    &t.resource_type,
                    &t.targets_json,
                    &t.owner_information,
                    &t.name,
                    &t.description,
                    &t.client_token,
                    &t.request_hash,
                    &t.created_ms,
                ],
            )
            .await?;
            let events = target_events(
                &account,
                now_ms(),
                &t.region,
                &t.window_id,
                &t.window_target_id,
                Registration::Registered,
            );
            emit(tx, &events).await?;
            Ok(Registered::Created)
        })?)
    }

    fn list_targets(&self, region: &str, window_id: &str) -> Result<Vec<WindowTargetRecord>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {TARGET_COLS} FROM maintenance_window_targets \
                         WHERE region = $1 AND window_id = $2 \
                         ORDER BY window_target_id COLLATE \"C\""
                    ),
                    &[&region, &window_id],
                )
                .await?;
            Ok(rows.iter().map(target_from).collect())
        })?)
    }

    fn list_region_targets(&self, region: &str) -> Result<Vec<WindowTargetRecord>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {TARGET_COLS} FROM maintenance_window_targets WHERE region = $1 \
                         ORDER BY window_id COLLATE \"C\", window_target_id COLLATE \"C\""
                    ),
                    &[&region],
                )
                .await?;
            Ok(rows.iter().map(target_from).collect())
        })?)
    }

    fn update_target(&self, t: &WindowTargetRecord) -> Result<Changed> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            if !lock_window(tx, &t.region, &t.window_id).await? {
                return Ok(Changed::NotFound);
            }
            let n = tx
                .execute(
                    "UPDATE maintenance_window_targets SET targets_json = $4, \
                     owner_information = $5, name = $6, description = $7 \
                     WHERE region = $1 AND window_id = $2 AND window_target_id = $3",
                    &[
                        &t.region,
                        &t.window_id,
                        &t.window_target_id,
                        &t.targets_json,
                        &t.owner_information,
                        &t.name,
                        &t.description,
                    ],
                )
                .await?;
            if n == 1 {
                let events = target_events(
                    &account,
                    now_ms(),
                    &t.region,
                    &t.window_id,
                    &t.window_target_id,
                    Registration::Updated,
                );
                emit(tx, &events).await?;
            }
            Ok(if n == 1 {
                Changed::Done
            } else {
                Changed::NotFound
            })
        })?)
    }

    fn deregister_target(
        &self,
        region: &str,
        window_id: &str,
        window_target_id: &str,
        safe: bool,
    ) -> Result<Changed> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            if !lock_window(tx, region, window_id).await? {
                return Ok(Changed::NotFound);
            }
            if safe {
                let rows = tx
                    .query(
                        "SELECT window_task_id, targets_json FROM maintenance_window_tasks \
                         WHERE region = $1 AND window_id = $2 \
                         ORDER BY window_task_id COLLATE \"C\"",
                        &[&region, &window_id],
                    )
                    .await?;
                let users: Vec<String> = rows
                    .iter()
                    .filter(|r| {
                        window_target_ids(r.get(1))
                            .iter()
                            .any(|id| id == window_target_id)
                    })
                    .map(|r| r.get(0))
                    .collect();
                if !users.is_empty() {
                    return Ok(Changed::InUse(users));
                }
            }
            let n = tx
                .execute(
                    "DELETE FROM maintenance_window_targets \
                     WHERE region = $1 AND window_id = $2 AND window_target_id = $3",
                    &[&region, &window_id, &window_target_id],
                )
                .await?;
            if n == 1 {
                let events = target_events(
                    &account,
                    now_ms(),
                    region,
                    window_id,
                    window_target_id,
                    Registration::Deregistered,
                );
                emit(tx, &events).await?;
            }
            Ok(if n == 1 {
                Changed::Done
            } else {
                Changed::NotFound
            })
        })?)
    }

    fn register_task(&self, t: &WindowTaskRecord, max_tasks: usize) -> Result<Registered> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            if !lock_window(tx, &t.region, &t.window_id).await? {
                return Ok(Registered::NoSuchWindow);
            }
            let holder = token_holder(
                tx,
                "SELECT window_task_id, request_hash FROM maintenance_window_tasks \
                 WHERE region = $1 AND window_id = $2 AND client_token = $3",
                &[&t.region, &t.window_id],
                &t.client_token,
            )
            .await?;
            if let Some(outcome) = replay(holder, &t.request_hash) {
                return Ok(outcome);
            }
            if let Some(id) = missing_target(tx, &t.region, &t.window_id, &t.targets_json).await? {
                return Ok(Registered::NoSuchTarget(id));
            }
            let n = count(
                tx,
                "SELECT COUNT(*) FROM maintenance_window_tasks \
                 WHERE region = $1 AND window_id = $2",
                &[&t.region, &t.window_id],
            )
            .await?;
            if n >= max_tasks {
                return Err(StoreError::LimitExceeded(format!(
                    "{max_tasks} tasks per maintenance window"
                ))
                .into());
            }
            tx.execute(
                &format!(
                    "INSERT INTO maintenance_window_tasks ({TASK_COLS}) VALUES \
                     ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)"
                ),
                &[
                    &t.region,
                    &t.window_id,
                    &t.window_task_id,
                    &t.task_arn,
                    &t.task_type,
                    &t.targets_json,
                    &t.service_role_arn,
                    &t.task_parameters_json,
                    &t.invocation_parameters_json,
                    &t.priority,
                    &t.max_concurrency,
                    &t.max_errors,
                    &t.name,
                    &t.description,
                    &t.cutoff_behavior,
                    &t.client_token,
                    &t.request_hash,
                    &t.created_ms,
                    &t.registered_by,
                ],
            )
            .await?;
            let events = task_registration_events(
                &account,
                now_ms(),
                &t.region,
                &t.window_id,
                &t.window_task_id,
                Registration::Registered,
            );
            emit(tx, &events).await?;
            Ok(Registered::Created)
        })?)
    }

    fn get_task(
        &self,
        region: &str,
        window_id: &str,
        window_task_id: &str,
    ) -> Result<Option<WindowTaskRecord>> {
        Ok(self.with_client(async |c| {
            let row = c
                .query_opt(
                    &format!(
                        "SELECT {TASK_COLS} FROM maintenance_window_tasks \
                         WHERE region = $1 AND window_id = $2 AND window_task_id = $3"
                    ),
                    &[&region, &window_id, &window_task_id],
                )
                .await?;
            Ok(row.as_ref().map(task_from))
        })?)
    }

    fn list_tasks(&self, region: &str, window_id: &str) -> Result<Vec<WindowTaskRecord>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {TASK_COLS} FROM maintenance_window_tasks \
                         WHERE region = $1 AND window_id = $2 \
                         ORDER BY window_task_id COLLATE \"C\""
                    ),
                    &[&region, &window_id],
                )
                .await?;
            Ok(rows.iter().map(task_from).collect())
        })?)
    }

    fn list_region_tasks(&self, region: &str) -> Result<Vec<WindowTaskRecord>> {
        Ok(self.with_client(async |c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {TASK_COLS} FROM maintenance_window_tasks WHERE region = $1 \
                         ORDER BY window_id COLLATE \"C\", window_task_id COLLATE \"C\""
                    ),
                    &[&region],
                )
                .await?;
            Ok(rows.iter().map(task_from).collect())
        })?)
    }

    fn update_task(&self, t: &WindowTaskRecord) -> Result<Changed> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            if !lock_window(tx, &t.region, &t.window_id).await? {
                return Ok(Changed::NotFound);
            }
            if let Some(id) = missing_target(tx, &t.region, &t.window_id, &t.targets_json).await? {
                return Ok(Changed::NoSuchTarget(id));
            }
            let n = tx
                .execute(
                    "UPDATE maintenance_window_tasks SET task_arn = $4, targets_json = $5, \
                     service_role_arn = $6, task_parameters_json = $7, \
                     invocation_parameters_json = $8, priority = $9, max_concurrency = $10, \
                     max_errors = $11, name = $12, description = $13, cutoff_behavior = $14, \
                     registered_by = $15 \
                     WHERE region = $1 AND window_id = $2 AND window_task_id = $3",
                    &[
                        &t.region,
                        &t.window_id,
                        &t.window_task_id,
                        &t.task_arn,
                        &t.targets_json,
                        &t.service_role_arn,
                        &t.task_parameters_json,
                        &t.invocation_parameters_json,
                        &t.priority,
                        &t.max_concurrency,
                        &t.max_errors,
                        &t.name,
                        &t.description,
                        &t.cutoff_behavior,
                        &t.registered_by,
                    ],
                )
                .await?;
            if n == 1 {
                let events = task_registration_events(
                    &account,
                    now_ms(),
                    &t.region,
                    &t.window_id,
                    &t.window_task_id,
                    Registration::Updated,
                );
                emit(tx, &events).await?;
            }
            Ok(if n == 1 {
                Changed::Done
            } else {
                Changed::NotFound
            })
        })?)
    }

    fn deregister_task(&self, region: &str, window_id: &str, window_task_id: &str) -> Result<bool> {
        let account = self.event_account.get();
        Ok(self.transaction(async |tx| {
            if !lock_window(tx, region, window_id).await? {
                return Ok(false);
            }
            let n = tx
                .execute(
                    "DELETE FROM maintenance_window_tasks \
                     WHERE region = $1 AND window_id = $2 AND window_task_id = $3",
                    &[&region, &window_id, &window_task_id],
                )
                .await?;
            if n == 1 {
                let events = task_registration_events(
                    &account,
                    now_ms(),
                    region,
                    window_id,
                    window_task_id,
                    Registration::Deregistered,
                );
                emit(tx, &events).await?;
            }
            Ok(n == 1)
        })?)
    }
}
