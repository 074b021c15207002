//! Agent releases and self-update end to end (issue 19): real agents running their own copies
//! of the agent binary, version A and B being the same build with different versions written
//! into the version slot (`versioned_agent_binary`); releases published with `bosun
//! agent-release`, updates sent as `AWS-UpdateSSMAgent`. This file: moving a fleet from
//! A to B while commands keep coming, no-op and refused updates.

use std::time::Duration;

use aws_sdk_ssm::types::{CommandInvocationStatus, CommandStatus};
use bosun_e2e::agent::versioned_agent_binary;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::releases::*;
use bosun_e2e::wait_for;

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
async fn a_rotated_release_key_is_handed_over_to_agents_and_releases_still_install() {
    let mut fleet = Fleet::start(1, 0).await;
    let bins = tempfile::tempdir().unwrap();
    let exes = start_at_a(&mut fleet, bins.path(), 30).await;
    let ids = fleet.ids();
    let b_bin = bins.path().join("bosun-agent-b");
    versioned_agent_binary(&b_bin, B);
    publish(&fleet, &b_bin, B, false).await;
    let pinned = fleet.agents[0].state_dir.join("release-key");
    let old_key = std::fs::read_to_string(&pinned).unwrap();
    // Refused while the server runs (it signs with the key it loaded).
    let (ok, _, err) = fleet.server.cli(&["admin", "rotate-release-key"]).await;
    assert!(!ok && err.contains("stop the server"), "{err}");
    fleet.server.terminate(Duration::from_secs(30)).await;
    let (ok, out, err) = fleet.server.cli(&["admin", "rotate-release-key"]).await;
    assert!(ok && out.contains("1 releases re-signed"), "{out}{err}");
    fleet.server.restart().await;
    // The agent reconnects, sees the new key with the old key's hand-over, and re-pins.
    let new_key = wait_for(
        "the agent to pin the new key",
        Duration::from_secs(30),
        || {
            let (p, old) = (pinned.clone(), old_key.clone());
            async move { std::fs::read_to_string(p).ok().filter(|k| *k != old) }
        },
    )
    .await;
    let (_, list, _) = fleet.server.cli(&["agent-release", "list"]).await;
    assert!(list.contains(&format!("release key: {new_key}")), "{list}");
    // B, re-signed with the new key, verifies against the re-pinned key and installs.
    let update = send_update(&fleet, &ids, Some(B), false).await;
    let inv = fleet
        .wait_done(&update, &ids[0], Duration::from_secs(90))
        .await;
    assert_eq!(
        inv.status(),
        Some(&CommandInvocationStatus::Success),
        "{:?}",
        inv.standard_error_content()
    );
    assert_eq!(sha256_of(&exes[0]), sha256_of(&b_bin));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_holding_another_release_key_refuses_to_publish() {
    let mut fleet = Fleet::start(0, 0).await;
    let bins = tempfile::tempdir().unwrap();
    let b_bin = bins.path().join("bosun-agent-b");
    versioned_agent_binary(&b_bin, B);
    publish(&fleet, &b_bin, B, false).await;
    // A replica (here: the same server restarted) with a release key of its own.
    fleet.server.terminate(Duration::from_secs(30)).await;
    let key = fleet.server.data_dir().join("release-signing.key");
    let other = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk="; // 32 bytes of 9
    assert_ne!(std::fs::read_to_string(&key).unwrap().trim(), other);
    std::fs::write(&key, other).unwrap();
    fleet.server.restart().await;
    let c_bin = bins.path().join("bosun-agent-c");
    versioned_agent_binary(&c_bin, "1.2.0");
    let (ok, _, err) = fleet
        .server
        .cli(&[
            "agent-release",
            "publish",
            c_bin.to_str().unwrap(),
            "--version",
            "1.2.0",
        ])
        .await;
    assert!(
        !ok && err.contains("ReleaseKeyMismatchException") && err.contains("release-signing.key"),
        "{err}"
    );
    let (_, list, _) = fleet.server.cli(&["agent-release", "list"]).await;
    assert!(!list.contains("1.2.0"), "nothing was published: {list}");
}
