//! Agent releases and self-update end to end (issue 19): real agents running their own copies
//! of the agent binary, version A and B being the same build with different versions written
//! into the version slot (`versioned_agent_binary`); releases published with `bosun
//! agent-release`, updates sent as `AWS-UpdateSSMAgent`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_ssm::types::{CommandInvocationStatus, CommandStatus, InstanceInformation};
use bosun_e2e::agent::versioned_agent_binary;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;
use sha2::{Digest, Sha256};

const A: &str = "1.0.0";
const B: &str = "1.1.0";

/// Give each registered agent its own binary at version `A` and start it.
async fn start_at_a(fleet: &mut Fleet, bins: &Path, health_timeout_s: u64) -> Vec<PathBuf> {
    let mut exes = Vec::new();
    for (i, agent) in fleet.agents.iter_mut().enumerate() {
        let dir = bins.join(format!("node{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join("bosun-agent");
        versioned_agent_binary(&exe, A);
        agent.configure(&format!(
            r#"{{"Agent": {{"UpdateHealthTimeoutSeconds": {health_timeout_s}}}}}"#
        ));
        agent.start_binary(&exe, &[]);
        exes.push(exe);
    }
    for id in fleet.ids() {
        fleet.wait_online(&id).await;
    }
    exes
}

async fn nodes(fleet: &Fleet) -> Vec<InstanceInformation> {
    fleet
        .client
        .describe_instance_information()
        .send()
        .await
        .unwrap()
        .instance_information_list()
        .to_vec()
}

/// Wait until every node is Online at `version` with `IsLatestVersion` = `latest`.
async fn wait_versions(fleet: &Fleet, version: &str, latest: bool) {
    wait_for(
        &format!("every node Online at {version} (latest: {latest})"),
        Duration::from_secs(30),
        || async {
            let list = nodes(fleet).await;
            (list.len() == fleet.agents.len()
                && list.iter().all(|n| {
                    n.agent_version() == Some(version)
                        && n.is_latest_version() == Some(latest)
                        && n.ping_status() == Some(&aws_sdk_ssm::types::PingStatus::Online)
                }))
            .then_some(())
        },
    )
    .await
}

async fn publish(fleet: &Fleet, binary: &Path, version: &str, default: bool) -> String {
    let mut args = vec![
        "agent-release",
        "publish",
        binary.to_str().unwrap(),
        "--version",
        version,
    ];
    if default {
        args.push("--default");
    }
    let (ok, out, err) = fleet.server.cli(&args).await;
    assert!(ok, "publish {version}: {out}{err}");
    out
}

async fn send_update(
    fleet: &Fleet,
    ids: &[String],
    version: Option<&str>,
    downgrade: bool,
) -> String {
    let mut req = fleet
        .client
        .send_command()
        .document_name("AWS-UpdateSSMAgent")
        .set_instance_ids(Some(ids.to_vec()))
        .timeout_seconds(600);
    if let Some(v) = version {
        req = req.parameters("version", vec![v.to_string()]);
    }
    if downgrade {
        req = req.parameters("allowDowngrade", vec!["true".into()]);
    }
    req.send()
        .await
        .expect("SendCommand AWS-UpdateSSMAgent")
        .command
        .unwrap()
        .command_id
        .unwrap()
}

fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_agents_move_from_a_to_b_and_commands_sent_meanwhile_run_once() {
    let mut fleet = Fleet::start(3, 0).await;
    let bins = tempfile::tempdir().unwrap();
    let exes = start_at_a(&mut fleet, bins.path(), 60).await;
    let pids: Vec<u32> = fleet.agents.iter().map(|a| a.pid().unwrap()).collect();
    let ids = fleet.ids();
    // No release yet: the latest is the server's own agent version, which A is newer than.
    wait_versions(&fleet, A, true).await;
    // No default release: refused at SendCommand, nothing sent.
    let refused = fleet
        .client
        .send_command()
        .document_name("AWS-UpdateSSMAgent")
        .set_instance_ids(Some(ids.clone()))
        .send()
        .await
        .unwrap_err();
    let text = format!("{:?}", refused.into_service_error());
    assert!(text.contains("no default agent release"), "{text}");

    let b_bin = bins.path().join("bosun-agent-b");
    versioned_agent_binary(&b_bin, B);
    let out = publish(&fleet, &b_bin, B, true).await;
    assert!(
        out.contains("published") && out.contains("(default)"),
        "{out}"
    );
    let (ok, list, _) = fleet.server.cli(&["agent-release", "list"]).await;
    assert!(
        ok && list.contains(B) && list.contains(&sha256_of(&b_bin)),
        "{list}"
    );
    // Publishing other content under B is refused; the same content again is no change.
    let (ok, _, err) = fleet
        .server
        .cli(&[
            "agent-release",
            "publish",
            exes[0].to_str().unwrap(),
            "--version",
            B,
        ])
        .await;
    assert!(
        !ok && err.contains("already published with other content"),
        "{err}"
    );
    let out = publish(&fleet, &b_bin, B, false).await;
    assert!(out.contains("already published"), "{out}");
    let (ok, _, err) = fleet
        .server
        .cli(&[
            "agent-release",
            "publish",
            b_bin.to_str().unwrap(),
            "--version",
            "1.1-beta",
        ])
        .await;
    assert!(!ok && err.contains("is not a release version"), "{err}");
    // Release bytes are for registered nodes only: an unsigned GET is refused.
    let anonymous =
        bosun_e2e::http::get(&fleet.server.addr, "/v1/agent-releases/1.1.0/linux/amd64")
            .await
            .unwrap();
    assert_eq!(anonymous.status, 401);
    // B is the default now, so A is no longer the latest.
    wait_versions(&fleet, A, false).await;

    let marks = tempfile::tempdir().unwrap();
    let mark = |n: usize| {
        format!(
            "echo {n} >> {}/$AWS_SSM_INSTANCE_ID",
            marks.path().display()
        )
    };
    let update = send_update(&fleet, &ids, None, false).await;
    // Commands sent while the agents update: each must run exactly once on each node.
    let mut sent = Vec::new();
    let mut sent_during_update = 0;
    for n in 0..12 {
        sent.push(fleet.run(&ids, &[&mark(n)], &[]).await);
        let done = fleet
            .client
            .list_commands()
            .command_id(&update)
            .send()
            .await
            .unwrap()
            .commands()
            .first()
            .and_then(|c| c.status().cloned());
        let updating = matches!(
            done,
            Some(CommandStatus::InProgress) | Some(CommandStatus::Pending)
        );
        sent_during_update += usize::from(updating);
        if n >= 4 && !updating {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        sent_during_update >= 2,
        "commands were sent while the agents updated"
    );
    let c = fleet.wait_command(&update, Duration::from_secs(120)).await;
    for id in &ids {
        let inv = fleet.wait_done(&update, id, Duration::from_secs(5)).await;
        assert_eq!(
            inv.status(),
            Some(&CommandInvocationStatus::Success),
            "{id}: {:?} {:?}\n{}",
            inv.standard_output_content(),
            inv.standard_error_content(),
            fleet.agents[0].log()
        );
        let out = inv.standard_output_content().unwrap_or_default();
        assert!(out.contains(&format!("updated from {A} to {B}")), "{out}");
    }
    assert_eq!(c.status(), Some(&CommandStatus::Success));
    for command in &sent {
        let c = fleet.wait_command(command, Duration::from_secs(60)).await;
        assert_eq!(c.status(), Some(&CommandStatus::Success), "{command}");
    }
    for id in &ids {
        let lines = std::fs::read_to_string(marks.path().join(id)).unwrap();
        let mut seen: Vec<&str> = lines.lines().collect();
        seen.sort_by_key(|s| s.parse::<u32>().unwrap());
        let expected: Vec<String> = (0..sent.len()).map(|n| n.to_string()).collect();
        assert_eq!(seen, expected, "{id} ran each command exactly once");
    }
    wait_versions(&fleet, B, true).await;
    for (i, agent) in fleet.agents.iter().enumerate() {
        // Re-executed in place: the same process, now running B's bytes.
        assert_eq!(agent.recorded_pid(), Some(pids[i]));
        assert_eq!(sha256_of(&exes[i]), sha256_of(&b_bin));
        assert!(exes[i].with_file_name("bosun-agent.previous").exists());
        assert!(!agent.state_dir.join("update.json").exists());
    }

    // At the target already: a no-op success.
    let again = send_update(&fleet, &ids[..1], Some(B), false).await;
    let inv = fleet
        .wait_done(&again, &ids[0], Duration::from_secs(60))
        .await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));
    assert!(inv
        .standard_output_content()
        .unwrap_or_default()
        .contains(&format!("already at version {B}")));
    // An unknown version is refused when the command is sent.
    let unknown = fleet
        .client
        .send_command()
        .document_name("AWS-UpdateSSMAgent")
        .instance_ids(&ids[0])
        .parameters("version", vec!["9.9.9".into()])
        .send()
        .await
        .unwrap_err();
    let text = format!("{:?}", unknown.into_service_error());
    assert!(
        text.contains("InvalidParameters") && text.contains("9.9.9"),
        "{text}"
    );
    // Back to A needs allowDowngrade (the node decides: it knows its version).
    let a_bin = bins.path().join("bosun-agent-a");
    versioned_agent_binary(&a_bin, A);
    publish(&fleet, &a_bin, A, false).await;
    let down = send_update(&fleet, &ids[..1], Some(A), false).await;
    let inv = fleet
        .wait_done(&down, &ids[0], Duration::from_secs(60))
        .await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Failed));
    assert!(inv
        .standard_error_content()
        .unwrap_or_default()
        .contains("allowDowngrade"));
    assert_eq!(
        sha256_of(&exes[0]),
        sha256_of(&b_bin),
        "nothing was installed"
    );
}

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
