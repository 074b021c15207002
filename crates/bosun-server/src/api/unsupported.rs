//! Request fields that AWS's model allows but Bosun cannot honour yet. A call that asks for one
//! of them is refused with an error naming the field, never accepted and silently ignored.
//!
//! Fields that ask for nothing are accepted (an empty bucket name, `CloudWatchOutputEnabled:
//! false`, a `ServiceRoleArn` without notifications): AWS itself does nothing with them either.
//! When a feature lands, its row goes.

use serde_json::Value;

use super::error::ApiError;

/// What this server can do beyond its defaults (from its configuration).
#[derive(Debug, Clone, Copy, Default)]
pub struct Abilities {
    /// Its blob store is S3, so it can write command output to other buckets.
    pub writes_s3_output: bool,
}

fn never(_: &Abilities) -> bool {
    false
}

fn with_s3_blobs(a: &Abilities) -> bool {
    a.writes_s3_output
}

/// One field a request may not use yet.
struct Refusal {
    operation: &'static str,
    /// Top-level member, then an optional member inside it.
    field: &'static [&'static str],
    /// Whether the value found there asks for something Bosun does not do.
    asks: fn(&Value) -> bool,
    /// Servers that honour the field after all.
    honoured: fn(&Abilities) -> bool,
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
        honoured: never,
        code: "InvalidOutputLocation",
        message: "OutputLocation: this Bosun server does not write association output to S3 yet",
    },
    Refusal {
        operation: "CreateAssociation",
        field: &["CalendarNames"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "CalendarNames: this Bosun server has no Change Calendar yet",
    },
    Refusal {
        operation: "CreateAssociation",
        field: &["TargetLocations"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "TargetLocations: this Bosun server does not run associations in other accounts or regions",
    },
    Refusal {
        operation: "CreateAssociation",
        field: &["AlarmConfiguration", "Alarms"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "AlarmConfiguration.Alarms: this Bosun server has no CloudWatch alarms to watch",
    },
    Refusal {
        operation: "CreateAssociation",
        field: &["AssociationDispatchAssumeRole"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "AssociationDispatchAssumeRole: this Bosun server has no IAM roles to assume",
    },
    Refusal {
        operation: "UpdateAssociation",
        field: &["OutputLocation"],
        asks: non_empty,
        honoured: never,
        code: "InvalidOutputLocation",
        message: "OutputLocation: this Bosun server does not write association output to S3 yet",
    },
    Refusal {
        operation: "UpdateAssociation",
        field: &["CalendarNames"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "CalendarNames: this Bosun server has no Change Calendar yet",
    },
    Refusal {
        operation: "UpdateAssociation",
        field: &["TargetLocations"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "TargetLocations: this Bosun server does not run associations in other accounts or regions",
    },
    Refusal {
        operation: "UpdateAssociation",
        field: &["AlarmConfiguration", "Alarms"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "AlarmConfiguration.Alarms: this Bosun server has no CloudWatch alarms to watch",
    },
    Refusal {
        operation: "UpdateAssociation",
        field: &["AssociationDispatchAssumeRole"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "AssociationDispatchAssumeRole: this Bosun server has no IAM roles to assume",
    },
    Refusal {
        operation: "CreateAssociationBatch",
        field: &["AssociationDispatchAssumeRole"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "AssociationDispatchAssumeRole: this Bosun server has no IAM roles to assume",
    },
    Refusal {
        operation: "SendCommand",
        field: &["OutputS3BucketName"],
        asks: non_empty,
        honoured: with_s3_blobs,
        code: "InvalidOutputFolder",
        message:
            "OutputS3BucketName: this Bosun server stores command output in a local folder, so it \
                  writes none to S3 (start it with --blobs s3://… to allow this); read output \
                  with GetCommandInvocation or the output URLs instead",
    },
    Refusal {
        operation: "SendCommand",
        field: &["OutputS3KeyPrefix"],
        asks: non_empty,
        honoured: with_s3_blobs,
        code: "InvalidOutputFolder",
        message:
            "OutputS3KeyPrefix: this Bosun server stores command output in a local folder, so it \
                  writes none to S3 (start it with --blobs s3://… to allow this); read output \
                  with GetCommandInvocation or the output URLs instead",
    },
    Refusal {
        operation: "SendCommand",
        field: &["CloudWatchOutputConfig", "CloudWatchOutputEnabled"],
        asks: non_empty,
        honoured: never,
        code: "InvalidParameters",
        message: "CloudWatchOutputConfig.CloudWatchOutputEnabled: this Bosun server does not send \
                  command output to CloudWatch Logs",
    },
    Refusal {
        operation: "SendCommand",
        field: &["AlarmConfiguration", "Alarms"],
        asks: non_empty,
        honoured: never,
        code: "InvalidParameters",
        message: "AlarmConfiguration.Alarms: this Bosun server has no CloudWatch alarms to watch \
                  while a command runs",
    },
    Refusal {
        operation: "DescribeParameters",
        field: &["Shared"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "Shared: this Bosun server has no parameters shared from other accounts",
    },
    Refusal {
        operation: "RegisterTaskWithMaintenanceWindow",
        field: &["LoggingInfo"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "LoggingInfo: this Bosun server does not write maintenance window task logs to S3",
    },
    Refusal {
        operation: "RegisterTaskWithMaintenanceWindow",
        field: &["TaskInvocationParameters", "RunCommand", "OutputS3BucketName"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "TaskInvocationParameters.RunCommand.OutputS3BucketName: this Bosun server does not write maintenance window task output to S3 yet",
    },
    Refusal {
        operation: "RegisterTaskWithMaintenanceWindow",
        field: &["TaskInvocationParameters", "RunCommand", "OutputS3KeyPrefix"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "TaskInvocationParameters.RunCommand.OutputS3KeyPrefix: this Bosun server does not write maintenance window task output to S3 yet",
    },
    Refusal {
        operation: "RegisterTaskWithMaintenanceWindow",
        field: &["TaskInvocationParameters", "RunCommand", "CloudWatchOutputConfig", "CloudWatchOutputEnabled"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "TaskInvocationParameters.RunCommand.CloudWatchOutputConfig.CloudWatchOutputEnabled: this Bosun server has no CloudWatch Logs to send output to",
    },
    Refusal {
        operation: "RegisterTaskWithMaintenanceWindow",
        field: &["AlarmConfiguration", "Alarms"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "AlarmConfiguration.Alarms: this Bosun server has no CloudWatch alarms to watch",
    },
    Refusal {
        operation: "UpdateMaintenanceWindowTask",
        field: &["LoggingInfo"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "LoggingInfo: this Bosun server does not write maintenance window task logs to S3",
    },
    Refusal {
        operation: "UpdateMaintenanceWindowTask",
        field: &["TaskInvocationParameters", "RunCommand", "OutputS3BucketName"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "TaskInvocationParameters.RunCommand.OutputS3BucketName: this Bosun server does not write maintenance window task output to S3 yet",
    },
    Refusal {
        operation: "UpdateMaintenanceWindowTask",
        field: &["TaskInvocationParameters", "RunCommand", "OutputS3KeyPrefix"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "TaskInvocationParameters.RunCommand.OutputS3KeyPrefix: this Bosun server does not write maintenance window task output to S3 yet",
    },
    Refusal {
        operation: "UpdateMaintenanceWindowTask",
        field: &["TaskInvocationParameters", "RunCommand", "CloudWatchOutputConfig", "CloudWatchOutputEnabled"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "TaskInvocationParameters.RunCommand.CloudWatchOutputConfig.CloudWatchOutputEnabled: this Bosun server has no CloudWatch Logs to send output to",
    },
    Refusal {
        operation: "UpdateMaintenanceWindowTask",
        field: &["AlarmConfiguration", "Alarms"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "AlarmConfiguration.Alarms: this Bosun server has no CloudWatch alarms to watch",
    },
    Refusal {
        operation: "DescribeMaintenanceWindowSchedule",
        field: &["Filters"],
        asks: non_empty,
        honoured: never,
        code: "ValidationException",
        message: "Filters: this Bosun server does not filter maintenance window schedules yet; page through the upcoming runs instead",
    },
];

/// Refuse a request that asks for something this server does not do.
pub fn check(operation: &str, input: &Value, abilities: &Abilities) -> Result<(), ApiError> {
    for r in REFUSALS
        .iter()
        .filter(|r| r.operation == operation && !(r.honoured)(abilities))
    {
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
            assert!(
                check("SendCommand", &body, &Abilities::default()).is_ok(),
                "{body}"
            );
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
                json!({"CloudWatchOutputConfig": {"CloudWatchOutputEnabled": true}}),
                "CloudWatchOutputEnabled",
            ),
            (
                "SendCommand",
                json!({"AlarmConfiguration": {"Alarms": [{"Name": "a"}]}}),
                "Alarms",
            ),
            ("DescribeParameters", json!({"Shared": true}), "Shared"),
        ] {
            let e = check(op, &body, &Abilities::default()).unwrap_err();
            assert!(e.message.contains(field), "{op} {body}: {}", e.message);
        }
    }

    #[test]
    fn a_server_with_s3_blobs_writes_output_buckets() {
        let s3 = Abilities {
            writes_s3_output: true,
        };
        let body = json!({"OutputS3BucketName": "b", "OutputS3KeyPrefix": "p"});
        assert!(check("SendCommand", &body, &s3).is_ok());
        let e = check("SendCommand", &body, &Abilities::default()).unwrap_err();
        assert!(e.message.contains("--blobs s3://"), "{}", e.message);
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
