//! Idempotent retries of mutating calls: an attempt sent with the SDKs' `amz-sdk-invocation-id`
//! claims its call in the store before it runs, and its answer is stored (sealed) when it ends, so
//! a retry of the call gets the first answer instead of acting twice, across restarts too.
//! Requests without the header are simply executed. Rules in `bosun_core::idempotency`.
//!
//! A retry that arrives while the first attempt still runs in this process waits for it (up to
//! [`WAIT_FOR_FIRST_ATTEMPT`]) and gets its answer; past that it gets `ThrottlingException`,
//! which every SDK retries with backoff.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use axum::http::{HeaderMap, StatusCode};
use bosun_core::idempotency::{
    call_keys, retention_ms, usable_invocation_id, CallKeys, INVOCATION_ID_HEADER,
};
use bosun_store::prelude::*;
use bosun_store::{Answer, CallRecords, Claim, ClaimRequest, StoredAnswer};

use super::error::ApiError;
use crate::state::random_bytes;

/// How long a retry waits for the first attempt of its call, still running in this process.
const WAIT_FOR_FIRST_ATTEMPT: Duration = Duration::from_secs(10);

/// An answer as the API sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// `x-amzn-errortype` of an error.
    pub error_type: Option<String>,
}

/// This server process's side of idempotent retries.
pub struct Idempotency {
    /// Names this server process in its claims: its replica id (random per start). A claim by
    /// another owner was made by another live replica (still running there) or by a process
    /// that is gone.
    owner: String,
    retention_ms: i64,
    /// How long a retry waits for a first attempt running here ([`WAIT_FOR_FIRST_ATTEMPT`]).
    wait: Duration,
    /// Calls executing in this process.
    running: Mutex<HashSet<String>>,
    /// Signalled when a call stops running.
    settled: Condvar,
}

/// What starting an attempt found.
pub enum Begun<'a> {
    /// Execute the call; record its answer through [`Running`].
    Execute(Running<'a>),
    /// The first attempt's answer.
    Replay(Reply),
}

impl Idempotency {
    pub fn new(max_clock_skew_ms: i64, owner: String) -> Self {
        Self {
            owner,
            retention_ms: retention_ms(max_clock_skew_ms),
            wait: WAIT_FOR_FIRST_ATTEMPT,
            running: Mutex::default(),
            settled: Condvar::new(),
        }
    }

    /// The keys of a call sent with a usable invocation id; `None`: execute it plainly.
    pub fn keys(
        access_key_id: &str,
        operation: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Option<CallKeys> {
        let id = headers.get(INVOCATION_ID_HEADER)?.to_str().ok()?;
        let id = usable_invocation_id(id)?;
        Some(call_keys(access_key_id, operation, id, body))
    }

    /// Start an attempt of the call `keys`: claim it, or get its first answer.
    /// `answers_with_change`: the operation records its answer in its change's transaction
    /// ([`crate::api::ops::answers_in_change`]), so the call is only looked up, not claimed.
    pub fn begin<'a>(
        &'a self,
        store: &'a dyn Store,
        keys: CallKeys,
        answers_with_change: bool,
        live_owners: &[String],
        now_ms: i64,
    ) -> Result<Begun<'a>, ApiError> {
        {
            let set = self.running.lock().unwrap_or_else(|p| p.into_inner());
            let (mut set, _) = self
                .settled
                .wait_timeout_while(set, self.wait, |s| s.contains(&keys.id))
                .unwrap_or_else(|p| p.into_inner());
            if set.contains(&keys.id) {
                return Err(still_running());
            }
            set.insert(keys.id.clone());
        }
        // From here on, dropping `running` takes the call out of `self.running`.
        let mut running = Running {
            idempotency: self,
            store,
            call: PendingCall {
                keys,
                owner: self.owner.clone(),
                now_ms,
                expires_ms: now_ms + self.retention_ms,
            },
            claimed: false,
            answered: false,
        };
        let request = ClaimRequest {
            call_id: &running.call.keys.id,
            owner: &self.owner,
            live_owners,
            now_ms,
            expires_ms: running.call.expires_ms,
        };
        let claim = if answers_with_change {
            store.look_up_call(&request)?
        } else {
            store.claim_call(&request)?
        };
        match claim {
            Claim::Execute => {
                running.claimed = !answers_with_change;
                Ok(Begun::Execute(running))
            }
            Claim::Replay(stored) => {
                let body = open(&running.call.keys, &stored.sealed_body).ok_or_else(|| {
                    ApiError::internal("a stored answer for a retried call does not open")
                })?;
                Ok(Begun::Replay(Reply {
                    status: stored.status,
                    body,
                    error_type: stored.error_type,
                }))
            }
            Claim::InProgress => Err(still_running()),
            Claim::Interrupted => Err(ApiError::new(
                "InternalServerError",
                "The first attempt of this call was cut off by a server restart and may have \
                 taken effect, so it is not run again; check its outcome, then send a new call.",
            )
            .with_status(StatusCode::INTERNAL_SERVER_ERROR)),
        }
    }
}

