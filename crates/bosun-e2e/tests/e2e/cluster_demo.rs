//! `scripts/cluster-demo.sh --check`, the README's one-command local cluster (issue 13): a
//! throwaway PostgreSQL, moto_server when installed, three replicas and two agents spread over
//! them; one command through the last replica reaches both nodes, and everything it started is
//! stopped and deleted. Skipped with a message without PostgreSQL's binaries (a failure under
//! `BOSUN_REQUIRE_PG=1`, as in CI).

use std::time::Duration;

use bosun_e2e::bin;
use bosun_e2e::server::postgres_database;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_demo_runs_a_command_across_replicas_and_cleans_up() {
    if postgres_database().await.is_none() {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/cluster-demo.sh");
    let bin_dir = bin("bosun").parent().unwrap().to_path_buf();
    let before = demo_dirs();
    let run = tokio::process::Command::new(script)
        .args(["--replicas", "3", "--agents", "2", "--check", "--bin-dir"])
        .arg(&bin_dir)
        .env_remove("BOSUN_DATA_DIR")
        .env_remove("BOSUN_ENDPOINT")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("the demo ends in time")
        .expect("running the demo");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let hellos: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("hello from"))
        .collect();
    assert_eq!(hellos.len(), 2, "one line per node: {stdout}");
    assert!(stderr.contains("2 agents online"), "{stderr}");
    assert!(stderr.contains("stopping"), "{stderr}");
    assert_eq!(demo_dirs(), before, "the demo's temp dirs are gone");
}

/// The demo's temp dirs in /tmp.
fn demo_dirs() -> Vec<String> {
    let mut dirs: Vec<String> = std::fs::read_dir("/tmp")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("bosun-cluster"))
        .collect();
    dirs.sort();
    dirs
}
