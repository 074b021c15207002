//! EventBridge rules through the real AWS CLI (`aws events …` against the server's endpoint):
//! rules on the default bus, their SNS targets and tags, `TestEventPattern`, AWS's errors
//! (and nothing stored by a refused call), IAM policies checked on the rule's ARN, and the
//! Terraform provider's call sequence through boto3.

use std::process::Command;

use bosun_e2e::TestServer;
use serde_json::{json, Value};

/// Seed 003's rule: failed Run Command invocations of chosen documents.
const SEED_PATTERN: &str = r#"{"detail-type":["EC2 Command Invocation Status-change Notification"],"source":["aws.ssm"],"detail":{"document-name":["AWS-UpdateSSMAgent","AWS-ConfigureAWSPackage"],"status":["Failed"]}}"#;
const TOPIC: &str = "arn:aws:sns:us-east-1:000000000000:ops-mail";
const RULE_ARN: &str = "arn:aws:events:us-east-1:000000000000:rule/ssm-failed";

fn invocation_event(status: &str) -> String {
    json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "EC2 Command Invocation Status-change Notification",
        "source": "aws.ssm", "account": "000000000000", "time": "2021-03-26T05:00:12Z",
        "region": "us-east-1", "resources": ["arn:aws:ec2:us-east-1:000000000000:instance/mi-0123456789abcdef0"],
        "detail": {"command-id": "c1", "document-name": "AWS-UpdateSSMAgent",
                   "instance-id": "mi-0123456789abcdef0", "status": status}
    })
    .to_string()
}

/// The error code and message of a failed CLI call.
fn error(result: Result<Value, String>) -> (String, String) {
    let err = result.expect_err("an error");
    let code = err
        .split('(')
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap_or(&err)
        .to_string();
    let message = err
        .split_once(": ")
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_default();
    (code, message)
}

fn rule_names(server: &TestServer) -> Vec<String> {
    let out = server.aws(&["events", "list-rules"]).expect("list-rules");
    out["Rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Name"].as_str().unwrap().to_string())
        .collect()
}

