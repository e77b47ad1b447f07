//! [`EmailMessage`] (with Django's `EmailMultiAlternatives` API): what a message is and how it
//! is built. Rendering lives beside it: the header block in `headers.rs`, the MIME tree in
//! `mime.rs`, the encodings in `encode.rs`, addresses in `address.rs`.
//!
//! The shape: the fields are the message, with Django's attribute names, public as Django's
//! attributes are (`msg.subject`, `mail.outbox[0].to`); the chained methods are Django's
//! constructor keywords and `attach*` methods. Both exist because they do different jobs: the
//! methods parse and normalise what comes in (addresses become [`Mailbox`]es once, MIME types are
//! guessed, `text/*` bytes decoded), so they are fallible where Django's constructor would be;
//! the fields hold only checked values, so reading and assigning them needs no re-checking. What
//! the types cannot rule out (a line break in a subject or an extra header) is checked when the
//! message is rendered, as Django does.

use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::address::{Mailbox, envelope_address};
use crate::encode::has_line_break;
use crate::error::{Error, Result};
use crate::headers::header_block;
use crate::inline::InlineImage;
use crate::mime::{self, check_mimetype};

/// Django's `EmailMultiAlternatives`: in djrs one type, [`EmailMessage`], has the whole API
/// (`attach_alternative` included).
pub type EmailMultiAlternatives = EmailMessage;

/// The content of an attachment (Django's `EmailAttachment.content`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentContent {
    /// Text, encoded as UTF-8 with a transfer encoding chosen as Python does.
    Text(String),
    /// Bytes, sent base64-encoded.
    Bytes(#[serde(with = "b64")] Vec<u8>),
    /// A whole message, attached as `message/rfc822` (a forwarded mail).
    Message(Box<EmailMessage>),
}

impl From<String> for AttachmentContent {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<&str> for AttachmentContent {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<Vec<u8>> for AttachmentContent {
    fn from(value: Vec<u8>) -> Self {
        Self::Bytes(value)
    }
}

impl From<&[u8]> for AttachmentContent {
    fn from(value: &[u8]) -> Self {
        Self::Bytes(value.to_vec())
    }
}

impl From<EmailMessage> for AttachmentContent {
    fn from(value: EmailMessage) -> Self {
        Self::Message(Box::new(value))
    }
}

pub(crate) mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// An attachment: Django's `EmailAttachment(filename, content, mimetype)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailAttachment {
    /// The file name shown to the recipient (`None`: no name).
    pub filename: Option<String>,
    /// The content.
    pub content: AttachmentContent,
    /// The MIME type, e.g. `text/plain` or `image/png`.
    pub mimetype: String,
}

/// An alternative body: Django's `EmailAlternative(content, mimetype)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailAlternative {
    /// The content: text for `text/*`, bytes otherwise.
    pub content: AttachmentContent,
    /// The MIME type, e.g. `text/html`.
    pub mimetype: String,
}

/// Line endings of the bytes [`EmailMessage::message_with`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EmailPolicy {
    /// CRLF line ends, as sent over SMTP (Python's `email.policy.SMTP`). The default.
    #[default]
    Smtp,
    /// LF line ends (Python's `email.policy.default`, what Django's `message().as_bytes()`
    /// gives); for files and consoles.
    Default,
}

/// The settings a message needs when it is rendered: Django's `DEFAULT_FROM_EMAIL`,
/// `DNS_NAME` (the Message-ID domain) and `EMAIL_USE_LOCALTIME`.
///
/// ```
/// use djrs_mail::{EmailMessage, MessageDefaults, EmailPolicy};
///
/// let defaults = MessageDefaults::default()
///     .default_from_email("noreply@example.com")
///     .dns_name("mail.example.com");
/// let bytes = EmailMessage::new("Hi", "Body").to(["a@example.com"])?.message_with(&defaults, EmailPolicy::Default)?;
/// let text = String::from_utf8(bytes).unwrap();
/// assert!(text.contains("From: noreply@example.com\n"));
/// assert!(text.contains("@mail.example.com>\n"));
/// # Ok::<(), djrs_mail::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageDefaults {
    /// The sender used when a message has no `from_email` (`webmaster@localhost`).
    pub default_from_email: String,
    /// The domain of generated Message-IDs (Django's cached FQDN; here the host name).
    pub dns_name: String,
    /// Write `Date` in local time instead of UTC.
    pub use_localtime: bool,
}

