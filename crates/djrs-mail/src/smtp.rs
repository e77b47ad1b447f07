//! The SMTP backend on lettre's tokio connection, with a pool that caps open connections,
//! timeouts on every step, and STARTTLS that is required once asked for.

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use lettre::Address;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, Identity, TlsParameters};
use lettre::transport::smtp::extension::{ClientId, Extension};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::backend::{Backend, BoxFuture, SendOptions};
use crate::error::{Error, Result};
use crate::message::{EmailMessage, Policy};
use crate::settings::MailSettings;

/// How the connection is secured.
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
    /// [`Error::Config`] for TLS with SSL, or unreadable certificate files.
    ///
    /// ```
    /// let settings = djrs_mail::MailSettings { email_use_tls: true, email_port: 587, email_timeout: Some(5.0), ..Default::default() };
    /// let config = djrs_mail::SmtpConfig::from_settings(&settings)?;
    /// assert_eq!(config.security, djrs_mail::Security::StartTls);
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
        config.security = if settings.email_use_tls {
            Security::StartTls
        } else if settings.email_use_ssl {
            Security::Tls
        } else {
            Security::None
        };
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

/// The DER bytes of the first `CERTIFICATE` block of a PEM file.
fn first_pem_certificate(pem: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let text = std::str::from_utf8(pem).ok()?;
    let start = text.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = start + text[start..].find("-----END CERTIFICATE-----")?;
    let body: String = text[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// Connects to the first address of `host` that answers, with `TCP_NODELAY` set.
async fn tcp_connect(host: &str, port: u16) -> std::io::Result<tokio::net::TcpStream> {
    let mut last = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{host} has no address"),
        )
    }))
}

/// An open connection that counts itself.
struct Conn {
    inner: AsyncSmtpConnection,
    open: Arc<AtomicUsize>,
    last_used: Instant,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Pool {
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Conn>>,
    open: Arc<AtomicUsize>,
    opened_total: AtomicUsize,
}

/// The SMTP backend (Django's `smtp.EmailBackend`), async, over a pool of lettre connections
/// that never holds more than `max_connections` open.
///
/// ```no_run
/// use djrs_mail::{EmailMessage, Mailer, Security, SmtpBackend, SmtpConfig};
///
/// # async fn run() -> djrs_mail::Result<()> {
/// let backend = SmtpBackend::new(SmtpConfig::new("smtp.example.com", 587).security(Security::StartTls))?;
/// let mailer = Mailer::new(backend);
/// EmailMessage::new("Hi", "Body").to(["ann@example.com"]).send(&mailer).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SmtpBackend {
    inner: Arc<Inner>,
}

struct Inner {
    config: SmtpConfig,
    tls: Option<TlsParameters>,
    pool: Pool,
    #[cfg(feature = "dkim")]
    dkim: Option<crate::dkim::DkimSigner>,
}

impl fmt::Debug for SmtpBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpBackend")
            .field("config", &self.inner.config)
            .field("open_connections", &self.open_connections())
            .finish_non_exhaustive()
    }
}

fn smtp_err(step: &'static str, err: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Smtp {
        step,
        source: Box::new(err),
    }
}

fn refused(step: &'static str, why: &str) -> Error {
    Error::Smtp {
        step,
        source: why.to_owned().into(),
    }
}

