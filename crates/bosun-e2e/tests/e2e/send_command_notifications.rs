//! SendCommand's `NotificationConfig` (issue 17): commands sent with aws-sdk-ssm to real agents
//! notify an SNS topic with a real, confirmed http subscriber, in AWS's notification format —
//! `Command` + `[Success]` sends exactly one message for a succeeding command, `Invocation` +
//! `[Failed]` on two nodes where one fails exactly one naming that node, and a command without
//! a config nothing. An unknown topic and a caller denied `sns:Publish` on the topic are refused.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_ssm::types::{CommandStatus, NotificationConfig, NotificationEvent, NotificationType};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::subscriber::{confirmed_topic, Received, Subscriber};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);
const ROLE: &str = "arn:aws:iam::000000000000:role/sns-notify";

fn config(topic: &str, event: NotificationEvent, kind: NotificationType) -> NotificationConfig {
    NotificationConfig::builder()
        .notification_arn(topic)
        .notification_events(event)
        .notification_type(kind)
        .build()
}

/// Send `AWS-RunShellScript` running `script` on `nodes`, with `notify` if given.
async fn send(
    client: &aws_sdk_ssm::Client,
    nodes: &[String],
    script: &str,
    notify: Option<NotificationConfig>,
) -> Result<
    String,
    aws_sdk_ssm::error::SdkError<aws_sdk_ssm::operation::send_command::SendCommandError>,
> {
    let out = client
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some(nodes.to_vec()))
        .parameters("commands", vec![script.to_string()])
        .set_service_role_arn(notify.is_some().then(|| ROLE.to_string()))
        .set_notification_config(notify)
        .send()
        .await?;
    Ok(out.command.unwrap().command_id.unwrap())
}

/// The SNS notifications `sub` received at `path`, as the JSON messages they carry.
fn messages(sub: &Subscriber, path: &str) -> Vec<(Received, Value)> {
    sub.at(path)
        .into_iter()
        .filter(|r| r.header("x-amz-sns-message-type") == Some("Notification"))
        .map(|r| {
            let m: Value = serde_json::from_str(r.json()["Message"].as_str().unwrap()).unwrap();
            (r, m)
        })
        .collect()
}

