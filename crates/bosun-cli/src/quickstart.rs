//! `bosun quickstart`: a server on embedded defaults plus one local agent, in one command.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context};
use bosun_server::{RunningServer, ServerConfig};
use tokio::process::{Child, Command};

use crate::client::{read_credentials, sdk_client};

/// The `bosun-agent` binary: next to this executable, else on `PATH`.
pub fn agent_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("bosun-agent")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("bosun-agent"))
}

async fn register_local_agent(
    server: &RunningServer,
    url: &str,
    state_dir: &Path,
) -> anyhow::Result<()> {
    let cfg = &server.config;
    let (akid, secret) = read_credentials(&cfg.credentials_path(), "default")
        .context("quickstart needs the admin credentials the server wrote on first start")?;
    let client = sdk_client(url, &cfg.default_region, &akid, &secret);
    let out = client
        .create_activation()
        .iam_role("BosunManagedNode")
        .description("bosun quickstart local node")
        .default_instance_name("quickstart")
        .send()
        .await
        .map_err(|e| anyhow::anyhow!(crate::client::describe_error(&e)))?;
    let mut register = Command::new(agent_binary());
    with_inherited_umask(&mut register);
    let status = register
        .arg("register")
        .arg("--state-dir")
        .arg(state_dir)
        .args(["--server", url])
        .args(["--id", out.activation_id().unwrap_or_default()])
        .args(["--code", out.activation_code().unwrap_or_default()])
        .status()
        .await
        .context(
            "running bosun-agent register (build it with `cargo build --release --workspace`)",
        )?;
    if !status.success() {
        bail!("bosun-agent register failed ({status})");
    }
    Ok(())
}

/// Give the agent the umask quickstart was started with, not the server's private 0077 (the
/// agent keeps its own state private itself; the commands it runs should not inherit 0077).
fn with_inherited_umask(cmd: &mut Command) {
    if let Some(mask) = bosun_server::datadir::inherited_umask() {
        let mode = nix::sys::stat::Mode::from_bits_truncate(mask as nix::libc::mode_t);
        // SAFETY: runs in the forked child before exec and only calls umask(2), which is
        // async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                nix::sys::stat::umask(mode);
                Ok(())
            });
        }
    }
}

fn spawn_agent(state_dir: &Path) -> anyhow::Result<Child> {
    let mut cmd = Command::new(agent_binary());
    with_inherited_umask(&mut cmd);
    cmd.arg("run")
        .arg("--state-dir")
        .arg(state_dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    // The local agent belongs to this quickstart: if quickstart dies without cleaning up
    // (SIGKILL), the kernel stops the agent too instead of leaving it reconnecting forever.
    // SAFETY: the closure runs in the forked child before exec and only calls prctl(2),
    // which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                .map_err(std::io::Error::from)
        });
    }
    cmd.spawn().context("starting bosun-agent run")
}

pub async fn run(config: ServerConfig) -> anyhow::Result<()> {
    let server = bosun_server::start(config).await?;
    let url = format!("http://{}", server.addr);
    let data_dir = std::path::absolute(&server.config.data_dir)?;
    let state_dir = data_dir.join("agent");
    if !crate::quickstart_identity_exists(&state_dir) {
        register_local_agent(&server, &url, &state_dir).await?;
    }
    let mut agent = spawn_agent(&state_dir)?;
    print!("{}", next_steps(&url, &data_dir, &state_dir));
    println!("Press Ctrl-C to stop.");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        status = agent.wait() => eprintln!("the local agent exited: {status:?}"),
    }
    let _ = agent.start_kill();
    server.shutdown().await
}

/// What quickstart prints once it is up: the shortest way to use it from here.
pub fn next_steps(url: &str, data_dir: &Path, state_dir: &Path) -> String {
    let here = std::env::current_dir()
        .ok()
        .is_some_and(|cwd| cwd.join("bosun-data") == data_dir);
    let mut t = String::new();
    t.push_str(&format!(
        "\nBosun is running at {url} with its data in {}.\n",
        data_dir.display()
    ));
    t.push_str(&format!(
        "A local agent registered from {} is connecting.\n\n",
        state_dir.display()
    ));
    if here {
        t.push_str("In another terminal, from this folder (no flags needed):\n");
    } else {
        t.push_str(&format!(
            "In another terminal, after  export BOSUN_DATA_DIR={}\n",
            data_dir.display()
        ));
    }
    t.push_str("  bosun nodes\n  bosun run --all -- uname -a\n");
    t.push_str("  bosun activation create      (to add another node)\n");
    t.push_str("The AWS CLI reads the endpoint and key from the files Bosun wrote:\n");
    t.push_str(&format!(
        "  AWS_CONFIG_FILE={} AWS_SHARED_CREDENTIALS_FILE={} aws ssm describe-instance-information\n",
        data_dir.join("config").display(),
        data_dir.join("credentials").display()
    ));
    t.push_str("  (or once per shell: eval \"$(bosun env)\")\n\n");
    t
}
