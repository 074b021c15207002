//! Agent release pins end to end (issue 19): two real agents at version A, a tag pin on one
//! node's tag to B and the default C; one `AWS-UpdateSSMAgent` without a version moves each
//! node to its own version, `IsLatestVersion` follows each node's pin, and unpinning makes the
//! held-back node not latest. Pins are set with `bosun agent-release pin|unpin|pins`.

use std::time::Duration;

use aws_sdk_ssm::types::{CommandInvocationStatus, ResourceTypeForTagging, Tag};
use bosun_e2e::agent::versioned_agent_binary;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::releases::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_pin_holds_its_node_back_while_the_other_takes_the_default() {
    let mut fleet = Fleet::start(2, 0).await;
    let bins = tempfile::tempdir().unwrap();
    start_at_a(&mut fleet, bins.path(), 60).await;
    let ids = fleet.ids();
    let (canary, other) = (ids[0].as_str(), ids[1].as_str());
    fleet
        .client
        .add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::ManagedInstance)
        .resource_id(canary)
        .tags(Tag::builder().key("Ring").value("canary").build().unwrap())
        .send()
        .await
        .expect("AddTagsToResource");
    for (version, default) in [(B, false), (C, true)] {
        let bin = bins.path().join(format!("bosun-agent-{version}"));
        versioned_agent_binary(&bin, version);
        publish(&fleet, &bin, version, default).await;
    }
    let cli = |args: &'static [&'static str]| fleet.server.cli(args);

    // Refused: a version never published (named in the error), a tag without '='.
    let (ok, _, err) = cli(&["agent-release", "pin", "9.9.9", "--tag", "Ring=canary"]).await;
    assert!(
        !ok && err.contains("9.9.9") && err.contains("not published"),
        "{err}"
    );
    let (ok, _, err) = cli(&["agent-release", "pin", B, "--tag", "Ring"]).await;
    assert!(!ok && err.contains("Key=Value"), "{err}");
    let (ok, out, err) = cli(&["agent-release", "pins"]).await;
    assert!(
        ok && out.contains("no agent release is pinned"),
        "{out}{err}"
    );

    let (ok, out, err) = cli(&["agent-release", "pin", B, "--tag", "Ring=canary"]).await;
    assert!(
        ok && out.contains("pinned") && out.contains(B),
        "{out}{err}"
    );
    let (ok, out, _) = cli(&["agent-release", "pins"]).await;
    assert!(
        ok && out.contains(B) && out.contains("tag Ring=canary"),
        "{out}"
    );
    // Each node is compared with its own target: B for the canary, the default C otherwise.
    wait_each(&fleet, &[(canary, A, false), (other, A, false)]).await;

    let update = send_update(&fleet, &ids, None, false).await;
    fleet.wait_command(&update, Duration::from_secs(120)).await;
    for (id, to) in [(canary, B), (other, C)] {
        let inv = fleet.wait_done(&update, id, Duration::from_secs(5)).await;
        let out = inv.standard_output_content().unwrap_or_default();
        assert_eq!(
            inv.status(),
            Some(&CommandInvocationStatus::Success),
            "{id}: {out} {:?}",
            inv.standard_error_content()
        );
        assert!(out.contains(&format!("updated from {A} to {to}")), "{out}");
    }
    wait_each(&fleet, &[(canary, B, true), (other, C, true)]).await;

    // Unpinned, the canary's target is the default C again: B is no longer the latest.
    let (ok, out, err) = cli(&["agent-release", "unpin", "--tag", "Ring=canary"]).await;
    assert!(ok && out.contains("unpinned"), "{out}{err}");
    wait_each(&fleet, &[(canary, B, false), (other, C, true)]).await;
    let (ok, _, err) = cli(&["agent-release", "unpin", "--tag", "Ring=canary"]).await;
    assert!(!ok && err.contains("no agent release is pinned"), "{err}");
    // A region pin applies to every node without a tag pin: B is the canary's target again,
    // and C is at least B.
    let (ok, out, err) = cli(&["agent-release", "pin", B]).await;
    assert!(ok && out.contains("the whole region"), "{out}{err}");
    wait_each(&fleet, &[(canary, B, true), (other, C, true)]).await;
}
