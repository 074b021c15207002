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
    /// `--standby` (PostgreSQL): wait for the serving server to stop instead of refusing to
    /// start beside it, then serve.
    pub standby: bool,
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

    pub fn credentials_path(&self) -> PathBuf {
        self.data_dir.join("credentials")
    }

    /// File the server writes its bound address to once it accepts connections.
    pub fn kms_keyring_path(&self) -> PathBuf {
        self.kms_key_file
            .clone()
            .unwrap_or_else(|| crate::kms::Keyring::default_path(&self.data_dir))
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
            default.database(),
            Ok(Database::Sqlite(default.database_path()))
        );
    }
}
