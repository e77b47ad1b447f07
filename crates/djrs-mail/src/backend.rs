//! The backend trait and the development backends: console, file, locmem and dummy.

use std::fmt;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, Result};
use crate::message::{EmailMessage, EmailPolicy, MessageDefaults};

/// A boxed future, as the object-safe [`Backend`] trait returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a backend needs besides the messages: the rendering defaults and Django's
/// `fail_silently`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SendOptions {
    /// `DEFAULT_FROM_EMAIL`, the Message-ID domain, local time or UTC.
    pub defaults: MessageDefaults,
    /// Swallow transport failures (a message that failed is not counted). Bad messages are
    /// errors regardless.
    pub fail_silently: bool,
}

impl SendOptions {
    /// Sets the rendering defaults.
    ///
    /// ```
    /// use djrs_mail::{MessageDefaults, SendOptions};
    /// let options = SendOptions::default().defaults(MessageDefaults::default().dns_name("mx.example.com"));
    /// assert_eq!(options.defaults.dns_name, "mx.example.com");
    /// ```
    #[must_use]
    pub fn defaults(mut self, defaults: MessageDefaults) -> Self {
        self.defaults = defaults;
        self
    }

    /// Sets Django's `fail_silently`.
    ///
    /// ```
    /// assert!(djrs_mail::SendOptions::default().fail_silently(true).fail_silently);
    /// ```
    #[must_use]
    pub fn fail_silently(mut self, fail_silently: bool) -> Self {
        self.fail_silently = fail_silently;
        self
    }
}

/// An email backend (Django's `BaseEmailBackend`), async and object-safe.
///
/// `send_messages` returns how many messages were sent; messages without recipients are
/// skipped, as Django does. Implement it for your own transport:
///
/// ```
/// use djrs_mail::{Backend, BoxFuture, EmailMessage, Mailer, SendOptions};
///
/// #[derive(Debug)]
/// struct Counting;
///
/// impl Backend for Counting {
///     fn send_messages<'a>(&'a self, messages: &'a [EmailMessage], _: &'a SendOptions) -> BoxFuture<'a, djrs_mail::Result<usize>> {
///         Box::pin(async move { Ok(messages.iter().filter(|m| !m.recipients().is_empty()).count()) })
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mailer = Mailer::new(Counting);
/// assert_eq!(mailer.send(&EmailMessage::new("S", "B").to(["a@example.com"])?).await?, 1);
/// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
/// ```
pub trait Backend: Send + Sync + fmt::Debug + 'static {
    /// Opens long-lived resources (a connection) before a batch; optional.
    fn open(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    /// Releases what [`Backend::open`] opened; optional.
    fn close(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    /// Sends the messages and returns how many were sent.
    fn send_messages<'a>(
        &'a self,
        messages: &'a [EmailMessage],
        options: &'a SendOptions,
    ) -> BoxFuture<'a, Result<usize>>;
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Writes each message (LF line ends) followed by a line of 79 dashes, as Django's console
/// backend does: to stdout by default, or to any writer.
///
/// ```
/// use djrs_mail::{ConsoleBackend, EmailMessage, Mailer};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
/// let mailer = Mailer::new(ConsoleBackend::to_writer(SharedBuf(buffer.clone())));
/// mailer.send(&EmailMessage::new("Hi", "Body").to(["a@example.com"])?).await?;
/// let written = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
/// assert!(written.contains("Subject: Hi\n"));
/// assert!(written.ends_with(&format!("{}\n", "-".repeat(79))));
/// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
/// # struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
/// # impl std::io::Write for SharedBuf {
/// #     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
/// #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// # }
/// ```
pub struct ConsoleBackend {
    writer: Mutex<Box<dyn Write + Send>>,
}

impl fmt::Debug for ConsoleBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleBackend").finish_non_exhaustive()
    }
}

impl ConsoleBackend {
    /// Writes to standard output.
    ///
    /// ```
    /// let backend = djrs_mail::ConsoleBackend::stdout();
    /// # let _ = backend;
    /// ```
    #[must_use]
    pub fn stdout() -> Self {
        Self::to_writer(std::io::stdout())
    }

