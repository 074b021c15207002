//! A real `bosun server` process on a free loopback port with its own temp data dir.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use tokio::process::{Child, Command};

use crate::{bin, http, wait_for};

pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub addr: String,
    child: Option<Child>,
    extra_args: Vec<String>,
    env: Vec<(String, String)>,
    /// The database this server was given from the shared test cluster because of
    /// `BOSUN_E2E_DATABASE=postgres` (not one a test named): dropped with the server, so one
    /// test binary's cluster does not keep a database per server it ever started.
    owned_database: Option<String>,
}

/// A fresh, migrated database of this test binary's private PostgreSQL (started on first use),
/// as a URL for `--database`; `None` (with a message) when PostgreSQL's binaries are missing,
/// unless `BOSUN_REQUIRE_PG=1`, which makes that a panic.
pub async fn postgres_database() -> Option<String> {
    tokio::task::spawn_blocking(|| {
        bosun_store_pg::testing::PgCluster::shared().map(|c| c.fresh_database())
    })
    .await
    .expect("starting PostgreSQL")
}

/// Read (access key id, secret) from a shared-credentials file's default profile.
pub fn read_credentials(path: &Path) -> (String, String) {
    let text = std::fs::read_to_string(path).expect("credentials file");
    let get = |key: &str| {
        text.lines()
            .find_map(|l| {
                l.split_once('=')
                    .filter(|(k, _)| k.trim() == key)
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| panic!("{key} missing in {}", path.display()))
    };
    (get("aws_access_key_id"), get("aws_secret_access_key"))
}

/// An SDK client for `url` with the given key, in `region`.
pub fn client(url: &str, region: &str, akid: &str, secret: &str) -> aws_sdk_ssm::Client {
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(akid, secret, None, None, "e2e"))
        .build();
    aws_sdk_ssm::Client::from_conf(config)
}

impl TestServer {
    /// Start a server with a 1 s heartbeat (ConnectionLost after 3 s of silence).
    pub async fn start() -> TestServer {
        Self::start_with(&[]).await
    }

    pub async fn start_with(extra_args: &[&str]) -> TestServer {
        Self::start_with_env(extra_args, &[]).await
    }

    /// Start with extra environment variables for the server process (e.g. `BOSUN_LOG=trace`).
    ///
    /// With `BOSUN_E2E_DATABASE=postgres` in the test's environment, a server not given
    /// `--database` gets a fresh database of the test binary's private PostgreSQL, so the same
    /// tests run on the PostgreSQL engine.
    pub async fn start_with_env(extra_args: &[&str], env: &[(&str, &str)]) -> TestServer {
        Self::start_engine(extra_args, env, true).await
    }

    /// A server on the SQLite engine whatever `BOSUN_E2E_DATABASE` says: for tests of what the
    /// SQLite files hold (modes, plaintext scans, rows edited on disk).
    pub async fn start_sqlite_with_env(extra_args: &[&str], env: &[(&str, &str)]) -> TestServer {
        Self::start_engine(extra_args, env, false).await
    }

    async fn start_engine(
        extra_args: &[&str],
        env: &[(&str, &str)],
        postgres_allowed: bool,
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut extra_args: Vec<String> = extra_args.iter().map(|s| s.to_string()).collect();
        let mut owned_database = None;
        if postgres_allowed
            && std::env::var("BOSUN_E2E_DATABASE").as_deref() == Ok("postgres")
            && !extra_args.iter().any(|a| a == "--database")
        {
            let url = postgres_database().await.expect(
                "BOSUN_E2E_DATABASE=postgres needs PostgreSQL's server binaries (initdb, pg_ctl)",
            );
            extra_args.push("--database".into());
            extra_args.push(url.clone());
            owned_database = Some(url);
        }
        let mut s = TestServer {
            dir,
            url: String::new(),
            addr: String::new(),
            child: None,
            extra_args,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            owned_database,
        };
        s.spawn("127.0.0.1:0").await;
        s
    }

