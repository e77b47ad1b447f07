//! Feature `tasks`: sending in the background through `djrs-tasks`, retried on failure.

use djrs_tasks::{TaskContext, TaskResult, Tasks, task};

use crate::error::{Error, Result};
use crate::mailer::Mailer;
use crate::message::EmailMessage;

/// The background task behind [`EmailMessage::send_later`]: sends the message through the
/// [`Mailer`] registered as task state (`Tasks::builder().state(mailer)`). A failed send fails
/// the attempt, and the task system retries it (up to 5 attempts with backoff), so a message is
/// not lost to a passing SMTP outage. Its name is `djrs_mail::tasks::send_email`.
///
/// # Errors
/// No mailer registered, or the send failed (the error of the last attempt is kept in the
/// task result).
///
/// ```
/// use djrs_mail::{EmailMessage, LocmemBackend, Mailer, tasks::send_email};
/// use djrs_tasks::{ImmediateBackend, TaskResultStatus, Tasks};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let message = EmailMessage::new("Hi", "Body").to(["a@example.com"])?;
/// // Without a mailer as state, the task fails with a clear error.
/// let bare = Tasks::builder().backend("default", ImmediateBackend::new()).build().unwrap();
/// let failed = send_email.enqueue(&bare, message.clone()).await.unwrap();
/// assert_eq!(failed.status, TaskResultStatus::Failed);
/// assert!(failed.errors[0].message.contains("no Mailer registered"));
/// // With one, it sends.
/// let outbox = LocmemBackend::new();
/// let tasks = Tasks::builder()
///     .backend("default", ImmediateBackend::new())
///     .state(Mailer::new(outbox.clone()))
///     .build()
///     .unwrap();
/// let sent = send_email.enqueue(&tasks, message).await.unwrap();
/// assert_eq!(sent.return_value::<usize>().unwrap(), 1);
/// assert_eq!(outbox.outbox()[0].subject, "Hi");
/// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
/// ```
#[task(takes_context, max_attempts = 5)]
pub async fn send_email(ctx: TaskContext, message: EmailMessage) -> Result<usize, Error> {
    let mailer = ctx.state::<Mailer>().ok_or_else(|| {
        Error::Config(
            "no Mailer registered as task state: add `.state(mailer)` to the Tasks builder".into(),
        )
    })?;
    // A silent mailer would report success for a failed send and lose the message.
    mailer.clone().fail_silently(false).send(&message).await
}

impl EmailMessage {
    /// Enqueues the message on a `djrs-tasks` task system; a worker sends it through the
    /// [`Mailer`] registered as state, retrying failures (Rails' `deliver_later`). The message
    /// is validated first, so a bad one is an error here and never enqueued.
    ///
    /// # Errors
    /// A bad message, or [`Error::Enqueue`] when the task system refuses the task.
    ///
    /// ```
    /// use djrs_mail::{EmailMessage, LocmemBackend, Mailer};
    /// use djrs_tasks::{ImmediateBackend, Tasks};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let outbox = LocmemBackend::new();
    /// let tasks = Tasks::builder()
    ///     .backend("default", ImmediateBackend::new())
    ///     .state(Mailer::new(outbox.clone()))
    ///     .build()
    ///     .unwrap();
    /// EmailMessage::new("Later", "Body").to(["a@example.com"])?.send_later(&tasks).await?;
    /// assert_eq!(outbox.outbox()[0].subject, "Later");
    /// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
    /// ```
    pub async fn send_later(&self, tasks: &Tasks) -> Result<TaskResult> {
        self.validate()?;
        send_email
            .enqueue(tasks, self.clone())
            .await
            .map_err(|e| Error::Enqueue(Box::new(e)))
    }
}
