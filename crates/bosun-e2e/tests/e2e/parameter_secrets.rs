//! SecureString secrecy: the canary test (a unique marker never reaches the database, its WAL,
//! any file in the data dir, the server log at trace level, the audit trail, or any response
//! that did not ask for decryption), `kms:Decrypt` authorization, ciphertext binding, and the
//! unchanged AWS CLI round-tripping through real encryption and paging like AWS.

use std::path::Path;
use std::time::SystemTime;

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::ParameterType;
use bosun_e2e::{http, TestServer};
use serde_json::json;

fn marker() -> String {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .unwrap();
    format!("CANARY-{}", hex::encode(b))
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[tokio::test]
async fn secure_string_plaintext_appears_only_in_decrypted_responses() {
    let s = TestServer::start_sqlite_with_env(&[], &[("BOSUN_LOG", "trace")]).await;
    let canary = marker();
    let (akid, secret) = s.admin_credentials();
    let call = |op: &'static str, body: serde_json::Value| {
        let (addr, akid, secret) = (s.addr.clone(), akid.clone(), secret.clone());
        async move {
            let req = http::sign_request(
                &addr,
                op,
                &body.to_string(),
                &akid,
                &secret,
                "us-east-1",
                SystemTime::now(),
            );
            http::send_signed(&addr, &req).await
        }
    };
    let mut undecrypted = Vec::new();
    for i in 0..5 {
        let r = call("PutParameter", json!({"Name": format!("/canary/p{i}"), "Value": format!("{canary}-{i}"), "Type": "SecureString", "Tier": if i == 4 { "Advanced" } else { "Standard" }})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        undecrypted.push(r.body);
    }
    let r = call(
        "PutParameter",
        json!({"Name": "/canary/p0", "Value": format!("{canary}-v2"), "Overwrite": true}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    undecrypted.push(r.body);
    call(
        "LabelParameterVersion",
        json!({"Name": "/canary/p0", "ParameterVersion": 1, "Labels": ["old"]}),
    )
    .await;
    // Failing puts must not echo the value either.
    for body in [
        json!({"Name": "/canary/bad", "Value": canary, "Type": "SecureString", "AllowedPattern": "^x$"}),
        json!({"Name": "/canary/bad", "Value": canary, "Type": "SecureString", "DataType": "aws:ec2:image"}),
        json!({"Name": "/canary/bad", "Value": format!("{canary}{}", "x".repeat(9000)), "Type": "SecureString"}),
        json!({"Name": "/canary/p1", "Value": canary, "Type": "SecureString"}),
        json!({"Name": "bad name", "Value": canary, "Type": "SecureString"}),
        json!({"Name": "/canary/bad", "Value": canary, "Type": "SecureString", "KeyId": "alias/missing"}),
    ] {
        let r = call("PutParameter", body).await;
        assert_eq!(r.status, 400, "{}", r.body);
        undecrypted.push(r.body);
    }
    let reads = [
        ("GetParameter", json!({"Name": "/canary/p0"})),
        ("GetParameter", json!({"Name": "/canary/p0:1"})),
        ("GetParameter", json!({"Name": "/canary/p0:old"})),
        (
            "GetParameters",
            json!({"Names": ["/canary/p0", "/canary/p1", "/canary/p4"]}),
        ),
        (
            "GetParametersByPath",
            json!({"Path": "/canary", "Recursive": true}),
        ),
        ("GetParameterHistory", json!({"Name": "/canary/p0"})),
    ];
    for (op, body) in &reads {
        let plain = call(op, body.clone()).await;
        assert_eq!(plain.status, 200, "{}", plain.body);
        assert!(
            !plain.body.contains(&canary),
            "{op} without decryption leaked: {}",
            plain.body
        );
        undecrypted.push(plain.body);
        let mut with = body.clone();
        with["WithDecryption"] = json!(true);
        let decrypted = call(op, with).await;
        assert!(
            decrypted.body.contains(&canary),
            "{op} with decryption: {}",
            decrypted.body
        );
    }
    for body in [
        json!({}),
        json!({"ParameterFilters": [{"Key": "Path", "Option": "Recursive", "Values": ["/canary"]}]}),
    ] {
        let r = call("DescribeParameters", body).await;
        assert_eq!(r.status, 200);
        undecrypted.push(r.body);
    }
    // A principal without kms:Decrypt gets the blob, and is denied the plaintext.
    let (no_kms, a2, k2) = s.user_with_policy("reader", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"*"}]}"#).await;
    let denied = http::send_signed(
        &s.addr,
        &http::sign_request(
            &s.addr,
            "GetParameter",
            &json!({"Name": "/canary/p1", "WithDecryption": true}).to_string(),
            &a2,
            &k2,
            "us-east-1",
            SystemTime::now(),
        ),
    )
    .await;
    assert_eq!(
        denied.error_type(),
        "AccessDeniedException",
        "{}",
        denied.body
    );
    assert!(denied.body.contains("kms:Decrypt"), "{}", denied.body);
    undecrypted.push(denied.body);
    let blob = no_kms
        .get_parameter()
        .name("/canary/p1")
        .send()
        .await
        .unwrap();
    undecrypted.push(format!("{blob:?}"));
    let e = no_kms
        .get_parameters_by_path()
        .path("/canary")
        .with_decryption(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDeniedException"));

    for (i, body) in undecrypted.iter().enumerate() {
        assert!(
            !body.contains(&canary),
            "response {i} leaked the canary: {body}"
        );
    }
    // Every file under the data dir (database, WAL, keyring, credentials, audit), and the log.
    let mut files = Vec::new();
    files_under(&s.data_dir(), &mut files);
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n == "bosun.db") && names.iter().any(|n| n == "bosun.db-wal"),
        "{names:?}"
    );
    files.push(s.dir.path().join("server.log"));
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(
            !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
            "{} holds the canary",
            f.display()
        );
    }
    let log = s.log();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "the server logged at trace level"
    );
    // The audit trail (in the database, checked above) records the decryptions and the denial.
    let (ok, out, e) = s.cli(&["admin", "verify-audit"]).await;
    assert!(ok, "{out}{e}");
}