    /// Writes to the given writer (Django's `stream=`).
    ///
    /// ```
    /// let backend = djrs_mail::ConsoleBackend::to_writer(std::io::sink());
    /// # let _ = backend;
    /// ```
    #[must_use]
    pub fn to_writer(writer: impl Write + Send + 'static) -> Self {
        Self {
            writer: Mutex::new(Box::new(writer)),
        }
    }
}

/// The messages that have recipients (Django's backends skip the others), each with its
/// rendering, which fails on a bad header.
fn deliverable<'a>(
    messages: &'a [EmailMessage],
    options: &'a SendOptions,
) -> impl Iterator<Item = Result<(&'a EmailMessage, Vec<u8>)>> + 'a {
    messages
        .iter()
        .filter(|message| !message.recipients().is_empty())
        .map(|message| {
            let bytes = message.message_with(&options.defaults, EmailPolicy::Default)?;
            Ok((message, bytes))
        })
}

fn write_messages(
    writer: &mut dyn Write,
    messages: &[EmailMessage],
    options: &SendOptions,
    context: &str,
) -> Result<usize> {
    let mut sent = 0;
    for rendered in deliverable(messages, options) {
        let (_, bytes) = rendered?;
        let written = writer
            .write_all(&bytes)
            .and_then(|()| writer.write_all(b"\n"))
            .and_then(|()| writer.write_all(&[b'-'; 79]))
            .and_then(|()| writer.write_all(b"\n"))
            .and_then(|()| writer.flush());
        match written {
            Ok(()) => sent += 1,
            Err(_) if options.fail_silently => {}
            Err(err) => return Err(Error::io(context, err)),
        }
    }
    Ok(sent)
}

impl Backend for ConsoleBackend {
    fn send_messages<'a>(
        &'a self,
        messages: &'a [EmailMessage],
        options: &'a SendOptions,
    ) -> BoxFuture<'a, Result<usize>> {
        Box::pin(async move {
            let mut writer = lock(&self.writer);
            write_messages(&mut **writer, messages, options, "writing to the console")
        })
    }
}

/// Appends messages to one file per backend instance, `YYYYmmdd-HHMMSS-<id>.log` in a
/// directory (Django's `filebased` backend and `EMAIL_FILE_PATH`).
///
/// ```
/// use djrs_mail::{EmailMessage, FileBackend, Mailer};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let backend = FileBackend::new(dir.path())?;
/// let mailer = Mailer::new(backend.clone());
/// mailer.send(&EmailMessage::new("Hi", "Body").to(["a@example.com"])?).await?;
/// let written = std::fs::read_to_string(backend.file().unwrap()).unwrap();
/// assert!(written.contains("Subject: Hi\n"));
/// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct FileBackend {
    inner: Arc<FileInner>,
}

#[derive(Debug)]
struct FileInner {
    dir: PathBuf,
    file: Mutex<Option<PathBuf>>,
}

impl FileBackend {
    /// A backend writing into `dir`, created if missing.
    ///
    /// # Errors
    /// [`Error::Config`] when `dir` is not a writable directory (Django's
    /// `ImproperlyConfigured`).
    ///
    /// ```
    /// let file = tempfile::NamedTempFile::new().unwrap();
    /// assert!(djrs_mail::FileBackend::new(file.path()).is_err()); // a file, not a directory
    /// ```
    pub fn new(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        if dir.exists() && !dir.is_dir() {
            return Err(Error::Config(
                format!("path {} exists, but is not a directory", dir.display()).into(),
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::Config(format!("could not create directory {}: {e}", dir.display()).into())
        })?;
        let probe = tempfile_probe(dir);
        if probe.is_err() {
            return Err(Error::Config(
                format!("could not write to directory: {}", dir.display()).into(),
            ));
        }
        Ok(Self {
            inner: Arc::new(FileInner {
                dir: dir.to_owned(),
                file: Mutex::new(None),
            }),
        })
    }

    /// The file this backend writes, once it has written a message.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// assert!(djrs_mail::FileBackend::new(dir.path()).unwrap().file().is_none());
    /// ```
    #[must_use]
    pub fn file(&self) -> Option<PathBuf> {
        lock(&self.inner.file).clone()
    }
}

fn tempfile_probe(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(
        ".djrs-mail-probe-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(probe)
}

impl Backend for FileBackend {
    fn send_messages<'a>(
        &'a self,
        messages: &'a [EmailMessage],
        options: &'a SendOptions,
    ) -> BoxFuture<'a, Result<usize>> {
        Box::pin(async move {
            let mut file_name = lock(&self.inner.file);
            let path = file_name
                .get_or_insert_with(|| {
                    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
                    self.inner
                        .dir
                        .join(format!("{stamp}-{}.log", rand::random::<u64>()))
                })
                .clone();
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path);
            let mut file = match file {
                Ok(file) => file,
                Err(_) if options.fail_silently => return Ok(0),
                Err(err) => return Err(Error::io(format!("opening {}", path.display()), err)),
            };
            write_messages(&mut file, messages, options, "writing the message file")
        })
    }
}

