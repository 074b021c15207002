//! The spine end to end: activations, registration, node status, deregistration, tags,
//! regions — a real server, real agents and the `aws-sdk-ssm` client.

use std::time::Duration;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{InstanceInformation, InstanceInformationStringFilter, PingStatus, Tag};
use aws_sdk_ssm::Client;
use bosun_e2e::agent::register;
use bosun_e2e::{wait_for, TestServer};

const DEADLINE: Duration = Duration::from_secs(20);

async fn create_activation(client: &Client, limit: i32, tags: &[(&str, &str)]) -> (String, String) {
    let mut req = client
        .create_activation()
        .iam_role("BosunNode")
        .registration_limit(limit);
    for (k, v) in tags {
        req = req.tags(Tag::builder().key(*k).value(*v).build().unwrap());
    }
    let out = req.send().await.expect("CreateActivation");
    (out.activation_id.unwrap(), out.activation_code.unwrap())
}

async fn node(client: &Client, id: &str) -> Option<InstanceInformation> {
    let out = client
        .describe_instance_information()
        .filters(
            InstanceInformationStringFilter::builder()
                .key("InstanceIds")
                .values(id)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("DescribeInstanceInformation");
    out.instance_information_list
        .unwrap_or_default()
        .into_iter()
        .next()
}

async fn wait_status(client: &Client, id: &str, status: PingStatus) -> InstanceInformation {
    wait_for(&format!("{id} to be {status:?}"), DEADLINE, || async {
        node(client, id)
            .await
            .filter(|n| n.ping_status() == Some(&status))
    })
    .await
}

async fn ids_with_filter(client: &Client, key: &str, values: &[&str]) -> Vec<String> {
    let mut f = InstanceInformationStringFilter::builder().key(key);
    for v in values {
        f = f.values(*v);
    }
    let out = client
        .describe_instance_information()
        .filters(f.build().unwrap())
        .send()
        .await
        .expect("DescribeInstanceInformation");
    let mut ids: Vec<String> = out
        .instance_information_list
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| n.instance_id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_register_stay_connected_and_deregister() {
    let server = TestServer::start().await;
    let client = server.client();
    let (id, code) = create_activation(&client, 2, &[("env", "dev")]).await;

    let mut a1 = register(&server.url, &id, &code, None, &[])
        .await
        .expect("first registration");
    let mut a2 = register(&server.url, &id, &code, None, &[])
        .await
        .expect("second registration");
    assert_ne!(a1.instance_id, a2.instance_id);
    let refused = register(&server.url, &id, &code, None, &[])
        .await
        .err()
        .expect("third registration refused");
    assert!(refused.contains("RegistrationLimitExceeded"), "{refused}");

    let acts = client
        .describe_activations()
        .send()
        .await
        .unwrap()
        .activation_list
        .unwrap();
    let act = acts
        .iter()
        .find(|a| a.activation_id() == Some(id.as_str()))
        .unwrap();
    assert_eq!(
        act.registrations_count,
        Some(2),
        "the refused registration counted nothing"
    );
    assert_eq!(
        client
            .describe_instance_information()
            .send()
            .await
            .unwrap()
            .instance_information_list
            .unwrap()
            .len(),
        2
    );

    a1.start();
    a2.start();
    let n1 = wait_status(&client, &a1.instance_id, PingStatus::Online).await;
    wait_status(&client, &a2.instance_id, PingStatus::Online).await;
    assert_eq!(n1.platform_type().map(|p| p.as_str()), Some("Linux"));
    assert_eq!(
        n1.resource_type().map(|p| p.as_str()),
        Some("ManagedInstance")
    );
    assert_eq!(n1.activation_id(), Some(id.as_str()));
    assert_eq!(n1.iam_role(), Some("BosunNode"));
    assert!(n1.agent_version().is_some_and(|v| !v.is_empty()));
    assert_eq!(n1.is_latest_version(), Some(true));
    assert!(n1.ip_address().is_some_and(|v| !v.is_empty()));
    let hostname = nix::unistd::gethostname().unwrap().into_string().unwrap();
    assert_eq!(n1.computer_name(), Some(hostname.as_str()));
    assert!(n1.platform_name().is_some_and(|v| !v.is_empty()));
    assert!(n1.registration_date().is_some() && n1.last_ping_date_time().is_some());

    // Tags: nodes inherit the activation's tags; more can be added to one node.
    let both = {
        let mut v = vec![a1.instance_id.clone(), a2.instance_id.clone()];
        v.sort();
        v
    };
    assert_eq!(ids_with_filter(&client, "tag:env", &["dev"]).await, both);
    assert!(ids_with_filter(&client, "tag:env", &["prod"])
        .await
        .is_empty());
    assert_eq!(ids_with_filter(&client, "tag-key", &["env"]).await, both);
    client
        .add_tags_to_resource()
        .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::ManagedInstance)
        .resource_id(&a1.instance_id)
        .tags(Tag::builder().key("role").value("web").build().unwrap())
        .send()
        .await
        .expect("AddTagsToResource");
    assert_eq!(
        ids_with_filter(&client, "tag:role", &["web"]).await,
        vec![a1.instance_id.clone()]
    );
    assert_eq!(
        ids_with_filter(&client, "PingStatus", &["Online"]).await,
        both
    );

    // kill -9 one agent: ConnectionLost; restart it: Online again with the same id.
    a1.kill().await;
    wait_status(&client, &a1.instance_id, PingStatus::ConnectionLost).await;
    a1.start();
    wait_status(&client, &a1.instance_id, PingStatus::Online).await;

    // Deregister the other: Inactive, its agent stops and refuses to start again.
    client
        .deregister_managed_instance()
        .instance_id(&a2.instance_id)
        .send()
        .await
        .expect("Deregister");
    wait_status(&client, &a2.instance_id, PingStatus::Inactive).await;
    let (ok, log) = a2.wait_exit().await;
    assert!(!ok, "a deregistered agent exits with an error");
    assert!(log.contains("deregistered"), "{log}");
    let (ok, stderr) = a2.run_once().await;
    assert!(!ok && stderr.contains("deregistered"), "{stderr}");
    // Even without the marker file, the server refuses the old key.
    std::fs::remove_file(a2.state_dir.join("deregistered")).unwrap();
    let (ok, stderr) = a2.run_once().await;
    assert!(!ok && stderr.contains("deregistered"), "{stderr}");
    assert_eq!(
        node(&client, &a2.instance_id).await.unwrap().ping_status(),
        Some(&PingStatus::Inactive)
    );
    // Deregistering again is an error.
    let again = client
        .deregister_managed_instance()
        .instance_id(&a2.instance_id)
        .send()
        .await;
    assert_eq!(
        again
            .err()
            .and_then(|e| e.code().map(str::to_string))
            .as_deref(),
        Some("InvalidInstanceId")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_activations_are_refused_and_create_nothing() {
    let server = TestServer::start().await;
    let client = server.client();
    let (id, code) = create_activation(&client, 5, &[]).await;

    let wrong_code = register(&server.url, &id, "AAAAAAAAAAAAAAAAAAAA", None, &[])
        .await
        .err()
        .unwrap();
    let unknown_id = register(
        &server.url,
        "00000000-0000-4000-8000-000000000000",
        &code,
        None,
        &[],
    )
    .await
    .err()
    .unwrap();
    assert!(wrong_code.contains("InvalidActivation"), "{wrong_code}");
    let tail = |s: &str| s.lines().last().unwrap_or_default().to_string();
    assert_eq!(
        tail(&wrong_code),
        tail(&unknown_id),
        "wrong code and unknown id answer alike"
    );
    // The activation lives in us-east-1; asking in another region finds nothing.
    let other_region = register(&server.url, &id, &code, Some("eu-west-1"), &[])
        .await
        .err()
        .unwrap();
    assert!(other_region.contains("InvalidActivation"), "{other_region}");

    // An expired activation.
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_millis(1500);
    let out = client
        .create_activation()
        .iam_role("BosunNode")
        .expiration_date(aws_sdk_ssm::primitives::DateTime::from_millis(
            soon.as_millisecond(),
        ))
        .send()
        .await
        .unwrap();
    let (eid, ecode) = (out.activation_id.unwrap(), out.activation_code.unwrap());
    wait_for("the activation to expire", DEADLINE, || async {
        let acts = client
            .describe_activations()
            .send()
            .await
            .unwrap()
            .activation_list
            .unwrap();
        acts.iter()
            .find(|a| a.activation_id() == Some(eid.as_str()) && a.expired)
            .map(|_| ())
    })
    .await;
    let expired = register(&server.url, &eid, &ecode, None, &[])
        .await
        .err()
        .unwrap();
    assert!(expired.contains("ActivationExpired"), "{expired}");

    let nodes = client.describe_instance_information().send().await.unwrap();
    assert!(
        nodes.instance_information_list.unwrap().is_empty(),
        "no node was created"
    );

    // Deleting an activation stops new registrations with it.
    client
        .delete_activation()
        .activation_id(&id)
        .send()
        .await
        .unwrap();
    let deleted = register(&server.url, &id, &code, None, &[])
        .await
        .err()
        .unwrap();
    assert!(deleted.contains("InvalidActivation"), "{deleted}");
    let again = client.delete_activation().activation_id(&id).send().await;
    assert_eq!(
        again
            .err()
            .and_then(|e| e.code().map(str::to_string))
            .as_deref(),
        Some("InvalidActivationId")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_are_separate_and_pages_cover_every_node() {
    let server = TestServer::start_with(&["--regions", "us-east-1,us-west-2"]).await;
    let east = server.client_in("us-east-1");
    let west = server.client_in("us-west-2");
    let (id, code) = create_activation(&west, 6, &[]).await;
    assert!(east
        .describe_activations()
        .send()
        .await
        .unwrap()
        .activation_list
        .unwrap()
        .is_empty());
    let mut registered = Vec::new();
    for _ in 0..6 {
        registered.push(
            register(&server.url, &id, &code, Some("us-west-2"), &[])
                .await
                .unwrap()
                .instance_id,
        );
    }
    registered.sort();
    assert!(east
        .describe_instance_information()
        .send()
        .await
        .unwrap()
        .instance_information_list
        .unwrap()
        .is_empty());

    let first = west
        .describe_instance_information()
        .max_results(5)
        .send()
        .await
        .unwrap();
    assert_eq!(first.instance_information_list().len(), 5);
    let token = first.next_token().expect("a second page").to_string();
    let second = west
        .describe_instance_information()
        .max_results(5)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.instance_information_list().len(), 1);
    assert!(second.next_token().is_none());
    let mut seen: Vec<String> = first
        .instance_information_list()
        .iter()
        .chain(second.instance_information_list())
        .filter_map(|n| n.instance_id.clone())
        .collect();
    seen.sort();
    assert_eq!(seen, registered);
    // Registered but never connected: ConnectionLost.
    assert!(first
        .instance_information_list()
        .iter()
        .all(|n| n.ping_status() == Some(&PingStatus::ConnectionLost)));

    let err = west
        .describe_instance_information()
        .max_results(3)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    let err = west
        .describe_instance_information()
        .next_token("bogus")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidNextToken"));
    let err = west
        .describe_instance_information()
        .filters(
            InstanceInformationStringFilter::builder()
                .key("Color")
                .values("x")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidFilterKey"));
    let err = west
        .describe_instance_information()
        .filters(
            InstanceInformationStringFilter::builder()
                .key("PingStatus")
                .values("Asleep")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidInstanceInformationFilterValue"));
    // A node of us-west-2 cannot be tagged from us-east-1.
    let err = east
        .list_tags_for_resource()
        .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::ManagedInstance)
        .resource_id(&registered[0])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidResourceId"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_bosun_lacks_say_so() {
    let server = TestServer::start().await;
    let client = server.client();
    let err = client.describe_patch_baselines().send().await.unwrap_err();
    assert_eq!(err.code(), Some("UnknownOperationException"));
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("does not implement"),
        "{err:?}"
    );
    let err = client
        .add_tags_to_resource()
        .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::PatchBaseline)
        .resource_id("pb-0123")
        .tags(Tag::builder().key("k").value("v").build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidResourceType"));
}
