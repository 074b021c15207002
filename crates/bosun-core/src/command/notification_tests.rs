//! Tests of the notification rules and messages.

use super::*;

fn config(events: &[&str], kind: &str) -> CommandNotification {
    let events: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    CommandNotification::from_request(
        Some("arn:aws:sns:us-east-1:123456789012:t"),
        Some(&events),
        Some(kind),
        Some("arn:aws:iam::123456789012:role/sns"),
    )
    .unwrap()
    .unwrap()
}

#[test]
fn a_config_that_asks_for_nothing_is_none() {
    assert_eq!(
        CommandNotification::from_request(None, None, None, Some("r")),
        Ok(None)
    );
    assert_eq!(
        CommandNotification::from_request(Some(""), Some(&[]), Some(""), None),
        Ok(None)
    );
}

#[test]
fn incomplete_or_unknown_configs_are_refused() {
    let all = vec!["All".to_string()];
    assert_eq!(
        CommandNotification::from_request(None, Some(&all), Some("Command"), None),
        Err(ConfigError::MissingArn)
    );
    assert_eq!(
        CommandNotification::from_request(Some("a"), Some(&[]), Some("Command"), None),
        Err(ConfigError::NoEvents)
    );
    assert_eq!(
        CommandNotification::from_request(Some("a"), Some(&all), None, None),
        Err(ConfigError::NoType)
    );
    assert_eq!(
        CommandNotification::from_request(
            Some("a"),
            Some(&["Pending".into()]),
            Some("Command"),
            None
        ),
        Err(ConfigError::UnknownEvent("Pending".into()))
    );
    assert_eq!(
        CommandNotification::from_request(Some("a"), Some(&all), Some("Node"), None),
        Err(ConfigError::UnknownType("Node".into()))
    );
}

#[test]
fn the_service_role_is_kept() {
    assert_eq!(
        config(&["All"], "Command").service_role_arn,
        "arn:aws:iam::123456789012:role/sns"
    );
}

#[test]
fn only_the_chosen_events_of_the_chosen_scope_notify() {
    let c = config(&["Success", "Failed"], "Command");
    assert!(c.wants(Scope::Command, "Success"));
    assert!(c.wants(Scope::Command, "Failed"));
    assert!(!c.wants(Scope::Command, "InProgress"));
    assert!(!c.wants(Scope::Invocation, "Success"));
    let i = config(&["Failed"], "Invocation");
    assert!(i.wants(Scope::Invocation, "Failed"));
    assert!(!i.wants(Scope::Invocation, "Success"));
    assert!(!i.wants(Scope::Command, "Failed"));
}

#[test]
fn all_is_every_notified_status_but_never_pending_cancelling_or_delayed() {
    let c = config(&["All"], "Invocation");
    for s in ["InProgress", "Success", "TimedOut", "Cancelled", "Failed"] {
        assert!(c.wants(Scope::Invocation, s), "{s}");
    }
    for s in ["Pending", "Cancelling", "Delayed"] {
        assert!(!c.wants(Scope::Invocation, s), "{s}");
    }
}

#[test]
fn times_are_iso_with_trailing_zeros_dropped() {
    // 2019-04-25T17:57:09.170Z
    assert_eq!(
        notification_time(1_556_215_029_170),
        "2019-04-25T17:57:09.17Z"
    );
    assert_eq!(
        notification_time(1_556_215_029_236),
        "2019-04-25T17:57:09.236Z"
    );
    assert_eq!(notification_time(1_556_215_029_000), "2019-04-25T17:57:09Z");
    assert_eq!(
        notification_time(1_556_215_029_100),
        "2019-04-25T17:57:09.1Z"
    );
}

fn command<'a>(ids: &'a [String]) -> NotifiedCommand<'a> {
    NotifiedCommand {
        command_id: "a8c7e76f-15f1-4c33-9052-0123456789ab",
        document_name: "AWS-RunShellScript",
        requested_ms: 1_556_215_029_170,
        expires_ms: 1_556_219_229_170,
        instance_ids: ids,
        output_s3_bucket_name: "bucket",
        output_s3_key_prefix: "runcommand",
    }
}

#[test]
fn a_command_message_has_aws_keys() {
    let ids = vec!["i-1234567890abcdef0".to_string()];
    let m = command_message(&command(&ids), "Success", 1_556_215_029_236);
    assert_eq!(
        m,
        json!({
            "commandId": "a8c7e76f-15f1-4c33-9052-0123456789ab",
            "documentName": "AWS-RunShellScript",
            "instanceIds": ["i-1234567890abcdef0"],
            "requestedDateTime": "2019-04-25T17:57:09.17Z",
            "expiresAfter": "2019-04-25T19:07:09.17Z",
            "outputS3BucketName": "bucket",
            "outputS3KeyPrefix": "runcommand",
            "status": "Success",
            "eventTime": "2019-04-25T17:57:09.236Z",
        })
    );
}

#[test]
fn an_invocation_message_names_its_node() {
    let m = invocation_message(
        &command(&[]),
        "mi-0123456789abcdef0",
        "Failed",
        1_556_215_030_000,
    );
    assert_eq!(
        m,
        json!({
            "commandId": "a8c7e76f-15f1-4c33-9052-0123456789ab",
            "documentName": "AWS-RunShellScript",
            "instanceId": "mi-0123456789abcdef0",
            "requestedDateTime": "2019-04-25T17:57:09.17Z",
            "status": "Failed",
            "eventTime": "2019-04-25T17:57:10Z",
        })
    );
}

#[test]
fn the_config_round_trips_as_aws_names() {
    let c = config(&["All"], "Command");
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["NotificationArn"], "arn:aws:sns:us-east-1:123456789012:t");
    assert_eq!(v["NotificationEvents"], json!(["All"]));
    assert_eq!(v["NotificationType"], "Command");
    assert_eq!(serde_json::from_value::<CommandNotification>(v).unwrap(), c);
}