impl Default for MessageDefaults {
    fn default() -> Self {
        Self {
            default_from_email: "webmaster@localhost".to_owned(),
            dns_name: dns_name().to_owned(),
            use_localtime: false,
        }
    }
}

impl MessageDefaults {
    /// Sets the sender of messages without `from_email` (Django's `DEFAULT_FROM_EMAIL`).
    ///
    /// ```
    /// let d = djrs_mail::MessageDefaults::default().default_from_email("shop@example.com");
    /// assert_eq!(d.default_from_email, "shop@example.com");
    /// ```
    #[must_use]
    pub fn default_from_email(mut self, from: impl Into<String>) -> Self {
        self.default_from_email = from.into();
        self
    }

    /// Sets the domain of generated Message-IDs.
    ///
    /// ```
    /// let d = djrs_mail::MessageDefaults::default().dns_name("mx.example.com");
    /// assert_eq!(d.dns_name, "mx.example.com");
    /// ```
    #[must_use]
    pub fn dns_name(mut self, name: impl Into<String>) -> Self {
        self.dns_name = name.into();
        self
    }

    /// Writes `Date` in local time (`true`) or UTC (Django's `EMAIL_USE_LOCALTIME`).
    ///
    /// ```
    /// assert!(djrs_mail::MessageDefaults::default().use_localtime(true).use_localtime);
    /// ```
    #[must_use]
    pub fn use_localtime(mut self, local: bool) -> Self {
        self.use_localtime = local;
        self
    }
}

/// This machine's host name, punycoded, read once (Django's `DNS_NAME`).
///
/// ```
/// assert!(!djrs_mail::dns_name().is_empty());
/// ```
#[must_use]
pub fn dns_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .or_else(|| std::env::var("COMPUTERNAME").ok())
            .unwrap_or_default();
        let raw = raw.trim();
        let name = idna::domain_to_ascii(raw).unwrap_or_default();
        if name.is_empty() || has_line_break(&name) {
            "localhost".to_owned()
        } else {
            name
        }
    })
}

/// An email message, with Django's fields and rules.
///
/// Fields are public, as Django's attributes are; the chained methods are Django's constructor
/// keywords. Addresses are parsed into [`Mailbox`]es when they enter (a malformed one is an
/// error at [`EmailMessage::to`], not at send time), so `from_email`, `to`, `cc`, `bcc` and
/// `reply_to` only ever hold valid addresses. `from_email` falls back to `DEFAULT_FROM_EMAIL`.
///
/// ```
/// use djrs_mail::EmailMessage;
///
/// let msg = EmailMessage::new("Hello", "Plain body")
///     .from_email("Shop <shop@example.com>")?
///     .to(["ann@example.com"])?
///     .bcc(["audit@example.com"])?
///     .header("X-Campaign", "spring")
///     .attach_alternative("<p>HTML body</p>", "text/html")
///     .attach("notes.txt", "some notes", None);
/// assert_eq!(msg.recipients(), ["ann@example.com", "audit@example.com"]);
/// let bytes = String::from_utf8(msg.message()?).unwrap();
/// assert!(bytes.contains("Content-Type: multipart/mixed"));
/// assert!(!bytes.contains("audit@")); // Bcc never appears in the headers
/// # Ok::<(), djrs_mail::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EmailMessage {
    /// The subject line.
    pub subject: String,
    /// The body (`text/plain`, or the type named by `content_subtype`).
    pub body: String,
    /// The sender; `None` uses `DEFAULT_FROM_EMAIL`.
    pub from_email: Option<Mailbox>,
    /// `To` recipients.
    pub to: Vec<Mailbox>,
    /// `Cc` recipients.
    pub cc: Vec<Mailbox>,
    /// Blind copies: in the envelope only, never in the headers.
    pub bcc: Vec<Mailbox>,
    /// `Reply-To` addresses.
    pub reply_to: Vec<Mailbox>,
    /// Extra headers in order (Django's `extra_headers`). `From`, `To`, `Cc` and `Reply-To`
    /// given here replace the generated ones; `Date` and `Message-ID` stop their generation.
    pub headers: Vec<(String, String)>,
    /// Attachments.
    pub attachments: Vec<EmailAttachment>,
    /// Alternative bodies (Django's `EmailMultiAlternatives.alternatives`).
    pub alternatives: Vec<EmailAlternative>,
    /// Images the HTML body shows through `cid:` URLs, sent in a `multipart/related` part
    /// beside the HTML (ActionMailer's `attachments.inline`; Django has no equivalent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inline_images: Vec<InlineImage>,
    /// The body's subtype: `plain` (default) or `html`.
    pub content_subtype: Option<String>,
    /// The body's charset (default `utf-8`); `iso-8859-1` and `us-ascii` are also known.
    pub encoding: Option<String>,
}

