//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`) verification of incoming requests for Bosun's AWS JSON 1.1 (SSM) endpoint.
//!
//! Pure logic: the caller passes the request as received ([`RequestParts`]), the secret it looked
//! up for the access key named by [`parse_authorization`], and `now`. Canonicalisation follows the
//! SigV4 spec for non-S3 services and is checked against botocore: the raw path is normalised and
//! each segment URI-encoded once more; query keys/values are percent-decoded (`+` is a space, as
//! botocore sends it) and re-encoded; header values are trimmed with runs of spaces collapsed.
//! Unsigned payloads (`UNSIGNED-PAYLOAD`, `STREAMING-*`) are refused.

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The only signing algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const TERMINATOR: &str = "aws4_request";
const AMZ_DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// One HTTP request as the server received it.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// Raw path as received, e.g. `"/"`.
    pub path: &'a str,
    /// Raw query string without `?`; may be `""`.
    pub query: &'a str,
    /// Header names as received (any case), values raw; repeated names allowed.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl<'a> RequestParts<'a> {
    /// Values of every header called `name` (ASCII case-insensitive), in order received.
    pub fn header_values<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a str> + 'n
    where
        'a: 'n,
    {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn first_header(&self, name: &str) -> Option<&'a str> {
        self.header_values(name).next()
    }
}

/// What the Authorization header claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key_id: String,
    /// `YYYYMMDD`.
    pub date: String,
    pub region: String,
    pub service: String,
}

impl Credential {
    /// The credential scope: `date/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.date, self.region, self.service
        )
    }
}

/// A request whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub access_key_id: String,
    pub region: String,
    pub service: String,
}

/// Why a request failed authentication.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No (or an empty) Authorization header.
    MissingAuthentication,
    /// The Authorization header or the date headers are malformed; the text says how.
    IncompleteSignature(String),
    /// The request time is more than `max_skew` before `now`. Times are `YYYYMMDDTHHMMSSZ`;
    /// `limit` is `now - max_skew`.
    SignatureExpired {
        request_time: String,
        now: String,
        limit: String,
        max_skew: Duration,
    },
    /// The request time is more than `max_skew` after `now`; `limit` is `now + max_skew`.
    SignatureNotYetCurrent {
        request_time: String,
        now: String,
        limit: String,
        max_skew: Duration,
    },
    /// The credential scope date is not the day of the request time.
    CredentialDateMismatch {
        scope_date: String,
        request_time: String,
    },
    /// The signature is not the one computed with the secret (or is not 64 hex digits).
    SignatureDoesNotMatch,
    /// The credential is scoped to this service, not the expected one.
    InvalidService(String),
    /// `x-amz-content-sha256` announces an unsigned payload (the value is carried); refused.
    UnsignedPayload(String),
    /// `x-amz-content-sha256` is not the SHA-256 of the body.
    ContentSha256Mismatch,
}

impl SigV4Error {
    /// The `__type` an AWS JSON-protocol service returns for this error.
    pub fn aws_error_code(&self) -> &'static str {
        match self {
            Self::MissingAuthentication => "MissingAuthenticationTokenException",
            Self::IncompleteSignature(_) => "IncompleteSignatureException",
            _ => "InvalidSignatureException",
        }
    }

    /// The human-readable `message` AWS would send alongside [`Self::aws_error_code`].
    pub fn message(&self) -> String {
        match self {
            Self::MissingAuthentication => "Missing Authentication Token".to_owned(),
            Self::IncompleteSignature(m) => m.clone(),
            Self::SignatureExpired { request_time, now, limit, max_skew } => format!(
                "Signature expired: {request_time} is now earlier than {limit} ({now} - {}.)",
                skew_text(*max_skew)
            ),
            Self::SignatureNotYetCurrent { request_time, now, limit, max_skew } => format!(
                "Signature not yet current: {request_time} is still later than {limit} ({now} + {}.)",
                skew_text(*max_skew)
            ),
            Self::CredentialDateMismatch { scope_date, request_time } => format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '{scope_date}' != '{}', from '{request_time}'.",
                request_time.get(..8).unwrap_or(request_time)
            ),
            Self::SignatureDoesNotMatch => "The request signature we calculated does not match \
                 the signature you provided. Check your AWS Secret Access Key and signing method. \
                 Consult the service documentation for details."
                .to_owned(),
            Self::InvalidService(got) => {
                format!("Credential should be scoped to correct service, not '{got}'.")
            }
            Self::UnsignedPayload(v) => format!(
                "x-amz-content-sha256 '{v}' is not supported by this service: the request \
                 payload must be signed."
            ),
            Self::ContentSha256Mismatch => "The provided 'x-amz-content-sha256' header does \
                 not match what was computed."
                .to_owned(),
        }
    }
}

impl fmt::Display for SigV4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

fn skew_text(d: Duration) -> String {
    let secs = d.as_secs();
    if secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} sec")
    }
}

fn incomplete(msg: impl Into<String>) -> SigV4Error {
    SigV4Error::IncompleteSignature(msg.into())
}

