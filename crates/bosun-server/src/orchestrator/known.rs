//! The invocations this replica has seen exist, so each chunk of a node's live output does not
//! read its invocation from the store again (a round trip per chunk on PostgreSQL). Only
//! existence is remembered — an invocation row outlives its command's output — and the set is
//! bounded: when full it starts over.

use std::collections::HashSet;
use std::sync::Mutex;

/// Pairs remembered before the set starts over.
const CAPACITY: usize = 200_000;

/// (command, node) pairs known to have an invocation.
#[derive(Default)]
pub struct KnownInvocations {
    pairs: Mutex<HashSet<(String, String)>>,
}

impl KnownInvocations {
    /// Whether the pair is known to exist.
    pub fn contains(&self, command_id: &str, instance_id: &str) -> bool {
        self.lock()
            .contains(&(command_id.to_string(), instance_id.to_string()))
    }

    /// Remember that the pair exists.
    pub fn insert(&self, command_id: &str, instance_id: &str) {
        let mut pairs = self.lock();
        if pairs.len() >= CAPACITY {
            pairs.clear();
        }
        pairs.insert((command_id.to_string(), instance_id.to_string()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<(String, String)>> {
        self.pairs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_pairs_and_starts_over_when_full() {
        let known = KnownInvocations::default();
        assert!(!known.contains("c", "mi-a"));
        known.insert("c", "mi-a");
        assert!(known.contains("c", "mi-a"));
        assert!(!known.contains("c", "mi-b"));
        for n in 0..CAPACITY {
            known.insert("d", &n.to_string());
        }
        assert!(!known.contains("c", "mi-a"), "the full set started over");
        assert!(known.contains("d", &(CAPACITY - 1).to_string()));
    }
}
