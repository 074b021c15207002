//! `bosun param put --data-type aws:ec2:image`: waiting for the server's asynchronous
//! validation of the value, which AWS (and Bosun) report only as an event, never in the answer.

use anyhow::anyhow;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::Client;
use bosun_core::parameters::image_data_type::check_image_id;

use crate::client::describe_error;

/// Wait until the parameter holds `value` at `accepted` or a later version (the put was
/// validated and applied), polling until `wait` ends. AWS reports a failed validation only as
/// an event, not through the API: past the deadline the put counts as failed.
pub async fn wait_for_validation(
    client: &Client,
    name: &str,
    value: &str,
    accepted: i64,
    wait: std::time::Duration,
) -> anyhow::Result<i64> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let mut pages = client
            .get_parameter_history()
            .name(name)
            .into_paginator()
            .send();
        let mut found = None;
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => {
                    found = page
                        .parameters()
                        .iter()
                        .filter(|p| p.version() >= accepted && p.value() == Some(value))
                        .map(|p| p.version())
                        .max()
                        .or(found);
                }
                Err(e)
                    if e.as_service_error().and_then(|s| s.code()) == Some("ParameterNotFound") =>
                {
                    break
                }
                Err(e) => return Err(anyhow!(describe_error(&e))),
            }
        }
        if let Some(version) = found {
            return Ok(version);
        }
        if tokio::time::Instant::now() >= deadline {
            let reason = check_image_id(value)
                .err()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            return Err(anyhow!(
                "{name}: the server accepted {value} but did not apply it within {}s: its aws:ec2:image validation failed{reason}, so the parameter was not created or updated (the server logs the reason and emits a Parameter Store Change event with an exception)",
                wait.as_secs()
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
