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
use crate::message::{EmailMessage, EmailPolicy};
use crate::settings::Security;

mod config;

pub use config::SmtpConfig;

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
/// EmailMessage::new("Hi", "Body").to(["ann@example.com"])?.send(&mailer).await?;
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
            let mut bytes = message.message_with(&options.defaults, EmailPolicy::Smtp)?;
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
