//! A real HTTP subscriber on loopback for SNS deliveries: it records every request and
//! answers 200, can stop and resume listening on the same port, and waits for the n-th request
//! of a kind (`x-amz-sns-message-type`) with a deadline.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::poll::wait_for;

/// One request the subscriber received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// An HTTP subscriber on a fixed loopback port that records every POST and answers 200.
pub struct Subscriber {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Subscriber {
    pub async fn start() -> Subscriber {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut s = Subscriber {
            port,
            received: Arc::default(),
            task: None,
        };
        s.serve(listener);
        s
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn serve(&mut self, listener: TcpListener) {
        let received = self.received.clone();
        self.task = Some(tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let received = received.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head_end, length) = loop {
                        match conn.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
                            let length = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            break (p + 4, length);
                        }
                    };
                    while buf.len() < head_end + length {
                        match conn.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                    let mut lines = head.lines();
                    let path = lines
                        .next()
                        .and_then(|l| l.split_whitespace().nth(1))
                        .unwrap_or("")
                        .to_string();
                    let headers = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .collect();
                    let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into();
                    received.lock().unwrap().push(Received {
                        path,
                        headers,
                        body,
                    });
                    let _ = conn
                        .write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        )
                        .await;
                    let _ = conn.shutdown().await;
                });
            }
        }));
    }

    /// Stop listening: connections to the port are refused until [`Subscriber::resume`].
    pub async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    pub async fn resume(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }

    pub fn at(&self, path: &str) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Wait for the `n`th request of `kind` to `path`.
    pub async fn wait(&self, path: &str, kind: &str, n: usize, limit: Duration) -> Received {
        wait_for(&format!("{kind} #{n} at {path}"), limit, || async {
            self.at(path)
                .into_iter()
                .filter(|r| r.header("x-amz-sns-message-type") == Some(kind))
                .nth(n - 1)
        })
        .await
    }
}

/// Create topic `name` on `server`, subscribe `sub`'s `path` over http and confirm it by
/// following the SubscribeURL it receives, as a subscriber would; the topic's ARN.
pub async fn confirmed_topic(
    server: &crate::TestServer,
    sub: &Subscriber,
    name: &str,
    path: &str,
    limit: Duration,
) -> String {
    let topic = server
        .aws(&["sns", "create-topic", "--name", name])
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
            "http",
            "--notification-endpoint",
            &sub.url(path),
        ])
        .expect("subscribe");
    let confirmation = sub.wait(path, "SubscriptionConfirmation", 1, limit).await;
    let subscribe_url = confirmation.json()["SubscribeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let confirmed = crate::http::get(&server.addr, &subscribe_url[server.url.len()..])
        .await
        .unwrap();
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    topic
}

/// Make rule `name` on `server`'s default bus with `pattern` (AWS CLI `events put-rule`) and
/// give it SNS `topic` as its one target (`put-targets`), which gets whole events.
pub fn rule_to_topic(server: &crate::TestServer, name: &str, pattern: &Value, topic: &str) {
    server
        .aws(&[
            "events",
            "put-rule",
            "--name",
            name,
            "--event-pattern",
            &pattern.to_string(),
        ])
        .expect("put-rule");
    let targets = serde_json::json!([{"Id": "t", "Arn": topic}]).to_string();
    let put = server
        .aws(&[
            "events",
            "put-targets",
            "--rule",
            name,
            "--targets",
            &targets,
        ])
        .expect("put-targets");
    assert_eq!(put["FailedEntryCount"], 0, "{put}");
}

/// Publish `message` to SNS `topic` with the AWS CLI (a marker after awaited events: anything
/// else the rule matched arrives before it).
pub fn publish(server: &crate::TestServer, topic: &str, message: &str) {
    server
        .aws(&["sns", "publish", "--topic-arn", topic, "--message", message])
        .expect("publish");
}

/// The `Message` of every SNS `Notification` `sub` received at `path`, in arrival order.
pub fn messages(sub: &Subscriber, path: &str) -> Vec<String> {
    sub.at(path)
        .into_iter()
        .filter(|r| r.header("x-amz-sns-message-type") == Some("Notification"))
        .filter_map(|r| r.json()["Message"].as_str().map(str::to_string))
        .collect()
}
