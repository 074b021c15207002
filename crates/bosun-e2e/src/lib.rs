//! Test harness for end-to-end tests: real `bosun` server processes on loopback ports with
//! temp data dirs, real `bosun-agent` processes, real SDK clients, and raw signed HTTP for
//! the cases SDKs refuse to produce. Waits are polls with deadlines, never fixed sleeps.

pub mod agent;
pub mod automation;
pub mod cutter;
pub mod fleet;
pub mod http;
pub mod poll;
pub mod releases;
pub mod s3;
pub mod server;
pub mod sessions;
pub mod smtp;
pub mod subscriber;
pub mod web;
pub mod windows;

use std::path::PathBuf;

/// A workspace binary (`bosun`, `bosun-agent`) built next to the test executable.
///
/// `cargo test --workspace` builds them because their packages have integration tests.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binary lives in target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run the whole suite with `cargo test --workspace` (it builds the binaries)",
        path.display()
    );
    path
}

pub use agent::Agent;
pub use poll::wait_for;
pub use server::TestServer;
