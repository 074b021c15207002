//! Served regions (issue 11 item 8): a request signed for a region the server does not serve is
//! refused with AWS's wrong-region answer naming the served ones, so a mistyped `AWS_REGION`
//! never shows an empty namespace; regions that hold data stay served across restarts.

use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::ParameterType;
use bosun_e2e::TestServer;

async fn refusal(client: &aws_sdk_ssm::Client) -> (String, String) {
    let e = client
        .describe_parameters()
        .send()
        .await
        .expect_err("an unserved region is refused");
    (
        e.code().unwrap_or_default().to_string(),
        e.message().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn a_mistyped_region_is_refused_and_regions_with_data_stay_served() {
    let mut s = TestServer::start().await;
    let (code, message) = refusal(&s.client_in("us-esat-1")).await;
    assert_eq!(code, "InvalidSignatureException");
    assert_eq!(
        message,
        "Credential should be scoped to a valid region, not 'us-esat-1'. This server serves \
         us-east-1 (bosun server --regions adds more)."
    );
    // The same answer through the AWS CLI, as a user with the wrong AWS_REGION sees it.
    let out = std::process::Command::new("aws")
        .args(["ssm", "describe-parameters", "--endpoint-url", &s.url])
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            s.data_dir().join("credentials"),
        )
        .env("AWS_CONFIG_FILE", s.data_dir().join("config"))
        .env("AWS_REGION", "eu-wset-1")
        .env("AWS_DEFAULT_REGION", "eu-wset-1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("(InvalidSignatureException) when calling the DescribeParameters operation: Credential should be scoped to a valid region, not 'eu-wset-1'. This server serves us-east-1"),
        "{stderr}"
    );

    // Configured regions are served (and only they).
    s.restart_with(&["--regions", "us-east-1,eu-west-1"]).await;
    let west = s.client_in("eu-west-1");
    west.put_parameter()
        .name("/only/in/west")
        .value("v")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap();
    assert_eq!(
        refusal(&s.client_in("ap-south-1")).await.0,
        "InvalidSignatureException"
    );

    // Without --regions: the own region plus every region holding data.
    s.restart_with(&[]).await;
    let got = s
        .client_in("eu-west-1")
        .get_parameter()
        .name("/only/in/west")
        .send()
        .await
        .unwrap();
    assert_eq!(got.parameter.unwrap().value(), Some("v"));
    let (_, message) = refusal(&s.client_in("ap-south-1")).await;
    assert!(
        message.ends_with(
            "This server serves eu-west-1, us-east-1 (bosun server --regions adds more)."
        ),
        "{message}"
    );

    // --regions narrower than the data: the hidden region is refused and the log says why.
    s.restart_with(&["--regions", "us-east-1"]).await;
    assert_eq!(
        refusal(&s.client_in("eu-west-1")).await.0,
        "InvalidSignatureException"
    );
    assert!(
        s.log().contains("hold data but are not in --regions"),
        "{}",
        s.log()
    );
}

#[tokio::test]
async fn a_region_flag_that_is_not_a_region_name_stops_the_server() {
    let out = std::process::Command::new(bosun_e2e::bin("bosun"))
        .args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--regions",
            "us-east-1,useast1",
        ])
        .arg("--data-dir")
        .arg(tempfile::tempdir().unwrap().path().join("d"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\"useast1\" is not a region name"),
        "{stderr}"
    );
}
