//! Tests of the reboot records on disk and of running the reboot command.

use super::*;
use crate::step::Outcome;

fn exit(code: i32, start_ms: u64) -> StepExit {
    StepExit {
        outcome: Outcome::Exited { code },
        start_ms,
        end_ms: start_ms + 5,
    }
}

/// A finished run in `dir`: its supervisor record and its exit.
fn finished_run(dir: &Path, e: &StepExit) {
    std::fs::write(dir.join(step::SUPERVISOR_FILE), "{}").unwrap();
    write_json(&dir.join(step::EXIT_FILE), e).unwrap();
}

fn ask(boot: &str, e: &StepExit) -> StepReboot {
    StepReboot {
        boot_id: boot.into(),
        asked_ms: 1,
        exit: e.clone(),
    }
}

#[test]
fn a_request_is_recorded_once_and_leaves_the_step_awaiting_its_reboot() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let first = exit(194, 100);
    finished_run(d, &first);
    record_step_reboot(d, &[], ask("boot-1", &first)).unwrap();
    assert!(!d.join(step::SUPERVISOR_FILE).exists());
    assert!(!d.join(step::EXIT_FILE).exists());
    let known = step_reboots(d).unwrap();
    assert_eq!(known, vec![ask("boot-1", &first)]);
    // A crash before the run files went: recording again adds nothing and finishes the job.
    finished_run(d, &first);
    record_step_reboot(d, &known, ask("boot-1", &first)).unwrap();
    assert_eq!(step_reboots(d).unwrap().len(), 1);
    assert!(!d.join(step::EXIT_FILE).exists());
    // The run after the reboot asks again: a second record, in order.
    let second = exit(194, 200);
    finished_run(d, &second);
    record_step_reboot(d, &known, ask("boot-2", &second)).unwrap();
    let known = step_reboots(d).unwrap();
    assert_eq!(known.len(), 2);
    assert_eq!(
        (known[0].exit.start_ms, known[1].boot_id.as_str()),
        (100, "boot-2")
    );
}

#[test]
fn a_failed_reboot_is_the_steps_final_exit() {
    let dir = tempfile::tempdir().unwrap();
    let a = ask("boot-1", &exit(194, 100));
    let written = record_step_failure(dir.path(), &a, "no reboot".into()).unwrap();
    let read = step::read_exit(dir.path()).unwrap().unwrap();
    assert_eq!(read, written);
    assert_eq!(
        read.outcome,
        Outcome::RebootFailed {
            code: 194,
            error: "no reboot".into()
        }
    );
    assert_eq!(read.start_ms, 100);
}

#[test]
fn boot_ids_are_trimmed_and_never_empty() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("boot_id");
    std::fs::write(&f, "0f6c7d1e-aaaa\n").unwrap();
    assert_eq!(read_boot_id(&f).unwrap(), "0f6c7d1e-aaaa");
    std::fs::write(&f, " \n").unwrap();
    assert!(read_boot_id(&f).is_err());
    assert!(read_boot_id(&dir.path().join("absent")).is_err());
    // The kernel's, on the machine running the tests.
    let kernel = read_boot_id(Path::new(KERNEL_BOOT_ID)).unwrap();
    assert_eq!(kernel.len(), 36, "{kernel}");
}

#[tokio::test]
async fn the_reboot_command_succeeds_only_by_exiting_zero_in_time() {
    let limit = Duration::from_secs(5);
    run_reboot_command("true", limit).await.unwrap();
    let e = run_reboot_command("echo 'Access denied' >&2; exit 3", limit)
        .await
        .unwrap_err();
    assert!(e.contains("failed (exit status: 3): Access denied"), "{e}");
    let e = run_reboot_command("/nonexistent/reboot", limit)
        .await
        .unwrap_err();
    assert!(e.contains("exit status: 127"), "{e}");
    let e = run_reboot_command("sleep 30", Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(e.contains("did not finish within 0 seconds"), "{e}");
}
