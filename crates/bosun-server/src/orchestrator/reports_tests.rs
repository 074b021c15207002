//! Tests of applying batches of agent reports.

use bosun_proto::command::{StepResult, StepStatus};
use bosun_proto::CommandResult;
use bosun_store::{InvocationRecord, PluginRecord};

use super::reports::{apply_reports, Report};

fn invocation(node: &str, status: &str) -> InvocationRecord {
    InvocationRecord {
        command_id: "c".into(),
        instance_id: node.into(),
        seq: 1,
        instance_name: String::new(),
        status: status.into(),
        status_details: status.into(),
        dispatched_ms: Some(1),
        acked: false,
        response_code: -1,
        start_ms: None,
        end_ms: None,
    }
}

fn step(node: &str) -> PluginRecord {
    PluginRecord {
        command_id: "c".into(),
        instance_id: node.into(),
        seq: 1,
        name: "run".into(),
        status: "Pending".into(),
        status_details: "Pending".into(),
        response_code: -1,
        start_ms: None,
        end_ms: None,
        stdout: String::new(),
        stderr: String::new(),
        stdout_bytes: 0,
        stderr_bytes: 0,
        detail: String::new(),
    }
}

fn ack(node: &str) -> Report {
    Report::Ack {
        command_id: "c".into(),
        instance_id: node.into(),
    }
}

fn result(node: &str, code: i32, complete: bool) -> Report {
    Report::Result {
        instance_id: node.into(),
        result: CommandResult {
            command_id: "c".into(),
            not_run: None,
            steps: vec![StepResult {
                name: "run".into(),
                status: if code == 0 {
                    StepStatus::Success
                } else {
                    StepStatus::Failed
                },
                response_code: code,
                start_ms: Some(10),
                end_ms: Some(20),
                stdout: "out".into(),
                stderr: String::new(),
                stdout_bytes: 3,
                stderr_bytes: 0,
                detail: None,
            }],
        },
        complete,
    }
}

#[test]
fn an_ack_and_the_result_after_it_compose_into_two_rows_in_order() {
    let applied = apply_reports(
        &[ack("mi-a"), result("mi-a", 0, true)],
        vec![invocation("mi-a", "InProgress")],
        vec![step("mi-a")],
    );
    assert_eq!(applied.rows.len(), 2);
    assert!(applied.rows[0].0.acked);
    assert!(applied.rows[0].1.is_empty(), "an ack writes no steps");
    let (i, steps) = &applied.rows[1];
    assert_eq!(i.status, "Success");
    assert!(i.acked, "the result starts from the acknowledged record");
    assert_eq!(
        (i.response_code, i.start_ms, i.end_ms),
        (0, Some(10), Some(20))
    );
    assert_eq!(steps[0].status, "Success");
    assert_eq!(steps[0].stdout, "out");
    assert_eq!(applied.acks, [("mi-a".to_string(), "c".to_string())]);
}

#[test]
fn a_result_sent_twice_is_written_once_and_acknowledged_when_complete() {
    let applied = apply_reports(
        &[result("mi-a", 3, false), result("mi-a", 3, true)],
        vec![invocation("mi-a", "InProgress")],
        vec![step("mi-a")],
    );
    assert_eq!(applied.rows.len(), 1);
    assert_eq!(applied.rows[0].0.status, "Failed");
    assert_eq!(
        applied.acks.len(),
        1,
        "only the copy whose output is complete"
    );
}

#[test]
fn unknown_and_finished_invocations_change_nothing() {
    let applied = apply_reports(
        &[
            ack("mi-gone"),
            result("mi-gone", 0, false),
            ack("mi-done"),
            result("mi-done", 0, false),
        ],
        vec![invocation("mi-done", "Success")],
        vec![step("mi-done")],
    );
    assert!(applied.rows.is_empty());
    assert_eq!(
        applied.acks,
        [("mi-gone".to_string(), "c".to_string())],
        "a result nothing will take is acknowledged so the agent drops it"
    );
}

#[test]
fn reports_for_different_nodes_keep_their_own_records() {
    let applied = apply_reports(
        &[result("mi-a", 0, true), result("mi-b", 1, true)],
        vec![
            invocation("mi-b", "InProgress"),
            invocation("mi-a", "InProgress"),
        ],
        vec![step("mi-b"), step("mi-a")],
    );
    let statuses: Vec<(&str, &str, &str)> = applied
        .rows
        .iter()
        .map(|(i, s)| {
            (
                i.instance_id.as_str(),
                i.status.as_str(),
                s[0].instance_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [("mi-a", "Success", "mi-a"), ("mi-b", "Failed", "mi-b")]
    );
}
