//! A TCP forwarder on loopback whose open connections can be cut at once (both ends dropped),
//! as a NAT timeout or a closed laptop lid does, while new connections still go through: for
//! testing clients that reconnect. [`Cutter::start_routed`] is a load balancer that sends
//! session data channels to another server than everything else.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards `127.0.0.1:<port>` to a target address.
pub struct Cutter {
    /// `127.0.0.1:<port>`.
    pub addr: String,
    open: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Cutter {
    /// Start forwarding to `target` (`host:port`).
    pub async fn start(target: &str) -> Cutter {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap().to_string();
        let open: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (target, conns) = (target.to_string(), open.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                conns.lock().unwrap().push(pipe);
            }
        });
        Cutter { addr, open, accept }
    }

    /// Forward to `target`, except HTTP requests for a session data channel
    /// (`/v1/data-channel/…`), which go to `data_channels`: as a load balancer may spread one
    /// client's connections over several servers.
    pub async fn start_routed(target: &str, data_channels: &str) -> Cutter {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap().to_string();
        let open: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (target, other, conns) = (target.to_string(), data_channels.to_string(), open.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let (target, other) = (target.clone(), other.clone());
                let pipe = tokio::spawn(async move {
                    // The request line decides; it arrives whole in the first read here.
                    let mut first = vec![0u8; 4096];
                    let Ok(n) = inbound.read(&mut first).await else {
                        return;
                    };
                    first.truncate(n);
                    let line = String::from_utf8_lossy(&first);
                    let line = line.lines().next().unwrap_or_default();
                    let to = if line.contains(" /v1/data-channel/") {
                        other
                    } else {
                        target
                    };
                    if let Ok(mut outbound) = TcpStream::connect(&to).await {
                        if outbound.write_all(&first).await.is_ok() {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    }
                });
                conns.lock().unwrap().push(pipe);
            }
        });
        Cutter { addr, open, accept }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drop every connection open now (both of its sockets); later ones go through.
    pub fn cut(&self) -> usize {
        let open: Vec<_> = self.open.lock().unwrap().drain(..).collect();
        let n = open.iter().filter(|p| !p.is_finished()).count();
        for p in open {
            p.abort();
        }
        n
    }
}

impl Drop for Cutter {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
