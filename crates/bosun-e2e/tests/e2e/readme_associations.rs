//! The README's State Manager example, run as written: the shell block between the
//! `readme-associations` markers of README.md goes through `bash` and the real AWS CLI against
//! a real server whose agents are tagged `ope-type=auto`, and the association must run on those
//! nodes (and only on them). A README that drifts from what works fails here.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_ssm::types::Tag;
use bosun_e2e::agent::{register, Agent};
use bosun_e2e::{wait_for, TestServer};

/// The sh block between the markers.
fn readme_block() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let begin = readme
        .find("<!-- readme-associations:begin -->")
        .expect("the begin marker");
    let end = readme
        .find("<!-- readme-associations:end -->")
        .expect("the end marker");
    let block = &readme[begin..end];
    let body = block
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.rsplit_once("```"))
        .map(|(body, _)| body)
        .expect("a ```sh block between the markers");
    assert!(
        body.contains("aws ssm create-association")
            && body.contains("Key=tag:ope-type,Values=auto")
            && body.contains("cron(0 5 ? * TUE *)")
            && body.contains("--max-concurrency 100% --max-errors 0%")
            && body.contains("aws ssm describe-association-executions"),
        "the README example is the seed-003 association:\n{body}"
    );
    body.to_string()
}

/// `n` registered, running agents from an activation tagged `key=value`.
async fn agents(server: &TestServer, key: &str, value: &str, n: usize) -> Vec<Agent> {
    let out = server
        .client()
        .create_activation()
        .iam_role("BosunNode")
        .registration_limit(n as i32)
        .tags(Tag::builder().key(key).value(value).build().unwrap())
        .send()
        .await
        .expect("CreateActivation");
    let (id, code) = (out.activation_id.unwrap(), out.activation_code.unwrap());
    let mut list = Vec::new();
    for _ in 0..n {
        let mut a = register(&server.url, &id, &code, None, &[])
            .await
            .expect("register");
        a.start();
        list.push(a);
    }
    list
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_association_example_runs_on_the_tagged_nodes() {
    let script = readme_block();
    let server = TestServer::start().await;
    let client = server.client();
    let tagged = agents(&server, "ope-type", "auto", 2).await;
    let _other = agents(&server, "ope-type", "manual", 1).await;
    let tagged_ids: BTreeSet<String> = tagged.iter().map(|a| a.instance_id.clone()).collect();
    wait_for("the agents online", Duration::from_secs(30), || async {
        let out = client.describe_instance_information().send().await.ok()?;
        (out.instance_information_list().len() == 3
            && out
                .instance_information_list()
                .iter()
                .all(|n| n.ping_status() == Some(&aws_sdk_ssm::types::PingStatus::Online)))
        .then_some(())
    })
    .await;

    let data = server.data_dir();
    let out = tokio::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("BOSUN_ENDPOINT", &server.url)
        .env("AWS_SHARED_CREDENTIALS_FILE", data.join("credentials"))
        .env("AWS_CONFIG_FILE", data.join("config"))
        .env("AWS_PAGER", "")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_SSM")
        .output()
        .await
        .expect("bash and the AWS CLI");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README's commands failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\"AssociationExecutions\""), "{stdout}");

    let listed = client.list_associations().send().await.unwrap();
    let [association] = listed.associations() else {
        panic!("one association: {listed:?}")
    };
    let id = association.association_id().unwrap().to_string();
    assert_eq!(
        association.schedule_expression(),
        Some("cron(0 5 ? * TUE *)")
    );
    assert_eq!(association.name(), Some("AWS-RunShellScript"));

    // It ran at creation on exactly the tagged nodes, and succeeded.
    let execution = wait_for(
        "the first execution ends",
        Duration::from_secs(60),
        || async {
            let out = client
                .describe_association_executions()
                .association_id(&id)
                .send()
                .await
                .ok()?;
            out.association_executions()
                .first()
                .filter(|e| e.status() == Some("Success"))
                .cloned()
        },
    )
    .await;
    let targets = client
        .describe_association_execution_targets()
        .association_id(&id)
        .execution_id(execution.execution_id().unwrap())
        .send()
        .await
        .expect("DescribeAssociationExecutionTargets");
    let ran: BTreeSet<String> = targets
        .association_execution_targets()
        .iter()
        .filter(|t| t.status() == Some("Success"))
        .map(|t| t.resource_id().unwrap().to_string())
        .collect();
    assert_eq!(ran, tagged_ids, "{targets:?}");
    assert_eq!(targets.association_execution_targets().len(), 2);

    // What the script printed on a node.
    let command_id = targets.association_execution_targets()[0]
        .output_source()
        .and_then(|o| o.output_source_id())
        .unwrap()
        .to_string();
    let node = targets.association_execution_targets()[0]
        .resource_id()
        .unwrap()
        .to_string();
    let invocation = client
        .get_command_invocation()
        .command_id(&command_id)
        .instance_id(&node)
        .send()
        .await
        .expect("GetCommandInvocation");
    assert!(
        invocation
            .standard_output_content()
            .unwrap_or_default()
            .contains("updating agents on "),
        "{invocation:?}"
    );
    let described = client
        .describe_association()
        .association_id(&id)
        .send()
        .await
        .unwrap()
        .association_description
        .unwrap();
    assert_eq!(described.max_concurrency(), Some("100%"));
    assert_eq!(described.max_errors(), Some("0%"));
}
