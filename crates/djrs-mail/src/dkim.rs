//! Feature `dkim`: DKIM signatures through lettre's signer, configured by key.

use std::fmt;
use std::sync::Arc;

use lettre::Message;
use lettre::address::Envelope;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey, dkim_sign,
};
use lettre::message::header::{ContentTransferEncoding, HeaderName, HeaderValue, Headers};
use lettre::message::{Body, Mailbox};

use crate::error::{Error, Result};

/// The headers signed, when present: those a forger would want to change.
const SIGNED: &[&str] = &[
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
];

/// Signs rendered messages with DKIM (relaxed/relaxed, SHA-256) through lettre, with an RSA or
/// Ed25519 key. Give it to `SmtpBackend::dkim` (feature `smtp`), or call
/// [`DkimSigner::sign`] on bytes from [`EmailMessage::message`](crate::EmailMessage::message).
///
/// ```
/// use djrs_mail::{DkimSigner, EmailMessage};
///
/// // An Ed25519 key: the base64 of its 32 secret bytes (publish the public key in DNS at
/// // mail._domainkey.example.com).
/// let signer = DkimSigner::ed25519("example.com", "mail", "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")?;
/// let bytes = EmailMessage::new("Hi", "Body").from_email("me@example.com")?.to(["a@example.com"])?.message()?;
/// let signed = String::from_utf8(signer.sign(&bytes)?).unwrap();
/// assert!(signed.contains("DKIM-Signature: v=1; a=ed25519-sha256; d=example.com; s=mail;"));
/// assert!(signed.ends_with("\r\n\r\nBody\r\n"));
/// # Ok::<(), djrs_mail::Error>(())
/// ```
#[derive(Clone)]
pub struct DkimSigner {
    config: Arc<DkimConfig>,
    domain: String,
    selector: String,
}

impl fmt::Debug for DkimSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkimSigner")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

impl DkimSigner {
    fn with_key(
        domain: &str,
        selector: &str,
        key: &str,
        algorithm: DkimSigningAlgorithm,
    ) -> Result<Self> {
        let key = DkimSigningKey::new(key, algorithm)
            .map_err(|e| Error::Dkim(format!("unusable private key: {e}").into()))?;
        let headers = SIGNED
            .iter()
            .map(|h| {
                HeaderName::new_from_ascii((*h).to_owned())
                    .map_err(|_| Error::Dkim("bad header name".into()))
            })
            .collect::<Result<Vec<_>>>()?;
        let canonicalization = DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        };
        let config = DkimConfig::new(
            selector.to_owned(),
            domain.to_owned(),
            key,
            headers,
            canonicalization,
        );
        Ok(Self {
            config: Arc::new(config),
            domain: domain.to_owned(),
            selector: selector.to_owned(),
        })
    }

    /// A signer with an RSA key in PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`).
    ///
    /// # Errors
    /// [`Error::Dkim`] when the key does not parse.
    ///
    /// ```
    /// assert!(djrs_mail::DkimSigner::rsa("example.com", "mail", "not a key").is_err());
    /// ```
    pub fn rsa(domain: &str, selector: &str, pkcs1_pem: &str) -> Result<Self> {
        Self::with_key(domain, selector, pkcs1_pem, DkimSigningAlgorithm::Rsa)
    }

    /// A signer with an Ed25519 key given as the base64 of its 32 secret bytes.
    ///
    /// # Errors
    /// [`Error::Dkim`] when the key is not 32 bytes of base64.
    ///
    /// ```
    /// assert!(djrs_mail::DkimSigner::ed25519("example.com", "mail", "c2hvcnQ=").is_err());
    /// ```
    pub fn ed25519(domain: &str, selector: &str, base64_key: &str) -> Result<Self> {
        Self::with_key(domain, selector, base64_key, DkimSigningAlgorithm::Ed25519)
    }

    /// Signs a rendered message (CRLF line ends) and returns it with a `DKIM-Signature`
    /// header; the other headers and the body are unchanged.
    ///
    /// # Errors
    /// [`Error::Dkim`] when the bytes are not a message (no header block).
    ///
    /// ```
    /// let signer = djrs_mail::DkimSigner::ed25519("example.com", "s1", "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")?;
    /// assert!(signer.sign(b"no header block").is_err());
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let split = message
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| {
                Error::Dkim("the message has no header block ending in CRLF CRLF".into())
            })?;
        let head = std::str::from_utf8(&message[..split])
            .map_err(|_| Error::Dkim("the header block is not ASCII".into()))?;
        let body = message[split + 4..].to_vec();
        let mut headers = Headers::new();
        let mut pending: Option<(String, String)> = None;
        let push = |pending: Option<(String, String)>, headers: &mut Headers| -> Result<()> {
            if let Some((name, encoded)) = pending {
                let raw = encoded.replace("\r\n", "");
                let name = HeaderName::new_from_ascii(name)
                    .map_err(|_| Error::Dkim("a header name is unusable".into()))?;
                headers.insert_raw(HeaderValue::dangerous_new_pre_encoded(name, raw, encoded));
            }
            Ok(())
        };
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = pending.as_mut() {
                    value.push_str("\r\n");
                    value.push_str(line);
                }
                continue;
            }
            push(pending.take(), &mut headers)?;
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| Error::Dkim(format!("not a header line: {line:?}").into()))?;
            pending = Some((
                name.to_owned(),
                value.strip_prefix(' ').unwrap_or(value).to_owned(),
            ));
        }
        push(pending.take(), &mut headers)?;
        let placeholder: Mailbox = "djrs <dkim@djrs.invalid>"
            .parse()
            .map_err(|_| Error::Dkim("placeholder".into()))?;
        let envelope = Envelope::new(
            Some(placeholder.email.clone()),
            vec![placeholder.email.clone()],
        )
        .map_err(|e| Error::Dkim(format!("{e}").into()))?;
        let mut signed = Message::builder()
            .from(placeholder)
            .envelope(envelope)
            .body(Body::dangerous_pre_encoded(
                body,
                ContentTransferEncoding::Binary,
            ))
            .map_err(|e| Error::Dkim(format!("{e}").into()))?;
        *signed.headers_mut() = headers;
        dkim_sign(&mut signed, &self.config);
        Ok(signed.formatted())
    }
}
