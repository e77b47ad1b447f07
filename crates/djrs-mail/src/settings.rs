//! Configuration in Django's setting names, through serde.

use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

/// Django's email settings, deserialised from any serde format with Django's names
/// (`EMAIL_BACKEND`, `EMAIL_HOST`, …) and Django's defaults.
///
/// `EMAIL_BACKEND` takes `smtp`, `console`, `file`, `locmem`, `dummy` or Django's dotted
/// paths (`django.core.mail.backends.smtp.EmailBackend`). djrs adds `EMAIL_POOL_SIZE` (the cap
/// on open SMTP connections, default 4), `EMAIL_SSL_CAFILE` (an extra trusted root, for a
/// self-signed server) and `DNS_NAME` (the Message-ID domain).
///
/// `Debug` and `Serialize` print `EMAIL_HOST_PASSWORD` as [`REDACTED`], so settings can be
/// logged or shown; it is only ever read, never written out.
///
/// The struct mirrors Django's settings, booleans included, and is `#[non_exhaustive]` so that
/// djrs can add settings: deserialise it, or start from [`MailSettings::default`] and set
/// fields. The typed configurations convert from it: [`MailSettings::security`] turns
/// `EMAIL_USE_TLS`/`EMAIL_USE_SSL` into a [`Security`], `SmtpConfig::from_settings` (feature
/// `smtp`) builds the SMTP backend's configuration, [`MailSettings::message_defaults`] the
/// rendering defaults.
///
/// ```
/// use djrs_mail::MailSettings;
///
/// let settings: MailSettings = serde_json::from_str(r#"{
///     "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
///     "DEFAULT_FROM_EMAIL": "shop@example.com",
///     "ADMINS": ["ops@example.com", ["Ann", "ann@example.com"]]
/// }"#)?;
/// assert_eq!(settings.email_port, 25);
/// assert_eq!(settings.admins, ["ops@example.com", "Ann <ann@example.com>"]);
///
/// let both: MailSettings = serde_json::from_str(r#"{"EMAIL_USE_TLS": true, "EMAIL_USE_SSL": true}"#)?;
/// assert!(both.validate().is_err());
///
/// let mut secret = MailSettings::default();
/// secret.email_host_password = "hunter2".into();
/// assert!(!format!("{secret:?}").contains("hunter2"));
/// assert!(!serde_json::to_string(&secret)?.contains("hunter2"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "UPPERCASE", deny_unknown_fields)]
#[non_exhaustive]
pub struct MailSettings {
    /// `EMAIL_BACKEND` (default `smtp`).
    pub email_backend: String,
    /// `EMAIL_HOST` (default `localhost`).
    pub email_host: String,
    /// `EMAIL_PORT` (default 25).
    pub email_port: u16,
    /// `EMAIL_HOST_USER`; logs in only when user and password are both set.
    pub email_host_user: String,
    /// `EMAIL_HOST_PASSWORD`.
    #[serde(serialize_with = "redacted")]
    pub email_host_password: String,
    /// `EMAIL_USE_TLS`: STARTTLS, required (a failed upgrade never sends).
    pub email_use_tls: bool,
    /// `EMAIL_USE_SSL`: implicit TLS (port 465).
    pub email_use_ssl: bool,
    /// `EMAIL_SSL_CERTFILE`: client certificate (PEM).
    pub email_ssl_certfile: Option<PathBuf>,
    /// `EMAIL_SSL_KEYFILE`: the client certificate's key (PEM).
    pub email_ssl_keyfile: Option<PathBuf>,
    /// djrs: `EMAIL_SSL_CAFILE`, an extra trusted root certificate (PEM).
    pub email_ssl_cafile: Option<PathBuf>,
    /// `EMAIL_TIMEOUT` in seconds, applied to every SMTP step.
    pub email_timeout: Option<f64>,
    /// djrs: `EMAIL_POOL_SIZE`, the most SMTP connections open at once (default 4).
    pub email_pool_size: usize,
    /// `EMAIL_SUBJECT_PREFIX` for `mail_admins`/`mail_managers` (default `"[Django] "`).
    pub email_subject_prefix: String,
    /// `EMAIL_USE_LOCALTIME`.
    pub email_use_localtime: bool,
    /// `EMAIL_FILE_PATH` for the file backend.
    pub email_file_path: Option<PathBuf>,
    /// `DEFAULT_FROM_EMAIL` (default `webmaster@localhost`).
    pub default_from_email: String,
    /// `SERVER_EMAIL`, the sender of `mail_admins`/`mail_managers` (default `root@localhost`).
    pub server_email: String,
    /// `ADMINS`: addresses (Django's deprecated `[name, address]` pairs are accepted).
    #[serde(deserialize_with = "addresses")]
    pub admins: Vec<String>,
    /// `MANAGERS`, as `ADMINS`.
    #[serde(deserialize_with = "addresses")]
    pub managers: Vec<String>,
    /// djrs: `DNS_NAME`, the domain of generated Message-IDs (default: this host's name).
    pub dns_name: Option<String>,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            email_backend: "smtp".to_owned(),
            email_host: "localhost".to_owned(),
            email_port: 25,
            email_host_user: String::new(),
            email_host_password: String::new(),
            email_use_tls: false,
            email_use_ssl: false,
            email_ssl_certfile: None,
            email_ssl_keyfile: None,
            email_ssl_cafile: None,
            email_timeout: None,
            email_pool_size: 4,
            email_subject_prefix: "[Django] ".to_owned(),
            email_use_localtime: false,
            email_file_path: None,
            default_from_email: "webmaster@localhost".to_owned(),
            server_email: "root@localhost".to_owned(),
            admins: Vec::new(),
            managers: Vec::new(),
            dns_name: None,
        }
    }
}

