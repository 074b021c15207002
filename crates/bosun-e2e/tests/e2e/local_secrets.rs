//! What other local users can see: started with the usual umask 022, the server's data dir and
//! the agent's state dir are private (dirs 0700, files 0600 or owner-only), secret access keys
//! are nowhere in plaintext (database, WAL, blobs), one server holds a data dir at a time, and a
//! data dir written before secrets were sealed is converted at start.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::CommandInvocationStatus;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::server::client;
use bosun_e2e::{bin, TestServer};

const LIMIT: Duration = Duration::from_secs(30);

/// The usual umask, inherited by the server and agents this test starts.
fn usual_umask() {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
}

/// Every file and directory under `root` (symlinks not followed), `root` included.
fn walk(root: &Path) -> Vec<(PathBuf, std::fs::Metadata)> {
    let mut out = vec![(root.to_path_buf(), std::fs::symlink_metadata(root).unwrap())];
    let mut i = 0;
    while i < out.len() {
        if out[i].1.is_dir() {
            for entry in std::fs::read_dir(&out[i].0).unwrap() {
                let entry = entry.unwrap();
                out.push((
                    entry.path(),
                    std::fs::symlink_metadata(entry.path()).unwrap(),
                ));
            }
        }
        i += 1;
    }
    out
}

/// Paths under `root` readable, writable or searchable by group or others.
fn open_to_others(root: &Path) -> Vec<String> {
    walk(root)
        .into_iter()
        .filter(|(_, m)| !m.file_type().is_symlink() && m.permissions().mode() & 0o077 != 0)
        .map(|(p, m)| format!("{} {:o}", p.display(), m.permissions().mode() & 0o777))
        .collect()
}

