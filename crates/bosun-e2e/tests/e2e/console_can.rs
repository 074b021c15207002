//! `/console/can` for the Parameter Store view (issue 20): "reveal" on a SecureString is offered
//! only when both `ssm:GetParameter` and `kms:Decrypt` on the key that sealed it are allowed, as
//! the real `GetParameter WithDecryption` requires; a String needs no key, and a user allowed to
//! decrypt with another key only is refused with the `kms:Decrypt` reason.

use aws_sdk_ssm::types::ParameterType;
use bosun_e2e::TestServer;
use serde_json::{json, Value};

use super::console::{login, request, Session, READ_ONLY};

const READ_AND_DECRYPT_OTHER: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":["ssm:Get*","ssm:Describe*"],"Resource":"*"},
    {"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:*:*:key/not-that-key"}]}"#;

const READ_AND_DECRYPT: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":["ssm:Get*","kms:Decrypt"],"Resource":"*"},
    {"Effect":"Deny","Action":"ssm:GetParameter","Resource":"arn:aws:ssm:*:*:parameter/denied/*"}]}"#;

async fn verdicts(server: &TestServer, s: &Session, checks: Value) -> Vec<Value> {
    let headers = format!(
        "Cookie: bosun_console={}\r\nX-Bosun-Console-Csrf: {}\r\nX-Bosun-Region: us-east-1\r\n",
        s.token, s.csrf
    );
    let body = json!({ "checks": checks }).to_string();
    let r = request(server, "POST", "/console/can", &headers, &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    v["results"].as_array().unwrap().clone()
}

fn reveal(name: &str) -> Value {
    json!({"target": "AmazonSSM.GetParameter", "input": {"Name": name, "WithDecryption": true}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reveal_needs_get_parameter_and_kms_decrypt_on_the_sealing_key() {
    let server = TestServer::start().await;
    let c = server.client();
    for (name, kind) in [
        ("/app/secret", ParameterType::SecureString),
        ("/app/plain", ParameterType::String),
        ("/denied/secret", ParameterType::SecureString),
    ] {
        c.put_parameter()
            .name(name)
            .value("v4lue")
            .r#type(kind)
            .send()
            .await
            .unwrap();
    }
    let checks = json!([
        reveal("/app/secret"),
        reveal("/app/plain"),
        reveal("/denied/secret"),
        reveal("/app/secret:1"),
        reveal("/app/missing")
    ]);

    let (akid, secret) = server.admin_credentials();
    let admin = login(&server, &akid, &secret)
        .await
        .expect("admin signs in");
    let v = verdicts(&server, &admin, checks.clone()).await;
    for (i, r) in v.iter().enumerate() {
        assert_eq!(r["allowed"], true, "admin, check {i}: {r}");
    }
    assert_eq!(v[0]["also"][0]["action"], "kms:Decrypt", "{}", v[0]);
    let key_arn = v[0]["also"][0]["resource"].as_str().unwrap().to_string();
    assert!(key_arn.starts_with("arn:aws:kms:us-east-1:"), "{key_arn}");
    assert_eq!(v[1]["also"], json!([]), "a String needs no key: {}", v[1]);

    // Read-only: may read, may not decrypt.
    let (_, id, key) = server.user_with_policy("reader", READ_ONLY).await;
    let reader = login(&server, &id, &key).await.expect("reader signs in");
    let v = verdicts(&server, &reader, checks.clone()).await;
    assert_eq!(v[0]["allowed"], false, "{}", v[0]);
    assert!(
        v[0]["reason"].as_str().unwrap().contains("kms:Decrypt"),
        "{}",
        v[0]
    );
    assert_eq!(v[1]["allowed"], true, "{}", v[1]);
    assert_eq!(v[3]["allowed"], false, "a version selector too: {}", v[3]);
    assert_eq!(v[4]["allowed"], true, "nothing to decrypt: {}", v[4]);

    // Decrypt on another key only is no better.
    let (_, id, key) = server
        .user_with_policy("other-key", READ_AND_DECRYPT_OTHER)
        .await;
    let other = login(&server, &id, &key).await.expect("signs in");
    let v = verdicts(&server, &other, checks.clone()).await;
    assert_eq!(v[0]["allowed"], false, "{}", v[0]);
    assert_eq!(v[0]["also"][0]["resource"], key_arn.as_str(), "{}", v[0]);

    // Decrypt allowed, but an explicit deny on the parameter wins before any key is looked at.
    let (_, id, key) = server.user_with_policy("decrypter", READ_AND_DECRYPT).await;
    let decrypter = login(&server, &id, &key).await.expect("signs in");
    let v = verdicts(&server, &decrypter, checks).await;
    assert_eq!(v[0]["allowed"], true, "{}", v[0]);
    assert_eq!(v[2]["allowed"], false, "{}", v[2]);
    assert!(
        v[2]["reason"]
            .as_str()
            .unwrap()
            .contains("ssm:GetParameter"),
        "{}",
        v[2]
    );
    assert_eq!(v[2]["also"], json!([]), "{}", v[2]);

    // And the verdicts match the real call.
    let secure = |s: &Session| {
        format!(
            "Cookie: bosun_console={}\r\nX-Bosun-Console-Csrf: {}\r\nX-Amz-Target: AmazonSSM.GetParameter\r\nX-Bosun-Region: us-east-1\r\nContent-Type: application/x-amz-json-1.1\r\n",
            s.token, s.csrf
        )
    };
    let body = json!({"Name": "/app/secret", "WithDecryption": true}).to_string();
    let r = request(&server, "POST", "/console/api", &secure(&reader), &body).await;
    assert_eq!(r.error_type(), "AccessDeniedException", "{}", r.body);
    let r = request(&server, "POST", "/console/api", &secure(&other), &body).await;
    assert_eq!(r.error_type(), "AccessDeniedException", "{}", r.body);
    let r = request(&server, "POST", "/console/api", &secure(&decrypter), &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("v4lue"), "{}", r.body);
}