    /// Start `bosun server --standby` with `extra_args` (which name the serving server's
    /// `--database`), on a free port chosen now so agents can be given its URL before it serves;
    /// returns at once, while it stands by ([`wait_serving`](Self::wait_serving) waits for it to
    /// take over).
    pub async fn start_standby(extra_args: &[&str]) -> TestServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut extra: Vec<String> = extra_args.iter().map(|s| s.to_string()).collect();
        extra.push("--standby".into());
        let mut s = TestServer {
            dir: tempfile::tempdir().expect("tempdir"),
            url: format!("http://127.0.0.1:{port}"),
            addr: format!("127.0.0.1:{port}"),
            child: None,
            extra_args: extra,
            owned_database: None,
            env: Vec::new(),
        };
        let addr = s.addr.clone();
        s.spawn_child(&addr);
        s
    }

    /// Wait until a standby server took over and answers.
    pub async fn wait_serving(&mut self, limit: Duration) {
        healthy(
            &self.addr,
            "the standby to take over and answer /healthz",
            limit,
        )
        .await;
    }

    /// Stop the server with SIGTERM (an operator's stop, a rolling upgrade) and wait up to
    /// `limit` for it to exit; returns how it exited.
    pub async fn terminate(&mut self, limit: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("the server runs");
        let pid = child.id().expect("a running child has a pid").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill(1)");
        assert!(sent.success(), "kill -TERM {pid}");
        tokio::time::timeout(limit, child.wait())
            .await
            .unwrap_or_else(|_| panic!("the server did not exit within {limit:?} of SIGTERM"))
            .expect("waiting for the server")
    }

    /// Kill the server process with SIGKILL (a crash).
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
        }
    }

    fn spawn_child(&mut self, listen: &str) {
        let child = Command::new(bin("bosun"))
            .args(["server", "--listen", listen, "--heartbeat-seconds", "1"])
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(&self.extra_args)
            .env(
                "BOSUN_LOG",
                std::env::var("BOSUN_TEST_SERVER_LOG").unwrap_or_else(|_| "info".into()),
            )
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.path().join("server.log")).expect("log file"))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn bosun server");
        self.child = Some(child);
    }

    async fn spawn(&mut self, listen: &str) {
        let addr_file = self.data_dir().join("listen-addr");
        let _ = std::fs::remove_file(&addr_file);
        self.spawn_child(listen);
        let addr = wait_for(
            "the server's listen-addr file",
            Duration::from_secs(30),
            || {
                let f = addr_file.clone();
                async move { std::fs::read_to_string(f).ok().filter(|s| !s.is_empty()) }
            },
        )
        .await;
        let scheme = if self.extra_args.iter().any(|a| a == "--tls-cert") {
            "https"
        } else {
            "http"
        };
        self.url = format!("{scheme}://{addr}");
        self.addr = addr.clone();
        if scheme == "http" {
            healthy(&addr, "GET /healthz to answer 200", Duration::from_secs(30)).await;
        }
    }

    /// Read the server's store directly (its SQLite file, or its `--database`), off the async
    /// threads: for checks the API cannot make (stored text, the audit trail).
    pub async fn read_store<T: Send + 'static>(
        &self,
        read: impl FnOnce(&dyn bosun_store::Store) -> T + Send + 'static,
    ) -> T {
        let database = self.database().map(str::to_string);
        let file = self.data_dir().join("bosun.db");
        tokio::task::spawn_blocking(move || {
            let store: Box<dyn bosun_store::Store> = match database {
                Some(url) if url.starts_with("postgres") => Box::new(
                    bosun_store_pg::PgStore::connect(&url)
                        .expect("connect to the server's database"),
                ),
                _ => Box::new(
                    bosun_store::SqliteStore::open(&file).expect("open the server's database"),
                ),
            };
            read(&*store)
        })
        .await
        .expect("store read")
    }

    /// A new user holding `policy` (made with `bosun admin`, as an operator would), and its
    /// key: an SDK client signing as that user, its access key id and secret.
    pub async fn user_with_policy(
        &self,
        user: &str,
        policy: &str,
    ) -> (aws_sdk_ssm::Client, String, String) {
        let dir = self.dir.path();
        let (ok, _, err) = self.cli(&["admin", "create-user", user]).await;
        assert!(ok, "{err}");
        let file = dir.join(format!("{user}.json"));
        std::fs::write(&file, policy).unwrap();
        let file = file.to_str().unwrap();
        let (ok, _, err) = self
            .cli(&["admin", "put-policy", user, "p", "--file", file])
            .await;
        assert!(ok, "{err}");
        let creds = dir.join(format!("{user}.credentials"));
        let creds = creds.to_str().unwrap();
        let (ok, _, err) = self
            .cli(&["admin", "create-key", user, "--output", creds])
            .await;
        assert!(ok, "{err}");
        let (akid, secret) = read_credentials(Path::new(creds));
        (client(&self.url, "us-east-1", &akid, &secret), akid, secret)
    }

    /// The server's `--database`, if it was given one.
    pub fn database(&self) -> Option<&str> {
        let at = self.extra_args.iter().position(|a| a == "--database")?;
        self.extra_args.get(at + 1).map(String::as_str)
    }

    /// The server process's id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(|c| c.id())
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The admin key the server wrote on first start.
    pub fn admin_credentials(&self) -> (String, String) {
        read_credentials(&self.data_dir().join("credentials"))
    }

    /// An SDK client with the admin key in `us-east-1`.
    pub fn client(&self) -> aws_sdk_ssm::Client {
        self.client_in("us-east-1")
    }

    pub fn client_in(&self, region: &str) -> aws_sdk_ssm::Client {
        let (a, s) = self.admin_credentials();
        client(&self.url, region, &a, &s)
    }

    /// Kill the server with SIGKILL and start it again on the same port and data dir.
    pub async fn restart(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
        }
        let addr = self.addr.clone();
        self.spawn(&addr).await;
    }

    /// Like [`restart`](Self::restart), with `extra_args` in place of the ones it started with
    /// (a `--database` it was given is kept).
    pub async fn restart_with(&mut self, extra_args: &[&str]) {
        let database = self
            .extra_args
            .iter()
            .position(|a| a == "--database")
            .map(|i| self.extra_args[i..i + 2].to_vec());
        self.extra_args = extra_args.iter().map(|s| s.to_string()).collect();
        self.extra_args.extend(database.into_iter().flatten());
        self.restart().await;
    }

    /// Run `bosun <args>` against this server's data dir; returns (success, stdout, stderr).
    pub async fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let mut command = Command::new(bin("bosun"));
        if let Some(database) = self.database() {
            // `bosun admin` and `bosun param events` work on the server's store.
            command.env("BOSUN_DATABASE", database);
        }
        let out = command
            .args(args)
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(["--endpoint-url", &self.url])
            .output()
            .await
            .expect("run bosun");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `program` run as this server's admin, the way a script or the AWS CLI would be: the
    /// data dir's `credentials` and `config` files, and no credentials from the environment.
    pub fn as_admin(&self, program: &str) -> std::process::Command {
        let data = self.data_dir();
        let mut cmd = std::process::Command::new(program);
        cmd.env("AWS_SHARED_CREDENTIALS_FILE", data.join("credentials"))
            .env("AWS_CONFIG_FILE", data.join("config"))
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE");
        cmd
    }

    /// Run the AWS CLI (`aws <args>`) against this server with the admin key from the files the
    /// server wrote; returns its JSON answer (`null` when it prints nothing), or its stderr.
    pub fn aws(&self, args: &[&str]) -> Result<serde_json::Value, String> {
        let out = self
            .as_admin("aws")
            .args(args)
            .args([
                "--endpoint-url",
                &self.url,
                "--region",
                "us-east-1",
                "--output",
                "json",
            ])
            .output()
            .expect("the AWS CLI is installed (.ci/run installs it)");
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null))
    }

    /// The server's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for TestServer {
    /// A failing test shows the server's log, so CI failures can be diagnosed.
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "----- bosun server log -----\n{}----- end of server log -----",
                self.log()
            );
            // A failed test's database stays (until the cluster goes) for a look at its rows.
            return;
        }
        if let Some(url) = self.owned_database.take() {
            if let Some(mut child) = self.child.take() {
                let _ = child.start_kill();
            }
            // The cluster's admin calls block on their own runtime: off this (async) thread.
            let dropped = std::thread::spawn(move || {
                if let Some(cluster) = bosun_store_pg::testing::PgCluster::shared() {
                    cluster.drop_database(&url);
                }
            })
            .join();
            if dropped.is_err() {
                eprintln!("could not drop a test server's database");
            }
        }
    }
}

/// Wait until the server at `addr` answers `GET /healthz` with 200.
async fn healthy(addr: &str, what: &str, limit: Duration) {
    wait_for(what, limit, || async move {
        http::get(addr, "/healthz")
            .await
            .ok()
            .filter(|r| r.status == 200)
    })
    .await;
}
