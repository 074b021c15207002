//! Tests of the `aws:downloadContent` / `aws:runDocument` input checks.

use std::path::Path;

use serde_json::json;

use super::*;

#[test]
fn http_sources_need_https_or_an_explicit_opt_in() {
    let ok = download_spec(&json!({"sourceType": "HTTP",
        "sourceInfo": "{\"url\": \"https://example.com/a/run.sh?x=1\"}"}))
    .unwrap();
    assert_eq!(
        ok.source,
        DownloadSource::Http {
            url: "https://example.com/a/run.sh?x=1".into(),
            basic_auth: None,
            allow_insecure: false,
        }
    );
    assert_eq!(ok.destination, "");
    let plain = json!({"sourceType": "HTTP", "sourceInfo": {"url": "http://127.0.0.1:9/x"}});
    assert!(download_spec(&plain)
        .unwrap_err()
        .contains("allowInsecureDownload"));
    let opted = json!({"sourceType": "HTTP", "destinationPath": "tools/",
        "sourceInfo": {"url": "http://127.0.0.1:9/x", "allowInsecureDownload": "true",
                       "authMethod": "Basic", "username": "u", "password": "p"}});
    let spec = download_spec(&opted).unwrap();
    assert_eq!(spec.destination, "tools/");
    assert!(
        matches!(spec.source, DownloadSource::Http { basic_auth: Some((u, p)), .. } if u == "u" && p == "p")
    );
    for (bad, says) in [
        (
            json!({"sourceType": "HTTP", "sourceInfo": {}}),
            "needs a url",
        ),
        (
            json!({"sourceType": "HTTP", "sourceInfo": {"url": "ftp://x/y"}}),
            "not an http",
        ),
        (
            json!({"sourceType": "HTTP", "sourceInfo": "not json"}),
            "JSON object",
        ),
        (
            json!({"sourceType": "HTTP", "sourceInfo": {"url": "https://x/y", "authMethod": "Digest"}}),
            "Digest",
        ),
        (
            json!({"sourceType": "S3", "sourceInfo": {"path": "https://s3/x"}}),
            "not supported",
        ),
        (
            json!({"sourceType": "Tape", "sourceInfo": {}}),
            "must be one of",
        ),
        (
            json!({"sourceType": "HTTP", "sourceInfo": {"url": "https://x/y"}, "destinationPath": "../up"}),
            "leaves",
        ),
    ] {
        let e = download_spec(&bad).unwrap_err();
        assert!(e.contains(says), "{bad}: {e}");
    }
}

#[test]
fn documents_are_named_by_name_version_or_arn() {
    let d = |s: &str| document_ref(s).unwrap();
    assert_eq!(d("My-Doc").version, None);
    assert_eq!(d("My-Doc:3").version.as_deref(), Some("3"));
    assert_eq!(d("My-Doc:$LATEST").version.as_deref(), Some("$LATEST"));
    let arn = d("arn:aws:ssm:us-east-1:123456789012:document/My-Doc:2");
    assert_eq!(
        (arn.name.as_str(), arn.version.as_deref()),
        ("My-Doc", Some("2"))
    );
    assert!(document_ref("a:b").is_err());
    let spec =
        download_spec(&json!({"sourceType": "SSMDocument", "sourceInfo": {"name": "Doc:1"}}))
            .unwrap();
    assert!(matches!(spec.source, DownloadSource::Document(r) if r.name == "Doc"));
}

#[test]
fn run_document_inputs_and_parameters() {
    let spec = run_document_spec(
        &json!({"documentType": "SSMDocument", "documentPath": "Inner",
        "documentParameters": "{\"who\": \"world\", \"lines\": [\"a\", \"b\"], \"n\": 3}"}),
    )
    .unwrap();
    assert!(matches!(&spec.source, NestedSource::Document(r) if r.name == "Inner"));
    assert_eq!(spec.parameters["who"], vec!["world"]);
    assert_eq!(spec.parameters["lines"], vec!["a", "b"]);
    assert_eq!(spec.parameters["n"], vec!["3"]);
    let local = run_document_spec(&json!({"documentType": "LocalPath", "documentPath": "doc.yml"}))
        .unwrap();
    assert_eq!(local.source, NestedSource::LocalPath("doc.yml".into()));
    assert!(local.parameters.is_empty());
    assert!(run_document_spec(&json!({"documentType": "LocalPath"})).is_err());
    assert!(run_document_spec(&json!({"documentType": "S3", "documentPath": "x"})).is_err());
}

#[test]
fn relative_paths_stay_inside_the_base() {
    let base = Path::new("/var/lib/x/downloads");
    assert_eq!(confined_path(base, "").unwrap(), base);
    assert_eq!(
        confined_path(base, "a/./b/../c.sh").unwrap(),
        base.join("a/c.sh")
    );
    assert_eq!(
        confined_path(base, "/opt/tool").unwrap(),
        Path::new("/opt/tool")
    );
    assert!(confined_path(base, "../x").is_err());
    assert!(confined_path(base, "a/../../x").is_err());
}

#[test]
fn url_file_names() {
    assert_eq!(file_name_from_url("https://h/a/b/run.sh?v=1#f"), "run.sh");
    assert_eq!(file_name_from_url("http://h:8080/"), "download");
    assert_eq!(file_name_from_url("http://h"), "download");
    assert_eq!(file_name_from_url("http://h/a/.."), "download");
}