fn still_running() -> ApiError {
    ApiError::new(
        "ThrottlingException",
        "The first attempt of this call is still being processed; retry shortly.",
    )
}

/// A call being executed, as its answer will be stored.
#[derive(Clone)]
pub struct PendingCall {
    keys: CallKeys,
    owner: String,
    now_ms: i64,
    expires_ms: i64,
}

impl PendingCall {
    /// The stored form of the call's answer: its body sealed with the call's key.
    pub fn answer(&self, reply: &Reply) -> Answer {
        Answer {
            call_id: self.keys.id.clone(),
            owner: self.owner.clone(),
            now_ms: self.now_ms,
            expires_ms: self.expires_ms,
            answer: StoredAnswer {
                status: reply.status,
                error_type: reply.error_type.clone(),
                sealed_body: seal(&self.keys, &reply.body),
            },
        }
    }
}

/// A call being executed by this process; dropping it lets waiting retries go on.
pub struct Running<'a> {
    idempotency: &'a Idempotency,
    store: &'a dyn Store,
    call: PendingCall,
    /// The call holds a claim in the store (it was not only looked up).
    claimed: bool,
    answered: bool,
}

impl Running<'_> {
    pub fn call(&self) -> &PendingCall {
        &self.call
    }

    /// Note that the call's answer is recorded (in its change's transaction, or with
    /// [`PendingCall::answer`] after it).
    pub fn set_answered(&mut self) {
        self.answered = true;
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        // A handler panicked. A claimed call may have made its change: its caller got an
        // internal error, and so do its retries. (A call only looked up stores its answer with
        // its change, so it has either both or neither, and its retry may run it.)
        if self.claimed && !self.answered && std::thread::panicking() {
            let e = ApiError::internal("a handler panicked");
            let reply = Reply {
                status: e.status.as_u16(),
                body: e.body(),
                error_type: Some(e.code.to_string()),
            };
            let answer = self.call.answer(&reply);
            let records = CallRecords {
                audit: None,
                answer: Some(&answer),
            };
            if let Err(e) = self.store.record_call(records) {
                tracing::error!(error = %e, "could not record the answer of a panicked call");
            }
        }
        let mut set = self
            .idempotency
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        set.remove(&self.call.keys.id);
        self.idempotency.settled.notify_all();
    }
}

fn cipher(keys: &CallKeys) -> Aes256Gcm {
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&keys.seal_key))
}

/// `nonce || AES-256-GCM(body)`, bound to the call id.
fn seal(keys: &CallKeys, body: &str) -> Vec<u8> {
    let nonce = random_bytes::<12>();
    let sealed = cipher(keys)
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: body.as_bytes(),
                aad: keys.id.as_bytes(),
            },
        )
        .expect("AES-GCM encrypts any message of this size");
    [nonce.as_slice(), &sealed].concat()
}

