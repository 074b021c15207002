//! Scale-out benchmarks (issue 13): the fleet simulator's fan-out on one replica with
//! PostgreSQL and S3 (to compare with SQLite's figures), on three replicas with the simulated
//! nodes spread over them (1,000 to 30,000 nodes), and failover: `kill -9` of the replica that
//! owns a running command on real agents that know every replica.
//!
//! PostgreSQL is a throwaway cluster (`initdb` + `pg_ctl`, `bosun_store_pg::testing::PgCluster`,
//! as the tests use), S3 a local `moto_server` (`pip install 'moto[server]'`). Without either
//! the benchmark fails saying so; the other benchmarks' figures are still taken.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use aws_sdk_ssm::types::Target;
use bosun_store_pg::testing::PgCluster;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::{
    activation, cpu_seconds, fan_out, rss_kb, start_server_as, stats, until_terminal, Args, Server,
    ServerEnv,
};

/// moto's fixed test credentials, for the servers' S3 client only.
const S3_VARS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "bench"),
    ("AWS_SECRET_ACCESS_KEY", "bench"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
];
/// The replicas log when they take a command over (to find the owner to kill).
const OWNERSHIP_LOG: &str = "warn,bosun_server::orchestrator=info";

/// A throwaway PostgreSQL and S3 for one benchmark.
pub struct Backends {
    pg: Option<Arc<PgCluster>>,
    moto: Child,
    s3_port: u16,
}

impl Backends {
    pub async fn start() -> anyhow::Result<Backends> {
        let pg = tokio::task::spawn_blocking(PgCluster::start)
            .await?
            .context("PostgreSQL's server binaries (initdb, pg_ctl) were not found")?;
        let s3_port = free_port()?;
        let moto = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &s3_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting moto_server (pip install 'moto[server]')")?;
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        let create = format!(
            "import boto3; boto3.client('s3', endpoint_url='http://127.0.0.1:{s3_port}').create_bucket(Bucket='bench')"
        );
        loop {
            tick.tick().await;
            let made = Command::new("python3")
                .args(["-c", &create])
                .envs(S3_VARS)
                .stderr(Stdio::null())
                .status()
                .await?;
            if made.success() {
                break;
            }
            if Instant::now() > deadline {
                bail!("moto_server did not answer within 60 s");
            }
        }
        Ok(Backends {
            pg: Some(Arc::new(pg)),
            moto,
            s3_port,
        })
    }

    /// A fresh database's URL.
    async fn database(&self) -> anyhow::Result<String> {
        let pg = self.pg.clone().context("PostgreSQL is gone")?;
        // Its admin connection blocks: off the async threads.
        Ok(tokio::task::spawn_blocking(move || pg.fresh_empty_database()).await?)
    }

    fn blobs(&self, prefix: &str) -> String {
        format!(
            "s3://bench/{prefix}?endpoint=http://127.0.0.1:{}&region=us-east-1",
            self.s3_port
        )
    }

    /// `count` replicas of a fresh database; the first creates the admin key the others'
    /// clients sign with, and its keyring is everyone's.
    async fn replicas(
        &self,
        args: &Args,
        name: &str,
        count: usize,
        log: Option<&str>,
    ) -> anyhow::Result<Vec<Server>> {
        let database = self.database().await?;
        let blobs = self.blobs(name);
        let base = ["--database", database.as_str(), "--blobs", blobs.as_str()];
        let env = ServerEnv {
            vars: S3_VARS.to_vec(),
            keys: None,
            log,
        };
        let first = start_server_as(args, &format!("{name}-1"), &base, &env).await?;
        let keyring = args.work.join(format!("{name}-1/kms/keyring.json"));
        let keyring = keyring.to_str().context("a UTF-8 work dir")?.to_string();
        let mut extra = base.to_vec();
        extra.extend(["--kms-key-file", keyring.as_str()]);
        let (akid, secret) = (first.access_key_id.clone(), first.secret_access_key.clone());
        let mut all = vec![first];
        for k in 2..=count {
            let env = ServerEnv {
                vars: S3_VARS.to_vec(),
                keys: Some((&akid, &secret)),
                log,
            };
            all.push(start_server_as(args, &format!("{name}-{k}"), &extra, &env).await?);
        }
        Ok(all)
    }
}

