//! Agent releases and self-update end to end (issue 19): real agents running their own copies
//! of the agent binary, version A and B being the same build with different versions written
//! into the version slot (`versioned_agent_binary`); releases published with `bosun
//! agent-release`, updates sent as `AWS-UpdateSSMAgent`. This file: rollbacks and
//! releases refused on the node.

use std::time::Duration;

use aws_sdk_ssm::types::CommandInvocationStatus;
use bosun_e2e::agent::versioned_agent_binary;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::releases::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_release_is_rolled_back_and_bad_releases_install_nothing() {
    let mut fleet = Fleet::start(1, 0).await;
    let bins = tempfile::tempdir().unwrap();
    let exes = start_at_a(&mut fleet, bins.path(), 5).await;
    let ids = fleet.ids();
    let a_sha = sha256_of(&exes[0]);

    // Publishing is authorized like any Bosun operation: a user allowed only to list is refused.
    fleet
        .server
        .user_with_policy(
            "viewer",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:*","bosun:ListAgentReleases"],"Resource":"*"}]}"#,
        )
        .await;
    let creds = fleet.server.dir.path().join("viewer.credentials");
    let creds = creds.to_str().unwrap();
    let (ok, out, err) = fleet
        .server
        .cli(&["agent-release", "list", "--credentials-file", creds])
        .await;
    assert!(ok, "{out}{err}");
    let (ok, _, err) = fleet
        .server
        .cli(&[
            "agent-release",
            "publish",
            exes[0].to_str().unwrap(),
            "--version",
            "5.0.0",
            "--credentials-file",
            creds,
        ])
        .await;
    assert!(!ok && err.contains("AccessDenied"), "{err}");
    // A binary over the 128 MiB a release may hold is refused.
    let huge = bins.path().join("huge");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len((128 << 20) + 1)
        .unwrap();
    let (ok, _, err) = fleet
        .server
        .cli(&[
            "agent-release",
            "publish",
            huge.to_str().unwrap(),
            "--version",
            "5.0.0",
        ])
        .await;
    assert!(
        !ok && err.contains("more than the 128 MiB a release may hold"),
        "{err}"
    );
    let (_, list, _) = fleet.server.cli(&["agent-release", "list"]).await;
    assert!(list.contains("no agent releases are published"), "{list}");

    // A correctly signed release that cannot run: a script exiting 1.
    let broken = bins.path().join("broken");
    std::fs::write(&broken, "#!/bin/sh\nexit 1\n").unwrap();
    publish(&fleet, &broken, "2.0.0", false).await;
    let update = send_update(&fleet, &ids, Some("2.0.0"), false).await;
    let inv = fleet
        .wait_done(&update, &ids[0], Duration::from_secs(90))
        .await;
    assert_eq!(
        inv.status(),
        Some(&CommandInvocationStatus::Failed),
        "{}",
        fleet.agents[0].log()
    );
    let err = inv.standard_error_content().unwrap_or_default();
    assert!(
        err.contains("the new agent 2.0.0 did not report healthy within 5 s")
            && err.contains(&format!("rolled back to {A}")),
        "{err}"
    );
    wait_versions(&fleet, A, true).await;
    assert_eq!(sha256_of(&exes[0]), a_sha, "the previous binary is back");
    // The rolled-back agent runs commands.
    let after = fleet.run(&ids, &["echo still here"], &[]).await;
    let inv = fleet
        .wait_done(&after, &ids[0], Duration::from_secs(30))
        .await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    assert_ne!(
        fleet.agents[0].recorded_pid(),
        fleet.agents[0].pid(),
        "the rollback started a new process"
    );

    // A new agent that hangs (here: it becomes a sleep) is killed and rolled back too.
    let hangs = bins.path().join("hangs");
    std::fs::write(&hangs, "#!/bin/sh\nexec sleep 600\n").unwrap();
    publish(&fleet, &hangs, "2.0.1", false).await;
    let update = send_update(&fleet, &ids, Some("2.0.1"), false).await;
    let inv = fleet
        .wait_done(&update, &ids[0], Duration::from_secs(90))
        .await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Failed));
    let err = inv.standard_error_content().unwrap_or_default();
    assert!(
        err.contains("the new agent 2.0.1 did not report healthy within 5 s")
            && err.contains(&format!("rolled back to {A}")),
        "{err}"
    );
    wait_versions(&fleet, A, true).await;
    assert_eq!(sha256_of(&exes[0]), a_sha);

    // A release whose stored bytes were changed after publishing: refused on the node.
    let c_bin = bins.path().join("bosun-agent-c");
    versioned_agent_binary(&c_bin, "3.0.0");
    publish(&fleet, &c_bin, "3.0.0", false).await;
    let stored = fleet
        .server
        .data_dir()
        .join("blobs/agent-releases/3.0.0/linux/amd64")
        .join(sha256_of(&c_bin));
    let mut tampered = std::fs::read(&stored).unwrap();
    tampered[1000] ^= 0xff;
    std::fs::write(&stored, &tampered).unwrap();
    let update = send_update(&fleet, &ids, Some("3.0.0"), false).await;
    let inv = fleet
        .wait_done(&update, &ids[0], Duration::from_secs(60))
        .await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Failed));
    let err = inv.standard_error_content().unwrap_or_default();
    assert!(
        err.contains("sha256") && err.contains("nothing was installed"),
        "{err}"
    );
    assert_eq!(sha256_of(&exes[0]), a_sha);
    assert!(!exes[0].with_file_name("bosun-agent.new").exists());

    // A release not signed by the key this node pinned: refused before downloading.
    let d_bin = bins.path().join("bosun-agent-d");
    versioned_agent_binary(&d_bin, "3.0.1");
    publish(&fleet, &d_bin, "3.0.1", false).await;
    let pinned = fleet.agents[0].state_dir.join("release-key");
    let original_key = std::fs::read_to_string(&pinned).unwrap();
    std::fs::write(&pinned, "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=").unwrap();
    let update = send_update(&fleet, &ids, Some("3.0.1"), false).await;
    let inv = fleet
        .wait_done(&update, &ids[0], Duration::from_secs(60))
        .await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Failed));
    let err = inv.standard_error_content().unwrap_or_default();
    assert!(
        err.contains("does not verify against the pinned release key"),
        "{err}"
    );
    assert_eq!(sha256_of(&exes[0]), a_sha);
    std::fs::write(&pinned, original_key).unwrap();
    wait_versions(&fleet, A, true).await;
}
