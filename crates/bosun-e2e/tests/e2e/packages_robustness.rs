//! Issue 19's package gaps, end to end on a real server and agent: two configurations of one
//! package on a node run one after the other (the second finds the version installed and runs
//! nothing); a failed reinstall leaves a `failed` record, so the next Install runs the scripts
//! again rather than calling it done; deleting package documents removes their files from
//! the blob store once no document names them, and never one another document still names.

use std::path::Path;
use std::time::Duration;

use aws_sdk_ssm::types::CommandInvocationStatus;
use bosun_e2e::fleet::Fleet;
use bosun_e2e::wait_for;

use super::packages::{bosun, manifest, zip_file};

const LIMIT: Duration = Duration::from_secs(60);

async fn send(fleet: &Fleet, params: &[(&str, &str)]) -> String {
    let mut req = fleet
        .client
        .send_command()
        .document_name("AWS-ConfigureAWSPackage")
        .set_instance_ids(Some(fleet.ids()));
    for (k, v) in params {
        req = req.parameters(*k, vec![v.to_string()]);
    }
    let out = req.send().await.expect("SendCommand");
    out.command().unwrap().command_id().unwrap().to_string()
}

fn create(fleet: &Fleet, dir: &Path, name: &str, version: &str, zip: &Path, sha: &str) {
    let m = dir.join(format!("{name}-{version}.json"));
    let file = zip.file_name().unwrap().to_str().unwrap();
    std::fs::write(&m, manifest(version, file, sha).to_string()).unwrap();
    let (ok, out) = bosun(
        &fleet.server,
        &[
            "package",
            "create",
            name,
            m.to_str().unwrap(),
            "--file",
            zip.to_str().unwrap(),
        ],
    );
    assert!(ok, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_configurations_of_one_package_on_a_node_run_one_after_the_other() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let (marks, go) = (dir.path().join("marks"), dir.path().join("go"));
    // install.sh holds on until the test lets it go, so the second command arrives meanwhile.
    let install = format!(
        "echo start >> '{m}'\nwhile [ ! -e '{g}' ]; do sleep 0.05; done\necho end >> '{m}'\n",
        m = marks.display(),
        g = go.display()
    );
    let zip = dir.path().join("slow-1.0.zip");
    let sha = zip_file(&zip, &[("install.sh", install)]);
    create(&fleet, dir.path(), "Slow", "1.0", &zip, &sha);
    let params = [("action", "Install"), ("name", "Slow"), ("version", "1.0")];
    let first = send(&fleet, &params).await;
    wait_for("the first install.sh to start", LIMIT, || async {
        std::fs::read_to_string(&marks)
            .ok()
            .filter(|m| m == "start\n")
    })
    .await;
    let second = send(&fleet, &params).await;
    wait_for("the second configuration to be running", LIMIT, || async {
        let inv = fleet
            .client
            .get_command_invocation()
            .command_id(&second)
            .instance_id(&node)
            .send()
            .await
            .ok()?;
        (inv.status() == Some(&CommandInvocationStatus::InProgress)).then_some(())
    })
    .await;
    std::fs::write(&go, "").unwrap();
    for id in [&first, &second] {
        let inv = fleet.wait_done(id, &node, LIMIT).await;
        assert_eq!(
            inv.status(),
            Some(&CommandInvocationStatus::Success),
            "{:?} {:?}",
            inv.standard_output_content(),
            inv.standard_error_content()
        );
    }
    assert_eq!(std::fs::read_to_string(&marks).unwrap(), "start\nend\n");
    let out = fleet.wait_done(&second, &node, LIMIT).await;
    let text = out.standard_output_content().unwrap_or_default();
    assert!(
        text.contains("Slow 1.0 is already installed; nothing to do."),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_reinstall_is_recorded_and_the_next_install_runs_the_scripts_again() {
    let fleet = Fleet::start(1, 1).await;
    let node = fleet.ids()[0].clone();
    let agent = &fleet.agents[0];
    let dir = tempfile::tempdir().unwrap();
    let marks = dir.path().join("marks");
    let script = |what: &str, tail: &str| format!("echo {what} >> '{}'\n{tail}\n", marks.display());
    let zip1 = dir.path().join("tools-1.0.zip");
    let sha1 = zip_file(
        &zip1,
        &[
            ("install.sh", script("installed 1.0", "")),
            ("uninstall.sh", script("uninstalled 1.0", "")),
        ],
    );
    let zip2 = dir.path().join("tools-2.0.zip");
    let sha2 = zip_file(&zip2, &[("install.sh", script("failed 2.0", "exit 7"))]);
    create(&fleet, dir.path(), "Tools", "1.0", &zip1, &sha1);
    let (ok, out) = bosun(
        &fleet.server,
        &["package", "upload", zip2.to_str().unwrap()],
    );
    assert!(ok, "{out}");
    let m2 = manifest("2.0", "tools-2.0.zip", &sha2).to_string();
    let attachments = format!(r#"[{{"Key":"SourceUrl","Values":["bosun://attachments/{sha2}"]}}]"#);
    fleet
        .server
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
    let at = |v: &'static str| [("action", "Install"), ("name", "Tools"), ("version", v)];
    let ok1 = fleet
        .wait_done(&send(&fleet, &at("1.0")).await, &node, LIMIT)
        .await;
    assert_eq!(ok1.status(), Some(&CommandInvocationStatus::Success));
    let bad = fleet
        .wait_done(&send(&fleet, &at("2.0")).await, &node, LIMIT)
        .await;
    assert_eq!(bad.status(), Some(&CommandInvocationStatus::Failed));
    let err = bad.standard_error_content().unwrap_or_default();
    assert!(err.contains("Tools 2.0 is recorded as failed"), "{err}");
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(agent.state_dir.join("packages/Tools.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (record["version"].as_str(), record["state"].as_str()),
        (Some("2.0"), Some("failed"))
    );
    // 1.0 was uninstalled: asking for it again installs it (it is not taken as installed).
    let again = fleet
        .wait_done(&send(&fleet, &at("1.0")).await, &node, LIMIT)
        .await;
    assert_eq!(again.status(), Some(&CommandInvocationStatus::Success));
    assert_eq!(
        std::fs::read_to_string(&marks).unwrap(),
        "installed 1.0\nuninstalled 1.0\nfailed 2.0\ninstalled 1.0\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_package_documents_removes_files_no_document_names_any_more() {
    let fleet = Fleet::start(0, 0).await;
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared-1.0.zip");
    let shared_sha = zip_file(&shared, &[("install.sh", "true\n".into())]);
    let own = dir.path().join("own-2.0.zip");
    let own_sha = zip_file(&own, &[("install.sh", "echo two\n".into())]);
    // One: 1.0 with the shared file, 2.0 with its own; Two: the shared file.
    create(&fleet, dir.path(), "One", "1.0", &shared, &shared_sha);
    create(&fleet, dir.path(), "Two", "1.0", &shared, &shared_sha);
    let (ok, out) = bosun(&fleet.server, &["package", "upload", own.to_str().unwrap()]);
    assert!(ok, "{out}");
    let m2 = manifest("2.0", "own-2.0.zip", &own_sha).to_string();
    let attachments =
        format!(r#"[{{"Key":"SourceUrl","Values":["bosun://attachments/{own_sha}"]}}]"#);
    fleet
        .server
        .aws(&[
            "ssm",
            "update-document",
            "--name",
            "One",
            "--document-version",
            "$LATEST",
            "--content",
            &m2,
            "--attachments",
            &attachments,
        ])
        .unwrap();
    let blobs = fleet.server.data_dir().join("blobs/attachments");
    assert!(blobs.join(&shared_sha).exists() && blobs.join(&own_sha).exists());
    fleet
        .server
        .aws(&["ssm", "delete-document", "--name", "One"])
        .unwrap();
    assert!(
        !blobs.join(&own_sha).exists(),
        "One's own file went with it"
    );
    assert!(
        blobs.join(&shared_sha).exists(),
        "Two still names the shared file"
    );
    // Two can still name it in a new document: the upload is still known.
    create(&fleet, dir.path(), "Three", "1.0", &shared, &shared_sha);
    fleet
        .server
        .aws(&["ssm", "delete-document", "--name", "Two"])
        .unwrap();
    assert!(blobs.join(&shared_sha).exists(), "Three names it");
    fleet
        .server
        .aws(&["ssm", "delete-document", "--name", "Three"])
        .unwrap();
    assert!(!blobs.join(&shared_sha).exists());
    // An upload the last document took with it is gone: naming it again is refused.
    let m = manifest("1.0", "own-2.0.zip", &own_sha).to_string();
    let refused = fleet.server.aws(&[
        "ssm",
        "create-document",
        "--name",
        "Four",
        "--document-type",
        "Package",
        "--content",
        &m,
        "--attachments",
        &attachments,
    ]);
    assert!(refused.is_err(), "{refused:?}");
}
