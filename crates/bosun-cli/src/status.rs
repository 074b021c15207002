//! What `bosun run` says while it waits: how many nodes are done (and how), running, queued by
//! rate control, `Delayed`, or offline (`ConnectionLost`), as one line.

use crate::style::{for_status, paint};

/// One node's invocation as the poll saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeState {
    pub instance_id: String,
    /// The invocation's `Status`.
    pub status: String,
    /// The node's `PingStatus`, when it was looked up.
    pub ping: Option<String>,
}

/// Counts for the status line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    pub ok: usize,
    pub failed: usize,
    pub running: usize,
    pub queued: usize,
    pub delayed: usize,
    /// Waiting nodes the server has lost (`ConnectionLost` or `Inactive`).
    pub offline: Vec<String>,
    /// The command's status (`Pending`, `InProgress`, `Cancelling`, …).
    pub command_status: String,
}

/// Whether an invocation status is final.
pub fn is_final(status: &str) -> bool {
    !matches!(status, "Pending" | "InProgress" | "Delayed" | "Cancelling")
}

/// Whether a waiting node is unreachable.
fn offline(ping: Option<&str>) -> bool {
    matches!(ping, Some("ConnectionLost" | "Inactive"))
}

impl Summary {
    pub fn of(command_status: &str, total: usize, nodes: &[NodeState]) -> Self {
        let mut s = Summary {
            total: total.max(nodes.len()),
            command_status: command_status.to_string(),
            ..Summary::default()
        };
        for n in nodes {
            match n.status.as_str() {
                "Success" => s.ok += 1,
                "InProgress" | "Cancelling" => s.running += 1,
                "Pending" | "Delayed" if offline(n.ping.as_deref()) => {
                    s.offline.push(n.instance_id.clone())
                }
                "Pending" => s.queued += 1,
                "Delayed" => s.delayed += 1,
                _ => s.failed += 1,
            }
        }
        s
    }

    pub fn done(&self) -> usize {
        self.ok + self.failed
    }

    /// The line, coloured when `colours`.
    pub fn render(&self, colours: bool) -> String {
        let mut parts = vec![format!("{}/{} done", self.done(), self.total)];
        let mut outcome = Vec::new();
        if self.ok > 0 {
            outcome.push(paint(
                colours,
                for_status("Success"),
                &format!("{} ok", self.ok),
            ));
        }
        if self.failed > 0 {
            outcome.push(paint(
                colours,
                for_status("Failed"),
                &format!("{} failed", self.failed),
            ));
        }
        if !outcome.is_empty() {
            parts[0] = format!("{} ({})", parts[0], outcome.join(", "));
        }
        if self.running > 0 {
            parts.push(paint(
                colours,
                for_status("running"),
                &format!("{} running", self.running),
            ));
        }
        if self.queued > 0 {
            parts.push(format!("{} queued", self.queued));
        }
        if self.delayed > 0 {
            parts.push(paint(
                colours,
                for_status("Delayed"),
                &format!("{} delayed", self.delayed),
            ));
        }
        if !self.offline.is_empty() {
            let mut names: Vec<&str> = self.offline.iter().take(3).map(String::as_str).collect();
            if self.offline.len() > 3 {
                names.push("…");
            }
            parts.push(paint(
                colours,
                for_status("offline"),
                &format!("{} offline ({})", self.offline.len(), names.join(", ")),
            ));
        }
        format!(
            "[{}] {}",
            parts.join(", "),
            paint(
                colours,
                for_status(&self.command_status),
                &self.command_status
            )
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, status: &str, ping: Option<&str>) -> NodeState {
        NodeState {
            instance_id: id.into(),
            status: status.into(),
            ping: ping.map(str::to_string),
        }
    }

    #[test]
    fn counts_each_kind_of_wait() {
        let nodes = [
            node("mi-1", "Success", None),
            node("mi-2", "Failed", None),
            node("mi-3", "InProgress", None),
            node("mi-4", "Pending", Some("Online")),
            node("mi-5", "Pending", Some("ConnectionLost")),
            node("mi-6", "Delayed", Some("Online")),
        ];
        let s = Summary::of("InProgress", 6, &nodes);
        assert_eq!(
            s.render(false),
            "[2/6 done (1 ok, 1 failed), 1 running, 1 queued, 1 delayed, 1 offline (mi-5)] InProgress"
        );
        let coloured = s.render(true);
        assert!(coloured.contains("\u{1b}[32m1 ok"), "{coloured:?}");
        assert!(coloured.contains("\u{1b}[33m1 offline"), "{coloured:?}");
    }

    #[test]
    fn many_offline_nodes_are_abridged() {
        let nodes: Vec<NodeState> = (0..5)
            .map(|i| node(&format!("mi-{i}"), "Pending", Some("ConnectionLost")))
            .collect();
        let line = Summary::of("Pending", 5, &nodes).render(false);
        assert_eq!(line, "[0/5 done, 5 offline (mi-0, mi-1, mi-2, …)] Pending");
        assert!(is_final("Cancelled") && !is_final("Delayed"));
    }
}
