//! Issue 19's Distributor packages, end to end: a package with two versions is published with
//! `bosun package create` and the AWS CLI, installed on two real agents with
//! `AWS-ConfigureAWSPackage` (its scripts really run and write marks), installed again (a
//! no-op), updated in place, uninstalled; a file tampered with in the blob store fails the
//! install and changes nothing; `AttachmentsContent` URLs serve the right bytes to SigV4 callers
//! and 401 to unsigned ones; a seed-003 association with `rate(30 days)` installs at creation.
//! Bad packages (missing platform entries, traversal names, hash mismatches, foreign
//! `SourceUrl`s, oversize uploads) are refused clearly.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_ssm::types::{
    AttachmentsSource, AttachmentsSourceKey, CommandInvocationStatus, DocumentType, Target,
};
use bosun_e2e::fleet::Fleet;
use bosun_e2e::{bin, wait_for, TestServer};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const LIMIT: Duration = Duration::from_secs(60);

pub(super) fn zip_file(path: &Path, scripts: &[(&str, String)]) -> String {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, text) in scripts {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    w.finish().unwrap();
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

pub(super) fn manifest(version: &str, file: &str, sha: &str) -> Value {
    json!({
        "schemaVersion": "2.0", "version": version, "publisher": "e2e",
        "packages": {"_any": {"_any": {"_any": {"file": file}}}},
        "files": {file: {"checksums": {"sha256": sha}}}
    })
}

/// A package version's zip: its scripts append a line to `<marks>/<node id>`.
fn version_zip(dir: &Path, marks: &Path, version: &str) -> (PathBuf, String) {
    let line = |what: &str| {
        format!(
            "echo \"{what} {version} $SSM_COLOR\" >> '{}'/\"$AWS_SSM_INSTANCE_ID\"\n",
            marks.display()
        )
    };
    let path = dir.join(format!("pkg-{version}.zip"));
    let sha = zip_file(
        &path,
        &[
            ("install.sh", line("installed")),
            ("update.sh", line("updated")),
            ("uninstall.sh", line("uninstalled")),
        ],
    );
    (path, sha)
}

pub(super) fn bosun(s: &TestServer, args: &[&str]) -> (bool, String) {
    let out = s
        .as_admin(bin("bosun").to_str().unwrap())
        .args(args)
        .args(["--endpoint-url", &s.url, "--region", "us-east-1"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn configure(fleet: &Fleet, params: &[(&str, &str)]) -> String {
    send(fleet, "AWS-ConfigureAWSPackage", params).await
}

async fn send(fleet: &Fleet, document: &str, params: &[(&str, &str)]) -> String {
    let mut req = fleet
        .client
        .send_command()
        .document_name(document)
        .set_instance_ids(Some(fleet.ids()));
    for (k, v) in params {
        req = req.parameters(*k, vec![v.to_string()]);
    }
    let out = req.send().await.expect("SendCommand");
    out.command().unwrap().command_id().unwrap().to_string()
}

/// Run and expect every node's invocation to end with `status`; returns their stderr.
async fn expect(fleet: &Fleet, params: &[(&str, &str)], status: CommandInvocationStatus) {
    let id = configure(fleet, params).await;
    for node in fleet.ids() {
        let inv = fleet.wait_done(&id, &node, LIMIT).await;
        assert_eq!(
            inv.status(),
            Some(&status),
            "{params:?} on {node}: {:?} {:?}",
            inv.standard_output_content(),
            inv.standard_error_content()
        );
    }
}

fn marks_of(marks: &Path, node: &str) -> String {
    std::fs::read_to_string(marks.join(node)).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_is_installed_updated_in_place_and_uninstalled_on_two_nodes() {
    let fleet = Fleet::start(2, 2).await;
    let s = &fleet.server;
    let dir = tempfile::tempdir().unwrap();
    let marks = dir.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    let (zip1, sha1) = version_zip(dir.path(), &marks, "1.0");
    let (zip2, sha2) = version_zip(dir.path(), &marks, "2.0");
    let m1 = dir.path().join("m1.json");
    std::fs::write(&m1, manifest("1.0", "pkg-1.0.zip", &sha1).to_string()).unwrap();

    // Version 1 with Bosun's CLI; version 2 with the AWS CLI and an upload's SourceUrl.
    let (ok, out) = bosun(
        s,
        &[
            "package",
            "create",
            "Tools",
            m1.to_str().unwrap(),
            "--file",
            zip1.to_str().unwrap(),
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = bosun(s, &["package", "upload", zip2.to_str().unwrap()]);
    assert!(ok, "{out}");
    let source_url = out.split('\t').next().unwrap().trim().to_string();
    assert_eq!(source_url, format!("bosun://attachments/{sha2}"));
    let m2 = manifest("2.0", "pkg-2.0.zip", &sha2).to_string();
    let attachments = json!([{"Key": "SourceUrl", "Values": [source_url]}]).to_string();
    let updated = s
        .aws(&[
            "ssm",
            "update-document",
            "--name",
            "Tools",
            "--document-version",
            "$LATEST",
            "--content",
            &m2,
            "--attachments",
            &attachments,
        ])
        .unwrap();
    assert_eq!(updated["DocumentDescription"]["DocumentVersion"], "2");
    assert_eq!(
        updated["DocumentDescription"]["AttachmentsInformation"],
        json!([{"Name": "pkg-2.0.zip"}])
    );
    let (ok, out) = bosun(s, &["package", "list"]);
    assert!(ok && out.contains("Tools\t1\t1.0"), "{out}");

    // AttachmentsContent: Bosun URLs with the right bytes for SigV4 callers, 401 unsigned.
    let got = s
        .aws(&[
            "ssm",
            "get-document",
            "--name",
            "Tools",
            "--document-version",
            "2",
        ])
        .unwrap();
    let file = &got["AttachmentsContent"][0];
    assert_eq!(file["Name"], "pkg-2.0.zip");
    assert_eq!(
        (file["Hash"].as_str(), file["HashType"].as_str()),
        (Some(sha2.as_str()), Some("Sha256"))
    );
    assert_eq!(
        file["Size"].as_u64(),
        Some(std::fs::metadata(&zip2).unwrap().len())
    );
    let url = file["Url"].as_str().unwrap();
    let (akid, secret) = s.admin_credentials();
    let fetched = bosun_e2e::http::signed_get(url, &akid, &secret, "us-east-1").await;
    assert_eq!(fetched.status, 200);
    let path = url.strip_prefix(&s.url).unwrap();
    let unsigned = bosun_e2e::http::get(&s.addr, path).await.unwrap();
    assert_eq!(unsigned.status, 401, "{}", unsigned.body);

    // Install 1.0 on both nodes (scripts run with additionalArguments), again (a no-op),
    // update in place to 2.0, uninstall.
    let install1 = [
        ("action", "Install"),
        ("name", "Tools"),
        ("version", "1.0"),
        ("additionalArguments", r#"{"SSM_COLOR":"blue"}"#),
    ];
    expect(&fleet, &install1, CommandInvocationStatus::Success).await;
    expect(&fleet, &install1, CommandInvocationStatus::Success).await;
    for node in fleet.ids() {
        assert_eq!(marks_of(&marks, &node), "installed 1.0 blue\n");
    }
    // Each node reports what it installed: AWS:Application inventory and `bosun package list`.
    for node in fleet.ids() {
        wait_for(&format!("{node} reports Tools 1.0"), LIMIT, || async {
            let out = fleet
                .client
                .list_inventory_entries()
                .instance_id(&node)
                .type_name("AWS:Application")
                .send()
                .await
                .ok()?;
            let e = out.entries().first()?;
            (e.get("Name").map(String::as_str) == Some("Tools")
                && e.get("Version").map(String::as_str) == Some("1.0"))
            .then_some(())
        })
        .await;
        let (ok, out) = bosun(s, &["package", "list", "--node", &node]);
        assert!(ok && out.contains("Tools\t1.0"), "{out}");
    }
    let update = [
        ("action", "Install"),
        ("name", "Tools"),
        ("version", "2.0"),
        ("installationType", "In-place update"),
    ];
    expect(&fleet, &update, CommandInvocationStatus::Success).await;
    // A user's own Command document with an aws:configurePackage step uninstalls it.
    let remove = json!({"schemaVersion": "2.2", "description": "Remove Tools", "mainSteps": [
        {"action": "aws:configurePackage", "name": "remove", "inputs": {"name": "Tools", "action": "Uninstall"}}]});
    fleet
        .client
        .create_document()
        .name("RemoveTools")
        .content(remove.to_string())
        .send()
        .await
        .expect("CreateDocument");
    let id = send(&fleet, "RemoveTools", &[]).await;
    for node in fleet.ids() {
        let inv = fleet.wait_done(&id, &node, LIMIT).await;
        assert_eq!(
            inv.status(),
            Some(&CommandInvocationStatus::Success),
            "{:?}",
            inv.standard_error_content()
        );
    }
    for node in fleet.ids() {
        assert_eq!(
            marks_of(&marks, &node),
            "installed 1.0 blue\nupdated 2.0 \nuninstalled 2.0 \n"
        );
    }
    expect(
        &fleet,
        &[("action", "Uninstall"), ("name", "Tools")],
        CommandInvocationStatus::Failed,
    )
    .await;
    // "Uninstall and reinstall" (the default): the old version's uninstall.sh, then the new
    // version's install.sh.
    fn at(v: &str) -> [(&str, &str); 3] {
        [("action", "Install"), ("name", "Tools"), ("version", v)]
    }
    expect(&fleet, &at("1.0"), CommandInvocationStatus::Success).await;
    expect(&fleet, &at("2.0"), CommandInvocationStatus::Success).await;
    let uninstall = [("action", "Uninstall"), ("name", "Tools")];
    expect(&fleet, &uninstall, CommandInvocationStatus::Success).await;
    for node in fleet.ids() {
        assert!(
            marks_of(&marks, &node).ends_with(
                "uninstalled 2.0 \ninstalled 1.0 \nuninstalled 1.0 \ninstalled 2.0 \nuninstalled 2.0 \n"
            ),
            "{}",
            marks_of(&marks, &node)
        );
    }

    // A file changed in the blob store fails the install: nothing runs, nothing is recorded.
    let blob = s.data_dir().join("blobs/attachments").join(&sha1);
    std::fs::write(&blob, b"tampered").unwrap();
    let id = configure(
        &fleet,
        &[("action", "Install"), ("name", "Tools"), ("version", "1.0")],
    )
    .await;
    for (node, agent) in fleet.ids().iter().zip(&fleet.agents) {
        let inv = fleet.wait_done(&id, node, LIMIT).await;
        assert_eq!(inv.status(), Some(&CommandInvocationStatus::Failed));
        assert!(
            inv.standard_error_content()
                .unwrap_or_default()
                .contains("nothing was installed"),
            "{:?}",
            inv.standard_error_content()
        );
        assert!(!agent.state_dir.join("packages/Tools.json").exists());
        assert!(marks_of(&marks, node).ends_with("uninstalled 2.0 \n"));
    }

    // Seed 003: AWS-ConfigureAWSPackage every 30 days on the tagged nodes runs at creation
    // (the default version, 1.0 — whose file is still tampered — so install 2.0 explicitly).
    let assoc = fleet
        .client
        .create_association()
        .name("AWS-ConfigureAWSPackage")
        .targets(Target::builder().key("tag:env").values("test").build())
        .schedule_expression("rate(30 days)")
        .parameters("action", vec!["Install".into()])
        .parameters("name", vec!["Tools".into()])
        .parameters("version", vec!["2.0".into()])
        .send()
        .await
        .expect("CreateAssociation");
    let assoc_id = assoc
        .association_description()
        .unwrap()
        .association_id()
        .unwrap()
        .to_string();
    wait_for("the association's first execution", LIMIT, || async {
        let out = fleet
            .client
            .describe_association_executions()
            .association_id(&assoc_id)
            .send()
            .await
            .ok()?;
        let e = out.association_executions().first()?;
        (e.status() == Some("Success")).then_some(())
    })
    .await;
    for node in fleet.ids() {
        assert!(
            marks_of(&marks, &node).ends_with("installed 2.0 \n"),
            "{}",
            marks_of(&marks, &node)
        );
    }
}

async fn create(
    client: &aws_sdk_ssm::Client,
    name: &str,
    content: &Value,
    sources: Vec<AttachmentsSource>,
) -> Result<(), String> {
    client
        .create_document()
        .name(name)
        .document_type(DocumentType::Package)
        .content(content.to_string())
        .set_attachments(Some(sources))
        .send()
        .await
        .map(drop)
        .map_err(|e| {
            let e = e.into_service_error();
            format!(
                "{}: {}",
                aws_sdk_ssm::error::ProvideErrorMetadata::code(&e).unwrap_or_default(),
                e
            )
        })
}

fn source(key: AttachmentsSourceKey, value: &str) -> AttachmentsSource {
    AttachmentsSource::builder().key(key).values(value).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_packages_are_refused_clearly() {
    let s = TestServer::start().await;
    let client = s.client();
    let dir = tempfile::tempdir().unwrap();
    let (zip, sha) = version_zip(dir.path(), dir.path(), "1.0");
    let (ok, out) = bosun(&s, &["package", "upload", zip.to_str().unwrap()]);
    assert!(ok, "{out}");
    let url = format!("bosun://attachments/{sha}");
    let good = manifest("1.0", "pkg-1.0.zip", &sha);
    let mut no_platform = good.clone();
    no_platform["packages"] = json!({});
    let mut empty_platform = good.clone();
    empty_platform["packages"] = json!({"ubuntu": {}});
    let mut traversal = good.clone();
    traversal["files"] = json!({"../evil.zip": {"checksums": {"sha256": sha}}});
    traversal["packages"]["_any"]["_any"]["_any"]["file"] = json!("../evil.zip");
    let mismatch = manifest("1.0", "pkg-1.0.zip", &"0".repeat(64));
    let cases = [
        (no_platform, url.clone(), "packages has no entries"),
        (
            empty_platform,
            url.clone(),
            "packages.ubuntu has no entries",
        ),
        (traversal, url.clone(), "is not a file name"),
        (mismatch, url.clone(), "no attachment has its SHA-256"),
        (
            good.clone(),
            "s3://bucket/pkg/".to_string(),
            "does not fetch attachments from S3",
        ),
        (
            good.clone(),
            format!("bosun://attachments/{}", "1".repeat(64)),
            "no such upload",
        ),
    ];
    for (i, (content, value, want)) in cases.into_iter().enumerate() {
        let e = create(
            &client,
            &format!("Bad{i}"),
            &content,
            vec![source(AttachmentsSourceKey::SourceUrl, &value)],
        )
        .await
        .unwrap_err();
        assert!(
            e.starts_with("InvalidDocumentContent") && e.contains(want),
            "{i}: {e}"
        );
    }
    create(
        &client,
        "Good",
        &good,
        vec![source(AttachmentsSourceKey::SourceUrl, &url)],
    )
    .await
    .unwrap();
    // Another package reuses its files by reference.
    create(
        &client,
        "Again",
        &good,
        vec![source(AttachmentsSourceKey::AttachmentReference, "Good:1")],
    )
    .await
    .unwrap();
    // Over 64 MiB is refused before a byte of it is read.
    let head = format!(
        "PUT /v1/document-attachments HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        s.addr,
        (64u64 << 20) + 1
    );
    let r = bosun_e2e::http::send_raw(&s.addr, head.as_bytes())
        .await
        .unwrap();
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("at most 64 MiB"), "{}", r.body);
    // A node-style request with a forged signature is refused.
    let path = "/v1/document-attachments/us-east-1/Good/1/pkg-1.0.zip";
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (id_h, date_h, sig_h) = node_headers();
    let forged = format!(
        "GET {path} HTTP/1.1\r\nhost: {}\r\n{id_h}: mi-00000000000000000\r\n{date_h}: {now}\r\n\
         {sig_h}: AAAA\r\nconnection: close\r\n\r\n",
        s.addr
    );
    let r = bosun_e2e::http::send_raw(&s.addr, forged.as_bytes())
        .await
        .unwrap();
    assert_eq!(r.status, 401, "{}", r.body);
}

/// The node request headers (`bosun_proto::NODE_*_HEADER`), spelled out as the agent sends them.
fn node_headers() -> (&'static str, &'static str, &'static str) {
    (
        "x-bosun-node",
        "x-bosun-node-date",
        "x-bosun-node-signature",
    )
}
