//! Tests of `aws:configurePackage` on the node: one configuration of a package at a time, and
//! records that stay honest when scripts fail (real scripts run with `/bin/sh`).

use std::path::{Path, PathBuf};

use bosun_core::document::{Attachment, StepPlan};
use serde_json::json;

use super::*;
use crate::plugins::job::Job;
use crate::plugins::StepContext;

fn job(state: &Path, action: &str, version: &str) -> Job {
    Job {
        plan: StepPlan {
            name: "configure".into(),
            action: "aws:configurePackage".into(),
            inputs: json!({"name": "Tools", "action": action, "version": version}),
            attachment: Some(Attachment::Package {
                name: "Tools".into(),
                document_version: 1,
                version: version.into(),
                entries: Vec::new(),
                files: Vec::new(),
            }),
            ..Default::default()
        },
        ctx: StepContext {
            dir: state.join("step"),
            downloads: state.join("downloads"),
            agent_exe: "/nonexistent/bosun-agent".into(),
            depth: 0,
            max_download_bytes: 1 << 20,
            state_dir: state.to_path_buf(),
            update_health_timeout_secs: 5,
        },
    }
}

fn record(version: &str, state: PackageState) -> Installed {
    Installed {
        name: "Tools".into(),
        version: version.into(),
        document_version: 1,
        file: "tools.zip".into(),
        sha256: "0".repeat(64),
        installed_unix: 1,
        state,
    }
}

/// A version's folder with its scripts; each appends its name to `<state>/ran`.
fn version_with(state: &Path, version: &str, scripts: &[(&str, &str)]) -> PathBuf {
    let dir = files::version_dir(state, "Tools", version);
    std::fs::create_dir_all(&dir).unwrap();
    let ran = state.join("ran");
    for (script, tail) in scripts {
        let body = format!("echo {version}/{script} >> '{}'\n{tail}\n", ran.display());
        std::fs::write(dir.join(script), body).unwrap();
    }
    dir
}

fn ran(state: &Path) -> String {
    std::fs::read_to_string(state.join("ran")).unwrap_or_default()
}

fn spec(install: bool, in_place: bool) -> ConfigurePackageSpec {
    ConfigurePackageSpec {
        name: "Tools".into(),
        install,
        in_place,
        version: None,
        additional_arguments: Vec::new(),
    }
}

#[test]
fn a_second_configuration_waits_then_finds_the_version_installed() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_path_buf();
    let first = files::lock_package(&state, "Tools", || panic!("free")).unwrap();
    let (waiting_tx, waiting_rx) = std::sync::mpsc::channel();
    let second = {
        let state = state.clone();
        std::thread::spawn(move || {
            run_waiting(&job(&state, "Install", "1.0"), move |name| {
                waiting_tx.send(name.to_string()).unwrap()
            })
        })
    };
    assert_eq!(waiting_rx.recv().unwrap(), "Tools");
    // The first configuration finishes its install while the second waits.
    files::set_installed(
        &state,
        "Tools",
        Some(&record("1.0", PackageState::Installed)),
    )
    .unwrap();
    drop(first);
    // No identity exists here: anything but the no-op would fail on it.
    assert_eq!(second.join().unwrap(), Ok(0));
}

#[test]
fn a_failed_record_is_not_taken_for_an_installed_version() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path();
    files::set_installed(state, "Tools", Some(&record("1.0", PackageState::Failed))).unwrap();
    let e = run_waiting(&job(state, "Install", "1.0"), |_| panic!("free")).unwrap_err();
    assert!(!e.contains("already installed"), "{e}");
    assert!(e.contains("has no file for platform"), "{e}");
}

#[test]
fn a_failed_uninstall_leaves_a_failed_record_and_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path();
    version_with(state, "1.0", &[("uninstall.sh", "exit 3")]);
    files::set_installed(
        state,
        "Tools",
        Some(&record("1.0", PackageState::Installed)),
    )
    .unwrap();
    let e = run_waiting(&job(state, "Uninstall", "1.0"), |_| {}).unwrap_err();
    assert!(
        e.contains("uninstall.sh failed") && e.contains("recorded as failed"),
        "{e}"
    );
    let rec = files::installed(state, "Tools").unwrap().unwrap();
    assert_eq!(
        (rec.version.as_str(), rec.state),
        ("1.0", PackageState::Failed)
    );
    assert!(
        files::all_installed(state).is_empty(),
        "not reported installed"
    );
    version_with(state, "1.0", &[("uninstall.sh", "true")]);
    assert_eq!(run_waiting(&job(state, "Uninstall", "1.0"), |_| {}), Ok(0));
    assert_eq!(files::installed(state, "Tools").unwrap(), None);
    assert_eq!(ran(state), "1.0/uninstall.sh\n1.0/uninstall.sh\n");
}

