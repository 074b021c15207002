//! Maintenance windows' definition events in AWS's envelope (api-surface.md §5.4 and the SSM
//! guide's "Amazon EventBridge event types" table): `Maintenance Window State-change
//! Notification` (`ENABLED`/`DISABLED`), `Maintenance Window Target Registration Notification`
//! and `Maintenance Window Task Registration Notification` (`REGISTERED`/`UPDATED`/
//! `DEREGISTERED`). Kebab-case details; `resources` name the window
//! (`maintenancewindow/<mw-id>`) and, for a target or task, the target
//! (`windowtarget/<id>`, as AWS's example) or task (`windowtask/<id>`, by analogy).
//!
//! **Which changes emit:** a window's `Enabled` flipping by `UpdateMaintenanceWindow` (its
//! creation is not a state change); a target's or task's registration, update and
//! deregistration, each when it is stored (a retried registration answered from its client
//! token emits nothing). Deleting a window deletes its targets and tasks silently.

use serde_json::json;

use super::envelope::{envelope, Event, Origin};
use super::envelope_maintenance_windows::window_arn;

/// A window was enabled or disabled.
pub const WINDOW_STATE_CHANGE: &str = "Maintenance Window State-change Notification";
/// A window target was registered, updated or deregistered.
pub const WINDOW_TARGET_REGISTRATION: &str = "Maintenance Window Target Registration Notification";
/// A window task was registered, updated or deregistered.
pub const WINDOW_TASK_REGISTRATION: &str = "Maintenance Window Task Registration Notification";

/// What happened to a target or task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    Registered,
    Updated,
    Deregistered,
}

impl Registration {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "REGISTERED",
            Self::Updated => "UPDATED",
            Self::Deregistered => "DEREGISTERED",
        }
    }
}

/// `Maintenance Window State-change Notification`: the window is now `enabled` or not.
pub fn window_state_change(origin: Origin<'_>, window_id: &str, enabled: bool) -> Event {
    let detail = json!({
        "window-id": window_id,
        "status": if enabled { "ENABLED" } else { "DISABLED" },
    });
    let resources = vec![window_arn(origin.region, origin.account, window_id)];
    envelope(origin, WINDOW_STATE_CHANGE, resources, detail)
}

/// `Maintenance Window Target Registration Notification` for target `window_target_id`.
pub fn target_registration(
    origin: Origin<'_>,
    window_id: &str,
    window_target_id: &str,
    what: Registration,
) -> Event {
    let detail = json!({
        "window-target-id": window_target_id,
        "window-id": window_id,
        "status": what.as_str(),
    });
    let resources = vec![
        window_arn(origin.region, origin.account, window_id),
        format!(
            "arn:aws:ssm:{}:{}:windowtarget/{window_target_id}",
            origin.region, origin.account
        ),
    ];
    envelope(origin, WINDOW_TARGET_REGISTRATION, resources, detail)
}

/// `Maintenance Window Task Registration Notification` for task `window_task_id`.
pub fn task_registration(
    origin: Origin<'_>,
    window_id: &str,
    window_task_id: &str,
    what: Registration,
) -> Event {
    let detail = json!({
        "window-task-id": window_task_id,
        "window-id": window_id,
        "status": what.as_str(),
    });
    let resources = vec![
        window_arn(origin.region, origin.account, window_id),
        format!(
            "arn:aws:ssm:{}:{}:windowtask/{window_task_id}",
            origin.region, origin.account
        ),
    ];
    envelope(origin, WINDOW_TASK_REGISTRATION, resources, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin<'static> {
        Origin {
            account: "123456789012",
            region: "us-east-2",
            id: "01234567-0123-0123-0123-0123456789ab",
            now_ms: 1_479_257_917_000, // 2016-11-16T00:58:37Z
        }
    }

    #[test]
    fn a_target_registration_is_aws_s_published_example() {
        let e = target_registration(
            origin(),
            "mw-0ed7251d3fcf6e0c2",
            "e7265f13-3cc5-4f2f-97a9-7d3ca86c32a6",
            Registration::Registered,
        );
        let expected: serde_json::Value = serde_json::from_str(
            r#"{"version":"0","id":"01234567-0123-0123-0123-0123456789ab","detail-type":"Maintenance Window Target Registration Notification","source":"aws.ssm","account":"123456789012","time":"2016-11-16T00:58:37Z","region":"us-east-2",
 "resources":["arn:aws:ssm:us-east-2:123456789012:maintenancewindow/mw-0ed7251d3fcf6e0c2","arn:aws:ssm:us-east-2:123456789012:windowtarget/e7265f13-3cc5-4f2f-97a9-7d3ca86c32a6"],
 "detail":{"window-target-id":"e7265f13-3cc5-4f2f-97a9-7d3ca86c32a6","window-id":"mw-0ed7251d3fcf6e0c2","status":"REGISTERED"}}"#,
        )
        .unwrap();
        assert_eq!(e.envelope, expected);
        assert_eq!(e.detail_type, WINDOW_TARGET_REGISTRATION);
    }

    #[test]
    fn a_window_state_change_is_aws_s_published_example() {
        let e = window_state_change(origin(), "mw-123456789012", false);
        assert_eq!(e.envelope["detail-type"], WINDOW_STATE_CHANGE);
        assert_eq!(
            e.envelope["detail"],
            json!({"window-id": "mw-123456789012", "status": "DISABLED"})
        );
        assert_eq!(
            e.envelope["resources"],
            json!(["arn:aws:ssm:us-east-2:123456789012:maintenancewindow/mw-123456789012"])
        );
        let on = window_state_change(origin(), "mw-1", true);
        assert_eq!(on.envelope["detail"]["status"], "ENABLED");
    }

    #[test]
    fn a_task_registration_names_the_task() {
        let e = task_registration(origin(), "mw-1", "t-1", Registration::Deregistered);
        assert_eq!(e.detail_type, WINDOW_TASK_REGISTRATION);
        assert_eq!(
            e.envelope["detail"],
            json!({"window-task-id": "t-1", "window-id": "mw-1", "status": "DEREGISTERED"})
        );
        assert_eq!(
            e.envelope["resources"][1],
            "arn:aws:ssm:us-east-2:123456789012:windowtask/t-1"
        );
        let u = task_registration(origin(), "mw-1", "t-1", Registration::Updated);
        assert_eq!(u.envelope["detail"]["status"], "UPDATED");
    }
}
