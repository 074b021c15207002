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
        }
    }
}

impl ServerConfig {
    /// A node is `ConnectionLost` after this long without a heartbeat.
    pub fn heartbeat_timeout(&self) -> Duration {
        self.heartbeat_interval * 3
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("bosun.db")
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
