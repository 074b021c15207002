//! Web console sessions: created once per token hash, found only while live, deleted, pruned.

use crate::prelude::*;
use crate::{ConsoleSessionRecord, StoreError};

fn session(hash: &str, key: &str, created_ms: i64, expires_ms: i64) -> ConsoleSessionRecord {
    ConsoleSessionRecord {
        token_hash: hash.into(),
        access_key_id: key.into(),
        created_ms,
        expires_ms,
    }
}

pub fn console_sessions_are_found_while_live_deleted_and_pruned(store: &dyn Store) {
    let a = session(&"aa".repeat(32), "AKIAONE", 1_000, 5_000);
    let b = session(&"bb".repeat(32), "AKIAONE", 2_000, 9_000);
    store.create_console_session(&a).unwrap();
    store.create_console_session(&b).unwrap();
    assert!(matches!(
        store.create_console_session(&session(&a.token_hash, "AKIATWO", 3_000, 99_000)),
        Err(StoreError::AlreadyExists(_))
    ));

    assert_eq!(
        store.live_console_session(&a.token_hash, 4_999).unwrap(),
        Some(a.clone())
    );
    // Expiry is exclusive: at `expires_ms` the session is over.
    assert_eq!(
        store.live_console_session(&a.token_hash, 5_000).unwrap(),
        None
    );
    assert_eq!(
        store.live_console_session(&"cc".repeat(32), 1_000).unwrap(),
        None
    );

    // Pruning removes exactly the expired ones.
    assert_eq!(store.prune_console_sessions(5_000).unwrap(), 1);
    assert_eq!(store.prune_console_sessions(5_000).unwrap(), 0);
    assert_eq!(
        store.live_console_session(&b.token_hash, 5_000).unwrap(),
        Some(b.clone())
    );

    assert!(store.delete_console_session(&b.token_hash).unwrap());
    assert!(!store.delete_console_session(&b.token_hash).unwrap());
    assert_eq!(
        store.live_console_session(&b.token_hash, 5_000).unwrap(),
        None
    );
}

pub fn failed_sign_ins_are_counted_per_key_and_window_by_every_writer(store: &dyn Store) {
    assert_eq!(store.signin_failures("addr:10.0.0.1", 0).unwrap(), 0);
    assert_eq!(
        store.note_signin_failure("addr:10.0.0.1", 0, 900).unwrap(),
        1
    );
    assert_eq!(
        store.note_signin_failure("addr:10.0.0.1", 0, 900).unwrap(),
        2
    );
    assert_eq!(store.note_signin_failure("key:AKIAONE", 0, 900).unwrap(), 1);
    assert_eq!(store.signin_failures("addr:10.0.0.1", 0).unwrap(), 2);
    // A new window counts from zero.
    assert_eq!(store.signin_failures("addr:10.0.0.1", 900).unwrap(), 0);
    assert_eq!(
        store
            .note_signin_failure("addr:10.0.0.1", 900, 1_800)
            .unwrap(),
        1
    );
    // Concurrent failures (threads here, replicas in production) are all counted.
    std::thread::scope(|s| {
        for _ in 0..super::concurrency::THREADS {
            s.spawn(|| {
                for _ in 0..5 {
                    store.note_signin_failure("key:AKIATWO", 0, 900).unwrap();
                }
            });
        }
    });
    assert_eq!(
        store.signin_failures("key:AKIATWO", 0).unwrap(),
        5 * super::concurrency::THREADS as u32
    );
    // Expired counts are pruned with the sessions.
    store.prune_console_sessions(900).unwrap();
    assert_eq!(store.signin_failures("addr:10.0.0.1", 0).unwrap(), 0);
    assert_eq!(store.signin_failures("addr:10.0.0.1", 900).unwrap(), 1);
}
