//! Events benchmarks: how many event×rule pattern evaluations one core makes against 1,000
//! rules, and how long a burst of failed invocations takes to reach an SMTP server as mail,
//! with an `email` subscription's grouping on and off.
//!
//! The burst runs the real pipeline: a release `bosun server` mailing a local `aiosmtpd` sink
//! (`crates/bosun-e2e/src/mailsink.py`, which names each accepted message by the nanosecond it
//! was accepted), `bosun-fleet-sim --fail` nodes answering every command as failed, and a rule
//! on `EC2 Command Invocation Status-change Notification` with `status: Failed` targeting a
//! topic, set up with the unchanged AWS CLI. The clock runs from `SendCommand` to each mail's
//! acceptance.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context};
use aws_sdk_ssm::types::Target;
use bosun_core::events::envelope::{self, CommandFacts, Origin};
use bosun_core::events::pattern::EventPattern;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::{activation, start_server_with, Args, Server, REGION};

/// Rules the pattern benchmark matches each event against.
const RULES: usize = 1_000;

/// A rule set shaped like operators' rules: by document and status, by node prefix, by
/// wildcard source and command suffix, anything-but and exists, and `$or` with
/// equals-ignore-case; rule 0 is seed 003's (any failed invocation of two documents).
fn rules() -> Vec<EventPattern> {
    (0..RULES)
        .map(|i| {
            let p = match i % 5 {
                0 => json!({
                    "source": ["aws.ssm"],
                    "detail-type": [envelope::INVOCATION_STATUS_CHANGE],
                    "detail": {"status": ["Failed"], "document-name": [format!("Doc-{i}"), "AWS-RunShellScript"]},
                }),
                1 => json!({
                    "source": ["aws.ssm"],
                    "detail": {"instance-id": [{"prefix": format!("mi-0{i:04x}")}]},
                }),
                2 => json!({
                    "detail-type": [{"anything-but": [envelope::PARAMETER_STORE_CHANGE]}],
                    "detail": {"command-id": [{"exists": true}], "status": [{"anything-but": ["Success", format!("S{i}")]}]},
                }),
                3 => json!({
                    "source": [{"wildcard": "aws.*"}],
                    "detail": {"command-id": [{"suffix": format!("-{i:012}")}]},
                }),
                _ => json!({
                    "$or": [
                        {"detail": {"status": ["TimedOut"]}},
                        {"detail": {"document-name": [{"equals-ignore-case": format!("aws-runshellscript-{i}")}]}},
                    ],
                }),
            };
            EventPattern::parse(&p.to_string()).expect("a benchmark rule is a valid pattern")
        })
        .collect()
}

/// Invocation events as the server emits them, for 16 nodes, alternating Failed and Success.
fn events() -> Vec<Value> {
    let parameters = json!({"commands": ["exit 1"]});
    (0..16)
        .map(|n| {
            let facts = CommandFacts {
                command_id: "8d3bc7a4-3f7e-4a52-9b1e-000000000005",
                document_name: "AWS-RunShellScript",
                requested_ms: 1_764_000_000_000,
                expires_ms: 1_764_000_600_000,
                parameters: &parameters,
            };
            let origin = Origin {
                account: "000000000000",
                region: REGION,
                id: "5b2a3e4f-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                now_ms: 1_764_000_001_000,
            };
            let status = if n % 2 == 0 { "Failed" } else { "Success" };
            envelope::invocation_status_change(origin, &facts, &format!("mi-0{n:016x}"), status)
                .envelope
        })
        .collect()
}

