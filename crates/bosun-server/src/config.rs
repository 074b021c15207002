//! Server settings, with the embedded defaults (`127.0.0.1:8080`, `./bosun-data`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `bosun server` can be told.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Region used when a caller gives none (agents registering without `--region`).
    pub default_region: String,
    pub account_id: String,
    pub tls: Option<TlsConfig>,
    /// How often agents send heartbeats.
    pub heartbeat_interval: Duration,
    /// Allowed SigV4 clock skew.
    pub max_clock_skew: Duration,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// The KMS keyring file (default `<data-dir>/kms/keyring.json`).
    pub kms_key_file: Option<PathBuf>,
    /// How often parameter policies are checked.
    pub policy_interval: Duration,
    /// `--database`: `sqlite:<path>` or `postgres://…`; `None` is `<data-dir>/bosun.db`.
    pub database: Option<String>,
    /// `--regions`: the regions served; empty serves `default_region` plus every region that
    /// already holds data.
    pub regions: Vec<String>,
    /// `--standby` (PostgreSQL): accepted for compatibility; replicas serve one database
    /// together, so it only starts one more replica (it once waited for the serving server).
    pub standby: bool,
    /// `--blobs`: `file:///path` or `s3://bucket/prefix?endpoint=…&region=…`; `None` is
    /// `<data-dir>/blobs`.
    pub blobs: Option<String>,
    /// `--smtp-*`: the mail relay `email`/`email-json` subscriptions are sent through; `None`
    /// refuses such subscriptions.
    pub smtp: Option<SmtpConfig>,
    /// `--node-stop-command`: the shell command `bosun node stop` (and the Automation stop
    /// step) runs on a node through `AWS-RunShellScript`.
    pub node_stop_command: String,
    /// `--node-restart-command`: the shell command a node restart runs there.
    pub node_restart_command: String,
    /// How often the orchestrator looks over active commands without being woken (default
    /// 500 ms). With PostgreSQL, replicas wake each other through the doorbell; this is the
    /// fallback that also renews command leases, resends and applies deadlines.
    pub orchestrator_sweep: Option<Duration>,
    /// `--advertise-url`: where the other replicas reach this one (`http(s)://host:port`), for
    /// session data channels that land on a replica other than the session's; `None` derives it
    /// from the listening address (the host name when listening on every address).
    pub advertise_url: Option<String>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on loopback or a trusted network only).
    None,
    /// STARTTLS, required: never falls back to plain text.
    StartTls,
    /// Implicit TLS from the first byte (SMTPS).
    Tls,
}

impl SmtpSecurity {
    pub fn parse(text: &str) -> Result<SmtpSecurity, String> {
        match text.to_ascii_lowercase().as_str() {
            "none" => Ok(SmtpSecurity::None),
            "starttls" => Ok(SmtpSecurity::StartTls),
            "tls" | "smtps" => Ok(SmtpSecurity::Tls),
            other => Err(format!(
                "unknown SMTP security {other:?}: use none, starttls or tls"
            )),
        }
    }

    /// The usual port: 25, 587 (submission) or 465 (submissions).
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::None => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
        }
    }
}

/// The SMTP relay. The password is never held here: only the path of a file readable by the
/// server's user alone (mode 0600 or stricter), read when the server starts.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// AUTH user; with `password_file`.
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    /// The envelope sender and From address.
    pub from: String,
    /// Extra CA certificates (PEM) trusted for the relay's TLS certificate, beside the
    /// system's.
    pub ca_file: Option<PathBuf>,
}

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file (the embedded default).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its URL (which may hold a password: never log it).
    Postgres(String),
}

impl Database {
    /// Parse `--database`: `sqlite:<path>` (relative paths are relative to the working
    /// directory), `postgres://…` or `postgresql://…`.
    pub fn parse(text: &str) -> Result<Database, String> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(
                    "--database sqlite: needs a file path, e.g. sqlite:./bosun-data/bosun.db"
                        .into(),
                );
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Database::Postgres(text.to_string()));
        }
        Err("--database must be sqlite:<path> or postgres://user@host:port/dbname".into())
    }
}

/// Where command output is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobsLocation {
    /// A local folder (the embedded default, `<data-dir>/blobs`).
    Folder(PathBuf),
    /// An S3-compatible bucket.
    S3(S3Location),
}

/// An S3 bucket (and key prefix) on AWS or an S3-compatible endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Keys start with this (no leading or trailing slash; may be empty).
    pub prefix: String,
    /// `http(s)://host:port` of an S3-compatible server; `None` is AWS.
    pub endpoint: Option<String>,
    pub region: String,
}

impl S3Location {
    pub fn allows_http(&self) -> bool {
        self.endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"))
    }

    /// For logs: `s3://bucket/prefix at endpoint` (holds no credentials).
    pub fn describe(&self) -> String {
        let at = self.endpoint.as_deref().unwrap_or("AWS");
        format!("s3://{}/{} at {at}", self.bucket, self.prefix)
    }
}

