//! Where `SendCommand`'s `OutputS3BucketName`/`OutputS3KeyPrefix` put a step's output, in the
//! layout AWS uses: `<prefix>/<command-id>/<node-id>/<plugin>/<step>/<stdout|stderr>`, where
//! `<plugin>` is the step's action without colons (`awsrunShellScript`) and `<step>` is the
//! step's name in schema 2.x documents, or `<n>.<plugin>` in schema 1.2 ones (whose steps are
//! named after their plugin), e.g. `…/awsrunShellScript/0.awsrunShellScript/stdout`.

use bosun_core::document::StepPlan;
use bosun_proto::command::Stream;
use serde_json::Value;

/// A command's output bucket and key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandBucket {
    pub bucket: String,
    pub prefix: String,
}

fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

fn plain(name: &str) -> String {
    name.chars().filter(|c| *c != ':').collect()
}

impl CommandBucket {
    /// The bucket a command's request named (its stored echo), if any.
    pub fn of_request(request_json: &str) -> Option<CommandBucket> {
        let echo: Value = serde_json::from_str(request_json).ok()?;
        let bucket = echo.get("OutputS3BucketName")?.as_str()?;
        if bucket.is_empty() {
            return None;
        }
        let prefix = echo
            .get("OutputS3KeyPrefix")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Some(CommandBucket {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// A plugin's `OutputS3KeyPrefix` as `CommandPlugin` shows it:
    /// `<prefix>/<command-id>/<node-id>/<plugin>`.
    pub fn plugin_prefix(&self, command_id: &str, instance_id: &str, action: &str) -> String {
        join(&[&self.prefix, command_id, instance_id, &plain(action)])
    }

    /// The key of one stream of the step named `step` (`None` when the plan has no such step).
    pub fn key(
        &self,
        command_id: &str,
        instance_id: &str,
        steps: &[StepPlan],
        step: &str,
        stream: Stream,
    ) -> Option<String> {
        let plan = steps.iter().find(|s| s.name == step)?;
        let folder = if plan.name == plan.action {
            // Schema 1.2: steps carry their plugin's name; AWS numbers them.
            format!("0.{}", plain(&plan.action))
        } else {
            plain(&plan.name)
        };
        Some(join(&[
            &self.plugin_prefix(command_id, instance_id, &plan.action),
            &folder,
            stream.file_name(),
        ]))
    }
}

/// The action of the step named `step`, for `CommandPlugin`'s prefix.
pub fn action_of<'a>(steps: &'a [StepPlan], step: &str) -> Option<&'a str> {
    steps
        .iter()
        .find(|s| s.name == step)
        .map(|s| s.action.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str, action: &str) -> StepPlan {
        serde_json::from_value(serde_json::json!({
            "name": name, "action": action, "run_command": [], "working_directory": "",
            "timeout_seconds": 60,
        }))
        .unwrap()
    }

    #[test]
    fn keys_follow_aws_layout_for_both_schema_generations() {
        let b = CommandBucket::of_request(
            r#"{"OutputS3BucketName":"out","OutputS3KeyPrefix":"runs/"}"#,
        )
        .unwrap();
        let old = [plan("aws:runShellScript", "aws:runShellScript")];
        assert_eq!(
            b.key("c-1", "mi-1", &old, "aws:runShellScript", Stream::Stdout)
                .unwrap(),
            "runs/c-1/mi-1/awsrunShellScript/0.awsrunShellScript/stdout"
        );
        let new = [plan("build", "aws:runShellScript")];
        assert_eq!(
            b.key("c-1", "mi-1", &new, "build", Stream::Stderr).unwrap(),
            "runs/c-1/mi-1/awsrunShellScript/build/stderr"
        );
        assert_eq!(b.key("c-1", "mi-1", &new, "other", Stream::Stderr), None);
        let bare = CommandBucket::of_request(r#"{"OutputS3BucketName":"out"}"#).unwrap();
        assert_eq!(
            bare.plugin_prefix("c-1", "mi-1", "aws:runShellScript"),
            "c-1/mi-1/awsrunShellScript"
        );
        assert_eq!(
            CommandBucket::of_request(r#"{"OutputS3BucketName":""}"#),
            None
        );
        assert_eq!(CommandBucket::of_request("{}"), None);
    }
}
