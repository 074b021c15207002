//! `bosun-bench`: runs the benchmarks of `bench/README.md` against release binaries on loopback
//! and prints one JSON document of figures (median, min and max of several runs).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ssm::types::{Tag, Target};
use clap::Parser;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

mod associations;
mod events;
mod replicas;
mod throughput;

#[derive(Parser)]
struct Args {
    /// Folder holding the release binaries (bosun, bosun-agent, bosun-fleet-sim).
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// Smaller counts and shorter windows (minutes, not tens of minutes).
    #[arg(long)]
    quick: bool,
    /// Run only these benchmarks (comma-separated: real, salt, sim, footprint, throughput,
    /// associations, events, replicas; `replicas1` is the part of `replicas` on one replica
    /// only); the others are left out of the figures.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// The Salt peer script, run beside Bosun for these fan-out sizes.
    #[arg(long, default_value = "bench/peers/salt.sh")]
    salt_script: PathBuf,
    /// Fan-out sizes that also run Salt side by side (empty: none).
    #[arg(long, value_delimiter = ',', default_value = "10,50")]
    salt_nodes: Vec<usize>,
    /// Seconds from the start of the associations benchmark to its cron slot: time to create
    /// 10,000 associations and measure the idle server before the slot.
    #[arg(long, default_value_t = 240)]
    assoc_lead_seconds: u64,
    /// Scratch folder for data and state dirs.
    #[arg(long, default_value = "target/bench-work")]
    work: PathBuf,
}

struct Server {
    child: Child,
    url: String,
    /// `host:port` of the API.
    addr: String,
    access_key_id: String,
    secret_access_key: String,
    client: aws_sdk_ssm::Client,
}

/// The region every benchmark call is signed for.
const REGION: &str = "us-east-1";

fn rss_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn stats(samples: &mut [f64]) -> Value {
    samples.sort_by(|a, b| a.total_cmp(b));
    let n = samples.len();
    if n == 0 {
        return json!(null);
    }
    json!({ "median": samples[n / 2], "min": samples[0], "max": samples[n - 1], "runs": n })
}

async fn start_server(args: &Args, name: &str) -> anyhow::Result<Server> {
    start_server_with(args, name, &[]).await
}

/// [`start_server`] with more `bosun server` flags.
async fn start_server_with(args: &Args, name: &str, extra: &[&str]) -> anyhow::Result<Server> {
    start_server_as(args, name, extra, &ServerEnv::default()).await
}

/// How a benchmark's server runs beyond its flags.
#[derive(Default)]
struct ServerEnv<'a> {
    /// Environment variables for the server process.
    vars: Vec<(&'a str, &'a str)>,
    /// Sign with these keys instead of the server's own first-start key (a replica of a
    /// database another server created writes none).
    keys: Option<(&'a str, &'a str)>,
    /// `BOSUN_LOG` (default `warn`); the log goes to `<data dir>.log`.
    log: Option<&'a str>,
}