/// Keeps sent messages in memory (Django's `locmem` backend and `mail.outbox`). Clones share
/// one outbox, so keep a clone to look at what was sent. A stored message without `from_email`
/// gets `DEFAULT_FROM_EMAIL`, as a Django message has it.
///
/// ```
/// use djrs_mail::{EmailMessage, LocmemBackend, Mailer};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let outbox = LocmemBackend::new();
/// let mailer = Mailer::new(outbox.clone());
/// mailer.send(&EmailMessage::new("Hi", "Body").to(["a@example.com"])?).await?;
/// assert_eq!(outbox.outbox()[0].subject, "Hi");
/// outbox.clear();
/// assert!(outbox.outbox().is_empty());
/// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct LocmemBackend {
    outbox: Arc<Mutex<Vec<EmailMessage>>>,
}

impl LocmemBackend {
    /// An empty outbox.
    ///
    /// ```
    /// assert!(djrs_mail::LocmemBackend::new().outbox().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The messages sent so far, oldest first.
    ///
    /// ```
    /// assert_eq!(djrs_mail::LocmemBackend::new().outbox().len(), 0);
    /// ```
    #[must_use]
    pub fn outbox(&self) -> Vec<EmailMessage> {
        lock(&self.outbox).clone()
    }

    /// Empties the outbox (Django's test runner does this before each test).
    ///
    /// ```
    /// djrs_mail::LocmemBackend::new().clear();
    /// ```
    pub fn clear(&self) {
        lock(&self.outbox).clear();
    }
}

impl Backend for LocmemBackend {
    fn send_messages<'a>(
        &'a self,
        messages: &'a [EmailMessage],
        options: &'a SendOptions,
    ) -> BoxFuture<'a, Result<usize>> {
        Box::pin(async move {
            let mut sent = 0;
            for rendered in deliverable(messages, options) {
                // Rendering validates every header, as Django's locmem backend does.
                let (message, _) = rendered?;
                // Django's messages carry DEFAULT_FROM_EMAIL from construction; so do these.
                // (A `From` extra header may stand in for an unusable one; then none is stored.)
                let mut stored = message.clone();
                if stored.from_email.is_none() {
                    stored.from_email =
                        crate::Mailbox::parse_in(&options.defaults.default_from_email, "From").ok();
                }
                lock(&self.outbox).push(stored);
                sent += 1;
            }
            Ok(sent)
        })
    }
}

/// Sends nothing and reports every message as sent (Django's `dummy` backend).
///
/// ```
/// use djrs_mail::{DummyBackend, EmailMessage, Mailer};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mailer = Mailer::new(DummyBackend);
/// assert_eq!(mailer.send_messages(&[EmailMessage::new("S", "B").to(["a@example.com"])?]).await?, 1);
/// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DummyBackend;

impl Backend for DummyBackend {
    fn send_messages<'a>(
        &'a self,
        messages: &'a [EmailMessage],
        _: &'a SendOptions,
    ) -> BoxFuture<'a, Result<usize>> {
        Box::pin(async move { Ok(messages.len()) })
    }
}
