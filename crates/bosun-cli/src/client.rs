//! The SDK client the CLI uses: the same signed AWS API as any other client.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};

/// Where the CLI finds the server and its credentials.
#[derive(clap::Args, Clone, Debug)]
pub struct ClientArgs {
    /// The server's URL.
    #[arg(
        long,
        env = "BOSUN_ENDPOINT",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub endpoint_url: String,
    /// Region to act in.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1", global = true)]
    pub region: String,
    /// Credentials file (AWS shared-credentials format); default: $AWS_SHARED_CREDENTIALS_FILE,
    /// else <data-dir>/credentials.
    #[arg(long, global = true)]
    pub credentials_file: Option<PathBuf>,
    /// Profile in the credentials file.
    #[arg(long, env = "AWS_PROFILE", default_value = "default", global = true)]
    pub profile: String,
}

/// Read one profile's keys from a shared-credentials file.
pub fn read_credentials(path: &Path, profile: &str) -> anyhow::Result<(String, String)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut in_profile = false;
    let (mut akid, mut secret) = (None, None);
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
        } else if in_profile {
            if let Some((k, v)) = line.split_once('=') {
                match k.trim() {
                    "aws_access_key_id" => akid = Some(v.trim().to_string()),
                    "aws_secret_access_key" => secret = Some(v.trim().to_string()),
                    _ => {}
                }
            }
        }
    }
    match (akid, secret) {
        (Some(a), Some(s)) => Ok((a, s)),
        _ => bail!(
            "profile [{profile}] in {} has no access key",
            path.display()
        ),
    }
}

impl ClientArgs {
    pub fn client(&self, data_dir: &Path) -> anyhow::Result<aws_sdk_ssm::Client> {
        let (akid, secret) = self.keys(data_dir)?;
        Ok(sdk_client(&self.endpoint_url, &self.region, &akid, &secret))
    }

    /// The access key to sign with: the environment, else the credentials file.
    pub fn keys(&self, data_dir: &Path) -> anyhow::Result<(String, String)> {
        Ok(
            match (
                std::env::var("AWS_ACCESS_KEY_ID"),
                std::env::var("AWS_SECRET_ACCESS_KEY"),
            ) {
                (Ok(a), Ok(s)) if self.credentials_file.is_none() => (a, s),
                _ => {
                    let path = self
                        .credentials_file
                        .clone()
                        .or_else(|| {
                            std::env::var_os("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from)
                        })
                        .unwrap_or_else(|| data_dir.join("credentials"));
                    read_credentials(&path, &self.profile)?
                }
            },
        )
    }
}

/// An SSM client for a Bosun endpoint.
pub fn sdk_client(endpoint: &str, region: &str, akid: &str, secret: &str) -> aws_sdk_ssm::Client {
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(akid, secret, None, None, "bosun"))
        .build();
    aws_sdk_ssm::Client::from_conf(config)
}

/// Render an SDK error with its AWS error code and message.
pub fn describe_error<E>(e: &aws_sdk_ssm::error::SdkError<E>) -> String
where
    E: std::error::Error + aws_sdk_ssm::error::ProvideErrorMetadata + 'static,
{
    match e.as_service_error() {
        Some(se) => format!(
            "{}: {}",
            se.code().unwrap_or("Error"),
            se.message().unwrap_or("(no message)")
        ),
        None => format!("{}", aws_sdk_ssm::error::DisplayErrorContext(e)),
    }
}
