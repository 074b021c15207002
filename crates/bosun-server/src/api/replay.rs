//! Replay protection beyond AWS: an identical signed mutating request seen again inside the
//! clock-skew window gets the first response back and has no second effect.

use std::collections::HashMap;
use std::sync::Mutex;

/// A response remembered for a signature.
#[derive(Clone)]
pub struct CachedResponse {
    pub status: u16,
    pub body: String,
    pub error_type: Option<&'static str>,
}

/// What a claim found.
pub enum Claim {
    /// First sight: execute the request, then call `complete`.
    New,
    /// Seen and answered: send this response again.
    Done(CachedResponse),
    /// Seen and still executing.
    InFlight,
    /// Too many requests in the window to remember another one.
    Full,
}

pub struct ReplayCache {
    ttl_ms: i64,
    max_entries: usize,
    entries: Mutex<HashMap<String, (i64, Option<CachedResponse>)>>,
}

impl ReplayCache {
    pub fn new(ttl_ms: i64, max_entries: usize) -> Self {
        Self {
            ttl_ms,
            max_entries,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Claim a signature before executing its request.
    pub fn claim(&self, signature: &str, now_ms: i64) -> Claim {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(signature) {
            Some((expires, Some(r))) if *expires > now_ms => return Claim::Done(r.clone()),
            Some((expires, None)) if *expires > now_ms => return Claim::InFlight,
            _ => {}
        }
        if entries.len() >= self.max_entries {
            entries.retain(|_, (expires, _)| *expires > now_ms);
            if entries.len() >= self.max_entries {
                return Claim::Full;
            }
        }
        entries.insert(signature.to_string(), (now_ms + self.ttl_ms, None));
        Claim::New
    }

    /// Remember the response of a claimed request.
    pub fn complete(&self, signature: &str, response: CachedResponse) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = entries.get_mut(signature) {
            entry.1 = Some(response);
        }
    }
}
