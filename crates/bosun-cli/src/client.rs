//! The SDK client the CLI uses: the same signed AWS API as any other client, pointed at the
//! endpoint [`crate::resolve`] finds, and errors said in one line that name what to change.

use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::anyhow;
use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};

use crate::resolve::{self, Env, Flags, Resolved, Source};

/// Where the CLI finds the server and its credentials (every flag also works after the
/// subcommand).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ClientArgs {
    /// The server's URL. Default: $BOSUN_ENDPOINT, $AWS_ENDPOINT_URL_SSM, $AWS_ENDPOINT_URL, the
    /// AWS profile's endpoint_url, the data dir's server, else http://127.0.0.1:8080.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Region to act in. Default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's region, the
    /// data dir's config, else us-east-1.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// An AWS shared-credentials file to sign with. Default: $AWS_ACCESS_KEY_ID and
    /// $AWS_SECRET_ACCESS_KEY, $AWS_SHARED_CREDENTIALS_FILE, the data dir's credentials,
    /// ~/.aws/credentials.
    #[arg(long, global = true, value_name = "FILE")]
    pub credentials_file: Option<PathBuf>,
    /// The profile in the credentials and config files. Default: $AWS_PROFILE, else default.
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// The server's data directory. Default: $BOSUN_DATA_DIR, else ./bosun-data. Client
    /// commands read its address and admin key from it when nothing else names them.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// A client ready to call the server, with the endpoint and key it uses.
#[derive(Clone)]
pub struct Connection {
    pub sdk: aws_sdk_ssm::Client,
    pub endpoint: String,
    pub region: String,
    pub akid: String,
    pub secret: String,
}

/// The endpoint in use and where it came from, for error messages.
static TARGET: OnceLock<(String, Source)> = OnceLock::new();
/// Where the access key came from, for "the server does not know this key".
static KEY_FROM: OnceLock<Option<Source>> = OnceLock::new();

impl ClientArgs {
    pub fn flags(&self) -> Flags {
        Flags {
            endpoint_url: self.endpoint_url.clone(),
            region: self.region.clone(),
            credentials_file: self.credentials_file.clone(),
            profile: self.profile.clone(),
            data_dir: self.data_dir.clone(),
        }
    }

    /// Endpoint, region and key, each with its source.
    pub fn resolve(&self) -> Resolved {
        resolve::resolve(&self.flags(), &Env::current())
    }

    /// The data dir a server-side command (`server`, `quickstart`, `admin`, `kms`) works on.
    pub fn server_data_dir(&self) -> PathBuf {
        resolve::server_data_dir(&self.flags(), &Env::current())
    }

    /// Connect: resolve, remember the endpoint for error messages, build the SDK client.
    pub fn connect(&self) -> anyhow::Result<Connection> {
        let r = self.resolve();
        let _ = TARGET.set((r.endpoint.clone(), r.endpoint_from.clone()));
        let _ = KEY_FROM.set(r.keys_from.clone());
        let (akid, secret) = r.keys.map_err(|e| anyhow!(e))?;
        Ok(Connection {
            sdk: sdk_client(&r.endpoint, &r.region, &akid, &secret),
            endpoint: r.endpoint,
            region: r.region,
            akid,
            secret,
        })
    }
}

/// Read one profile's keys from a shared-credentials file.
pub fn read_credentials(path: &std::path::Path, profile: &str) -> anyhow::Result<(String, String)> {
    resolve::read_credentials(path, profile).map_err(|e| anyhow!(e))
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

/// Render an SDK error: the AWS error code and message, or for a transport failure one line
/// saying which endpoint was tried, where it came from and how to change it.
pub fn describe_error<E>(e: &aws_sdk_ssm::error::SdkError<E>) -> String
where
    E: std::error::Error + aws_sdk_ssm::error::ProvideErrorMetadata + 'static,
{
    use aws_sdk_ssm::error::SdkError;
    match e {
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => match e.as_service_error() {
            Some(se) => {
                let code = se.code().unwrap_or("Error");
                let mut text = format!("{code}: {}", se.message().unwrap_or("(no message)"));
                if matches!(
                    code,
                    "UnrecognizedClientException" | "InvalidSignatureException"
                ) {
                    if let Some(Some(from)) = KEY_FROM.get() {
                        text.push_str(&format!(" (the access key came {from}; pick another with --credentials-file or --profile)"));
                    }
                }
                text
            }
            None => unreachable_message(e),
        },
        _ => unreachable_message(e),
    }
}

/// The one-line "cannot reach" message for any transport error.
pub fn unreachable_message(e: &(dyn std::error::Error + 'static)) -> String {
    let (endpoint, from) = TARGET
        .get()
        .cloned()
        .unwrap_or_else(|| (resolve::DEFAULT_ENDPOINT.to_string(), Source::Default));
    let https = endpoint.starts_with("https://");
    let cause = transport_cause(e, https, &endpoint);
    format!(
        "cannot reach the Bosun server at {endpoint} ({from}): {cause}. Change it with \
         --endpoint-url or BOSUN_ENDPOINT, or run from the folder that holds bosun-data \
         (or set BOSUN_DATA_DIR)"
    )
}

/// What went wrong on the wire, in words.
fn transport_cause(e: &(dyn std::error::Error + 'static), https: bool, endpoint: &str) -> String {
    let mut texts = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut io_kind = None;
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            io_kind.get_or_insert(io.kind());
        }
        texts.push(format!("{err} {err:?}"));
        cur = err.source();
    }
    let all = texts.join(" | ");
    let has = |s: &str| all.contains(s);
    if has("InvalidContentType") || has("CorruptMessage") || has("corrupt message") {
        return format!(
            "the server answered in plain HTTP, not TLS: use {}",
            endpoint.replacen("https://", "http://", 1)
        );
    }
    if has("UnknownIssuer") || has("invalid peer certificate") || has("NotValidForName") {
        return "its TLS certificate is not trusted by this machine (add the CA that signed it \
                to the system's trust store)"
            .to_string();
    }
    match io_kind {
        Some(std::io::ErrorKind::ConnectionRefused) => {
            return "connection refused (is the server running?)".to_string()
        }
        Some(std::io::ErrorKind::TimedOut) => return "the connection timed out".to_string(),
        _ => {}
    }
    if has("dns error") || has("failed to lookup address") {
        return "the host name does not resolve".to_string();
    }
    if !https
        && (has("IncompleteMessage")
            || has("connection closed before message completed")
            || has("ConnectionReset")
            || has("connection reset")
            || has("invalid HTTP version")
            || has("Parse("))
    {
        return format!(
            "it did not answer in plain HTTP (does it serve TLS?): use {}",
            endpoint.replacen("http://", "https://", 1)
        );
    }
    if has("TimeoutError") || has("timed out") {
        return "the request timed out".to_string();
    }
    // The innermost error says the most; keep it short.
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
