//! The SMTP relay connection (`--smtp-*`): built once at start from [`SmtpConfig`], it sends
//! one plain-text UTF-8 mail per call, on the blocking pool.
//!
//! The AUTH password is read from a file only the server's user can read (mode 0600 or
//! stricter; anything looser is refused at start). It is kept inside the SMTP library's
//! credentials, never formatted: errors and logs name the file, never its content.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use base64::Engine;
use lettre::message::header::{
    ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue,
};
use lettre::message::{Body, Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, Message, SmtpTransport, Transport};

use crate::config::{SmtpConfig, SmtpSecurity};
use crate::delivery_template::Charset;

/// Each SMTP step's bound (connect, and each command's answer). A whole send is about eight
/// steps, so it ends well inside the delivery lease (60 s, `sns_delivery`) and a mail is never
/// being sent by two replicas at once.
const TIMEOUT: Duration = Duration::from_secs(6);

/// Sends mail through the configured relay.
pub struct Mailer {
    transport: SmtpTransport,
    from: Address,
    /// What the relay is, for logs (`host:port (security)`), without secrets.
    describe: String,
}

/// One mail to send.
pub struct Mail<'a> {
    /// The From display name (the topic's `DisplayName`, or AWS's "AWS Notifications").
    pub from_name: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body: String,
    /// How the subject and body are encoded.
    pub charset: Charset,
    /// Stable per delivery, so a mail sent again after a crash is recognisably the same.
    pub message_id: String,
}

/// Read the password file, refusing one that others may read.
fn read_password(path: &Path) -> anyhow::Result<String> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("reading the SMTP password file {}", path.display()))?;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "the SMTP password file {} is readable by others (mode {:o}); chmod 600 it",
            path.display(),
            mode & 0o777
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the SMTP password file {}", path.display()))?;
    // One trailing newline (as `echo` writes) is not part of the password.
    let password = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if password.is_empty() {
        bail!("the SMTP password file {} is empty", path.display());
    }
    Ok(password.to_string())
}

fn tls_parameters(config: &SmtpConfig) -> anyhow::Result<TlsParameters> {
    let mut builder = TlsParameters::builder(config.host.clone());
    if let Some(path) = &config.ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("reading the SMTP CA file {}", path.display()))?;
        let cert = Certificate::from_pem(&pem)
            .with_context(|| format!("parsing the SMTP CA file {}", path.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .context("building the SMTP TLS settings")
}

impl Mailer {
    /// Check the settings and build the transport (no connection is made yet).
    pub fn new(config: &SmtpConfig) -> anyhow::Result<Mailer> {
        let from: Address = config
            .from
            .parse()
            .with_context(|| format!("--smtp-from {:?} is not a mail address", config.from))?;
        let tls = match config.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls_parameters(config)?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters(config)?),
        };
        let mut builder = SmtpTransport::builder_dangerous(config.host.as_str())
            .port(config.port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        match (&config.user, &config.password_file) {
            (Some(user), Some(file)) => {
                builder = builder.credentials(Credentials::new(user.clone(), read_password(file)?));
            }
            (None, None) => {}
            _ => bail!("--smtp-user and --smtp-password-file go together"),
        }
        let security = match config.security {
            SmtpSecurity::None => "plain",
            SmtpSecurity::StartTls => "STARTTLS",
            SmtpSecurity::Tls => "TLS",
        };
        Ok(Mailer {
            transport: builder.build(),
            from,
            describe: format!("{}:{} ({security})", config.host, config.port),
        })
    }

    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Send one mail; `Err` with a reason (never a secret) unless the relay accepted it.
    /// Blocking: call from the blocking pool.
    pub fn send(&self, mail: Mail<'_>) -> Result<(), String> {
        let to: Address = mail
            .to
            .parse()
            .map_err(|e| format!("{:?} is not a mail address: {e}", mail.to))?;
        let builder = Message::builder()
            .from(Mailbox::new(
                Some(mail.from_name.to_string()),
                self.from.clone(),
            ))
            .to(Mailbox::new(None, to))
            .message_id(Some(mail.message_id));
        let message = match mail.charset {
            Charset::Utf8 => builder.subject(mail.subject).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.body),
            ),
            Charset::Iso2022Jp => {
                let (subject, body) = iso_2022_jp(mail.subject, &mail.body)?;
                builder.header(subject).singlepart(
                    SinglePart::builder()
                        .header(
                            ContentType::parse("text/plain; charset=ISO-2022-JP")
                                .map_err(|e| format!("could not build the mail: {e}"))?,
                        )
                        .header(ContentTransferEncoding::SevenBit)
                        .body(
                            Body::new_with_encoding(body, ContentTransferEncoding::SevenBit)
                                .map_err(|_| "the ISO-2022-JP body is not 7-bit".to_string())?,
                        ),
                )
            }
        }
        .map_err(|e| format!("could not build the mail: {e}"))?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| format!("the SMTP relay {} refused or failed: {e}", self.describe))
    }
}

/// An ISO-2022-JP mail's subject header (RFC 2047 `B` encoding) and body bytes; text with
/// characters ISO-2022-JP cannot carry is refused rather than sent with replacements.
fn iso_2022_jp(subject: &str, body: &str) -> Result<(RawSubject, Vec<u8>), String> {
    let encode = |text: &str, what: &str| -> Result<Vec<u8>, String> {
        let (bytes, _, unmappable) = encoding_rs::ISO_2022_JP.encode(text);
        if unmappable {
            return Err(format!(
                "the mail {what} has characters ISO-2022-JP cannot carry; use BosunTemplateCharset UTF-8"
            ));
        }
        Ok(bytes.into_owned())
    };
    let body = encode(&body.replace("\r\n", "\n").replace('\n', "\r\n"), "body")?;
    let subject = encode(subject, "subject")?;
    let encoded = format!(
        "=?ISO-2022-JP?B?{}?=",
        base64::engine::general_purpose::STANDARD.encode(subject)
    );
    Ok((RawSubject(encoded), body))
}

/// A `Subject` header already encoded (RFC 2047).
#[derive(Clone)]
struct RawSubject(String);

impl Header for RawSubject {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Subject")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(RawSubject(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::dangerous_new_pre_encoded(Self::name(), self.0.clone(), self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_2022_jp_mail_is_seven_bit_and_refuses_what_it_cannot_carry() {
        let (subject, body) = iso_2022_jp("障害通知", "運用チーム各位\n以上").unwrap();
        assert!(subject.0.starts_with("=?ISO-2022-JP?B?") && subject.0.ends_with("?="));
        assert!(
            body.is_ascii() && body.contains(&0x1b),
            "escape sequences, 7-bit"
        );
        assert!(body.windows(2).any(|w| w == b"\r\n"), "CRLF line ends");
        let (back, _) = encoding_rs::ISO_2022_JP.decode_without_bom_handling(&body);
        assert_eq!(back, "運用チーム各位\r\n以上");
        let e = iso_2022_jp("ok", "emoji 🚨").map(|_| ()).unwrap_err();
        assert!(e.contains("UTF-8"), "{e}");
    }

    #[test]
    fn a_password_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_password(&path).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_password(&path).unwrap(), "s3cret");
    }
}
