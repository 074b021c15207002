//! PostgreSQL's `LISTEN`/`NOTIFY` as a doorbell between replicas: one dedicated connection per
//! replica (never a pooled one: a pool would hand the `LISTEN` to whichever session it likes)
//! listens on a few channels and sends the notifications this replica asks for.
//!
//! A doorbell only makes replicas notice sooner: every reader keeps polling the tables, so a
//! notification lost while the connection is down costs latency, never work. After each
//! (re)connection the owner hears [`Heard::Connected`] so it can look at everything once.
//! Notifications asked for while the connection is down are dropped, not queued.

use std::time::Duration;

use futures_util::stream::{poll_fn, StreamExt};
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;

use crate::error::PgError;
use crate::options::{describe_target, pg_config, PgOptions};

/// Largest payload PostgreSQL accepts in one notification is 8000 bytes; callers stay below.
pub const MAX_PAYLOAD_BYTES: usize = 7_900;

/// What the listening connection hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// The connection is (again) listening: notifications may have been missed before.
    Connected,
    /// A notification on one of the channels.
    Notice { channel: String, payload: String },
}

/// Sends notifications through the doorbell's connection. Cheap to clone.
#[derive(Clone, Debug)]
pub struct PgDoorbell {
    out: mpsc::UnboundedSender<(&'static str, String)>,
}

impl PgDoorbell {
    /// Start listening on `channels` (plain lower-case identifiers). Spawns the connection task
    /// on the current tokio runtime, so it must be called from within one; returns at once.
    /// The task reconnects with a growing pause (up to 10 s) and ends once the doorbell and all
    /// its clones, or the receiver, are dropped.
    pub fn start(
        url: &str,
        channels: &[&'static str],
    ) -> Result<(PgDoorbell, mpsc::UnboundedReceiver<Heard>), PgError> {
        for c in channels {
            if c.is_empty() || !c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                return Err(PgError::Config(format!(
                    "not a doorbell channel name: {c:?}"
                )));
            }
        }
        let (url, root_cert) = crate::tls::take_root_cert(url);
        let config = pg_config(&url, &PgOptions::default())?;
        let tls = crate::tls::connector(root_cert.as_deref())?;
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let (heard_tx, heard_rx) = mpsc::unbounded_channel();
        let listen = channels
            .iter()
            .map(|c| format!("LISTEN {c};"))
            .collect::<String>();
        tokio::spawn(run(config, tls, listen, out_rx, heard_tx));
        Ok((PgDoorbell { out: out_tx }, heard_rx))
    }

    /// Ask for a notification on `channel` (one the caller may also listen on; PostgreSQL
    /// delivers it to every listening session, this one included). Never blocks; dropped when
    /// the payload is too long or the connection is down.
    pub fn send(&self, channel: &'static str, payload: String) {
        if payload.len() > MAX_PAYLOAD_BYTES {
            tracing::warn!(
                channel,
                bytes = payload.len(),
                "doorbell payload too long; not sent"
            );
            return;
        }
        let _ = self.out.send((channel, payload));
    }
}

type Tls = tokio_postgres_rustls::MakeRustlsConnect;

async fn run(
    config: tokio_postgres::Config,
    tls: Tls,
    listen: String,
    mut out: mpsc::UnboundedReceiver<(&'static str, String)>,
    heard: mpsc::UnboundedSender<Heard>,
) {
    let target = describe_target(&config);
    let mut pause = Duration::from_millis(200);
    loop {
        if heard.is_closed() {
            return;
        }
        match serve_once(&config, &tls, &listen, &mut out, &heard).await {
            Ok(Ended::Dropped) => return,
            Ok(Ended::Lost) => {
                tracing::warn!(database = %target, "the doorbell connection ended; reconnecting");
                pause = Duration::from_millis(200);
            }
            Err(e) => {
                tracing::warn!(database = %target, error = %e, "the doorbell cannot connect; retrying");
            }
        }
        // Anything asked for while disconnected is stale: the readers poll anyway.
        tokio::time::sleep(pause).await;
        while out.try_recv().is_ok() {}
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}

enum Ended {
    /// The connection closed or failed.
    Lost,
    /// Everyone holding the doorbell is gone.
    Dropped,
}

async fn serve_once(
    config: &tokio_postgres::Config,
    tls: &Tls,
    listen: &str,
    out: &mut mpsc::UnboundedReceiver<(&'static str, String)>,
    heard: &mpsc::UnboundedSender<Heard>,
) -> Result<Ended, tokio_postgres::Error> {
    let (client, mut connection) = config.connect(tls.clone()).await?;
    let (closed_tx, mut closed_rx) = tokio::sync::oneshot::channel::<()>();
    let forward = heard.clone();
    tokio::spawn(async move {
        let mut messages = poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let AsyncMessage::Notification(n) = message {
                let notice = Heard::Notice {
                    channel: n.channel().to_string(),
                    payload: n.payload().to_string(),
                };
                if forward.send(notice).is_err() {
                    break;
                }
            }
        }
        let _ = closed_tx.send(());
    });
    client.batch_execute(listen).await?;
    if heard.send(Heard::Connected).is_err() {
        return Ok(Ended::Dropped);
    }
    loop {
        tokio::select! {
            next = out.recv() => {
                let Some((channel, payload)) = next else { return Ok(Ended::Dropped) };
                client
                    .execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
                    .await?;
            }
            _ = &mut closed_rx => return Ok(Ended::Lost),
        }
    }
}
