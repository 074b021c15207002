//! Whom a session runs as (issue 18), as AWS decides it: with the preferences' `runAsEnabled`,
//! the caller's `SSMSessionRunAs` user tag (`bosun admin tag-user`) names the OS user, else the
//! preferences' `runAsDefaultUser`; with neither, `StartSession` is refused saying so. Real
//! agent, real `whoami`.

use std::time::Duration;

use bosun_e2e::fleet::Fleet;
use bosun_e2e::TestServer;

use super::sessions::set_preferences;

const LIMIT: Duration = Duration::from_secs(30);

const OPERATOR: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"ssm:*","Resource":"*"}]}"#;

/// `bosun session NODE --command whoami` signed with `credentials` (the admin's when `None`):
/// (exit code, stdout, stderr).
async fn whoami(
    server: &TestServer,
    node: &str,
    credentials: Option<&str>,
) -> (i32, String, String) {
    let mut command = tokio::process::Command::new(bosun_e2e::bin("bosun"));
    command
        .args(["session", node, "--command", "whoami"])
        .args(["--data-dir", server.data_dir().to_str().unwrap()])
        .args(["--endpoint-url", &server.url])
        .stdin(std::process::Stdio::null());
    if let Some(file) = credentials {
        command.args(["--credentials-file", file]);
    }
    let out = tokio::time::timeout(LIMIT, command.output())
        .await
        .expect("bosun session ends")
        .expect("bosun runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A passwd user other than root with a real login shell and an existing home (`postgres`,
/// which `.ci/run` installs, on CI).
fn login_user() -> Option<String> {
    std::fs::read_to_string("/etc/passwd")
        .ok()?
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| {
            f.len() == 7
                && f[2] != "0"
                && std::path::Path::new(f[5]).is_dir()
                && f[6].ends_with("sh")
                && std::path::Path::new(f[6]).exists()
        })
        .map(|f| f[0].to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_as_follows_the_callers_tag_then_the_default_user() {
    use std::os::unix::fs::MetadataExt;
    if std::fs::metadata("/proc/self").map(|m| m.uid()).ok() != Some(0) {
        eprintln!("skipped: switching users needs the agent to run as root");
        return;
    }
    let other = login_user().expect("a root test machine has a login user besides root");
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let server = &fleet.server;
    server.user_with_policy("oncall", OPERATOR).await;
    let oncall = server
        .data_dir()
        .parent()
        .unwrap()
        .join("oncall.credentials");
    let oncall = oncall.to_str().unwrap();
    let (ok, out, err) = server
        .cli(&["admin", "tag-user", "oncall", "SSMSessionRunAs=root"])
        .await;
    assert!(ok, "{out}{err}");
    let (ok, out, _) = server.cli(&["admin", "list-users"]).await;
    assert!(ok && out.contains("SSMSessionRunAs=root"), "{out}");

    // Without runAsEnabled nothing changes: the agent's own user (root here).
    assert_eq!(whoami(server, &node, None).await.1, "root");

    set_preferences(
        &fleet.client,
        serde_json::json!({"runAsEnabled": true, "runAsDefaultUser": other}),
    )
    .await;
    let (code, who, err) = whoami(server, &node, None).await;
    assert_eq!(
        (code, who.as_str()),
        (0, other.as_str()),
        "untagged: the default: {err}"
    );
    let (code, who, err) = whoami(server, &node, Some(oncall)).await;
    assert_eq!(
        (code, who.as_str()),
        (0, "root"),
        "the tag wins over the default: {err}"
    );

    // No default: the untagged caller is refused, saying why; the tagged one still runs.
    set_preferences(&fleet.client, serde_json::json!({"runAsEnabled": true})).await;
    let (code, _, err) = whoami(server, &node, None).await;
    assert_ne!(code, 0);
    assert!(
        err.contains("InvalidDocument") && err.contains("SSMSessionRunAs"),
        "{err}"
    );
    assert_eq!(whoami(server, &node, Some(oncall)).await.1, "root");

    // A removed tag is no longer used.
    let (ok, _, err) = server
        .cli(&["admin", "untag-user", "oncall", "SSMSessionRunAs"])
        .await;
    assert!(ok, "{err}");
    let (code, _, err) = whoami(server, &node, Some(oncall)).await;
    assert!(code != 0 && err.contains("SSMSessionRunAs"), "{err}");
}
