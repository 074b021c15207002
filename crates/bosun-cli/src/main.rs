//! The `bosun` command: run the server, onboard nodes, and look at the fleet.

mod admin;
mod agent_release;
mod assoc;
mod assoc_args;
mod automation;
mod automation_args;
mod automation_signal;
mod automation_steps;
mod cli;
mod client;
mod commands;
mod docs;
mod env;
mod events;
mod fleet;
mod group;
mod live;
mod next_run;
mod node;
mod notify;
mod notify_test;
mod output;
mod package;
mod package_args;
mod params;
mod params_wait;
mod quickstart;
mod resolve;
mod results;
mod run;
mod session;
mod session_log;
mod signed;
mod status;
mod style;
mod table;
mod watch;
mod window;
mod window_args;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bosun_server::{ServerConfig, SmtpConfig, TlsConfig};
use clap::{CommandFactory, Parser};

use cli::{ActivationCommand, Cli, CommandCommand, DocCommand, ServerArgs, TopCommand};

fn server_config(args: &ServerArgs, data_dir: &Path) -> ServerConfig {
    ServerConfig {
        listen: args.listen,
        data_dir: data_dir.to_path_buf(),
        default_region: args.region.clone(),
        account_id: args.account_id.clone(),
        tls: match (&args.tls_cert, &args.tls_key) {
            (Some(c), Some(k)) => Some(TlsConfig {
                cert_path: c.clone(),
                key_path: k.clone(),
            }),
            _ => None,
        },
        heartbeat_interval: std::time::Duration::from_secs(args.heartbeat_seconds.max(1)),
        orchestrator_sweep: Some(std::time::Duration::from_millis(args.orchestrator_sweep_ms)),
        advertise_url: args.advertise_url.clone(),
        kms_key_file: args.kms_key_file.clone(),
        database: args.database.clone(),
        regions: args.regions.clone(),
        standby: args.standby,
        blobs: args.blobs.clone(),
        node_stop_command: args.node_stop_command.clone(),
        node_restart_command: args.node_restart_command.clone(),
        smtp: args.smtp_host.as_ref().map(|host| SmtpConfig {
            host: host.clone(),
            port: args
                .smtp_port
                .unwrap_or_else(|| args.smtp_security.default_port()),
            security: args.smtp_security,
            user: args.smtp_user.clone(),
            password_file: args.smtp_password_file.clone(),
            from: args.smtp_from.clone().unwrap_or_default(),
            ca_file: args.smtp_ca_file.clone(),
        }),
        ..ServerConfig::default()
    }
}

pub(crate) fn quickstart_identity_exists(state_dir: &Path) -> bool {
    state_dir.join("identity.json").exists()
}

async fn run_server(config: ServerConfig) -> anyhow::Result<()> {
    let server = bosun_server::start(config).await?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => server.shutdown().await,
        _ = term.recv() => server.shutdown().await,
    }
}

fn kms(file: Option<PathBuf>, command: cli::KmsCommand, data_dir: &Path) -> anyhow::Result<()> {
    let path = file.unwrap_or_else(|| bosun_server::kms::Keyring::default_path(data_dir));
    let now = jiff::Timestamp::now().as_millisecond();
    let ring = bosun_server::kms::Keyring::open(&path, now)?;
    match command {
        cli::KmsCommand::CreateKey { alias } => {
            let key = ring.create_key(alias.as_deref(), now)?;
            println!(
                "created key {}{}",
                key.key_id,
                alias.map(|a| format!(" ({a})")).unwrap_or_default()
            );
        }
        cli::KmsCommand::ListKeys => {
            let rows: Vec<Vec<String>> = ring
                .keys()
                .into_iter()
                .map(|k| vec![k.key_id, k.aliases.join(",")])
                .collect();
            print!("{}", table::render(&["KEY ID", "ALIASES"], &rows));
        }
    }
    Ok(())
}

