//! Agent self-update (issue 19): an update marker left by a watchdog that vanished (killed, its
//! process gone) no longer blocks later updates. The next update settles it and proceeds; an
//! agent starting with a swapped marker whose watchdog is gone rolls it forward, logging it.

use std::path::Path;
use std::time::Duration;

use aws_sdk_ssm::types::CommandInvocationStatus;
use bosun_e2e::agent::versioned_agent_binary;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::releases::*;
use bosun_e2e::wait_for;
use serde_json::json;

/// A process id that no longer runs: a real child, reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// The marker a watchdog writes, as left when it was killed.
fn stale_marker(state: &Path, exe: &Path, phase: &str, target: &str, step_dir: &Path) {
    let pid = dead_pid();
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let with = |suffix: &str| format!("{}.{suffix}", exe.display());
    let marker = json!({
        "phase": phase, "target_version": target, "previous_version": A,
        "exe": exe, "staged": with("new"), "previous": with("previous"),
        "agent_pid": pid, "step_dir": step_dir,
        "watchdog_pid": pid, "watchdog_start": "1", "boot_id": boot.trim(),
    });
    std::fs::write(state.join("update.json"), marker.to_string()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marker_whose_watchdog_was_killed_does_not_block_the_next_update() {
    let mut fleet = Fleet::start(1, 0).await;
    let bins = tempfile::tempdir().unwrap();
    let exes = start_at_a(&mut fleet, bins.path(), 30).await;
    let ids = fleet.ids();
    let state = fleet.agents[0].state_dir.clone();
    let b_bin = bins.path().join("b");
    versioned_agent_binary(&b_bin, B);
    publish(&fleet, &b_bin, B, true).await;

    // A watchdog staged B and was killed: its step folder is there, its process is not.
    let old_step = bins.path().join("killed-step");
    std::fs::create_dir_all(&old_step).unwrap();
    std::fs::write(format!("{}.new", exes[0].display()), "half a binary").unwrap();
    stale_marker(&state, &exes[0], "staged", B, &old_step);

    let update = send_update(&fleet, &ids, Some(B), false).await;
    let inv = fleet
        .wait_done(&update, &ids[0], Duration::from_secs(120))
        .await;
    let out = inv
        .standard_output_content()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        inv.status(),
        Some(&CommandInvocationStatus::Success),
        "{out} {:?}\n{}",
        inv.standard_error_content(),
        fleet.agents[0].log()
    );
    assert!(
        out.contains("a stale agent update marker was settled")
            && out.contains("is gone")
            && out.contains("abandoned the update to 1.1.0 before its swap"),
        "{out}"
    );
    wait_versions(&fleet, B, true).await;
    assert!(!state.join("update.json").exists());

    // The agent stops with a swapped marker whose watchdog is gone: starting, it rolls the
    // update forward (it runs the target version) and removes the marker.
    fleet.agents[0].kill().await;
    stale_marker(&state, &exes[0], "swapped", B, &old_step);
    fleet.agents[0].start_binary(&exes[0], &[]);
    fleet.wait_online(&ids[0]).await;
    wait_for(
        "the agent to settle the marker",
        Duration::from_secs(30),
        || async { (!state.join("update.json").exists()).then_some(()) },
    )
    .await;
    let log = fleet.agents[0].log();
    assert!(
        log.contains("a stale agent update marker was settled")
            && log.contains("rolled the update to 1.1.0 forward"),
        "{log}"
    );
    // And a further update is not refused as "in progress": B again is a no-op success.
    let again = send_update(&fleet, &ids, Some(B), false).await;
    let inv = fleet
        .wait_done(&again, &ids[0], Duration::from_secs(60))
        .await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    assert!(inv
        .standard_output_content()
        .unwrap_or_default()
        .contains("already at version 1.1.0"));
}
