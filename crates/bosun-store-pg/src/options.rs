//! `PgOptions`: the pool size and every timeout, and the connection settings derived from them.

use std::time::Duration;

use tokio_postgres::config::Host;

use crate::error::PgError;

/// How a [`crate::PgStore`] connects and how long anything may take. Every wait is bounded.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Most connections the pool opens.
    pub max_connections: usize,
    /// Opening one TCP connection and logging in.
    pub connect_timeout: Duration,
    /// Waiting for a free pooled connection (including opening a new one).
    pub acquire_timeout: Duration,
    /// One statement, enforced by the server (`statement_timeout`, `lock_timeout`).
    pub statement_timeout: Duration,
    /// One whole operation (all its statements and the commit), enforced by the client.
    pub operation_timeout: Duration,
    /// The server's `idle_in_transaction_session_timeout`: a session that sits inside a transaction
    /// without sending its next statement this long is ended, and its locks released. Bosun's
    /// transactions send SQL only, statement after statement, so a session idle this long belongs
    /// to a client that froze (SIGSTOP, a VM pause, a swap storm) or vanished; every other replica
    /// would wait on its row and advisory locks (the event outbox's among them) until then.
    pub idle_in_transaction_timeout: Duration,
    /// Attempts of a transaction that keeps losing serialization races or deadlocks.
    pub max_transaction_attempts: u32,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(30),
            operation_timeout: Duration::from_secs(60),
            idle_in_transaction_timeout: Duration::from_secs(10),
            max_transaction_attempts: 5,
        }
    }
}

/// Parse the URL (`postgres://user[:password]@host[:port]/dbname[?…]`, or `key=value` form) and
/// apply the options: timeouts, TCP keepalives and the session's server-side limits. Settings the
/// URL gives itself (`connect_timeout`, `options`, `application_name`) are kept.
pub(crate) fn pg_config(url: &str, opts: &PgOptions) -> Result<tokio_postgres::Config, PgError> {
    let mut config: tokio_postgres::Config = url.parse()?;
    if config.get_hosts().is_empty() {
        return Err(PgError::Config("the URL names no host".into()));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(opts.connect_timeout);
    }
    // Notice a dead peer within about a minute instead of the kernel's two hours.
    config.keepalives(true);
    config.keepalives_idle(Duration::from_secs(30));
    config.tcp_user_timeout(opts.operation_timeout);
    if config.get_application_name().is_none() {
        config.application_name("bosun");
    }
    let limits = format!(
        "-c statement_timeout={} -c lock_timeout={} -c idle_in_transaction_session_timeout={}",
        opts.statement_timeout.as_millis(),
        opts.statement_timeout.as_millis(),
        opts.idle_in_transaction_timeout.as_millis(),
    );
    let options = match config.get_options() {
        Some(own) => format!("{limits} {own}"),
        None => limits,
    };
    config.options(options);
    Ok(config)
}

/// `postgres://user@host:port/dbname`, never the password: for logs and error messages.
pub(crate) fn describe_target(config: &tokio_postgres::Config) -> String {
    let user = config.get_user().unwrap_or("");
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => String::new(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let dbname = config.get_dbname().unwrap_or("");
    format!("postgres://{user}@{host}:{port}/{dbname}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_never_shows_the_password() {
        let config = pg_config(
            "postgres://bosun:hunter2@db.example:6543/bosun",
            &PgOptions::default(),
        )
        .unwrap();
        assert_eq!(
            describe_target(&config),
            "postgres://bosun@db.example:6543/bosun"
        );
    }

    #[test]
    fn server_side_limits_are_set_and_the_urls_own_options_kept() {
        let config = pg_config(
            "postgres://u@h/d?options=-c%20search_path%3Dx&connect_timeout=2",
            &PgOptions::default(),
        )
        .unwrap();
        let options = config.get_options().unwrap();
        assert!(options.contains("statement_timeout=30000"), "{options}");
        assert!(options.ends_with("-c search_path=x"), "{options}");
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(2)));
    }
}
