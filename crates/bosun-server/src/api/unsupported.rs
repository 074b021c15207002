//! Request fields that AWS's model allows but Bosun cannot honour yet. A call that asks for one
//! of them is refused with an error naming the field, never accepted and silently ignored.
//!
//! Fields that ask for nothing are accepted (an empty bucket name, `CloudWatchOutputEnabled:
//! false`, a `ServiceRoleArn` without notifications): AWS itself does nothing with them either.
//! When a feature lands, its row goes.

use serde_json::Value;

use super::error::ApiError;

/// One field a request may not use yet.
struct Refusal {
    operation: &'static str,
    /// Top-level member, then an optional member inside it.
    field: &'static [&'static str],
    /// Whether the value found there asks for something Bosun does not do.
    asks: fn(&Value) -> bool,
    code: &'static str,
    message: &'static str,
}

fn non_empty(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Bool(b) => *b,
        Value::Number(_) => true,
    }
}

const REFUSALS: &[Refusal] = &[
    Refusal {
        operation: "CreateAssociation",
        field: &["OutputLocation"],
        asks: non_empty,
        code: "InvalidOutputLocation",
        message: "OutputLocation: this Bosun server does not write association output to S3 yet",
    },
    Refusal {
        operation: "CreateAssociation",
        field: &["CalendarNames"],
        asks: non_empty,
        code: "ValidationException",
        message: "CalendarNames: this Bosun server has no Change Calendar yet",
    },
    Refusal {
        operation: "CreateAssociation",
        field: &["TargetLocations"],
        asks: non_empty,
        code: "ValidationException",
        message: "TargetLocations: this Bosun server does not run associations in other accounts or regions",
    },
    Refusal {
        operation: "CreateAssociation",
        field: &["TargetMaps"],
        asks: non_empty,
        code: "InvalidTargetMaps",
        message: "TargetMaps: this Bosun server does not run Automation yet; target nodes with Targets",
    },
    Refusal {
        operation: "CreateAssociation",
        field: &["AutomationTargetParameterName"],
        asks: non_empty,
        code: "ValidationException",
        message: "AutomationTargetParameterName: this Bosun server does not run Automation yet",
    },
    Refusal {
        operation: "CreateAssociation",
        field: &["AlarmConfiguration", "Alarms"],
        asks: non_empty,
        code: "ValidationException",
        message: "AlarmConfiguration.Alarms: this Bosun server has no CloudWatch alarms to watch",
    },
    Refusal {
        operation: "CreateAssociation",
        field: &["AssociationDispatchAssumeRole"],
        asks: non_empty,
        code: "ValidationException",
        message: "AssociationDispatchAssumeRole: this Bosun server has no IAM roles to assume",
    },
    Refusal {
        operation: "UpdateAssociation",
        field: &["OutputLocation"],
        asks: non_empty,
        code: "InvalidOutputLocation",
        message: "OutputLocation: this Bosun server does not write association output to S3 yet",
    },
    Refusal {
        operation: "UpdateAssociation",
        field: &["CalendarNames"],
        asks: non_empty,
        code: "ValidationException",
        message: "CalendarNames: this Bosun server has no Change Calendar yet",
    },
    Refusal {
        operation: "UpdateAssociation",
        field: &["TargetLocations"],
        asks: non_empty,
        code: "ValidationException",
        message: "TargetLocations: this Bosun server does not run associations in other accounts or regions",
    },
    Refusal {
        operation: "UpdateAssociation",
        field: &["TargetMaps"],
        asks: non_empty,
        code: "InvalidTargetMaps",
        message: "TargetMaps: this Bosun server does not run Automation yet; target nodes with Targets",
    },
    Refusal {
        operation: "UpdateAssociation",
        field: &["AutomationTargetParameterName"],
        asks: non_empty,
        code: "ValidationException",
        message: "AutomationTargetParameterName: this Bosun server does not run Automation yet",
    },
    Refusal {
        operation: "UpdateAssociation",
        field: &["AlarmConfiguration", "Alarms"],
        asks: non_empty,
        code: "ValidationException",
        message: "AlarmConfiguration.Alarms: this Bosun server has no CloudWatch alarms to watch",
    },
    Refusal {
        operation: "UpdateAssociation",
        field: &["AssociationDispatchAssumeRole"],
        asks: non_empty,
        code: "ValidationException",
        message: "AssociationDispatchAssumeRole: this Bosun server has no IAM roles to assume",
    },
    Refusal {
        operation: "CreateAssociationBatch",
        field: &["AssociationDispatchAssumeRole"],
        asks: non_empty,
        code: "ValidationException",
        message: "AssociationDispatchAssumeRole: this Bosun server has no IAM roles to assume",
    },
    Refusal {
        operation: "SendCommand",
        field: &["OutputS3BucketName"],
        asks: non_empty,
        code: "InvalidOutputFolder",
        message: "OutputS3BucketName: this Bosun server does not write command output to S3; \
                  read it with GetCommandInvocation or the output URLs instead",
    },
    Refusal {
        operation: "SendCommand",
        field: &["OutputS3KeyPrefix"],
        asks: non_empty,
        code: "InvalidOutputFolder",
        message: "OutputS3KeyPrefix: this Bosun server does not write command output to S3; \
                  read it with GetCommandInvocation or the output URLs instead",
    },
    Refusal {
        operation: "SendCommand",
        field: &["NotificationConfig", "NotificationArn"],
        asks: non_empty,
        code: "InvalidNotificationConfig",
        message: "NotificationConfig.NotificationArn: this Bosun server does not send SNS \
                  notifications for commands yet",
    },
    Refusal {
        operation: "SendCommand",
        field: &["NotificationConfig", "NotificationEvents"],
        asks: non_empty,
        code: "InvalidNotificationConfig",
        message: "NotificationConfig.NotificationEvents: this Bosun server does not send SNS \
                  notifications for commands yet",
    },
    Refusal {
        operation: "SendCommand",
        field: &["CloudWatchOutputConfig", "CloudWatchOutputEnabled"],
        asks: non_empty,
        code: "InvalidParameters",
        message: "CloudWatchOutputConfig.CloudWatchOutputEnabled: this Bosun server does not send \
                  command output to CloudWatch Logs",
    },
    Refusal {
        operation: "SendCommand",
        field: &["AlarmConfiguration", "Alarms"],
        asks: non_empty,
        code: "InvalidParameters",
        message: "AlarmConfiguration.Alarms: this Bosun server has no CloudWatch alarms to watch \
                  while a command runs",
    },
    Refusal {
        operation: "CreateDocument",
        field: &["Attachments"],
        asks: non_empty,
        code: "ValidationException",
        message: "Attachments: this Bosun server does not fetch document attachments yet",
    },
    Refusal {
        operation: "UpdateDocument",
        field: &["Attachments"],
        asks: non_empty,
        code: "ValidationException",
        message: "Attachments: this Bosun server does not fetch document attachments yet",
    },
    Refusal {
        operation: "DescribeParameters",
        field: &["Shared"],
        asks: non_empty,
        code: "ValidationException",
        message: "Shared: this Bosun server has no parameters shared from other accounts",
    },
];

