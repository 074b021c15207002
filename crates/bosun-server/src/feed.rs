//! Live command output for watchers (`bosun run`): agents' output chunks fan out to whoever
//! subscribed to that command, here or — through the doorbell (`crate::doorbell`) — on another
//! replica that said it has watchers. Nothing is buffered for absent watchers; the blob store
//! keeps the full output.

use std::collections::HashMap;
use std::sync::Mutex;

use bosun_proto::command::Stream;
use tokio::sync::broadcast;

/// One piece of output as a watcher sees it.
#[derive(Debug, Clone)]
pub struct FeedItem {
    pub instance_id: String,
    pub stream: Stream,
    /// Byte offset of `data` in the stream (watchers detect gaps with it).
    pub offset: u64,
    pub data: Vec<u8>,
}

#[derive(Default)]
pub struct OutputFeed {
    channels: Mutex<HashMap<String, broadcast::Sender<FeedItem>>>,
    /// Commands followed on other replicas, until when (Unix ms) this one forwards their output.
    elsewhere: Mutex<HashMap<String, i64>>,
}

impl OutputFeed {
    pub fn subscribe(&self, command_id: &str) -> broadcast::Receiver<FeedItem> {
        let mut map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(command_id.to_string())
            .or_insert_with(|| broadcast::channel(1024).0)
            .subscribe()
    }

    /// Another replica has watchers of `command_id`: forward its output until `until_ms`.
    /// Whether this is news (no live watch of it was known).
    pub fn watched_elsewhere_until(&self, command_id: &str, now_ms: i64, until_ms: i64) -> bool {
        let mut map = self.elsewhere.lock().unwrap_or_else(|p| p.into_inner());
        let known = map.get(command_id).is_some_and(|u| *u > now_ms);
        map.insert(command_id.to_string(), until_ms);
        !known
    }

    /// Whether output of `command_id` is to be forwarded to other replicas at `now_ms`
    /// (forgets watches not renewed in time).
    pub fn watched_elsewhere(&self, command_id: &str, now_ms: i64) -> bool {
        let mut map = self.elsewhere.lock().unwrap_or_else(|p| p.into_inner());
        if map.is_empty() {
            return false;
        }
        map.retain(|_, until| *until > now_ms);
        map.contains_key(command_id)
    }

    pub fn publish(
        &self,
        command_id: &str,
        instance_id: &str,
        stream: Stream,
        offset: u64,
        data: &[u8],
    ) {
        let mut map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = map.get(command_id) {
            if tx.receiver_count() == 0 {
                map.remove(command_id);
            } else {
                let _ = tx.send(FeedItem {
                    instance_id: instance_id.to_string(),
                    stream,
                    offset,
                    data: data.to_vec(),
                });
            }
        }
    }
}
