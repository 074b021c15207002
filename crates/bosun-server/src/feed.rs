//! Live command output for watchers (`bosun run`): agents' output chunks fan out to whoever
//! subscribed to that command. Nothing is buffered for absent watchers; the blob store keeps
//! the full output.

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
}

impl OutputFeed {
    pub fn subscribe(&self, command_id: &str) -> broadcast::Receiver<FeedItem> {
        let mut map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(command_id.to_string())
            .or_insert_with(|| broadcast::channel(1024).0)
            .subscribe()
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
