//! [`Mailer`], the handle applications keep, and Django's helper functions.

use std::fmt;
use std::sync::Arc;

use crate::backend::{
    Backend, ConsoleBackend, DummyBackend, FileBackend, LocmemBackend, SendOptions,
};
use crate::error::{Error, Result};
use crate::message::{EmailMessage, MessageDefaults};
use crate::settings::{BackendKind, MailSettings};

/// A configured backend plus Django's mail settings: the "connection" of Django's API, cheap to
/// clone and share (axum state, task state).
///
/// ```
/// use djrs_mail::{EmailMessage, LocmemBackend, Mailer};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let outbox = LocmemBackend::new();
/// let mailer = Mailer::new(outbox.clone());
/// let sent = EmailMessage::new("Welcome", "Hello!").to(["ann@example.com"])?.send(&mailer).await?;
/// assert_eq!(sent, 1);
/// assert_eq!(outbox.outbox()[0].from_email.as_ref().unwrap(), "webmaster@localhost");
/// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct Mailer {
    backend: Arc<dyn Backend>,
    settings: Arc<MailSettings>,
    options: SendOptions,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("backend", &self.backend)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer over a backend, with Django's default settings.
    ///
    /// ```
    /// let mailer = djrs_mail::Mailer::new(djrs_mail::DummyBackend);
    /// assert_eq!(mailer.settings().default_from_email, "webmaster@localhost");
    /// ```
    #[must_use]
    pub fn new(backend: impl Backend) -> Self {
        let settings = MailSettings::default();
        let options = SendOptions {
            defaults: settings.message_defaults(),
            fail_silently: false,
        };
        Self {
            backend: Arc::new(backend),
            settings: Arc::new(settings),
            options,
        }
    }

    /// The mailer `EMAIL_BACKEND` and the other settings describe (Django's
    /// `get_connection()`).
    ///
    /// # Errors
    /// [`Error::Config`] or [`Error::TlsWithSsl`] for invalid settings,
    /// [`Error::FeatureDisabled`] for `smtp` without
    /// the `smtp` feature.
    ///
    /// ```
    /// use djrs_mail::{MailSettings, Mailer};
    /// let mut settings = MailSettings::default();
    /// settings.email_backend = "dummy".into();
    /// let mailer = Mailer::from_settings(settings)?;
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn from_settings(settings: MailSettings) -> Result<Self> {
        settings.validate()?;
        let backend: Arc<dyn Backend> = match settings.backend_kind()? {
            BackendKind::Console => Arc::new(ConsoleBackend::stdout()),
            BackendKind::Locmem => Arc::new(LocmemBackend::new()),
            BackendKind::Dummy => Arc::new(DummyBackend),
            BackendKind::File => {
                let path = settings.email_file_path.as_ref().ok_or_else(|| {
                    Error::Config("the file backend needs EMAIL_FILE_PATH".into())
                })?;
                Arc::new(FileBackend::new(path)?)
            }
            BackendKind::Smtp => smtp_backend(&settings)?,
        };
        let options = SendOptions {
            defaults: settings.message_defaults(),
            fail_silently: false,
        };
        Ok(Self {
            backend,
            settings: Arc::new(settings),
            options,
        })
    }

    /// Replaces the settings (defaults for messages, admins, prefixes) and keeps the backend.
    ///
    /// ```
    /// use djrs_mail::{MailSettings, Mailer};
    /// let mut settings = MailSettings::default();
    /// settings.default_from_email = "me@example.com".into();
    /// let mailer = Mailer::new(djrs_mail::DummyBackend).with_settings(settings);
    /// assert_eq!(mailer.defaults().default_from_email, "me@example.com");
    /// ```
    #[must_use]
    pub fn with_settings(mut self, settings: MailSettings) -> Self {
        self.options.defaults = settings.message_defaults();
        self.settings = Arc::new(settings);
        self
    }

    /// Django's `fail_silently`: transport failures are logged and not counted instead of
    /// returned. Bad messages stay errors.
    ///
    /// ```
    /// let mailer = djrs_mail::Mailer::new(djrs_mail::DummyBackend).fail_silently(true);
    /// # let _ = mailer;
    /// ```
    #[must_use]
    pub fn fail_silently(mut self, fail_silently: bool) -> Self {
        self.options.fail_silently = fail_silently;
        self
    }

    /// The settings.
    ///
    /// ```
    /// assert_eq!(djrs_mail::Mailer::new(djrs_mail::DummyBackend).settings().email_port, 25);
    /// ```
    #[must_use]
    pub fn settings(&self) -> &MailSettings {
        &self.settings
    }

    /// The rendering defaults (`DEFAULT_FROM_EMAIL`, Message-ID domain).
    ///
    /// ```
    /// assert_eq!(djrs_mail::Mailer::new(djrs_mail::DummyBackend).defaults().default_from_email, "webmaster@localhost");
    /// ```
    #[must_use]
    pub fn defaults(&self) -> &MessageDefaults {
        &self.options.defaults
    }

    /// The backend.
    ///
    /// ```
    /// let mailer = djrs_mail::Mailer::new(djrs_mail::DummyBackend);
    /// assert!(format!("{:?}", mailer.backend()).contains("Dummy"));
    /// ```
    #[must_use]
    pub fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    /// Opens the backend's long-lived resources (for SMTP: a connection in the pool).
    ///
    /// # Errors
    /// The backend's, unless `fail_silently`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// djrs_mail::Mailer::new(djrs_mail::DummyBackend).open().await?;
    /// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
    /// ```
    pub async fn open(&self) -> Result<()> {
        match self.backend.open().await {
            Err(err) if self.options.fail_silently && !err.is_bad_message() => {
                tracing::warn!(error = ?err.to_string(), "opening the mail backend failed (fail_silently)");
                Ok(())
            }
            other => other,
        }
    }

    /// Closes what [`Mailer::open`] opened (for SMTP: the idle connections).
    ///
    /// # Errors
    /// The backend's.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// djrs_mail::Mailer::new(djrs_mail::DummyBackend).close().await?;
    /// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
    /// ```
    pub async fn close(&self) -> Result<()> {
        self.backend.close().await
    }

    /// Sends one message; returns 1 if it was sent, 0 if it had no recipients.
    ///
    /// # Errors
    /// A bad message always; transport failures unless `fail_silently`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let mailer = djrs_mail::Mailer::new(djrs_mail::LocmemBackend::new());
    /// assert_eq!(mailer.send(&djrs_mail::EmailMessage::new("S", "B")).await?, 0); // no recipients
    /// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
    /// ```
    pub async fn send(&self, message: &EmailMessage) -> Result<usize> {
        self.send_messages(std::slice::from_ref(message)).await
    }

    /// Sends messages over one connection; returns how many were sent.
    ///
    /// # Errors
    /// As [`Mailer::send`].
    ///
    /// ```
    /// use djrs_mail::{EmailMessage, Mailer, LocmemBackend};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let mailer = Mailer::new(LocmemBackend::new());
    /// let batch = [EmailMessage::new("A", "1").to(["a@example.com"])?, EmailMessage::new("B", "2").to(["b@example.com"])?];
    /// assert_eq!(mailer.send_messages(&batch).await?, 2);
    /// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
    /// ```
    pub async fn send_messages(&self, messages: &[EmailMessage]) -> Result<usize> {
        match self.backend.send_messages(messages, &self.options).await {
            Err(err) if self.options.fail_silently && !err.is_bad_message() => {
                tracing::warn!(error = ?err.to_string(), "sending mail failed (fail_silently)");
                Ok(0)
            }
            other => other,
        }
    }
}