fn keys(m: &Value) -> BTreeSet<&str> {
    m.as_object().unwrap().keys().map(String::as_str).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chosen_status_changes_reach_the_topic_once_in_aws_format() {
    let fleet = Fleet::start(2, 2).await;
    let server = &fleet.server;
    let nodes = fleet.ids();
    let client = &fleet.client;
    let sub = Subscriber::start().await;
    let commands_topic = confirmed_topic(server, &sub, "command-notes", "/cmd", LIMIT).await;
    let invocations_topic = confirmed_topic(server, &sub, "invocation-notes", "/inv", LIMIT).await;
    let node0 = std::slice::from_ref(&nodes[0]);

    // No NotificationConfig: nothing is sent.
    let quiet = send(client, node0, "echo quiet", None).await.unwrap();
    let c = fleet.wait_command(&quiet, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Success));

    // Command + [Success]: one message, with AWS's keys.
    let notify = config(
        &commands_topic,
        NotificationEvent::Success,
        NotificationType::Command,
    );
    let ok = send(client, node0, "echo fine", Some(notify.clone()))
        .await
        .unwrap();
    let c = fleet.wait_command(&ok, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Success));
    assert_eq!(c.notification_config(), Some(&notify), "GetCommand shape");
    assert_eq!(c.service_role(), Some(ROLE));
    sub.wait("/cmd", "Notification", 1, LIMIT).await;

    // Invocation + [Failed] on two nodes, the second fails: one message naming it.
    let failing = nodes[1].clone();
    let script = format!("if [ \"$AWS_SSM_INSTANCE_ID\" = \"{failing}\" ]; then exit 3; fi");
    let notify_inv = config(
        &invocations_topic,
        NotificationEvent::Failed,
        NotificationType::Invocation,
    );
    let mixed = send(client, &nodes, &script, Some(notify_inv.clone()))
        .await
        .unwrap();
    let c = fleet.wait_command(&mixed, LIMIT).await;
    assert_eq!(c.status(), Some(&CommandStatus::Failed));
    sub.wait("/inv", "Notification", 1, LIMIT).await;
    let listed = client
        .list_command_invocations()
        .command_id(&mixed)
        .send()
        .await
        .unwrap();
    for i in listed.command_invocations() {
        assert_eq!(i.notification_config(), Some(&notify_inv));
        assert_eq!(i.service_role(), Some(ROLE));
    }

    // A last notified command: its message is published after every event before it (the
    // outbox is read in order), so once it arrives the earlier commands have sent all they
    // ever will.
    let last = send(client, node0, "echo last", Some(notify.clone()))
        .await
        .unwrap();
    fleet.wait_command(&last, LIMIT).await;
    sub.wait("/cmd", "Notification", 2, LIMIT).await;

    let cmd = messages(&sub, "/cmd");
    assert_eq!(
        cmd.len(),
        2,
        "{:?}",
        cmd.iter().map(|m| &m.1).collect::<Vec<_>>()
    );
    let (raw, m) = &cmd[0];
    assert_eq!(raw.json()["TopicArn"], commands_topic.as_str());
    assert!(raw.json().get("Subject").is_none_or(Value::is_null));
    assert_eq!(
        keys(m),
        BTreeSet::from([
            "commandId",
            "documentName",
            "instanceIds",
            "requestedDateTime",
            "expiresAfter",
            "outputS3BucketName",
            "outputS3KeyPrefix",
            "status",
            "eventTime",
        ])
    );
    assert_eq!(m["commandId"], ok.as_str());
    assert_eq!(m["documentName"], "AWS-RunShellScript");
    assert_eq!(m["instanceIds"], serde_json::json!([nodes[0]]));
    assert_eq!(m["status"], "Success");
    assert_eq!(m["outputS3BucketName"], "");
    for k in ["requestedDateTime", "expiresAfter", "eventTime"] {
        let t = m[k].as_str().unwrap();
        assert!(
            t.ends_with('Z') && t.parse::<jiff::Timestamp>().is_ok(),
            "{k}: {t}"
        );
    }
    assert_eq!(cmd[1].1["commandId"], last.as_str());

    let inv = messages(&sub, "/inv");
    assert_eq!(
        inv.len(),
        1,
        "{:?}",
        inv.iter().map(|m| &m.1).collect::<Vec<_>>()
    );
    let m = &inv[0].1;
    assert_eq!(
        keys(m),
        BTreeSet::from([
            "commandId",
            "documentName",
            "instanceId",
            "requestedDateTime",
            "status",
            "eventTime",
        ])
    );
    assert_eq!(m["commandId"], mixed.as_str());
    assert_eq!(m["instanceId"], failing.as_str());
    assert_eq!(m["status"], "Failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_topics_and_callers_denied_publish_are_refused() {
    let fleet = Fleet::start(1, 0).await;
    let server = &fleet.server;
    let nodes = fleet.ids();
    let sub = Subscriber::start().await;
    let topic = confirmed_topic(server, &sub, "guarded", "/g", LIMIT).await;

    let unknown = "arn:aws:sns:us-east-1:000000000000:no-such-topic";
    let err = send(
        &fleet.client,
        &nodes,
        "echo hi",
        Some(config(
            unknown,
            NotificationEvent::All,
            NotificationType::Command,
        )),
    )
    .await
    .unwrap_err();
    let err = err.into_service_error();
    assert_eq!(
        err.meta().code(),
        Some("InvalidNotificationConfig"),
        "{err:?}"
    );
    assert!(err.meta().message().unwrap().contains(unknown), "{err:?}");

    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":["ssm:*","sns:*"],"Resource":"*"}},
            {{"Effect":"Deny","Action":"sns:Publish","Resource":"{topic}"}}]}}"#
    );
    let (denied, _, _) = server.user_with_policy("no-publish", &policy).await;
    let err = send(
        &denied,
        &nodes,
        "echo hi",
        Some(config(
            &topic,
            NotificationEvent::All,
            NotificationType::Command,
        )),
    )
    .await
    .unwrap_err()
    .into_service_error();
    assert_eq!(err.meta().code(), Some("AccessDeniedException"), "{err:?}");
    // The same caller may still send commands that notify nobody.
    send(&denied, &nodes, "echo hi", None).await.unwrap();
    let listed = fleet.client.list_commands().send().await.unwrap();
    assert_eq!(
        listed.commands().len(),
        1,
        "the refused commands were not stored"
    );
}

