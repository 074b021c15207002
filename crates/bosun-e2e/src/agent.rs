//! A real `bosun-agent` process with its own state dir.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::process::{Child, Command};

use crate::bin;

pub struct Agent {
    pub state_dir: PathBuf,
    pub instance_id: String,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

/// Run `bosun-agent register`; `Err(stderr)` when it is refused.
pub async fn register(
    server_url: &str,
    activation_id: &str,
    code: &str,
    region: Option<&str>,
    extra: &[&str],
) -> Result<Agent, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let state_dir = dir.path().join("state");
    let mut cmd = Command::new(bin("bosun-agent"));
    cmd.arg("register")
        .arg("--state-dir")
        .arg(&state_dir)
        .args([
            "--server",
            server_url,
            "--id",
            activation_id,
            "--code",
            code,
        ])
        .args(extra)
        .env("RUST_BACKTRACE", "0");
    if let Some(r) = region {
        cmd.args(["--region", r]);
    }
    let out = cmd.output().await.expect("run bosun-agent register");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let instance_id = stdout
        .split_whitespace()
        .find(|w| w.starts_with("mi-"))
        .unwrap_or_else(|| panic!("no node id in {stdout:?}"))
        .to_string();
    Ok(Agent {
        state_dir,
        instance_id,
        child: None,
        _dir: dir,
    })
}

impl Agent {
    /// Start `bosun-agent run`.
    pub fn start(&mut self) {
        self.start_with_env(&[]);
    }

    /// Start `bosun-agent run` with extra environment variables (the test-only
    /// `BOSUN_AGENT_BOOT_ID_FILE`, `BOSUN_AGENT_TEST_INTERFACES`).
    pub fn start_with_env(&mut self, env: &[(&str, &str)]) {
        let log = std::fs::File::create(self.state_dir.with_extension("log")).expect("agent log");
        let child = Command::new(bin("bosun-agent"))
            .arg("run")
            .arg("--state-dir")
            .arg(&self.state_dir)
            .env("RUST_BACKTRACE", "0")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("spawn bosun-agent run");
        self.child = Some(child);
    }

    /// Write the agent's config file (`<state-dir>/agent.json`), used from the next start.
    pub fn configure(&self, json: &str) {
        std::fs::write(self.state_dir.join("agent.json"), json).expect("write agent.json");
    }

    /// The node's orchestration folder (command working folders).
    pub fn orchestration_dir(&self) -> PathBuf {
        self.state_dir
            .join(&self.instance_id)
            .join("document/orchestration")
    }

    /// The running agent's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(|c| c.id())
    }

    /// SIGKILL the running agent and reap it.
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().await.expect("kill agent");
        }
    }

    /// Wait for the running agent to exit by itself; returns (success, its log).
    pub async fn wait_exit(&mut self) -> (bool, String) {
        let mut c = self.child.take().expect("agent is running");
        let status = c.wait().await.expect("wait agent");
        (status.success(), self.log())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.state_dir.with_extension("log")).unwrap_or_default()
    }

    /// Run `bosun-agent run` to completion (for starts that must be refused).
    pub async fn run_once(&self) -> (bool, String) {
        let out = Command::new(bin("bosun-agent"))
            .arg("run")
            .arg("--state-dir")
            .arg(&self.state_dir)
            .env("RUST_BACKTRACE", "0")
            .output()
            .await
            .expect("run bosun-agent");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}
