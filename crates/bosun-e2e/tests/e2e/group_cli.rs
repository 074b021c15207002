//! `bosun group`: a tag-based resource group made, listed, shown with the nodes it holds now,
//! and deleted, against a real server with registered nodes.

use aws_sdk_ssm::types::{ResourceTypeForTagging, Tag};
use bosun_e2e::fleet::Fleet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_is_created_listed_shown_with_its_nodes_and_deleted() {
    let fleet = Fleet::start(2, 0).await;
    let ids = fleet.ids();
    fleet
        .client
        .add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::ManagedInstance)
        .resource_id(&ids[1])
        .tags(Tag::builder().key("role").value("web").build().unwrap())
        .send()
        .await
        .expect("AddTagsToResource");
    let server = &fleet.server;

    let (ok, out, err) = server
        .cli(&[
            "group",
            "create",
            "web",
            "--tag",
            "env=test",
            "--tag",
            "role=web,api",
            "--description",
            "web nodes",
        ])
        .await;
    assert!(ok, "{err}");
    assert!(out.contains(":group/web"), "{out}");
    let (ok, _, err) = server
        .cli(&["group", "create", "web", "--tag", "env=test"])
        .await;
    assert!(
        !ok && err.contains("web"),
        "a second group of one name: {err}"
    );
    let (ok, _, err) = server
        .cli(&["group", "create", "bad", "--tag", "novalue"])
        .await;
    assert!(!ok && err.contains("KEY=VALUE"), "{err}");

    let (ok, out, err) = server.cli(&["group", "list"]).await;
    assert!(ok, "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("web") && l.contains("web nodes")),
        "{out}"
    );

    let (ok, out, err) = server.cli(&["group", "show", "web"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("env=test and role=web,api"), "{out}");
    assert!(
        out.contains(&ids[1]) && !out.contains(&ids[0]),
        "only the tagged node: {out}"
    );

    let (ok, _, err) = server.cli(&["group", "delete", "web"]).await;
    assert!(ok, "{err}");
    let (ok, out, _) = server.cli(&["group", "list"]).await;
    assert!(ok && out.contains("no groups"), "{out}");
    let (ok, _, err) = server.cli(&["group", "show", "web"]).await;
    assert!(!ok && err.contains("NotFoundException"), "{err}");
}
