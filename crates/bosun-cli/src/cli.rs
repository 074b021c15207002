//! The `bosun` command line: every subcommand and flag, with its help text.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::client::ClientArgs;
use crate::{fleet, run};

#[derive(Parser)]
#[command(
    name = "bosun",
    version,
    about = "Bosun: a self-hosted, SSM-compatible fleet manager",
    after_help = "Client commands find the server without flags: from the folder where \
                  `bosun quickstart` or `bosun server` ran (./bosun-data), or with BOSUN_DATA_DIR, \
                  BOSUN_ENDPOINT or an AWS profile's endpoint_url. `bosun env` prints the \
                  variables for the AWS CLI."
)]
pub struct Cli {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub command: TopCommand,
}

/// `--advertise-url`: an http(s) URL with a host and nothing after the port.
fn advertise_url(text: &str) -> Result<String, String> {
    let trimmed = text.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or("must start with http:// or https://")?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err("must be http(s)://host[:port] with no path".into());
    }
    Ok(trimmed.to_string())
}

#[derive(Args, Clone)]
pub struct ServerArgs {
    /// Address and port to listen on (port 0 picks a free one; see <data-dir>/listen-addr).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Default region (for agents that register without naming one).
    #[arg(long, alias = "default-region", default_value = "us-east-1")]
    pub region: String,
    /// The account id in ARNs.
    #[arg(long, default_value = "000000000000")]
    pub account_id: String,
    /// TLS certificate chain (PEM); serve https:// with --tls-key.
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) for --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Seconds between agent heartbeats; a node is ConnectionLost after three missed ones.
    #[arg(long, default_value_t = 20)]
    pub heartbeat_seconds: u64,
    /// Milliseconds between the orchestrator's passes when nothing wakes it (replicas on
    /// PostgreSQL wake each other; this is the fallback, which also renews command leases,
    /// sends again and applies deadlines). 50 to 60000.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(50..=60_000))]
    pub orchestrator_sweep_ms: u64,
    /// Where the other replicas of a postgres:// --database reach this one
    /// (http(s)://host:port): a session's data channel that lands on another replica is
    /// relayed here. Default: the listening address (the host name when listening on
    /// 0.0.0.0 or [::]).
    #[arg(long, env = "BOSUN_ADVERTISE_URL", value_name = "URL", value_parser = advertise_url)]
    pub advertise_url: Option<String>,
    /// Shell command `bosun node stop` runs on the node (through AWS-RunShellScript).
    #[arg(long, default_value = "shutdown -h now")]
    pub node_stop_command: String,
    /// Shell command `bosun node restart` runs on the node (through AWS-RunShellScript).
    #[arg(long, default_value = "systemctl reboot")]
    pub node_restart_command: String,
    /// The KMS keyring file for SecureString master keys (default <data-dir>/kms/keyring.json).
    #[arg(long, value_name = "FILE")]
    pub kms_key_file: Option<PathBuf>,
    /// Where state lives: sqlite:<path> (default <data-dir>/bosun.db) or
    /// postgres://user[:password]@host[:port]/dbname (several servers may serve one PostgreSQL
    /// database at once, each with the same --kms-key-file keyring).
    #[arg(
        long,
        env = "BOSUN_DATABASE",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database: Option<String>,
    /// The regions served, comma-separated (default: --region plus every region that already
    /// holds data). Requests signed for any other region are refused, so a mistyped region
    /// never opens an empty namespace.
    #[arg(
        long,
        env = "BOSUN_REGIONS",
        value_delimiter = ',',
        value_name = "REGIONS"
    )]
    pub regions: Vec<String>,
    /// Accepted for old scripts and ignored with a notice: every server on a postgres://
    /// --database now serves as a replica beside the others (no waiting, no takeover needed).
    #[arg(long)]
    pub standby: bool,
    /// Where command output lives: file:///path (default <data-dir>/blobs) or
    /// s3://bucket/prefix?endpoint=http://host:port&region=us-east-1 (credentials from
    /// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); S3 also lets commands use OutputS3BucketName.
    #[arg(long, env = "BOSUN_BLOBS", value_name = "URL")]
    pub blobs: Option<String>,
    /// SMTP relay for SNS email and email-json subscriptions (with --smtp-from); without it
    /// such subscriptions are refused.
    #[arg(
        long,
        env = "BOSUN_SMTP_HOST",
        requires = "smtp_from",
        value_name = "HOST"
    )]
    pub smtp_host: Option<String>,
    /// SMTP port (default 25 for none, 587 for starttls, 465 for tls).
    #[arg(
        long,
        env = "BOSUN_SMTP_PORT",
        requires = "smtp_host",
        value_name = "PORT"
    )]
    pub smtp_port: Option<u16>,
    /// How the SMTP connection is protected: starttls (required, never falls back), tls
    /// (implicit TLS, SMTPS) or none.
    #[arg(
        long,
        env = "BOSUN_SMTP_SECURITY",
        default_value = "starttls",
        value_parser = bosun_server::SmtpSecurity::parse,
        value_name = "none|starttls|tls"
    )]
    pub smtp_security: bosun_server::SmtpSecurity,
    /// SMTP AUTH user (with --smtp-password-file).
    #[arg(
        long,
        env = "BOSUN_SMTP_USER",
        requires_all = ["smtp_host", "smtp_password_file"],
        value_name = "USER"
    )]
    pub smtp_user: Option<String>,
    /// File holding the SMTP AUTH password (one line), readable by the server's user only
    /// (mode 0600; a looser file is refused). The password is never taken on the command line.
    #[arg(
        long,
        env = "BOSUN_SMTP_PASSWORD_FILE",
        requires = "smtp_user",
        value_name = "FILE"
    )]
    pub smtp_password_file: Option<PathBuf>,
    /// The From address of the mails (the topic's DisplayName is the From name).
    #[arg(
        long,
        env = "BOSUN_SMTP_FROM",
        requires = "smtp_host",
        value_name = "ADDRESS"
    )]
    pub smtp_from: Option<String>,
    /// Extra CA certificates (PEM) to trust for the relay's TLS certificate.
    #[arg(
        long,
        env = "BOSUN_SMTP_CA_FILE",
        requires = "smtp_host",
        value_name = "FILE"
    )]
    pub smtp_ca_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum TopCommand {
    /// Run the control plane.
    Server(ServerArgs),
    /// Start a server on embedded defaults with one local agent, and print what to do next.
    Quickstart(ServerArgs),
    /// Print shell `export` lines that point the AWS CLI and bosun at this data dir.
    Env,
    /// List managed nodes.
    Nodes,
    /// Power a node: wake, stop or restart it (--wait to wait until it is done).
    Node {
        #[command(subcommand)]
        command: crate::node::NodeCommand,
    },
    /// Agent releases: publish a bosun-agent binary, list them, set the default (what
    /// AWS-UpdateSSMAgent installs), pin a version for the region or a node tag.
    AgentRelease {
        #[command(subcommand)]
        command: crate::agent_release::AgentReleaseCommand,
    },
    /// Hybrid activations: create, list, delete.
    Activation {
        #[command(subcommand)]
        command: ActivationCommand,
    },
    /// Run a shell command (or a document) on nodes and show their output live.
    Run(RunArgs),
    /// A shell on a node over Session Manager (no SSH), or one command with --command whose exit
    /// status becomes this one's. Linked or installed as `session-manager-plugin`, this binary
    /// also serves `aws ssm start-session`.
    Session(crate::session::SessionArgs),
    /// Forward a local port to a port on a node, or on a host the node reaches, over one
    /// Session Manager port session (every local connection is its own stream).
    PortForward(crate::session::port::PortForwardArgs),
    /// Session Manager sessions: the active ones, or with --history the ended ones.
    Sessions {
        /// Show ended sessions instead of active ones.
        #[arg(long)]
        history: bool,
    },
    /// A session's log: what the node's terminal showed, as text (escape sequences removed
    /// unless --keep-ansi), or with --cast the asciinema v2 recording (`asciinema play`).
    SessionLog {
        /// The session's id (`bosun sessions --history` lists them).
        session_id: String,
        /// Print the asciinema v2 recording itself.
        #[arg(long, conflicts_with = "keep_ansi")]
        cast: bool,
        /// Keep the terminal's escape sequences (colours, cursor moves).
        #[arg(long)]
        keep_ansi: bool,
    },
    /// Recent commands.
    Commands {
        /// How many to show (1-50).
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// One command: show, watch, cancel.
    Command {
        #[command(subcommand)]
        command: CommandCommand,
    },
    /// Documents: create, update, show, list, versions, delete.
    Doc {
        #[command(subcommand)]
        command: DocCommand,
    },
    /// Distributor packages: upload, create, list, install, remove.
    Package {
        #[command(subcommand)]
        command: crate::package_args::PackageCommand,
    },
    /// Maintenance windows: create, add-target, add-task, list, show, execution, delete.
    Window {
        #[command(subcommand)]
        command: crate::window_args::WindowCommand,
    },
    /// SNS deliveries whose retries ran out: list them, send them again (reads the data
    /// directory); or publish a sample event to a topic (test).
    Notify {
        #[command(subcommand)]
        command: crate::notify::NotifyCommand,
    },
    /// Resource groups of nodes by tag (targets as `resource-groups:Name`): create, list, show,
    /// delete.
    Group {
        #[command(subcommand)]
        command: crate::group::GroupCommand,
    },
    /// EventBridge rules and targets, a pattern tried on an event, and the server's events as
    /// they happen (tail reads the data directory, or BOSUN_DATABASE).
    Events {
        #[command(subcommand)]
        command: crate::events::EventsCommand,
    },
    /// Automation runbooks: start (and follow with --wait), show, list, approve, resume, stop.
    Automation {
        #[command(subcommand)]
        command: crate::automation_args::AutomationCommand,
    },
    /// State Manager associations: create, list, show, history, run-now, delete.
    Assoc {
        #[command(subcommand)]
        command: crate::assoc_args::AssocCommand,
    },
    /// Parameter Store.
    Param {
        #[command(subcommand)]
        command: ParamCommand,
    },
    /// Master keys for SecureString parameters (works directly on the keyring file).
    Kms {
        /// The keyring file (default <data-dir>/kms/keyring.json).
        #[arg(long, value_name = "FILE")]
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
        /// The server's --database (sqlite:<path> or postgres://…; default <data-dir>/bosun.db).
        #[arg(
            long,
            env = "BOSUN_DATABASE",
            hide_env_values = true,
            value_name = "URL"
        )]
        database: Option<String>,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Bring a database's schema up to date without starting a server (servers also migrate at
    /// start; this is for operators who run schema changes as a separate step).
    Migrate {
        /// The database: sqlite:<path> or postgres://user[:password]@host[:port]/dbname.
        #[arg(
            long,
            env = "BOSUN_DATABASE",
            hide_env_values = true,
            value_name = "URL"
        )]
        database: String,
    },
    /// Print a shell completion script: bosun completions bash > /etc/bash_completion.d/bosun
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Clone, Debug)]
pub struct RunArgs {
    /// Node ids (comma separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub instance_ids: Vec<String>,
    /// Targets as Key=tag:env,Values=dev[,prod] (repeatable; all must match).
    #[arg(long = "targets", value_parser = run::parse_target, value_name = "Key=…,Values=…")]
    pub targets: Vec<(String, Vec<String>)>,
    /// Every managed node of the region (up to 50; target more by tag).
    #[arg(long, conflicts_with_all = ["instance_ids", "targets"])]
    pub all: bool,
    /// How many nodes run it at once: a number or a percentage (default 50).
    #[arg(long)]
    pub max_concurrency: Option<String>,
    /// How many failures stop sending it to more nodes: a number or a percentage (default 0).
    #[arg(long)]
    pub max_errors: Option<String>,
    /// Delivery timeout in seconds (SendCommand TimeoutSeconds, 30-2592000, default 3600). It
    /// does not bound how long the command runs (that is --execution-timeout): a node that has
    /// not started it by RequestedDateTime + TimeoutSeconds + executionTimeout (AWS's
    /// ExpiresAfter) ends DeliveryTimedOut.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<i32>,
    /// How long the command may run on each node, in seconds (the document's executionTimeout;
    /// default 3600); past it the node ends TimedOut.
    #[arg(long, value_name = "SECONDS")]
    pub execution_timeout: Option<u32>,
    /// Run this document instead of AWS-RunShellScript (its parameters via --param).
    #[arg(long, default_value = "AWS-RunShellScript")]
    pub document: String,
    /// A document parameter, name=value; repeat a name to build a StringList.
    #[arg(long = "param", value_parser = fleet::parse_tag, value_name = "NAME=VALUE")]
    pub params: Vec<(String, String)>,
    /// Document parameters in AWS's JSON form: '{"name": ["value", …]}'.
    #[arg(long, value_name = "JSON")]
    pub param_json: Option<String>,
    /// A comment stored with the command (up to 100 characters).
    #[arg(long)]
    pub comment: Option<String>,
    /// Print the results as JSON on stdout (no live output).
    #[arg(long)]
    pub json: bool,
    /// The shell command (for AWS-RunShellScript), after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Subcommand)]
pub enum ActivationCommand {
    /// Create an activation and print the id, the code and the register command.
    Create {
        /// How many nodes may register with it (1-1000).
        #[arg(long, default_value_t = 1)]
        limit: i32,
        /// Hours until it expires (default: 24, AWS's default).
        #[arg(long)]
        expires_in_hours: Option<u32>,
        /// A description shown by `bosun activation list`.
        #[arg(long)]
        description: Option<String>,
        /// Tags for the activation (and the nodes registered with it): Key=Value.
        #[arg(long = "tag", value_parser = fleet::parse_tag, value_name = "KEY=VALUE")]
        tags: Vec<(String, String)>,
    },
    /// List activations with their use and expiry.
    List,
    /// Delete an activation (nodes registered with it stay registered).
    Delete {
        /// The activation id.
        activation_id: String,
    },
}

#[derive(Subcommand)]
pub enum DocCommand {
    /// Create a document from a YAML or JSON file.
    Create {
        /// The document's name.
        name: String,
        /// The file (.yaml/.yml is YAML, anything else JSON).
        file: PathBuf,
        /// Command, Automation, Package, … (AWS's DocumentType).
        #[arg(long, default_value = "Command")]
        document_type: String,
        /// A label for this version.
        #[arg(long)]
        version_name: Option<String>,
    },
    /// Add a new version from a file.
    Update {
        /// The document's name.
        name: String,
        /// The file (.yaml/.yml is YAML, anything else JSON).
        file: PathBuf,
        /// A label for the new version.
        #[arg(long)]
        version_name: Option<String>,
        /// Also make the new version the default.
        #[arg(long)]
        default: bool,
    },
    /// Print a document's content.
    Show {
        /// The document's name.
        name: String,
        /// A version number (default: the default version).
        #[arg(long)]
        version: Option<String>,
        /// Print it as YAML.
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
    Versions {
        /// The document's name.
        name: String,
    },
    /// Delete a document, or one version of it.
    Delete {
        /// The document's name.
        name: String,
        /// Only this version.
        #[arg(long)]
        version: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ParamCommand {
    /// Create or update a parameter.
    Put {
        /// The parameter's name (/path/name or name).
        name: String,
        /// The value.
        value: String,
        /// String, StringList or SecureString (required when creating).
        #[arg(long = "type")]
        param_type: Option<String>,
        /// Replace an existing parameter (adds a version).
        #[arg(long)]
        overwrite: bool,
        /// A description.
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
        /// A regular expression the value must match.
        #[arg(long)]
        allowed_pattern: Option<String>,
        /// text or aws:ec2:image. An aws:ec2:image value is validated by the server after it
        /// answers (as AWS does); the command waits for the outcome and fails if the
        /// parameter was not created or updated.
        #[arg(long)]
        data_type: Option<String>,
        /// How long to wait for an aws:ec2:image value's validation.
        #[arg(long, default_value_t = 30)]
        wait_seconds: u64,
    },
    /// Print a parameter's value (name, name:version or name:label).
    Get {
        /// The parameter's name, optionally with :version or :label.
        name: String,
        /// Decrypt a SecureString (needs kms:Decrypt on its key).
        #[arg(long)]
        decrypt: bool,
    },
    /// List parameters under a path; --recursive shows a tree.
    Ls {
        /// The path.
        #[arg(default_value = "/")]
        path: String,
        /// Include every level below the path, as a tree.
        #[arg(long, short)]
        recursive: bool,
    },
    /// Every version of a parameter.
    History {
        /// The parameter's name.
        name: String,
        /// Show SecureString values decrypted.
        #[arg(long)]
        decrypt: bool,
    },
    /// Attach labels to a version (default: the latest).
    Label {
        /// The parameter's name.
        name: String,
        /// The version to label.
        #[arg(long)]
        version: Option<i64>,
        /// The labels.
        #[arg(required = true)]
        labels: Vec<String>,
    },
    /// Delete parameters.
    Rm {
        /// The parameters' names.
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
pub enum KmsCommand {
    /// Create a master key, optionally with an alias (alias/name).
    CreateKey {
        /// An alias: alias/name.
        #[arg(long)]
        alias: Option<String>,
    },
    /// List the master keys (ids and aliases, never key material).
    ListKeys,
}

#[derive(Subcommand)]
pub enum CommandCommand {
    /// Show a command with its invocations and their whole output.
    Show {
        /// The command id.
        command_id: String,
    },
    /// Follow a running command until it ends, like `bosun run` does.
    Watch {
        /// The command id.
        command_id: String,
        /// Print the results as JSON on stdout (no live output).
        #[arg(long)]
        json: bool,
    },
    /// Ask the server to cancel a command on every node that has not finished it.
    Cancel {
        /// The command id.
        command_id: String,
    },
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create a user.
    CreateUser {
        /// The user's name.
        name: String,
    },
    /// List users with their keys and policies.
    ListUsers,
    /// Create an access key for a user and print it once (or write it as a credentials file);
    /// the database keeps the secret only sealed.
    CreateKey {
        /// The user's name.
        user: String,
        /// Write an AWS shared-credentials file (mode 0600) instead of printing.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// List access keys (ids and state, never secrets).
    ListKeys {
        /// Only this user's keys.
        #[arg(long)]
        user: Option<String>,
    },
    /// Deactivate an access key: calls signed with it are refused from now on.
    DeactivateKey {
        /// The access key id.
        access_key_id: String,
    },
    /// Delete an access key.
    DeleteKey {
        /// The access key id.
        access_key_id: String,
    },
    /// Attach (or replace) an IAM-style JSON policy on a user.
    PutPolicy {
        /// The user's name.
        user: String,
        /// The policy's name.
        policy_name: String,
        /// The policy document (JSON file).
        #[arg(long)]
        file: PathBuf,
    },
    /// Detach a policy from a user.
    DeletePolicy {
        /// The user's name.
        user: String,
        /// The policy's name.
        policy_name: String,
    },
    /// Tag a user, e.g. `SSMSessionRunAs=deploy`: the OS user Session Manager runs the user's
    /// sessions as when the session preferences enable runAsEnabled.
    TagUser {
        /// The user's name.
        user: String,
        /// KEY=VALUE (repeatable).
        #[arg(required = true, value_parser = crate::fleet::parse_tag, value_name = "KEY=VALUE")]
        tags: Vec<(String, String)>,
    },
    /// Remove tags from a user.
    UntagUser {
        /// The user's name.
        user: String,
        /// Tag keys.
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Check the audit trail's hash chain.
    VerifyAudit,
    /// Replace the agent release key (server stopped): the old key signs the hand-over agents
    /// follow, and every release is re-signed with the new key.
    RotateReleaseKey,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand and every flag or argument of every subcommand says what it is.
    #[test]
    fn every_flag_has_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && id != "version" && arg.get_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "bosun", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
        super::Cli::command().debug_assert();
    }
}
