//! Parameter Store end to end: a real server driven by the AWS SDK (and raw signed requests
//! where the exact response bytes matter), mirroring AWS's behaviour and errors.

use std::time::{Duration, SystemTime};

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{ParameterStringFilter, ParameterTier, ParameterType, Tag};
use aws_sdk_ssm::Client;
use bosun_e2e::{http, wait_for, TestServer};

/// The error code and message of a failed SDK call.
fn err<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<T, E>,
) -> (String, String) {
    let e = r.expect_err("the call should fail");
    (
        e.code().unwrap_or_default().to_string(),
        e.message().unwrap_or_default().to_string(),
    )
}

async fn put(c: &Client, name: &str, value: &str, t: ParameterType) -> i64 {
    c.put_parameter()
        .name(name)
        .value(value)
        .r#type(t)
        .send()
        .await
        .unwrap()
        .version()
}

/// A raw signed call with the admin key; returns (status, body).
async fn raw(s: &TestServer, op: &str, body: serde_json::Value) -> http::Response {
    let (a, k) = s.admin_credentials();
    let req = http::sign_request(
        &s.addr,
        op,
        &body.to_string(),
        &a,
        &k,
        "us-east-1",
        SystemTime::now(),
    );
    http::send_signed(&s.addr, &req).await
}

