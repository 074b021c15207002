//! `aws:loop` end to end: a `for each` loop over a StringList parameter running a real command
//! per value, a `do while` loop on an inner step's output and `MaxIterations`, an inner step's
//! failure (inherited by the loop) against the loop's own error and `onFailure`, a stop, and a
//! server killed with -9 mid-loop resuming at the right iteration without running an inner
//! step twice.

use aws_sdk_ssm::types::{AutomationExecution, AutomationExecutionStatus, StepExecution};
use bosun_e2e::automation::{create_runbook, get, wait_status, LIMIT};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;
use serde_json::{json, Value};

fn run(name: &str, commands: Vec<String>) -> Value {
    json!({"name": name, "action": "aws:runCommand", "inputs": {
        "DocumentName": "AWS-RunShellScript", "InstanceIds": ["{{ InstanceId }}"],
        "Parameters": {"commands": commands}}})
}

fn runbook(main: Value) -> Value {
    json!({"schemaVersion": "0.3",
        "parameters": {"InstanceId": {"type": "String"}, "Log": {"type": "String"},
                       "Names": {"type": "StringList", "default": ["a", "b", "c"]}},
        "mainSteps": main,
        "outputs": ["each.CurrentIteration", "each.CurrentIteratorValue"]})
}

async fn start(c: &aws_sdk_ssm::Client, doc: &str, node: &str, log: &str) -> String {
    c.start_automation_execution()
        .document_name(doc)
        .parameters("InstanceId", vec![node.to_string()])
        .parameters("Log", vec![log.to_string()])
        .send()
        .await
        .unwrap()
        .automation_execution_id
        .unwrap()
}

fn names(e: &AutomationExecution) -> Vec<&str> {
    e.step_executions()
        .iter()
        .map(|s| s.step_name().unwrap())
        .collect()
}

