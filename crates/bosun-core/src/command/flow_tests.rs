//! Tests of step flow: each early-exit rule, then every combination rolled up.

use proptest::prelude::*;

use super::*;
use crate::command::plugin::roll_up_final;
use crate::command::InvocationOutcome as O;
use PluginOutcome as P;

/// A step's raw ending: its outcome as the process ended and its exit code.
type Raw = (PluginOutcome, i32);

const OK: Raw = (P::Success, 0);
const FAIL: Raw = (P::Failed, 1);

/// Run a document as the agent does; `raw[i]` is how step `i` ends if it runs. Returns what
/// each step reports and which steps ran.
fn run(flows: &[StepFlow], raw: &[Raw]) -> (Vec<Reported>, Vec<usize>) {
    let mut doc = DocumentFlow::new();
    let mut reported = Vec::new();
    let mut ran = Vec::new();
    for (i, flow) in flows.iter().enumerate() {
        let r = match doc.next_step(*flow, i + 1 == flows.len()) {
            NextStep::Run => {
                ran.push(i);
                let (outcome, code) = raw[i];
                doc.record(*flow, outcome, code)
            }
            NextStep::SkipAfterExit => skipped_after_exit(),
            NextStep::Cancelled => cancelled_before_start(),
        };
        reported.push(r);
    }
    (reported, ran)
}

fn outcomes(r: &[Reported]) -> Vec<PluginOutcome> {
    r.iter().map(|r| r.outcome).collect()
}

fn plain() -> StepFlow {
    StepFlow::default()
}

fn on_failure(on_failure: OnFailure) -> StepFlow {
    StepFlow {
        on_failure,
        ..plain()
    }
}

#[test]
fn exit_code_168_ends_the_document_successfully() {
    let (r, ran) = run(&[plain(), plain(), plain()], &[(P::Failed, 168), OK, OK]);
    assert_eq!(ran, [0]);
    assert_eq!(outcomes(&r), [P::Success, P::Skipped, P::Skipped]);
    assert_eq!(r[0].response_code, 168);
    assert_eq!(r[1].response_code, 0, "skipped steps report code 0");
    assert!(r[0].note.is_some());
    assert_eq!(roll_up_final(&outcomes(&r)), O::Success);
}

#[test]
fn exit_code_169_ends_the_document_failed() {
    let (r, ran) = run(&[plain(), plain()], &[(P::Failed, 169), OK]);
    assert_eq!(ran, [0]);
    assert_eq!(outcomes(&r), [P::Failed, P::Skipped]);
    assert_eq!(r[0].response_code, 169);
    assert_eq!(roll_up_final(&outcomes(&r)), O::Failed);
}

#[test]
fn on_success_exit_ends_the_document_successfully() {
    let exit = StepFlow {
        exit_on_success: true,
        ..plain()
    };
    let (r, ran) = run(&[exit, plain()], &[OK, OK]);
    assert_eq!(ran, [0]);
    assert_eq!(outcomes(&r), [P::Success, P::Skipped]);
    assert_eq!(roll_up_final(&outcomes(&r)), O::Success);
    // Only on success: a failure goes on to the next step.
    let (r, ran) = run(&[exit, plain()], &[FAIL, OK]);
    assert_eq!(ran, [0, 1]);
    assert_eq!(roll_up_final(&outcomes(&r)), O::Failed);
}

#[test]
fn on_failure_success_and_exit_reports_success_with_168() {
    let flows = [on_failure(OnFailure::SuccessAndExit), plain()];
    let (r, ran) = run(&flows, &[(P::Failed, 7), OK]);
    assert_eq!(ran, [0]);
    assert_eq!(outcomes(&r), [P::Success, P::Skipped]);
    assert_eq!(r[0].response_code, 168);
    assert_eq!(roll_up_final(&outcomes(&r)), O::Success);
    // A success goes on.
    let (_, ran) = run(&flows, &[OK, OK]);
    assert_eq!(ran, [0, 1]);
}

#[test]
fn on_failure_exit_ends_the_document_failed() {
    let (r, ran) = run(
        &[on_failure(OnFailure::Exit), plain()],
        &[(P::Failed, 2), OK],
    );
    assert_eq!(ran, [0]);
    assert_eq!(outcomes(&r), [P::Failed, P::Skipped]);
    assert_eq!(r[0].response_code, 2);
    assert_eq!(roll_up_final(&outcomes(&r)), O::Failed);
}

#[test]
fn without_on_failure_a_failure_goes_on_and_a_timeout_never_exits() {
    let (r, ran) = run(&[plain(), plain()], &[FAIL, OK]);
    assert_eq!(ran, [0, 1]);
    assert_eq!(roll_up_final(&outcomes(&r)), O::Failed);
    // onFailure applies to Failed steps; the agent reports a timeout as TimedOut.
    let (r, ran) = run(
        &[on_failure(OnFailure::SuccessAndExit), plain()],
        &[(P::TimedOut, -1), OK],
    );
    assert_eq!(ran, [0, 1]);
    assert_eq!(roll_up_final(&outcomes(&r)), O::TimedOut);
}

