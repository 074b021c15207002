//! Maintenance windows' run envelopes compared with the examples AWS documents
//! (api-surface.md §5.4). The examples name window `mw-123456789012345678` in `resources` but
//! `mw-0ed7251d3fcf6e0c2` in `detail` (placeholders); Bosun names the one window in both, so the
//! expected JSON uses the detail's id for both.

use super::*;

const WINDOW: &str = "mw-0ed7251d3fcf6e0c2";
const RUN: &str = "b60fb56e-776c-4e5c-84ee-123456789012";
const TASK: &str = "6417e808-7f35-4d1a-843f-123456789012";
const ID: &str = "01234567-0123-0123-0123-0123456789ab";

fn origin(now_ms: i64) -> Origin<'static> {
    Origin {
        account: "123456789012",
        region: "us-east-2",
        id: ID,
        now_ms,
    }
}

fn facts(start_ms: i64, end_ms: i64) -> RunFacts<'static> {
    RunFacts {
        window_id: WINDOW,
        window_execution_id: RUN,
        status: "TIMED_OUT",
        start_ms,
        end_ms,
    }
}

const T_56_427: i64 = 1_479_258_056_427; // 2016-11-16T01:00:56.427Z
const T_57_070: i64 = 1_479_258_057_070; // 2016-11-16T01:00:57.070Z

#[test]
fn an_execution_state_change_is_the_documented_event() {
    let event = execution_state_change(origin(T_57_070), &facts(T_56_427, T_57_070));
    let expected = json!({"version":"0","id":ID,"detail-type":"Maintenance Window Execution State-change Notification","source":"aws.ssm","account":"123456789012","time":"2016-11-16T01:00:57Z","region":"us-east-2",
     "resources":["arn:aws:ssm:us-east-2:123456789012:maintenancewindow/mw-0ed7251d3fcf6e0c2"],
     "detail":{"start-time":"2016-11-16T01:00:56.427Z","end-time":"2016-11-16T01:00:57.070Z","window-id":"mw-0ed7251d3fcf6e0c2","window-execution-id":"b60fb56e-776c-4e5c-84ee-123456789012","status":"TIMED_OUT"}});
    assert_eq!(event.envelope, expected);
    assert_eq!(event.detail_type, WINDOW_EXECUTION_STATE_CHANGE);
    assert_eq!(event.region, "us-east-2");
    assert_eq!(event.id, ID);
}

#[test]
fn a_task_state_change_is_the_documented_event() {
    let start = 1_479_258_056_759; // 01:00:56.759
    let end = 1_479_258_056_847; // 01:00:56.847
    let event = task_state_change(origin(end), &facts(start, end), TASK);
    let expected = json!({"version":"0","id":ID,"detail-type":"Maintenance Window Task Execution State-change Notification","source":"aws.ssm","account":"123456789012","time":"2016-11-16T01:00:56Z","region":"us-east-2",
     "resources":["arn:aws:ssm:us-east-2:123456789012:maintenancewindow/mw-0ed7251d3fcf6e0c2"],
     "detail":{"start-time":"2016-11-16T01:00:56.759Z","task-execution-id":"6417e808-7f35-4d1a-843f-123456789012","end-time":"2016-11-16T01:00:56.847Z","window-id":"mw-0ed7251d3fcf6e0c2","window-execution-id":"b60fb56e-776c-4e5c-84ee-123456789012","status":"TIMED_OUT"}});
    assert_eq!(event.envelope, expected);
    assert_eq!(event.detail_type, WINDOW_TASK_EXECUTION_STATE_CHANGE);
}

#[test]
fn an_invocation_state_change_is_the_documented_event() {
    let inv = InvocationFacts {
        task_execution_id: TASK,
        window_target_id: "e7265f13-3cc5-4f2f-97a9-123456789012",
        owner_information: "Owner",
    };
    let event = invocation_state_change(origin(T_57_070), &facts(T_56_427, T_57_070), &inv);
    let expected = json!({"version":"0","id":ID,"detail-type":"Maintenance Window Task Target Invocation State-change Notification","source":"aws.ssm","account":"123456789012","time":"2016-11-16T01:00:57Z","region":"us-east-2",
     "resources":["arn:aws:ssm:us-east-2:123456789012:maintenancewindow/mw-0ed7251d3fcf6e0c2"],
     "detail":{"start-time":"2016-11-16T01:00:56.427Z","end-time":"2016-11-16T01:00:57.070Z","window-id":"mw-0ed7251d3fcf6e0c2","window-execution-id":"b60fb56e-776c-4e5c-84ee-123456789012","task-execution-id":"6417e808-7f35-4d1a-843f-123456789012","window-target-id":"e7265f13-3cc5-4f2f-97a9-123456789012","status":"TIMED_OUT","owner-information":"Owner"}});
    assert_eq!(event.envelope, expected);
    assert_eq!(event.detail_type, WINDOW_TASK_INVOCATION_STATE_CHANGE);
}

#[test]
fn an_invocation_without_target_or_owner_leaves_those_keys_out() {
    let inv = InvocationFacts {
        task_execution_id: TASK,
        window_target_id: "",
        owner_information: "",
    };
    let event = invocation_state_change(origin(T_57_070), &facts(T_56_427, T_57_070), &inv);
    let detail = event.envelope["detail"].as_object().unwrap();
    assert!(!detail.contains_key("window-target-id"));
    assert!(!detail.contains_key("owner-information"));
    assert_eq!(detail["task-execution-id"], TASK);
}

#[test]
fn only_entering_a_final_status_emits() {
    for s in FINAL_STATUSES {
        assert!(emits_state_change(None, s), "{s}");
        assert!(emits_state_change(Some("IN_PROGRESS"), s), "{s}");
        assert!(!emits_state_change(Some(s), s), "{s}");
    }
    for s in ["PENDING", "IN_PROGRESS", "CANCELLING"] {
        assert!(!emits_state_change(None, s), "{s}");
        assert!(!emits_state_change(Some("PENDING"), s), "{s}");
    }
    assert!(!emits_state_change(Some("IN_PROGRESS"), "Success"));
}

#[test]
fn a_started_run_has_no_end_time() {
    let mut running = facts(T_56_427, 0);
    running.status = "IN_PROGRESS";
    let event = execution_state_change(origin(T_56_427), &running);
    let detail = event.envelope["detail"].as_object().unwrap();
    assert!(!detail.contains_key("end-time"), "{detail:?}");
    assert_eq!(detail["status"], "IN_PROGRESS");
    assert_eq!(detail["start-time"], "2016-11-16T01:00:56.427Z");
    for s in ["PENDING", "IN_PROGRESS"] {
        assert!(emits_start(s), "{s}");
    }
    for s in FINAL_STATUSES.iter().chain(&["CANCELLING"]) {
        assert!(!emits_start(s), "{s}");
    }
}
