//! A lean SigV4 client for the API throughput benchmark: one keep-alive HTTP/1.1 connection,
//! every request signed with `aws-sigv4`, and nothing else (no retries, no endpoint resolution,
//! no interceptors), so the load generator takes as little as possible of the cores it shares
//! with the server it measures. It sends the SDKs' `amz-sdk-invocation-id` header.

use std::time::SystemTime;

use anyhow::Context;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One connection to a Bosun server's AWS JSON 1.1 endpoint.
pub struct SignedClient {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    url: String,
    region: String,
    identity: Identity,
}

impl SignedClient {
    /// Connect to `addr` (`host:port`) as the given access key.
    pub async fn connect(
        addr: &str,
        access_key_id: &str,
        secret_access_key: &str,
        region: &str,
    ) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP handshake")?;
        tokio::spawn(connection);
        Ok(Self {
            sender,
            host: addr.to_string(),
            url: format!("http://{addr}/"),
            region: region.to_string(),
            identity: Credentials::new(access_key_id, secret_access_key, None, None, "bench")
                .into(),
        })
    }

    /// Call `AmazonSSM.<operation>` with a JSON body; the response's status and body.
    pub async fn call(&mut self, operation: &str, body: &str) -> anyhow::Result<(u16, Bytes)> {
        let target = format!("AmazonSSM.{operation}");
        let headers = [
            ("host", self.host.as_str()),
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target.as_str()),
        ];
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("ssm")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()?
            .into();
        let signable = SignableRequest::new(
            "POST",
            &self.url,
            headers.into_iter(),
            SignableBody::Bytes(body.as_bytes()),
        )?;
        let (instructions, _) = sign(signable, &params)?.into_parts();
        let mut request = Request::post("/");
        for (k, v) in headers.into_iter().chain(instructions.headers()) {
            request = request.header(k, v);
        }
        // As the SDKs do (unsigned, like botocore): a mutating call is then claimed for its
        // retries, and the benchmark measures that cost.
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("random: {e}"))?;
        let invocation_id = bosun_core::ids::uuid_v4(random);
        request = request
            .header("amz-sdk-invocation-id", invocation_id)
            .header("amz-sdk-request", "attempt=1; max=1");
        let request = request.body(Full::new(Bytes::copy_from_slice(body.as_bytes())))?;
        self.sender.ready().await.context("connection closed")?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}