/// [`start_server_with`] in `env`.
async fn start_server_as(
    args: &Args,
    name: &str,
    extra: &[&str],
    env: &ServerEnv<'_>,
) -> anyhow::Result<Server> {
    let data = args.work.join(name);
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data)?;
    let log = std::fs::File::create(args.work.join(format!("{name}.log")))?;
    let child = Command::new(args.bin_dir.join("bosun"))
        .args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--heartbeat-seconds",
            "20",
        ])
        .args(extra)
        .arg("--data-dir")
        .arg(&data)
        .env("BOSUN_LOG", env.log.unwrap_or("warn"))
        .envs(env.vars.iter().copied())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("starting bosun server")?;
    let addr_file = data.join("listen-addr");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let addr = loop {
        tick.tick().await;
        if let Ok(a) = std::fs::read_to_string(&addr_file) {
            break a;
        }
        if Instant::now() > deadline {
            bail!("the server did not start");
        }
    };
    let creds = match env.keys {
        Some((akid, secret)) => {
            format!("aws_access_key_id = {akid}\naws_secret_access_key = {secret}\n")
        }
        None => std::fs::read_to_string(data.join("credentials"))?,
    };
    let get = |k: &str| {
        creds
            .lines()
            .find_map(|l| {
                l.split_once('=')
                    .filter(|(a, _)| a.trim() == k)
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let addr = addr.trim().to_string();
    let url = format!("http://{addr}");
    let (access_key_id, secret_access_key) =
        (get("aws_access_key_id"), get("aws_secret_access_key"));
    let client = sdk_client(&url, REGION, &access_key_id, &secret_access_key);
    Ok(Server {
        child,
        url,
        addr,
        access_key_id,
        secret_access_key,
        client,
    })
}

/// An SDK client for the server at `url`, signing for `region`.
fn sdk_client(url: &str, region: &str, akid: &str, secret: &str) -> aws_sdk_ssm::Client {
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(akid, secret, None, None, "bench"))
        .build();
    aws_sdk_ssm::Client::from_conf(config)
}

async fn activation(s: &Server, limit: i32, tag: &str) -> anyhow::Result<(String, String)> {
    let out = s
        .client
        .create_activation()
        .iam_role("bench")
        .description(format!("bench {tag}"))
        .registration_limit(limit)
        .tags(Tag::builder().key("bench").value(tag).build()?)
        .send()
        .await?;
    Ok((
        out.activation_id.unwrap_or_default(),
        out.activation_code.unwrap_or_default(),
    ))
}

/// Send `echo hi` to every node tagged `bench=<tag>` and time until the command is terminal.
async fn fan_out(s: &Server, tag: &str, expect: usize, run: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    let out = s
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .targets(Target::builder().key("tag:bench").values(tag).build())
        .parameters("commands", vec![format!("echo hi # {run}")])
        .max_concurrency("100%")
        .send()
        .await?;
    let id = out.command.and_then(|c| c.command_id).unwrap_or_default();
    let c = until_terminal(s, &id, Duration::from_millis(5), "fan-out").await?;
    if c.completed_count() as usize != expect || c.status().map(|s| s.as_str()) != Some("Success") {
        bail!(
            "fan-out ended {:?} with {}/{} done",
            c.status(),
            c.completed_count(),
            expect
        );
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Poll a command every `tick` until it is no longer Pending or InProgress (at most 300 s).
async fn until_terminal(
    s: &Server,
    command_id: &str,
    tick: Duration,
    what: &str,
) -> anyhow::Result<aws_sdk_ssm::types::Command> {
    let started = Instant::now();
    let mut tick = tokio::time::interval(tick);
    loop {
        tick.tick().await;
        let out = s
            .client
            .list_commands()
            .command_id(command_id)
            .send()
            .await?;
        if let Some(c) = out.commands().first() {
            if !matches!(
                c.status().map(|s| s.as_str()),
                Some("Pending" | "InProgress")
            ) {
                return Ok(c.clone());
            }
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("{what} did not finish in 300 s");
        }
    }
}

async fn wait_online(s: &Server, n: usize) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        tick.tick().await;
        let mut online = 0;
        let mut pages = s
            .client
            .describe_instance_information()
            .max_results(50)
            .into_paginator()
            .items()
            .send();
        while let Some(n) = pages.next().await {
            if n?.ping_status().map(|p| p.as_str()) == Some("Online") {
                online += 1;
            }
        }
        if online >= n {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("only {online}/{n} nodes came online");
        }
    }
}

/// A Salt master and N minions run by `bench/peers/salt.sh N --serve`.
struct Salt {
    child: Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    ready: Value,
}

impl Salt {
    /// Start the peer; it installs Salt on first use and answers once every minion pings.
    fn spawn(args: &Args, n: usize) -> anyhow::Result<Self> {
        let mut child = Command::new(&args.salt_script)
            .args([n.to_string().as_str(), "--serve"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", args.salt_script.display()))?;
        let lines = BufReader::new(child.stdout.take().context("salt stdout")?).lines();
        Ok(Self {
            child,
            lines,
            ready: Value::Null,
        })
    }

    async fn line(&mut self) -> anyhow::Result<Value> {
        let line = tokio::time::timeout(Duration::from_secs(900), self.lines.next_line())
            .await
            .context("salt.sh said nothing for 900 s")??
            .context("salt.sh ended")?;
        let v: Value = serde_json::from_str(&line)?;
        if let Some(e) = v.get("error") {
            bail!("salt.sh: {}", e.as_str().unwrap_or_default());
        }
        Ok(v)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        self.ready = self.line().await?;
        Ok(())
    }

    /// One `salt '*' cmd.run 'echo hi'`: its wall time, if every minion answered.
    async fn run(&mut self, n: usize) -> anyhow::Result<f64> {
        use tokio::io::AsyncWriteExt;
        let stdin = self.child.stdin.as_mut().context("salt stdin")?;
        stdin.write_all(b"run\n").await?;
        stdin.flush().await?;
        let v = self.line().await?;
        if v["answered"].as_u64() != Some(n as u64) {
            bail!(
                "salt cmd.run: only {} of {n} minions answered",
                v["answered"]
            );
        }
        v["seconds"].as_f64().context("salt.sh gave no seconds")
    }

    /// Close its stdin: the script stops exactly the processes it started.
    async fn stop(mut self) {
        drop(self.child.stdin.take());
        let _ = tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await;
    }
}

/// Median, min and max of the pairwise ratios `a[i] / b[i]`.
fn ratios(a: &[f64], b: &[f64]) -> Value {
    let mut r: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
    stats(&mut r)
}

/// Fan-out to N real agent processes; with `salt`, a Salt run after each Bosun pair of runs.
async fn real_agents(args: &Args, n: usize, runs: usize, salt: bool) -> anyhow::Result<Value> {
    let (mut peer, mut salt_error) = (None, None);
    if salt {
        match Salt::spawn(args, n) {
            Ok(p) => peer = Some(p),
            Err(e) => salt_error = Some(format!("{e:#}")),
        }
    }
    let s = start_server(args, &format!("real-{n}")).await?;
    let (id, code) = activation(&s, n as i32, "real").await?;
    let mut agents = Vec::new();
    for i in 0..n {
        let state = args.work.join(format!("real-{n}/agent-{i}"));
        let ok = Command::new(args.bin_dir.join("bosun-agent"))
            .args(["register", "--server", &s.url, "--id", &id, "--code", &code])
            .arg("--state-dir")
            .arg(&state)
            .stdout(Stdio::null())
            .status()
            .await?;
        if !ok.success() {
            bail!("agent registration failed");
        }
        agents.push(
            Command::new(args.bin_dir.join("bosun-agent"))
                .arg("run")
                .arg("--state-dir")
                .arg(&state)
                .env("BOSUN_AGENT_LOG", "warn")
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()?,
        );
    }
    wait_online(&s, n).await?;
    if let Some(p) = peer.as_mut() {
        if let Err(e) = p.wait_ready().await {
            salt_error = Some(format!("{e:#}"));
        }
    }
    if salt_error.is_some() {
        if let Some(p) = peer.take() {
            p.stop().await;
        }
    }
    let (mut api, mut cli, mut salt_secs) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        api.push(fan_out(&s, "real", n, run).await?);
        cli.push(bosun_run(args, &s, n, run).await?);
        if let Some(p) = peer.as_mut() {
            match p.run(n).await {
                Ok(t) => salt_secs.push(t),
                Err(e) => {
                    salt_error = Some(format!("{e:#}"));
                    break;
                }
            }
        }
    }
    drop(agents);
    drop(s);
    let mut out = json!({ "nodes": n, "api_seconds": stats(&mut api.clone()), "bosun_run_seconds": stats(&mut cli.clone()) });
    if let Some(p) = peer {
        let ready = p.ready.clone();
        p.stop().await;
        // Only complete pairs count (a Salt failure mid-way leaves fewer Salt runs).
        let k = salt_secs.len();
        out["salt"] = json!({
            "version": ready["salt_version"],
            "minion_rss_kb": ready["minion_rss_kb"],
            "ready_seconds": ready["ready_seconds"],
            "seconds": stats(&mut salt_secs.clone()),
            "ratio_api_to_salt": ratios(&api[..k], &salt_secs),
            "ratio_bosun_run_to_salt": ratios(&cli[..k], &salt_secs),
        });
    }
    if let Some(e) = salt_error {
        eprintln!("SALT NOT MEASURED for {n} nodes: {e}");
        out["salt"] = json!({ "error": e });
    }
    Ok(out)
}

/// `bosun run` to every agent: wall time of the whole CLI process.
async fn bosun_run(args: &Args, s: &Server, n: usize, run: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    let status = Command::new(args.bin_dir.join("bosun"))
        .args([
            "run",
            "--endpoint-url",
            &s.url,
            "--targets",
            "Key=tag:bench,Values=real",
            "--max-concurrency",
            "100%",
        ])
        .arg("--data-dir")
        .arg(args.work.join(format!("real-{n}")))
        .args(["--", &format!("echo hi # cli {run}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await?;
    if !status.success() {
        bail!("bosun run to {n} agents failed");
    }
    Ok(started.elapsed().as_secs_f64())
}

/// N simulated nodes in one process: connect time, fan-out, server RSS and CPU.
async fn simulated(args: &Args, n: usize, runs: usize) -> anyhow::Result<Value> {
    let s = start_server(args, &format!("sim-{n}")).await?;
    let pid = s.child.id().unwrap_or(0);
    let rss_before = rss_kb(pid, "VmRSS:");
    // An activation registers at most 1,000 nodes (AWS's limit): one per thousand.
    let mut sim = Command::new(args.bin_dir.join("bosun-fleet-sim"));
    sim.args(["--server", &s.url, "--count", &n.to_string()]);
    for first in (0..n).step_by(1000) {
        let (id, code) = activation(&s, (n - first).min(1000) as i32, "sim").await?;
        sim.args(["--activation-id", &id, "--activation-code", &code]);
    }
    let mut sim = sim
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(sim.stdout.take().context("sim stdout")?).lines();
    let first = tokio::time::timeout(Duration::from_secs(600), lines.next_line())
        .await??
        .context("sim ended")?;
    let connect: Value = serde_json::from_str(&first)?;
    let rss_connected = rss_kb(pid, "VmRSS:");
    let cpu0 = cpu_seconds(pid);
    let idle_window = Duration::from_secs(if args.quick { 5 } else { 30 });
    tokio::time::sleep(idle_window).await;
    let idle_cpu = (cpu_seconds(pid) - cpu0) / idle_window.as_secs_f64();
    let mut fan = Vec::new();
    let cpu1 = cpu_seconds(pid);
    let busy_started = Instant::now();
    for run in 0..runs {
        fan.push(fan_out(&s, "sim", n, run).await?);
    }
    let busy_cpu = (cpu_seconds(pid) - cpu1) / busy_started.elapsed().as_secs_f64();
    let _ = sim.kill().await;
    Ok(json!({
        "nodes": n,
        "connect": connect,
        "fan_out_seconds": stats(&mut fan),
        "server_rss_kb_per_node": (rss_connected.saturating_sub(rss_before)) as f64 / n as f64,
        "server_rss_kb": rss_connected,
        "server_cpu_idle_cores": idle_cpu,
        "server_cpu_fan_out_cores": busy_cpu,
    }))
}

/// The agent's binary size and memory, idle and while streaming 50 MB of output.
async fn footprint(args: &Args) -> anyhow::Result<Value> {
    let s = start_server(args, "footprint").await?;
    let (id, code) = activation(&s, 1, "foot").await?;
    let state = args.work.join("footprint/agent");
    Command::new(args.bin_dir.join("bosun-agent"))
        .args(["register", "--server", &s.url, "--id", &id, "--code", &code])
        .arg("--state-dir")
        .arg(&state)
        .stdout(Stdio::null())
        .status()
        .await?;
    let mut agent = Command::new(args.bin_dir.join("bosun-agent"))
        .arg("run")
        .arg("--state-dir")
        .arg(&state)
        .env("BOSUN_AGENT_LOG", "warn")
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = agent.id().unwrap_or(0);
    wait_online(&s, 1).await?;
    let idle = Duration::from_secs(if args.quick { 10 } else { 60 });
    let cpu0 = cpu_seconds(pid);
    tokio::time::sleep(idle).await;
    let idle_cpu = cpu_seconds(pid) - cpu0;
    let idle_rss = rss_kb(pid, "VmRSS:");
    let started = Instant::now();
    let out = s
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .targets(Target::builder().key("tag:bench").values("foot").build())
        .parameters(
            "commands",
            vec!["head -c 50000000 /dev/zero | tr '\\0' a".into()],
        )
        .send()
        .await?;
    let cmd = out.command.and_then(|c| c.command_id).unwrap_or_default();
    until_terminal(&s, &cmd, Duration::from_millis(50), "the 50 MB command").await?;
    let peak = rss_kb(pid, "VmHWM:");
    let _ = agent.kill().await;
    let size = std::fs::metadata(args.bin_dir.join("bosun-agent"))?.len();
    Ok(json!({
        "binary_bytes": size,
        "idle_rss_kb": idle_rss,
        "idle_seconds": idle.as_secs(),
        "idle_cpu_seconds": idle_cpu,
        "peak_rss_kb_streaming_50mb": peak,
        "streaming_50mb_seconds": started.elapsed().as_secs_f64(),
    }))
}

/// A benchmark's figures, or `base` with its error (said on stderr too): one failing
/// benchmark does not cost the others' figures.
fn recorded(mut base: Value, result: anyhow::Result<Value>) -> Value {
    match result {
        Ok(v) => v,
        Err(e) => {
            eprintln!("BENCHMARK FAILED: {e:#}");
            base["error"] = json!(format!("{e:#}"));
            base
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.work)?;
    let runs = if args.quick { 3 } else { 5 };
    let real_counts: &[usize] = if args.quick {
        &[1, 10, 50]
    } else {
        &[1, 10, 50, 200]
    };
    let sim_counts: &[usize] = if args.quick { &[1000] } else { &[1000, 10000] };
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    let mut real = Vec::new();
    for n in real_counts.iter().filter(|_| wanted("real")) {
        eprintln!("fan-out to {n} real agents…");
        let salt = args.salt_nodes.contains(n) && wanted("salt");
        real.push(recorded(
            json!({ "nodes": n }),
            real_agents(&args, *n, runs, salt).await,
        ));
    }
    let mut sim = Vec::new();
    for n in sim_counts.iter().filter(|_| wanted("sim")) {
        eprintln!("{n} simulated nodes…");
        sim.push(recorded(
            json!({ "nodes": n }),
            simulated(&args, *n, runs).await,
        ));
    }
    let mut foot = Value::Null;
    if wanted("footprint") {
        eprintln!("agent footprint…");
        foot = recorded(json!({}), footprint(&args).await);
    }
    let mut api = Value::Null;
    if wanted("throughput") {
        eprintln!("API throughput…");
        api = recorded(json!({}), throughput::run(&args, 16, runs).await);
    }
    let mut assoc = Value::Null;
    if wanted("associations") {
        eprintln!("10,000 associations on one cron slot…");
        assoc = recorded(json!({}), associations::run(&args).await);
    }
    let mut events = Value::Null;
    if wanted("events") {
        eprintln!("event patterns against 1,000 rules…");
        let window = Duration::from_secs(if args.quick { 3 } else { 10 });
        let patterns = tokio::task::spawn_blocking(move || events::pattern_rate(window)).await?;
        let mut bursts = Vec::new();
        for group in [None, Some(5)] {
            eprintln!("a burst of 1,000 failed invocations to mail (grouping: {group:?})…");
            bursts.push(recorded(
                json!({ "nodes": 1000, "group_window_seconds": group }),
                events::burst(&args, 1000, group).await,
            ));
        }
        events = json!({ "patterns": patterns, "bursts": bursts });
    }
    let mut scale_out = Value::Null;
    if wanted("replicas") {
        eprintln!("PostgreSQL + S3, one and three replicas…");
        scale_out = recorded(json!({}), replicas::run(&args, runs, false).await);
    } else if wanted("replicas1") {
        eprintln!("PostgreSQL + S3, one replica…");
        scale_out = recorded(json!({}), replicas::run(&args, runs, true).await);
    }
    let machine = json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
    });
    let out = json!({
        "date": jiff::Timestamp::now().to_string(),
        "quick": args.quick,
        "machine": machine,
        "fan_out_real_agents": real,
        "fleet_simulator": sim,
        "agent_footprint": foot,
        "api_throughput": api,
        "associations": assoc,
        "events": events,
        "replicas": scale_out,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_taken_pair_by_pair_then_summarised() {
        // Pairwise: 1/10, 4/8, 3/6 -> 0.1, 0.5, 0.5 (not median(a) / median(b) = 3/8).
        let r = ratios(&[1.0, 4.0, 3.0], &[10.0, 8.0, 6.0]);
        assert_eq!(r["median"], json!(0.5));
        assert_eq!(r["min"], json!(0.1));
        assert_eq!(r["max"], json!(0.5));
        assert_eq!(r["runs"], json!(3));
    }

    #[test]
    fn stats_of_nothing_is_null() {
        assert_eq!(stats(&mut []), Value::Null);
    }
}
