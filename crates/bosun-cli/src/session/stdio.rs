//! A port session carried on standard input and output: what `AWS-StartSSHSession` is for, as
//! ssh's `ProxyCommand` (`ssh -o ProxyCommand='aws ssm start-session --target %h --document-name
//! AWS-StartSSHSession --parameters portNumber=%p' user@mi-…`). The agent runs it in basic mode
//! (one connection, raw bytes), so stdin's bytes go to the node's port and the port's bytes come
//! out on stdout. Input is read only after the handshake; stdin's end ends the session.

use std::io::{Read, Write};

use tokio::sync::mpsc;

use super::channel::{self, Input, Output};
use crate::client::Connection;

/// Bytes read from stdin at a time (one data channel message each).
const CHUNK: usize = 16 * 1024;

/// Runs an open port session on stdin/stdout until it ends; the exit status is 0 (as AWS's
/// plugin's), or an error when the data channel failed.
pub async fn forward_stdio(conn: &Connection, stream_url: &str, token: &str) -> anyhow::Result<u8> {
    let headers = crate::output::signed_headers(conn, &stream_url.replacen("ws", "http", 1))?;
    let (input_tx, input_rx) = mpsc::channel::<Input>(64);
    let (output_tx, mut output_rx) = mpsc::channel::<Output>(64);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    // Plain threads for the standard streams (blocking reads and writes).
    let writer = tokio::task::spawn_blocking(move || {
        let mut ready = Some(ready_tx);
        let mut stdout = std::io::stdout().lock();
        while let Some(out) = output_rx.blocking_recv() {
            match out {
                Output::Ready => {
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(());
                    }
                }
                Output::Data(bytes) => {
                    if stdout.write_all(&bytes).is_err() || stdout.flush().is_err() {
                        return;
                    }
                }
            }
        }
    });
    // Not awaited at the end: a read of stdin cannot be interrupted.
    std::thread::spawn(move || {
        if ready_rx.blocking_recv().is_err() {
            return;
        }
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; CHUNK];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if input_tx
                        .blocking_send(Input::Bytes(buf[..n].to_vec()))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
        // ssh closed its end: the session is over.
        let _ = input_tx.blocking_send(Input::Terminate);
    });
    let ending = channel::run(stream_url, token, headers, input_rx, output_tx, CHUNK).await;
    let _ = writer.await;
    // A normal end says nothing: stderr is ssh's user's terminal.
    ending?;
    Ok(0)
}
