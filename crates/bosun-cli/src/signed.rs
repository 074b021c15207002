//! Signed calls the SDK does not make for the CLI: AWS JSON-protocol operations of other
//! services on the same endpoint (`AWSEvents.*`, Bosun's own `BosunNodePower.*`), Resource
//! Groups' REST-JSON and SNS's query protocol, SigV4-signed with the connection's key (blocking: call off the async threads).

use std::time::SystemTime;

use anyhow::{anyhow, bail, Context};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use serde_json::Value;

use crate::client::{unreachable_message, Connection};

/// Send `body` with `method` to `path` of the endpoint, signed for `service`, with extra
/// `headers`; the status and the answer's text.
pub fn request(
    conn: &Connection,
    service: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> anyhow::Result<(u16, String)> {
    let url = format!("{}{path}", conn.endpoint.trim_end_matches('/'));
    let host = url.split('/').nth(2).unwrap_or_default().to_string();
    let identity = Credentials::new(&conn.akid, &conn.secret, None, None, "bosun").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&conn.region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()?
        .into();
    let mut signed_headers = vec![("host", host.as_str())];
    signed_headers.extend_from_slice(headers);
    let signable = SignableRequest::new(
        method,
        &url,
        signed_headers.iter().copied(),
        SignableBody::Bytes(body),
    )?;
    let (instructions, _) = sign(signable, &params)?.into_parts();
    let agent = crate::output::http_agent();
    let mut req = match method {
        "PUT" => agent.put(&url),
        _ => agent.post(&url),
    };
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    for (k, v) in instructions.headers() {
        req = req.header(k, v);
    }
    let resp = req
        .send(body)
        .map_err(|e| anyhow!(unreachable_message(&e)))?;
    let status = resp.status().as_u16();
    let text = resp
        .into_body()
        .read_to_string()
        .context("reading the answer")?;
    Ok((status, text))
}

fn post(
    conn: &Connection,
    service: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> anyhow::Result<(u16, String)> {
    request(conn, service, "POST", path, headers, body.as_bytes())
}

/// One AWS JSON 1.1 call (`target` e.g. `AWSEvents.ListRules`) signed for `service`.
pub fn json_call(
    conn: &Connection,
    service: &str,
    target: &str,
    input: &Value,
) -> anyhow::Result<Value> {
    let headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target),
    ];
    let (status, text) = post(conn, service, "/", &headers, &input.to_string())?;
    json_answer(status, &text)
}

/// A JSON-protocol answer: its JSON, or the error as `Code: message`.
pub fn json_answer(status: u16, text: &str) -> anyhow::Result<Value> {
    let value: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    if status != 200 {
        let code = value["__type"].as_str().unwrap_or("Error");
        let message = value["message"]
            .as_str()
            .or(value["Message"].as_str())
            .unwrap_or(text);
        bail!("{code}: {message}");
    }
    Ok(value)
}

/// [`json_call`] off the async threads.
pub async fn json_call_async(
    conn: &Connection,
    service: &'static str,
    target: String,
    input: Value,
) -> anyhow::Result<Value> {
    let conn = conn.clone();
    tokio::task::spawn_blocking(move || json_call(&conn, service, &target, &input)).await?
}

/// One REST-JSON call: POST `input` to `path` (Resource Groups: `/groups`, `/get-group`, …).
pub fn rest_call(
    conn: &Connection,
    service: &str,
    path: &str,
    input: &Value,
) -> anyhow::Result<Value> {
    let headers = [("content-type", "application/json")];
    let (status, text) = post(conn, service, path, &headers, &input.to_string())?;
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        let code = value["__type"]
            .as_str()
            .or(value["Code"].as_str())
            .unwrap_or("Error");
        let message = value["Message"]
            .as_str()
            .or(value["message"].as_str())
            .unwrap_or(&text);
        bail!("{code}: {message}");
    }
    Ok(value)
}

/// One query-protocol call (SNS: `Action=Publish&…`), returning the XML answer.
pub fn query_call(
    conn: &Connection,
    service: &str,
    params: &[(&str, &str)],
) -> anyhow::Result<String> {
    let body: String = params
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let headers = [(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8",
    )];
    let (status, text) = post(conn, service, "/", &headers, &body)?;
    if status != 200 {
        let code = xml_field(&text, "Code").unwrap_or_else(|| "Error".into());
        let message = xml_field(&text, "Message").unwrap_or(text);
        bail!("{code}: {message}");
    }
    Ok(text)
}

/// `application/x-www-form-urlencoded` for one key or value.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The text of the first `<name>…</name>` in an XML answer (entities decoded).
pub fn xml_field(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(
        xml[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_values_and_xml_fields() {
        assert_eq!(super::form_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        let xml = "<R><MessageId>m-1</MessageId><Code>A&amp;B</Code></R>";
        assert_eq!(super::xml_field(xml, "MessageId").as_deref(), Some("m-1"));
        assert_eq!(super::xml_field(xml, "Code").as_deref(), Some("A&B"));
        assert_eq!(super::xml_field(xml, "Nope"), None);
    }
}
