//! Tests of the reboot rules, and of a document run across reboots as the agent drives it.

use super::*;
use crate::command::{DocumentFlow, NextStep, PluginOutcome, StepFlow};

#[test]
fn only_script_steps_ask_for_reboots_with_194_or_3010() {
    for action in [
        "aws:runShellScript",
        "aws:runPowerShellScript",
        "AWS:RUNSHELLSCRIPT",
    ] {
        assert_eq!(reboot_ask(action, 194), RebootAsk::Yes, "{action}");
        assert_eq!(reboot_ask(action, 3010), RebootAsk::Yes, "{action}");
        for code in [0, 1, 168, 169, 193, 195, 3011, -1] {
            assert_eq!(reboot_ask(action, code), RebootAsk::No, "{action} {code}");
        }
    }
    for action in ["aws:runDocument", "aws:downloadContent"] {
        let RebootAsk::NotHere(why) = reboot_ask(action, 194) else {
            panic!("{action} may not reboot");
        };
        assert!(why.contains("aws:runDocument"), "{why}");
        assert_eq!(reboot_ask(action, 0), RebootAsk::No);
    }
    assert!(not_allowed_message(3010).contains("exit code 3010"));
    assert!(not_allowed_message(194).contains("Agent.AllowReboot is false"));
    assert!(too_many_message(194).contains("15 reboots"));
    assert!(no_reboot_message(300).contains("within 300 seconds"));
}

#[test]
fn a_recorded_reboot_after_a_restart() {
    let t = 1_000_000;
    // A new boot id settles it, whatever else was recorded.
    assert_eq!(node_check("a", "b", None, t, 60_000), NodeCheck::Rebooted);
    assert_eq!(
        node_check("a", "b", Some(t), t, 60_000),
        NodeCheck::Rebooted
    );
    // Same boot: the command never ran (the agent stopped first), so it runs now.
    assert_eq!(node_check("a", "a", None, t, 60_000), NodeCheck::RunCommand);
    // It ran: the node gets the timeout to go down, counted from the command.
    assert_eq!(
        node_check("a", "a", Some(t), t + 59_999, 60_000),
        NodeCheck::WaitUntil(t + 60_000)
    );
    assert_eq!(
        node_check("a", "a", Some(t), t + 60_000, 60_000),
        NodeCheck::NoReboot
    );
}

#[test]
fn a_step_that_asked_for_a_reboot() {
    let failed = Attempt {
        commanded_ms: Some(100),
        failure: Some("the reboot command failed"),
    };
    // Rebooted since: it runs again, even if an attempt in the old boot failed.
    assert_eq!(step_resume("a", 50, "b", None), StepResume::Rerun);
    assert_eq!(step_resume("a", 50, "b", Some(failed)), StepResume::Rerun);
    // Same boot, nothing failed (yet): wait for the reboot.
    assert_eq!(step_resume("a", 50, "a", None), StepResume::AwaitReboot);
    let running = Attempt {
        commanded_ms: Some(100),
        failure: None,
    };
    assert_eq!(
        step_resume("a", 50, "a", Some(running)),
        StepResume::AwaitReboot
    );
    // The attempt that covered it failed: so does the step.
    assert_eq!(
        step_resume("a", 100, "a", Some(failed)),
        StepResume::Failed("the reboot command failed".into())
    );
    // Asked after that attempt's command ran: it gets an attempt of its own.
    assert_eq!(
        step_resume("a", 101, "a", Some(failed)),
        StepResume::AwaitReboot
    );
}

/// How a step ends on each of its runs (the last entry repeats).
struct Script(Vec<i32>);

/// Drive a document across reboots as the agent does: finished steps are re-read, never run
/// again; a step that asked for a reboot stops the document until the node rebooted, then
/// runs again. Returns how many times each step ran, the reboots, and the final outcomes.
fn run_across_reboots(scripts: &[Script]) -> (Vec<usize>, usize, Vec<PluginOutcome>) {
    let n = scripts.len();
    let mut runs = vec![0; n];
    // What the node keeps on disk: a step's final exit code, or its reboot request's boot id.
    let mut finished: Vec<Option<i32>> = vec![None; n];
    let mut asked: Vec<Option<String>> = vec![None; n];
    let mut reboots_asked = vec![0usize; n];
    let mut boot = 0;
    loop {
        let current = format!("boot-{boot}");
        let mut doc = DocumentFlow::new();
        let mut outcomes = Vec::new();
        let mut reboot = false;
        for i in 0..n {
            let flow = StepFlow::default();
            assert_eq!(doc.next_step(flow, i + 1 == n), NextStep::Run);
            if let Some(b) = &asked[i] {
                match step_resume(b, 0, &current, None) {
                    StepResume::Rerun => asked[i] = None,
                    StepResume::AwaitReboot => unreachable!("the node rebooted before resuming"),
                    StepResume::Failed(why) => panic!("{why}"),
                }
            }
            let code = match finished[i] {
                Some(code) => code,
                None => {
                    let code = *scripts[i].0.get(runs[i]).or(scripts[i].0.last()).unwrap();
                    runs[i] += 1;
                    if reboot_ask("aws:runShellScript", code) == RebootAsk::Yes
                        && reboots_asked[i] < MAX_REBOOTS_PER_STEP
                    {
                        reboots_asked[i] += 1;
                        asked[i] = Some(current.clone());
                        reboot = true;
                        break;
                    }
                    finished[i] = Some(code);
                    code
                }
            };
            let raw = if code == 0 {
                PluginOutcome::Success
            } else {
                PluginOutcome::Failed
            };
            outcomes.push(doc.record(flow, raw, code).outcome);
        }
        if !reboot {
            let reboots = reboots_asked.iter().sum();
            return (runs, reboots, outcomes);
        }
        boot += 1;
    }
}

#[test]
fn a_document_resumes_at_the_step_that_asked_and_never_reruns_a_finished_one() {
    // The document: step 2 asks once, then succeeds.
    let (runs, reboots, outcomes) =
        run_across_reboots(&[Script(vec![0]), Script(vec![194, 0]), Script(vec![0])]);
    assert_eq!(runs, [1, 2, 1]);
    assert_eq!(reboots, 1);
    assert_eq!(outcomes, [PluginOutcome::Success; 3]);
    // Two steps ask (one twice, with the Windows code): each reruns, nothing else does; a
    // failed step before them is re-read as failed, not run again.
    let (runs, reboots, outcomes) = run_across_reboots(&[
        Script(vec![3]),
        Script(vec![3010, 194, 0]),
        Script(vec![0]),
        Script(vec![194, 0]),
    ]);
    assert_eq!(runs, [1, 3, 1, 2]);
    assert_eq!(reboots, 3);
    assert_eq!(outcomes[0], PluginOutcome::Failed);
    assert_eq!(outcomes[1..], [PluginOutcome::Success; 3]);
    // A step that never stops asking fails once it is out of reboots.
    let (runs, reboots, outcomes) = run_across_reboots(&[Script(vec![194]), Script(vec![0])]);
    assert_eq!(runs, [MAX_REBOOTS_PER_STEP + 1, 1]);
    assert_eq!(reboots, MAX_REBOOTS_PER_STEP);
    assert_eq!(outcomes, [PluginOutcome::Failed, PluginOutcome::Success]);
}
