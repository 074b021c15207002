//! A real `bosun-agent` process with its own state dir.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::process::{Child, Command};

use crate::bin;

pub struct Agent {
    pub state_dir: PathBuf,
    pub instance_id: String,
    child: Option<Child>,
    _adopted: Adopted,
    _dir: tempfile::TempDir,
}

/// Kills, when the agent is dropped, an agent process an update's rollback started on its
/// state dir (this harness did not start it, so `kill_on_drop` does not reach it).
struct Adopted(PathBuf);

impl Drop for Adopted {
    fn drop(&mut self) {
        kill_recorded(&self.0);
    }
}

/// SIGKILL the agent recorded in `<state>/agent.pid` if it runs on this state dir.
fn kill_recorded(state_dir: &std::path::Path) {
    let Some(pid) = std::fs::read_to_string(state_dir.join("agent.pid"))
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
    else {
        return;
    };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let state = state_dir.as_os_str().as_encoded_bytes();
    if cmdline.windows(state.len()).any(|w| w == state) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// A new node registered with a fresh activation (made through `client`), reaching the server
/// at `server_url` (a forwarder or load balancer in front of it); not started.
pub async fn register_through(client: &aws_sdk_ssm::Client, server_url: &str) -> Agent {
    let activation = client
        .create_activation()
        .iam_role("BosunNode")
        .send()
        .await
        .expect("CreateActivation");
    register(
        server_url,
        activation.activation_id().unwrap(),
        activation.activation_code().unwrap(),
        None,
        &[],
    )
    .await
    .expect("register")
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
        _adopted: Adopted(state_dir.clone()),
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
        self.start_binary(&bin("bosun-agent"), env);
    }

    /// Start `bosun-agent run` from another copy of the binary (agent update tests replace
    /// it).
    pub fn start_binary(&mut self, exe: &std::path::Path, env: &[(&str, &str)]) {
        let log = std::fs::File::create(self.state_dir.with_extension("log")).expect("agent log");
        let child = Command::new(exe)
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

    /// SIGKILL the running agent (and one an update's rollback started) and reap it.
    pub async fn kill(&mut self) {
        self.kill_adopted();
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
        let mut log =
            std::fs::read_to_string(self.state_dir.with_extension("log")).unwrap_or_default();
        // An agent an update's rollback started logs next to its state.
        if let Ok(more) = std::fs::read_to_string(self.state_dir.join("agent-restarted.log")) {
            log.push_str(&more);
        }
        log
    }

    /// The pid the running agent recorded (`<state>/agent.pid`): the process this harness
    /// started, or one an update's rollback started.
    pub fn recorded_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.state_dir.join("agent.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Kill an agent process this harness did not start (one an update's rollback started)
    /// if it runs on this state dir.
    fn kill_adopted(&self) {
        if self.recorded_pid().is_some() && self.recorded_pid() != self.pid() {
            kill_recorded(&self.state_dir);
        }
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

/// Copy the built agent to `dest` (0755) with `version` written into its version slot: a real
/// second build of the agent that reports another version, without recompiling.
pub fn versioned_agent_binary(dest: &std::path::Path, version: &str) {
    use std::os::unix::fs::PermissionsExt;
    const MARKER: &[u8] = b"@@BOSUN_AGENT_VERSION_SLOT@@";
    let mut bytes = std::fs::read(bin("bosun-agent")).expect("read bosun-agent");
    assert!(version.len() <= 32 && !version.is_empty());
    let mut patched = 0;
    let mut i = 0;
    while let Some(at) = bytes[i..]
        .windows(MARKER.len())
        .position(|w| w == MARKER)
        .map(|p| p + i)
    {
        let slot = at + MARKER.len();
        if bytes.len() >= slot + 36 && bytes[slot..slot + 36].iter().all(|b| *b == 0) {
            bytes[slot..slot + version.len()].copy_from_slice(version.as_bytes());
            patched += 1;
        }
        i = at + 1;
    }
    assert_eq!(patched, 1, "the agent binary has one empty version slot");
    std::fs::write(dest, &bytes).expect("write the agent copy");
    std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
