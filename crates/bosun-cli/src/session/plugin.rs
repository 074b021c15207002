//! `session-manager-plugin`: the `bosun` binary installed (or linked) under the stock plugin's
//! name, with its command-line contract, so `aws ssm start-session --endpoint-url …` works on a
//! host without AWS's plugin.
//!
//! The AWS CLI first runs `session-manager-plugin --version`; a version above 1.2.497.0 makes it
//! pass the StartSession answer in the environment variable named by the first argument
//! (`AWS_SSM_START_SESSION_RESPONSE…`) instead of on the command line, where other users could
//! read the token. Then: `<answer JSON | variable name> <region> StartSession <profile>
//! <request JSON> <endpoint URL>`. Unlike AWS's plugin, which always exits 0, this one exits with
//! the remote exit status (the AWS CLI then reports "returned non-zero exit status N" and exits
//! 255), or 0 for a session that ended without one.

use anyhow::{anyhow, bail, Context};

use crate::client::Connection;

/// What `--version` prints: four numeric parts, above the AWS CLI's environment-variable threshold.
pub const PLUGIN_VERSION: &str = "1.2.707.0";

/// Whether this process was started under the plugin's name.
pub fn invoked_as_plugin() -> bool {
    std::env::args_os()
        .next()
        .and_then(|arg0| {
            std::path::Path::new(&arg0)
                .file_name()
                .map(|n| n.to_string_lossy().starts_with("session-manager-plugin"))
        })
        .unwrap_or(false)
}

/// Runs the plugin contract; returns the process exit status.
pub async fn main(args: Vec<String>) -> anyhow::Result<u8> {
    match args.as_slice() {
        [] => {
            println!(
                "The Session Manager plugin (Bosun) is installed. Use `aws ssm start-session` or `bosun session` to start a session."
            );
            Ok(0)
        }
        [flag] if flag == "--version" => {
            println!("{PLUGIN_VERSION}");
            Ok(0)
        }
        [answer, region, operation, profile, request, endpoint] if operation == "StartSession" => {
            let answer = read_answer(answer)?;
            let conn = connection(endpoint, region, profile)?;
            let field = |name: &str| {
                answer[name]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| anyhow!("the StartSession answer has no {name}"))
            };
            let (session_id, stream_url, token) =
                (field("SessionId")?, field("StreamUrl")?, field("TokenValue")?);
            let request: serde_json::Value =
                serde_json::from_str(request).context("the StartSession request is not JSON")?;
            let document = request["DocumentName"].as_str().unwrap_or_default();
            if document.starts_with("AWS-StartPortForwardingSession") {
                let local_port = request["Parameters"]["localPortNumber"][0]
                    .as_str()
                    .unwrap_or("0")
                    .parse::<u16>()
                    .context("localPortNumber is not a port number")?;
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", local_port))
                    .await
                    .with_context(|| format!("listening on 127.0.0.1:{local_port}"))?;
                println!("Starting session with SessionId: {session_id}");
                println!("Port {} opened for sessionId {session_id}.", listener.local_addr()?.port());
                println!("Waiting for connections...");
                return super::port::forward(&conn, &stream_url, &token, listener).await;
            }
            if document == "AWS-StartSSHSession" {
                // ssh's ProxyCommand: stdout is ssh's protocol stream, so nothing else is printed.
                return super::stdio::forward_stdio(&conn, &stream_url, &token).await;
            }
            let ending = super::attach(&conn, &stream_url, &token, true)
                .await
                .with_context(|| format!("session {session_id}"))?;
            println!("\r\n\r\nExiting session with sessionId: {session_id}.\r\n");
            Ok(ending.exit_code.map(|_| super::exit_status(&ending)).unwrap_or(0))
        }
        _ => bail!(
            "usage: session-manager-plugin <StartSession answer | variable name> <region> StartSession <profile> <request> <endpoint URL>"
        ),
    }
}

fn read_answer(arg: &str) -> anyhow::Result<serde_json::Value> {
    let text = if arg.starts_with("AWS_SSM_START_SESSION_RESPONSE") {
        let value = std::env::var(arg).with_context(|| format!("${arg} is not set"))?;
        // Taken once: nothing this process starts should inherit the token.
        std::env::remove_var(arg);
        value
    } else {
        arg.to_owned()
    };
    serde_json::from_str(&text).context("the StartSession answer is not JSON")
}

/// The connection the plugin signs its data channel upgrade with: the endpoint and region the
/// AWS CLI passed, and the keys of `profile` found as `bosun` finds them.
fn connection(endpoint: &str, region: &str, profile: &str) -> anyhow::Result<Connection> {
    crate::client::ClientArgs {
        endpoint_url: Some(endpoint.to_owned()),
        region: Some(region.to_owned()),
        profile: (!profile.is_empty()).then(|| profile.to_owned()),
        ..Default::default()
    }
    .connect()
}
