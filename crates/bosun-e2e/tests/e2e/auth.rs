//! Authentication and authorization end to end: SigV4 failures change nothing, a repeated
//! signed request acts again (as on AWS), and IAM policies allow and deny exactly.

use std::time::{Duration, SystemTime};

use aws_sdk_ssm::error::ProvideErrorMetadata;
use bosun_e2e::http::{send_signed, sign_request};
use bosun_e2e::TestServer;

const CREATE: &str = r#"{"IamRole":"BosunNode","RegistrationLimit":1}"#;

async fn activation_count(server: &TestServer) -> usize {
    server
        .client()
        .describe_activations()
        .send()
        .await
        .unwrap()
        .activation_list
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_are_rejected_and_change_nothing() {
    let server = TestServer::start().await;
    let (akid, secret) = server.admin_credentials();
    let now = SystemTime::now();
    let addr = server.addr.as_str();

    // Control: a correctly signed raw request works.
    let ok = send_signed(
        addr,
        &sign_request(
            addr,
            "DescribeActivations",
            "{}",
            &akid,
            &secret,
            "us-east-1",
            now,
        ),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);

    let wrong_secret = sign_request(
        addr,
        "CreateActivation",
        CREATE,
        &akid,
        "not-the-secret",
        "us-east-1",
        now,
    );
    let r = send_signed(addr, &wrong_secret).await;
    assert_eq!(
        (r.status, r.error_type().as_str()),
        (400, "InvalidSignatureException"),
        "{}",
        r.body
    );

    let mut tampered = sign_request(
        addr,
        "CreateActivation",
        CREATE,
        &akid,
        &secret,
        "us-east-1",
        now,
    );
    tampered.body = tampered
        .body
        .replace("\"RegistrationLimit\":1", "\"RegistrationLimit\":9");
    let r = send_signed(addr, &tampered).await;
    assert_eq!(r.error_type(), "InvalidSignatureException", "{}", r.body);

    for skew in [-360i64, 360] {
        let when = if skew < 0 {
            now - Duration::from_secs(360)
        } else {
            now + Duration::from_secs(360)
        };
        let r = send_signed(
            addr,
            &sign_request(
                addr,
                "CreateActivation",
                CREATE,
                &akid,
                &secret,
                "us-east-1",
                when,
            ),
        )
        .await;
        assert_eq!(
            r.error_type(),
            "InvalidSignatureException",
            "skew {skew}: {}",
            r.body
        );
        assert!(
            r.body.contains("Signature expired") || r.body.contains("Signature not yet current"),
            "{}",
            r.body
        );
    }

    let r = send_signed(
        addr,
        &sign_request(
            addr,
            "CreateActivation",
            CREATE,
            "AKIAUNKNOWNUNKNOWN00",
            &secret,
            "us-east-1",
            now,
        ),
    )
    .await;
    assert_eq!(r.error_type(), "UnrecognizedClientException", "{}", r.body);

    let mut unsigned = sign_request(
        addr,
        "CreateActivation",
        CREATE,
        &akid,
        &secret,
        "us-east-1",
        now,
    );
    unsigned.headers.retain(|(k, _)| k != "authorization");
    let r = send_signed(addr, &unsigned).await;
    assert_eq!(
        r.error_type(),
        "MissingAuthenticationTokenException",
        "{}",
        r.body
    );

    // Switching the operation of a signed request breaks the signature too.
    let mut retargeted = sign_request(
        addr,
        "DescribeActivations",
        "{}",
        &akid,
        &secret,
        "us-east-1",
        now,
    );
    for (k, v) in retargeted.headers.iter_mut() {
        if k == "x-amz-target" {
            *v = "AmazonSSM.CreateActivation".into();
        }
    }
    let r = send_signed(addr, &retargeted).await;
    assert_eq!(r.error_type(), "InvalidSignatureException", "{}", r.body);

    assert_eq!(
        activation_count(&server).await,
        0,
        "no rejected request created anything"
    );
}

/// Without an SDK invocation id nothing says the second copy is a retry: it is a second call.
/// (Retries carrying one get the first answer: `tests/e2e/idempotency.rs`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identical_signed_request_repeated_is_a_second_call() {
    let server = TestServer::start().await;
    let (akid, secret) = server.admin_credentials();
    let addr = server.addr.as_str();
    let req = sign_request(
        addr,
        "CreateActivation",
        CREATE,
        &akid,
        &secret,
        "us-east-1",
        SystemTime::now(),
    );
    let first = send_signed(addr, &req).await;
    let second = send_signed(addr, &req).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(second.status, 200, "{}", second.body);
    assert_ne!(first.body, second.body, "two activations, two codes");
    assert_eq!(activation_count(&server).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_allow_and_deny_exactly() {
    let server = TestServer::start().await;
    let dir = server.dir.path();

    // A user holding the policy from seed 002, unchanged.
    let seed_policy = r#"{
    "Version": "2012-10-17",
    "Statement": [
        { "Action": ["resource-groups:ListGroups", "resource-groups:ListGroupResources"], "Resource": "*", "Effect": "Allow" },
        { "Action": ["ssm:SendCommand", "ssm:CancelCommand", "ssm:ListCommands", "ssm:ListCommandInvocations",
                     "ssm:GetCommandInvocation", "ssm:GetAutomationExecution", "ssm:StartAutomationExecution",
                     "ssm:ListTagsForResource", "ssm:GetParameters", "ssm:DescribeInstanceInformation"],
          "Resource": "*", "Effect": "Allow" },
        { "Action": ["ec2:StartInstances", "ec2:DescribeInstanceStatus"], "Resource": "*", "Effect": "Allow" },
        { "Action": ["tag:GetResources"], "Resource": "*", "Effect": "Allow" }
    ]
}"#;
    let deny_policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"ssm:*","Resource":"*"},
        {"Effect":"Deny","Action":"ssm:DescribeInstanceInformation","Resource":"*"}]}"#;
    let maintainer = server.user_with_policy("maintainer", seed_policy).await.0;
    let limited = server.user_with_policy("limited", deny_policy).await.0;
    maintainer
        .describe_instance_information()
        .send()
        .await
        .expect("the seed policy allows it");
    let err = maintainer
        .create_activation()
        .iam_role("r")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));

    let err = limited
        .describe_instance_information()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert!(err
        .message()
        .unwrap_or_default()
        .contains("ssm:DescribeInstanceInformation"));
    limited
        .describe_activations()
        .send()
        .await
        .expect("ssm:* allows the rest");
    assert_eq!(
        activation_count(&server).await,
        0,
        "the denied CreateActivation created nothing"
    );

    // A malformed policy is refused when attached.
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"Statement":[{"Effect":"Maybe","Action":"ssm:*","Resource":"*"}]}"#,
    )
    .unwrap();
    let (ok, _, err) = server
        .cli(&[
            "admin",
            "put-policy",
            "limited",
            "bad",
            "--file",
            bad.to_str().unwrap(),
        ])
        .await;
    assert!(!ok && err.contains("not valid"), "{err}");

    // Denials and mutating calls are in the audit trail, and the chain verifies.
    let records = server.read_store(|s| s.audit_records().unwrap()).await;
    assert!(records.iter().any(|(_, r)| r.principal == "limited"
        && r.action == "ssm:DescribeInstanceInformation"
        && r.outcome == "Denied"));
    assert!(records.iter().any(|(_, r)| r.principal == "maintainer"
        && r.action == "ssm:CreateActivation"
        && r.outcome == "Denied"));
    let (ok, out, err) = server.cli(&["admin", "verify-audit"]).await;
    assert!(ok && out.contains("intact"), "{out}{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_with_an_aws_shaped_error() {
    let server = TestServer::start().await;
    let (akid, secret) = server.admin_credentials();
    let addr = server.addr.as_str();
    let big = format!(
        r#"{{"IamRole":"r","Description":"{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let r = send_signed(
        addr,
        &sign_request(
            addr,
            "CreateActivation",
            &big,
            &akid,
            &secret,
            "us-east-1",
            SystemTime::now(),
        ),
    )
    .await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.error_type(), "RequestEntityTooLargeException");
    assert_eq!(activation_count(&server).await, 0);
}
