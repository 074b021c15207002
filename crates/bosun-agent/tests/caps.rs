//! The orchestration caps are caps: with `OrchestrationDirectoryMaxEntries: 10`, forty commands
//! never leave more than ten command folders, and the records of finished commands
//! (`idempotency/`, `document/state/completed/`) stay within the same cap.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;

const LIMIT: Duration = Duration::from_secs(60);

fn entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_of_ten_holds_through_forty_commands() {
    let mut fleet = Fleet::start(1, 0).await;
    let id = fleet.ids()[0].clone();
    fleet.agents[0].configure(r#"{"Ssm": {"OrchestrationDirectoryMaxEntries": 10}}"#);
    fleet.agents[0].start();
    fleet.wait_online(&id).await;
    let orch = fleet.agents[0].orchestration_dir();
    let node_dir = fleet.agents[0].state_dir.join(&id);

    // Sample the folder count all along, on a thread of its own.
    let stop = Arc::new(AtomicBool::new(false));
    let most = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (stop, most, orch) = (stop.clone(), most.clone(), orch.clone());
        std::thread::spawn(move || {
            let mut samples = 0u64;
            while !stop.load(Ordering::Relaxed) {
                most.fetch_max(entries(&orch), Ordering::Relaxed);
                samples += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
            samples
        })
    };
    let mut sent = Vec::new();
    for n in 0..40 {
        // (Distinct texts: an identical request signed in the same second is a replay.)
        sent.push(
            fleet
                .run(std::slice::from_ref(&id), &[&format!("echo {n}")], &[])
                .await,
        );
    }
    for command in &sent {
        fleet.wait_done(command, &id, LIMIT).await;
    }
    stop.store(true, Ordering::Relaxed);
    let samples = sampler.join().unwrap();
    assert!(samples > 10, "the sampler ran ({samples} samples)");
    let most = most.load(Ordering::Relaxed);
    assert!(most <= 10, "saw {most} command folders with a cap of 10");
    assert!(most >= 5, "the folders were there to be seen ({most})");
    // The newest commands' folders are the ones kept.
    assert!(orch.join(sent.last().unwrap()).is_dir());
    assert!(!orch.join(&sent[0]).exists());

    // Once the server has acknowledged the results, their records are bounded too.
    for sub in ["idempotency", "document/state/completed"] {
        let dir = node_dir.join(sub);
        wait_for(&format!("{sub} to hold at most 10 records"), LIMIT, || {
            let dir = dir.clone();
            async move { (entries(&dir) <= 10).then_some(()) }
        })
        .await;
    }
    assert!(node_dir
        .join("idempotency")
        .join(sent.last().unwrap())
        .exists());
}