impl SmtpBackend {
    /// A backend; certificates are checked now, nothing connects until the first send.
    ///
    /// # Errors
    /// [`Error::Config`] when a certificate or key cannot be parsed.
    ///
    /// ```
    /// let backend = djrs_mail::SmtpBackend::new(djrs_mail::SmtpConfig::new("localhost", 25))?;
    /// assert_eq!(backend.open_connections(), 0);
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn new(config: SmtpConfig) -> Result<Self> {
        let tls = match config.security {
            Security::None => None,
            Security::StartTls | Security::Tls => {
                let mut builder = TlsParameters::builder(config.host.clone());
                for pem in &config.root_certificates {
                    let cert = Certificate::from_pem(pem).map_err(|e| {
                        Error::Config(format!("invalid root certificate: {e}").into())
                    })?;
                    builder = builder.add_root_certificate(cert);
                }
                if let Some((cert, key)) = &config.client_identity {
                    // lettre's rustls path takes the certificate as DER despite the name
                    // `from_pem`; convert the first PEM certificate (lettre uses only one).
                    let cert = first_pem_certificate(cert).unwrap_or_else(|| cert.clone());
                    let identity = Identity::from_pem(&cert, key).map_err(|e| {
                        Error::Config(format!("invalid client certificate or key: {e}").into())
                    })?;
                    builder = builder.identify_with(identity);
                }
                Some(
                    builder
                        .build_rustls()
                        .map_err(|e| Error::Config(format!("TLS setup failed: {e}").into()))?,
                )
            }
        };
        let max = config.max_connections.max(1);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                tls,
                pool: Pool {
                    permits: Arc::new(Semaphore::new(max)),
                    idle: Mutex::new(Vec::new()),
                    open: Arc::new(AtomicUsize::new(0)),
                    opened_total: AtomicUsize::new(0),
                },
                #[cfg(feature = "dkim")]
                dkim: None,
            }),
        })
    }

    /// Signs every message with DKIM before sending (feature `dkim`).
    ///
    /// ```
    /// # #[cfg(feature = "dkim")] {
    /// let signer = djrs_mail::DkimSigner::ed25519("example.com", "mail", "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")?;
    /// let backend = djrs_mail::SmtpBackend::new(djrs_mail::SmtpConfig::new("localhost", 25))?.dkim(signer);
    /// # let _ = backend; }
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    #[cfg(feature = "dkim")]
    #[must_use]
    pub fn dkim(self, signer: crate::dkim::DkimSigner) -> Self {
        let inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| Inner {
            config: shared.config.clone(),
            tls: shared.tls.clone(),
            pool: Pool {
                permits: Arc::new(Semaphore::new(shared.config.max_connections.max(1))),
                idle: Mutex::new(Vec::new()),
                open: Arc::new(AtomicUsize::new(0)),
                opened_total: AtomicUsize::new(0),
            },
            dkim: None,
        });
        Self {
            inner: Arc::new(Inner {
                dkim: Some(signer),
                ..inner
            }),
        }
    }

    /// Connections open now (in use or idle); never more than `max_connections`.
    ///
    /// ```
    /// let backend = djrs_mail::SmtpBackend::new(djrs_mail::SmtpConfig::new("localhost", 25))?;
    /// assert_eq!(backend.open_connections(), 0);
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    #[must_use]
    pub fn open_connections(&self) -> usize {
        self.inner.pool.open.load(Ordering::SeqCst)
    }

    /// Connections opened since the backend was made.
    ///
    /// ```
    /// let backend = djrs_mail::SmtpBackend::new(djrs_mail::SmtpConfig::new("localhost", 25))?;
    /// assert_eq!(backend.connections_opened(), 0);
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    #[must_use]
    pub fn connections_opened(&self) -> usize {
        self.inner.pool.opened_total.load(Ordering::SeqCst)
    }

    async fn step<T, E>(
        &self,
        step: &'static str,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T>
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let limit = self.step_timeout();
        match tokio::time::timeout(limit, fut).await {
            Ok(result) => result.map_err(|e| smtp_err(step, e)),
            Err(_) => Err(Error::Timeout {
                step,
                seconds: limit.as_secs_f64(),
            }),
        }
    }

    /// The bound on one network step: the configured timeout or the default.
    fn step_timeout(&self) -> Duration {
        self.inner
            .config
            .timeout
            .unwrap_or(SmtpConfig::DEFAULT_TIMEOUT)
    }

    /// Ends a connection that must not be used again, without waiting long.
    async fn discard(conn: &mut AsyncSmtpConnection) {
        let _ = tokio::time::timeout(Duration::from_secs(1), conn.abort()).await;
    }

    /// Opens a connection that is fully set up (TLS as configured, logged in) or fails: a
    /// connection whose STARTTLS failed never leaves this function.
    async fn connect(&self) -> Result<Conn> {
        let config = &self.inner.config;
        let hello = ClientId::Domain(
            config
                .hello_name
                .clone()
                .unwrap_or_else(|| crate::dns_name().to_owned()),
        );
        let mut conn = if config.security == Security::Tls {
            let implicit = self.inner.tls.clone();
            self.step(
                "connecting",
                AsyncSmtpConnection::connect_tokio1(
                    (config.host.as_str(), config.port),
                    Some(self.step_timeout()),
                    &hello,
                    implicit,
                    None,
                ),
            )
            .await?
        } else {
            // Our own socket, to turn off Nagle's algorithm: lettre writes a message and its
            // final "." separately, and with delayed ACKs every message on a reused connection
            // would wait ~40 ms.
            let tcp = self
                .step("connecting", tcp_connect(&config.host, config.port))
                .await?;
            self.step(
                "connecting",
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello),
            )
            .await?
        };
        if config.security == Security::StartTls {
            if !conn.can_starttls() {
                Self::discard(&mut conn).await;
                return Err(refused(
                    "STARTTLS",
                    "the server does not offer STARTTLS; nothing was sent",
                ));
            }
            let tls = self
                .inner
                .tls
                .clone()
                .ok_or_else(|| refused("STARTTLS", "no TLS parameters"))?;
            if let Err(err) = self.step("STARTTLS", conn.starttls(tls, &hello)).await {
                // Dropped, not aborted: after a failed upgrade lettre's stream is unusable even
                // for QUIT. The socket closes with it; nothing more is written in clear.
                drop(conn);
                return Err(err);
            }
            if !conn.is_encrypted() {
                Self::discard(&mut conn).await;
                return Err(refused(
                    "STARTTLS",
                    "the connection is not encrypted after STARTTLS",
                ));
            }
        }
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            let credentials = Credentials::new(user.clone(), password.clone());
            if let Err(err) = self
                .step(
                    "authenticating",
                    conn.auth(DEFAULT_MECHANISMS, &credentials),
                )
                .await
            {
                Self::discard(&mut conn).await;
                return Err(err);
            }
        }
        let pool = &self.inner.pool;
        pool.open.fetch_add(1, Ordering::SeqCst);
        pool.opened_total.fetch_add(1, Ordering::SeqCst);
        Ok(Conn {
            inner: conn,
            open: Arc::clone(&pool.open),
            last_used: Instant::now(),
        })
    }

    /// Takes a connection: an idle one still alive, or a new one. The permit caps how many
    /// exist.
    async fn checkout(&self) -> Result<(Conn, OwnedSemaphorePermit)> {
        let pool = &self.inner.pool;
        let limit = self.inner.config.pool_timeout;
        let permit = tokio::time::timeout(limit, Arc::clone(&pool.permits).acquire_owned())
            .await
            .map_err(|_| Error::Timeout {
                step: "waiting for a free connection of the pool",
                seconds: limit.as_secs_f64(),
            })?
            .map_err(|_| refused("connecting", "the connection pool is closed"))?;
        loop {
            let idle = pool
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some(mut conn) = idle else { break };
            let age = conn.last_used.elapsed();
            if age > self.inner.config.idle_timeout || conn.inner.has_broken() {
                Self::discard(&mut conn.inner).await;
                continue;
            }
            // A connection idle for a while may have been closed by the server: check it.
            if age > Duration::from_secs(5) && !self.step_ok(conn.inner.test_connected()).await {
                Self::discard(&mut conn.inner).await;
                continue;
            }
            return Ok((conn, permit));
        }
        Ok((self.connect().await?, permit))
    }

    async fn step_ok(&self, fut: impl Future<Output = bool>) -> bool {
        tokio::time::timeout(self.step_timeout(), fut)
            .await
            .unwrap_or(false)
    }

    fn checkin(&self, mut conn: Conn) {
        if conn.inner.has_broken() {
            return;
        }
        conn.last_used = Instant::now();
        self.inner
            .pool
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
    }

    fn envelope(message: &EmailMessage, options: &SendOptions, smtputf8: bool) -> Result<Envelope> {
        let (from, to) = message.envelope(&options.defaults.default_from_email, smtputf8)?;
        let parse = |a: &str| {
            Address::from_str(a)
                .map_err(|e| Error::address(a, format!("not usable as an SMTP address: {e}")))
        };
        let to = to.iter().map(|a| parse(a)).collect::<Result<Vec<_>>>()?;
        Envelope::new(Some(parse(&from)?), to)
            .map_err(|e| Error::address(&from, format!("no envelope: {e}")))
    }

    async fn send_all(&self, messages: &[EmailMessage], options: &SendOptions) -> Result<usize> {
        let mut sent = 0;
        let mut current: Option<(Conn, OwnedSemaphorePermit)> = None;
        for message in messages {
            if message.recipients().is_empty() {
                continue;
            }
            // Render first: a bad message is an error before any network traffic.
            #[allow(unused_mut)]
            let mut bytes = message.message_with(&options.defaults, Policy::Smtp)?;
            #[cfg(feature = "dkim")]
            if let Some(signer) = &self.inner.dkim {
                bytes = signer.sign(&bytes)?;
            }
            let (mut conn, permit) = match current.take() {
                Some(held) => held,
                None => match self.checkout().await {
                    Ok(held) => held,
                    Err(err) if options.fail_silently => {
                        tracing::warn!(error = ?err.to_string(), "SMTP connection failed (fail_silently)");
                        continue;
                    }
                    Err(err) => return Err(err),
                },
            };
            let smtputf8 = conn
                .inner
                .server_info()
                .supports_feature(Extension::SmtpUtfEight);
            let envelope = match Self::envelope(message, options, smtputf8) {
                Ok(envelope) => envelope,
                Err(err) => {
                    self.checkin(conn);
                    drop(permit);
                    return Err(err);
                }
            };
            match self
                .step("sending", conn.inner.send(&envelope, &bytes))
                .await
            {
                Ok(_) => {
                    sent += 1;
                    current = Some((conn, permit));
                }
                Err(err) => {
                    // Whatever state the conversation is in, this connection is done.
                    Self::discard(&mut conn.inner).await;
                    drop(conn);
                    drop(permit);
                    if options.fail_silently {
                        tracing::warn!(error = ?err.to_string(), "SMTP send failed (fail_silently)");
                        continue;
                    }
                    return Err(err);
                }
            }
        }
        if let Some((conn, permit)) = current {
            self.checkin(conn);
            drop(permit);
        }
        Ok(sent)
    }
}

impl Backend for SmtpBackend {
    fn open(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let (conn, permit) = self.checkout().await?;
            self.checkin(conn);
            drop(permit);
            Ok(())
        })
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let idle: Vec<Conn> = std::mem::take(
                &mut *self
                    .inner
                    .pool
                    .idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
            );
            for mut conn in idle {
                let _ = self
                    .step_ok(async { conn.inner.quit().await.is_ok() })
                    .await;
            }
            Ok(())
        })
    }

    fn send_messages<'a>(
        &'a self,
        messages: &'a [EmailMessage],
        options: &'a SendOptions,
    ) -> BoxFuture<'a, Result<usize>> {
        Box::pin(self.send_all(messages, options))
    }
}
