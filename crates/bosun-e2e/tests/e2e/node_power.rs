//! Node power end to end (issue 16): `bosun node wake` powers a stopped node on through a
//! power-controller document run on another node, or through Wake-on-LAN packets an Online
//! neighbour broadcasts; a node with no wake method is refused with the reason.
//!
//! Every agent runs on this host's loopback, so the tests give each one interfaces of its own
//! with the agent's test-only `BOSUN_AGENT_TEST_INTERFACES` (lo, 127.0.0.1/8, a made-up MAC);
//! "powering on" a node is starting its agent process again.

use std::time::Duration;

use aws_sdk_ssm::types::{PingStatus, ResourceTypeForTagging, Tag};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;

const LIMIT: Duration = Duration::from_secs(30);

fn loopback(mac: &str) -> String {
    format!(r#"[{{"name":"lo","mac_address":"{mac}","ipv4_addresses":["127.0.0.1/8"]}}]"#)
}

async fn tag(fleet: &Fleet, node: &str, tags: &[(&str, &str)]) {
    let mut req = fleet
        .client
        .add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::ManagedInstance)
        .resource_id(node);
    for (k, v) in tags {
        req = req.tags(Tag::builder().key(*k).value(*v).build().unwrap());
    }
    req.send().await.expect("AddTagsToResource");
}

async fn ping(fleet: &Fleet, node: &str) -> Option<PingStatus> {
    let out = fleet
        .client
        .describe_instance_information()
        .send()
        .await
        .ok()?;
    out.instance_information_list()
        .iter()
        .find(|n| n.instance_id() == Some(node))
        .and_then(|n| n.ping_status().cloned())
}

