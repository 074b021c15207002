//! Model-level validation end to end: requests that break botocore's SSM model (sent as raw
//! signed JSON, since the SDKs validate some constraints client-side) get AWS's exact
//! `ValidationException` text from a real server. Each case cites where the wording comes from;
//! the full table is in `bosun_core::model`.

use std::time::SystemTime;

use bosun_e2e::http::{send_signed, sign_request, Response};
use bosun_e2e::TestServer;

async fn call(server: &TestServer, akid: &str, secret: &str, op: &str, body: &str) -> Response {
    let addr = server.addr.as_str();
    let req = sign_request(addr, op, body, akid, secret, "us-east-1", SystemTime::now());
    send_signed(addr, &req).await
}

fn validation_message(r: &Response) -> String {
    assert_eq!(
        (r.status, r.error_type().as_str()),
        (400, "ValidationException"),
        "{}",
        r.body
    );
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    body.get("message")
        .or_else(|| body.get("Message"))
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_constraints_answer_with_aws_messages() {
    let server = TestServer::start().await;
    let (akid, secret) = server.admin_credentials();

    // A too-long name; wording as in youyo/awslogin#20 ("Member must have length less than or
    // equal to 64"), entry format as aws/amazon-ssm-agent#60 (an SSM answer).
    let long = "p".repeat(2049);
    let r = call(
        &server,
        &akid,
        &secret,
        "GetParameter",
        &format!(r#"{{"Name":"{long}"}}"#),
    )
    .await;
    assert_eq!(
        validation_message(&r),
        format!("1 validation error detected: Value '{long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 2048")
    );

    // A missing required member: "Value null … Member must not be null"
    // (serverless/serverless#2036).
    let r = call(
        &server,
        &akid,
        &secret,
        "PutParameter",
        r#"{"Name":"/x","Type":"String"}"#,
    )
    .await;
    assert_eq!(
        validation_message(&r),
        "1 validation error detected: Value null at 'value' failed to satisfy constraint: Member must not be null"
    );

    // Several errors joined by "; " (flynn/flynn#3951), a range printed as '0' and a nested
    // list member path (DynamoDB answers recorded in an ACK quirk catalogue).
    let r = call(
        &server,
        &akid,
        &secret,
        "ListCommands",
        r#"{"MaxResults":0,"Filters":[{"key":"Status"}]}"#,
    )
    .await;
    assert_eq!(
        validation_message(&r),
        "2 validation errors detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1; Value null at 'filters.1.member.value' failed to satisfy constraint: Member must not be null"
    );

    // An enum, its values in model order (same catalogue: `billingMode`). A tag operation's
    // unknown `ResourceType` is not this: AWS answers it with `InvalidResourceType`
    // (`bosun_core::model::service_error`).
    let r = call(
        &server,
        &akid,
        &secret,
        "PutParameter",
        r#"{"Name":"/x","Value":"v","Type":"String","Tier":"Cheap"}"#,
    )
    .await;
    assert_eq!(
        validation_message(&r),
        "1 validation error detected: Value 'Cheap' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]"
    );

    // A list of strings whose member breaks its shape: one entry for the whole list, Java's
    // list text, every constraint of the member (CodeGenieApp/serverless-express#59; the order
    // max, min, pattern as in SWO-GS/auto-tag#77).
    let r = call(
        &server,
        &akid,
        &secret,
        "RemoveTagsFromResource",
        r#"{"ResourceType":"Parameter","ResourceId":"/x","TagKeys":["ok",""]}"#,
    )
    .await;
    assert_eq!(
        validation_message(&r),
        r"1 validation error detected: Value '[ok, ]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$]"
    );

    // A pattern, matched against the whole value (aws/amazon-ssm-agent#60: a value containing
    // a well-formed id still fails).
    let r = call(
        &server,
        &akid,
        &secret,
        "DeleteActivation",
        r#"{"ActivationId":"x-12345678-1234-1234-1234-123456789abc"}"#,
    )
    .await;
    assert_eq!(
        validation_message(&r),
        "1 validation error detected: Value 'x-12345678-1234-1234-1234-123456789abc' at 'activationId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    );

    // Bosun authorizes before validating: a caller without permission learns nothing about
    // the request's shape (whether AWS does the same was not settled by any recorded answer).
    let (_, akid2, secret2) = server
        .user_with_policy(
            "nobody",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ssm:*","Resource":"*"}]}"#,
        )
        .await;
    let r = call(
        &server,
        &akid2,
        &secret2,
        "GetParameter",
        &format!(r#"{{"Name":"{long}"}}"#),
    )
    .await;
    assert_eq!(r.error_type(), "AccessDeniedException", "{}", r.body);
}