/// Parse the Authorization header
/// (`AWS4-HMAC-SHA256 Credential=AKID/20261121/us-east-1/ssm/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>`).
///
/// Returns the credential, the signed header names in the order given, and the signature as given.
/// Checks structure only; nothing is verified.
pub fn parse_authorization(
    req: &RequestParts,
) -> Result<(Credential, Vec<String>, String), SigV4Error> {
    let mut values = req.header_values("authorization");
    let header = match values.next() {
        Some(v) if !v.trim().is_empty() => v.trim(),
        _ => return Err(SigV4Error::MissingAuthentication),
    };
    if values.next().is_some() {
        return Err(incomplete("Only one Authorization header may be sent."));
    }
    let (algorithm, rest) = header.split_once([' ', '\t']).unwrap_or((header, ""));
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported Authorization algorithm '{algorithm}': only '{ALGORITHM}' is accepted."
        )));
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(incomplete(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            )));
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.replace(value.trim()).is_some() {
            return Err(incomplete(format!(
                "Authorization header has more than one '{}' parameter.",
                key.trim()
            )));
        }
    }
    let missing: String = [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed),
    ]
    .into_iter()
    .filter(|(_, slot)| slot.is_none_or(str::is_empty))
    .map(|(name, _)| format!("Authorization header requires '{name}' parameter. "))
    .collect();
    let (Some(credential), Some(signed), Some(signature), true) =
        (credential, signed, signature, missing.is_empty())
    else {
        return Err(incomplete(format!("{missing}Authorization={header}")));
    };
    let credential = parse_credential(credential)?;
    let signed: Vec<String> = signed.split(';').map(str::to_owned).collect();
    if signed
        .iter()
        .any(|h| h.is_empty() || !h.bytes().all(|b| b.is_ascii_graphic() && b != b':'))
    {
        return Err(incomplete(format!(
            "SignedHeaders must be a ';'-separated list of header names, got '{}'.",
            signed.join(";")
        )));
    }
    Ok((credential, signed, signature.to_owned()))
}

fn parse_credential(s: &str) -> Result<Credential, SigV4Error> {
    let parts: Vec<&str> = s.split('/').collect();
    let [akid, date, region, service, terminator] = parts[..] else {
        return Err(incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, \
             e.g. keyid/date/region/service/term, got '{s}'"
        )));
    };
    if akid.is_empty() || region.is_empty() || service.is_empty() {
        return Err(incomplete(format!(
            "Credential has an empty element, got '{s}'"
        )));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(incomplete(format!(
            "Credential date must be in yyyyMMdd format, got '{date}'"
        )));
    }
    if terminator != TERMINATOR {
        return Err(incomplete(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'."
        )));
    }
    Ok(Credential {
        access_key_id: akid.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
    })
}

/// Verify `req`: recompute the signature with `secret_access_key` and compare in constant time;
/// check the request time (X-Amz-Date, else Date) is within `max_skew` of `now` and on the
/// credential scope date; check every x-amz-content-sha256 (if present) equals the body hash;
/// require `host` among the signed headers and the credential's service to be `expected_service`.
pub fn verify(
    req: &RequestParts,
    secret_access_key: &str,
    expected_service: &str,
    now: Timestamp,
    max_skew: Duration,
) -> Result<Verified, SigV4Error> {
    let (cred, signed_headers, signature) = parse_authorization(req)?;
    if cred.service != expected_service {
        return Err(SigV4Error::InvalidService(cred.service));
    }
    if !signed_headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("host"))
    {
        return Err(incomplete(
            "'Host' must be a signed header: SignedHeaders does not include 'host'.",
        ));
    }

    let (amz_date, request_ts) = request_time(req)?;
    if amz_date.get(..8) != Some(cred.date.as_str()) {
        return Err(SigV4Error::CredentialDateMismatch {
            scope_date: cred.date,
            request_time: amz_date,
        });
    }
    check_skew(&amz_date, request_ts, now, max_skew)?;

    let body_hash = hex::encode(Sha256::digest(req.body));
    let mut payload_hash = body_hash.as_str();
    for (i, value) in req.header_values("x-amz-content-sha256").enumerate() {
        let value = value.trim();
        if value == "UNSIGNED-PAYLOAD" || value.starts_with("STREAMING-") {
            return Err(SigV4Error::UnsignedPayload(value.to_owned()));
        }
        if !value.eq_ignore_ascii_case(&body_hash) {
            return Err(SigV4Error::ContentSha256Mismatch);
        }
        if i == 0 {
            payload_hash = value;
        }
    }

    let canonical = canonical_request(req, &signed_headers, payload_hash);
    let to_sign = string_to_sign(&amz_date, &cred.scope(), &canonical);
    let provided = match hex::decode(&signature) {
        Ok(bytes) if bytes.len() == 32 => bytes,
        _ => return Err(SigV4Error::SignatureDoesNotMatch),
    };
    let key = signing_key(secret_access_key, &cred.date, &cred.region, &cred.service);
    let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC accepts any key length");
    mac.update(to_sign.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&provided)
        .map_err(|_| SigV4Error::SignatureDoesNotMatch)?;
    Ok(Verified {
        access_key_id: cred.access_key_id,
        region: cred.region,
        service: cred.service,
    })
}

