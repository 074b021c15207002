//! How `bosun` finds the server and its key with the fewest words: flags, then environment
//! variables, then the AWS profile, then a Bosun data dir; and what it says when nothing answers.

use std::path::Path;

use bosun_e2e::{bin, TestServer};
use tokio::process::Command;

use crate::common::clean;

/// Run `bosun param get /who` in `cwd` with `home` and extra variables; (ok, stdout, stderr).
async fn who(
    cwd: &Path,
    home: &Path,
    vars: &[(&str, &str)],
    flags: &[&str],
) -> (bool, String, String) {
    let mut c = Command::new(bin("bosun"));
    let out = clean(&mut c, home)
        .current_dir(cwd)
        .envs(vars.iter().copied())
        .args(["param", "get", "/who"])
        .args(flags)
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The endpoint and its source that a failed call names.
fn tried(stderr: &str) -> &str {
    stderr
        .split_once("cannot reach the Bosun server at ")
        .map(|(_, rest)| rest.split_once("):").map_or(rest, |(a, _)| a))
        .unwrap_or_else(|| panic!("not an unreachable-server message: {stderr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_comes_from_flag_then_env_then_profile_then_data_dir() {
    let server = TestServer::start().await;
    let (ok, _, e) = server
        .cli(&["param", "put", "/who", "server-a", "--type", "String"])
        .await;
    assert!(ok, "{e}");
    let work = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(server.data_dir(), work.path().join("bosun-data")).unwrap();
    let (w, h) = (work.path(), home.path());

    // 1. Nothing set: ./bosun-data gives the address and the key.
    let (ok, out, err) = who(w, h, &[], &[]).await;
    assert!(ok && out == "server-a\n", "{out}{err}");
    // …and elsewhere BOSUN_DATA_DIR (or --data-dir) names it.
    let data = server.data_dir();
    let data = data.to_str().unwrap();
    let (ok, out, err) = who(empty.path(), h, &[("BOSUN_DATA_DIR", data)], &[]).await;
    assert!(ok && out == "server-a\n", "{out}{err}");
    let (ok, out, err) = who(empty.path(), h, &[], &["--data-dir", data]).await;
    assert!(ok && out == "server-a\n", "{out}{err}");

    // 2. The AWS profile's endpoint_url comes before the data dir.
    std::fs::create_dir_all(h.join(".aws")).unwrap();
    std::fs::write(
        h.join(".aws/config"),
        format!(
            "[default]\nendpoint_url = http://127.0.0.1:1\n[profile lab]\nendpoint_url = {}\n",
            server.url
        ),
    )
    .unwrap();
    let (ok, _, err) = who(w, h, &[], &[]).await;
    let config = h.join(".aws/config");
    assert!(!ok);
    assert_eq!(
        tried(&err),
        format!(
            "http://127.0.0.1:1 (from profile [default] in {}",
            config.display()
        )
    );
    // A named profile, with its key in ~/.aws/credentials.
    let (akid, secret) = server.admin_credentials();
    std::fs::write(
        h.join(".aws/credentials"),
        format!("[lab]\naws_access_key_id = {akid}\naws_secret_access_key = {secret}\n"),
    )
    .unwrap();
    let (ok, out, err) = who(empty.path(), h, &[("AWS_PROFILE", "lab")], &[]).await;
    assert!(ok && out == "server-a\n", "{out}{err}");

    // 3. Environment variables come before the profile, BOSUN_ENDPOINT first.
    let mut vars = vec![("AWS_ENDPOINT_URL", "http://127.0.0.1:2")];
    let (_, _, err) = who(w, h, &vars, &[]).await;
    assert_eq!(tried(&err), "http://127.0.0.1:2 (from $AWS_ENDPOINT_URL");
    vars.push(("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:3"));
    let (_, _, err) = who(w, h, &vars, &[]).await;
    assert_eq!(
        tried(&err),
        "http://127.0.0.1:3 (from $AWS_ENDPOINT_URL_SSM"
    );
    vars.push(("BOSUN_ENDPOINT", &server.url));
    let (ok, out, err) = who(w, h, &vars, &[]).await;
    assert!(ok && out == "server-a\n", "{out}{err}");

    // 4. The flag comes before everything.
    let (_, _, err) = who(w, h, &vars, &["--endpoint-url", "http://127.0.0.1:4"]).await;
    assert_eq!(tried(&err), "http://127.0.0.1:4 (from --endpoint-url");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_one_line_that_says_what_to_change() {
    let home = tempfile::tempdir().unwrap();
    let server = TestServer::start().await;
    let run = |args: Vec<String>| {
        let home = home.path().to_path_buf();
        let data = server.data_dir();
        async move {
            let mut c = Command::new(bin("bosun"));
            let out = clean(&mut c, &home)
                .args(args)
                .arg("--data-dir")
                .arg(data)
                .output()
                .await
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    let (code, err) = run(vec![
        "nodes".into(),
        "--endpoint-url".into(),
        "http://127.0.0.1:1".into(),
    ])
    .await;
    assert_eq!(code, Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot reach the Bosun server at http://127.0.0.1:1 (from --endpoint-url): connection refused"),
        "{err}"
    );
    assert!(err.contains("--endpoint-url or BOSUN_ENDPOINT"), "{err}");
    assert!(
        !err.contains("DispatchFailure") && !err.contains("Os {"),
        "{err}"
    );

    // TLS to a plain-HTTP server says so, and names the URL to use.
    let https = server.url.replacen("http://", "https://", 1);
    let (code, err) = run(vec!["nodes".into(), "--endpoint-url".into(), https]).await;
    assert_eq!(code, Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "answered in plain HTTP, not TLS: use {}",
            server.url
        )),
        "{err}"
    );
}
