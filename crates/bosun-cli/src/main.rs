//! The `bosun` command: run the server, onboard nodes, and look at the fleet.

mod client;
mod docs;
mod fleet;
mod live;
mod params;
mod quickstart;
mod run;
mod table;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use bosun_server::{ServerConfig, TlsConfig};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "bosun",
    version,
    about = "Bosun: a self-hosted, SSM-compatible fleet manager"
)]
struct Cli {
    #[command(flatten)]
    client: client::ClientArgs,
    /// The server's data directory (for `server`, `quickstart`, `admin`, and to find credentials).
    #[arg(long, global = true, default_value = "bosun-data")]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: TopCommand,
}

#[derive(Args, Clone)]
struct ServerArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Default region (for agents that register without naming one).
    #[arg(long, alias = "default-region", default_value = "us-east-1")]
    region: String,
    #[arg(long, default_value = "000000000000")]
    account_id: String,
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Seconds between agent heartbeats; a node is ConnectionLost after three missed ones.
    #[arg(long, default_value_t = 20)]
    heartbeat_seconds: u64,
    /// The KMS keyring file for SecureString master keys (default <data-dir>/kms/keyring.json).
    #[arg(long)]
    kms_key_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum TopCommand {
    /// Run the control plane.
    Server(ServerArgs),
    /// Start a server on embedded defaults with one local agent, and print what to do next.
    Quickstart(ServerArgs),
    /// List managed nodes.
    Nodes {
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// Hybrid activations.
    Activation {
        #[command(flatten)]
        client: client::ClientArgs,
        #[command(subcommand)]
        command: ActivationCommand,
    },
    /// Run a shell command on nodes and show their output live.
    Run {
        #[command(flatten)]
        client: client::ClientArgs,
        /// Node ids (comma separated).
        #[arg(long, value_delimiter = ',')]
        instance_ids: Vec<String>,
        /// Targets as Key=tag:env,Values=dev[,prod] (repeatable).
        #[arg(long = "targets", value_parser = run::parse_target)]
        targets: Vec<(String, Vec<String>)>,
        #[arg(long)]
        max_concurrency: Option<String>,
        #[arg(long)]
        max_errors: Option<String>,
        /// Delivery timeout in seconds (TimeoutSeconds).
        #[arg(long)]
        timeout: Option<i32>,
        /// Execution timeout in seconds for the command on each node.
        #[arg(long)]
        execution_timeout: Option<u32>,
        /// Run this document instead of AWS-RunShellScript (its parameters via --param).
        #[arg(long, default_value = "AWS-RunShellScript")]
        document: String,
        /// A document parameter: key=value (repeatable).
        #[arg(long = "param", value_parser = fleet::parse_tag)]
        params: Vec<(String, String)>,
        #[arg(long)]
        comment: Option<String>,
        /// The shell command (for AWS-RunShellScript).
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// Recent commands.
    Commands {
        #[command(flatten)]
        client: client::ClientArgs,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// One command.
    Command {
        #[command(flatten)]
        client: client::ClientArgs,
        #[command(subcommand)]
        command: CommandCommand,
    },
    /// Documents: create, update, show, list, versions, delete.
    Doc {
        #[command(flatten)]
        client: client::ClientArgs,
        #[command(subcommand)]
        command: DocCommand,
    },
    /// Parameter Store.
    Param {
        #[command(flatten)]
        client: client::ClientArgs,
        #[command(subcommand)]
        command: ParamCommand,
    },
    /// Master keys for SecureString parameters (works directly on the keyring file).
    Kms {
        /// The keyring file (default <data-dir>/kms/keyring.json).
        #[arg(long)]
        kms_key_file: Option<PathBuf>,
        #[command(subcommand)]
        command: KmsCommand,
    },
    /// Users, access keys and policies (works directly on the data directory).
    Admin {
        /// The server's keyring file, which seals new access keys (default
        /// <data-dir>/kms/keyring.json; give the server's --kms-key-file if it has one).
        #[arg(long)]
        kms_key_file: Option<PathBuf>,
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum ActivationCommand {
    /// Create an activation and print the id, the code and the register command.
    Create {
        #[arg(long, default_value_t = 1)]
        limit: i32,
        #[arg(long)]
        expires_in_hours: Option<u32>,
        #[arg(long)]
        description: Option<String>,
        /// Tags for the activation (and the nodes registered with it): Key=Value.
        #[arg(long = "tag", value_parser = fleet::parse_tag)]
        tags: Vec<(String, String)>,
    },
}

#[derive(Subcommand)]
enum DocCommand {
    /// Create a document from a YAML or JSON file.
    Create {
        name: String,
        file: PathBuf,
        #[arg(long, default_value = "Command")]
        document_type: String,
        #[arg(long)]
        version_name: Option<String>,
    },
    /// Add a new version from a file.
    Update {
        name: String,
        file: PathBuf,
        #[arg(long)]
        version_name: Option<String>,
        /// Also make the new version the default.
        #[arg(long)]
        default: bool,
    },
    /// Print a document's content.
    Show {
        name: String,
        #[arg(long)]
        version: Option<String>,
        #[arg(long)]
        yaml: bool,
    },
    /// List documents.
    Ls {
        /// Only this account's documents.
        #[arg(long)]
        mine: bool,
    },
    /// List a document's versions.
    Versions { name: String },
    /// Delete a document, or one version of it.
    Delete {
        name: String,
        #[arg(long)]
        version: Option<String>,
    },
}

#[derive(Subcommand)]
enum ParamCommand {
    /// Create or update a parameter.
    Put {
        name: String,
        value: String,
        /// String, StringList or SecureString (required when creating).
        #[arg(long = "type")]
        param_type: Option<String>,
        #[arg(long)]
        overwrite: bool,
        #[arg(long)]
        description: Option<String>,
        /// KMS key for SecureString (alias/..., key id or ARN).
        #[arg(long)]
        key_id: Option<String>,
        /// Standard, Advanced or Intelligent-Tiering.
        #[arg(long)]
        tier: Option<String>,
        /// Policies JSON (Expiration, ExpirationNotification, NoChangeNotification).
        #[arg(long)]
        policies: Option<String>,
        #[arg(long)]
        allowed_pattern: Option<String>,
    },
    /// Print a parameter's value (name, name:version or name:label).
    Get {
        name: String,
        /// Decrypt a SecureString (needs kms:Decrypt on its key).
        #[arg(long)]
        decrypt: bool,
    },
    /// List parameters under a path; --recursive shows a tree.
    Ls {
        #[arg(default_value = "/")]
        path: String,
        #[arg(long, short)]
        recursive: bool,
    },
    /// Every version of a parameter.
    History {
        name: String,
        #[arg(long)]
        decrypt: bool,
    },
    /// Attach labels to a version (default: the latest).
    Label {
        name: String,
        #[arg(long)]
        version: Option<i64>,
        #[arg(required = true)]
        labels: Vec<String>,
    },
    /// Delete parameters.
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Events recorded by parameter policies (reads the data directory).
    Events {
        /// Only this region.
        #[arg(long = "only-region")]
        only_region: Option<String>,
    },
}

#[derive(Subcommand)]
enum KmsCommand {
    /// Create a master key, optionally with an alias (alias/name).
    CreateKey {
        #[arg(long)]
        alias: Option<String>,
    },
    /// List the master keys (ids and aliases, never key material).
    ListKeys,
}

#[derive(Subcommand)]
enum CommandCommand {
    /// Show a command with its invocations and output.
    Show { command_id: String },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user.
    CreateUser { name: String },
    /// Create an access key for a user and print it once (or write it as a credentials file);
    /// the database keeps the secret only sealed.
    CreateKey {
        user: String,
        /// Write an AWS shared-credentials file (mode 0600) instead of printing.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Attach (or replace) an IAM-style JSON policy on a user.
    PutPolicy {
        user: String,
        policy_name: String,
        /// The policy document (JSON file).
        #[arg(long)]
        file: PathBuf,
    },
    /// Detach a policy from a user.
    DeletePolicy { user: String, policy_name: String },
    /// Check the audit trail's hash chain.
    VerifyAudit,
}

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
        kms_key_file: args.kms_key_file.clone(),
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

fn admin(
    command: AdminCommand,
    data_dir: &Path,
    kms_key_file: Option<PathBuf>,
) -> anyhow::Result<()> {
    let config = ServerConfig {
        data_dir: data_dir.to_path_buf(),
        kms_key_file,
        ..ServerConfig::default()
    };
    let store = bosun_server::open_store(&config)?;
    match command {
        AdminCommand::CreateUser { name } => {
            bosun_server::admin::create_user(&store, &name)?;
            println!("created user {name}");
        }
        AdminCommand::CreateKey { user, output } => {
            let keyring = bosun_server::access_keys::keyring_for_admin(
                &store,
                &config.kms_keyring_path(),
                jiff::Timestamp::now().as_millisecond(),
            )?;
            let (akid, secret) = bosun_server::admin::create_access_key(&store, &keyring, &user)?;
            match output {
                Some(path) => {
                    bosun_server::bootstrap::write_credentials(&path, &akid, &secret)?;
                    println!("wrote the key {akid} for {user} to {}", path.display());
                }
                None => println!("aws_access_key_id = {akid}\naws_secret_access_key = {secret}"),
            }
        }
        AdminCommand::PutPolicy {
            user,
            policy_name,
            file,
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            bosun_server::admin::put_user_policy(&store, &user, &policy_name, &text)?;
            println!("attached {policy_name} to {user}");
        }
        AdminCommand::DeletePolicy { user, policy_name } => {
            bosun_server::admin::delete_user_policy(&store, &user, &policy_name)?;
            println!("detached {policy_name} from {user}");
        }
        AdminCommand::VerifyAudit => match store.verify_audit()? {
            bosun_store::AuditVerification::Intact { records } => {
                println!("audit trail intact: {records} records")
            }
            bosun_store::AuditVerification::BrokenAt { seq } => {
                anyhow::bail!("audit trail broken at record {seq}")
            }
        },
    }
    Ok(())
}

async fn param(
    client: client::ClientArgs,
    command: ParamCommand,
    data_dir: &Path,
) -> anyhow::Result<()> {
    if let ParamCommand::Events { only_region } = &command {
        let config = ServerConfig {
            data_dir: data_dir.to_path_buf(),
            ..ServerConfig::default()
        };
        return params::events(&bosun_server::open_store(&config)?, only_region.as_deref());
    }
    let sdk = client.client(data_dir)?;
    match command {
        ParamCommand::Put {
            name,
            value,
            param_type,
            overwrite,
            description,
            key_id,
            tier,
            policies,
            allowed_pattern,
        } => {
            params::put(
                &sdk,
                params::PutArgs {
                    name,
                    value,
                    param_type,
                    overwrite,
                    description,
                    key_id,
                    tier,
                    policies,
                    allowed_pattern,
                },
            )
            .await
        }
        ParamCommand::Get { name, decrypt } => params::get(&sdk, &name, decrypt).await,
        ParamCommand::Ls { path, recursive } => params::ls(&sdk, &path, recursive).await,
        ParamCommand::History { name, decrypt } => params::history(&sdk, &name, decrypt).await,
        ParamCommand::Label {
            name,
            version,
            labels,
        } => params::label(&sdk, &name, version, labels).await,
        ParamCommand::Rm { names } => params::rm(&sdk, names).await,
        ParamCommand::Events { .. } => Ok(()),
    }
}

fn kms(file: Option<PathBuf>, command: KmsCommand, data_dir: &Path) -> anyhow::Result<()> {
    let path = file.unwrap_or_else(|| bosun_server::kms::Keyring::default_path(data_dir));
    let now = jiff::Timestamp::now().as_millisecond();
    let ring = bosun_server::kms::Keyring::open(&path, now)?;
    match command {
        KmsCommand::CreateKey { alias } => {
            let key = ring.create_key(alias.as_deref(), now)?;
            println!(
                "created key {}{}",
                key.key_id,
                alias.map(|a| format!(" ({a})")).unwrap_or_default()
            );
        }
        KmsCommand::ListKeys => {
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BOSUN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        TopCommand::Server(args) => run_server(server_config(&args, &cli.data_dir)).await,
        TopCommand::Quickstart(args) => quickstart::run(server_config(&args, &cli.data_dir)).await,
        TopCommand::Nodes { client } => fleet::nodes(&client.client(&cli.data_dir)?).await,
        TopCommand::Activation {
            client,
            command:
                ActivationCommand::Create {
                    limit,
                    expires_in_hours,
                    description,
                    tags,
                },
        } => {
            let sdk = client.client(&cli.data_dir)?;
            fleet::create_activation(
                &sdk,
                &client.endpoint_url,
                limit,
                expires_in_hours,
                description,
                &tags,
            )
            .await
            .map(|_| ())
        }
        TopCommand::Run {
            client,
            instance_ids,
            targets,
            max_concurrency,
            max_errors,
            timeout,
            execution_timeout,
            document,
            params,
            comment,
            command,
        } => {
            let sdk = client.client(&cli.data_dir)?;
            let req = run::RunRequest {
                instance_ids,
                targets,
                document,
                params: execution_timeout
                    .map(|t| ("executionTimeout".to_string(), t.to_string()))
                    .into_iter()
                    .chain(params)
                    .collect(),
                command,
                max_concurrency,
                max_errors,
                timeout,
                comment,
            };
            let code = run::run(&sdk, &client, &cli.data_dir, req).await?;
            std::process::exit(code);
        }
        TopCommand::Commands { client, limit } => {
            run::commands(&client.client(&cli.data_dir)?, limit).await
        }
        TopCommand::Command {
            client,
            command: CommandCommand::Show { command_id },
        } => run::show(&client.client(&cli.data_dir)?, &command_id).await,
        TopCommand::Doc { client, command } => {
            let sdk = client.client(&cli.data_dir)?;
            match command {
                DocCommand::Create {
                    name,
                    file,
                    document_type,
                    version_name,
                } => docs::create(&sdk, &name, &file, &document_type, version_name).await,
                DocCommand::Update {
                    name,
                    file,
                    version_name,
                    default,
                } => docs::update(&sdk, &name, &file, version_name, default).await,
                DocCommand::Show {
                    name,
                    version,
                    yaml,
                } => docs::show(&sdk, &name, version, yaml).await,
                DocCommand::Ls { mine } => docs::list(&sdk, mine).await,
                DocCommand::Versions { name } => docs::versions(&sdk, &name).await,
                DocCommand::Delete { name, version } => docs::delete(&sdk, &name, version).await,
            }
        }
        TopCommand::Admin {
            kms_key_file,
            command,
        } => admin(command, &cli.data_dir, kms_key_file),
        TopCommand::Param { client, command } => param(client, command, &cli.data_dir).await,
        TopCommand::Kms {
            kms_key_file,
            command,
        } => kms(kms_key_file, command, &cli.data_dir),
    }
}