#[tokio::test]
async fn kms_decrypt_is_authorized_per_key_and_ciphertexts_are_bound_to_their_parameter() {
    let s = TestServer::start_sqlite_with_env(&[], &[]).await;
    let c = s.client();
    let (ok, _, e) = s.cli(&["kms", "create-key", "--alias", "alias/app"]).await;
    assert!(ok, "{e}");
    c.put_parameter()
        .name("/a/secret")
        .value("alpha")
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    c.put_parameter()
        .name("/b/secret")
        .value("bravo")
        .r#type(ParameterType::SecureString)
        .key_id("alias/app")
        .send()
        .await
        .unwrap();
    let keyring: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.data_dir().join("kms/keyring.json")).unwrap())
            .unwrap();
    let app_key = keyring["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["aliases"][0] == "alias/app")
        .unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_string();
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"ssm:GetParameter*","Resource":"arn:aws:ssm:*:*:parameter/*"}},
            {{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:000000000000:key/{app_key}"}}]}}"#
    );
    let (app, _, _) = s.user_with_policy("app", &policy).await;
    let ok = app
        .get_parameter()
        .name("/b/secret")
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.parameter.unwrap().value(), Some("bravo"));
    let e = app
        .get_parameter()
        .name("/a/secret")
        .with_decryption(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDeniedException"));
    assert!(
        app.get_parameter().name("/a/secret").send().await.is_ok(),
        "the blob needs no kms:Decrypt"
    );
    assert_eq!(
        app.put_parameter()
            .name("/x")
            .value("v")
            .r#type(ParameterType::String)
            .send()
            .await
            .unwrap_err()
            .code(),
        Some("AccessDeniedException")
    );

    // Move /a's ciphertext under /b (as someone with write access to the database might).
    c.put_parameter()
        .name("/b/secret")
        .value("bravo2")
        .overwrite(true)
        .key_id("alias/aws/ssm")
        .send()
        .await
        .unwrap();
    let db = rusqlite::Connection::open(s.data_dir().join("bosun.db")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    let n = db
        .execute(
            "UPDATE parameter_versions SET value = (SELECT value FROM parameter_versions WHERE key = '/a/secret' AND version = 1) WHERE key = '/b/secret' AND version = 2",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(db);
    let e = c
        .get_parameter()
        .name("/b/secret")
        .with_decryption(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidKeyId"), "{e:?}");
    assert!(!format!("{e:?}").contains("alpha"));
    // The genuine one still opens.
    let a = c
        .get_parameter()
        .name("/a/secret")
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    assert_eq!(a.parameter.unwrap().value(), Some("alpha"));
}

#[tokio::test]
async fn the_aws_cli_round_trips_secure_strings_and_pages_by_path() {
    let s = TestServer::start().await;
    let aws = |args: &[&str]| s.aws(args).unwrap_or_else(|e| panic!("aws {args:?}: {e}"));
    aws(&[
        "ssm",
        "put-parameter",
        "--name",
        "/cli/db/password",
        "--value",
        "pa55word",
        "--type",
        "SecureString",
    ]);
    let got = aws(&[
        "ssm",
        "get-parameter",
        "--name",
        "/cli/db/password",
        "--with-decryption",
    ]);
    assert_eq!(got["Parameter"]["Value"], "pa55word");
    let blob = aws(&["ssm", "get-parameter", "--name", "/cli/db/password"]);
    assert_ne!(blob["Parameter"]["Value"], "pa55word");
    for i in 0..12 {
        aws(&[
            "ssm",
            "put-parameter",
            "--name",
            &format!("/cli/app/k{i}"),
            "--value",
            "v",
            "--type",
            "String",
        ]);
    }
    // The CLI pages (3 per request) until no NextToken is left.
    let all = aws(&[
        "ssm",
        "get-parameters-by-path",
        "--path",
        "/cli",
        "--recursive",
        "--page-size",
        "3",
    ]);
    assert_eq!(all["Parameters"].as_array().unwrap().len(), 13, "{all}");
    let first = aws(&[
        "ssm",
        "get-parameters-by-path",
        "--path",
        "/cli",
        "--recursive",
        "--max-items",
        "5",
    ]);
    assert_eq!(first["Parameters"].as_array().unwrap().len(), 5);
    assert!(first["NextToken"].is_string(), "{first}");
}

/// Issue 11 item 5: a SecureString's KeyId may be a key id, key ARN, alias or alias ARN; one that
/// names no key gets KMS's not-found text as Parameter Store passes it on (`InvalidKeyId`; the
/// sources of each text are in `bosun_core::parameters::key_ref`).
#[tokio::test]
async fn key_ids_in_every_form_and_kms_not_found_answers() {
    let s = TestServer::start().await;
    let (ok, _, e) = s.cli(&["kms", "create-key", "--alias", "alias/team"]).await;
    assert!(ok, "{e}");
    let keyring: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.data_dir().join("kms/keyring.json")).unwrap())
            .unwrap();
    let team = keyring["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["aliases"][0] == "alias/team")
        .unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_string();
    let put = |key: &str| {
        s.aws(&[
            "ssm",
            "put-parameter",
            "--name",
            "/k",
            "--value",
            "v",
            "--type",
            "SecureString",
            "--overwrite",
            "--key-id",
            key,
        ])
    };
    for key in [
        team.clone(),
        format!("arn:aws:kms:us-east-1:000000000000:key/{team}"),
        "alias/team".to_string(),
        "arn:aws:kms:us-east-1:000000000000:alias/team".to_string(),
        "alias/aws/ssm".to_string(),
    ] {
        put(&key).unwrap_or_else(|e| panic!("{key}: {e}"));
        let got = s.aws(&["ssm", "describe-parameters"]).unwrap();
        assert_eq!(got["Parameters"][0]["KeyId"], key.as_str(), "{got}");
    }
    let unknown = "0f9b04ee-ab13-4f35-a2b2-d0902bfe6a1e";
    for (key, text) in [
        (
            unknown.to_string(),
            format!("Key 'arn:aws:kms:us-east-1:000000000000:key/{unknown}' does not exist (Service: AWSKMS; Status Code: 400; Error Code: NotFoundException; Request ID: "),
        ),
        (
            // A key of this server named under another account is not this account's key.
            format!("arn:aws:kms:us-east-1:123456789012:key/{team}"),
            format!("Key 'arn:aws:kms:us-east-1:123456789012:key/{team}' does not exist (Service: AWSKMS;"),
        ),
        (
            "alias/nope".to_string(),
            "Alias arn:aws:kms:us-east-1:000000000000:alias/nope is not found. (Service: AWSKMS; Status Code: 400; Error Code: NotFoundException; Request ID: ".to_string(),
        ),
        ("team".to_string(), "Invalid keyId team (Service: AWSKMS;".to_string()),
    ] {
        let err = put(&key).expect_err(&key);
        assert!(
            err.contains(&format!("An error occurred (InvalidKeyId) when calling the PutParameter operation: {text}")),
            "{key}: {err}"
        );
    }
}
