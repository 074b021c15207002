//! Idempotent retries of mutating API calls: which requests are retries of one logical call,
//! how long their first answer is kept, and what a new attempt does given what is stored.
//!
//! The AWS SDKs and the AWS CLI send `amz-sdk-invocation-id` with every attempt of one call (the
//! same value across its retries, with `amz-sdk-request: attempt=N`). botocore does not sign the
//! header, so a call is identified by the verified access key, the operation, the invocation id
//! and the SHA-256 of the body: an attempt can only match a stored call when it is signed by the
//! same key and carries the same bytes. Requests without the header are simply executed.

use sha2::{Digest, Sha256};

/// The header the AWS SDKs keep constant across the retries of one call.
pub const INVOCATION_ID_HEADER: &str = "amz-sdk-invocation-id";

/// Longest invocation id used (SDKs send a 36-character UUID).
pub const INVOCATION_ID_MAX_LEN: usize = 256;

/// The invocation id to key a call on: `None` (the request is simply executed) unless the value
/// is 1 to [`INVOCATION_ID_MAX_LEN`] visible ASCII characters.
pub fn usable_invocation_id(value: &str) -> Option<&str> {
    let ok = !value.is_empty()
        && value.len() <= INVOCATION_ID_MAX_LEN
        && value.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(value)
}

/// How long a call's first answer is kept after it was claimed: three clock-skew windows.
///
/// A request is accepted while its signing time is within `max_clock_skew_ms` of the server's
/// clock, so every copy of one signed request arrives within two skew windows of the first one
/// executing; SDK retries of a call (re-signed, same invocation id) come within seconds. The
/// third window is margin.
pub fn retention_ms(max_clock_skew_ms: i64) -> i64 {
    3 * max_clock_skew_ms
}

/// What identifies one logical call, derived from its attempt.
#[derive(Clone, PartialEq, Eq)]
pub struct CallKeys {
    /// Names the stored call (hex SHA-256): what the store keeps.
    pub id: String,
    /// Encrypts the stored answer; never stored. Deriving it needs the invocation id, which is
    /// kept nowhere, so a copy of the database does not reveal stored answers (an activation's
    /// one-time code, for one).
    pub seal_key: [u8; 32],
}

impl std::fmt::Debug for CallKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallKeys")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Derive the keys of a call from (access key id, operation, invocation id, body).
pub fn call_keys(
    access_key_id: &str,
    operation: &str,
    invocation_id: &str,
    body: &[u8],
) -> CallKeys {
    let body_sha256 = Sha256::digest(body);
    let derive = |domain: &[u8]| {
        let mut h = Sha256::new();
        h.update(domain);
        for part in [access_key_id, operation, invocation_id] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        h.update(body_sha256);
        h.finalize()
    };
    CallKeys {
        id: hex::encode(derive(b"bosun idempotency call id v1\0")),
        seal_key: derive(b"bosun idempotency seal key v1\0").into(),
    }
}

/// A stored call as a new attempt finds it (rows past their expiry count as absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored<'a> {
    /// An attempt claimed the call and has not recorded its answer.
    InFlight {
        /// The server process that claimed it.
        owner: &'a str,
    },
    /// The first attempt's answer is stored.
    Answered,
}

/// What a new attempt of a call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Nothing stored (or expired): execute the call.
    Execute,
    /// Send the stored answer again.
    Replay,
    /// The first attempt is still running, in this process or in another live replica.
    InProgress,
    /// The first attempt was claimed by a server process that is gone, and may have made its
    /// change before it could record its answer: running it again could act twice.
    Interrupted,
}

/// Decide what a new attempt does, given what is stored for its call, the current server
/// process (`me`) and the other server processes (replicas on one database) alive now
/// (`live`): a claim by one of those is still running there; any other owner is gone.
///
/// Operations that store their answer in the same transaction as their change never leave a
/// claim behind (they are looked up, not claimed), so for them a crash leaves nothing or the
/// answer.
pub fn attempt(stored: Option<Stored<'_>>, me: &str, live: &[String]) -> Attempt {
    match stored {
        None => Attempt::Execute,
        Some(Stored::Answered) => Attempt::Replay,
        Some(Stored::InFlight { owner }) if owner == me || live.iter().any(|l| l == owner) => {
            Attempt::InProgress
        }
        Some(Stored::InFlight { .. }) => Attempt::Interrupted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_invocation_ids_are_usable_and_odd_values_are_not() {
        let uuid = "c5b1c4f2-8a47-4bde-9d4b-3b0f0c1d2e3f";
        assert_eq!(usable_invocation_id(uuid), Some(uuid));
        assert_eq!(usable_invocation_id(""), None);
        assert_eq!(usable_invocation_id("a b"), None);
        assert_eq!(usable_invocation_id("é"), None);
        assert_eq!(
            usable_invocation_id(&"x".repeat(256)).map(str::len),
            Some(256)
        );
        assert_eq!(usable_invocation_id(&"x".repeat(257)), None);
    }

    #[test]
    fn every_part_of_a_call_changes_its_keys() {
        let base = call_keys("AKID", "SendCommand", "inv-1", b"{}");
        assert_eq!(base, call_keys("AKID", "SendCommand", "inv-1", b"{}"));
        for other in [
            call_keys("AKID2", "SendCommand", "inv-1", b"{}"),
            call_keys("AKID", "PutParameter", "inv-1", b"{}"),
            call_keys("AKID", "SendCommand", "inv-2", b"{}"),
            call_keys("AKID", "SendCommand", "inv-1", b"{ }"),
            // Length prefixes keep part boundaries apart.
            call_keys("AKIDS", "endCommand", "inv-1", b"{}"),
        ] {
            assert_ne!(base.id, other.id);
            assert_ne!(base.seal_key, other.seal_key);
        }
        assert_eq!(base.id.len(), 64);
        assert_ne!(hex::encode(base.seal_key), base.id);
        assert!(!format!("{base:?}").contains(&hex::encode(base.seal_key)));
    }

    #[test]
    fn retention_covers_every_copy_of_a_signed_request() {
        let skew = 5 * 60 * 1000;
        // Signed at t, first executed as early as t - skew, repeated as late as t + skew.
        assert!(retention_ms(skew) > 2 * skew);
    }

    #[test]
    fn attempts_follow_what_is_stored() {
        assert_eq!(attempt(None, "me", &[]), Attempt::Execute);
        assert_eq!(attempt(Some(Stored::Answered), "me", &[]), Attempt::Replay);
        assert_eq!(
            attempt(Some(Stored::InFlight { owner: "me" }), "me", &[]),
            Attempt::InProgress
        );
        assert_eq!(
            attempt(Some(Stored::InFlight { owner: "gone" }), "me", &[]),
            Attempt::Interrupted
        );
        let live = ["other".to_string()];
        assert_eq!(
            attempt(Some(Stored::InFlight { owner: "other" }), "me", &live),
            Attempt::InProgress,
            "a claim by another live replica is still running there"
        );
        assert_eq!(
            attempt(Some(Stored::InFlight { owner: "gone" }), "me", &live),
            Attempt::Interrupted
        );
    }
}
