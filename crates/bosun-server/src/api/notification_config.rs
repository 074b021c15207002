//! The checks of a command's `NotificationConfig` shared by `SendCommand` and maintenance
//! window `RUN_COMMAND` tasks: its topic and who may publish to it.

use bosun_core::command::notification::CommandNotification;

use super::Ctx;
use crate::api::error::ApiError;

/// A notification's topic is an SNS topic of this server's account that exists, and the
/// caller may publish to it. AWS publishes with the `ServiceRoleArn` it assumes; Bosun has no
/// IAM roles, so it authorizes the caller itself for `sns:Publish` on the topic (explicit deny
/// wins) when the command is sent, and keeps the role only to return it.
pub(crate) fn check_notification(ctx: &Ctx, config: &CommandNotification) -> Result<(), ApiError> {
    let arn = &config.notification_arn;
    let invalid = |why: &str| {
        ApiError::new(
            "InvalidNotificationConfig",
            format!("NotificationConfig.NotificationArn {arn}: {why}"),
        )
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", "aws", "sns", region, account, topic] = parts[..] else {
        return Err(invalid(
            "not the ARN of an Amazon SNS topic (arn:aws:sns:<region>:<account>:<topic>).",
        ));
    };
    if account != ctx.state.config.account_id || topic.is_empty() {
        return Err(invalid("not a topic of this server's account."));
    }
    ctx.authorize_arns("sns:Publish", [arn.as_str()])?;
    if ctx.state.store.get_topic(region, topic)?.is_none() {
        return Err(invalid(
            "no such topic exists; create it with sns create-topic first.",
        ));
    }
    Ok(())
}
