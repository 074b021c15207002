//! 10,000 State Manager associations whose cron slot is the same minute, against 1,000
//! simulated nodes: the server's CPU and RSS while idle with all of them scheduled, then the
//! time from the slot until every execution's command exists and until every invocation is
//! terminal.
//!
//! AWS allows 2,000 associations per region, so the server serves five regions, each with 200
//! simulated nodes (`bosun-fleet-sim --region`) and 2,000 associations; association `i` of a
//! region targets its node `i mod 200` by id (10 per node), with `ApplyOnlyAtCronInterval` so
//! nothing runs at creation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use aws_sdk_ssm::types::{CommandStatus, Target};
use aws_sdk_ssm::Client;
use jiff::{Timestamp, ToSpan};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{cpu_seconds, rss_kb, sdk_client, start_server_with, Args, Server};

const REGIONS: [&str; 5] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-northeast-1",
];
/// AWS's limit of associations per region.
const PER_REGION: usize = 2000;
const NODES_PER_REGION: usize = 200;
/// `CreateAssociation` calls in flight at once.
const PARALLEL: usize = 16;

fn client(s: &Server, region: &str) -> Client {
    sdk_client(&s.url, region, &s.access_key_id, &s.secret_access_key)
}

/// Start a fleet simulator of `n` nodes in `region`; returns it once every node is connected.
async fn fleet(args: &Args, s: &Server, region: &str, n: usize) -> anyhow::Result<Child> {
    let out = client(s, region)
        .create_activation()
        .iam_role("bench")
        .registration_limit(n as i32)
        .send()
        .await?;
    let mut sim = Command::new(args.bin_dir.join("bosun-fleet-sim"))
        .args(["--server", &s.url, "--region", region, "--count"])
        .arg(n.to_string())
        .args(["--activation-id", out.activation_id().unwrap_or_default()])
        .args([
            "--activation-code",
            out.activation_code().unwrap_or_default(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(sim.stdout.take().context("sim stdout")?).lines();
    tokio::time::timeout(Duration::from_secs(600), lines.next_line())
        .await??
        .context("the fleet simulator ended before connecting")?;
    // Keep reading so the simulator never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(sim)
}

async fn node_ids(c: &Client) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut pages = c
        .describe_instance_information()
        .max_results(50)
        .into_paginator()
        .items()
        .send();
    while let Some(n) = pages.next().await {
        ids.push(n?.instance_id().unwrap_or_default().to_string());
    }
    ids.sort();
    Ok(ids)
}

/// Create `PER_REGION` associations in a region, each on one node, all on `cron`.
async fn create_region(c: Client, nodes: Vec<String>, cron: String) -> anyhow::Result<()> {
    let gate = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut tasks = Vec::with_capacity(PER_REGION);
    for i in 0..PER_REGION {
        let (c, gate, cron) = (c.clone(), gate.clone(), cron.clone());
        let node = nodes[i % nodes.len()].clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            c.create_association()
                .name("AWS-RunShellScript")
                .association_name(format!("bench-{i}"))
                .targets(Target::builder().key("InstanceIds").values(node).build())
                .parameters("commands", vec![format!("echo {i}")])
                .schedule_expression(cron)
                .apply_only_at_cron_interval(true)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("CreateAssociation: {e:?}"))?;
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// (commands that exist, commands that are terminal) in one region.
async fn command_counts(c: &Client) -> anyhow::Result<(usize, usize)> {
    let (mut created, mut terminal) = (0, 0);
    let mut pages = c
        .list_commands()
        .max_results(50)
        .into_paginator()
        .items()
        .send();
    while let Some(cmd) = pages.next().await {
        created += 1;
        if !matches!(
            cmd?.status(),
            Some(CommandStatus::Pending | CommandStatus::InProgress) | None
        ) {
            terminal += 1;
        }
    }
    Ok((created, terminal))
}

/// The first whole minute at least `lead` from now, and its cron expression (UTC).
fn slot_after(lead: Duration) -> anyhow::Result<(Timestamp, String)> {
    let at = Timestamp::now() + jiff::SignedDuration::try_from(lead)?;
    let zoned = at.to_zoned(jiff::tz::TimeZone::UTC);
    let minute = zoned
        .with()
        .second(0)
        .subsec_nanosecond(0)
        .build()?
        .checked_add(1.minute())?;
    let cron = format!("cron({} {} ? * * *)", minute.minute(), minute.hour());
    Ok((minute.timestamp(), cron))
}

fn seconds_until(t: Timestamp) -> f64 {
    (t.as_millisecond() - Timestamp::now().as_millisecond()) as f64 / 1000.0
}

pub async fn run(args: &Args) -> anyhow::Result<Value> {
    let regions = REGIONS.join(",");
    let s = start_server_with(args, "associations", &["--regions", &regions]).await?;
    let pid = s.child.id().unwrap_or(0);
    let mut sims = Vec::new();
    let mut nodes = Vec::new();
    for region in REGIONS {
        sims.push(fleet(args, &s, region, NODES_PER_REGION).await?);
        let ids = node_ids(&client(&s, region)).await?;
        if ids.len() != NODES_PER_REGION {
            bail!(
                "{region}: {} nodes registered, not {NODES_PER_REGION}",
                ids.len()
            );
        }
        nodes.push(ids);
    }
    let (slot, cron) = slot_after(Duration::from_secs(args.assoc_lead_seconds))?;
    let create_started = Instant::now();
    let mut creations = Vec::new();
    for (region, ids) in REGIONS.iter().zip(nodes) {
        creations.push(tokio::spawn(create_region(
            client(&s, region),
            ids,
            cron.clone(),
        )));
    }
    for c in creations {
        c.await??;
    }
    let create_seconds = create_started.elapsed().as_secs_f64();
    // Idle with 10,000 scheduled associations: a window that ends 5 s before the slot.
    let idle_window = if args.quick { 10.0 } else { 30.0 };
    let before_slot = seconds_until(slot);
    if before_slot < idle_window + 10.0 {
        bail!(
            "creating 10,000 associations took {create_seconds:.0} s, leaving {before_slot:.0} s \
             before the slot: raise --assoc-lead-seconds"
        );
    }
    tokio::time::sleep(Duration::from_secs_f64(before_slot - idle_window - 5.0)).await;
    let cpu0 = cpu_seconds(pid);
    let idle_started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(idle_window)).await;
    let idle_cpu = (cpu_seconds(pid) - cpu0) / idle_started.elapsed().as_secs_f64();
    let idle_rss = rss_kb(pid, "VmRSS:");
    let clients: Vec<Client> = REGIONS.iter().map(|r| client(&s, r)).collect();
    let mut all_created = None;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let total = PER_REGION * REGIONS.len();
    let cpu_slot = cpu_seconds(pid);
    let all_terminal = loop {
        tick.tick().await;
        let (mut created, mut terminal) = (0, 0);
        for c in &clients {
            let (a, b) = command_counts(c).await?;
            created += a;
            terminal += b;
        }
        let since_slot = -seconds_until(slot);
        if created >= total && all_created.is_none() {
            all_created = Some(since_slot);
        }
        if terminal >= total {
            break since_slot;
        }
        if since_slot > 600.0 {
            bail!("600 s after the slot: {created} commands, {terminal} terminal, of {total}");
        }
    };
    let slot_cpu = cpu_seconds(pid) - cpu_slot;
    for mut sim in sims {
        let _ = sim.kill().await;
    }
    Ok(json!({
        "associations": total,
        "nodes": NODES_PER_REGION * REGIONS.len(),
        "regions": REGIONS.len(),
        "create_seconds": create_seconds,
        "idle_window_seconds": idle_window,
        "server_cpu_idle_cores": idle_cpu,
        "server_rss_idle_kb": idle_rss,
        "slot_to_all_commands_created_seconds": all_created,
        "slot_to_all_invocations_terminal_seconds": all_terminal,
        "server_cpu_seconds_slot_to_terminal": slot_cpu,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_slot_is_a_whole_minute_and_its_cron_names_it() {
        let (slot, cron) = super::slot_after(std::time::Duration::from_secs(120)).unwrap();
        assert_eq!(slot.as_second() % 60, 0);
        let utc = slot.to_zoned(jiff::tz::TimeZone::UTC);
        assert_eq!(
            cron,
            format!("cron({} {} ? * * *)", utc.minute(), utc.hour())
        );
        assert!(slot > jiff::Timestamp::now() + jiff::SignedDuration::from_secs(120));
    }
}