/// Start agent `i` with interfaces of its own, wait until it is Online, then (when `stop`)
/// kill it and wait until the server sees it gone: a node that reported its facts and is off.
async fn bring_up(fleet: &mut Fleet, i: usize, interfaces: &str, stop: bool) -> String {
    fleet.agents[i].start_with_env(&[("BOSUN_AGENT_TEST_INTERFACES", interfaces)]);
    let id = fleet.agents[i].instance_id.clone();
    fleet.wait_online(&id).await;
    if stop {
        fleet.agents[i].kill().await;
        wait_for(&format!("{id} offline"), LIMIT, || async {
            (ping(fleet, &id).await != Some(PingStatus::Online)).then_some(())
        })
        .await;
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wake_on_lan_sends_a_magic_packet_through_an_online_neighbour() {
    let mut fleet = Fleet::start(2, 0).await;
    let relay = bring_up(&mut fleet, 0, &loopback("02:00:00:00:00:0a"), false).await;
    let sleeper = bring_up(&mut fleet, 1, &loopback("02:00:00:00:00:0b"), true).await;
    // The subnet's broadcast address is 127.255.255.255; listen there on a port of our own,
    // which the sleeping node's tag names.
    let listener = tokio::net::UdpSocket::bind("127.255.255.255:0")
        .await
        .expect("bind the broadcast address");
    let port = listener.local_addr().unwrap().port().to_string();
    tag(&fleet, &sleeper, &[("bosun:wake-port", &port)]).await;

    let Fleet { server, agents, .. } = &mut fleet;
    let args = ["node", "wake", &sleeper, "--wait", "--timeout", "60"];
    let wake = server.cli(&args);
    let power_on = async {
        let mut buf = [0u8; 512];
        let (n, _) = tokio::time::timeout(LIMIT, listener.recv_from(&mut buf))
            .await
            .expect("a magic packet within the limit")
            .expect("recv");
        let mut expected = vec![0xFFu8; 6];
        for _ in 0..16 {
            expected.extend_from_slice(&[2, 0, 0, 0, 0, 0x0b]);
        }
        assert_eq!(
            &buf[..n],
            expected.as_slice(),
            "a magic packet for the sleeper's MAC"
        );
        // The "card" wakes: the node's agent starts again.
        agents[1].start_with_env(&[(
            "BOSUN_AGENT_TEST_INTERFACES",
            &loopback("02:00:00:00:00:0b"),
        )]);
    };
    let ((ok, out, err), ()) = tokio::join!(wake, power_on);
    assert!(ok, "bosun node wake failed: {out}{err}");
    assert!(
        out.contains(&format!("through {relay} on 127.0.0.0/8")),
        "names the relay: {out}"
    );
    assert!(out.contains(&format!("{sleeper} is Online")), "{out}");
    assert_eq!(ping(&fleet, &sleeper).await, Some(PingStatus::Online));

    // Already Online: nothing to do.
    let (ok, out, _) = fleet.server.cli(&["node", "wake", &sleeper]).await;
    assert!(ok && out.contains("already Online"), "{out}");

    // With the only neighbour gone too, nobody on the subnet can send the packet.
    fleet.agents[0].kill().await;
    fleet.agents[1].kill().await;
    wait_for("both offline", LIMIT, || async {
        (ping(&fleet, &relay).await != Some(PingStatus::Online)
            && ping(&fleet, &sleeper).await != Some(PingStatus::Online))
        .then_some(())
    })
    .await;
    let (ok, _, err) = fleet.server.cli(&["node", "wake", &sleeper]).await;
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "no Online node on subnet 127.0.0.0/8 to send the Wake-on-LAN packet for {sleeper}"
        )),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_controller_document_runs_on_the_controller_with_the_node_id() {
    let mut fleet = Fleet::start(2, 0).await;
    // Neither node reports a MAC: only the controller document can wake the sleeper.
    let controller = bring_up(&mut fleet, 0, "[]", false).await;
    let sleeper = bring_up(&mut fleet, 1, "[]", true).await;
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = marker_dir.path().join("powered-on");
    let content = serde_json::json!({
        "schemaVersion": "2.2",
        "description": "Power a node on (test: leave a note the test acts on)",
        "parameters": {"InstanceId": {"type": "String"}},
        "mainSteps": [{
            "action": "aws:runShellScript",
            "name": "powerOn",
            "inputs": {"runCommand": [format!("echo {{{{ InstanceId }}}} > {}", marker.display())]}
        }]
    });
    fleet
        .client
        .create_document()
        .name("Test-PowerOn")
        .document_type(aws_sdk_ssm::types::DocumentType::Command)
        .content(content.to_string())
        .send()
        .await
        .expect("CreateDocument");
    tag(
        &fleet,
        &sleeper,
        &[
            ("bosun:wake-document", "Test-PowerOn"),
            ("bosun:wake-via", &controller),
        ],
    )
    .await;

    let Fleet { server, agents, .. } = &mut fleet;
    let args = ["node", "wake", &sleeper, "--wait", "--timeout", "60"];
    let wake = server.cli(&args);
    let power_on = async {
        let who = wait_for("the controller's power-on note", LIMIT, || async {
            std::fs::read_to_string(&marker).ok()
        })
        .await;
        assert_eq!(who.trim(), sleeper, "the document got the node id");
        agents[1].start_with_env(&[("BOSUN_AGENT_TEST_INTERFACES", "[]")]);
    };
    let ((ok, out, err), ()) = tokio::join!(wake, power_on);
    assert!(ok, "bosun node wake failed: {out}{err}");
    assert!(
        out.contains(&format!("running Test-PowerOn on {controller}")),
        "{out}"
    );
    assert!(out.contains(&format!("{sleeper} is Online")), "{out}");

    // A controller document that fails ends the wait with the reason.
    fleet.agents[1].kill().await;
    wait_for("sleeper offline", LIMIT, || async {
        (ping(&fleet, &sleeper).await != Some(PingStatus::Online)).then_some(())
    })
    .await;
    tag(&fleet, &sleeper, &[("bosun:wake-document", "Test-Missing")]).await;
    let (ok, _, err) = fleet.server.cli(&["node", "wake", &sleeper]).await;
    assert!(!ok);
    assert!(
        err.contains("the power-controller document Test-Missing of") && err.contains("cannot run"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_no_wake_method_is_refused_with_the_reason() {
    let mut fleet = Fleet::start(2, 0).await;
    bring_up(&mut fleet, 0, &loopback("02:00:00:00:00:0a"), false).await;
    let sleeper = bring_up(&mut fleet, 1, "[]", true).await;
    let (ok, out, err) = fleet
        .server
        .cli(&["node", "wake", &sleeper, "--wait"])
        .await;
    assert!(!ok, "{out}");
    assert!(
        err.contains(&format!("no wake method configured for {sleeper}"))
            && err.contains("bosun:wake-document")
            && err.contains("bosun:wake-via"),
        "{err}"
    );
    // Half a controller configuration is refused too, naming the missing tag.
    tag(&fleet, &sleeper, &[("bosun:wake-document", "Test-PowerOn")]).await;
    let (ok, _, err) = fleet.server.cli(&["node", "wake", &sleeper]).await;
    assert!(!ok);
    assert!(err.contains("bosun:wake-via"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_waits_for_a_new_boot_and_stop_for_the_channel_to_drop() {
    // The node's "reboot" and "shutdown" end its agent process (whose pid the test keeps in a
    // file); a reboot also changes the boot id the agent will report, and the test starts the
    // agent again as the rebooted machine would.
    let dir = tempfile::tempdir().unwrap();
    let (pid_file, boot_file) = (dir.path().join("pid"), dir.path().join("boot"));
    let stop = format!("kill $(cat {})", pid_file.display());
    let restart = format!("echo boot-2 > {}; {stop}", boot_file.display());
    let server = bosun_e2e::TestServer::start_with(&[
        "--node-stop-command",
        &stop,
        "--node-restart-command",
        &restart,
    ])
    .await;
    let mut fleet = Fleet::start_on(server, 1, 0).await;
    std::fs::write(&boot_file, "boot-1\n").unwrap();
    let env = [("BOSUN_AGENT_BOOT_ID_FILE", boot_file.to_str().unwrap())];
    fleet.agents[0].start_with_env(&env);
    std::fs::write(&pid_file, fleet.agents[0].pid().unwrap().to_string()).unwrap();
    let id = fleet.agents[0].instance_id.clone();
    fleet.wait_online(&id).await;

    let Fleet { server, agents, .. } = &mut fleet;
    let args = ["node", "restart", &id, "--wait", "--timeout", "60"];
    let restart = server.cli(&args);
    let reboot = async {
        agents[0].wait_exit().await;
        assert_eq!(
            std::fs::read_to_string(&boot_file).unwrap().trim(),
            "boot-2"
        );
        agents[0].start_with_env(&env);
        std::fs::write(&pid_file, agents[0].pid().unwrap().to_string()).unwrap();
    };
    let ((ok, out, err), ()) = tokio::join!(restart, reboot);
    assert!(ok, "bosun node restart failed: {out}{err}");
    assert!(out.contains(&format!("asked {id} to reboot")), "{out}");
    assert!(out.contains("is back Online on a new boot"), "{out}");

    let (ok, out, err) = fleet
        .server
        .cli(&["node", "stop", &id, "--wait", "--timeout", "60"])
        .await;
    assert!(ok, "bosun node stop failed: {out}{err}");
    assert!(out.contains(&format!("{id} is down")), "{out}");
    fleet.agents[0].wait_exit().await;
    assert_ne!(ping(&fleet, &id).await, Some(PingStatus::Online));

    // A node that is not Online cannot be stopped or restarted through its agent.
    let (ok, _, err) = fleet.server.cli(&["node", "restart", &id]).await;
    assert!(!ok);
    assert!(err.contains(&format!("{id} is not Online")), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_tags_and_power_calls_are_authorized_on_every_node_they_touch() {
    let mut fleet = Fleet::start(2, 0).await;
    let controller = bring_up(&mut fleet, 0, "[]", false).await;
    let sleeper = bring_up(&mut fleet, 1, "[]", true).await;
    // May tag and command anything except the controller node.
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"},
            {"Effect": "Deny", "Action": ["ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:SendCommand"],
             "Resource": format!("arn:aws:ssm:*:*:managed-instance/{controller}")}
        ]
    })
    .to_string();
    let (limited, _, _) = fleet.server.user_with_policy("operator", &policy).await;
    let tag_as = |client: &aws_sdk_ssm::Client, key: &str, value: &str| {
        client
            .add_tags_to_resource()
            .resource_type(ResourceTypeForTagging::ManagedInstance)
            .resource_id(&sleeper)
            .tags(Tag::builder().key(key).value(value).build().unwrap())
            .send()
    };
    // Naming the controller needs the tag action on it too.
    let e = tag_as(&limited, "bosun:wake-via", &controller)
        .await
        .expect_err("the controller denies tagging");
    assert_eq!(
        aws_sdk_ssm::error::ProvideErrorMetadata::code(&e),
        Some("AccessDeniedException")
    );
    // Other tags of the node are the node's business alone.
    tag_as(&limited, "team", "ops").await.expect("plain tag");
    // Once an allowed user set the controller, the limited one can neither change the
    // document it runs nor release it.
    tag(
        &fleet,
        &sleeper,
        &[
            ("bosun:wake-via", &controller),
            ("bosun:wake-document", "Test-PowerOn"),
        ],
    )
    .await;
    let e = tag_as(&limited, "bosun:wake-document", "Other")
        .await
        .expect_err("the document names what runs on the controller");
    assert_eq!(
        aws_sdk_ssm::error::ProvideErrorMetadata::code(&e),
        Some("AccessDeniedException")
    );
    let e = limited
        .remove_tags_from_resource()
        .resource_type(ResourceTypeForTagging::ManagedInstance)
        .resource_id(&sleeper)
        .tag_keys("bosun:wake-via")
        .send()
        .await
        .expect_err("releasing the controller");
    assert_eq!(
        aws_sdk_ssm::error::ProvideErrorMetadata::code(&e),
        Some("AccessDeniedException")
    );

    // Waking through a controller runs a command there: the same deny refuses the wake.
    // `user_with_policy` keeps the user's key file in the server's test directory.
    let creds = fleet.server.dir.path().join("operator.credentials");
    let (ok, _, err) = fleet
        .server
        .cli(&[
            "node",
            "wake",
            &sleeper,
            "--credentials-file",
            creds.to_str().unwrap(),
        ])
        .await;
    assert!(!ok);
    assert!(err.contains("AccessDeniedException"), "{err}");
}