#[cfg(feature = "smtp")]
fn smtp_backend(settings: &MailSettings) -> Result<Arc<dyn Backend>> {
    Ok(Arc::new(crate::smtp::SmtpBackend::new(
        crate::smtp::SmtpConfig::from_settings(settings)?,
    )?))
}

#[cfg(not(feature = "smtp"))]
fn smtp_backend(_: &MailSettings) -> Result<Arc<dyn Backend>> {
    Err(Error::FeatureDisabled {
        backend: "smtp".to_owned(),
        feature: "smtp",
    })
}

impl EmailMessage {
    /// Sends the message through a mailer (Django's `send()`); returns 1, or 0 without
    /// recipients.
    ///
    /// # Errors
    /// As [`Mailer::send`].
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let mailer = djrs_mail::Mailer::new(djrs_mail::DummyBackend);
    /// assert_eq!(djrs_mail::EmailMessage::new("S", "B").to(["a@example.com"])?.send(&mailer).await?, 1);
    /// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
    /// ```
    pub async fn send(&self, mailer: &Mailer) -> Result<usize> {
        mailer.send(self).await
    }
}

/// Django's `send_mail()`: one message, with an HTML alternative when `html_message` is given.
/// `from_email` `None` uses `DEFAULT_FROM_EMAIL`.
///
/// # Errors
/// As [`Mailer::send`].
///
/// ```
/// use djrs_mail::{LocmemBackend, Mailer, send_mail};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let outbox = LocmemBackend::new();
/// let mailer = Mailer::new(outbox.clone());
/// send_mail(&mailer, "Subject", "Text", Some("from@example.com"), &["to@example.com"], Some("<p>HTML</p>")).await?;
/// assert_eq!(outbox.outbox()[0].alternatives.len(), 1);
/// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
/// ```
pub async fn send_mail(
    mailer: &Mailer,
    subject: &str,
    message: &str,
    from_email: Option<&str>,
    recipient_list: &[&str],
    html_message: Option<&str>,
) -> Result<usize> {
    let mut mail = EmailMessage::new(subject, message)
        .from_email(from_email.unwrap_or_default())?
        .to(recipient_list)?;
    if let Some(html) = html_message {
        mail = mail.attach_alternative(html, "text/html");
    }
    mailer.send(&mail).await
}