fn ssm(server: &bosun_e2e::TestServer, args: &[&str]) -> Result<Value, String> {
    let mut all = vec!["ssm"];
    all.extend_from_slice(args);
    server.aws(&all)
}

/// `at(…)` `secs` seconds from now, in UTC.
fn at_in(secs: i64) -> String {
    let t = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(secs);
    format!("at({})", t.strftime("%Y-%m-%dT%H:%M:%S"))
}

/// A maintenance window's `RUN_COMMAND` task passes its `NotificationConfig` and
/// `ServiceRoleArn` to the command it sends, which notifies the topic; a task naming an unknown
/// topic is refused when it is registered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_tasks_command_notifies_its_topic() {
    let fleet = Fleet::start(1, 1).await;
    let server = &fleet.server;
    let node = fleet.ids()[0].clone();
    let sub = Subscriber::start().await;
    let topic = confirmed_topic(server, &sub, "window-notes", "/mw", LIMIT).await;
    let window = ssm(
        server,
        &[
            "create-maintenance-window",
            "--name",
            "notify",
            "--schedule",
            &at_in(86_400),
            "--duration",
            "2",
            "--cutoff",
            "0",
            "--allow-unassociated-targets",
        ],
    )
    .unwrap()["WindowId"]
        .as_str()
        .unwrap()
        .to_string();
    let register = |arn: &str| {
        let params = serde_json::json!({"RunCommand": {
            "Parameters": {"commands": ["echo window"]},
            "ServiceRoleArn": ROLE,
            "NotificationConfig": {"NotificationArn": arn, "NotificationEvents": ["Success"],
                                   "NotificationType": "Command"}
        }})
        .to_string();
        ssm(
            server,
            &[
                "register-task-with-maintenance-window",
                "--window-id",
                &window,
                "--task-arn",
                "AWS-RunShellScript",
                "--task-type",
                "RUN_COMMAND",
                "--targets",
                &format!("Key=InstanceIds,Values={node}"),
                "--max-concurrency",
                "1",
                "--max-errors",
                "0",
                "--task-invocation-parameters",
                &params,
            ],
        )
    };
    let err = register("arn:aws:sns:us-east-1:000000000000:no-such-topic").unwrap_err();
    assert!(
        err.contains("ValidationException") && err.contains("no-such-topic"),
        "{err}"
    );
    register(&topic).expect("a task with a NotificationConfig");
    ssm(
        server,
        &[
            "update-maintenance-window",
            "--window-id",
            &window,
            "--schedule",
            &at_in(8),
        ],
    )
    .unwrap();

    let note = sub
        .wait("/mw", "Notification", 1, Duration::from_secs(90))
        .await;
    let m: Value = serde_json::from_str(note.json()["Message"].as_str().unwrap()).unwrap();
    assert_eq!(m["status"], "Success");
    assert_eq!(m["documentName"], "AWS-RunShellScript");
    let command_id = m["commandId"].as_str().unwrap();
    let c = fleet
        .client
        .list_commands()
        .command_id(command_id)
        .send()
        .await
        .unwrap();
    let c = &c.commands()[0];
    assert_eq!(c.service_role(), Some(ROLE));
    assert_eq!(
        c.notification_config().and_then(|n| n.notification_arn()),
        Some(topic.as_str()),
        "{c:?}"
    );
}
