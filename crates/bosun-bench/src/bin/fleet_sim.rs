//! `bosun-fleet-sim`: register N simulated nodes through real activations and hold N
//! authenticated agent connections in one process. Prints one JSON line of figures when all
//! are connected, then keeps serving until killed.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use bosun_bench::sim::{register, Stats};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Hold many simulated agent connections to a Bosun server")]
struct Args {
    /// The server's base URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    server: String,
    /// Repeat with `--activation-code` for more than one activation (an activation registers
    /// at most 1,000 nodes): node `i` uses activation `i / per_activation`.
    #[arg(long, required = true)]
    activation_id: Vec<String>,
    #[arg(long, required = true)]
    activation_code: Vec<String>,
    /// Nodes registered with each activation.
    #[arg(long, default_value_t = 1000)]
    per_activation: usize,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    #[arg(long)]
    count: usize,
    /// Registrations and connections in flight at once.
    #[arg(long, default_value_t = 64)]
    parallel: usize,
    /// Answer every command as failed (exit code 1) instead of succeeded.
    #[arg(long)]
    fail: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.activation_id.len() == args.activation_code.len() && args.per_activation > 0,
        "give one --activation-code per --activation-id"
    );
    let url = format!(
        "{}{}",
        args.server.trim_end_matches('/').replacen("http", "ws", 1),
        bosun_proto::AGENT_CHANNEL_PATH
    );
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(args.parallel));
    let mut handles = Vec::with_capacity(args.count);
    for i in 0..args.count {
        let (url, id, code, region, gate) = (
            url.clone(),
            args.activation_id[(i / args.per_activation).min(args.activation_id.len() - 1)].clone(),
            args.activation_code[(i / args.per_activation).min(args.activation_code.len() - 1)]
                .clone(),
            args.region.clone(),
            gate.clone(),
        );
        handles.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            register(&url, &id, &code, &region, i).await
        }));
    }
    let mut nodes = Vec::with_capacity(args.count);
    for h in handles {
        nodes.push(h.await?.context("registering a simulated node")?);
    }
    let registered = started.elapsed();
    let stats = Arc::new(Stats::default());
    let connect_started = Instant::now();
    for (i, node) in nodes.into_iter().enumerate() {
        let (url, stats, fail) = (url.clone(), stats.clone(), args.fail);
        tokio::spawn(async move {
            if let Err(e) = node.serve(&url, i, stats, fail).await {
                eprintln!("node {i}: {e:#}");
            }
        });
        if i % args.parallel == args.parallel - 1 {
            tokio::task::yield_now().await;
        }
    }
    let mut ticks = tokio::time::interval(std::time::Duration::from_millis(20));
    while stats.connected.load(Ordering::Relaxed) < args.count as u64 {
        ticks.tick().await;
    }
    println!(
        "{}",
        serde_json::json!({
            "nodes": args.count,
            "register_seconds": registered.as_secs_f64(),
            "connect_seconds": connect_started.elapsed().as_secs_f64(),
        })
    );
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
    }
}
