//! AWS error conformance: the real boto3 sends every case of `tests/data/aws_errors.py` (at
//! least 150, each citing where its expected code and text come from) to a real server, and
//! every answer must carry AWS's error code and, where AWS's text is on record, its exact
//! message.

use std::process::Command;

use bosun_e2e::TestServer;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_recorded_aws_error_is_answered_as_aws_answers_it() {
    let server = TestServer::start().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/aws_errors.py");
    let data = server.data_dir();
    let out = Command::new("python3")
        .arg(script)
        .arg(&server.url)
        .env("AWS_SHARED_CREDENTIALS_FILE", data.join("credentials"))
        .env("AWS_CONFIG_FILE", data.join("config"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("python3 with boto3 is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "aws_errors.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    let cases = report["cases"].as_u64().unwrap_or_default();
    let exact = report["exact"].as_u64().unwrap_or_default();
    assert!(
        cases >= 150,
        "the suite keeps at least 150 cases, has {cases}"
    );
    assert!(
        exact >= 100,
        "at least 100 cases check an exact text, {exact} do"
    );
    let failures = report["failures"].as_array().cloned().unwrap_or_default();
    assert!(
        failures.is_empty(),
        "{} of {cases} cases answered otherwise than AWS:\n{}",
        failures.len(),
        serde_json::to_string_pretty(&failures).unwrap_or_default()
    );
}