/// The request time as `YYYYMMDDTHHMMSSZ` (as used in the string to sign) and as a timestamp,
/// from X-Amz-Date or, failing that, Date (ISO 8601 basic or RFC 2822/HTTP-date).
fn request_time(req: &RequestParts) -> Result<(String, Timestamp), SigV4Error> {
    if let Some(raw) = req.first_header("x-amz-date") {
        let raw = raw.trim();
        return parse_amz_date(raw)
            .map(|ts| (raw.to_owned(), ts))
            .ok_or_else(|| bad_date(raw));
    }
    let Some(raw) = req.first_header("date") else {
        return Err(incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ));
    };
    let raw = raw.trim();
    parse_amz_date(raw)
        .or_else(|| {
            jiff::fmt::rfc2822::DateTimeParser::new()
                .parse_timestamp(raw)
                .ok()
        })
        .map(|ts| (format_amz_date(ts), ts))
        .ok_or_else(|| bad_date(raw))
}

fn bad_date(raw: &str) -> SigV4Error {
    incomplete(format!(
        "Date must be in ISO-8601 'basic format'. Got '{raw}'. See \
         https://docs.aws.amazon.com/general/latest/gr/sigv4-create-string-to-sign.html"
    ))
}

/// Strict `YYYYMMDDTHHMMSSZ` (UTC).
fn parse_amz_date(s: &str) -> Option<Timestamp> {
    let shape_ok = s.len() == 16
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 => b == b'T',
            15 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let dt = jiff::fmt::strtime::parse(AMZ_DATE_FORMAT, s)
        .ok()?
        .to_datetime()
        .ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(dt).ok()
}

/// Format a timestamp as SigV4's `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(ts: Timestamp) -> String {
    ts.strftime(AMZ_DATE_FORMAT).to_string()
}

fn check_skew(
    amz_date: &str,
    request_ts: Timestamp,
    now: Timestamp,
    max_skew: Duration,
) -> Result<(), SigV4Error> {
    let skew = SignedDuration::try_from(max_skew).unwrap_or(SignedDuration::MAX);
    let limit = |ts: Result<Timestamp, jiff::Error>| ts.map(format_amz_date).unwrap_or_default();
    if now.duration_since(request_ts) > skew {
        return Err(SigV4Error::SignatureExpired {
            request_time: amz_date.to_owned(),
            now: format_amz_date(now),
            limit: limit(now.checked_sub(skew)),
            max_skew,
        });
    }
    if request_ts.duration_since(now) > skew {
        return Err(SigV4Error::SignatureNotYetCurrent {
            request_time: amz_date.to_owned(),
            now: format_amz_date(now),
            limit: limit(now.checked_add(skew)),
            max_skew,
        });
    }
    Ok(())
}

/// The SigV4 canonical request for `req`, signing `signed_headers` (in the order given) with
/// `payload_hash` as its last line.
pub fn canonical_request(
    req: &RequestParts,
    signed_headers: &[String],
    payload_hash: &str,
) -> String {
    let mut out = format!(
        "{}\n{}\n{}\n",
        req.method,
        canonical_uri(req.path),
        canonical_query(req.query)
    );
    for name in signed_headers {
        let values: Vec<String> = req.header_values(name).map(trim_all).collect();
        out += &format!("{name}:{}\n", values.join(","));
    }
    out + &format!("\n{}\n{payload_hash}", signed_headers.join(";"))
}

/// Trim spaces and tabs at both ends, and collapse inner runs of spaces to one.
fn trim_all(value: &str) -> String {
    let words: Vec<&str> = value.trim_matches([' ', '\t']).split(' ').collect();
    words
        .into_iter()
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Canonical URI for non-S3 services: remove empty, `.` and `..` segments from the raw path
/// (keeping a trailing `/`), then URI-encode each raw segment (so `%20` becomes `%2520`).
pub fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let encoded: Vec<String> = segments.iter().map(|s| uri_encode(s.as_bytes())).collect();
    let slash = if path.ends_with('/') && !segments.is_empty() {
        "/"
    } else {
        ""
    };
    format!("/{}{slash}", encoded.join("/"))
}

/// Canonical query string: each `key[=value]` percent-decoded (`+` is a space) and re-encoded,
/// sorted by key then value, `=` always present, joined with `&`.
pub fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k)),
                uri_encode(&percent_decode(v)),
            )
        })
        .collect();
    pairs.sort_unstable();
    let pairs: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join("&")
}

/// Percent-encode everything but the unreserved set `A-Z a-z 0-9 - _ . ~`.
fn uri_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out += &format!("%{b:02X}");
        }
    }
    out
}

/// Decode `%XX` escapes (malformed ones are kept literally) and `+` as a space.
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let escaped = match b.get(i + 1..i + 3) {
            Some(&[hi, lo]) if b[i] == b'%' => hex_val(hi).zip(hex_val(lo)),
            _ => None,
        };
        match (b[i], escaped) {
            (_, Some((hi, lo))) => {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (c, _) => out.push(c),
        }
        i += 1;
    }
    out
}