fn open(keys: &CallKeys, sealed: &[u8]) -> Option<String> {
    if sealed.len() < 12 {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(12);
    let body = cipher(keys)
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: keys.id.as_bytes(),
            },
        )
        .ok()?;
    String::from_utf8(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_open_only_with_their_own_call_keys() {
        let keys = call_keys("AKID", "CreateActivation", "inv", b"{}");
        let sealed = seal(&keys, r#"{"ActivationCode":"secret"}"#);
        assert!(!String::from_utf8_lossy(&sealed).contains("secret"));
        assert_eq!(
            open(&keys, &sealed).as_deref(),
            Some(r#"{"ActivationCode":"secret"}"#)
        );
        let other = call_keys("AKID", "CreateActivation", "inv2", b"{}");
        assert_eq!(open(&other, &sealed), None);
        assert_eq!(open(&keys, &sealed[..5]), None);
    }

    #[test]
    fn a_retry_waits_for_the_first_attempt_and_gets_its_answer() {
        let store = bosun_store::SqliteStore::open_in_memory().unwrap();
        let idem = Idempotency::new(300_000, "me".into());
        let keys = call_keys("AKID", "PutParameter", "inv", b"{}");
        let reply = Reply {
            status: 200,
            body: r#"{"Version":1}"#.into(),
            error_type: None,
        };
        std::thread::scope(|s| {
            let Ok(Begun::Execute(mut first)) = idem.begin(&store, keys.clone(), false, &[], 0)
            else {
                panic!("the first attempt executes");
            };
            let retry = s.spawn(|| idem.begin(&store, keys.clone(), false, &[], 1));
            let records = CallRecords {
                audit: None,
                answer: Some(&first.call().answer(&reply)),
            };
            store.record_call(records).unwrap();
            first.set_answered();
            drop(first);
            match retry.join().unwrap() {
                Ok(Begun::Replay(r)) => assert_eq!(r, reply),
                _ => panic!("the retry gets the first answer"),
            }
        });
    }

    #[test]
    fn a_retry_while_the_first_attempt_runs_too_long_is_throttled() {
        let store = bosun_store::SqliteStore::open_in_memory().unwrap();
        let idem = Idempotency {
            wait: Duration::from_millis(20),
            ..Idempotency::new(300_000, "me".into())
        };
        let keys = call_keys("AKID", "PutParameter", "inv", b"{}");
        let Ok(Begun::Execute(first)) = idem.begin(&store, keys.clone(), false, &[], 0) else {
            panic!("the first attempt executes");
        };
        let Err(e) = idem.begin(&store, keys.clone(), false, &[], 1) else {
            panic!("the retry is refused while the first attempt runs");
        };
        assert_eq!(e.code, "ThrottlingException");
        // The first attempt ends without an answer (its recording failed): retries are still
        // refused until the claim expires, never run a second time.
        drop(first);
        let Err(e) = idem.begin(&store, keys.clone(), false, &[], 2) else {
            panic!("an unanswered claim is not run again");
        };
        assert_eq!(e.code, "ThrottlingException");
        assert!(matches!(
            idem.begin(&store, keys, false, &[], idem.retention_ms),
            Ok(Begun::Execute(_))
        ));
    }

    #[test]
    fn a_call_answering_with_its_change_is_looked_up_not_claimed() {
        let store = bosun_store::SqliteStore::open_in_memory().unwrap();
        let idem = Idempotency::new(300_000, "me".into());
        let keys = call_keys("AKID", "SendCommand", "inv", b"{}");
        let Ok(Begun::Execute(first)) = idem.begin(&store, keys.clone(), true, &[], 0) else {
            panic!("the first attempt executes");
        };
        // Its change failed before committing (no answer): the retry runs it.
        drop(first);
        let Ok(Begun::Execute(second)) = idem.begin(&store, keys.clone(), true, &[], 1) else {
            panic!("a call that stored nothing runs again");
        };
        let reply = Reply {
            status: 200,
            body: "{}".into(),
            error_type: None,
        };
        let records = CallRecords {
            audit: None,
            answer: Some(&second.call().answer(&reply)),
        };
        store.record_call(records).unwrap();
        drop(second);
        let retry = idem.begin(&store, keys, true, &[], 2);
        assert!(matches!(retry, Ok(Begun::Replay(r)) if r == reply));
    }

    #[test]
    fn headers_without_a_usable_invocation_id_are_executed_plainly() {
        let mut headers = HeaderMap::new();
        assert!(Idempotency::keys("AKID", "SendCommand", &headers, b"{}").is_none());
        headers.insert(INVOCATION_ID_HEADER, "".parse().unwrap());
        assert!(Idempotency::keys("AKID", "SendCommand", &headers, b"{}").is_none());
        headers.insert(INVOCATION_ID_HEADER, "abc-123".parse().unwrap());
        assert_eq!(
            Idempotency::keys("AKID", "SendCommand", &headers, b"{}").map(|k| k.id),
            Some(call_keys("AKID", "SendCommand", "abc-123", b"{}").id)
        );
    }
}