impl BlobsLocation {
    /// Parse `--blobs`: `file:///abs/path` (or `file:relative`), or
    /// `s3://bucket[/prefix][?endpoint=http://host:port][&region=us-east-1]`.
    pub fn parse(text: &str) -> Result<BlobsLocation, String> {
        if let Some(path) = text.strip_prefix("file:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(
                    "--blobs file: needs a folder, e.g. file:///var/lib/bosun/blobs".into(),
                );
            }
            return Ok(BlobsLocation::Folder(PathBuf::from(path)));
        }
        let Some(rest) = text.strip_prefix("s3://") else {
            return Err(
                "--blobs must be file:///path or s3://bucket/prefix?endpoint=http://host:port&region=…"
                    .into(),
            );
        };
        let (place, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = place.split_once('/').unwrap_or((place, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Err(format!("--blobs: {bucket:?} is not an S3 bucket name"));
        }
        let mut location = S3Location {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            endpoint: None,
            region: std::env::var("AWS_REGION")
                .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|_| "us-east-1".into()),
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("endpoint", v)) if v.starts_with("http://") || v.starts_with("https://") => {
                    location.endpoint = Some(v.trim_end_matches('/').to_string())
                }
                Some(("region", v)) if !v.is_empty() => location.region = v.to_string(),
                _ => {
                    // Only the setting's name: a value put here by mistake may be a secret.
                    let name = pair.split('=').next().unwrap_or_default();
                    return Err(format!(
                        "--blobs: unknown or malformed setting {name:?} (endpoint=http(s)://host:port, region=…; credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
                    ));
                }
            }
        }
        Ok(BlobsLocation::S3(location))
    }
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("bosun-data"),
            default_region: "us-east-1".into(),
            account_id: "000000000000".into(),
            tls: None,
            heartbeat_interval: Duration::from_secs(20),
            max_clock_skew: Duration::from_secs(300),
            max_body_bytes: 1024 * 1024,
            kms_key_file: None,
            policy_interval: Duration::from_secs(1),
            database: None,
            regions: Vec::new(),
            standby: false,
            blobs: None,
            smtp: None,
            node_stop_command: "shutdown -h now".into(),
            node_restart_command: "systemctl reboot".into(),
            orchestrator_sweep: None,
            advertise_url: None,
        }
    }
}

impl ServerConfig {
    /// A node is `ConnectionLost` after this long without a heartbeat.
    pub fn heartbeat_timeout(&self) -> Duration {
        self.heartbeat_interval * 3
    }

    /// The SQLite file of the default store (`<data-dir>/bosun.db`).
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("bosun.db")
    }

    /// Where the store lives: `--database`, else the SQLite file in the data dir.
    pub fn database(&self) -> Result<Database, String> {
        match &self.database {
            Some(text) => Database::parse(text),
            None => Ok(Database::Sqlite(self.database_path())),
        }
    }

    /// Where command output lives: `--blobs`, else `<data-dir>/blobs`.
    pub fn blobs(&self) -> Result<BlobsLocation, String> {
        match &self.blobs {
            Some(text) => BlobsLocation::parse(text),
            None => Ok(BlobsLocation::Folder(self.data_dir.join("blobs"))),
        }
    }

    pub fn credentials_path(&self) -> PathBuf {
        self.data_dir.join("credentials")
    }

    /// File the server writes its bound address to once it accepts connections.
    pub fn kms_keyring_path(&self) -> PathBuf {
        self.kms_key_file
            .clone()
            .unwrap_or_else(|| crate::kms::Keyring::default_path(&self.data_dir))
    }

    /// Where the other replicas reach this one, listening on `bound` (the actual address).
    pub fn replica_url(&self, bound: SocketAddr) -> String {
        if let Some(url) = &self.advertise_url {
            return url.trim_end_matches('/').to_string();
        }
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let host = if bound.ip().is_unspecified() {
            nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
                .unwrap_or_else(|| "localhost".into())
        } else {
            match bound.ip() {
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                ip => ip.to_string(),
            }
        };
        format!("{scheme}://{host}:{}", bound.port())
    }

    pub fn listen_addr_path(&self) -> PathBuf {
        self.data_dir.join("listen-addr")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_name_their_engine() {
        assert_eq!(
            Database::parse("sqlite:./x/bosun.db"),
            Ok(Database::Sqlite(PathBuf::from("./x/bosun.db")))
        );
        assert_eq!(
            Database::parse("sqlite:///var/lib/bosun.db"),
            Ok(Database::Sqlite(PathBuf::from("/var/lib/bosun.db")))
        );
        assert!(matches!(
            Database::parse("postgres://bosun@db:5432/bosun"),
            Ok(Database::Postgres(_))
        ));
        assert!(matches!(
            Database::parse("postgresql://bosun@db/bosun"),
            Ok(Database::Postgres(_))
        ));
        for bad in ["", "sqlite:", "mysql://x", "bosun.db"] {
            assert!(Database::parse(bad).is_err(), "{bad}");
        }
        let default = ServerConfig::default();
        assert_eq!(
            default.blobs(),
            Ok(BlobsLocation::Folder(default.data_dir.join("blobs")))
        );
        assert_eq!(
            default.database(),
            Ok(Database::Sqlite(default.database_path()))
        );
    }

    #[test]
    fn blobs_urls_name_a_folder_or_a_bucket() {
        assert_eq!(
            BlobsLocation::parse("file:///var/lib/bosun/blobs"),
            Ok(BlobsLocation::Folder(PathBuf::from("/var/lib/bosun/blobs")))
        );
        assert_eq!(
            BlobsLocation::parse(
                "s3://bosun-out/fleet/a/?endpoint=http://127.0.0.1:9000/&region=eu-west-1"
            ),
            Ok(BlobsLocation::S3(S3Location {
                bucket: "bosun-out".into(),
                prefix: "fleet/a".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: "eu-west-1".into(),
            }))
        );
        let Ok(BlobsLocation::S3(plain)) = BlobsLocation::parse("s3://bosun-out") else {
            panic!("a bare bucket is a location");
        };
        assert_eq!((plain.prefix.as_str(), plain.endpoint), ("", None));
        for bad in [
            "",
            "file:",
            "s3://",
            "s3://B",
            "s3://ok-bucket?endpoint=ftp://x",
            "s3://ok-bucket?secret=x",
            "/tmp/x",
        ] {
            assert!(BlobsLocation::parse(bad).is_err(), "{bad}");
        }
    }
}
