//! Resource groups through the real AWS CLI (`aws resource-groups …` against the server's
//! endpoint): tag-query groups over managed nodes, membership that follows the nodes' tags,
//! `resource-groups:Name` targets in Run Command, group tags, errors, and IAM policies
//! checked on the group's ARN.

use std::process::Command;
use std::time::Duration;

use bosun_e2e::fleet::Fleet;
use bosun_e2e::TestServer;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);

fn query(key: &str, value: &str) -> String {
    let inner = format!(
        r#"{{"ResourceTypeFilters":["AWS::EC2::Instance"],"TagFilters":[{{"Key":"{key}","Values":["{value}"]}}]}}"#
    );
    serde_json::json!({ "Type": "TAG_FILTERS_1_0", "Query": inner }).to_string()
}

fn tag_node(server: &TestServer, id: &str, key: &str, value: &str) {
    server
        .aws(&[
            "ssm",
            "add-tags-to-resource",
            "--resource-type",
            "ManagedInstance",
            "--resource-id",
            id,
            "--tags",
            &format!("Key={key},Value={value}"),
        ])
        .expect("tag a node");
}

fn members(server: &TestServer, group: &str) -> Vec<String> {
    let out = server
        .aws(&["resource-groups", "list-group-resources", "--group", group])
        .expect("list-group-resources");
    let mut arns: Vec<String> = out["ResourceIdentifiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["ResourceType"], "AWS::SSM::ManagedInstance");
            r["ResourceArn"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    arns.sort();
    arns
}

fn error_code(result: Result<Value, String>) -> String {
    let err = result.expect_err("an error");
    err.split('(')
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap_or(&err)
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_select_nodes_by_tag_and_run_command_targets_them() {
    let fleet = Fleet::start(3, 3).await;
    let server = &fleet.server;
    let mut ids = fleet.ids();
    ids.sort();
    tag_node(server, &ids[0], "env", "dev");
    tag_node(server, &ids[1], "env", "dev");
    tag_node(server, &ids[2], "env", "prod");

    let created = server
        .aws(&[
            "resource-groups",
            "create-group",
            "--name",
            "dev-nodes",
            "--description",
            "development nodes",
            "--resource-query",
            &query("env", "dev"),
            "--tags",
            "team=ops",
        ])
        .expect("create-group");
    let arn = created["Group"]["GroupArn"].as_str().unwrap().to_string();
    assert_eq!(
        arn,
        "arn:aws:resource-groups:us-east-1:000000000000:group/dev-nodes"
    );
    assert_eq!(created["Group"]["Description"], "development nodes");
    assert_eq!(created["Tags"]["team"], "ops");

    let got = server
        .aws(&["resource-groups", "get-group", "--group", "dev-nodes"])
        .unwrap();
    assert_eq!(got["Group"]["Name"], "dev-nodes");
    let by_arn = server
        .aws(&["resource-groups", "get-group-query", "--group", &arn])
        .unwrap();
    assert_eq!(
        by_arn["GroupQuery"]["ResourceQuery"]["Type"],
        "TAG_FILTERS_1_0"
    );
    let listed = server.aws(&["resource-groups", "list-groups"]).unwrap();
    assert_eq!(listed["GroupIdentifiers"][0]["GroupName"], "dev-nodes");
    assert_eq!(members(server, "dev-nodes"), ids[..2].to_vec());
    let searched = server
        .aws(&[
            "resource-groups",
            "search-resources",
            "--resource-query",
            &query("env", "prod"),
        ])
        .unwrap();
    assert_eq!(searched["ResourceIdentifiers"].as_array().unwrap().len(), 1);

    // Run Command on the group reaches exactly its members.
    let sent = server
        .aws(&[
            "ssm",
            "send-command",
            "--document-name",
            "AWS-RunShellScript",
            "--targets",
            "Key=resource-groups:Name,Values=dev-nodes",
            "--parameters",
            "commands=[\"echo in-group\"]",
        ])
        .expect("send-command to a group");
    let cmd = sent["Command"]["CommandId"].as_str().unwrap().to_string();
    for id in &ids[..2] {
        let inv = fleet.wait_done(&cmd, id, LIMIT).await;
        assert_eq!(inv.standard_output_content(), Some("in-group\n"));
    }
    let invocations = server
        .aws(&["ssm", "list-command-invocations", "--command-id", &cmd])
        .unwrap();
    assert_eq!(
        invocations["CommandInvocations"].as_array().unwrap().len(),
        2
    );

    // Membership follows the tags: a node tagged now is a member now.
    tag_node(server, &ids[2], "env", "dev");
    assert_eq!(members(server, "dev-nodes"), ids.to_vec());

    // The group's own tags, by ARN.
    server
        .aws(&["resource-groups", "tag", "--arn", &arn, "--tags", "tier=2"])
        .unwrap();
    server
        .aws(&["resource-groups", "untag", "--arn", &arn, "--keys", "team"])
        .unwrap();
    let tags = server
        .aws(&["resource-groups", "get-tags", "--arn", &arn])
        .unwrap();
    assert_eq!(tags["Tags"], serde_json::json!({ "tier": "2" }));

    // Changes, then deletion.
    let updated = server
        .aws(&[
            "resource-groups",
            "update-group",
            "--group",
            "dev-nodes",
            "--description",
            "dev",
        ])
        .unwrap();
    assert_eq!(updated["Group"]["Description"], "dev");
    server
        .aws(&[
            "resource-groups",
            "update-group-query",
            "--group",
            "dev-nodes",
            "--resource-query",
            &query("env", "prod"),
        ])
        .unwrap();
    assert!(members(server, "dev-nodes").is_empty());
    server
        .aws(&["resource-groups", "delete-group", "--group", "dev-nodes"])
        .unwrap();
    assert_eq!(
        error_code(server.aws(&["resource-groups", "get-group", "--group", "dev-nodes"])),
        "NotFoundException"
    );
    assert_eq!(
        error_code(server.aws(&[
            "ssm",
            "send-command",
            "--document-name",
            "AWS-RunShellScript",
            "--targets",
            "Key=resource-groups:Name,Values=dev-nodes",
            "--parameters",
            "commands=[\"true\"]",
        ])),
        "InvalidTarget"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_groups_are_refused_and_policies_are_checked_on_the_group() {
    let server = TestServer::start().await;
    let q = query("env", "dev");
    let create = |name: &str, q: &str| {
        server.aws(&[
            "resource-groups",
            "create-group",
            "--name",
            name,
            "--resource-query",
            q,
        ])
    };
    create("web", &q).expect("create-group");
    for (name, q, why) in [
        ("web", q.clone(), "a taken name"),
        ("AWS-reserved", q.clone(), "a reserved prefix"),
        ("bad name", q.clone(), "a space"),
        (
            "cfn",
            r#"{"Type":"CLOUDFORMATION_STACK_1_0","Query":"{}"}"#.to_string(),
            "stack queries",
        ),
        (
            "nofilters",
            r#"{"Type":"TAG_FILTERS_1_0","Query":"{\"ResourceTypeFilters\":[\"AWS::AllSupported\"]}"}"#
                .to_string(),
            "no tag filter",
        ),
    ] {
        assert_eq!(error_code(create(name, &q)), "BadRequestException", "{why}");
    }
    let listed = server.aws(&["resource-groups", "list-groups"]).unwrap();
    assert_eq!(
        listed["Groups"].as_array().unwrap().len(),
        1,
        "nothing else stored"
    );
    assert_eq!(
        error_code(server.aws(&["resource-groups", "get-group", "--group", "nope"])),
        "NotFoundException"
    );

    // A user allowed to read one group only.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"resource-groups:GetGroup","Resource":"arn:aws:resource-groups:us-east-1:000000000000:group/web"}]}"#;
    let (_, akid, secret) = server.user_with_policy("reader", policy).await;
    create("other", &q).expect("create-group");
    let as_reader = |args: &[&str]| {
        let out = Command::new("aws")
            .args(args)
            .args([
                "--endpoint-url",
                &server.url,
                "--region",
                "us-east-1",
                "--output",
                "json",
            ])
            .env("AWS_ACCESS_KEY_ID", &akid)
            .env("AWS_SECRET_ACCESS_KEY", &secret)
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("the AWS CLI");
        if out.status.success() {
            Ok(Value::Null)
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    };
    as_reader(&["resource-groups", "get-group", "--group", "web"]).expect("allowed");
    assert_eq!(
        error_code(as_reader(&[
            "resource-groups",
            "get-group",
            "--group",
            "other"
        ])),
        "AccessDeniedException"
    );
    assert_eq!(
        error_code(as_reader(&[
            "resource-groups",
            "create-group",
            "--name",
            "mine",
            "--resource-query",
            &q
        ])),
        "AccessDeniedException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_association_on_a_group_runs_on_its_members() {
    let fleet = Fleet::start(2, 2).await;
    let server = &fleet.server;
    let mut ids = fleet.ids();
    ids.sort();
    tag_node(server, &ids[0], "role", "web");
    server
        .aws(&[
            "resource-groups",
            "create-group",
            "--name",
            "web",
            "--resource-query",
            &query("role", "web"),
        ])
        .expect("create-group");
    let created = server
        .aws(&[
            "ssm",
            "create-association",
            "--name",
            "AWS-RunShellScript",
            "--targets",
            "Key=resource-groups:Name,Values=web",
            "--parameters",
            "commands=[\"echo assoc-in-group\"]",
        ])
        .expect("create-association on a group");
    let id = created["AssociationDescription"]["AssociationId"]
        .as_str()
        .unwrap()
        .to_string();
    let targets = bosun_e2e::wait_for("the execution's targets", LIMIT, || async {
        let execs = server
            .aws(&[
                "ssm",
                "describe-association-executions",
                "--association-id",
                &id,
            ])
            .ok()?;
        let exec = execs["AssociationExecutions"].as_array()?.first()?.clone();
        (exec["Status"] == "Success").then_some(())?;
        let exec_id = exec["ExecutionId"].as_str()?.to_string();
        let t = server
            .aws(&[
                "ssm",
                "describe-association-execution-targets",
                "--association-id",
                &id,
                "--execution-id",
                &exec_id,
            ])
            .ok()?;
        Some(t["AssociationExecutionTargets"].as_array()?.clone())
    })
    .await;
    let ran: Vec<&str> = targets
        .iter()
        .map(|t| t["ResourceId"].as_str().unwrap())
        .collect();
    assert_eq!(ran, vec![ids[0].as_str()], "only the group's member");
}
