//! API throughput: K concurrent SigV4-signing clients calling one operation for a fixed window,
//! repeated, with the CPU the server and this load generator use (they share the cores).

use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;
use bosun_bench::signed::SignedClient;
use serde_json::{json, Value};

use super::{cpu_seconds, start_server, stats, Args, REGION};

/// The calls the throughput benchmark drives, by the name its figures carry.
const OPS: [&str; 4] = [
    "GetParameter",
    "GetParameter (SecureString, WithDecryption)",
    "DescribeInstanceInformation",
    "SendCommand",
];

/// One request of `op` (`n` makes each SendCommand distinct); `true` when the server answered
/// as expected.
async fn call(client: &mut SignedClient, op: &str, n: u64) -> bool {
    let (operation, body) = match op {
        "GetParameter" => ("GetParameter", json!({"Name": "/bench/plain"})),
        "GetParameter (SecureString, WithDecryption)" => (
            "GetParameter",
            json!({"Name": "/bench/secret", "WithDecryption": true}),
        ),
        "SendCommand" => (
            "SendCommand",
            json!({
                "DocumentName": "AWS-RunShellScript",
                "Targets": [{"Key": "tag:none", "Values": [format!("{}-{n}", std::process::id())]}],
                "Parameters": {"commands": ["true"]},
            }),
        ),
        _ => ("DescribeInstanceInformation", json!({})),
    };
    let Ok((200, reply)) = client.call(operation, &body.to_string()).await else {
        return false;
    };
    let Ok(reply) = serde_json::from_slice::<Value>(&reply) else {
        return false;
    };
    match op {
        "GetParameter" => reply["Parameter"]["Value"] == "plain value",
        "GetParameter (SecureString, WithDecryption)" => reply["Parameter"]["Value"] == "s3cret",
        "SendCommand" => reply["Command"]["CommandId"].is_string(),
        _ => reply["InstanceInformationList"].is_array(),
    }
}

/// The figures of one window of one operation.
struct Window {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    server_cores: f64,
    load_generator_cores: f64,
    errors: u64,
}

/// One window of `op` with `clients` connections calling it back to back.
async fn window(
    s: &super::Server,
    op: &'static str,
    clients: usize,
    length: Duration,
) -> anyhow::Result<Window> {
    let server_pid = s.child.id().unwrap_or(0);
    let me = std::process::id();
    let mut connected = Vec::new();
    for _ in 0..clients {
        connected.push(
            SignedClient::connect(&s.addr, &s.access_key_id, &s.secret_access_key, REGION).await?,
        );
    }
    let (server_cpu0, client_cpu0) = (cpu_seconds(server_pid), cpu_seconds(me));
    let deadline = Instant::now() + length;
    let mut tasks = Vec::new();
    for (c, mut client) in connected.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0u64);
            let mut n = (c as u64) << 40;
            while Instant::now() < deadline {
                let t = Instant::now();
                n += 1;
                if call(&mut client, op, n).await {
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (lat, e) = t.await?;
        all.extend(lat);
        errors += e;
    }
    let secs = length.as_secs_f64();
    // CPU is read before sorting the latencies, which is not load.
    let server_cores = (cpu_seconds(server_pid) - server_cpu0) / secs;
    let load_generator_cores = (cpu_seconds(me) - client_cpu0) / secs;
    all.sort_by(|a, b| a.total_cmp(b));
    let n = all.len();
    Ok(Window {
        requests_per_second: n as f64 / secs,
        p50_ms: all.get(n / 2).copied().unwrap_or(0.0),
        p99_ms: all.get(n * 99 / 100).copied().unwrap_or(0.0),
        server_cores,
        load_generator_cores,
        errors,
    })
}

/// Every operation `runs` times, interleaved (so machine drift spreads over all of them).
pub async fn run(args: &Args, clients: usize, runs: usize) -> anyhow::Result<Value> {
    let s = start_server(args, "api").await?;
    for (name, kind, value) in [
        ("/bench/plain", ParameterType::String, "plain value"),
        ("/bench/secret", ParameterType::SecureString, "s3cret"),
    ] {
        s.client
            .put_parameter()
            .name(name)
            .r#type(kind)
            .value(value)
            .send()
            .await?;
    }
    let length = Duration::from_secs(if args.quick { 5 } else { 10 });
    let mut samples: Vec<Vec<Window>> = OPS.iter().map(|_| Vec::new()).collect();
    for _ in 0..runs {
        for (op, sample) in OPS.iter().zip(&mut samples) {
            sample.push(window(&s, op, clients, length).await?);
        }
    }
    let mut results = serde_json::Map::new();
    for (op, sample) in OPS.iter().zip(samples) {
        let column =
            |figure: fn(&Window) -> f64| stats(&mut sample.iter().map(figure).collect::<Vec<_>>());
        results.insert(
            op.to_string(),
            json!({
                "clients": clients,
                "window_seconds": length.as_secs(),
                "requests_per_second": column(|w| w.requests_per_second),
                "p50_ms": column(|w| w.p50_ms),
                "p99_ms": column(|w| w.p99_ms),
                "server_cpu_cores": column(|w| w.server_cores),
                "load_generator_cpu_cores": column(|w| w.load_generator_cores),
                "server_cpu_us_per_request":
                    column(|w| w.server_cores / w.requests_per_second.max(1.0) * 1e6),
                "errors": sample.iter().map(|w| w.errors).sum::<u64>(),
            }),
        );
    }
    Ok(Value::Object(results))
}