fn output<'a>(s: &'a StepExecution, key: &str) -> Vec<&'a str> {
    s.outputs()
        .and_then(|o| o.get(key))
        .map(|v| v.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Each inner execution's (iteration, iterator value), checked to name the loop's execution.
fn iterations(e: &AutomationExecution, loop_name: &str) -> Vec<(i32, Option<String>)> {
    let steps = e.step_executions();
    let l = steps
        .iter()
        .find(|s| s.step_name() == Some(loop_name))
        .unwrap();
    steps
        .iter()
        .filter_map(|s| s.parent_step_details())
        .filter(|p| p.step_name() == Some(loop_name))
        .map(|p| {
            assert_eq!(p.step_execution_id(), l.step_execution_id());
            assert_eq!(p.action(), Some("aws:loop"));
            (p.iteration().unwrap(), p.iterator_value().map(String::from))
        })
        .collect()
}

fn log_of(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_for_each_loop_runs_a_command_per_value_and_a_do_while_loop_its_condition() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let c = &fleet.client;
    let mark = "echo {{ each.CurrentIteration }} {{ each.CurrentIteratorValue }} >> {{ Log }}";
    let tick = "echo x >> {{ Log }}.ticks; \
                if [ $(wc -l < {{ Log }}.ticks) -ge 3 ]; then echo done; else echo more; fi";
    create_runbook(
        c,
        "Loop-Each",
        runbook(json!([
            {"name": "each", "action": "aws:loop", "inputs": {
                "Iterators": "{{ Names }}", "Steps": [run("mark", vec![mark.into()])]}},
            {"name": "until", "action": "aws:loop", "inputs": {
                "MaxIterations": 5,
                "LoopCondition": {"Not": {"Variable": "{{ tick.Output }}", "Contains": "done"}},
                "Steps": [run("tick", vec![tick.into()])]}},
            {"name": "cap", "action": "aws:loop", "inputs": {
                "MaxIterations": 2,
                "LoopCondition": {"Variable": "{{ cap.CurrentIteration }}", "NumericGreater": 0},
                "Steps": [{"name": "nap", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}}]}}
        ])),
    )
    .await;
    let log = log_of(&dir, "each.log");
    let id = start(c, "Loop-Each", &node, &log).await;
    let e = wait_status(c, &id, AutomationExecutionStatus::Success).await;
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "1 a\n2 b\n3 c\n");
    assert_eq!(
        names(&e),
        ["each", "mark", "mark", "mark", "until", "tick", "tick", "tick", "cap", "nap", "nap"]
    );
    let l = &e.step_executions()[0];
    assert_eq!(l.action(), Some("aws:loop"));
    assert_eq!(l.step_status(), Some(&AutomationExecutionStatus::Success));
    assert_eq!(output(l, "CurrentIteration"), ["3"]);
    assert_eq!(output(l, "CurrentIteratorValue"), ["c"]);
    assert_eq!(
        iterations(&e, "each"),
        [
            (1, Some("a".into())),
            (2, Some("b".into())),
            (3, Some("c".into()))
        ]
    );
    assert_eq!(iterations(&e, "until"), [(1, None), (2, None), (3, None)]);
    assert_eq!(iterations(&e, "cap"), [(1, None), (2, None)]);
    let outputs = e.outputs().unwrap();
    assert_eq!(outputs["each.CurrentIteratorValue"], ["c"]);
    assert_eq!(outputs["each.CurrentIteration"], ["3"]);
    // The inner steps' executions are listed and filtered as any step's.
    let marks = c
        .describe_automation_step_executions()
        .automation_execution_id(&id)
        .filters(
            aws_sdk_ssm::types::StepExecutionFilter::builder()
                .key(aws_sdk_ssm::types::StepExecutionFilterKey::StepName)
                .values("mark")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let listed: Vec<i32> = marks
        .step_executions()
        .iter()
        .map(|s| s.parent_step_details().unwrap().iteration().unwrap())
        .collect();
    assert_eq!(listed, [1, 2, 3]);
    // `bosun automation show` tells the iterations apart.
    let (ok, out, err) = fleet.server.cli(&["automation", "show", &id]).await;
    assert!(ok, "{out}{err}");
    for label in [
        "each[1].mark",
        "each[3].mark",
        "until[2].tick",
        "cap[2].nap",
    ] {
        assert!(out.contains(label), "{label}: {out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_inner_step_fails_the_loop_and_the_execution_it_inherits_the_abort_of() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let c = &fleet.client;
    let check = "test {{ each.CurrentIteratorValue }} != b && echo {{ each.CurrentIteratorValue }} >> {{ Log }}";
    let doc = |loop_on_failure: Option<&str>, inner_on_failure: Option<&str>| {
        let mut inner = run("check", vec![check.into()]);
        if let Some(f) = inner_on_failure {
            inner["onFailure"] = json!(f);
        }
        let mut l = json!({"name": "each", "action": "aws:loop",
            "inputs": {"Iterators": "{{ Names }}", "Steps": [inner]}});
        if let Some(f) = loop_on_failure {
            l["onFailure"] = json!(f);
        }
        runbook(json!([
            l,
            run("after", vec!["echo after >> {{ Log }}".into()])
        ]))
    };
    create_runbook(c, "Loop-Abort", doc(None, None)).await;
    create_runbook(c, "Loop-Abort-Continue", doc(Some("Continue"), None)).await;
    create_runbook(c, "Loop-Inner-Continue", doc(None, Some("Continue"))).await;
    let mut own = doc(Some("Continue"), None);
    own["mainSteps"][0]["inputs"]["IteratorDataType"] = json!("Integer");
    create_runbook(c, "Loop-Own-Error", own).await;

    // An inner Abort fails the loop step, and the loop's default Abort the execution.
    let log = log_of(&dir, "abort.log");
    let id = start(c, "Loop-Abort", &node, &log).await;
    let e = wait_status(c, &id, AutomationExecutionStatus::Failed).await;
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "a\n");
    assert_eq!(names(&e), ["each", "check", "check"]);
    let l = &e.step_executions()[0];
    assert_eq!(l.step_status(), Some(&AutomationExecutionStatus::Failed));
    assert!(
        l.failure_message().unwrap().contains("Step check failed"),
        "{l:#?}"
    );
    assert_eq!(output(l, "CurrentIteratorValue"), ["b"]);

    // The loop inherits its inner step's Abort: its own onFailure: Continue is for its own
    // errors only, so the execution still fails there.
    let log = log_of(&dir, "continue.log");
    let id = start(c, "Loop-Abort-Continue", &node, &log).await;
    let e = wait_status(c, &id, AutomationExecutionStatus::Failed).await;
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "a\n");
    assert_eq!(names(&e), ["each", "check", "check"]);

    // The loop's own error (an item not of its IteratorDataType) is what its onFailure:
    // Continue goes on after.
    let log = log_of(&dir, "own.log");
    let id = start(c, "Loop-Own-Error", &node, &log).await;
    let e = wait_status(c, &id, AutomationExecutionStatus::Success).await;
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "after\n");
    assert_eq!(names(&e), ["each", "after"]);
    let l = &e.step_executions()[0];
    assert_eq!(l.step_status(), Some(&AutomationExecutionStatus::Failed));
    assert!(
        l.failure_message()
            .unwrap()
            .contains("is not of type Integer"),
        "{l:#?}"
    );

    // An inner onFailure: Continue carries the loop on through every item.
    let log = log_of(&dir, "inner.log");
    let id = start(c, "Loop-Inner-Continue", &node, &log).await;
    let e = wait_status(c, &id, AutomationExecutionStatus::Success).await;
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "a\nc\nafter\n");
    assert_eq!(names(&e), ["each", "check", "check", "check", "after"]);
    let statuses: Vec<_> = e
        .step_executions()
        .iter()
        .map(|s| s.step_status().unwrap().as_str())
        .collect();
    assert_eq!(
        statuses,
        ["Success", "Success", "Failed", "Success", "Success"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_loop_resumes_at_its_iteration_without_running_a_step_twice() {
    let mut fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let log = log_of(&dir, "runs.log");
    let c = fleet.client.clone();
    create_runbook(
        &c,
        "Loop-Crash",
        runbook(json!([
            {"name": "each", "action": "aws:loop", "inputs": {"Iterators": "{{ Names }}", "Steps": [
                run("mark", vec!["echo {{ each.CurrentIteratorValue }} >> {{ Log }}".into(),
                                 "sleep 3".into()]),
                {"name": "nap", "action": "aws:sleep", "inputs": {"Duration": "PT3S"}}]}},
            run("after", vec!["echo after >> {{ Log }}".into()])
        ])),
    )
    .await;
    let id = start(&c, "Loop-Crash", &node, &log).await;
    // Kill -9 while the second iteration's command runs.
    wait_for("the second command running", LIMIT, || async {
        let e = get(&c, &id).await;
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        (e.current_step_name() == Some("mark") && log == "a\nb\n").then_some(())
    })
    .await;
    fleet.server.restart().await;
    let c = fleet.server.client();
    // And again while that iteration's sleep runs.
    wait_for("the second iteration's sleep", LIMIT, || async {
        let e = get(&c, &id).await;
        let naps = names(&e).iter().filter(|n| **n == "nap").count();
        (e.current_step_name() == Some("nap") && naps == 2).then_some(())
    })
    .await;
    fleet.server.restart().await;
    let c = fleet.server.client();
    let e = wait_status(&c, &id, AutomationExecutionStatus::Success).await;
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "a\nb\nc\nafter\n");
    assert_eq!(
        names(&e),
        ["each", "mark", "nap", "mark", "nap", "mark", "nap", "after"]
    );
    assert_eq!(
        iterations(&e, "each"),
        [1, 1, 2, 2, 3, 3].map(|n| (n, Some(["a", "b", "c"][n as usize - 1].to_string())))
    );
    // One command per inner runCommand execution, and the step after the loop's.
    let commands = c.list_commands().send().await.unwrap();
    assert_eq!(commands.commands().len(), 4, "{commands:#?}");
    for s in e
        .step_executions()
        .iter()
        .filter(|s| s.step_name() == Some("nap"))
    {
        let slept = s.execution_end_time().unwrap().as_secs_f64()
            - s.execution_start_time().unwrap().as_secs_f64();
        assert!(slept >= 3.0, "{s:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_an_execution_mid_loop_cancels_the_inner_step_and_the_loop() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let c = &fleet.client;
    create_runbook(
        c,
        "Loop-Stop",
        runbook(json!([
            {"name": "each", "action": "aws:loop", "inputs": {"Iterators": "{{ Names }}", "Steps": [
                {"name": "nap", "action": "aws:sleep", "inputs": {"Duration": "PT60S"}}]}},
            {"name": "after", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}}
        ])),
    )
    .await;
    let id = start(c, "Loop-Stop", &node, "/dev/null").await;
    wait_for("the first iteration's sleep", LIMIT, || async {
        let e = get(c, &id).await;
        (e.current_step_name() == Some("nap")).then_some(())
    })
    .await;
    c.stop_automation_execution()
        .automation_execution_id(&id)
        .send()
        .await
        .unwrap();
    let e = wait_status(c, &id, AutomationExecutionStatus::Cancelled).await;
    assert_eq!(names(&e), ["each", "nap"]);
    for s in e.step_executions() {
        assert_eq!(
            s.step_status(),
            Some(&AutomationExecutionStatus::Cancelled),
            "{s:#?}"
        );
    }
}
