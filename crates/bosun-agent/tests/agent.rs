//! The agent binary's own behaviour: clear refusals, private key files, TLS to the server.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use aws_sdk_ssm::types::PingStatus;
use bosun_e2e::agent::register;
use bosun_e2e::{bin, wait_for, TestServer};
use tokio::process::Command;

#[tokio::test]
async fn run_without_registration_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin("bosun-agent"))
        .args(["run", "--state-dir"])
        .arg(dir.path())
        .env("RUST_BACKTRACE", "0")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("register this node first"), "{err}");
}

#[tokio::test]
async fn register_against_nothing_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin("bosun-agent"))
        .args([
            "register",
            "--server",
            "http://127.0.0.1:1",
            "--id",
            "x",
            "--code",
            "y",
            "--state-dir",
        ])
        .arg(dir.path())
        .env("RUST_BACKTRACE", "0")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("connecting to ws://127.0.0.1:1"));
    assert!(!dir.path().join("identity.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_connects_over_tls_and_keeps_its_key_private() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certificates(certs.path()).await;
    let server = TestServer::start_with(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ])
    .await;
    assert!(server.url.starts_with("https://"));

    // The SDK trusts the self-signed certificate through an explicit trust store.
    let (akid, secret) = server.admin_credentials();
    let client = tls_client(&server.url, &ca, &akid, &secret);
    let out = client
        .create_activation()
        .iam_role("r")
        .send()
        .await
        .expect("CreateActivation over TLS");
    let (id, code) = (out.activation_id.unwrap(), out.activation_code.unwrap());

    // Without the CA the agent refuses the self-signed certificate.
    let refused = register(&server.url, &id, &code, None, &[])
        .await
        .err()
        .unwrap();
    assert!(refused.contains("connecting to wss://"), "{refused}");
    let mut agent = register(
        &server.url,
        &id,
        &code,
        None,
        &["--ca-file", ca.to_str().unwrap()],
    )
    .await
    .expect("register over TLS");
    let mode = std::fs::metadata(agent.state_dir.join("identity.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    agent.start();
    wait_for(
        "the TLS node to be Online",
        Duration::from_secs(20),
        || async {
            let out = client.describe_instance_information().send().await.unwrap();
            out.instance_information_list()
                .iter()
                .any(|n| {
                    n.instance_id() == Some(agent.instance_id.as_str())
                        && n.ping_status() == Some(&PingStatus::Online)
                })
                .then_some(())
        },
    )
    .await;
}

fn tls_client(url: &str, ca: &std::path::Path, akid: &str, secret: &str) -> aws_sdk_ssm::Client {
    use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
    let pem = std::fs::read(ca).unwrap();
    let tls = aws_smithy_http_client::tls::TlsContext::builder()
        .with_trust_store(
            aws_smithy_http_client::tls::TrustStore::empty().with_pem_certificate(pem),
        )
        .build()
        .unwrap();
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(tls)
        .build_https();
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(akid, secret, None, None, "e2e"))
        .http_client(http)
        .build();
    aws_sdk_ssm::Client::from_conf(config)
}

/// A throwaway CA and a server certificate for 127.0.0.1 signed by it: (ca, cert, key).
async fn make_certificates(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let p = |n: &str| dir.join(n);
    std::fs::write(
        p("leaf.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let steps: [Vec<String>; 3] = [
        "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=bosun-test-ca -keyout ca.key -out ca.pem",
        "req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost -keyout key.pem -out leaf.csr",
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile leaf.ext -out cert.pem",
    ]
    .map(|s| s.split(' ').map(str::to_string).collect());
    for args in steps {
        let out = Command::new("openssl")
            .args(&args)
            .current_dir(dir)
            .output()
            .await
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (p("ca.pem"), p("cert.pem"), p("key.pem"))
}

#[tokio::test]
async fn config_defaults_print_a_valid_config_with_aws_key_names() {
    let out = Command::new(bin("bosun-agent"))
        .args(["config", "defaults"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["Mds"]["CommandWorkersLimit"], 5);
    assert!(v["Ssm"]["RunCommandLogsRetentionDurationHours"].is_number());
    assert!(v["Ssm"]["OrchestrationDirectoryMaxMegabytes"].is_number());
    // The printed defaults are themselves a valid config file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent.json");
    std::fs::write(&file, text.as_bytes()).unwrap();
    let check = Command::new(bin("bosun-agent"))
        .args(["config", "check"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

/// `config check FILE` accepts exactly what `run --config FILE` accepts.
#[tokio::test]
async fn config_check_and_run_accept_and_refuse_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let agent = |args: Vec<std::ffi::OsString>| async move {
        let out = Command::new(bin("bosun-agent"))
            .args(args)
            .env("RUST_BACKTRACE", "0")
            .output()
            .await
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let cases = [
        ("missing.json", None, "cannot read"),
        (
            "range.json",
            Some(r#"{"Mds": {"CommandWorkersLimit": 0}}"#),
            "Mds.CommandWorkersLimit = 0 is out of range; allowed: 1 to 1000",
        ),
        (
            "negative.json",
            Some(r#"{"Ssm": {"OrchestrationDirectoryMaxEntries": -1}}"#),
            "allowed: 1 to 1000000",
        ),
        (
            "reboot.json",
            Some(r#"{"Agent": {"AllowReboot": true, "RebootCommand": ""}}"#),
            "Agent.RebootCommand must not be empty",
        ),
    ];
    for (name, text, message) in cases {
        let file = dir.path().join(name);
        if let Some(text) = text {
            std::fs::write(&file, text).unwrap();
        }
        let (ok, err) = agent(vec!["config".into(), "check".into(), file.clone().into()]).await;
        assert!(!ok && err.contains(message), "check {name}: {err}");
        let (ok, err) = agent(vec![
            "run".into(),
            "--state-dir".into(),
            state.clone().into(),
            "--config".into(),
            file.into(),
        ])
        .await;
        assert!(!ok && err.contains(message), "run {name}: {err}");
    }
    // A good file passes check; run then gets past the config (to the missing registration).
    let good = dir.path().join("good.json");
    std::fs::write(&good, r#"{"Mds": {"CommandWorkersLimit": 1000}}"#).unwrap();
    let (ok, err) = agent(vec!["config".into(), "check".into(), good.clone().into()]).await;
    assert!(ok, "{err}");
    let (ok, err) = agent(vec![
        "run".into(),
        "--state-dir".into(),
        state.into(),
        "--config".into(),
        good.into(),
    ])
    .await;
    assert!(!ok && err.contains("register this node first"), "{err}");
}