impl Drop for Backends {
    fn drop(&mut self) {
        let _ = self.moto.start_kill();
        // PgCluster stops its server and deletes its files when dropped.
        self.pg.take();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `n` simulated nodes tagged `bench=<tag>`, spread evenly over `replicas` (one simulator
/// process each), activations made through the first. Returns once all are connected.
async fn spread_sims(
    args: &Args,
    replicas: &[Server],
    n: usize,
    tag: &str,
) -> anyhow::Result<(Vec<Child>, f64)> {
    let started = Instant::now();
    let mut sims = Vec::new();
    let mut waiting = Vec::new();
    for (k, r) in replicas.iter().enumerate() {
        let share = n / replicas.len() + usize::from(k < n % replicas.len());
        if share == 0 {
            continue;
        }
        let mut sim = Command::new(args.bin_dir.join("bosun-fleet-sim"));
        sim.args(["--server", &r.url, "--count", &share.to_string()]);
        for first in (0..share).step_by(1000) {
            let (id, code) =
                activation(&replicas[0], (share - first).min(1000) as i32, tag).await?;
            sim.args(["--activation-id", &id, "--activation-code", &code]);
        }
        let mut child = sim
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        waiting.push(BufReader::new(child.stdout.take().context("sim stdout")?).lines());
        sims.push(child);
    }
    for mut lines in waiting {
        tokio::time::timeout(Duration::from_secs(900), lines.next_line())
            .await
            .context("the simulators did not connect within 900 s")??
            .context("a simulator ended")?;
    }
    Ok((sims, started.elapsed().as_secs_f64()))
}

/// Fan-out to `n` simulated nodes on `count` replicas of PostgreSQL + S3, through the first.
pub async fn fan_out_on(
    args: &Args,
    b: &Backends,
    count: usize,
    n: usize,
    runs: usize,
) -> anyhow::Result<Value> {
    let name = format!("pg{count}-{n}");
    let replicas = b.replicas(args, &name, count, None).await?;
    let pids: Vec<u32> = replicas.iter().filter_map(|r| r.child.id()).collect();
    let rss_before: u64 = pids.iter().map(|p| rss_kb(*p, "VmRSS:")).sum();
    let (mut sims, connect) = spread_sims(args, &replicas, n, "sim").await?;
    let rss: Vec<u64> = pids.iter().map(|p| rss_kb(*p, "VmRSS:")).collect();
    let cpu0: f64 = pids.iter().map(|p| cpu_seconds(*p)).sum();
    let started = Instant::now();
    let mut fan = Vec::new();
    for run in 0..runs {
        fan.push(fan_out(&replicas[0], "sim", n, run).await?);
    }
    let cpu: f64 = pids.iter().map(|p| cpu_seconds(*p)).sum::<f64>() - cpu0;
    for sim in &mut sims {
        let _ = sim.kill().await;
    }
    let total: u64 = rss.iter().sum();
    Ok(json!({
        "replicas": count,
        "nodes": n,
        "connect_seconds": connect,
        "fan_out_seconds": stats(&mut fan),
        "servers_rss_kb": rss,
        "server_rss_kb_per_node": total.saturating_sub(rss_before) as f64 / n as f64,
        "servers_cpu_fan_out_cores": cpu / started.elapsed().as_secs_f64(),
    }))
}

/// Real agents on three replicas; a command that sleeps is sent through the first, its owner
/// is killed with SIGKILL once the agents run it, and the clock runs until the command is
/// done through a survivor and every node is Online again.
pub async fn failover(args: &Args, b: &Backends, agents: usize) -> anyhow::Result<Value> {
    let mut replicas = b.replicas(args, "failover", 3, Some(OWNERSHIP_LOG)).await?;
    let urls: Vec<String> = replicas.iter().map(|r| r.url.clone()).collect();
    let (id, code) = activation(&replicas[0], agents as i32, "failover").await?;
    let mut children = Vec::new();
    for i in 0..agents {
        let servers: Vec<&str> = (0..3).map(|k| urls[(i + k) % 3].as_str()).collect();
        let state = args.work.join(format!("failover-agent-{i}"));
        let _ = std::fs::remove_dir_all(&state);
        let ok = Command::new(args.bin_dir.join("bosun-agent"))
            .args(["register", "--server", &servers.join(",")])
            .args(["--id", &id, "--code", &code])
            .arg("--state-dir")
            .arg(&state)
            .stdout(Stdio::null())
            .status()
            .await?;
        if !ok.success() {
            bail!("agent {i} could not register");
        }
        children.push(
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
    online(&replicas[1], agents).await?;
    let out = replicas[0]
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .targets(
            Target::builder()
                .key("tag:bench")
                .values("failover")
                .build(),
        )
        .parameters("commands", vec!["sleep 3; echo survived".to_string()])
        .max_concurrency("100%")
        .send()
        .await?;
    let command = out.command.and_then(|c| c.command_id).unwrap_or_default();
    let owner = owner_of(args, &command).await?;
    // Once every node runs it, kill the owner.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = replicas[(owner + 1) % 3]
            .client
            .list_command_invocations()
            .command_id(&command)
            .send()
            .await?;
        let running = list
            .command_invocations()
            .iter()
            .filter(|i| i.status().map(|s| s.as_str()) == Some("InProgress"))
            .count();
        if running == agents {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {running} of {agents} agents started the command");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let killed = Instant::now();
    replicas[owner].child.kill().await?;
    let survivor = replicas.remove((owner + 1) % 3);
    let c = until_terminal(&survivor, &command, Duration::from_millis(100), "failover").await?;
    let command_done = killed.elapsed().as_secs_f64();
    if c.status().map(|s| s.as_str()) != Some("Success") || c.completed_count() as usize != agents {
        bail!(
            "after failover the command ended {:?} with {}/{agents} done",
            c.status(),
            c.completed_count()
        );
    }
    online(&survivor, agents).await?;
    let all_online = killed.elapsed().as_secs_f64();
    for mut a in children {
        let _ = a.kill().await;
    }
    Ok(json!({
        "replicas": 3,
        "agents": agents,
        "killed": format!("the command's owner (replica {})", owner + 1),
        "command_done_seconds": command_done,
        "all_online_seconds": all_online,
        "target_seconds": 20,
    }))
}

/// The replica (0-based) whose log says it took ownership of `command`.
async fn owner_of(args: &Args, command: &str) -> anyhow::Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        for k in 0..3 {
            let log = std::fs::read_to_string(args.work.join(format!("failover-{}.log", k + 1)))
                .unwrap_or_default();
            if log
                .lines()
                .any(|l| l.contains("took ownership") && l.contains(command))
            {
                return Ok(k);
            }
        }
        if Instant::now() > deadline {
            bail!("no replica took the command within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Wait until `n` nodes are Online as `s` sees them.
async fn online(s: &Server, n: usize) -> anyhow::Result<()> {
    crate::wait_online(s, n).await
}

/// Every scale-out figure; each failing part records its error and the others still run.
/// `one_only` (`--only replicas1`): just part (a), the fan-out on one replica, for iterating on
/// PostgreSQL's fan-out without the three-replica and failover parts.
pub async fn run(args: &Args, runs: usize, one_only: bool) -> anyhow::Result<Value> {
    let b = Backends::start().await?;
    let (one, three): (&[usize], &[usize]) = if args.quick {
        (&[1000], &[1000, 3000])
    } else {
        (&[1000, 10000], &[1000, 10000, 30000])
    };
    let three = if one_only { &[][..] } else { three };
    let mut fan = Vec::new();
    for (count, sizes) in [(1, one), (3, three)] {
        for n in sizes {
            eprintln!("{n} simulated nodes on {count} replica(s) of PostgreSQL + S3…");
            fan.push(crate::recorded(
                json!({ "replicas": count, "nodes": n }),
                fan_out_on(args, &b, count, *n, runs).await,
            ));
        }
    }
    if one_only {
        return Ok(json!({ "fan_out": fan }));
    }
    let agents = if args.quick { 9 } else { 30 };
    eprintln!("failover: kill -9 of a command's owner with {agents} real agents…");
    let fail = crate::recorded(
        json!({ "agents": agents }),
        failover(args, &b, agents).await,
    );
    Ok(json!({ "fan_out": fan, "failover": fail }))
}
