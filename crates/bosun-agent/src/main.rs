//! The `bosun-agent` command: `register` a node, then `run` it.

use std::path::PathBuf;

use anyhow::Context;
use bosun_agent::commands::{CommandService, Settings};
use bosun_agent::config::AgentConfig;
use bosun_agent::identity::Identity;
use bosun_agent::register::{register, RegisterArgs};
use bosun_agent::session::run::RunSettings;
use bosun_agent::session::{SessionService, SessionSettings};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "bosun-agent", version, about = "The Bosun node agent")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Join the fleet with a hybrid activation (id and code from `CreateActivation`).
    Register {
        #[arg(long, default_value = "/var/lib/bosun-agent")]
        state_dir: PathBuf,
        /// The server's base URL, e.g. http://127.0.0.1:8080; several, comma-separated, for
        /// replicas or a standby (tried in order, whenever the connection is lost).
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        id: String,
        /// Region of the activation (default: the server's default region).
        #[arg(long)]
        region: Option<String>,
        /// Extra CA certificate (PEM) to trust for an https:// server.
        #[arg(long)]
        ca_file: Option<PathBuf>,
    },
    /// Stay connected to the server and do the work it sends.
    Run {
        #[arg(long, default_value = "/var/lib/bosun-agent")]
        state_dir: PathBuf,
        /// The agent config file (JSON, AWS agent key names); default <state-dir>/agent.json.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// The agent configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print every setting with its default value, as a config file.
    Defaults,
    /// Check a config file exactly as `run --config FILE` reads it, and print the settings it
    /// results in.
    Check {
        /// The config file (JSON).
        file: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    // The step supervisor runs before anything else (no runtime, no threads): it is a separate
    // process the agent spawns for each step, see `bosun_agent::step`.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "supervise") {
        match bosun_agent::step::SuperviseArgs::from_args(args.into_iter().skip(2)) {
            Ok(a) => std::process::exit(bosun_agent::step::supervise_main(a)),
            Err(e) => {
                eprintln!("bosun-agent supervise: {e}");
                std::process::exit(2);
            }
        }
    }
    // Plugins that are not scripts run under a step's supervisor as this binary, too.
    if args.get(1).is_some_and(|a| a == "run-plugin") {
        let Some(job) = args.get(2) else {
            eprintln!("bosun-agent run-plugin: the job file is missing");
            std::process::exit(2);
        };
        std::process::exit(bosun_agent::plugins::job::main(std::path::Path::new(job)));
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BOSUN_AGENT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // A session's worker: its own process, so the session outlives an agent restart (see
    // `bosun_agent::session::worker`).
    if args.get(1).is_some_and(|a| a == "session-worker") {
        let Some(dir) = args.get(2) else {
            eprintln!("bosun-agent session-worker: the session folder is missing");
            std::process::exit(2);
        };
        std::process::exit(bosun_agent::session::worker::main(std::path::Path::new(
            dir,
        )));
    }
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Register { state_dir, server, code, id, region, ca_file } => {
                let identity = register(RegisterArgs {
                    state_dir: &state_dir,
                    server: &server,
                    activation_id: &id,
                    activation_code: &code,
                    region: region.as_deref(),
                    ca_file,
                })
                .await?;
                println!("registered as {} in {}", identity.instance_id, identity.region);
                Ok(())
            }
            Command::Config { command: ConfigCommand::Defaults } => {
                println!("{}", AgentConfig::defaults_json());
                Ok(())
            }
            Command::Config { command: ConfigCommand::Check { file } } => {
                let config = AgentConfig::load(&file)?;
                println!("{}", config.to_json());
                Ok(())
            }
            Command::Run { state_dir, config } => {
                // A file named with --config must exist; the default one may be absent. Read
                // first, so a bad file is reported the same as by `config check`.
                let config = match config {
                    Some(path) => AgentConfig::load(&path)?,
                    None => AgentConfig::load_default(&state_dir.join("agent.json"))?,
                };
                let identity = Identity::load(&state_dir)?;
                bosun_agent::identity::ensure_state_dir(&state_dir)?;
                bosun_agent::update::claim_state_dir(&state_dir)?;
                // An update whose watchdog vanished would block every later one.
                bosun_agent::update::stale::settle(&state_dir, bosun_agent::agent_version());
                tracing::info!(instance_id = %identity.instance_id, server = %identity.server, version = bosun_agent::agent_version(), "bosun-agent starting");
                let exe = std::env::current_exe().context("locating the bosun-agent binary")?;
                let settings = Settings::from_config(&config, exe);
                let commands = CommandService::new(&state_dir, &identity.instance_id, settings)
                    .context("opening the command state folders")?;
                commands.recover().context("resuming commands")?;
                commands.spawn_sweeper();
                commands.spawn_result_resender();
                bosun_agent::update::swap::spawn(
                    state_dir.clone(),
                    commands.settings.agent_exe.clone(),
                    commands.clone(),
                );
                let sessions = std::sync::Arc::new(
                    SessionService::new(
                        &state_dir,
                        bosun_agent::server_urls(&identity.server).first().copied().unwrap_or(""),
                        SessionSettings {
                            node_id: identity.instance_id.clone(),
                            ca_file: identity.ca_file.clone(),
                            workers_limit: config.session_workers_limit(),
                            run: RunSettings {
                                stop_grace: config.stop_timeout(),
                                ..RunSettings::default()
                            },
                            worker_program: Some(commands.settings.agent_exe.clone()),
                        },
                    )
                    .context("opening the session state folder")?,
                );
                sessions.recover().await;
                sessions.spawn_resender();
                let reason = tokio::select! {
                    e = bosun_agent::channel::run(&identity, &state_dir, &commands, &sessions) => e,
                    _ = shutdown_signal() => {
                        tracing::info!("stopping on signal");
                        return Ok(());
                    }
                };
                Err(reason)
            }
        }
    })
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