fn put_targets(server: &TestServer, rule: &str, targets: &Value) -> Result<Value, String> {
    server.aws(&[
        "events",
        "put-targets",
        "--rule",
        rule,
        "--targets",
        &targets.to_string(),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_and_targets_through_the_aws_cli() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let pattern_file = dir.path().join("pattern.json");
    std::fs::write(&pattern_file, format!("{SEED_PATTERN}\n")).unwrap();
    let pattern_arg = format!("file://{}", pattern_file.display());

    let created = server
        .aws(&[
            "events",
            "put-rule",
            "--name",
            "ssm-failed",
            "--event-pattern",
            &pattern_arg,
            "--description",
            "failed updates",
            "--tags",
            "Key=team,Value=ops",
        ])
        .expect("put-rule");
    assert_eq!(created["RuleArn"], RULE_ARN);
    let described = server
        .aws(&["events", "describe-rule", "--name", "ssm-failed"])
        .expect("describe-rule");
    assert_eq!(described["Arn"], RULE_ARN);
    assert_eq!(described["State"], "ENABLED");
    assert_eq!(described["EventBusName"], "default");
    assert_eq!(described["Description"], "failed updates");
    assert_eq!(described["CreatedBy"], "000000000000");
    assert_eq!(
        serde_json::from_str::<Value>(described["EventPattern"].as_str().unwrap()).unwrap(),
        serde_json::from_str::<Value>(SEED_PATTERN).unwrap()
    );
    let tags = server
        .aws(&[
            "events",
            "list-tags-for-resource",
            "--resource-arn",
            RULE_ARN,
        ])
        .unwrap();
    assert_eq!(tags["Tags"], json!([{"Key": "team", "Value": "ops"}]));

    // Disable and enable; list with a prefix and by pages.
    server
        .aws(&["events", "disable-rule", "--name", "ssm-failed"])
        .unwrap();
    let state = |s: &TestServer| {
        s.aws(&["events", "describe-rule", "--name", "ssm-failed"])
            .unwrap()["State"]
            .clone()
    };
    assert_eq!(state(&server), "DISABLED");
    server
        .aws(&["events", "enable-rule", "--name", "ssm-failed"])
        .unwrap();
    assert_eq!(state(&server), "ENABLED");
    for name in ["ssm-ok", "other"] {
        server
            .aws(&[
                "events",
                "put-rule",
                "--name",
                name,
                "--event-pattern",
                SEED_PATTERN,
            ])
            .unwrap();
    }
    let prefixed = server
        .aws(&["events", "list-rules", "--name-prefix", "ssm-"])
        .unwrap();
    let names: Vec<&str> = prefixed["Rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ssm-failed", "ssm-ok"]);
    let first = server
        .aws(&["events", "list-rules", "--limit", "2", "--no-paginate"])
        .unwrap();
    assert_eq!(first["Rules"].as_array().unwrap().len(), 2);
    let token = first["NextToken"]
        .as_str()
        .expect("a next page")
        .to_string();
    let second = server
        .aws(&[
            "events",
            "list-rules",
            "--next-token",
            &token,
            "--no-paginate",
        ])
        .unwrap();
    assert_eq!(second["Rules"][0]["Name"], "ssm-ok");
    assert!(second.get("NextToken").is_none());

    // Targets: an SNS topic with an InputTransformer is stored; a Lambda is refused per target.
    let mail = json!({"Id": "mail", "Arn": TOPIC, "InputTransformer": {
        "InputPathsMap": {"node": "$.detail.instance-id", "cmd": "$.detail.command-id"},
        "InputTemplate": "\"<cmd> failed on <node>\""}});
    let lambda =
        json!({"Id": "fn", "Arn": "arn:aws:lambda:us-east-1:000000000000:function:mailer"});
    let put = put_targets(&server, "ssm-failed", &json!([mail, lambda])).expect("put-targets");
    assert_eq!(put["FailedEntryCount"], 1);
    assert_eq!(put["FailedEntries"][0]["TargetId"], "fn");
    assert_eq!(put["FailedEntries"][0]["ErrorCode"], "ValidationException");
    let listed = server
        .aws(&["events", "list-targets-by-rule", "--rule", "ssm-failed"])
        .unwrap();
    assert_eq!(listed["Targets"], json!([mail]));
    let by_target = server
        .aws(&["events", "list-rule-names-by-target", "--target-arn", TOPIC])
        .unwrap();
    assert_eq!(by_target["RuleNames"], json!(["ssm-failed"]));

    // Bad targets store nothing: two input settings, an invalid placeholder, a malformed ARN.
    let before = server
        .aws(&["events", "list-targets-by-rule", "--rule", "ssm-failed"])
        .unwrap();
    let (code, message) = error(put_targets(
        &server,
        "ssm-failed",
        &json!([{"Id": "two", "Arn": TOPIC, "Input": "{}", "InputPath": "$.detail"}]),
    ));
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "Only one of Input, InputPath, or InputTransformer must be provided for target two."
    );
    let (_, message) = error(put_targets(
        &server,
        "ssm-failed",
        &json!([{"Id": "ph", "Arn": TOPIC, "InputTransformer": {"InputTemplate": "\"<nope>\""}}]),
    ));
    assert_eq!(
        message,
        "InputTemplate for target ph contains invalid placeholder nope."
    );
    let (code, _) = error(put_targets(
        &server,
        "ssm-failed",
        &json!([{"Id": "x", "Arn": "not-an-arn"}]),
    ));
    assert_eq!(code, "ValidationException");
    let (code, message) = error(put_targets(
        &server,
        "nope",
        &json!([{"Id": "x", "Arn": TOPIC}]),
    ));
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ResourceNotFoundException",
            "Rule nope does not exist on EventBus default."
        )
    );
    // At most five targets per rule: a sixth is refused and none of its call is stored.
    let four: Vec<Value> = (1..=4)
        .map(|i| json!({"Id": format!("t{i}"), "Arn": TOPIC}))
        .collect();
    put_targets(&server, "ssm-failed", &json!(four)).expect("five targets");
    let (code, _) = error(put_targets(
        &server,
        "ssm-failed",
        &json!([{"Id": "t5", "Arn": TOPIC}]),
    ));
    assert_eq!(code, "LimitExceededException");
    let after = server
        .aws(&["events", "list-targets-by-rule", "--rule", "ssm-failed"])
        .unwrap();
    assert_eq!(after["Targets"].as_array().unwrap().len(), 5);
    assert_eq!(after["Targets"][0], before["Targets"][0]);

    // A rule with targets is not deleted (AWS's text, which Terraform retries on).
    let (code, message) = error(server.aws(&["events", "delete-rule", "--name", "ssm-failed"]));
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ValidationException",
            "Rule can't be deleted since it has targets."
        )
    );
    let ids = ["mail", "t1", "t2", "t3", "t4"];
    let mut remove = vec!["events", "remove-targets", "--rule", "ssm-failed", "--ids"];
    remove.extend(ids);
    let removed = server.aws(&remove).expect("remove-targets");
    assert_eq!(removed["FailedEntryCount"], 0);
    server
        .aws(&["events", "delete-rule", "--name", "ssm-failed"])
        .expect("delete-rule");
    let (code, message) = error(server.aws(&["events", "describe-rule", "--name", "ssm-failed"]));
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ResourceNotFoundException",
            "Rule ssm-failed does not exist on EventBus default."
        )
    );
    assert_eq!(rule_names(&server), ["other", "ssm-ok"]);

    // EventBridge operations Bosun lacks are refused by name.
    let (code, message) = error(server.aws(&["events", "list-event-buses"]));
    assert_eq!(code, "UnknownOperationException");
    assert!(message.contains("ListEventBuses"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_event_pattern_and_refused_rules_store_nothing() {
    let server = TestServer::start().await;
    let test = |pattern: &str, event: &str| {
        server.aws(&[
            "events",
            "test-event-pattern",
            "--event-pattern",
            pattern,
            "--event",
            event,
        ])
    };
    assert_eq!(
        test(SEED_PATTERN, &invocation_event("Failed")).unwrap()["Result"],
        true
    );
    assert_eq!(
        test(SEED_PATTERN, &invocation_event("Success")).unwrap()["Result"],
        false
    );
    let (code, message) = error(test(
        r#"{"detail":{"status":[{"numeric":10}]}}"#,
        &invocation_event("Failed"),
    ));
    assert_eq!(code, "InvalidEventPatternException");
    assert_eq!(
        message,
        "Event pattern is not valid. Reason: Value of numeric must be an array."
    );
    let (code, _) = error(test(SEED_PATTERN, r#"{"source":"aws.ssm"}"#));
    assert_eq!(code, "ValidationException");

    // Refused rules: nothing is stored.
    let refused = [
        (
            vec!["--event-pattern", r#"{"source":[]}"#],
            "InvalidEventPatternException",
            "Event pattern is not valid. Reason: Empty arrays are not allowed",
        ),
        (
            vec!["--schedule-expression", "rate(5 minutes)"],
            "ValidationException",
            "ScheduleExpression is not supported by this Bosun server",
        ),
        (
            vec![],
            "ValidationException",
            "Parameter(s) EventPattern or ScheduleExpression must be specified.",
        ),
        (
            vec![
                "--event-pattern",
                SEED_PATTERN,
                "--event-bus-name",
                "orders",
            ],
            "ResourceNotFoundException",
            "Event bus orders does not exist.",
        ),
    ];
    for (args, want_code, want_message) in refused {
        let mut call = vec!["events", "put-rule", "--name", "bad"];
        call.extend(args.iter().copied());
        let (code, message) = error(server.aws(&call));
        assert_eq!(code, want_code, "{args:?}: {message}");
        assert!(message.starts_with(want_message), "{args:?}: {message}");
    }
    let (code, message) = error(server.aws(&[
        "events",
        "put-rule",
        "--name",
        "bad/name",
        "--event-pattern",
        SEED_PATTERN,
    ]));
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("at 'name' failed to satisfy constraint"),
        "{message}"
    );
    assert!(rule_names(&server).is_empty());
    let stored = server
        .read_store(|s| s.list_rules("us-east-1").unwrap().len())
        .await;
    assert_eq!(stored, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_are_checked_on_the_rule_arn() {
    let server = TestServer::start().await;
    for name in ["mine", "theirs"] {
        server
            .aws(&[
                "events",
                "put-rule",
                "--name",
                name,
                "--event-pattern",
                SEED_PATTERN,
            ])
            .unwrap();
    }
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["events:DescribeRule","events:PutTargets"],"Resource":"arn:aws:events:us-east-1:000000000000:rule/mine"}]}"#;
    let (_, akid, secret) = server.user_with_policy("operator", policy).await;
    let as_operator = |args: &[&str]| {
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
            Ok(serde_json::from_slice(&out.stdout).unwrap_or(Value::Null))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    };
    as_operator(&["events", "describe-rule", "--name", "mine"]).expect("allowed");
    let (code, message) = error(as_operator(&[
        "events",
        "describe-rule",
        "--name",
        "theirs",
    ]));
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.contains(
            "events:DescribeRule on resource: arn:aws:events:us-east-1:000000000000:rule/theirs"
        ),
        "{message}"
    );
    let targets = json!([{"Id": "t", "Arn": TOPIC}]).to_string();
    let (code, _) = error(as_operator(&[
        "events",
        "put-targets",
        "--rule",
        "theirs",
        "--targets",
        &targets,
    ]));
    assert_eq!(code, "AccessDeniedException");
    // Its own rule, but a topic it may not publish to: the rule would publish as the caller.
    let (code, message) = error(as_operator(&[
        "events",
        "put-targets",
        "--rule",
        "mine",
        "--targets",
        &targets,
    ]));
    assert_eq!(code, "AccessDeniedException");
    assert!(message.contains("sns:Publish"), "{message}");
    let mine = server
        .aws(&["events", "list-targets-by-rule", "--rule", "mine"])
        .unwrap();
    assert_eq!(mine["Targets"], json!([]), "a denied call stores nothing");
    let (code, _) = error(as_operator(&["events", "delete-rule", "--name", "mine"]));
    assert_eq!(code, "AccessDeniedException");
    let theirs = server
        .aws(&["events", "list-targets-by-rule", "--rule", "theirs"])
        .unwrap();
    assert_eq!(theirs["Targets"], json!([]), "a denied call stores nothing");
    assert_eq!(rule_names(&server), ["mine", "theirs"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terraform_rule_and_target_sequence_through_boto3() {
    let server = TestServer::start().await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/events_terraform.py"
    );
    let out = server
        .as_admin("python3")
        .arg(script)
        .arg(&server.url)
        .output()
        .expect("python3 with boto3 is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    assert_eq!(
        seen["rule_arn"],
        "arn:aws:events:us-east-1:000000000000:rule/tf-rule"
    );
    assert_eq!(
        seen["gone"],
        "Rule tf-rule does not exist on EventBus default."
    );
}
