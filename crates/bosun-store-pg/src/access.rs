//! Running work on a pooled connection: one call with a client, or one transaction retried when
//! it loses a serialization race or a deadlock. Every attempt is bounded by the operation
//! timeout; a connection whose operation timed out is discarded, never reused.

use std::time::Duration;

use deadpool_postgres::{ClientWrapper, Object, Transaction};
use tokio_postgres::IsolationLevel;

use crate::error::PgError;
use crate::PgStore;

/// First pause before retrying a conflicted transaction; doubled each attempt, with jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
/// Longest pause between attempts.
const MAX_BACKOFF: Duration = Duration::from_millis(200);

impl PgStore {
    /// Run `work` with one pooled connection (statements outside an explicit transaction are
    /// each their own transaction). Not retried.
    pub fn with_client<T>(
        &self,
        work: impl AsyncFnOnce(&ClientWrapper) -> Result<T, PgError>,
    ) -> Result<T, PgError> {
        self.block_on(async {
            let client = self.pool.get().await?;
            self.bounded(client, async |client| work(client).await)
                .await
        })
    }

    /// Run `work` in a READ COMMITTED transaction and commit it if `work` returns `Ok`.
    /// See [`PgStore::transaction_at`].
    pub fn transaction<T>(
        &self,
        work: impl AsyncFnMut(&Transaction<'_>) -> Result<T, PgError>,
    ) -> Result<T, PgError> {
        self.transaction_at(IsolationLevel::ReadCommitted, work)
    }

    /// Run `work` in a transaction at `isolation` and commit it if `work` returns `Ok`; an `Err`
    /// rolls it back. A serialization failure or deadlock (in `work` or at commit) rolls back and
    /// runs `work` again from the start, up to `max_transaction_attempts` times in all, so `work`
    /// must not have effects outside the transaction. Other errors are returned at once: a
    /// connection lost at commit leaves the outcome unknown, which only the caller can resolve.
    pub fn transaction_at<T>(
        &self,
        isolation: IsolationLevel,
        mut work: impl AsyncFnMut(&Transaction<'_>) -> Result<T, PgError>,
    ) -> Result<T, PgError> {
        self.block_on(async {
            let mut attempt = 1;
            loop {
                let client = self.pool.get().await?;
                let outcome = self
                    .bounded(client, async |client| {
                        let tx = client
                            .build_transaction()
                            .isolation_level(isolation)
                            .start()
                            .await?;
                        let value = work(&tx).await?;
                        tx.commit().await?;
                        Ok(value)
                    })
                    .await;
                match outcome {
                    Err(e)
                        if e.is_conflict() && attempt < self.options.max_transaction_attempts =>
                    {
                        tracing::debug!(attempt, error = %e, "transaction conflicted; retrying");
                        tokio::time::sleep(backoff(attempt)).await;
                        attempt += 1;
                    }
                    other => return other,
                }
            }
        })
    }

    /// Run `work` on `client` within the operation timeout; on timeout the connection is taken
    /// out of the pool and closed, since a statement may still be running on it.
    async fn bounded<T>(
        &self,
        mut client: Object,
        work: impl AsyncFnOnce(&mut ClientWrapper) -> Result<T, PgError>,
    ) -> Result<T, PgError> {
        let limit = self.options.operation_timeout;
        match tokio::time::timeout(limit, work(&mut client)).await {
            Ok(result) => result,
            Err(_) => {
                drop(Object::take(client));
                Err(PgError::TimedOut(limit))
            }
        }
    }
}

/// Exponential backoff with up to 50 % jitter, so racing replicas do not retry in lockstep.
fn backoff(attempt: u32) -> Duration {
    let base = FIRST_BACKOFF
        .saturating_mul(1 << attempt.min(10))
        .min(MAX_BACKOFF);
    let jitter = jitter_fraction();
    base + base.mul_f64(jitter / 2.0)
}

/// A number in [0, 1) that differs between calls and processes; not for cryptography.
fn jitter_fraction() -> f64 {
    use std::hash::{BuildHasher, RandomState};
    let bits = RandomState::new().hash_one(std::time::Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert!(backoff(1) >= Duration::from_millis(10));
        assert!(backoff(1) < Duration::from_millis(15));
        assert!(backoff(30) <= MAX_BACKOFF + MAX_BACKOFF / 2);
    }
}
