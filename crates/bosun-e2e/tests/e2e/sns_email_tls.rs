//! The SMTP relay over STARTTLS and implicit TLS with AUTH (aiosmtpd with a throwaway CA given
//! to the server by `--smtp-ca-file`): mails go out encrypted and authenticated, a wrong
//! password fails the delivery without the password ever reaching the server's log, and a
//! password file others can read stops the server at start.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bosun_e2e::poll::wait_for;
use bosun_e2e::smtp::MailSink;
use bosun_e2e::TestServer;

const LIMIT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "s3cr3t-Pa55word";

/// A throwaway CA and a certificate for 127.0.0.1 signed by it: (ca, cert, key).
fn make_certificates(dir: &Path) -> (String, String, String) {
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    for step in [
        "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=bosun-test-ca -keyout ca.key -out ca.pem",
        "req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost -keyout key.pem -out leaf.csr",
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile leaf.ext -out cert.pem",
    ] {
        let out = std::process::Command::new("openssl")
            .args(step.split(' '))
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {step}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (p("ca.pem"), p("cert.pem"), p("key.pem"))
}

fn password_file(dir: &Path, name: &str, password: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{password}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn server_args(sink: &MailSink, security: &str, ca: &str, password: &Path) -> Vec<String> {
    [
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &sink.port.to_string(),
        "--smtp-security",
        security,
        "--smtp-ca-file",
        ca,
        "--smtp-user",
        "bosun",
        "--smtp-password-file",
        password.to_str().unwrap(),
        "--smtp-from",
        "bosun@example.test",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

async fn subscribe_to_a_new_topic(server: &TestServer, to: &str) {
    let topic = server
        .aws(&["sns", "create-topic", "--name", "t"])
        .expect("create-topic")["TopicArn"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .aws(&[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            to,
        ])
        .expect("subscribe");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_goes_out_over_starttls_and_implicit_tls_with_auth() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certificates(dir.path());
    let good = password_file(dir.path(), "pw", PASSWORD, 0o600);
    let auth = format!("bosun:{PASSWORD}");
    for (security, option) in [("starttls", "--starttls"), ("tls", "--smtps")] {
        let Some(sink) = MailSink::start_with(&[option, &cert, &key, "--auth", &auth]).await else {
            return;
        };
        let args = server_args(&sink, security, &ca, &good);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let server = TestServer::start_with(&args).await;
        subscribe_to_a_new_topic(&server, "ops@example.test").await;
        let mail = sink.wait("ops@example.test", 1, LIMIT).await;
        assert_eq!(
            mail.subject(),
            "AWS Notification - Subscription Confirmation"
        );
        assert!(mail.tls, "{security}: the session was encrypted");
        assert_eq!(mail.auth_user.as_deref(), Some("bosun"), "{security}");
        assert!(!server.log().contains(PASSWORD), "{}", server.log());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_fails_the_delivery_and_is_never_logged() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certificates(dir.path());
    let wrong = password_file(dir.path(), "pw", "not-the-Pa55word", 0o600);
    let auth = format!("bosun:{PASSWORD}");
    let Some(sink) = MailSink::start_with(&["--starttls", &cert, &key, "--auth", &auth]).await
    else {
        return;
    };
    let args = server_args(&sink, "starttls", &ca, &wrong);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = TestServer::start_with_env(&args, &[("BOSUN_LOG", "debug")]).await;
    subscribe_to_a_new_topic(&server, "ops@example.test").await;
    wait_for("a failed attempt", LIMIT, || async {
        server
            .log()
            .contains("SNS delivery attempt failed")
            .then_some(())
    })
    .await;
    let log = server.log();
    assert!(!log.contains("not-the-Pa55word"), "{log}");
    assert!(sink.mails().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_file_others_can_read_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let loose = password_file(dir.path(), "pw", PASSWORD, 0o644);
    let out = tokio::process::Command::new(bosun_e2e::bin("bosun"))
        .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .args([
            "--smtp-host",
            "127.0.0.1",
            "--smtp-security",
            "none",
            "--smtp-user",
            "bosun",
            "--smtp-password-file",
        ])
        .arg(&loose)
        .args(["--smtp-from", "bosun@example.test"])
        .output()
        .await
        .expect("run bosun server");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chmod 600"), "{err}");
    assert!(!err.contains(PASSWORD), "{err}");
}
