//! `bosun nodes` and `bosun activation create/list/delete`: everyday fleet commands over the
//! SSM API.

use anyhow::anyhow;
use aws_sdk_ssm::types::Tag;
use aws_sdk_ssm::Client;

use crate::client::{describe_error, Connection};
use crate::table;

fn when(t: Option<&aws_sdk_ssm::primitives::DateTime>) -> String {
    t.and_then(|d| jiff::Timestamp::from_second(d.secs()).ok())
        .map(|ts| ts.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Print every managed node as a table.
pub async fn nodes(client: &Client) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let mut pages = client
        .describe_instance_information()
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        let n = item.map_err(|e| anyhow!(describe_error(&e)))?;
        rows.push(vec![
            n.instance_id().unwrap_or_default().to_string(),
            n.ping_status()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            n.name().unwrap_or_default().to_string(),
            n.computer_name().unwrap_or_default().to_string(),
            n.ip_address().unwrap_or_default().to_string(),
            format!(
                "{} {}",
                n.platform_name().unwrap_or_default(),
                n.platform_version().unwrap_or_default()
            ),
            n.agent_version().unwrap_or_default().to_string(),
            when(n.last_ping_date_time()),
        ]);
    }
    if rows.is_empty() {
        println!("No managed nodes yet. Create an activation with `bosun activation create` and register an agent.");
        return Ok(());
    }
    print!(
        "{}",
        table::render(
            &[
                "NODE",
                "PING",
                "NAME",
                "HOST",
                "IP",
                "PLATFORM",
                "AGENT",
                "LAST PING"
            ],
            &rows
        )
    );
    Ok(())
}

/// Create an activation and print how to register an agent with it.
pub async fn create_activation(
    conn: &Connection,
    limit: i32,
    expires_in_hours: Option<u32>,
    description: Option<String>,
    tags: &[(String, String)],
) -> anyhow::Result<(String, String)> {
    let (client, endpoint) = (&conn.sdk, &conn.endpoint);
    let mut req = client
        .create_activation()
        .iam_role("BosunManagedNode")
        .registration_limit(limit)
        .set_description(description);
    if let Some(h) = expires_in_hours {
        let at = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(i64::from(h));
        req = req.expiration_date(aws_sdk_ssm::primitives::DateTime::from_secs(at.as_second()));
    }
    for (k, v) in tags {
        req = req.tags(Tag::builder().key(k).value(v).build()?);
    }
    let out = req.send().await.map_err(|e| anyhow!(describe_error(&e)))?;
    let id = out.activation_id().unwrap_or_default().to_string();
    let code = out.activation_code().unwrap_or_default().to_string();
    println!("Activation id:   {id}");
    println!("Activation code: {code}   (shown once; store it safely)");
    println!("Register a node: bosun-agent register --server {endpoint} --id {id} --code {code} --state-dir /var/lib/bosun-agent");
    Ok((id, code))
}

/// `bosun activation list`: every activation with its use and expiry.
pub async fn list_activations(client: &Client) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let mut pages = client
        .describe_activations()
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        let a = item.map_err(|e| anyhow!(describe_error(&e)))?;
        rows.push(vec![
            a.activation_id().unwrap_or_default().to_string(),
            format!(
                "{}/{}",
                a.registrations_count().unwrap_or(0),
                a.registration_limit().unwrap_or(0)
            ),
            when(a.expiration_date()),
            if a.expired() { "yes" } else { "no" }.to_string(),
            a.default_instance_name().unwrap_or_default().to_string(),
            a.description().unwrap_or_default().to_string(),
        ]);
    }
    if rows.is_empty() {
        println!("No activations. Create one with `bosun activation create`.");
        return Ok(());
    }
    print!(
        "{}",
        table::render(
            &[
                "ACTIVATION",
                "USED",
                "EXPIRES",
                "EXPIRED",
                "NODE NAME",
                "DESCRIPTION"
            ],
            &rows
        )
    );
    Ok(())
}

/// `bosun activation delete ID`.
pub async fn delete_activation(client: &Client, id: &str) -> anyhow::Result<()> {
    client
        .delete_activation()
        .activation_id(id)
        .send()
        .await
        .map_err(|e| anyhow!(describe_error(&e)))?;
    println!("deleted activation {id} (nodes registered with it stay registered)");
    Ok(())
}

/// Parse `Key=Value` pairs.
pub fn parse_tag(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected Key=Value, got {s:?}"))
}
