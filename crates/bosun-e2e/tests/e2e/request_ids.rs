//! Every API answer names its request in `x-amzn-RequestId`, as AWS does: the SDK's
//! `request_id()` and boto3's `ResponseMetadata.RequestId` show it, for errors too, and it is the
//! id the call's audit record carries.

use std::process::Command;

use aws_sdk_ssm::operation::RequestId;
use aws_sdk_ssm::types::ParameterType;
use bosun_e2e::TestServer;

fn is_uuid(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_and_errors_carry_the_request_id_of_the_audit_record() {
    let server = TestServer::start().await;
    let client = server.client();
    let put = client
        .put_parameter()
        .name("/ids/p")
        .value("v")
        .r#type(ParameterType::String)
        .send()
        .await
        .expect("PutParameter");
    let put_id = put.request_id().expect("a request id").to_string();
    assert!(is_uuid(&put_id), "{put_id}");
    let err = client
        .get_parameter()
        .name("/ids/missing")
        .send()
        .await
        .expect_err("no such parameter");
    let err_id = err.request_id().expect("errors carry a request id too");
    assert!(is_uuid(err_id) && err_id != put_id, "{err_id}");

    let records = server.read_store(|s| s.audit_records().unwrap()).await;
    let record = records
        .iter()
        .find(|(_, r)| r.action == "ssm:PutParameter")
        .map(|(_, r)| r)
        .expect("the PutParameter audit record");
    assert_eq!(record.request_id, put_id);

    // boto3, for a success and an error.
    let script = r#"
import boto3, botocore, json, sys
c = boto3.client("ssm", endpoint_url=sys.argv[1], region_name="us-east-1")
ok = c.describe_instance_information()["ResponseMetadata"]["RequestId"]
try:
    c.get_parameter(Name="/ids/missing")
    failed = None
except botocore.exceptions.ClientError as e:
    failed = e.response["ResponseMetadata"]["RequestId"]
print(json.dumps([ok, failed]))
"#;
    let data = server.data_dir();
    let out = Command::new("python3")
        .args(["-c", script, &server.url])
        .env("AWS_SHARED_CREDENTIALS_FILE", data.join("credentials"))
        .env("AWS_CONFIG_FILE", data.join("config"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("python3 with boto3 is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Vec<Option<String>> = serde_json::from_slice(&out.stdout).unwrap();
    for id in ids {
        let id = id.expect("boto3 saw a request id");
        assert!(is_uuid(&id), "{id}");
    }
}
