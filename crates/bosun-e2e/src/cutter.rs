//! A TCP forwarder on loopback whose open connections can be cut at once (both ends dropped),
//! as a NAT timeout or a closed laptop lid does, while new connections still go through: for
//! testing clients that reconnect.

use std::sync::{Arc, Mutex};

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