/// Run one command; `Ok(code)` is the process exit code.
async fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    let c = &cli.client;
    match cli.command {
        TopCommand::Server(args) => run_server(server_config(&args, &c.server_data_dir())).await?,
        TopCommand::Quickstart(args) => {
            quickstart::run(server_config(&args, &c.server_data_dir())).await?
        }
        TopCommand::Env => env::print(c)?,
        TopCommand::Migrate { database } => {
            let applied =
                tokio::task::spawn_blocking(move || bosun_server::migrate(&database)).await??;
            println!("{applied}");
        }
        TopCommand::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "bosun", &mut std::io::stdout())
        }
        TopCommand::Nodes => fleet::nodes(&c.connect()?.sdk).await?,
        TopCommand::Node { command } => return node::dispatch(&c.connect()?, command).await,
        TopCommand::AgentRelease { command } => {
            return agent_release::dispatch(&c.connect()?, command).await
        }
        TopCommand::Activation { command } => {
            let conn = c.connect()?;
            match command {
                ActivationCommand::Create {
                    limit,
                    expires_in_hours,
                    description,
                    tags,
                } => {
                    fleet::create_activation(&conn, limit, expires_in_hours, description, &tags)
                        .await?;
                }
                ActivationCommand::List => fleet::list_activations(&conn.sdk).await?,
                ActivationCommand::Delete { activation_id } => {
                    fleet::delete_activation(&conn.sdk, &activation_id).await?
                }
            }
        }
        TopCommand::Run(args) => return run::run(&c.connect()?, args).await,
        TopCommand::Session(args) => return session::session(&c.connect()?, args).await,
        TopCommand::PortForward(args) => {
            return session::port::port_forward(&c.connect()?, args).await
        }
        TopCommand::Sessions { history } => session::sessions(&c.connect()?, history).await?,
        TopCommand::SessionLog {
            session_id,
            cast,
            keep_ansi,
        } => session_log::show(&c.connect()?, &session_id, cast, keep_ansi).await?,
        TopCommand::Commands { limit } => commands::commands(&c.connect()?.sdk, limit).await?,
        TopCommand::Command { command } => {
            let conn = c.connect()?;
            match command {
                CommandCommand::Show { command_id } => commands::show(&conn, &command_id).await?,
                CommandCommand::Watch { command_id, json } => {
                    return watch::watch_existing(&conn, &command_id, json).await
                }
                CommandCommand::Cancel { command_id } => {
                    watch::cancel(&conn.sdk, &command_id).await?
                }
            }
        }
        TopCommand::Doc { command } => {
            let sdk = c.connect()?.sdk;
            match command {
                DocCommand::Create {
                    name,
                    file,
                    document_type,
                    version_name,
                } => docs::create(&sdk, &name, &file, &document_type, version_name).await?,
                DocCommand::Update {
                    name,
                    file,
                    version_name,
                    default,
                } => docs::update(&sdk, &name, &file, version_name, default).await?,
                DocCommand::Show {
                    name,
                    version,
                    yaml,
                } => docs::show(&sdk, &name, version, yaml).await?,
                DocCommand::Ls { mine } => docs::list(&sdk, mine).await?,
                DocCommand::Versions { name } => docs::versions(&sdk, &name).await?,
                DocCommand::Delete { name, version } => docs::delete(&sdk, &name, version).await?,
            }
        }
        TopCommand::Admin {
            kms_key_file,
            database,
            command,
        } => {
            // The store may block on the network (PostgreSQL): off the async threads.
            let data_dir = c.server_data_dir();
            tokio::task::spawn_blocking(move || {
                admin::run(command, &data_dir, kms_key_file, database)
            })
            .await??
        }
        TopCommand::Window { command } => window::dispatch(&c.connect()?.sdk, command).await?,
        TopCommand::Package { command } => return package::dispatch(&c.connect()?, command).await,
        TopCommand::Automation { command } => {
            return automation::dispatch(&c.connect()?.sdk, command).await
        }
        TopCommand::Assoc { command } => assoc::dispatch(&c.connect()?.sdk, command).await?,
        TopCommand::Param { command } => params::dispatch(c, command).await?,
        TopCommand::Notify {
            command: notify::NotifyCommand::Test(args),
        } => {
            let conn = c.connect()?;
            tokio::task::spawn_blocking(move || notify_test::run(&conn, &args)).await??
        }
        TopCommand::Events { command } => events::run(&c.connect()?, command).await?,
        TopCommand::Group { command } => {
            let conn = c.connect()?;
            tokio::task::spawn_blocking(move || group::run(&conn, command)).await??
        }
        TopCommand::Notify { command } => {
            let conn = c.connect()?;
            tokio::task::spawn_blocking(move || notify::run(&conn, command)).await??
        }
        TopCommand::Kms {
            kms_key_file,
            command,
        } => kms(kms_key_file, command, &c.server_data_dir())?,
    }
    Ok(0)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BOSUN_LOG")
                // The SDK's HTTP stack logs transport failures as warnings; the CLI says them
                // in its own one-line error instead.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("info,aws_smithy_http_client=error,aws_smithy_runtime=error,aws_config=error")
                }),
        )
        .with_writer(std::io::stderr)
        .init();
    let outcome = if session::plugin::invoked_as_plugin() {
        session::plugin::main(std::env::args().skip(1).collect()).await
    } else {
        dispatch(Cli::parse()).await
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            style::error_line(&format!("{e:#}"));
            ExitCode::from(1)
        }
    }
}