#[test]
fn a_last_finally_step_runs_after_an_exit() {
    let finally = StepFlow {
        finally_step: true,
        ..plain()
    };
    let (r, ran) = run(&[plain(), plain(), finally], &[(P::Failed, 168), OK, FAIL]);
    assert_eq!(ran, [0, 2]);
    assert_eq!(outcomes(&r), [P::Success, P::Skipped, P::Failed]);
    assert_eq!(roll_up_final(&outcomes(&r)), O::Failed);
    // Not the last step: an ordinary step (validation refuses such documents anyway).
    let (_, ran) = run(&[plain(), finally, plain()], &[(P::Failed, 169), OK, OK]);
    assert_eq!(ran, [0]);
}

#[test]
fn after_a_cancel_nothing_runs_and_every_later_step_is_cancelled() {
    let finally = StepFlow {
        finally_step: true,
        ..plain()
    };
    let (r, ran) = run(&[plain(), plain(), finally], &[(P::Cancelled, -1), OK, OK]);
    assert_eq!(ran, [0]);
    assert_eq!(outcomes(&r), [P::Cancelled, P::Cancelled, P::Cancelled]);
    assert_eq!(roll_up_final(&outcomes(&r)), O::Cancelled);
    // A cancel noticed between steps.
    let mut doc = DocumentFlow::new();
    doc.record(plain(), P::Success, 0);
    doc.cancel();
    assert_eq!(doc.next_step(plain(), false), NextStep::Cancelled);
    assert_eq!(doc.next_step(finally, true), NextStep::Cancelled);
}

#[test]
fn a_precondition_skip_changes_nothing() {
    let exit = StepFlow {
        exit_on_success: true,
        on_failure: OnFailure::Exit,
        ..plain()
    };
    let (r, ran) = run(&[exit, plain()], &[(P::Skipped, 0), OK]);
    assert_eq!(ran, [0, 1]);
    assert_eq!(outcomes(&r), [P::Skipped, P::Success]);
}

fn any_flow() -> impl Strategy<Value = StepFlow> {
    (0..3usize, any::<bool>(), any::<bool>()).prop_map(|(f, exit_on_success, finally_step)| {
        StepFlow {
            on_failure: [
                OnFailure::Continue,
                OnFailure::Exit,
                OnFailure::SuccessAndExit,
            ][f],
            exit_on_success,
            finally_step,
        }
    })
}

fn any_raw() -> impl Strategy<Value = Raw> {
    prop::sample::select(vec![
        OK,
        FAIL,
        (P::Failed, 2),
        (P::Failed, 168),
        (P::Failed, 169),
        (P::Failed, 194),
        (P::TimedOut, -1),
        (P::Cancelled, -1),
        (P::Skipped, 0),
    ])
}

/// The step that ended the document early, if one did: the first whose report says so.
fn first_exit(r: &[Reported], ran: &[usize]) -> Option<usize> {
    ran.iter().copied().find(|&i| r[i].note.is_some())
}

proptest! {
    /// Every combination of step results and flow settings ends the invocation, and reports
    /// no step as pending or running.
    #[test]
    fn every_combination_rolls_up_to_a_terminal_status(
        steps in prop::collection::vec((any_flow(), any_raw()), 1..7),
    ) {
        let (mut flows, raw): (Vec<StepFlow>, Vec<Raw>) = steps.into_iter().unzip();
        // Only the last step may be a finallyStep (validation refuses others).
        let last = flows.len() - 1;
        for f in &mut flows[..last] {
            f.finally_step = false;
        }
        let (r, ran) = run(&flows, &raw);
        let reported = outcomes(&r);
        for o in &reported {
            prop_assert!(o.is_final(), "{:?}", reported);
            prop_assert!(!matches!(o, P::NotStarted | P::InProgress));
        }
        let outcome = roll_up_final(&reported);
        prop_assert_ne!(outcome, O::InProgress);
        prop_assert_eq!(crate::command::roll_up(&reported), outcome, "nothing left to settle");

        // After a cancel nothing runs, and every later step is Cancelled.
        if let Some(c) = ran.iter().copied().find(|&i| raw[i].0 == P::Cancelled) {
            prop_assert_eq!(ran.last(), Some(&c));
            prop_assert!(reported[c..].iter().all(|o| *o == P::Cancelled));
        }
        // After an exit only a last finallyStep runs; the rest are Skipped with code 0.
        if let Some(e) = first_exit(&r, &ran) {
            for i in e + 1..flows.len() {
                let finally = i == last && flows[i].finally_step;
                prop_assert_eq!(ran.contains(&i), finally);
                if !finally {
                    prop_assert_eq!(reported[i], P::Skipped);
                    prop_assert_eq!(r[i].response_code, 0);
                }
            }
            let before_clean = reported[..e].iter().all(|o| matches!(o, P::Success | P::Skipped));
            let finally_clean = !(flows[last].finally_step && last > e)
                || matches!(reported[last], P::Success | P::Skipped);
            if reported[e] == P::Success && before_clean && finally_clean {
                // 168, onSuccess: exit, onFailure: successAndExit.
                prop_assert_eq!(outcome, O::Success);
            }
            if reported[e] == P::Failed {
                // 169, onFailure: exit.
                prop_assert_eq!(outcome, O::Failed);
            }
        }
    }
}
