//! The SMTP backend's configuration: [`SmtpConfig`] built in code, from Django's settings or
//! from an `smtp://` URL.

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::settings::{MailSettings, Security};

/// The SMTP backend's configuration.
///
/// ```
/// use std::time::Duration;
/// use djrs_mail::{Security, SmtpConfig};
///
/// let config = SmtpConfig::new("smtp.example.com", 587)
///     .security(Security::StartTls)
///     .credentials("user", "secret")
///     .timeout(Duration::from_secs(10))
///     .max_connections(8);
/// assert_eq!(config.port, 587);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct SmtpConfig {
    /// The server's host name (also the name its certificate must carry).
    pub host: String,
    /// The port.
    pub port: u16,
    /// The user to log in as; login happens only with a user and a password.
    pub username: Option<String>,
    /// The password.
    pub password: Option<String>,
    /// Plain, STARTTLS or implicit TLS.
    pub security: Security,
    /// The limit on every step: connecting, greeting, STARTTLS, AUTH, each message. `None`
    /// means [`SmtpConfig::DEFAULT_TIMEOUT`]: no step waits without a bound.
    pub timeout: Option<Duration>,
    /// A client certificate and key (PEM), for servers that ask for one.
    pub client_identity: Option<(Vec<u8>, Vec<u8>)>,
    /// Extra trusted root certificates (PEM), e.g. a test server's self-signed one.
    pub root_certificates: Vec<Vec<u8>>,
    /// The most connections open at once; senders beyond it wait for one to be free, up to
    /// [`SmtpConfig::pool_timeout`].
    pub max_connections: usize,
    /// How long a sender waits for a free connection when [`SmtpConfig::max_connections`] are
    /// in use, before failing with [`Error::Timeout`]. Default
    /// [`SmtpConfig::DEFAULT_POOL_TIMEOUT`].
    pub pool_timeout: Duration,
    /// How long an unused connection stays open in the pool.
    pub idle_timeout: Duration,
    /// The name sent in EHLO (default: this host's name).
    pub hello_name: Option<String>,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("security", &self.security)
            .field("timeout", &self.timeout)
            .field("client_identity", &self.client_identity.is_some())
            .field("root_certificates", &self.root_certificates.len())
            .field("max_connections", &self.max_connections)
            .field("pool_timeout", &self.pool_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl SmtpConfig {
    /// The limit on each network step when none is configured (Django's `EMAIL_TIMEOUT = None`
    /// still gets it): 30 seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

    /// The default limit on waiting for a pooled connection: 60 seconds.
    pub const DEFAULT_POOL_TIMEOUT: Duration = Duration::from_secs(60);

    /// Plain SMTP to `host:port`, no login, the default timeouts, at most 4 connections.
    ///
    /// ```
    /// use djrs_mail::SmtpConfig;
    /// let config = SmtpConfig::new("localhost", 25);
    /// assert_eq!(config.max_connections, 4);
    /// assert_eq!(config.timeout, Some(SmtpConfig::DEFAULT_TIMEOUT));
    /// ```
    #[must_use]
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
            username: None,
            password: None,
            security: Security::None,
            timeout: Some(Self::DEFAULT_TIMEOUT),
            client_identity: None,
            root_certificates: Vec::new(),
            max_connections: 4,
            pool_timeout: Self::DEFAULT_POOL_TIMEOUT,
            idle_timeout: Duration::from_secs(60),
            hello_name: None,
        }
    }

    /// Sets the security.
    ///
    /// ```
    /// let c = djrs_mail::SmtpConfig::new("h", 465).security(djrs_mail::Security::Tls);
    /// assert_eq!(c.security, djrs_mail::Security::Tls);
    /// ```
    #[must_use]
    pub fn security(mut self, security: Security) -> Self {
        self.security = security;
        self
    }

    /// Sets the login.
    ///
    /// ```
    /// let c = djrs_mail::SmtpConfig::new("h", 587).credentials("u", "p");
    /// assert_eq!(c.username.as_deref(), Some("u"));
    /// ```
    #[must_use]
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self.password = Some(password.into());
        self
    }

    /// Sets the timeout of every step.
    ///
    /// ```
    /// let c = djrs_mail::SmtpConfig::new("h", 25).timeout(std::time::Duration::from_secs(5));
    /// assert!(c.timeout.is_some());
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the cap on open connections (at least 1).
    ///
    /// ```
    /// assert_eq!(djrs_mail::SmtpConfig::new("h", 25).max_connections(0).max_connections, 1);
    /// ```
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Sets how long a sender waits for a free pooled connection.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = djrs_mail::SmtpConfig::new("h", 25).pool_timeout(Duration::from_secs(5));
    /// assert_eq!(c.pool_timeout, Duration::from_secs(5));
    /// ```
    #[must_use]
    pub fn pool_timeout(mut self, timeout: Duration) -> Self {
        self.pool_timeout = timeout;
        self
    }

    /// Trusts one more root certificate (PEM).
    ///
    /// ```
    /// let c = djrs_mail::SmtpConfig::new("h", 25).add_root_certificate(b"-----BEGIN CERTIFICATE-----".to_vec());
    /// assert_eq!(c.root_certificates.len(), 1);
    /// ```
    #[must_use]
    pub fn add_root_certificate(mut self, pem: Vec<u8>) -> Self {
        self.root_certificates.push(pem);
        self
    }

    /// Presents a client certificate (PEM certificate chain and key).
    ///
    /// ```
    /// let c = djrs_mail::SmtpConfig::new("h", 25).client_identity(b"cert".to_vec(), b"key".to_vec());
    /// assert!(c.client_identity.is_some());
    /// ```
    #[must_use]
    pub fn client_identity(mut self, cert_pem: Vec<u8>, key_pem: Vec<u8>) -> Self {
        self.client_identity = Some((cert_pem, key_pem));
        self
    }

    /// The configuration Django's settings describe.
    ///
    /// # Errors
    /// [`Error::TlsWithSsl`] when `EMAIL_USE_TLS` and `EMAIL_USE_SSL` are both set,
    /// [`Error::Config`] for the other unusable settings or unreadable certificate files.
    ///
    /// ```
    /// use djrs_mail::{Error, MailSettings, Security, SmtpConfig};
    ///
    /// let mut settings = MailSettings::default();
    /// settings.email_use_tls = true;
    /// settings.email_port = 587;
    /// settings.email_timeout = Some(5.0);
    /// let config = SmtpConfig::from_settings(&settings)?;
    /// assert_eq!(config.security, Security::StartTls);
    ///
    /// settings.email_use_ssl = true;
    /// assert!(matches!(SmtpConfig::from_settings(&settings), Err(Error::TlsWithSsl)));
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn from_settings(settings: &MailSettings) -> Result<Self> {
        settings.validate()?;
        let read = |path: &std::path::Path| {
            std::fs::read(path)
                .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display()).into()))
        };
        let mut config = Self::new(settings.email_host.clone(), settings.email_port)
            .max_connections(settings.email_pool_size);
        config.security = settings.security()?;
        if !settings.email_host_user.is_empty() && !settings.email_host_password.is_empty() {
            config = config.credentials(
                settings.email_host_user.clone(),
                settings.email_host_password.clone(),
            );
        }
        // EMAIL_TIMEOUT = None keeps the bounded default.
        if let Some(seconds) = settings.email_timeout {
            // `validate` refused what does not fit a `Duration`.
            config.timeout = Duration::try_from_secs_f64(seconds).ok().or(config.timeout);
        }
        match (&settings.email_ssl_certfile, &settings.email_ssl_keyfile) {
            (Some(cert), Some(key)) => config.client_identity = Some((read(cert)?, read(key)?)),
            (Some(cert), None) => {
                let pem = read(cert)?;
                config.client_identity = Some((pem.clone(), pem));
            }
            (None, Some(_)) => {
                return Err(Error::Config(
                    "EMAIL_SSL_KEYFILE needs EMAIL_SSL_CERTFILE".into(),
                ));
            }
            (None, None) => {}
        }
        if let Some(ca) = &settings.email_ssl_cafile {
            config.root_certificates.push(read(ca)?);
        }
        config.hello_name = settings.dns_name.clone();
        Ok(config)
    }

    /// Parses `smtp://[user:password@]host[:port][?tls=starttls]` or `smtps://…` (implicit TLS),
    /// as the showcase's `--smtp-url` flag takes it.
    ///
    /// # Errors
    /// [`Error::Config`] for another scheme, a bad port or an unknown `tls` value.
    ///
    /// ```
    /// use djrs_mail::{Security, SmtpConfig};
    /// let c = SmtpConfig::from_url("smtp://ann:pw@mail.example.com:587?tls=starttls")?;
    /// assert_eq!((c.host.as_str(), c.port, c.security), ("mail.example.com", 587, Security::StartTls));
    /// assert_eq!(SmtpConfig::from_url("smtps://mail.example.com")?.port, 465);
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn from_url(url: &str) -> Result<Self> {
        // The message names the URL without its password: errors are printed and logged.
        let shown = redact_url_password(url);
        let bad = |why: &str| Error::Config(format!("invalid SMTP URL {shown:?}: {why}").into());
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected smtp:// or smtps://"))?;
        let (mut security, default_port) = match scheme {
            "smtp" => (Security::None, 25),
            "smtps" => (Security::Tls, 465),
            _ => return Err(bad("expected smtp:// or smtps://")),
        };
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = authority.trim_end_matches('/');
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => (
                h,
                p.parse::<u16>()
                    .map_err(|_| bad("the port is not a number"))?,
            ),
            _ => (hostport, default_port),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("tls", "starttls" | "required")) => security = Security::StartTls,
                Some(("tls", "wrapper" | "implicit")) => security = Security::Tls,
                Some(("tls", "none")) => security = Security::None,
                _ => {
                    return Err(bad(
                        "unknown query parameter (use tls=starttls|implicit|none)",
                    ));
                }
            }
        }
        let mut config =
            Self::new(host.trim_start_matches('[').trim_end_matches(']'), port).security(security);
        if let Some(userinfo) = userinfo {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            config = config.credentials(user, password);
        }
        Ok(config)
    }
}

/// `url` with the password of its user info replaced by `***`.
fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}