/// Event×rule evaluations per second on one core over `window`.
pub fn pattern_rate(window: Duration) -> Value {
    let (rules, events) = (rules(), events());
    let started = Instant::now();
    let (mut evaluations, mut matched) = (0u64, 0u64);
    while started.elapsed() < window {
        for event in &events {
            for rule in &rules {
                matched += u64::from(rule.matches(event));
            }
            evaluations += rules.len() as u64;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    json!({
        "rules": RULES,
        "events": events.len(),
        "evaluations": evaluations,
        "matched": matched,
        "seconds": seconds,
        "evaluations_per_second": evaluations as f64 / seconds,
        "target_evaluations_per_second": 100_000,
    })
}

/// The local SMTP sink: its process, port and the folder it writes each message to.
struct Sink {
    _child: Child,
    port: u16,
    dir: PathBuf,
}

impl Sink {
    async fn start(dir: &Path) -> anyhow::Result<Sink> {
        std::fs::create_dir_all(dir)?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../bosun-e2e/src/mailsink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir)
            .arg("0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting the SMTP sink (python3)")?;
        let mut lines = BufReader::new(child.stdout.take().context("sink stdout")?).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("the SMTP sink did not start")??
            .context("the SMTP sink ended (is aiosmtpd installed? pip install aiosmtpd)")?;
        let port = first
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .with_context(|| format!("unexpected sink line {first:?}"))?;
        Ok(Sink {
            _child: child,
            port,
            dir: dir.to_path_buf(),
        })
    }

    /// Every accepted message: (acceptance time in ns since the epoch, the record).
    fn mails(&self) -> Vec<(u128, Value)> {
        let mut out: Vec<(u128, Value)> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let ns = name
                    .strip_suffix(".json")?
                    .split('-')
                    .next()?
                    .parse()
                    .ok()?;
                let text = std::fs::read_to_string(e.path()).ok()?;
                Some((ns, serde_json::from_str(&text).ok()?))
            })
            .collect();
        out.sort_by_key(|(ns, _)| *ns);
        out
    }
}

/// Run the unchanged AWS CLI against `s` as its admin; the JSON answer.
fn aws(s: &Server, args: &[&str]) -> anyhow::Result<Value> {
    let out = std::process::Command::new("aws")
        .args(args)
        .args([
            "--endpoint-url",
            &s.url,
            "--region",
            REGION,
            "--output",
            "json",
        ])
        .env("AWS_ACCESS_KEY_ID", &s.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &s.secret_access_key)
        .env_remove("AWS_PROFILE")
        .output()
        .context("running the AWS CLI (pip install awscli)")?;
    if !out.status.success() {
        bail!(
            "aws {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)?
    })
}

/// Poll `probe` every 100 ms until it answers or `limit` passes.
async fn until<T>(
    what: &str,
    limit: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> anyhow::Result<T> {
    let deadline = Instant::now() + limit;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        if let Some(v) = probe() {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("timed out after {limit:?} waiting for {what}");
        }
    }
}

/// The node ids a mail lists, one per body line (the subscription's template writes them).
fn listed_nodes(mail: &Value) -> Vec<String> {
    mail["body"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("mi-"))
        .map(str::to_string)
        .collect()
}

