//! A throwaway S3 endpoint for tests: `moto_server` (from PyPI's `moto[server]`) on a free
//! loopback port, in memory, killed on drop. Tests that need it skip with a message when
//! `moto_server` is missing, unless `BOSUN_REQUIRE_S3=1` (set by `.ci/run`) makes that a
//! failure. Buckets and objects are made and read with the AWS CLI, as an operator would.

use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::process::Child;

use crate::{http, wait_for};

/// Credentials moto accepts (any), passed to the server and the AWS CLI.
pub const ACCESS_KEY: &str = "bosun-test";
pub const SECRET_KEY: &str = "bosun-test-secret";

pub struct MotoServer {
    pub port: u16,
    child: Option<Child>,
    log: tempfile::NamedTempFile,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn moto_available() -> bool {
    Command::new("moto_server")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl MotoServer {
    /// Start moto on a free port and wait until it answers; `None` (with a message) when
    /// `moto_server` is not installed, a panic instead under `BOSUN_REQUIRE_S3=1`.
    pub async fn start() -> Option<MotoServer> {
        if !moto_available() {
            assert!(
                std::env::var("BOSUN_REQUIRE_S3").as_deref() != Ok("1"),
                "BOSUN_REQUIRE_S3=1 but moto_server is not installed (pip install 'moto[server]')"
            );
            eprintln!("skipping: moto_server is not installed (pip install 'moto[server]')");
            return None;
        }
        let mut m = MotoServer {
            port: free_port(),
            child: None,
            log: tempfile::NamedTempFile::new().expect("log file"),
        };
        m.spawn().await;
        Some(m)
    }

    async fn spawn(&mut self) {
        let child = tokio::process::Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(self.log.reopen().expect("log file"))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn moto_server");
        self.child = Some(child);
        let addr = self.addr();
        wait_for("moto_server to answer", Duration::from_secs(30), || {
            let addr = addr.clone();
            async move { http::get(&addr, "/").await.ok() }
        })
        .await;
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// `--blobs` for a bucket (and prefix) on this endpoint.
    pub fn blobs_url(&self, bucket_and_prefix: &str) -> String {
        format!(
            "s3://{bucket_and_prefix}?endpoint={}&region=us-east-1",
            self.endpoint()
        )
    }

    /// The environment a server (or the AWS CLI) needs for this endpoint.
    pub fn env(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ]
    }

    /// Kill it (its objects are gone: moto keeps them in memory) and wait for the exit.
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
        }
    }

    /// Start it again on the same port (empty).
    pub async fn restart(&mut self) {
        self.kill().await;
        self.spawn().await;
    }

    /// Run `aws --endpoint-url <moto> <args>`; (success, stdout, stderr).
    pub fn aws(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new("aws")
            .args(["--endpoint-url", &self.endpoint()])
            .args(args)
            .envs(self.env())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .expect("run the AWS CLI");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn create_bucket(&self, bucket: &str) {
        let (ok, _, err) = self.aws(&["s3api", "create-bucket", "--bucket", bucket]);
        assert!(ok, "create-bucket {bucket}: {err}");
    }

    /// An object's bytes (`aws s3api get-object`), `None` when it cannot be read.
    pub fn get_object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        let path = file.path().to_str().expect("utf-8 path").to_string();
        let (ok, _, _) = self.aws(&[
            "s3api",
            "get-object",
            "--bucket",
            bucket,
            "--key",
            key,
            &path,
        ]);
        ok.then(|| std::fs::read(&path).expect("read the object"))
    }

    /// Keys under `prefix` in `bucket`.
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let (ok, out, err) = self.aws(&[
            "s3api",
            "list-objects-v2",
            "--bucket",
            bucket,
            "--prefix",
            prefix,
            "--output",
            "json",
        ]);
        assert!(ok, "list-objects-v2: {err}");
        let v: serde_json::Value =
            serde_json::from_str(if out.trim().is_empty() { "{}" } else { &out }).expect("JSON");
        v["Contents"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|o| o["Key"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}
