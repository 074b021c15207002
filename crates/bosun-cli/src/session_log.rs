//! `bosun session-log ID`: a Session Manager session's log, read from the server
//! (`GET /v1/sessions/<id>/log`, SigV4-signed): what the node's terminal showed, as text, or
//! the asciinema v2 recording itself.

use std::io::Write;

use anyhow::Context;
use bosun_core::session_log::{parse, strip_ansi};

use crate::client::Connection;

/// The log's URL (the id percent-encoded beyond `[A-Za-z0-9._-]`).
fn log_url(endpoint: &str, session_id: &str) -> String {
    let mut id = String::new();
    for b in session_id.bytes() {
        if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
            id.push(b as char);
        } else {
            id.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{}/v1/sessions/{id}/log", endpoint.trim_end_matches('/'))
}

pub async fn show(
    conn: &Connection,
    session_id: &str,
    cast: bool,
    keep_ansi: bool,
) -> anyhow::Result<()> {
    let bytes = crate::output::fetch(conn, &log_url(&conn.endpoint, session_id)).await?;
    let mut out = std::io::stdout().lock();
    if cast {
        out.write_all(&bytes)?;
        return Ok(());
    }
    let text = String::from_utf8_lossy(&bytes);
    if text.trim().is_empty() {
        eprintln!("session {session_id} has logged nothing yet");
        return Ok(());
    }
    let (_, events) = parse(&text).context("reading the session log")?;
    let shown: String = events
        .iter()
        .filter(|e| e.kind == "o")
        .map(|e| e.data.as_str())
        .collect();
    if keep_ansi {
        out.write_all(shown.as_bytes())?;
    } else {
        out.write_all(strip_ansi(&shown).as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_encoded_into_the_path() {
        assert_eq!(
            super::log_url("http://h:1/", "a@b+c-01"),
            "http://h:1/v1/sessions/a%40b%2Bc-01/log"
        );
    }
}