#[test]
fn a_failed_reinstall_records_the_new_version_failed_and_the_retry_installs_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path();
    let old_dir = version_with(state, "1.0", &[("uninstall.sh", "true")]);
    files::set_installed(
        state,
        "Tools",
        Some(&record("1.0", PackageState::Installed)),
    )
    .unwrap();
    let new_dir = version_with(state, "2.0", &[("install.sh", "exit 4")]);
    let current = files::installed(state, "Tools").unwrap();
    let new = record("2.0", PackageState::Failed);
    let e = apply(state, current, &new, &spec(true, false), &new_dir).unwrap_err();
    assert!(
        e.contains("install.sh failed") && e.contains("Tools 2.0 is recorded as failed"),
        "{e}"
    );
    // 1.0 was uninstalled: the record no longer names it, and its files are gone.
    let rec = files::installed(state, "Tools").unwrap().unwrap();
    assert_eq!(
        (rec.version.as_str(), rec.state),
        ("2.0", PackageState::Failed)
    );
    assert!(!old_dir.exists());
    // The retry runs 2.0's install.sh again (a fresh install: 1.0's uninstall is not re-run).
    let new_dir = version_with(state, "2.0", &[("install.sh", "true")]);
    let current = files::installed(state, "Tools").unwrap();
    apply(state, current, &new, &spec(true, false), &new_dir).unwrap();
    let rec = files::installed(state, "Tools").unwrap().unwrap();
    assert_eq!(
        (rec.version.as_str(), rec.state),
        ("2.0", PackageState::Installed)
    );
    assert_eq!(
        ran(state),
        "1.0/uninstall.sh\n2.0/install.sh\n2.0/install.sh\n"
    );
}

#[test]
fn a_failed_uninstall_before_a_reinstall_keeps_the_old_version_failed() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path();
    let old_dir = version_with(state, "1.0", &[("uninstall.sh", "exit 2")]);
    files::set_installed(
        state,
        "Tools",
        Some(&record("1.0", PackageState::Installed)),
    )
    .unwrap();
    let new_dir = version_with(state, "2.0", &[("install.sh", "true")]);
    let current = files::installed(state, "Tools").unwrap();
    let new = record("2.0", PackageState::Failed);
    let e = apply(state, current, &new, &spec(true, false), &new_dir).unwrap_err();
    assert!(e.contains("Tools 1.0 is recorded as failed"), "{e}");
    let rec = files::installed(state, "Tools").unwrap().unwrap();
    assert_eq!(
        (rec.version.as_str(), rec.state),
        ("1.0", PackageState::Failed)
    );
    assert!(old_dir.exists() && !new_dir.exists());
    assert_eq!(ran(state), "1.0/uninstall.sh\n");
}

#[test]
fn a_failed_in_place_update_records_the_new_version_failed() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path();
    let old_dir = version_with(state, "1.0", &[("uninstall.sh", "true")]);
    files::set_installed(
        state,
        "Tools",
        Some(&record("1.0", PackageState::Installed)),
    )
    .unwrap();
    let new_dir = version_with(
        state,
        "2.0",
        &[("update.sh", "exit 1"), ("install.sh", "true")],
    );
    let current = files::installed(state, "Tools").unwrap();
    let new = record("2.0", PackageState::Failed);
    assert!(apply(state, current, &new, &spec(true, true), &new_dir).is_err());
    let rec = files::installed(state, "Tools").unwrap().unwrap();
    assert_eq!(
        (rec.version.as_str(), rec.state),
        ("2.0", PackageState::Failed)
    );
    assert!(!old_dir.exists(), "no record names 1.0 any more");
    // Asking for 1.0 again is no longer a no-op (the node may be half way to 2.0).
    let e = run_waiting(&job(state, "Install", "1.0"), |_| {}).unwrap_err();
    assert!(!e.contains("already installed"), "{e}");
    assert_eq!(ran(state), "2.0/update.sh\n");
}
