//! Ending a session's processes and finding the ones that escaped, from `/proc`.
//!
//! A session's leader is started with `setsid`, so its pid is its process group and its session
//! id. Members are the processes in that group or that session (an interactive shell puts each
//! job in a group of its own, still in its session). Processes that carry the session's
//! environment marker but left both (`setsid`, daemons) have escaped: they are listed, not
//! killed.

use std::fs;
use std::time::Duration;

use bosun_proto::session::EscapedProcess;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::process::SESSION_MARKER;

/// How often the group is looked at while waiting for it to go.
const POLL: Duration = Duration::from_millis(20);

/// `(pid, pgid, sid, state)` of a live process, from `/proc/<pid>/stat`.
fn stat(pid: i32) -> Option<(i32, i32, char)> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields follow the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgid = fields.next()?.parse().ok()?;
    let sid = fields.next()?.parse().ok()?;
    Some((pgid, sid, state))
}

fn pids() -> Vec<i32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Live (not zombie) members of the session led by `leader`.
pub fn members(leader: i32) -> Vec<i32> {
    pids()
        .into_iter()
        .filter(|&pid| {
            stat(pid).is_some_and(|(pgid, sid, state)| {
                (pgid == leader || sid == leader) && state != 'Z' && state != 'X'
            })
        })
        .collect()
}

fn signal_members(leader: i32, signal: Signal) {
    let _ = kill(Pid::from_raw(-leader), signal);
    for pid in members(leader) {
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

/// Send `signal` to the whole group/session now.
pub fn signal_group(leader: i32, signal: Signal) {
    if leader > 0 {
        signal_members(leader, signal);
    }
}

/// SIGHUP every member, then SIGKILL whatever is left after `grace`; returns once none is left
/// (or a few seconds after SIGKILL, for processes stuck in the kernel).
pub async fn end_group(leader: i32, grace: Duration) {
    if leader <= 0 || members(leader).is_empty() {
        return;
    }
    signal_members(leader, Signal::SIGHUP);
    if wait_empty(leader, grace).await {
        return;
    }
    signal_members(leader, Signal::SIGKILL);
    wait_empty(leader, Duration::from_secs(5)).await;
}

/// Wait until the group has no live member; `false` when `limit` passed first.
pub async fn wait_empty(leader: i32, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if members(leader).is_empty() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Live processes carrying the session's marker outside its group and session.
pub fn escaped(session_id: &str, leader: i32) -> Vec<EscapedProcess> {
    let marker = format!("{SESSION_MARKER}={session_id}");
    let mut out = Vec::new();
    for pid in pids() {
        let Some((pgid, sid, state)) = stat(pid) else {
            continue;
        };
        if pgid == leader || sid == leader || state == 'Z' || state == 'X' {
            continue;
        }
        let Ok(environ) = fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if !environ.split(|b| *b == 0).any(|v| v == marker.as_bytes()) {
            continue;
        }
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let command = cmdline
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        out.push(EscapedProcess {
            pid: pid as u32,
            command,
        });
    }
    out
}
