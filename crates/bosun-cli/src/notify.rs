//! `bosun notify failed/redrive` (`notify test` is `notify_test.rs`): SNS deliveries whose retries ran out (kept as failed records,
//! never dropped) listed, and sent again. Works on the server's store (the data directory, or
//! `BOSUN_DATABASE`), as `bosun param events` does; a running server picks redriven
//! deliveries up within a second.

use clap::Subcommand;

use crate::table;

#[derive(Subcommand)]
pub enum NotifyCommand {
    /// Publish a sample event to a topic now, to see what its subscribers get.
    Test(crate::notify_test::TestArgs),
    /// Deliveries whose retries ran out, oldest first.
    Failed {
        /// Only this region (default: the client's region).
        #[arg(long = "only-region")]
        only_region: Option<String>,
    },
    /// Send failed deliveries again (attempts counted from zero).
    Redrive {
        /// Only this topic's (its name).
        #[arg(long)]
        topic: Option<String>,
        /// Only this region (default: the client's region).
        #[arg(long = "only-region")]
        only_region: Option<String>,
    },
}

fn when(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Run `command` against the store of `data_dir`; blocks (call it off the async threads).
pub fn run(
    command: NotifyCommand,
    data_dir: &std::path::Path,
    default_region: &str,
) -> anyhow::Result<()> {
    let database = std::env::var("BOSUN_DATABASE").ok();
    let store = crate::admin::open_store(data_dir, database)?;
    match command {
        NotifyCommand::Failed { only_region } => {
            let region = only_region.as_deref().unwrap_or(default_region);
            let rows: Vec<Vec<String>> = store
                .list_deliveries(region)?
                .into_iter()
                .filter(|d| d.failed)
                .map(|d| {
                    let endpoint = store
                        .get_subscription(region, &d.subscription_id)
                        .ok()
                        .flatten()
                        .map(|s| {
                            let endpoint = bosun_core::redact::mask_url_credentials(&s.endpoint);
                            format!("{} {endpoint}", s.protocol)
                        })
                        .unwrap_or_default();
                    let mut excerpt: String = d.message.chars().take(60).collect();
                    if d.message.chars().count() > 60 {
                        excerpt.push('…');
                    }
                    vec![
                        when(d.created_ms),
                        d.topic_name,
                        endpoint,
                        d.kind,
                        d.attempts.to_string(),
                        d.last_error,
                        excerpt.replace('\n', " "),
                    ]
                })
                .collect();
            if rows.is_empty() {
                eprintln!("no failed deliveries in {region}");
                return Ok(());
            }
            print!(
                "{}",
                table::render(
                    &[
                        "PUBLISHED",
                        "TOPIC",
                        "ENDPOINT",
                        "KIND",
                        "ATTEMPTS",
                        "LAST ERROR",
                        "MESSAGE"
                    ],
                    &rows
                )
            );
        }
        NotifyCommand::Test(_) => unreachable!("notify test goes through the API"),
        NotifyCommand::Redrive { topic, only_region } => {
            let region = only_region.as_deref().unwrap_or(default_region);
            let now = jiff::Timestamp::now().as_millisecond();
            let n = store.redrive_deliveries(region, topic.as_deref(), now)?;
            eprintln!("{n} failed deliveries sent again in {region}");
        }
    }
    Ok(())
}