/// Django's `send_mass_mail()`: `(subject, message, from_email, recipients)` tuples sent over one
/// connection; returns how many were sent.
///
/// # Errors
/// As [`Mailer::send_messages`].
///
/// ```
/// use djrs_mail::{LocmemBackend, Mailer, send_mass_mail};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mailer = Mailer::new(LocmemBackend::new());
/// let data = [
///     ("Hi A", "Body A", None, vec!["a@example.com"]),
///     ("Hi B", "Body B", Some("me@example.com"), vec!["b@example.com"]),
/// ];
/// assert_eq!(send_mass_mail(&mailer, data).await?, 2);
/// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
/// ```
pub async fn send_mass_mail<'a, I>(mailer: &Mailer, datatuple: I) -> Result<usize>
where
    I: IntoIterator<Item = (&'a str, &'a str, Option<&'a str>, Vec<&'a str>)>,
{
    let messages = datatuple
        .into_iter()
        .map(|(subject, body, from, to)| {
            EmailMessage::new(subject, body)
                .from_email(from.unwrap_or_default())?
                .to(to)
        })
        .collect::<Result<Vec<_>>>()?;
    mailer.send_messages(&messages).await
}

async fn mail_list(
    mailer: &Mailer,
    to: &[String],
    subject: &str,
    message: &str,
    html_message: Option<&str>,
) -> Result<usize> {
    if to.is_empty() {
        return Ok(0);
    }
    let settings = mailer.settings();
    let mut mail = EmailMessage::new(
        format!("{}{subject}", settings.email_subject_prefix),
        message,
    )
    .from_email(&settings.server_email)?
    .to(to)?;
    if let Some(html) = html_message {
        mail = mail.attach_alternative(html, "text/html");
    }
    mailer.send(&mail).await
}

/// Django's `mail_admins()`: to `ADMINS`, from `SERVER_EMAIL`, the subject prefixed with
/// `EMAIL_SUBJECT_PREFIX`; nothing when `ADMINS` is empty.
///
/// # Errors
/// As [`Mailer::send`].
///
/// ```
/// use djrs_mail::{LocmemBackend, MailSettings, Mailer, mail_admins};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let outbox = LocmemBackend::new();
/// let mut settings = MailSettings::default();
/// settings.admins = vec!["ops@example.com".into()];
/// let mailer = Mailer::new(outbox.clone()).with_settings(settings);
/// mail_admins(&mailer, "Disk full", "on db1", None).await?;
/// assert_eq!(outbox.outbox()[0].subject, "[Django] Disk full");
/// assert_eq!(outbox.outbox()[0].from_email.as_ref().unwrap(), "root@localhost");
/// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
/// ```
pub async fn mail_admins(
    mailer: &Mailer,
    subject: &str,
    message: &str,
    html_message: Option<&str>,
) -> Result<usize> {
    let admins = mailer.settings().admins.clone();
    mail_list(mailer, &admins, subject, message, html_message).await
}

/// Django's `mail_managers()`: as [`mail_admins`], to `MANAGERS`.
///
/// # Errors
/// As [`Mailer::send`].
///
/// ```
/// use djrs_mail::{LocmemBackend, Mailer, mail_managers};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mailer = Mailer::new(LocmemBackend::new());
/// assert_eq!(mail_managers(&mailer, "S", "B", None).await?, 0); // no MANAGERS: nothing sent
/// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
/// ```
pub async fn mail_managers(
    mailer: &Mailer,
    subject: &str,
    message: &str,
    html_message: Option<&str>,
) -> Result<usize> {
    let managers = mailer.settings().managers.clone();
    mail_list(mailer, &managers, subject, message, html_message).await
}
