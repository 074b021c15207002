//! Stale update markers: a real process stands for the watchdog, and is killed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use super::*;
use crate::update::marker::{proc_state, Marker};

fn watchdog() -> Child {
    Command::new("sleep").arg("600").spawn().unwrap()
}

fn marker(dir: &Path, phase: Phase, w: &Child) -> Marker {
    let pid = w.id();
    Marker {
        phase,
        target_version: "2.0.0".into(),
        previous_version: "1.0.0".into(),
        exe: dir.join("bosun-agent"),
        staged: dir.join("bosun-agent.new"),
        previous: dir.join("bosun-agent.previous"),
        agent_pid: std::process::id(),
        step_dir: dir.join("step"),
        watchdog_pid: pid,
        watchdog_start: proc_state(pid).unwrap().1,
        boot_id: marker::boot_id(),
    }
}

fn binaries(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("step")).unwrap();
    std::fs::write(dir.join("bosun-agent"), "new").unwrap();
    std::fs::write(dir.join("bosun-agent.new"), "staged").unwrap();
    std::fs::write(dir.join("bosun-agent.previous"), "old").unwrap();
    dir.join("bosun-agent")
}

fn kill(mut w: Child) {
    w.kill().unwrap();
    w.wait().unwrap();
}

#[test]
fn a_live_watchdogs_marker_is_left_alone_and_a_dead_ones_staged_update_is_abandoned() {
    let dir = tempfile::tempdir().unwrap();
    binaries(dir.path());
    let w = watchdog();
    let m = marker(dir.path(), Phase::Staged, &w);
    marker::write(dir.path(), &m).unwrap();
    assert_eq!(m.stale_reason(), None);
    assert_eq!(settle(dir.path(), "1.0.0"), None);
    assert!(marker::read(dir.path()).is_some());
    kill(w);
    let reason = m.stale_reason().unwrap();
    assert!(reason.contains("is gone"), "{reason}");
    let done = settle(dir.path(), "1.0.0").unwrap();
    assert!(done.contains("abandoned the update to 2.0.0"), "{done}");
    assert!(marker::read(dir.path()).is_none());
    assert!(!dir.path().join("bosun-agent.new").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("bosun-agent")).unwrap(),
        "new"
    );
}

#[test]
fn a_swapped_update_whose_agent_runs_the_target_is_rolled_forward() {
    let dir = tempfile::tempdir().unwrap();
    let exe = binaries(dir.path());
    let w = watchdog();
    marker::write(dir.path(), &marker(dir.path(), Phase::Swapped, &w)).unwrap();
    kill(w);
    let done = settle(dir.path(), "2.0.0").unwrap();
    assert!(done.contains("forward"), "{done}");
    assert!(marker::read(dir.path()).is_none());
    assert_eq!(std::fs::read_to_string(exe).unwrap(), "new");
}

#[test]
fn a_swapped_update_whose_agent_reports_another_version_is_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let exe = binaries(dir.path());
    let w = watchdog();
    marker::write(dir.path(), &marker(dir.path(), Phase::Swapped, &w)).unwrap();
    kill(w);
    let done = settle(dir.path(), "1.5.0").unwrap();
    assert!(
        done.contains("back") && done.contains("put 1.0.0 back"),
        "{done}"
    );
    assert_eq!(std::fs::read_to_string(exe).unwrap(), "old");
    assert!(marker::read(dir.path()).is_none());
}

#[test]
fn a_marker_from_another_boot_is_stale_even_if_its_pid_lives() {
    let dir = tempfile::tempdir().unwrap();
    let exe = binaries(dir.path());
    let w = watchdog();
    let mut m = marker(dir.path(), Phase::RollingBack, &w);
    m.boot_id = "00000000-0000-0000-0000-000000000000".into();
    marker::write(dir.path(), &m).unwrap();
    let done = settle(dir.path(), "2.0.0").unwrap();
    assert!(
        done.contains("node restarted") && done.contains("finished the rollback"),
        "{done}"
    );
    assert_eq!(std::fs::read_to_string(exe).unwrap(), "old");
    kill(w);
}

#[test]
fn an_older_marker_without_a_watchdog_is_stale_once_its_step_ended() {
    let dir = tempfile::tempdir().unwrap();
    binaries(dir.path());
    let w = watchdog();
    let mut m = marker(dir.path(), Phase::Staged, &w);
    kill(w);
    (m.watchdog_pid, m.watchdog_start, m.boot_id) = (0, String::new(), String::new());
    marker::write(dir.path(), &m).unwrap();
    assert_eq!(m.stale_reason(), None, "its step is still running");
    std::fs::write(dir.path().join("step").join(crate::step::EXIT_FILE), "{}").unwrap();
    assert!(settle(dir.path(), "1.0.0")
        .unwrap()
        .contains("step has ended"));
}
