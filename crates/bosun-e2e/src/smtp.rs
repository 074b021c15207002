//! A throwaway SMTP server for tests: aiosmtpd (PyPI `aiosmtpd` or Debian's `python3-aiosmtpd`)
//! on a loopback port, run by a small script (`mailsink.py`) that saves each accepted mail as
//! JSON with its headers and body decoded by Python's `email` package. Killed on drop; can be
//! stopped and started again on the same port (an SMTP outage). Tests that need it skip with a
//! message when aiosmtpd is missing, unless `BOSUN_REQUIRE_SMTP=1` (set by `.ci/run`) makes
//! that a failure.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

use crate::wait_for;

const SCRIPT: &str = include_str!("mailsink.py");

/// One mail the sink accepted.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The session was TLS (STARTTLS or implicit).
    pub tls: bool,
    /// The user that authenticated, if any.
    pub auth_user: Option<String>,
    pub rcpt_tos: Vec<String>,
    pub mail_from: String,
    /// The message as it came over the wire.
    pub raw: String,
    /// Headers decoded (RFC 2047 encoded words turned back into text).
    pub headers: serde_json::Map<String, Value>,
    pub charset: Option<String>,
    /// The text/plain body, decoded.
    pub body: String,
}

impl ReceivedMail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    }

    pub fn subject(&self) -> &str {
        self.header("Subject").unwrap_or("")
    }

    pub fn to(&self) -> String {
        self.rcpt_tos.join(",")
    }

    /// The body parsed as JSON (an `email-json` mail).
    pub fn json(&self) -> Value {
        serde_json::from_str(self.body.trim_end()).expect("a JSON mail body")
    }
}

pub struct MailSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// `--starttls CERT KEY`, `--smtps CERT KEY`, `--auth USER:PASS` for mailsink.py.
    options: Vec<String>,
}

fn aiosmtpd_available() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl MailSink {
    /// Start the sink on a free port; `None` (with a message) when aiosmtpd is not installed,
    /// a panic instead under `BOSUN_REQUIRE_SMTP=1`.
    pub async fn start() -> Option<MailSink> {
        Self::start_with(&[]).await
    }

    /// Like [`MailSink::start`], with mailsink.py's options (`--starttls CERT KEY`,
    /// `--smtps CERT KEY`, `--auth USER:PASS`).
    pub async fn start_with(options: &[&str]) -> Option<MailSink> {
        if !aiosmtpd_available() {
            assert!(
                std::env::var("BOSUN_REQUIRE_SMTP").as_deref() != Ok("1"),
                "BOSUN_REQUIRE_SMTP=1 but aiosmtpd is not installed (pip install aiosmtpd)"
            );
            eprintln!("skipping: aiosmtpd is not installed (pip install aiosmtpd)");
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("mailsink.py"), SCRIPT).expect("write mailsink.py");
        let mut sink = MailSink {
            port: 0,
            dir,
            child: None,
            options: options.iter().map(|o| o.to_string()).collect(),
        };
        sink.spawn().await;
        Some(sink)
    }

    fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    async fn spawn(&mut self) {
        let mut child = tokio::process::Command::new("python3")
            .arg(self.dir.path().join("mailsink.py"))
            .arg(self.mail_dir())
            .arg(self.port.to_string())
            .args(&self.options)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn mailsink.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("mailsink.py to listen within 30 s")
            .expect("mailsink.py output")
            .expect("mailsink.py to print its port");
        self.port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("mailsink.py printed {line:?}"));
        self.child = Some(child);
    }

    /// Stop the server: connections to the port are refused until [`MailSink::resume`].
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Listen again on the same port.
    pub async fn resume(&mut self) {
        self.spawn().await;
    }

    /// Every mail accepted so far, in arrival order.
    pub fn mails(&self) -> Vec<ReceivedMail> {
        let Ok(entries) = std::fs::read_dir(self.mail_dir()) else {
            return Vec::new();
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|path| {
                let v: Value =
                    serde_json::from_slice(&std::fs::read(&path).expect("read a mail")).unwrap();
                ReceivedMail {
                    tls: v["tls"].as_bool().unwrap_or(false),
                    auth_user: v["auth_user"].as_str().map(str::to_string),
                    rcpt_tos: v["rcpt_tos"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r.as_str().map(str::to_string))
                        .collect(),
                    mail_from: v["mail_from"].as_str().unwrap_or("").to_string(),
                    raw: v["raw"].as_str().unwrap_or("").to_string(),
                    headers: v["headers"].as_object().cloned().unwrap_or_default(),
                    charset: v["charset"].as_str().map(str::to_string),
                    body: v["body"].as_str().unwrap_or("").to_string(),
                }
            })
            .collect()
    }

    /// Mails to `to` so far.
    pub fn mails_to(&self, to: &str) -> Vec<ReceivedMail> {
        self.mails().into_iter().filter(|m| m.to() == to).collect()
    }

    /// Wait until `to` has received at least `n` mails; the `n`th.
    pub async fn wait(&self, to: &str, n: usize, limit: Duration) -> ReceivedMail {
        wait_for(&format!("mail #{n} to {to}"), limit, || async {
            self.mails_to(to).into_iter().nth(n - 1)
        })
        .await
    }

    /// Follow the link of the confirmation mail `to` received first, as a reader would: the
    /// `email` subscription of `to` is confirmed.
    pub async fn confirm(&self, server: &crate::TestServer, to: &str, limit: Duration) {
        let confirmation = self.wait(to, 1, limit).await;
        assert_eq!(
            confirmation.subject(),
            "AWS Notification - Subscription Confirmation",
            "a confirmation is never templated"
        );
        let link = confirmation
            .body
            .lines()
            .find(|l| l.starts_with("http://"))
            .expect("a link in the confirmation")
            .to_string();
        let r = crate::http::get(&server.addr, &link[server.url.len()..])
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// The server flags that send mail here over plain SMTP from `from`.
    pub fn server_args(&self, from: &str) -> Vec<String> {
        [
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &self.port.to_string(),
            "--smtp-security",
            "none",
            "--smtp-from",
            from,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }
}
