//! A small HTTP/1.1 file server on a loopback port, for tests of plugins that download: fixed
//! paths with fixed bodies, optional HTTP Basic credentials, and a count of requests served.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What one path answers.
#[derive(Clone)]
pub struct Route {
    pub body: Vec<u8>,
    /// `Authorization` header value required (e.g. `Basic dTpw`); others get 401.
    pub authorization: Option<String>,
}

pub struct WebServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    served: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl WebServer {
    /// Serve `routes` (path → route); unknown paths answer 404.
    pub async fn start(routes: HashMap<String, Route>) -> WebServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let served = Arc::new(AtomicUsize::new(0));
        let routes = Arc::new(routes);
        let count = served.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let (routes, count) = (routes.clone(), count.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let auth = head.lines().find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("authorization")
                            .then(|| v.trim().to_string())
                    });
                    count.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = match routes.get(&path) {
                        None => ("404 Not Found", b"not found".to_vec()),
                        Some(r) if r.authorization.is_some() && r.authorization != auth => {
                            ("401 Unauthorized", b"who are you".to_vec())
                        }
                        Some(r) => ("200 OK", r.body.clone()),
                    };
                    let reply = format!(
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = conn.write_all(reply.as_bytes()).await;
                    let _ = conn.write_all(&body).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        WebServer { url, served, task }
    }

    /// Requests answered so far.
    pub fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