/// What `Debug` and `Serialize` print instead of a password (Django's `cleanse_setting`).
pub const REDACTED: &str = "********************";

/// Serialises a secret as [`REDACTED`] (or `""` when empty): settings are serialised to be
/// shown or logged, never to carry the password.
fn redacted<S: serde::Serializer>(secret: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(if secret.is_empty() { "" } else { REDACTED })
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let password = if self.email_host_password.is_empty() {
            ""
        } else {
            REDACTED
        };
        f.debug_struct("MailSettings")
            .field("email_backend", &self.email_backend)
            .field("email_host", &self.email_host)
            .field("email_port", &self.email_port)
            .field("email_host_user", &self.email_host_user)
            .field("email_host_password", &password)
            .field("email_use_tls", &self.email_use_tls)
            .field("email_use_ssl", &self.email_use_ssl)
            .field("email_ssl_certfile", &self.email_ssl_certfile)
            .field("email_ssl_keyfile", &self.email_ssl_keyfile)
            .field("email_ssl_cafile", &self.email_ssl_cafile)
            .field("email_timeout", &self.email_timeout)
            .field("email_pool_size", &self.email_pool_size)
            .field("email_subject_prefix", &self.email_subject_prefix)
            .field("email_use_localtime", &self.email_use_localtime)
            .field("email_file_path", &self.email_file_path)
            .field("default_from_email", &self.default_from_email)
            .field("server_email", &self.server_email)
            .field("admins", &self.admins)
            .field("managers", &self.managers)
            .field("dns_name", &self.dns_name)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AddressSetting {
    Address(String),
    Pair(String, String),
}

fn addresses<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    let items = Vec::<AddressSetting>::deserialize(d)?;
    Ok(items
        .into_iter()
        .map(|item| match item {
            AddressSetting::Address(a) => a,
            AddressSetting::Pair(name, addr) => format!("{name} <{addr}>"),
        })
        .collect())
}

/// How an SMTP connection is secured: the typed form of Django's `EMAIL_USE_TLS` and
/// `EMAIL_USE_SSL`, which [`MailSettings::security`] reads.
///
/// ```
/// use djrs_mail::{MailSettings, Security};
///
/// let mut settings = MailSettings::default();
/// assert_eq!(settings.security()?, Security::None);
/// settings.email_use_ssl = true;
/// assert_eq!(settings.security()?, Security::Tls);
/// # Ok::<(), djrs_mail::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Security {
    /// Plain SMTP (`EMAIL_USE_TLS` and `EMAIL_USE_SSL` both false).
    #[default]
    None,
    /// STARTTLS, required: a server that does not offer it, or an upgrade that fails, ends the
    /// connection before any mail command (`EMAIL_USE_TLS`).
    StartTls,
    /// Implicit TLS from the first byte, usually port 465 (`EMAIL_USE_SSL`).
    Tls,
}

