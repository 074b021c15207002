//! Automation's events from stored rows, for the driver to hand to the write that makes the
//! change ([`crate::AutomationStore::update_owned_automation_execution`],
//! [`crate::AutomationStore::put_owned_automation_step`]), which appends them in its own
//! transaction only if the write lands (`bosun_core::events::envelope_automation` builds the
//! envelopes and says which changes emit):
//!
//! - `EC2 Automation Execution Status-change Notification` when an execution ends;
//! - `EC2 Automation Step Status-change Notification` when one of its steps ends.

use bosun_core::events::envelope::{Event, Origin};
use bosun_core::events::envelope_automation::{
    emits_status_change, execution_status_change, step_status_change, AutomationFacts, StepEnd,
};

use crate::event_outbox::new_event_id;
use crate::{AutomationExecutionRecord, AutomationStepRecord};

fn facts(e: &AutomationExecutionRecord) -> AutomationFacts<'_> {
    AutomationFacts {
        execution_id: &e.execution_id,
        document_name: &e.document_name,
        document_version: &e.document_version,
    }
}

/// The events writing `e` (whose status was `old`) emits: its status-change event when it now
/// ends, else none.
pub fn execution_events(
    account: &str,
    now_ms: i64,
    old: &str,
    e: &AutomationExecutionRecord,
) -> Vec<Event> {
    if !emits_status_change(Some(old), &e.status) {
        return Vec::new();
    }
    let id = new_event_id();
    let origin = Origin {
        account,
        region: &e.region,
        id: &id,
        now_ms,
    };
    let end_ms = e.end_ms.unwrap_or(now_ms);
    vec![execution_status_change(
        origin,
        &facts(e),
        &e.executed_by,
        &e.status,
        e.start_ms,
        end_ms,
    )]
}

/// The events writing step `s` of `e` (whose status was `old`; `None` for a new step row)
/// emits: its status-change event when it now ends, else none.
pub fn step_events(
    account: &str,
    now_ms: i64,
    e: &AutomationExecutionRecord,
    old: Option<&str>,
    s: &AutomationStepRecord,
) -> Vec<Event> {
    if !emits_status_change(old, &s.status) {
        return Vec::new();
    }
    let id = new_event_id();
    let origin = Origin {
        account,
        region: &e.region,
        id: &id,
        now_ms,
    };
    let end_ms = s.end_ms.unwrap_or(now_ms);
    let step = StepEnd {
        step_name: &s.step_name,
        action: &s.action,
        status: &s.status,
        start_ms: s.start_ms.unwrap_or(end_ms),
        end_ms,
    };
    vec![step_status_change(origin, &facts(e), &step)]
}