#[tokio::test]
async fn put_and_get_mirror_aws() {
    let s = TestServer::start_with(&["--regions", "us-east-1,eu-west-1"]).await;
    let c = s.client();
    assert_eq!(
        put(&c, "/TestParam1", "one", ParameterType::String).await,
        1
    );
    // `/TestParam1` and `TestParam1` are the same parameter.
    let (code, msg) = err(c
        .put_parameter()
        .name("TestParam1")
        .value("x")
        .r#type(ParameterType::String)
        .send()
        .await);
    assert_eq!(code, "ParameterAlreadyExists", "{msg}");
    let v = c
        .put_parameter()
        .name("TestParam1")
        .value("two")
        .overwrite(true)
        .send()
        .await
        .unwrap();
    assert_eq!((v.version(), v.tier()), (2, Some(&ParameterTier::Standard)));
    let p = c
        .get_parameter()
        .name("TestParam1")
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    assert_eq!(
        (p.name(), p.value(), p.version()),
        (Some("/TestParam1"), Some("two"), 2)
    );
    assert_eq!(
        p.arn(),
        Some("arn:aws:ssm:us-east-1:000000000000:parameter/TestParam1")
    );
    assert_eq!(p.data_type(), Some("text"));
    // Selectors and ARNs.
    let old = c
        .get_parameter()
        .name("/TestParam1:1")
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    assert_eq!((old.value(), old.selector()), (Some("one"), Some(":1")));
    let by_arn = c
        .get_parameter()
        .name("arn:aws:ssm:us-east-1:000000000000:parameter/TestParam1")
        .send()
        .await
        .unwrap();
    assert_eq!(by_arn.parameter.unwrap().value(), Some("two"));
    assert_eq!(
        err(c.get_parameter().name("/TestParam1:9").send().await).0,
        "ParameterVersionNotFound"
    );
    // ParameterNotFound has an empty message on real AWS.
    let missing = raw(&s, "GetParameter", serde_json::json!({"Name": "/nope"})).await;
    assert_eq!(missing.status, 400);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&missing.body).unwrap(),
        serde_json::json!({"__type": "ParameterNotFound", "message": ""})
    );
    // Another region is another store.
    assert_eq!(
        err(s
            .client_in("eu-west-1")
            .get_parameter()
            .name("/TestParam1")
            .send()
            .await)
        .0,
        "ParameterNotFound"
    );

    // Creation errors, as AWS names them.
    let e = err(c.put_parameter().name("/new").value("x").send().await);
    assert_eq!(e.0, "ValidationException");
    assert!(e.1.contains("type is required"), "{}", e.1);
    let e = err(c
        .put_parameter()
        .name("/t")
        .value("x")
        .r#type(ParameterType::String)
        .overwrite(true)
        .tags(Tag::builder().key("k").value("v").build().unwrap())
        .send()
        .await);
    assert_eq!(e.0, "ValidationException");
    assert_eq!(
        err(c
            .put_parameter()
            .name("awsx")
            .value("x")
            .r#type(ParameterType::String)
            .send()
            .await)
        .0,
        "ValidationException"
    );
    assert_eq!(
        err(c
            .put_parameter()
            .name("/aws/x")
            .value("x")
            .r#type(ParameterType::String)
            .send()
            .await)
        .0,
        "AccessDeniedException"
    );
    assert_eq!(
        err(c
            .put_parameter()
            .name("a b")
            .value("x")
            .r#type(ParameterType::String)
            .send()
            .await)
        .0,
        "ValidationException"
    );
    assert_eq!(
        err(c
            .put_parameter()
            .name("/l".repeat(16))
            .value("x")
            .r#type(ParameterType::String)
            .send()
            .await)
        .0,
        "HierarchyLevelLimitExceededException"
    );
    let big = "x".repeat(4097);
    assert_eq!(
        err(c
            .put_parameter()
            .name("/big")
            .value(&big)
            .r#type(ParameterType::String)
            .send()
            .await)
        .0,
        "ValidationException"
    );
    let adv = c
        .put_parameter()
        .name("/big")
        .value(&big)
        .r#type(ParameterType::String)
        .tier(ParameterTier::IntelligentTiering)
        .send()
        .await
        .unwrap();
    assert_eq!(adv.tier(), Some(&ParameterTier::Advanced));
    assert_eq!(
        err(c
            .put_parameter()
            .name("/big")
            .value("x")
            .tier(ParameterTier::Standard)
            .overwrite(true)
            .send()
            .await)
        .0,
        "ValidationException"
    );
    assert_eq!(
        err(c
            .put_parameter()
            .name("/huge")
            .value("x".repeat(8193))
            .r#type(ParameterType::String)
            .tier(ParameterTier::Advanced)
            .send()
            .await)
        .0,
        "ValidationException"
    );
    let e = err(c
        .put_parameter()
        .name("/pat")
        .value("abc")
        .r#type(ParameterType::String)
        .allowed_pattern("^\\d+$")
        .send()
        .await);
    assert_eq!(e.0, "ParameterPatternMismatchException");
    assert_eq!(
        err(c
            .put_parameter()
            .name("/pat")
            .value("1")
            .r#type(ParameterType::String)
            .allowed_pattern("(")
            .send()
            .await)
        .0,
        "InvalidAllowedPatternException"
    );
    assert_eq!(
        err(c
            .put_parameter()
            .name("/k")
            .value("1")
            .r#type(ParameterType::SecureString)
            .key_id("alias/none")
            .send()
            .await)
        .0,
        "InvalidKeyId"
    );
    // aws:ec2:image is for String parameters only, refused at once; the image id itself is
    // validated after the call answers (`image_validation` covers that end to end).
    assert_eq!(
        err(c
            .put_parameter()
            .name("/ami")
            .value("ami-0123456789abcdef0")
            .r#type(ParameterType::StringList)
            .data_type("aws:ec2:image")
            .send()
            .await)
        .0,
        "ValidationException"
    );
    let accepted = c
        .put_parameter()
        .name("/ami")
        .value("ami-zz")
        .r#type(ParameterType::String)
        .data_type("aws:ec2:image")
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.version(), 1);
    // Changing the type inside a hierarchy is refused.
    put(&c, "/h/x", "v", ParameterType::String).await;
    assert_eq!(
        err(c
            .put_parameter()
            .name("/h/x")
            .value("v")
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await)
        .0,
        "HierarchyTypeMismatchException"
    );
    // StringList values come back comma-joined.
    put(&c, "/list", "a,b,c", ParameterType::StringList).await;
    assert_eq!(
        c.get_parameter()
            .name("/list")
            .send()
            .await
            .unwrap()
            .parameter
            .unwrap()
            .value(),
        Some("a,b,c")
    );

    // GetParameters: found ones sorted, unknown ones in InvalidParameters.
    let got = c
        .get_parameters()
        .names("/list")
        .names("/nope")
        .names("TestParam1:1")
        .names("/TestParam1:bad")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = got
        .parameters()
        .iter()
        .map(|p| (p.name().unwrap(), p.version()))
        .collect();
    assert_eq!(names, [("/TestParam1", 1), ("/list", 1)]);
    assert_eq!(got.invalid_parameters(), ["/nope", "/TestParam1:bad"]);

    // Delete and DeleteParameters.
    c.delete_parameter().name("/list").send().await.unwrap();
    // (`list` is `/list`.)
    assert_eq!(
        err(c.delete_parameter().name("list").send().await).0,
        "ParameterNotFound"
    );
    let d = c
        .delete_parameters()
        .names("/TestParam1")
        .names("/gone")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (d.deleted_parameters(), d.invalid_parameters()),
        (&["/TestParam1".to_string()][..], &["/gone".to_string()][..])
    );
}