impl EmailMessage {
    /// A message with a subject and a body; set the rest with the builder methods.
    ///
    /// ```
    /// let msg = djrs_mail::EmailMessage::new("Subject", "Body");
    /// assert_eq!(msg.subject, "Subject");
    /// ```
    #[must_use]
    pub fn new(subject: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            body: body.into(),
            ..Self::default()
        }
    }

    /// Sets the sender (`"Name <addr>"` or `addr`), parsed now; an empty string leaves
    /// `DEFAULT_FROM_EMAIL` in charge, as Django's `from_email or DEFAULT_FROM_EMAIL` does.
    ///
    /// # Errors
    /// [`Error::BadHeader`] for a line break, [`Error::InvalidAddress`] for a malformed
    /// address.
    ///
    /// ```
    /// let msg = djrs_mail::EmailMessage::new("S", "B").from_email("Me <me@example.com>")?;
    /// assert_eq!(msg.from_email.unwrap().addr_spec(), "me@example.com");
    /// assert!(djrs_mail::EmailMessage::new("S", "B").from_email("me@").is_err());
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn from_email(mut self, from: impl AsRef<str>) -> Result<Self> {
        let from = from.as_ref();
        self.from_email = if from.is_empty() {
            None
        } else {
            Some(Mailbox::parse_in(from, "From")?)
        };
        Ok(self)
    }

    /// Adds `To` recipients, parsed now (empty strings are skipped, as Django's
    /// `recipients()` skips them).
    ///
    /// # Errors
    /// [`Error::BadHeader`] for a line break, [`Error::InvalidAddress`] for a malformed
    /// address.
    ///
    /// ```
    /// let msg = djrs_mail::EmailMessage::new("S", "B").to(["a@example.com", "B <b@example.com>"])?;
    /// assert_eq!(msg.to.len(), 2);
    /// assert!(djrs_mail::EmailMessage::new("S", "B").to(["a@example.com\nBcc: x@example.com"]).is_err());
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn to<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, to: I) -> Result<Self> {
        self.to.extend(parse_addresses("To", to)?);
        Ok(self)
    }

    /// Adds `Cc` recipients, parsed now.
    ///
    /// # Errors
    /// As [`EmailMessage::to`].
    ///
    /// ```
    /// let msg = djrs_mail::EmailMessage::new("S", "B").cc(["c@example.com"])?;
    /// assert_eq!(msg.cc, ["c@example.com"]);
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn cc<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, cc: I) -> Result<Self> {
        self.cc.extend(parse_addresses("Cc", cc)?);
        Ok(self)
    }

    /// Adds blind-copy recipients, parsed now.
    ///
    /// # Errors
    /// As [`EmailMessage::to`].
    ///
    /// ```
    /// let msg = djrs_mail::EmailMessage::new("S", "B").bcc(["hidden@example.com"])?;
    /// assert_eq!(msg.recipients(), ["hidden@example.com"]);
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn bcc<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, bcc: I) -> Result<Self> {
        self.bcc.extend(parse_addresses("Bcc", bcc)?);
        Ok(self)
    }

    /// Adds `Reply-To` addresses, parsed now.
    ///
    /// # Errors
    /// As [`EmailMessage::to`].
    ///
    /// ```
    /// let msg = djrs_mail::EmailMessage::new("S", "B").reply_to(["help@example.com"])?;
    /// assert_eq!(msg.reply_to, ["help@example.com"]);
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn reply_to<I: IntoIterator<Item = S>, S: AsRef<str>>(
        mut self,
        reply_to: I,
    ) -> Result<Self> {
        self.reply_to.extend(parse_addresses("Reply-To", reply_to)?);
        Ok(self)
    }

    /// Adds an extra header.
    ///
    /// ```
    /// let msg = djrs_mail::EmailMessage::new("S", "B").header("List-Unsubscribe", "<mailto:u@example.com>");
    /// assert_eq!(msg.headers.len(), 1);
    /// ```
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body's subtype (`"html"` for an HTML body).
    ///
    /// ```
    /// let msg = djrs_mail::EmailMessage::new("S", "<p>Hi</p>").content_subtype("html");
    /// assert!(String::from_utf8(msg.message()?).unwrap().contains("Content-Type: text/html"));
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    #[must_use]
    pub fn content_subtype(mut self, subtype: impl Into<String>) -> Self {
        self.content_subtype = Some(subtype.into());
        self
    }

    /// Sets the body's charset (Django's `encoding`).
    ///
    /// ```
    /// let msg = djrs_mail::EmailMessage::new("S", "café").encoding("iso-8859-1");
    /// assert!(msg.message()?.windows(4).any(|w| w == b"caf\xe9"));
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    #[must_use]
    pub fn encoding(mut self, charset: impl Into<String>) -> Self {
        self.encoding = Some(charset.into());
        self
    }

    /// Attaches content under a file name. Without a MIME type it is guessed from the name
    /// (`application/octet-stream` when unknown). `text/*` bytes that are not UTF-8 are sent as
    /// `application/octet-stream`, as Django does. An [`EmailMessage`] is attached as
    /// `message/rfc822`.
    ///
    /// ```
    /// use djrs_mail::{AttachmentContent, EmailMessage};
    ///
    /// let msg = EmailMessage::new("S", "B")
    ///     .attach("report.pdf", b"%PDF-1.4".as_slice(), None)
    ///     .attach("latin1.txt", b"caf\xe9".as_slice(), Some("text/plain"));
    /// assert_eq!(msg.attachments[0].mimetype, "application/pdf");
    /// assert_eq!(msg.attachments[1].mimetype, "application/octet-stream");
    /// ```
    #[must_use]
    pub fn attach(
        mut self,
        filename: impl Into<String>,
        content: impl Into<AttachmentContent>,
        mimetype: Option<&str>,
    ) -> Self {
        let filename = filename.into();
        let content = content.into();
        let mut mimetype = match (mimetype, &content) {
            (Some(m), _) => m.to_owned(),
            (None, AttachmentContent::Message(_)) => "message/rfc822".to_owned(),
            (None, _) => mime_guess::from_path(&filename)
                .first_raw()
                .unwrap_or("application/octet-stream")
                .to_owned(),
        };
        let content = match content {
            AttachmentContent::Bytes(bytes) if mimetype.starts_with("text/") => {
                match String::from_utf8(bytes) {
                    Ok(text) => AttachmentContent::Text(text),
                    Err(err) => {
                        mimetype = "application/octet-stream".to_owned();
                        AttachmentContent::Bytes(err.into_bytes())
                    }
                }
            }
            other => other,
        };
        self.attachments.push(EmailAttachment {
            filename: Some(filename),
            content,
            mimetype,
        });
        self
    }

    /// Attaches a file read from disk, named after the path's last component, its MIME type
    /// guessed from the name unless given.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("photo.png");
    /// std::fs::write(&path, b"\x89PNG").unwrap();
    /// let msg = djrs_mail::EmailMessage::new("S", "B").attach_file(&path, None)?;
    /// assert_eq!(msg.attachments[0].filename.as_deref(), Some("photo.png"));
    /// assert_eq!(msg.attachments[0].mimetype, "image/png");
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn attach_file(self, path: impl AsRef<Path>, mimetype: Option<&str>) -> Result<Self> {
        let (name, bytes) = read_named_file(path.as_ref())?;
        Ok(self.attach(name, bytes, mimetype))
    }

    /// Adds an alternative body, such as an HTML version (`EmailMultiAlternatives`).
    ///
    /// ```
    /// let msg = djrs_mail::EmailMessage::new("S", "Text").attach_alternative("<p>HTML</p>", "text/html");
    /// assert!(msg.body_contains("HTML") == false);
    /// ```
    #[must_use]
    pub fn attach_alternative(
        mut self,
        content: impl Into<AttachmentContent>,
        mimetype: impl Into<String>,
    ) -> Self {
        let mimetype = mimetype.into();
        let content = match content.into() {
            AttachmentContent::Bytes(bytes) if mimetype.starts_with("text/") => {
                match String::from_utf8(bytes) {
                    Ok(text) => AttachmentContent::Text(text),
                    Err(err) => AttachmentContent::Bytes(err.into_bytes()),
                }
            }
            other => other,
        };
        self.alternatives
            .push(EmailAlternative { content, mimetype });
        self
    }

    /// Adds an image the HTML body shows with `<img src="cid:…">` ([`InlineImage::url`]).
    ///
    /// The HTML is the first `text/html` alternative or, without one, an HTML body
    /// (`content_subtype("html")`); it and its images go into a `multipart/related` part, inside
    /// `multipart/alternative` when there is a text body and inside `multipart/mixed` when there
    /// are attachments. A message with inline images and no HTML is an error when it is
    /// rendered.
    ///
    /// ```
    /// use djrs_mail::{EmailMessage, InlineImage};
    ///
    /// let logo = InlineImage::new("logo.png", b"\x89PNG".to_vec(), None)?;
    /// let html = format!(r#"<img src="{}">"#, logo.url());
    /// let msg = EmailMessage::new("Hi", html).content_subtype("html").inline_image(logo);
    /// let text = String::from_utf8(msg.message()?).unwrap();
    /// assert!(text.contains("multipart/related"));
    /// assert!(text.contains("Content-Disposition: inline; filename=\"logo.png\""));
    ///
    /// // No HTML to show it: refused.
    /// let logo = InlineImage::new("logo.png", vec![], None)?;
    /// assert!(EmailMessage::new("Hi", "text only").inline_image(logo).message().is_err());
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    #[must_use]
    pub fn inline_image(mut self, image: InlineImage) -> Self {
        self.inline_images.push(image);
        self
    }

    /// Django's `recipients()`: `to`, `cc` and `bcc`, as given (empty strings never entered).
    ///
    /// ```
    /// let msg = djrs_mail::EmailMessage::new("S", "B").to(["", "a@example.com"])?.cc(["c@example.com"])?;
    /// assert_eq!(msg.recipients(), ["a@example.com", "c@example.com"]);
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    #[must_use]
    pub fn recipients(&self) -> Vec<&str> {
        self.to
            .iter()
            .chain(&self.cc)
            .chain(&self.bcc)
            .map(Mailbox::as_str)
            .collect()
    }

    /// Django's `body_contains()`: true when `text` is in the body and in every `text/*`
    /// alternative (other alternatives are ignored).
    ///
    /// ```
    /// let msg = djrs_mail::EmailMessage::new("S", "Hello there").attach_alternative("<p>Hello</p>", "text/html");
    /// assert!(msg.body_contains("Hello"));
    /// assert!(!msg.body_contains("there"));
    /// ```
    #[must_use]
    pub fn body_contains(&self, text: &str) -> bool {
        self.body.contains(text)
            && self.alternatives.iter().all(|alt| match &alt.content {
                AttachmentContent::Text(t) if alt.mimetype.starts_with("text/") => t.contains(text),
                _ => true,
            })
    }

    /// The message as RFC 5322 bytes with CRLF line ends, as the SMTP backend sends it, with
    /// the default [`MessageDefaults`]. Each call adds a fresh `Date` and `Message-ID` unless
    /// the headers give them.
    ///
    /// # Errors
    /// [`Error::BadHeader`] for a line break in any header value, [`Error::InvalidAddress`] for
    /// a malformed address, and the other message errors.
    ///
    /// ```
    /// let bytes = djrs_mail::EmailMessage::new("Hi", "Body").to(["a@example.com"])?.message()?;
    /// assert!(bytes.starts_with(b"Content-Type: text/plain; charset=\"utf-8\"\r\n"));
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn message(&self) -> Result<Vec<u8>> {
        self.message_with(&MessageDefaults::default(), EmailPolicy::Smtp)
    }

    /// The message rendered with the given defaults and line-end policy.
    ///
    /// # Errors
    /// As [`EmailMessage::message`].
    ///
    /// ```
    /// use djrs_mail::{EmailMessage, MessageDefaults, EmailPolicy};
    /// let bytes = EmailMessage::new("Hi", "Body").message_with(&MessageDefaults::default(), EmailPolicy::Default)?;
    /// assert!(!bytes.contains(&b'\r'));
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn message_with(&self, defaults: &MessageDefaults, policy: EmailPolicy) -> Result<Vec<u8>> {
        let part = mime::render(self, defaults, policy)?;
        let mut out = Vec::with_capacity(self.body.len() + 1024);
        part.write(&mut out);
        if policy == EmailPolicy::Smtp {
            Ok(mime::to_crlf(&out))
        } else {
            Ok(out)
        }
    }

    /// Checks every header and address without rendering the body.
    ///
    /// # Errors
    /// As [`EmailMessage::message`].
    ///
    /// ```
    /// let msg = djrs_mail::EmailMessage::new("ok", "B").header("X-Tag", "a\nBcc: x@example.com");
    /// assert!(msg.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        header_block(self, &MessageDefaults::default()).map(drop)?;
        for attachment in &self.attachments {
            if attachment.filename.as_deref().is_some_and(has_line_break) {
                return Err(Error::BadHeader {
                    name: "Content-Disposition".to_owned(),
                });
            }
            check_mimetype(&attachment.mimetype)?;
            if let AttachmentContent::Message(inner) = &attachment.content {
                inner.validate()?;
            }
        }
        for alternative in &self.alternatives {
            check_mimetype(&alternative.mimetype)?;
        }
        for (i, image) in self.inline_images.iter().enumerate() {
            image.validate()?;
            if self.inline_images[..i]
                .iter()
                .any(|other| other.content_id == image.content_id)
            {
                return Err(Error::InvalidContentId {
                    id: image.content_id.to_string(),
                    reason: "two inline images share it".into(),
                });
            }
        }
        if !self.inline_images.is_empty() && mime::related_html(self).is_none() {
            return Err(Error::InvalidArgument(
                "inline images need an HTML body to show them: a text/html alternative or content_subtype(\"html\")".into(),
            ));
        }
        Ok(())
    }

    /// The SMTP envelope: the sender and the recipients as addr-specs with ASCII domains
    /// (Django's `prep_address`). With `smtputf8` false, a non-ASCII local part is an error.
    ///
    /// # Errors
    /// [`Error::InvalidAddress`] or [`Error::BadHeader`] for an unusable address.
    ///
    /// ```
    /// let msg = djrs_mail::EmailMessage::new("S", "B").from_email("Me <me@exämple.com>")?.to(["a@example.com"])?;
    /// let (from, to) = msg.envelope("webmaster@localhost", false)?;
    /// assert_eq!(from, "me@xn--exmple-cua.com");
    /// assert_eq!(to, ["a@example.com"]);
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn envelope(&self, default_from: &str, smtputf8: bool) -> Result<(String, Vec<String>)> {
        let from = match &self.from_email {
            Some(from) => from.envelope(smtputf8)?,
            None => envelope_address(default_from, smtputf8)?,
        };
        let to = self
            .to
            .iter()
            .chain(&self.cc)
            .chain(&self.bcc)
            .map(|r| r.envelope(smtputf8))
            .collect::<Result<_>>()?;
        Ok((from, to))
    }
}

/// Parses the addresses of one header, skipping empty strings.
fn parse_addresses<I: IntoIterator<Item = S>, S: AsRef<str>>(
    header: &str,
    items: I,
) -> Result<Vec<Mailbox>> {
    items
        .into_iter()
        .filter(|item| !item.as_ref().is_empty())
        .map(|item| Mailbox::parse_in(item.as_ref(), header))
        .collect()
}

#[cfg(test)]
mod tests;

/// The file name and the bytes of the file at `path`, for attachments and inline images.
pub(crate) fn read_named_file(path: &Path) -> Result<(String, Vec<u8>)> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            Error::InvalidArgument(format!("{} has no file name", path.display()).into())
        })?;
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    Ok((name, bytes))
}
