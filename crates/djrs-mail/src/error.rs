//! The crate's one error type.

use std::borrow::Cow;

/// Everything that can go wrong while building or sending mail.
///
/// Bad input (a line break in a header, a malformed address) is always an error, never a sent
/// mail, whatever `fail_silently` says; only transport failures can be silenced.
///
/// ```
/// use djrs_mail::{EmailMessage, Error};
///
/// let msg = EmailMessage::new("Hello\nBcc: victim@example.com", "Body")
///     .from_email("from@example.com")?
///     .to(["to@example.com"])?;
/// let err = msg.message().unwrap_err();
/// assert!(matches!(err, Error::BadHeader { .. }));
/// assert_eq!(
///     err.to_string(),
///     "Header values may not contain linefeed or carriage return characters (header Subject)"
/// );
/// # Ok::<(), djrs_mail::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A header value (subject, address, display name, extra header, attachment filename)
    /// contains a line break: CR, LF or another character that ends a line. Django raises
    /// `ValueError` (its old `BadHeaderError`). Remove the line break.
    #[error("Header values may not contain linefeed or carriage return characters (header {name})")]
    BadHeader {
        /// The header whose value was refused.
        name: String,
    },
    /// A header name is empty or holds characters other than printable ASCII without `:`.
    #[error("invalid header name {0:?}: use printable ASCII without ':' or spaces")]
    InvalidHeaderName(String),
    /// A header that may appear only once was given twice (Django: "There may be at most 1
    /// Subject headers in a message"). Drop the duplicate from `headers`.
    #[error("There may be at most 1 {0} headers in a message")]
    DuplicateHeader(String),
    /// An address could not be parsed or cannot be used where it was given.
    #[error("Invalid address {address:?}: {reason}")]
    InvalidAddress {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: Cow<'static, str>,
    },
    /// An argument to a message method was unusable (an empty MIME type, an unknown charset).
    #[error("{0}")]
    InvalidArgument(Cow<'static, str>),
    /// A `Content-ID` for an inline image is not `left@right` made of ASCII letters, digits and
    /// `. _ - + =`, or two inline images of one message share it. Use
    /// [`ContentId::generate`](crate::ContentId::generate) or a simpler id.
    #[error("invalid Content-ID {id:?}: {reason}")]
    InvalidContentId {
        /// The id as given.
        id: String,
        /// What is wrong with it.
        reason: Cow<'static, str>,
    },
    /// A mail template could not be rendered (feature `partials`): a template or partial
    /// error, or a context that is not a map. The source is the template engine's error.
    #[error("rendering the mail template {template:?}: {source}")]
    Template {
        /// The template's name.
        template: String,
        /// The template engine's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A mail template lacks a partial the message needs (feature `partials`): `#subject`,
    /// or both `#text` and `#html`.
    #[error("the mail template {template:?} defines no {missing} partial")]
    MissingPartial {
        /// The template's name.
        template: String,
        /// What is missing: `"#subject"` or `"#text or #html"`.
        missing: &'static str,
    },
    /// A mail template's `#subject` partial rendered more than one line (feature `partials`);
    /// a context value holding a line break would otherwise inject headers. Leading and
    /// trailing whitespace is trimmed; write the subject on one line or trim with `{%- -%}`.
    #[error("the #subject partial of the mail template {template:?} renders to more than one line")]
    MultilineSubject {
        /// The template's name.
        template: String,
    },
    /// `EMAIL_USE_TLS` and `EMAIL_USE_SSL` are both true: STARTTLS and implicit TLS exclude
    /// each other (Django raises `ValueError` with this message). Set one, or build a
    /// [`Security`](crate::Security) directly.
    #[error(
        "EMAIL_USE_TLS/EMAIL_USE_SSL are mutually exclusive, so only set one of those settings to True."
    )]
    TlsWithSsl,
    /// The mail configuration is unusable (Django's `ImproperlyConfigured`).
    #[error("improperly configured: {0}")]
    Config(Cow<'static, str>),
    /// Reading an attachment or writing a message file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The SMTP conversation failed (connection refused, TLS handshake, a 4xx/5xx reply, a
    /// dropped connection). The source error is the transport's.
    #[error("SMTP error while {step}: {source}")]
    Smtp {
        /// The step that failed: "connecting", "STARTTLS", "authenticating", "sending".
        step: &'static str,
        /// The transport error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An SMTP step took longer than the configured timeout (`EMAIL_TIMEOUT`).
    #[error("SMTP timeout while {step} (after {seconds:.1} s)")]
    Timeout {
        /// The step that timed out.
        step: &'static str,
        /// The timeout in seconds.
        seconds: f64,
    },
    /// The backend needs a cargo feature that is not enabled (e.g. `smtp`).
    #[error("the {backend} backend needs djrs-mail's `{feature}` feature")]
    FeatureDisabled {
        /// The backend asked for.
        backend: String,
        /// The feature to enable.
        feature: &'static str,
    },
    /// Enqueueing a background send failed (feature `tasks`).
    #[error("could not enqueue the message: {0}")]
    Enqueue(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// DKIM signing could not be set up (feature `dkim`): the key is unreadable.
    #[error("DKIM: {0}")]
    Dkim(Cow<'static, str>),
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn address(address: &str, reason: impl Into<Cow<'static, str>>) -> Self {
        Self::InvalidAddress {
            address: address.to_owned(),
            reason: reason.into(),
        }
    }

    /// True for errors caused by the message itself (headers, addresses, arguments), which no
    /// retry can fix; false for transport and configuration failures.
    ///
    /// ```
    /// use djrs_mail::EmailMessage;
    ///
    /// let err = EmailMessage::new("S", "B").to(["not an address"]).unwrap_err();
    /// assert!(err.is_bad_message());
    /// ```
    #[must_use]
    pub fn is_bad_message(&self) -> bool {
        matches!(
            self,
            Self::BadHeader { .. }
                | Self::InvalidHeaderName(_)
                | Self::DuplicateHeader(_)
                | Self::InvalidAddress { .. }
                | Self::InvalidArgument(_)
                | Self::InvalidContentId { .. }
                | Self::Template { .. }
                | Self::MissingPartial { .. }
                | Self::MultilineSubject { .. }
        )
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