/// A burst of `nodes` failed invocations to one `email` subscription: the time from
/// `SendCommand` until the first mail and until every node was mailed about, and how many
/// mails it took; `group_seconds` sets `BosunGroupWindowSeconds` (grouped by command id).
pub async fn burst(args: &Args, nodes: usize, group_seconds: Option<u32>) -> anyhow::Result<Value> {
    let name = match group_seconds {
        Some(_) => "events-burst-grouped",
        None => "events-burst",
    };
    let sink = Sink::start(&args.work.join(name).with_extension("mail")).await?;
    let port = sink.port.to_string();
    let smtp = [
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &port,
        "--smtp-security",
        "none",
        "--smtp-from",
        "bosun@bench.test",
    ];
    let server = start_server_with(args, name, &smtp).await?;
    let _fleet = failing_fleet(args, &server, nodes, name).await?;

    let topic = aws(&server, &["sns", "create-topic", "--name", "ops"])?["TopicArn"]
        .as_str()
        .context("a topic ARN")?
        .to_string();
    let mut attributes = json!({
        "BosunTemplateSubject": "{% if event %}{{ event.detail[\"document-name\"] }} failed{% else %}{{ message }}{% endif %}",
        "BosunTemplateBody": "{% if messages %}{% for m in messages %}{{ m.event.detail[\"instance-id\"] }}\n{% endfor %}{% else %}{{ event.detail[\"instance-id\"] }}\n{% endif %}",
    });
    if let Some(seconds) = group_seconds {
        attributes["BosunGroupWindowSeconds"] = json!(seconds.to_string());
        attributes["BosunGroupBy"] = json!("$.detail.command-id");
    }
    aws(
        &server,
        &[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            "ops@bench.test",
            "--attributes",
            &attributes.to_string(),
        ],
    )?;
    confirm(&sink).await?;
    let pattern = json!({
        "source": ["aws.ssm"],
        "detail-type": [envelope::INVOCATION_STATUS_CHANGE],
        "detail": {"status": ["Failed"]},
    });
    aws(
        &server,
        &[
            "events",
            "put-rule",
            "--name",
            "failed",
            "--event-pattern",
            &pattern.to_string(),
        ],
    )?;
    let targets = json!([{"Id": "ops", "Arn": topic}]);
    aws(
        &server,
        &[
            "events",
            "put-targets",
            "--rule",
            "failed",
            "--targets",
            &targets.to_string(),
        ],
    )?;
    let before = sink.mails().len();

    let sent_ns = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)?
        .as_nanos();
    server
        .client
        .send_command()
        .document_name("AWS-RunShellScript")
        .parameters("commands", vec!["exit 1".into()])
        .targets(Target::builder().key("tag:bench").values(name).build())
        .max_concurrency("100%")
        .max_errors("100%")
        .send()
        .await?;
    let mails = until(
        "every failed node in a mail",
        Duration::from_secs(600),
        || {
            let mails: Vec<(u128, Value)> = sink.mails().into_iter().skip(before).collect();
            let mut seen: Vec<String> = mails.iter().flat_map(|(_, m)| listed_nodes(m)).collect();
            seen.sort();
            seen.dedup();
            (seen.len() >= nodes).then_some(mails)
        },
    )
    .await?;
    let seconds = |ns: u128| ns.saturating_sub(sent_ns) as f64 / 1e9;
    Ok(json!({
        "nodes": nodes,
        "group_window_seconds": group_seconds,
        "mails": mails.len(),
        "first_mail_seconds": seconds(mails.first().map_or(0, |(ns, _)| *ns)),
        "all_mailed_seconds": seconds(mails.last().map_or(0, |(ns, _)| *ns)),
        "target": "all mailed within 10 s, grouped into at most 5 mails",
    }))
}

/// Follow the link of the subscription's confirmation mail.
async fn confirm(sink: &Sink) -> anyhow::Result<()> {
    let mail = until("the confirmation mail", Duration::from_secs(60), || {
        sink.mails().into_iter().next()
    })
    .await?
    .1;
    let link = mail["body"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("http://"))
        .context("a link in the confirmation mail")?
        .to_string();
    let status = std::process::Command::new("curl")
        .args(["-fsS", "-o", "/dev/null", &link])
        .status()
        .context("running curl")?;
    if !status.success() {
        bail!("confirming the subscription at {link} failed");
    }
    Ok(())
}

/// `nodes` simulated nodes tagged `bench=<tag>`, answering every command as failed.
async fn failing_fleet(args: &Args, s: &Server, nodes: usize, tag: &str) -> anyhow::Result<Child> {
    let (id, code) = activation(s, nodes as i32, tag).await?;
    let mut sim = Command::new(args.bin_dir.join("bosun-fleet-sim"))
        .args(["--server", &s.url, "--count", &nodes.to_string(), "--fail"])
        .args(["--activation-id", &id, "--activation-code", &code])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting bosun-fleet-sim")?;
    let mut lines = BufReader::new(sim.stdout.take().context("sim stdout")?).lines();
    tokio::time::timeout(Duration::from_secs(600), lines.next_line())
        .await??
        .context("the fleet simulator ended before connecting")?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(sim)
}