/// Refuse a request that asks for something Bosun does not do.
pub fn check(operation: &str, input: &Value) -> Result<(), ApiError> {
    for r in REFUSALS.iter().filter(|r| r.operation == operation) {
        let found = r.field.iter().try_fold(input, |v, k| v.get(*k));
        if found.is_some_and(r.asks) {
            return Err(ApiError::new(r.code, r.message));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_that_ask_for_nothing_pass() {
        for body in [
            json!({"OutputS3BucketName": "", "OutputS3Region": "us-east-1"}),
            json!({"CloudWatchOutputConfig": {"CloudWatchOutputEnabled": false}}),
            json!({"CloudWatchOutputConfig": {"CloudWatchLogGroupName": "g"}}),
            json!({"ServiceRoleArn": "arn:aws:iam::1:role/r", "NotificationConfig": {}}),
            json!({"AlarmConfiguration": {"Alarms": []}}),
        ] {
            assert!(check("SendCommand", &body).is_ok(), "{body}");
        }
    }

    #[test]
    fn fields_that_ask_for_work_are_refused_by_name() {
        for (op, body, field) in [
            (
                "SendCommand",
                json!({"OutputS3BucketName": "b"}),
                "OutputS3BucketName",
            ),
            (
                "SendCommand",
                json!({"OutputS3KeyPrefix": "p"}),
                "OutputS3KeyPrefix",
            ),
            (
                "SendCommand",
                json!({"NotificationConfig": {"NotificationArn": "arn:aws:sns:us-east-1:1:t"}}),
                "NotificationArn",
            ),
            (
                "SendCommand",
                json!({"CloudWatchOutputConfig": {"CloudWatchOutputEnabled": true}}),
                "CloudWatchOutputEnabled",
            ),
            (
                "SendCommand",
                json!({"AlarmConfiguration": {"Alarms": [{"Name": "a"}]}}),
                "Alarms",
            ),
            (
                "CreateDocument",
                json!({"Attachments": [{"Key": "URL"}]}),
                "Attachments",
            ),
            ("DescribeParameters", json!({"Shared": true}), "Shared"),
        ] {
            let e = check(op, &body).unwrap_err();
            assert!(e.message.contains(field), "{op} {body}: {}", e.message);
        }
    }

    #[test]
    fn every_row_names_a_member_of_an_operation_bosun_serves() {
        for r in REFUSALS {
            assert!(
                super::super::ops::find(r.operation).is_some(),
                "{}",
                r.operation
            );
            assert!(r.message.starts_with(r.field.join(".").as_str()));
        }
    }
}
