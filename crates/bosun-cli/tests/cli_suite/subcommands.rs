//! The rest of the CLI against a real server: activations, local admin of keys, completions,
//! and table headers that match their columns.

use bosun_e2e::{bin, TestServer};
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_list_and_delete() {
    let server = TestServer::start().await;
    let (ok, out, err) = server
        .cli(&[
            "activation",
            "create",
            "--limit",
            "3",
            "--description",
            "lab racks",
        ])
        .await;
    assert!(ok, "{err}");
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("Activation id:"))
        .unwrap()
        .trim()
        .to_string();
    let (ok, out, err) = server.cli(&["activation", "list"]).await;
    assert!(ok, "{err}");
    let header = out.lines().next().unwrap();
    assert!(
        header.starts_with("ACTIVATION") && header.contains("USED"),
        "{out}"
    );
    let row = out
        .lines()
        .find(|l| l.starts_with(&id))
        .expect("the activation is listed");
    assert!(row.contains("0/3") && row.contains("lab racks"), "{row}");
    let (ok, out, err) = server.cli(&["activation", "delete", &id]).await;
    assert!(
        ok && out.contains(&format!("deleted activation {id}")),
        "{out}{err}"
    );
    let (_, out, _) = server.cli(&["activation", "list"]).await;
    assert!(!out.contains(&id), "{out}");
    // (Not the same id again: an identical request signed in the same second is a replay.)
    let unknown = "00000000-0000-4000-8000-000000000000";
    let (ok, _, err) = server.cli(&["activation", "delete", unknown]).await;
    assert!(!ok && err.contains("InvalidActivationId"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_lists_users_and_keys_and_retires_keys() {
    let server = TestServer::start().await;
    let (ok, _, err) = server.cli(&["admin", "create-user", "ops"]).await;
    assert!(ok, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("ops.credentials");
    let (ok, out, err) = server
        .cli(&[
            "admin",
            "create-key",
            "ops",
            "--output",
            creds.to_str().unwrap(),
        ])
        .await;
    assert!(ok, "{err}");
    let akid = out.split_whitespace().nth(3).unwrap().to_string();
    let (ok, out, _) = server.cli(&["admin", "list-users"]).await;
    assert!(ok, "{out}");
    assert!(out.lines().next().unwrap().starts_with("USER"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("admin") && l.contains("AdministratorAccess")),
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("ops ")), "{out}");
    let (ok, out, _) = server.cli(&["admin", "list-keys", "--user", "ops"]).await;
    assert!(ok && out.contains(&akid) && out.contains("Active"), "{out}");
    assert!(!out.contains("secret"), "no secrets in the listing: {out}");

    // The key works until it is deactivated.
    let as_ops = |args: Vec<&str>| {
        let mut c = Command::new(bin("bosun"));
        c.args(args)
            .args(["--endpoint-url", &server.url, "--credentials-file"])
            .arg(&creds)
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_PROFILE");
        c
    };
    let out = as_ops(vec!["nodes"]).output().await.unwrap();
    // (ops has no policy: the call is signed correctly and denied.)
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("AccessDenied"), "{err}");
    let (ok, out, err) = server.cli(&["admin", "deactivate-key", &akid]).await;
    assert!(
        ok && out.contains(&format!("deactivated {akid}")),
        "{out}{err}"
    );
    let (_, out, _) = server.cli(&["admin", "list-keys"]).await;
    assert!(
        out.lines()
            .any(|l| l.starts_with(&akid) && l.contains("Inactive")),
        "{out}"
    );
    let out = as_ops(vec!["nodes"]).output().await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains("UnrecognizedClientException") && err.contains("--credentials-file"),
        "{err}"
    );
    let (ok, out, err) = server.cli(&["admin", "delete-key", &akid]).await;
    assert!(ok && out.contains(&format!("deleted {akid}")), "{out}{err}");
    let (_, out, _) = server.cli(&["admin", "list-keys"]).await;
    assert!(!out.contains(&akid), "{out}");
    let (ok, _, err) = server.cli(&["admin", "delete-key", &akid]).await;
    assert!(!ok && err.contains(&akid), "{err}");
}

#[tokio::test]
async fn completions_for_each_shell_and_headers_that_match() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef bosun"),
        ("fish", "complete -c bosun"),
    ] {
        let out = Command::new(bin("bosun"))
            .args(["completions", shell])
            .output()
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains(marker),
            "{shell}: {text}"
        );
        assert!(
            text.contains("quickstart") && text.contains("endpoint-url"),
            "{shell}"
        );
    }
    // Every flag has help text.
    let out = Command::new(bin("bosun"))
        .args(["run", "--help"])
        .output()
        .await
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--max-concurrency",
        "--max-errors",
        "--timeout",
        "--param",
        "--param-json",
        "--json",
        "--all",
    ] {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("{flag} in {help}"));
        let described = line
            .trim_start()
            .split_once("  ")
            .is_some_and(|(_, d)| !d.trim().is_empty())
            || help
                .lines()
                .skip_while(|l| l != &line)
                .nth(1)
                .is_some_and(|l| !l.trim().is_empty() && !l.trim_start().starts_with('-'));
        assert!(described, "{flag} has no help: {help}");
    }
    assert!(
        help.contains("ExpiresAfter"),
        "--timeout says what it bounds: {help}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doc_versions_headers_name_their_columns() {
    let server = TestServer::start().await;
    let (ok, out, err) = server.cli(&["doc", "versions", "AWS-RunShellScript"]).await;
    assert!(ok, "{err}");
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["VERSION", "VERSION", "NAME", "DEFAULT", "FORMAT"]);
    assert!(lines.next().unwrap().contains("yes"), "{out}");
}