fn hex_val(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// `AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canonical_request)>`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

fn hmac(key: &[u8], data: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The signing key: HMAC chain `"AWS4"+secret` → date → region → service → `aws4_request`.
pub fn signing_key(secret_access_key: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret_access_key}").as_bytes(), date);
    let k_region = hmac(&k_date, region);
    let k_service = hmac(&k_region, service);
    hmac(&k_service, TERMINATOR)
}

/// Hex signature of `string_to_sign` under the key for `cred` (for signing test requests;
/// [`verify`] compares in constant time instead of calling this).
pub fn sign(secret_access_key: &str, cred: &Credential, string_to_sign: &str) -> String {
    let key = signing_key(secret_access_key, &cred.date, &cred.region, &cred.service);
    hex::encode(hmac(&key, string_to_sign))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    /// Generated by `testdata/gen_sigv4_fixtures.py` (botocore `SigV4Auth`).
    const FIXTURES: &str = include_str!("../testdata/sigv4_fixtures.json");
    const SKEW: Duration = Duration::from_secs(5 * 60);

    #[derive(Clone)]
    struct Fixture {
        name: String,
        access_key_id: String,
        secret: String,
        region: String,
        now: Timestamp,
        method: String,
        path: String,
        query: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        canonical_request: String,
        string_to_sign: String,
        signature: String,
    }

    impl Fixture {
        fn parts(&self) -> RequestParts<'_> {
            RequestParts {
                method: &self.method,
                path: &self.path,
                query: &self.query,
                headers: &self.headers,
                body: &self.body,
            }
        }

        fn verify(&self) -> Result<Verified, SigV4Error> {
            self.verify_at(self.now)
        }

        fn verify_at(&self, now: Timestamp) -> Result<Verified, SigV4Error> {
            verify(&self.parts(), &self.secret, "ssm", now, SKEW)
        }

        fn header(&self, name: &str) -> &str {
            self.parts().first_header(name).unwrap()
        }

        /// Replace the first header called `name` (or add one).
        fn set_header(&mut self, name: &str, value: &str) {
            match self
                .headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                Some(h) => h.1 = value.to_owned(),
                None => self.headers.push((name.to_owned(), value.to_owned())),
            }
        }

        fn remove_header(&mut self, name: &str) {
            self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }

        fn with_auth(&self, auth: &str) -> Fixture {
            let mut f = self.clone();
            f.set_header("Authorization", auth);
            f
        }
    }

    fn fixtures() -> Vec<Fixture> {
        let doc: Value = serde_json::from_str(FIXTURES).unwrap();
        let s = |v: &Value, k: &str| v[k].as_str().unwrap().to_owned();
        doc["fixtures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| Fixture {
                name: s(v, "name"),
                access_key_id: s(v, "access_key_id"),
                secret: s(v, "secret_access_key"),
                region: s(v, "region"),
                now: s(v, "now").parse().unwrap(),
                method: s(v, "method"),
                path: s(v, "path"),
                query: s(v, "query"),
                headers: v["headers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| (h[0].as_str().unwrap().into(), h[1].as_str().unwrap().into()))
                    .collect(),
                body: s(v, "body").into_bytes(),
                canonical_request: s(v, "canonical_request"),
                string_to_sign: s(v, "string_to_sign"),
                signature: s(v, "signature"),
            })
            .collect()
    }

    fn fixture(name: &str) -> Fixture {
        fixtures().into_iter().find(|f| f.name == name).unwrap()
    }

    /// Every fixture that Bosun should accept as is.
    fn accepted() -> Vec<Fixture> {
        fixtures()
            .into_iter()
            .filter(|f| f.name != "unsigned_payload")
            .collect()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// Sign `f` ourselves (replacing its Authorization) for `service`, over `signed_headers`.
    fn resign(f: &Fixture, service: &str, signed_headers: &[&str]) -> Fixture {
        let mut f = f.clone();
        f.remove_header("Authorization");
        let cred = Credential {
            access_key_id: f.access_key_id.clone(),
            date: "20261121".into(),
            region: f.region.clone(),
            service: service.into(),
        };
        let signed: Vec<String> = signed_headers.iter().map(|h| h.to_string()).collect();
        let payload = hex::encode(Sha256::digest(&f.body));
        let cr = canonical_request(&f.parts(), &signed, &payload);
        let sts = string_to_sign(f.header("x-amz-date"), &cred.scope(), &cr);
        let auth = format!(
            "{ALGORITHM} Credential={}/{}, SignedHeaders={}, Signature={}",
            cred.access_key_id,
            cred.scope(),
            signed.join(";"),
            sign(&f.secret, &cred, &sts)
        );
        f.set_header("Authorization", &auth);
        f
    }

    #[test]
    fn fixture_file_has_the_requested_cases() {
        let names: Vec<String> = fixtures().into_iter().map(|f| f.name).collect();
        for want in [
            "json_post",
            "query_special_chars",
            "session_token",
            "repeated_spaces",
            "repeated_header_names",
            "date_header",
            "path_normalization",
            "content_sha256_header",
            "unsigned_payload",
        ] {
            assert!(names.iter().any(|n| n == want), "missing fixture {want}");
        }
    }

    #[test]
    fn canonical_request_string_to_sign_and_signature_match_botocore() {
        for f in fixtures() {
            let (cred, signed, signature) = parse_authorization(&f.parts()).unwrap();
            assert_eq!(signature, f.signature, "{}", f.name);
            let payload = f
                .parts()
                .first_header("x-amz-content-sha256")
                .map(str::to_owned)
                .unwrap_or_else(|| hex::encode(Sha256::digest(&f.body)));
            let cr = canonical_request(&f.parts(), &signed, &payload);
            assert_eq!(cr, f.canonical_request, "{}", f.name);
            let (amz_date, _) = request_time(&f.parts()).unwrap();
            let sts = string_to_sign(&amz_date, &cred.scope(), &cr);
            assert_eq!(sts, f.string_to_sign, "{}", f.name);
            assert_eq!(sign(&f.secret, &cred, &sts), f.signature, "{}", f.name);
        }
    }

    #[test]
    fn botocore_requests_verify() {
        for f in accepted() {
            assert_eq!(
                f.verify(),
                Ok(Verified {
                    access_key_id: f.access_key_id.clone(),
                    region: f.region.clone(),
                    service: "ssm".into(),
                }),
                "{}",
                f.name
            );
        }
        assert_eq!(
            fixture("path_normalization").verify().unwrap().region,
            "eu-west-3"
        );
    }

    #[test]
    fn parse_authorization_returns_the_claims() {
        let f = fixture("session_token");
        let (cred, signed, signature) = parse_authorization(&f.parts()).unwrap();
        assert_eq!(
            cred,
            Credential {
                access_key_id: "AKIDEXAMPLE".into(),
                date: "20261121".into(),
                region: "us-east-1".into(),
                service: "ssm".into(),
            }
        );
        assert_eq!(
            signed,
            [
                "content-type",
                "host",
                "x-amz-date",
                "x-amz-security-token",
                "x-amz-target"
            ]
        );
        assert_eq!(signature, f.signature);
    }

    #[test]
    fn unsigned_payload_is_refused_even_when_correctly_signed() {
        let f = fixture("unsigned_payload");
        let err = f.verify().unwrap_err();
        assert_eq!(err, SigV4Error::UnsignedPayload("UNSIGNED-PAYLOAD".into()));
        assert_eq!(err.aws_error_code(), "InvalidSignatureException");
        let mut f = fixture("json_post");
        f.set_header("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
        assert!(matches!(f.verify(), Err(SigV4Error::UnsignedPayload(_))));
    }

    #[test]
    fn wrong_secret_fails() {
        for f in accepted() {
            let r = verify(
                &f.parts(),
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz",
                "ssm",
                f.now,
                SKEW,
            );
            assert_eq!(r, Err(SigV4Error::SignatureDoesNotMatch), "{}", f.name);
        }
    }

    #[test]
    fn body_altered_by_one_byte_fails() {
        for mut f in accepted() {
            match f.body.first_mut() {
                Some(b) => *b ^= 1,
                None => f.body.push(b'x'),
            }
            let want = if f.name == "content_sha256_header" {
                SigV4Error::ContentSha256Mismatch
            } else {
                SigV4Error::SignatureDoesNotMatch
            };
            assert_eq!(f.verify(), Err(want), "{}", f.name);
        }
    }

    #[test]
    fn signed_header_value_changed_fails() {
        let cases = [
            ("json_post", "X-Amz-Target", "AmazonSSM.SendCommand"),
            ("json_post", "Host", "evil.example.com"),
            ("json_post", "Content-Type", "application/json"),
            (
                "session_token",
                "X-Amz-Security-Token",
                "IQoJb3JpZ2luX2VjEXAMPLE",
            ),
            ("repeated_spaces", "X-Custom-Note", "hello big world!"),
            ("repeated_header_names", "X-Dup", "uno"),
            ("date_header", "Date", "Sat, 21 Nov 2026 12:00:01 -0000"),
        ];
        for (name, header, value) in cases {
            let mut f = fixture(name);
            f.set_header(header, value);
            assert_eq!(
                f.verify(),
                Err(SigV4Error::SignatureDoesNotMatch),
                "{name} {header}"
            );
        }
        // Dropping one of two same-named headers changes the joined value.
        let mut f = fixture("repeated_header_names");
        let first = f.headers.iter().position(|(n, _)| n == "X-Dup").unwrap();
        f.headers.remove(first);
        assert_eq!(f.verify(), Err(SigV4Error::SignatureDoesNotMatch));
    }

    #[test]
    fn changes_that_keep_the_canonical_form_still_verify() {
        // Unsigned header.
        let mut f = fixture("json_post");
        f.set_header("User-Agent", "something else");
        assert!(f.verify().is_ok());
        // Whitespace runs collapse; header names are case-insensitive.
        let mut f = fixture("repeated_spaces");
        f.set_header("X-Custom-Note", " hello big    world");
        f.headers.iter_mut().for_each(|h| h.0 = h.0.to_uppercase());
        assert!(f.verify().is_ok());
        // Query order, `+` vs `%20`, and needless escapes do not matter.
        let mut f = fixture("query_special_chars");
        let mut params: Vec<&str> = f.query.split('&').collect();
        params.reverse();
        f.query = params
            .join("&")
            .replace('+', "%20")
            .replace("tilde~", "tilde%7E");
        assert!(f.verify().is_ok());
        // Dot segments are normalised away.
        let mut f = fixture("path_normalization");
        f.path = "/foo%20bar/x!y~z/b/c/".into();
        assert!(f.verify().is_ok());
    }

    #[test]
    fn query_or_path_changed_fails() {
        let mut f = fixture("query_special_chars");
        f.query = f.query.replace("b=2", "b=3");
        assert_eq!(f.verify(), Err(SigV4Error::SignatureDoesNotMatch));
        let mut f = fixture("json_post");
        f.query = "x=1".into();
        assert_eq!(f.verify(), Err(SigV4Error::SignatureDoesNotMatch));
        let mut f = fixture("path_normalization");
        f.path = "/foo%20bar/x%21y~z/b/c/".into(); // double-encoding makes this differ
        assert_eq!(f.verify(), Err(SigV4Error::SignatureDoesNotMatch));
        let mut f = fixture("json_post");
        f.method = "PUT".into();
        assert_eq!(f.verify(), Err(SigV4Error::SignatureDoesNotMatch));
    }

    #[test]
    fn six_minutes_late_is_expired() {
        for name in ["json_post", "date_header"] {
            let err = fixture(name)
                .verify_at(ts("2026-11-21T12:06:00Z"))
                .unwrap_err();
            assert_eq!(
                err,
                SigV4Error::SignatureExpired {
                    request_time: "20261121T120000Z".into(),
                    now: "20261121T120600Z".into(),
                    limit: "20261121T120100Z".into(),
                    max_skew: SKEW,
                }
            );
            assert_eq!(err.aws_error_code(), "InvalidSignatureException");
            assert_eq!(
                err.message(),
                "Signature expired: 20261121T120000Z is now earlier than 20261121T120100Z \
                 (20261121T120600Z - 5 min.)"
            );
        }
    }

    #[test]
    fn six_minutes_early_is_not_yet_current() {
        let err = fixture("json_post")
            .verify_at(ts("2026-11-21T11:54:00Z"))
            .unwrap_err();
        assert!(matches!(err, SigV4Error::SignatureNotYetCurrent { .. }));
        assert_eq!(err.aws_error_code(), "InvalidSignatureException");
        assert_eq!(
            err.message(),
            "Signature not yet current: 20261121T120000Z is still later than 20261121T115900Z \
             (20261121T115400Z + 5 min.)"
        );
    }

    #[test]
    fn skew_boundaries_are_inclusive() {
        let f = fixture("json_post");
        assert!(f.verify_at(ts("2026-11-21T12:05:00Z")).is_ok());
        assert!(f.verify_at(ts("2026-11-21T11:55:00Z")).is_ok());
        assert!(f.verify_at(ts("2026-11-21T12:05:01Z")).is_err());
        // A huge skew means "don't check".
        assert!(verify(&f.parts(), &f.secret, "ssm", Timestamp::MAX, Duration::MAX).is_ok());
        // AWS's 15-minute window, in its message style.
        let err = verify(
            &f.parts(),
            &f.secret,
            "ssm",
            ts("2026-11-21T12:20:00Z"),
            3 * SKEW,
        );
        assert_eq!(
            err.unwrap_err().message(),
            "Signature expired: 20261121T120000Z is now earlier than 20261121T120500Z \
             (20261121T122000Z - 15 min.)"
        );
        let err = verify(
            &f.parts(),
            &f.secret,
            "ssm",
            ts("2026-11-21T12:20:00Z"),
            Duration::from_secs(90),
        );
        assert!(err
            .unwrap_err()
            .message()
            .ends_with("(20261121T122000Z - 90 sec.)"));
    }

    #[test]
    fn wrong_service_fails() {
        let f = fixture("json_post");
        let r = verify(&f.parts(), &f.secret, "ec2", f.now, SKEW);
        assert_eq!(r, Err(SigV4Error::InvalidService("ssm".into())));
        // Correctly signed, but for another service.
        let sts = resign(&f, "sts", &["host", "x-amz-date", "x-amz-target"]);
        assert_eq!(sts.verify(), Err(SigV4Error::InvalidService("sts".into())));
        assert_eq!(
            sts.verify().unwrap_err().aws_error_code(),
            "InvalidSignatureException"
        );
        // The helper itself signs acceptably.
        assert!(resign(&f, "ssm", &["host", "x-amz-date", "x-amz-target"])
            .verify()
            .is_ok());
    }

    #[test]
    fn host_must_be_signed() {
        let f = resign(
            &fixture("json_post"),
            "ssm",
            &["content-type", "x-amz-date", "x-amz-target"],
        );
        let err = f.verify().unwrap_err();
        assert!(matches!(err, SigV4Error::IncompleteSignature(ref m) if m.contains("'Host'")));
        assert_eq!(err.aws_error_code(), "IncompleteSignatureException");
        // Also when the SignedHeaders list is merely edited.
        let f = fixture("json_post");
        let auth = f.header("authorization").replace("host;", "");
        assert!(matches!(
            f.with_auth(&auth).verify(),
            Err(SigV4Error::IncompleteSignature(_))
        ));
    }

    #[test]
    fn malformed_authorization_headers_are_incomplete_signatures() {
        let f = fixture("json_post");
        let good = f.header("authorization").to_owned();
        let sig = &f.signature;
        let cred = "Credential=AKIDEXAMPLE/20261121/us-east-1/ssm/aws4_request";
        let sh = "SignedHeaders=content-type;host;x-amz-date;x-amz-target";
        let variants = [
            "Bearer abc".to_owned(),
            "AWS4-HMAC-SHA256".to_owned(),
            "AWS4-HMAC-SHA256 ".to_owned(),
            good.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
            good.replace("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256,"),
            format!("AWS4-HMAC-SHA256 {cred}, {sh}"),
            format!("AWS4-HMAC-SHA256 {sh}, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 {cred}, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 {cred}, {sh}, Signature="),
            format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=host;;x-amz-date, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=host x-amz-date, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 {cred}, {sh}, Signature"),
            format!("AWS4-HMAC-SHA256 {cred}, {sh}, Signature={sig}, Signature={sig}"),
            good.replace("/aws4_request", ""),
            good.replace("/aws4_request", "/aws4_request/x"),
            good.replace("aws4_request", "aws4_reques"),
            good.replace("20261121", "2026-11-21"),
            good.replace("20261121", "2026112"),
            good.replace("/us-east-1/", "//"),
            good.replace("AKIDEXAMPLE", ""),
            good.replace("/ssm/", "//"),
            "AWS4-HMAC-SHA256 Credential=a/b/c/d/e=f".to_owned(),
        ];
        for auth in &variants {
            let err = f.with_auth(auth).verify().unwrap_err();
            assert!(
                matches!(err, SigV4Error::IncompleteSignature(_)),
                "{auth:?} gave {err:?}"
            );
            assert_eq!(err.aws_error_code(), "IncompleteSignatureException");
            assert!(!err.message().is_empty());
        }
        // Missing parameters are all named, AWS-style.
        let err = f
            .with_auth("AWS4-HMAC-SHA256 Foo=bar")
            .verify()
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Authorization header requires 'Credential' parameter. Authorization header \
             requires 'Signature' parameter. Authorization header requires 'SignedHeaders' \
             parameter. Authorization=AWS4-HMAC-SHA256 Foo=bar"
        );
        // Two Authorization headers.
        let mut two = f.clone();
        two.headers.push(("authorization".into(), good.clone()));
        assert!(matches!(
            two.verify(),
            Err(SigV4Error::IncompleteSignature(_))
        ));
        // Extra spacing and unknown parameters are tolerated.
        let spaced = format!("AWS4-HMAC-SHA256  {cred} ,{sh},Signature={sig} ,Foo=bar");
        assert!(f.with_auth(&spaced).verify().is_ok());
    }

    #[test]
    fn missing_or_empty_authorization_is_missing_authentication() {
        let mut f = fixture("json_post");
        for auth in ["", "   "] {
            let err = f.with_auth(auth).verify().unwrap_err();
            assert_eq!(err, SigV4Error::MissingAuthentication);
        }
        f.remove_header("authorization");
        let err = f.verify().unwrap_err();
        assert_eq!(err, SigV4Error::MissingAuthentication);
        assert_eq!(err.aws_error_code(), "MissingAuthenticationTokenException");
        assert_eq!(err.message(), "Missing Authentication Token");
        assert_eq!(
            parse_authorization(&f.parts()),
            Err(SigV4Error::MissingAuthentication)
        );
    }

    #[test]
    fn bad_signature_values_do_not_match() {
        let f = fixture("json_post");
        let good = f.header("authorization").to_owned();
        for bad in [
            "zz".to_owned(),
            f.signature[..63].to_owned(),
            format!("{}00", f.signature),
            format!("{}0", &f.signature[..63]),
        ] {
            let err = f
                .with_auth(&good.replace(&f.signature, &bad))
                .verify()
                .unwrap_err();
            assert_eq!(err, SigV4Error::SignatureDoesNotMatch, "{bad}");
        }
        // Hex case does not matter.
        let upper = good.replace(&f.signature, &f.signature.to_uppercase());
        assert!(f.with_auth(&upper).verify().is_ok());
    }

    #[test]
    fn date_headers_are_required_and_strict() {
        let mut f = fixture("json_post");
        f.remove_header("x-amz-date");
        let err = f.verify().unwrap_err();
        assert_eq!(err.aws_error_code(), "IncompleteSignatureException");
        assert!(err.message().contains("'X-Amz-Date' or a 'Date'"));
        for bad in [
            "2026-11-21T12:00:00Z",
            "20261121T120000",
            "20261321T120000Z",
            "2026112xT120000Z",
            "",
        ] {
            let mut f = fixture("json_post");
            f.set_header("X-Amz-Date", bad);
            assert!(
                matches!(f.verify(), Err(SigV4Error::IncompleteSignature(_))),
                "{bad}"
            );
        }
        let mut f = fixture("date_header");
        f.set_header("Date", "yesterday");
        assert!(matches!(
            f.verify(),
            Err(SigV4Error::IncompleteSignature(_))
        ));
        // HTTP-date and ISO basic forms of Date are understood too.
        for date in [
            "Sat, 21 Nov 2026 12:00:00 GMT",
            "Sat, 21 Nov 2026 13:00:00 +0100",
            "20261121T120000Z",
        ] {
            let mut f = fixture("date_header");
            f.set_header("Date", date);
            let (amz_date, _) = request_time(&f.parts()).unwrap();
            assert_eq!(amz_date, "20261121T120000Z", "{date}");
        }
        // X-Amz-Date wins over Date.
        let mut f = fixture("json_post");
        f.headers.push(("Date".into(), "garbage".into()));
        assert!(f.verify().is_ok());
    }

    #[test]
    fn request_date_must_match_credential_scope_date() {
        let mut f = fixture("json_post");
        f.set_header("X-Amz-Date", "20261122T000000Z");
        let err = f.verify_at(ts("2026-11-22T00:00:00Z")).unwrap_err();
        assert_eq!(
            err,
            SigV4Error::CredentialDateMismatch {
                scope_date: "20261121".into(),
                request_time: "20261122T000000Z".into(),
            }
        );
        assert_eq!(
            err.message(),
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '20261121' != '20261122', from '20261122T000000Z'."
        );
    }

    #[test]
    fn content_sha256_must_match_body() {
        let mut f = fixture("content_sha256_header");
        f.set_header("X-Amz-Content-SHA256", &"0".repeat(64));
        let err = f.verify().unwrap_err();
        assert_eq!(err, SigV4Error::ContentSha256Mismatch);
        assert_eq!(err.aws_error_code(), "InvalidSignatureException");
        // An unsigned but correct x-amz-content-sha256 is accepted.
        let mut f = fixture("json_post");
        let hash = hex::encode(Sha256::digest(&f.body));
        f.set_header("x-amz-content-sha256", &hash);
        assert!(f.verify().is_ok());
    }

    #[test]
    fn error_codes_and_messages() {
        let mismatch = SigV4Error::SignatureDoesNotMatch;
        assert_eq!(mismatch.aws_error_code(), "InvalidSignatureException");
        assert_eq!(
            mismatch.message(),
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details."
        );
        assert_eq!(mismatch.to_string(), mismatch.message());
        let expired = SigV4Error::SignatureExpired {
            request_time: "20261121T120000Z".into(),
            now: "20261121T122000Z".into(),
            limit: "20261121T121500Z".into(),
            max_skew: SKEW,
        };
        assert_eq!(
            expired.to_string(),
            "Signature expired: 20261121T120000Z is now earlier than 20261121T121500Z \
             (20261121T122000Z - 5 min.)"
        );
        assert_eq!(
            SigV4Error::IncompleteSignature("x".into()).aws_error_code(),
            "IncompleteSignatureException"
        );
        assert_eq!(
            SigV4Error::InvalidService("s3".into()).aws_error_code(),
            "InvalidSignatureException"
        );
    }

    #[test]
    fn canonical_uri_normalises_and_encodes() {
        for (raw, want) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/a/b/../c/./d", "/a/c/d"),
            ("/a/", "/a/"),
            ("/a//b//", "/a/b/"),
            ("/../..", "/"),
            ("a/b", "/a/b"),
            ("/a b/%7E~/\u{fc}", "/a%20b/%257E~/%C3%BC"),
            ("/$&'()*+,;=:@", "/%24%26%27%28%29%2A%2B%2C%3B%3D%3A%40"),
        ] {
            assert_eq!(canonical_uri(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn canonical_query_decodes_sorts_and_encodes() {
        for (raw, want) in [
            ("", ""),
            ("a", "a="),
            ("b=2&a=1&a=0", "a=0&a=1&b=2"),
            ("&&a=1&", "a=1"),
            ("a=b=c", "a=b%3Dc"),
            ("k=a+b%2Bc%20d", "k=a%20b%2Bc%20d"),
            ("x=%zz%4&y=%", "x=%25zz%254&y=%25"),
            ("%7e=~&Z=1&a=1", "Z=1&a=1&~=~"),
            ("u=%C3%BC&raw=\u{fc}", "raw=%C3%BC&u=%C3%BC"),
            ("Action=X&Version=2014-11-06", "Action=X&Version=2014-11-06"),
        ] {
            assert_eq!(canonical_query(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        for (raw, want) in [
            ("  a   b  ", "a b"),
            ("\ta  b\t", "a b"),
            ("a \t  b", "a \t b"),
            ("", ""),
            ("   ", ""),
        ] {
            assert_eq!(trim_all(raw), want, "{raw:?}");
        }
    }

    fn header_name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("Authorization".to_owned()),
            Just("authorization".to_owned()),
            Just("X-Amz-Date".to_owned()),
            Just("Date".to_owned()),
            Just("Host".to_owned()),
            Just("x-amz-content-sha256".to_owned()),
            "[A-Za-z-]{0,12}",
        ]
    }

    fn header_value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[ -~]{0,40}",
            "[0-9TZ]{14,18}",
            (
                prop_oneof![Just(ALGORITHM.to_owned()), "[ -~]{0,20}"],
                "[ -~]{0,20}",
                "[0-9]{0,9}",
                "[a-z0-9/-]{0,14}",
                "[a-z;: -]{0,30}",
                "[0-9a-fA-Fz]{0,66}",
                "[ ,=]{0,3}",
            )
                .prop_map(|(alg, akid, date, scope, signed, sig, sep)| format!(
                    "{alg} Credential={akid}/{date}/{scope}{sep}SignedHeaders={signed}{sep}Signature={sig}"
                )),
        ]
    }

    proptest! {
        #[test]
        fn verify_never_panics(
            method in "[ -~]{0,8}",
            path in any::<String>(),
            query in any::<String>(),
            headers in prop::collection::vec((header_name(), header_value()), 0..8),
            body in prop::collection::vec(any::<u8>(), 0..64),
            now in Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(),
            skew in any::<u64>(),
        ) {
            let req = RequestParts { method: &method, path: &path, query: &query, headers: &headers, body: &body };
            let now = Timestamp::from_second(now).unwrap();
            let _ = parse_authorization(&req);
            let _ = verify(&req, "secret", "ssm", now, Duration::from_secs(skew));
        }

        /// Same, but starting from a valid request so canonicalisation sees the arbitrary parts.
        #[test]
        fn verify_never_panics_past_the_header_checks(
            path in any::<String>(),
            query in any::<String>(),
            target in any::<String>(),
            auth_tail in "[ -~]{0,12}",
        ) {
            let mut f = fixture("json_post");
            f.path = path;
            f.query = query;
            f.set_header("X-Amz-Target", &target);
            let auth = format!("{}{auth_tail}", f.header("authorization"));
            f.set_header("Authorization", &auth);
            let r = f.verify();
            prop_assert!(r.is_err() || (f.path == "/" && f.query.is_empty()));
        }
    }
}
