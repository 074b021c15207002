//! The web console (issue 20): no console route answers anything but the login page, its
//! assets or 401/403 without a live session; a session needs its CSRF token, expires, and ends
//! with its access key; a read-only user is refused a forced `SendCommand` through the console
//! as through the API. The browser test (`tests/data/console/console.js`, Playwright driving
//! Debian's chromium) signs in, sees two real agents and runs `echo` on both from the form,
//! types into a terminal on a node and reads the answer and the shell's exit code,
//! creates parameters and documents from the Parameter Store and Documents views, sees a failed
//! command and a waiting approval in the Overview, and checks a read-only user's greyed actions.

use std::time::Duration;

use bosun_e2e::fleet::Fleet;
use bosun_e2e::http::{send_raw, Response};
use bosun_e2e::TestServer;
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(60);

pub(crate) const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":["ssm:Describe*","ssm:List*","ssm:Get*"],"Resource":"*"}]}"#;

/// A raw request to the server: method, path, extra header lines, body.
pub(crate) async fn request(
    server: &TestServer,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> Response {
    let addr = &server.addr;
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    send_raw(addr, raw.as_bytes())
        .await
        .expect("the server answers")
}

/// A signed-in session: its cookie value and CSRF token.
pub(crate) struct Session {
    pub token: String,
    pub csrf: String,
}

pub(crate) async fn login(
    server: &TestServer,
    akid: &str,
    secret: &str,
) -> Result<Session, Response> {
    let body = json!({"accessKeyId": akid, "secretAccessKey": secret}).to_string();
    let r = request(
        server,
        "POST",
        "/console/login",
        "Content-Type: application/json\r\n",
        &body,
    )
    .await;
    if r.status != 200 {
        return Err(r);
    }
    let cookie = r
        .head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .expect("a session cookie")
        .to_string();
    for attr in ["httponly", "samesite=strict", "path=/console"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!r.body.contains(secret), "the secret never comes back");
    let token = cookie
        .strip_prefix("bosun_console=")
        .and_then(|c| c.split(';').next())
        .expect("bosun_console cookie")
        .to_string();
    let answer: Value = serde_json::from_str(&r.body).unwrap();
    Ok(Session {
        token,
        csrf: answer["csrf"].as_str().unwrap().to_string(),
    })
}

/// One API call through `/console/api` with the session's cookie and (unless `None`) CSRF token.
async fn call(
    server: &TestServer,
    s: &Session,
    csrf: Option<&str>,
    target: &str,
    input: Value,
) -> Response {
    let csrf = csrf
        .map(|c| format!("X-Bosun-Console-Csrf: {c}\r\n"))
        .unwrap_or_default();
    let headers = format!(
        "Cookie: bosun_console={}\r\n{csrf}X-Amz-Target: {target}\r\nX-Bosun-Region: us-east-1\r\nContent-Type: application/x-amz-json-1.1\r\n",
        s.token
    );
    request(server, "POST", "/console/api", &headers, &input.to_string()).await
}

fn is_login_page(r: &Response) -> bool {
    r.status == 200
        && r.head.contains("content-type: text/html")
        && r.body.contains("id=\"login-form\"")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_route_without_a_session_gets_the_login_page_or_401() {
    let server = TestServer::start().await;
    let pages = [
        "/console",
        "/console/",
        "/console/login",
        "/console/logout",
        "/console/session",
        "/console/api",
        "/console/can",
        "/console/fleet",
        "/console/overview",
        "/console/parameters",
        "/console/parameter/%2Fapp%2Fdb",
        "/console/documents",
        "/console/document/AWS-RunShellScript",
        "/console/assets/nothing-here.js",
        "/console/../console/api",
    ];
    for path in pages {
        let r = request(&server, "GET", path, "", "").await;
        assert!(is_login_page(&r), "GET {path}: {} {}", r.status, r.head);
    }
    // Every file of the page is embedded and served as itself (an unknown name would get the
    // login page, with a 200 too), so a new view cannot be left out of `assets.rs`.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../bosun-server/console");
    let mut served = 0;
    for entry in std::fs::read_dir(dir).expect("the console's sources") {
        let path = entry.unwrap().path();
        let asset = path.file_name().unwrap().to_string_lossy().to_string();
        if asset == "index.html" {
            continue;
        }
        let r = request(&server, "GET", &format!("/console/assets/{asset}"), "", "").await;
        assert_eq!(r.status, 200, "{asset}");
        assert!(
            !r.head.contains("text/html"),
            "{asset} is embedded: {}",
            r.head
        );
        assert_eq!(r.body, std::fs::read_to_string(&path).unwrap(), "{asset}");
        assert!(
            r.head.contains("content-security-policy"),
            "{asset}: {}",
            r.head
        );
        served += 1;
    }
    assert!(served >= 8, "{served} assets");
    let calls = [
        "/console/logout",
        "/console/session",
        "/console/api",
        "/console/can",
        "/console/session-log",
        "/console/output",
        "/console/anything-else",
    ];
    for path in calls {
        let r = request(
            &server,
            "POST",
            path,
            "X-Amz-Target: AmazonSSM.ListCommands\r\nX-Bosun-Region: us-east-1\r\n",
            "{}",
        )
        .await;
        assert_eq!(r.status, 401, "POST {path}: {}", r.body);
        assert!(r.head.contains("x-amzn-requestid"), "{}", r.head);
        // A made-up cookie is no better than none.
        let r = request(
            &server,
            "POST",
            path,
            "Cookie: bosun_console=forged\r\nX-Bosun-Console-Csrf: x\r\n",
            "{}",
        )
        .await;
        assert!(
            [401, 403].contains(&r.status),
            "POST {path} forged: {} {}",
            r.status,
            r.body
        );
    }
    let forged = Session {
        token: "ab".repeat(32),
        csrf: String::new(),
    };
    let csrf = forged_csrf(&forged.token);
    let r = call(
        &server,
        &forged,
        Some(&csrf),
        "AmazonSSM.ListCommands",
        json!({}),
    )
    .await;
    assert_eq!(
        r.status, 401,
        "a well-formed token no session holds: {}",
        r.body
    );

    // Signing in: a wrong secret and an unknown key get the same answer.
    let (akid, secret) = server.admin_credentials();
    let wrong = login(&server, &akid, "not-the-secret").await.err().unwrap();
    let unknown = login(&server, "AKIAUNKNOWNKEY000000", &secret)
        .await
        .err()
        .unwrap();
    assert_eq!(wrong.status, 401);
    assert_eq!(
        (wrong.status, wrong.body.clone()),
        (unknown.status, unknown.body.clone())
    );
    assert!(
        !server.log().contains("not-the-secret"),
        "a tried secret is never logged"
    );
    let failed = server
        .read_store(|st| st.audit_records().unwrap())
        .await
        .into_iter()
        .filter(|(_, a)| {
            a.action == "signin:ConsoleLogin" && a.outcome == "Failed:UnrecognizedClientException"
        })
        .count();
    assert_eq!(failed, 2, "failed sign-ins are audited");
    let (ok, out, err) = server.cli(&["admin", "verify-audit"]).await;
    assert!(ok, "the audit chain with sign-ins verifies: {out}{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_are_refused_for_a_while_after_too_many_failures() {
    let server = TestServer::start().await;
    let (akid, secret) = server.admin_credentials();
    // `bosun_core::signin_limit::PER_ADDRESS` failures from one address are answered as usual.
    for i in 0..bosun_core::signin_limit::PER_ADDRESS {
        let r = login(&server, &akid, &format!("guess-{i}"))
            .await
            .err()
            .unwrap();
        assert_eq!(r.status, 401, "attempt {i}: {}", r.body);
    }
    // Then even the right secret is refused, saying until when, and no session is made.
    let r = login(&server, &akid, &secret).await.err().unwrap();
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(
        r.body.contains("ThrottlingException") && r.body.contains("try again after"),
        "{}",
        r.body
    );
    let throttled = server
        .read_store(|st| st.audit_records().unwrap())
        .await
        .into_iter()
        .filter(|(_, a)| a.outcome == "Failed:ThrottlingException")
        .count();
    assert_eq!(throttled, 1, "a refused sign-in is audited");
    // The API is not affected: the key still signs requests.
    server
        .client()
        .describe_instance_information()
        .send()
        .await
        .expect("SigV4 calls go on");
}

/// The CSRF token a page would hold for `token` (the server's derivation, repeated here so a
/// forged-but-well-formed session can be tried).
fn forged_csrf(token: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"bosun-console-csrf\0");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_needs_its_csrf_token_expires_and_ends_with_its_key() {
    let server = TestServer::start().await;
    let (_, akid, secret) = server.user_with_policy("reader", READ_ONLY).await;
    let s = login(&server, &akid, &secret).await.expect("signed in");

    let ok = call(
        &server,
        &s,
        Some(&s.csrf),
        "AmazonSSM.DescribeInstanceInformation",
        json!({}),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("InstanceInformationList"), "{}", ok.body);
    assert!(ok.head.contains("x-amzn-requestid"), "{}", ok.head);

    // A cross-site form post carries the cookie but cannot set the CSRF header.
    let headers = format!(
        "Cookie: bosun_console={}\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Amz-Target: AmazonSSM.ListCommands\r\nX-Bosun-Region: us-east-1\r\n",
        s.token
    );
    let r = request(&server, "POST", "/console/api", &headers, "a=b").await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = call(
        &server,
        &s,
        Some(&forged_csrf("another")),
        "AmazonSSM.ListCommands",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // The region is checked as a signature's scope is.
    let headers = format!(
        "Cookie: bosun_console={}\r\nX-Bosun-Console-Csrf: {}\r\nX-Amz-Target: AmazonSSM.ListCommands\r\nX-Bosun-Region: mars-north-1\r\n",
        s.token, s.csrf
    );
    let r = request(&server, "POST", "/console/api", &headers, "{}").await;
    assert_eq!(r.error_type(), "InvalidSignatureException", "{}", r.body);

    // A forced SendCommand is refused by IAM, through the same pipeline, and audited.
    let r = call(
        &server,
        &s,
        Some(&s.csrf),
        "AmazonSSM.SendCommand",
        json!({"DocumentName": "AWS-RunShellScript", "InstanceIds": ["mi-0123456789abcdef0"],
               "Parameters": {"commands": ["echo no"]}}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.error_type(), "AccessDeniedException", "{}", r.body);
    let denied = server
        .read_store(|st| st.audit_records().unwrap())
        .await
        .into_iter()
        .any(|(_, a)| {
            a.principal == "reader" && a.action == "ssm:SendCommand" && a.outcome == "Denied"
        });
    assert!(denied, "the denial is in the audit trail");
    let signed_in = server
        .read_store(|st| st.audit_records().unwrap())
        .await
        .into_iter()
        .any(|(_, a)| {
            a.principal == "reader" && a.action == "signin:ConsoleLogin" && a.outcome == "Allowed"
        });
    assert!(signed_in, "the sign-in is in the audit trail");

    // What the page greys out is decided by the server.
    let headers = format!(
        "Cookie: bosun_console={}\r\nX-Bosun-Console-Csrf: {}\r\nX-Bosun-Region: us-east-1\r\n",
        s.token, s.csrf
    );
    let checks = json!({"checks": [
        {"target": "AmazonSSM.SendCommand", "input": {"DocumentName": "AWS-RunShellScript"}},
        {"target": "AmazonSSM.ListCommands", "input": {}}]});
    let r = request(
        &server,
        "POST",
        "/console/can",
        &headers,
        &checks.to_string(),
    )
    .await;
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["results"][0]["allowed"], false, "{v}");
    assert!(
        v["results"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("ssm:SendCommand"),
        "{v}"
    );
    assert_eq!(v["results"][1]["allowed"], true, "{v}");

    // An expired session is refused though its row is still there.
    let expired = Session {
        token: "cd".repeat(32),
        csrf: forged_csrf(&"cd".repeat(32)),
    };
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(expired.token.as_bytes()))
    };
    let key = akid.clone();
    server
        .read_store(move |st| {
            st.create_console_session(&bosun_store::ConsoleSessionRecord {
                token_hash: hash,
                access_key_id: key,
                created_ms: 1,
                expires_ms: 2,
            })
            .unwrap()
        })
        .await;
    let r = call(
        &server,
        &expired,
        Some(&expired.csrf),
        "AmazonSSM.ListCommands",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);

    // Signing out ends the session.
    let other = login(&server, &akid, &secret)
        .await
        .expect("signed in again");
    let headers = format!(
        "Cookie: bosun_console={}\r\nX-Bosun-Console-Csrf: {}\r\n",
        other.token, other.csrf
    );
    let r = request(&server, "POST", "/console/logout", &headers, "{}").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call(
        &server,
        &other,
        Some(&other.csrf),
        "AmazonSSM.ListCommands",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);

    // Deactivating the access key ends every session made with it, and so does deleting one.
    let (ok, _, err) = server.cli(&["admin", "deactivate-key", &akid]).await;
    assert!(ok, "{err}");
    let r = call(
        &server,
        &s,
        Some(&s.csrf),
        "AmazonSSM.ListCommands",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        login(&server, &akid, &secret).await.is_err(),
        "an inactive key cannot sign in"
    );
    let (_, akid, secret) = server.user_with_policy("other", READ_ONLY).await;
    let s = login(&server, &akid, &secret).await.expect("signed in");
    let r = call(
        &server,
        &s,
        Some(&s.csrf),
        "AmazonSSM.ListCommands",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (ok, _, err) = server.cli(&["admin", "delete-key", &akid]).await;
    assert!(ok, "{err}");
    let r = call(
        &server,
        &s,
        Some(&s.csrf),
        "AmazonSSM.ListCommands",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        login(&server, &akid, &secret).await.is_err(),
        "a deleted key cannot sign in"
    );
}

/// Where `.ci/run` installed playwright-core (`BOSUN_CONSOLE_NODE_MODULES`) and chromium;
/// `None` skips the browser test unless `BOSUN_REQUIRE_BROWSER=1` makes that a failure.
fn browser() -> Option<(String, String)> {
    let modules = std::env::var("BOSUN_CONSOLE_NODE_MODULES").ok();
    let chromium = std::env::var("BOSUN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let have_modules = modules
        .as_deref()
        .is_some_and(|m| std::path::Path::new(m).join("playwright-core").is_dir());
    let have_chromium = std::path::Path::new(&chromium).exists();
    if have_modules && have_chromium {
        return Some((modules.unwrap(), chromium));
    }
    assert!(
        std::env::var("BOSUN_REQUIRE_BROWSER").as_deref() != Ok("1"),
        "BOSUN_REQUIRE_BROWSER=1 but playwright-core ({modules:?}) or chromium ({chromium}) is missing"
    );
    eprintln!("skipped: playwright-core (BOSUN_CONSOLE_NODE_MODULES) or {chromium} is missing");
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_browser_walks_its_views_as_an_admin_and_a_reader() {
    let Some((modules, chromium)) = browser() else {
        return;
    };
    // The terminal library is embedded exactly as npm publishes it.
    let console_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../bosun-server/console");
    for (embedded, published) in [
        ("xterm.mjs", "@xterm/xterm/lib/xterm.mjs"),
        ("xterm.css", "@xterm/xterm/css/xterm.css"),
        ("xterm-LICENSE.txt", "@xterm/xterm/LICENSE"),
        ("xterm-addon-fit.mjs", "@xterm/addon-fit/lib/addon-fit.mjs"),
    ] {
        let ours = std::fs::read(format!("{console_dir}/{embedded}")).unwrap();
        let theirs = std::fs::read(format!("{modules}/{published}"))
            .unwrap_or_else(|e| panic!("{published} in {modules} (see .ci/run): {e}"));
        assert!(ours == theirs, "{embedded} differs from npm's {published}");
    }
    let fleet = Fleet::start(2, 2).await;
    let (_, ro_akid, ro_secret) = fleet.server.user_with_policy("reader", READ_ONLY).await;
    let (akid, secret) = fleet.server.admin_credentials();
    let target = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target").to_string());
    let shots = format!("{target}/console-screenshots");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/console/console.js");
    let args = json!({
        "url": format!("{}/console/", fleet.server.url),
        "chromium": chromium,
        "screenshots": shots,
        "admin": {"id": akid, "secret": secret},
        "reader": {"id": ro_akid, "secret": ro_secret},
        "nodes": fleet.ids(),
    });
    let child = tokio::process::Command::new("node")
        .arg(script)
        .arg(args.to_string())
        .env("NODE_PATH", &modules)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(LIMIT * 3, child)
        .await
        .expect("the browser script ends")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains("console: all checks passed"),
        "stdout: {stdout}\nstderr: {stderr}"
    );
}