/// The backends `EMAIL_BACKEND` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendKind {
    /// `smtp` (needs the `smtp` feature).
    Smtp,
    /// `console`.
    Console,
    /// `file` / `filebased`.
    File,
    /// `locmem`.
    Locmem,
    /// `dummy`.
    Dummy,
}

impl MailSettings {
    /// Checks the settings: TLS and SSL together, a zero pool, an unknown backend.
    ///
    /// # Errors
    /// [`Error::TlsWithSsl`] for TLS and SSL together, [`Error::Config`] for the others, with
    /// Django's message where Django has one.
    ///
    /// ```
    /// let mut settings = djrs_mail::MailSettings::default();
    /// settings.email_use_tls = true;
    /// settings.email_use_ssl = true;
    /// assert!(settings.validate().unwrap_err().to_string().contains("mutually exclusive"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        self.security()?;
        if self.email_pool_size == 0 {
            return Err(Error::Config("EMAIL_POOL_SIZE must be at least 1".into()));
        }
        // A timeout must also fit a `Duration` (1e300 seconds does not).
        if self.email_timeout.is_some_and(|t| {
            !(t.is_finite() && t > 0.0) || std::time::Duration::try_from_secs_f64(t).is_err()
        }) {
            return Err(Error::Config(
                "EMAIL_TIMEOUT must be a positive number of seconds".into(),
            ));
        }
        self.backend_kind().map(drop)
    }

    /// `EMAIL_USE_TLS` and `EMAIL_USE_SSL` as one [`Security`].
    ///
    /// # Errors
    /// [`Error::TlsWithSsl`] when both are set.
    ///
    /// ```
    /// use djrs_mail::{Error, MailSettings, Security};
    ///
    /// let mut settings = MailSettings::default();
    /// settings.email_use_tls = true;
    /// assert_eq!(settings.security()?, Security::StartTls);
    /// settings.email_use_ssl = true;
    /// assert!(matches!(settings.security(), Err(Error::TlsWithSsl)));
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn security(&self) -> Result<Security> {
        match (self.email_use_tls, self.email_use_ssl) {
            (true, true) => Err(Error::TlsWithSsl),
            (true, false) => Ok(Security::StartTls),
            (false, true) => Ok(Security::Tls),
            (false, false) => Ok(Security::None),
        }
    }

    /// The backend `EMAIL_BACKEND` names.
    ///
    /// # Errors
    /// [`Error::Config`] for a name djrs does not know.
    ///
    /// ```
    /// use djrs_mail::{BackendKind, MailSettings};
    /// let mut s = MailSettings::default();
    /// s.email_backend = "django.core.mail.backends.console.EmailBackend".into();
    /// assert_eq!(s.backend_kind()?, BackendKind::Console);
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn backend_kind(&self) -> Result<BackendKind> {
        let name = self.email_backend.trim();
        let short = name
            .strip_prefix("django.core.mail.backends.")
            .and_then(|rest| rest.strip_suffix(".EmailBackend"))
            .unwrap_or(name);
        match short.to_ascii_lowercase().as_str() {
            "smtp" => Ok(BackendKind::Smtp),
            "console" => Ok(BackendKind::Console),
            "file" | "filebased" => Ok(BackendKind::File),
            "locmem" => Ok(BackendKind::Locmem),
            "dummy" => Ok(BackendKind::Dummy),
            _ => Err(Error::Config(
                format!("unknown EMAIL_BACKEND {name:?}: use smtp, console, file, locmem or dummy")
                    .into(),
            )),
        }
    }

    /// The message defaults these settings give.
    ///
    /// ```
    /// let mut s = djrs_mail::MailSettings::default();
    /// s.dns_name = Some("mx.example.com".into());
    /// assert_eq!(s.message_defaults().dns_name, "mx.example.com");
    /// ```
    #[must_use]
    pub fn message_defaults(&self) -> crate::MessageDefaults {
        crate::MessageDefaults {
            default_from_email: self.default_from_email.clone(),
            dns_name: self
                .dns_name
                .clone()
                .unwrap_or_else(|| crate::dns_name().to_owned()),
            use_localtime: self.email_use_localtime,
        }
    }
}
