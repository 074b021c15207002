//! Helpers of the agent release and update tests: agents on their own copies of the agent
//! binary at version [`A`], publishing with `bosun agent-release`, sending `AWS-UpdateSSMAgent`,
//! and waiting for the fleet's versions.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_ssm::types::InstanceInformation;
use sha2::{Digest, Sha256};

use crate::agent::versioned_agent_binary;
use crate::fleet::Fleet;
use crate::wait_for;

pub const A: &str = "1.0.0";
pub const B: &str = "1.1.0";
pub const C: &str = "1.2.0";

/// Give each registered agent its own binary at version `A` and start it.
pub async fn start_at_a(fleet: &mut Fleet, bins: &Path, health_timeout_s: u64) -> Vec<PathBuf> {
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

pub async fn nodes(fleet: &Fleet) -> Vec<InstanceInformation> {
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
pub async fn wait_versions(fleet: &Fleet, version: &str, latest: bool) {
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

/// Wait until each named node is Online at its version with its `IsLatestVersion`:
/// `(node id, version, latest)`.
pub async fn wait_each(fleet: &Fleet, expected: &[(&str, &str, bool)]) {
    wait_for(
        &format!("nodes Online at (id, version, latest) {expected:?}"),
        Duration::from_secs(30),
        || async {
            let list = nodes(fleet).await;
            expected
                .iter()
                .all(|(id, version, latest)| {
                    list.iter().any(|n| {
                        n.instance_id() == Some(*id)
                            && n.agent_version() == Some(*version)
                            && n.is_latest_version() == Some(*latest)
                            && n.ping_status() == Some(&aws_sdk_ssm::types::PingStatus::Online)
                    })
                })
                .then_some(())
        },
    )
    .await
}

pub async fn publish(fleet: &Fleet, binary: &Path, version: &str, default: bool) -> String {
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

pub async fn send_update(
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

pub fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}