#[tokio::test]
async fn secure_strings_round_trip_through_real_encryption() {
    let s = TestServer::start().await;
    let c = s.client();
    put(&c, "/db/password", "hunter2", ParameterType::SecureString).await;
    let hidden = c
        .get_parameter()
        .name("/db/password")
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    let blob = hidden.value().unwrap();
    assert_ne!(blob, "hunter2");
    use base64::Engine;
    assert!(
        base64::engine::general_purpose::STANDARD
            .decode(blob)
            .is_ok(),
        "the encrypted blob is base64"
    );
    let shown = c
        .get_parameter()
        .name("/db/password")
        .with_decryption(true)
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    assert_eq!(shown.value(), Some("hunter2"));
    // WithDecryption is ignored for String parameters.
    put(&c, "/db/host", "db.local", ParameterType::String).await;
    assert_eq!(
        c.get_parameter()
            .name("/db/host")
            .with_decryption(true)
            .send()
            .await
            .unwrap()
            .parameter
            .unwrap()
            .value(),
        Some("db.local")
    );
    // Metadata shows the default key.
    let d = c
        .describe_parameters()
        .parameter_filters(
            ParameterStringFilter::builder()
                .key("Name")
                .values("/db/password")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(d.parameters()[0].key_id(), Some("alias/aws/ssm"));
    // A key made with `bosun kms create-key` can be chosen with KeyId.
    let (ok, out, errs) = s.cli(&["kms", "create-key", "--alias", "alias/team"]).await;
    assert!(ok, "{out}{errs}");
    c.put_parameter()
        .name("/db/team")
        .value("t0p")
        .r#type(ParameterType::SecureString)
        .key_id("alias/team")
        .send()
        .await
        .unwrap();
    let p = c
        .get_parameter()
        .name("/db/team")
        .with_decryption(true)
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    assert_eq!(p.value(), Some("t0p"));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(s.data_dir().join("kms/keyring.json"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    // History, with and without decryption.
    c.put_parameter()
        .name("/db/password")
        .value("hunter3")
        .overwrite(true)
        .description("rotated")
        .send()
        .await
        .unwrap();
    let h = c
        .get_parameter_history()
        .name("/db/password")
        .send()
        .await
        .unwrap();
    assert_eq!(h.parameters().len(), 2);
    assert!(h
        .parameters()
        .iter()
        .all(|v| !v.value().unwrap().contains("hunter")));
    let h = c
        .get_parameter_history()
        .name("/db/password")
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    let values: Vec<_> = h.parameters().iter().map(|v| v.value().unwrap()).collect();
    assert_eq!(values, ["hunter2", "hunter3"]);
    assert_eq!(h.parameters()[1].description(), Some("rotated"));
    assert_eq!(h.parameters()[1].key_id(), Some("alias/aws/ssm"));
    assert!(
        h.parameters()[0]
            .last_modified_user()
            .unwrap()
            .ends_with(":user/admin"),
        "{:?}",
        h.parameters()[0].last_modified_user()
    );
}

#[tokio::test]
async fn paths_recursion_filters_and_paging() {
    let s = TestServer::start().await;
    let c = s.client();
    for i in 0..23 {
        put(
            &c,
            &format!("/app/svc{i:02}/url"),
            "u",
            ParameterType::String,
        )
        .await;
    }
    put(&c, "/app/top", "t", ParameterType::SecureString).await;
    put(&c, "/app/list", "a,b", ParameterType::StringList).await;
    put(&c, "/apple", "x", ParameterType::String).await;
    put(&c, "root", "r", ParameterType::String).await;

    // Non-recursive: direct children only.
    let one = c
        .get_parameters_by_path()
        .path("/app")
        .send()
        .await
        .unwrap();
    let mut names: Vec<_> = one
        .parameters()
        .iter()
        .map(|p| p.name().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["/app/list", "/app/top"]);
    // Recursive, paged by at most 10, like AWS.
    let mut all = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = c
            .get_parameters_by_path()
            .path("/app/")
            .recursive(true)
            .max_results(10)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(page.parameters().len() <= 10);
        all.extend(
            page.parameters()
                .iter()
                .map(|p| p.name().unwrap().to_string()),
        );
        pages += 1;
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!((all.len(), pages), (25, 3));
    // The SDK paginator walks the same pages.
    let mut pages = c
        .get_parameters_by_path()
        .path("/app")
        .recursive(true)
        .max_results(4)
        .into_paginator()
        .send();
    let mut n = 0;
    while let Some(p) = pages.next().await {
        n += p.unwrap().parameters().len();
    }
    assert_eq!(n, 25);
    let root = c.get_parameters_by_path().path("/").send().await.unwrap();
    let mut top: Vec<_> = root
        .parameters()
        .iter()
        .map(|p| p.name().unwrap())
        .collect();
    top.sort();
    assert_eq!(top, ["/apple", "root"]);
    // Filters: Type, and errors for keys and options GetParametersByPath doesn't take.
    let f = |k: &str, o: Option<&str>, v: &str| {
        ParameterStringFilter::builder()
            .key(k)
            .set_option(o.map(str::to_string))
            .values(v)
            .build()
            .unwrap()
    };
    let secure = c
        .get_parameters_by_path()
        .path("/app")
        .recursive(true)
        .parameter_filters(f("Type", None, "SecureString"))
        .send()
        .await
        .unwrap();
    assert_eq!(secure.parameters().len(), 1);
    assert_eq!(
        err(c
            .get_parameters_by_path()
            .path("/app")
            .parameter_filters(f("Name", None, "x"))
            .send()
            .await)
        .0,
        "InvalidFilterKey"
    );
    assert_eq!(
        err(c
            .get_parameters_by_path()
            .path("/app")
            .parameter_filters(f("Label", Some("BeginsWith"), "x"))
            .send()
            .await)
        .0,
        "InvalidFilterOption"
    );
    assert_eq!(
        err(c
            .get_parameters_by_path()
            .path("/app")
            .max_results(11)
            .send()
            .await)
        .0,
        "ValidationException"
    );
    assert_eq!(
        err(c.get_parameters_by_path().path("app").send().await).0,
        "ValidationException"
    );
    assert_eq!(
        err(c
            .get_parameters_by_path()
            .path("/app")
            .next_token("bogus")
            .send()
            .await)
        .0,
        "InvalidNextToken"
    );

    // DescribeParameters: filters, options, paging, tags.
    c.add_tags_to_resource()
        .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
        .resource_id("/app/top")
        .tags(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .unwrap();
    let d = |filters: Vec<ParameterStringFilter>| {
        let c = c.clone();
        async move {
            let mut out = Vec::new();
            let mut pages = c
                .describe_parameters()
                .set_parameter_filters(Some(filters))
                .max_results(7)
                .into_paginator()
                .send();
            while let Some(p) = pages.next().await {
                out.extend(
                    p.unwrap()
                        .parameters()
                        .iter()
                        .map(|p| p.name().unwrap().to_string()),
                );
            }
            out.sort();
            out
        }
    };
    assert_eq!(d(vec![]).await.len(), 27);
    assert_eq!(
        d(vec![f("Path", Some("OneLevel"), "/app")]).await,
        ["/app/list", "/app/top"]
    );
    assert_eq!(
        d(vec![f("Path", Some("Recursive"), "/app")]).await.len(),
        25
    );
    assert_eq!(
        d(vec![f("Name", Some("BeginsWith"), "/app")]).await.len(),
        26
    );
    assert_eq!(
        d(vec![f("Name", Some("Contains"), "svc07")]).await,
        ["/app/svc07/url"]
    );
    assert_eq!(d(vec![f("Type", None, "StringList")]).await, ["/app/list"]);
    assert_eq!(
        d(vec![f("KeyId", None, "alias/aws/ssm")]).await,
        ["/app/top"]
    );
    assert_eq!(d(vec![f("tag:env", None, "prod")]).await, ["/app/top"]);
    assert_eq!(
        d(vec![
            f("Tier", None, "Standard"),
            f("DataType", None, "text"),
            f("Name", None, "root")
        ])
        .await,
        ["root"]
    );
    let legacy = c
        .describe_parameters()
        .filters(
            aws_sdk_ssm::types::ParametersFilter::builder()
                .key(aws_sdk_ssm::types::ParametersFilterKey::Name)
                .values("/app/svc1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(legacy.parameters().len(), 10);
    assert_eq!(
        err(c
            .describe_parameters()
            .parameter_filters(f("Label", None, "x"))
            .send()
            .await)
        .0,
        "InvalidFilterKey"
    );
    assert_eq!(
        err(c
            .describe_parameters()
            .parameter_filters(f("Type", Some("Contains"), "String"))
            .send()
            .await)
        .0,
        "InvalidFilterOption"
    );
    assert_eq!(
        err(c
            .describe_parameters()
            .parameter_filters(f("Type", None, "Bogus"))
            .send()
            .await)
        .0,
        // AWS answers a bad Type value with InvalidFilterOption (moto's recorded suite).
        "InvalidFilterOption"
    );
    let tags = c
        .list_tags_for_resource()
        .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
        .resource_id("/app/top")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_list().len(), 1);
}

#[tokio::test]
async fn versions_and_labels() {
    let s = TestServer::start().await;
    let c = s.client();
    put(&c, "/v", "1", ParameterType::String).await;
    for i in 2..=3 {
        c.put_parameter()
            .name("/v")
            .value(i.to_string())
            .overwrite(true)
            .send()
            .await
            .unwrap();
    }
    let l = c
        .label_parameter_version()
        .name("/v")
        .parameter_version(1)
        .labels("prod")
        .labels("1bad")
        .labels("awsx")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (l.parameter_version(), l.invalid_labels()),
        (1, &["1bad".to_string(), "awsx".to_string()][..])
    );
    let p = c
        .get_parameter()
        .name("/v:prod")
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    assert_eq!((p.value(), p.selector()), (Some("1"), Some(":prod")));
    // Labelling without a version labels the latest; a label moves between versions.
    let l = c
        .label_parameter_version()
        .name("/v")
        .labels("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(l.parameter_version(), 3);
    assert_eq!(
        c.get_parameter()
            .name("/v:prod")
            .send()
            .await
            .unwrap()
            .parameter
            .unwrap()
            .value(),
        Some("3")
    );
    let h = c.get_parameter_history().name("/v").send().await.unwrap();
    assert!(h.parameters()[0].labels().is_empty());
    assert_eq!(h.parameters()[2].labels(), ["prod"]);
    assert_eq!(
        err(c.get_parameter().name("/v:staging").send().await).0,
        "ParameterVersionNotFound"
    );
    assert_eq!(
        err(c
            .label_parameter_version()
            .name("/v")
            .parameter_version(7)
            .labels("x")
            .send()
            .await)
        .0,
        "ParameterVersionNotFound"
    );
    assert_eq!(
        err(c
            .label_parameter_version()
            .name("/none")
            .labels("x")
            .send()
            .await)
        .0,
        "ParameterNotFound"
    );
    // Ten labels per version.
    let mut req = c.label_parameter_version().name("/v").parameter_version(2);
    for i in 0..10 {
        req = req.labels(format!("l{i}"));
    }
    req.send().await.unwrap();
    assert_eq!(
        err(c
            .label_parameter_version()
            .name("/v")
            .parameter_version(2)
            .labels("eleven")
            .send()
            .await)
        .0,
        "ParameterVersionLabelLimitExceeded"
    );
    let u = c
        .unlabel_parameter_version()
        .name("/v")
        .parameter_version(2)
        .labels("l0")
        .labels("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (u.removed_labels(), u.invalid_labels()),
        (&["l0".to_string()][..], &["nope".to_string()][..])
    );
    // A label filter on GetParametersByPath returns the labelled version.
    let by = c
        .get_parameters_by_path()
        .path("/")
        .parameter_filters(
            ParameterStringFilter::builder()
                .key("Label")
                .values("l1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(by.parameters()[0].value(), Some("2"));

    // 100 versions: the oldest goes, unless it carries a label.
    put(&c, "/many", "0", ParameterType::String).await;
    c.label_parameter_version()
        .name("/many")
        .parameter_version(1)
        .labels("keep")
        .send()
        .await
        .unwrap();
    for i in 2..=100 {
        c.put_parameter()
            .name("/many")
            .value(i.to_string())
            .overwrite(true)
            .send()
            .await
            .unwrap();
    }
    let (code, msg) = err(c
        .put_parameter()
        .name("/many")
        .value("101")
        .overwrite(true)
        .send()
        .await);
    assert_eq!(code, "ParameterMaxVersionLimitExceeded");
    assert!(msg.contains("Version 1, the oldest version"), "{msg}");
    c.label_parameter_version()
        .name("/many")
        .parameter_version(50)
        .labels("keep")
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.put_parameter()
            .name("/many")
            .value("101b")
            .overwrite(true)
            .send()
            .await
            .unwrap()
            .version(),
        101
    );
    let mut n = 0;
    let mut pages = c
        .get_parameter_history()
        .name("/many")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for v in page.unwrap().parameters() {
            assert!(v.version() >= 2);
            n += 1;
        }
    }
    assert_eq!(n, 100);
}

#[tokio::test]
async fn expiration_policies_delete_and_notify() {
    let s = TestServer::start().await;
    let c = s.client();
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3);
    let policies = format!(
        r#"[{{"Type":"Expiration","Version":"1.0","Attributes":{{"Timestamp":"{at}"}}}},
            {{"Type":"ExpirationNotification","Version":"1.0","Attributes":{{"Before":"1","Unit":"Hours"}}}}]"#
    );
    // Policies need the Advanced tier (Intelligent-Tiering picks it).
    assert_eq!(
        err(c
            .put_parameter()
            .name("/tmp/token")
            .value("x")
            .r#type(ParameterType::String)
            .policies(&policies)
            .send()
            .await)
        .0,
        "ValidationException"
    );
    let r = c
        .put_parameter()
        .name("/tmp/token")
        .value("x")
        .r#type(ParameterType::String)
        .policies(&policies)
        .tier(ParameterTier::IntelligentTiering)
        .send()
        .await
        .unwrap();
    assert_eq!(r.tier(), Some(&ParameterTier::Advanced));
    let bad = r#"[{"Type":"Rotation","Version":"1.0","Attributes":{}}]"#;
    assert_eq!(
        err(c
            .put_parameter()
            .name("/tmp/b")
            .value("x")
            .r#type(ParameterType::String)
            .tier(ParameterTier::Advanced)
            .policies(bad)
            .send()
            .await)
        .0,
        "InvalidPolicyTypeException"
    );
    let d = c
        .describe_parameters()
        .parameter_filters(
            ParameterStringFilter::builder()
                .key("Name")
                .values("/tmp/token")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let types: Vec<_> = d.parameters()[0]
        .policies()
        .iter()
        .map(|p| p.policy_type().unwrap())
        .collect();
    assert_eq!(types, ["Expiration", "ExpirationNotification"]);
    wait_for(
        "the expired parameter to be deleted",
        Duration::from_secs(20),
        || {
            let c = c.clone();
            async move {
                match c.get_parameter().name("/tmp/token").send().await {
                    Err(e) if e.code() == Some("ParameterNotFound") => Some(()),
                    _ => None,
                }
            }
        },
    )
    .await;
    let (ok, out, errs) = s.cli(&["param", "events"]).await;
    assert!(ok, "{errs}");
    assert!(
        out.contains("ExpirationNotification")
            && out.contains("Expiration")
            && out.contains("/tmp/token"),
        "{out}"
    );
}

#[tokio::test]
async fn the_bosun_param_cli() {
    let s = TestServer::start().await;
    let run = |args: &'static [&'static str]| {
        let s = &s;
        async move {
            let (ok, out, errs) = s.cli(args).await;
            assert!(ok, "bosun {args:?}: {errs}");
            out
        }
    };
    run(&[
        "param",
        "put",
        "/app/db/password",
        "pw1",
        "--type",
        "SecureString",
    ])
    .await;
    run(&["param", "put", "/app/db/password", "pw2", "--overwrite"]).await;
    run(&["param", "put", "/app/url", "http://x", "--type", "String"]).await;
    assert_eq!(
        run(&["param", "get", "/app/db/password", "--decrypt"])
            .await
            .trim(),
        "pw2"
    );
    assert_ne!(
        run(&["param", "get", "/app/db/password"]).await.trim(),
        "pw2"
    );
    run(&[
        "param",
        "label",
        "/app/db/password",
        "--version",
        "1",
        "prod",
    ])
    .await;
    assert_eq!(
        run(&["param", "get", "/app/db/password:prod", "--decrypt"])
            .await
            .trim(),
        "pw1"
    );
    let tree = run(&["param", "ls", "/app", "--recursive"]).await;
    assert_eq!(
        tree,
        "/app\n├── db\n│   └── password  (SecureString, v2)\n└── url  (String, v1)\n"
    );
    let history = run(&["param", "history", "/app/db/password"]).await;
    assert!(
        history.contains("prod") && history.contains("(encrypted)") && !history.contains("pw1"),
        "{history}"
    );
    run(&["param", "rm", "/app/url"]).await;
    assert!(!run(&["param", "ls", "/app"]).await.contains("/app/url"));
    let (ok, _, errs) = s.cli(&["param", "get", "/app/url"]).await;
    assert!(!ok && errs.contains("ParameterNotFound"), "{errs}");
    let keys = run(&["kms", "list-keys"]).await;
    assert!(keys.contains("alias/aws/ssm"), "{keys}");
}