/// Files under `root` holding `needle`, except the ones named in `except`.
fn files_containing(root: &Path, needle: &str, except: &[&str]) -> Vec<PathBuf> {
    walk(root)
        .into_iter()
        .filter(|(p, m)| m.is_file() && !except.iter().any(|e| p.ends_with(e)))
        .filter(|(p, _)| {
            let bytes = std::fs::read(p).unwrap_or_default();
            bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        })
        .map(|(p, _)| p)
        .collect()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// `bosun admin` with a user allowed DescribeInstanceInformation; returns the printed key.
async fn admin_user_with_key(s: &TestServer, user: &str) -> (String, String) {
    let (ok, _, e) = s.cli(&["admin", "create-user", user]).await;
    assert!(ok, "{e}");
    let policy = s.dir.path().join(format!("{user}.json"));
    std::fs::write(
        &policy,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:DescribeInstanceInformation","Resource":"*"}]}"#,
    )
    .unwrap();
    let (ok, _, e) = s
        .cli(&[
            "admin",
            "put-policy",
            user,
            "p",
            "--file",
            policy.to_str().unwrap(),
        ])
        .await;
    assert!(ok, "{e}");
    let (ok, out, e) = s.cli(&["admin", "create-key", user]).await;
    assert!(ok, "{e}");
    let get = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {out:?}"))
            .trim()
            .to_string()
    };
    (get("aws_access_key_id = "), get("aws_secret_access_key = "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_umask_022_nothing_is_open_to_other_users_and_no_secret_is_stored_in_plaintext() {
    usual_umask();
    let fleet = Fleet::start_on(TestServer::start_sqlite_with_env(&[], &[]).await, 1, 1).await;
    let node = fleet.ids()[0].clone();
    let cmd = fleet
        .run(
            std::slice::from_ref(&node),
            &["echo output-that-may-hold-secrets", "echo more >&2"],
            &[],
        )
        .await;
    let inv = fleet.wait_done(&cmd, &node, LIMIT).await;
    assert_eq!(inv.status(), Some(&CommandInvocationStatus::Success));

    // `bosun admin create-key` prints the new secret, and it works.
    let s = &fleet.server;
    let (akid, secret) = admin_user_with_key(s, "operator").await;
    client(&s.url, "us-east-1", &akid, &secret)
        .describe_instance_information()
        .send()
        .await
        .expect("the printed key authenticates");

    let data = s.data_dir();
    let state = &fleet.agents[0].state_dir;
    let seen: Vec<PathBuf> = walk(&data).into_iter().map(|(p, _)| p).collect();
    let outputs = data.join("blobs/commands").join(&cmd).join(&node);
    let blob = seen
        .iter()
        // One object per stored chunk: `…/<step>/stdout/<offset>`.
        .find(|p| p.starts_with(&outputs) && p.parent().is_some_and(|d| d.ends_with("stdout")))
        .unwrap_or_else(|| panic!("no stored stdout in {seen:#?}"))
        .clone();
    for expected in [data.join("bosun.db"), data.join("bosun.db-wal")] {
        assert!(
            seen.contains(&expected),
            "{} missing from {seen:#?}",
            expected.display()
        );
    }
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(state), 0o700);
    for file in [
        "bosun.db",
        "bosun.db-wal",
        "bosun.db-shm",
        "lock",
        "listen-addr",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    assert_eq!(mode(&blob), 0o600);
    let open = open_to_others(&data);
    assert!(
        open.is_empty(),
        "open to other users in the data dir: {open:#?}"
    );
    let open = open_to_others(state);
    assert!(
        open.is_empty(),
        "open to other users in the agent state dir: {open:#?}"
    );

    // The secrets appear nowhere but in the credentials file handed to the operator.
    let (_, admin_secret) = s.admin_credentials();
    for needle in [&admin_secret, &secret] {
        let found = files_containing(&data, needle, &["credentials"]);
        assert!(
            found.is_empty(),
            "a secret access key is stored in {found:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_data_dir_exits_naming_the_first() {
    usual_umask();
    let mut s = TestServer::start_sqlite_with_env(&[], &[]).await;
    let addr_file = s.data_dir().join("listen-addr");
    let first_addr = std::fs::read_to_string(&addr_file).unwrap();
    let first_pid = s.pid().expect("the server runs");

    let second = tokio::process::Command::new(bin("bosun"))
        .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(s.data_dir())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(LIMIT, second)
        .await
        .expect("the second server exits instead of serving")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {first_pid}")) && stderr.contains("in use"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&addr_file).unwrap(), first_addr);
    s.client()
        .describe_instance_information()
        .send()
        .await
        .expect("the first server still serves");

    // A server killed outright leaves its lock file; the next start is not blocked by it.
    s.restart().await;
    assert!(s.data_dir().join("lock").exists());
    assert_ne!(s.pid(), Some(first_pid));
    s.client()
        .describe_instance_information()
        .send()
        .await
        .expect("the restarted server serves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_secrets_from_an_older_version_are_sealed_at_start_and_still_work() {
    usual_umask();
    let mut s = TestServer::start_sqlite_with_env(&[], &[]).await;
    let (ok, _, e) = s.cli(&["admin", "create-user", "legacy"]).await;
    assert!(ok, "{e}");
    let policy = s.dir.path().join("legacy.json");
    std::fs::write(
        &policy,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:DescribeInstanceInformation","Resource":"*"}]}"#,
    )
    .unwrap();
    let (ok, _, e) = s
        .cli(&[
            "admin",
            "put-policy",
            "legacy",
            "p",
            "--file",
            policy.to_str().unwrap(),
        ])
        .await;
    assert!(ok, "{e}");
    // What versions before sealing stored: the secret in plaintext.
    let (akid, secret) = (
        "AKIALEGACY0000000001",
        "legacyPlaintextSecret0123456789abcdefghij",
    );
    let db = s.data_dir().join("bosun.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.busy_timeout(LIMIT).unwrap();
        conn.execute(
            "INSERT INTO access_keys (access_key_id, secret_access_key, user_name, active, created_ms) VALUES (?1, ?2, 'legacy', 1, 0)",
            [akid, secret],
        )
        .unwrap();
    }
    assert!(
        !files_containing(&s.data_dir(), secret, &[]).is_empty(),
        "the plaintext is on disk before the upgrade"
    );

    s.restart().await;
    let found = files_containing(&s.data_dir(), secret, &[]);
    assert!(found.is_empty(), "plaintext secret left in {found:?}");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.busy_timeout(LIMIT).unwrap();
        let (plain, sealed): (String, Option<String>) = conn
            .query_row(
                "SELECT secret_access_key, secret_sealed FROM access_keys WHERE access_key_id = ?1",
                [akid],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(plain, "");
        assert!(sealed.is_some_and(|s| !s.contains(secret)));
    }
    client(&s.url, "us-east-1", akid, secret)
        .describe_instance_information()
        .send()
        .await
        .expect("the converted key still authenticates");
    let err = client(
        &s.url,
        "us-east-1",
        akid,
        "not-the-secret-0000000000000000000000000",
    )
    .describe_instance_information()
    .send()
    .await
    .unwrap_err();
    assert_eq!(err.code(), Some("InvalidSignatureException"));
}
