//! Feature `tasks`: sending in the background through `djrs-tasks`, retried on failure, with
//! the task options of djrs-tasks (`run_after`, `queue_name`, `priority`, `backend`) and
//! enqueueing inside the caller's own database transaction (`enqueue_in`).

use chrono::{DateTime, Utc};
use djrs_tasks::{EnqueueIn, Task, TaskContext, TaskResult, Tasks, task};

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

/// How [`EmailMessage::send_later_with`] and [`EmailMessage::send_later_in`] enqueue the send:
/// djrs-tasks' `Task::using()` setters, with their names (`run_after`, `queue_name`,
/// `priority`, `backend`), plus [`delay`](SendLater::delay). Unset options keep the task's
/// defaults (the `default` queue and backend, priority 0, run as soon as a worker is free).
/// The task system checks them when it enqueues, with Django's messages (a priority outside
/// −100..=100, a queue the backend does not list).
///
/// ```
/// use std::time::Duration;
/// use djrs_mail::SendLater;
///
/// let options = SendLater::new().delay(Duration::from_secs(600)).queue_name("mail").priority(10);
/// assert_eq!(options, SendLater::new().priority(10).queue_name("mail").delay(Duration::from_secs(600)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct SendLater {
    when: Option<When>,
    queue_name: Option<String>,
    priority: Option<i32>,
    backend: Option<String>,
}

/// When the send may run: a time, or a delay counted from the enqueue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    At(DateTime<Utc>),
    After(std::time::Duration),
}

impl SendLater {
    /// The task's defaults: run as soon as possible, on its queue, backend and priority.
    ///
    /// ```
    /// assert_eq!(djrs_mail::SendLater::new(), djrs_mail::SendLater::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends not before `delay` after the message is enqueued (sets the task's `run_after`
    /// then). Replaces an earlier [`run_after`](Self::run_after).
    ///
    /// ```
    /// use std::time::Duration;
    /// let in_an_hour = djrs_mail::SendLater::new().delay(Duration::from_secs(3600));
    /// # let _ = in_an_hour;
    /// ```
    pub fn delay(mut self, delay: std::time::Duration) -> Self {
        self.when = Some(When::After(delay));
        self
    }

    /// Sends not before `when` (djrs-tasks' `run_after`; needs a backend that defers, as the
    /// SQL and Redis backends do). Replaces an earlier [`delay`](Self::delay).
    ///
    /// ```
    /// let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    /// let options = djrs_mail::SendLater::new().run_after(tomorrow);
    /// # let _ = options;
    /// ```
    pub fn run_after(mut self, when: DateTime<Utc>) -> Self {
        self.when = Some(When::At(when));
        self
    }

    /// Enqueues on this queue (djrs-tasks' `queue_name`; the backend must list it in its
    /// `QUEUES`). A worker can then serve mail apart from other work.
    ///
    /// ```
    /// let options = djrs_mail::SendLater::new().queue_name("mail");
    /// # let _ = options;
    /// ```
    pub fn queue_name(mut self, queue_name: impl Into<String>) -> Self {
        self.queue_name = Some(queue_name.into());
        self
    }

    /// Sets the priority, −100..=100, higher first (djrs-tasks' `priority`).
    ///
    /// ```
    /// let urgent = djrs_mail::SendLater::new().priority(50);
    /// # let _ = urgent;
    /// ```
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Enqueues on the task backend with this alias (djrs-tasks' `backend`).
    ///
    /// ```
    /// let options = djrs_mail::SendLater::new().backend("mail-db");
    /// # let _ = options;
    /// ```
    pub fn backend(mut self, alias: impl Into<String>) -> Self {
        self.backend = Some(alias.into());
        self
    }

    /// The task with these options applied, its `run_after` counted from now.
    fn apply<T: Task>(&self, mut task: T) -> Result<T> {
        match self.when {
            Some(When::At(at)) => task = task.run_after(at),
            Some(When::After(delay)) => {
                let at = chrono::Duration::from_std(delay)
                    .ok()
                    .and_then(|d| Utc::now().checked_add_signed(d))
                    .ok_or_else(|| {
                        Error::InvalidArgument(
                            format!("a send_later delay of {delay:?} is beyond any date").into(),
                        )
                    })?;
                task = task.run_after(at);
            }
            None => {}
        }
        if let Some(queue_name) = &self.queue_name {
            task = task.queue_name(queue_name.clone());
        }
        if let Some(priority) = self.priority {
            task = task.priority(priority);
        }
        if let Some(backend) = &self.backend {
            task = task.backend(backend.clone());
        }
        Ok(task)
    }
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
        self.send_later_with(tasks, &SendLater::new()).await
    }

    /// [`send_later`](Self::send_later) with options: a delay or a time, a queue, a priority,
    /// a backend ([`SendLater`]).
    ///
    /// # Errors
    /// A bad message; [`Error::InvalidArgument`] for a delay no date can hold;
    /// [`Error::Enqueue`] when the task system refuses the task or its options.
    ///
    /// ```
    /// use std::time::Duration;
    /// use djrs_mail::{EmailMessage, Mailer, SendLater, DummyBackend};
    /// use djrs_tasks::{SqliteBackend, TaskResultStatus, Tasks};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("tasks.sqlite3")).unwrap())
    ///     .queues("default", ["default", "mail"])
    ///     .state(Mailer::new(DummyBackend))
    ///     .build()
    ///     .unwrap();
    /// let message = EmailMessage::new("Reminder", "Body").to(["a@example.com"])?;
    /// let options = SendLater::new().delay(Duration::from_secs(3600)).queue_name("mail").priority(10);
    /// let result = message.send_later_with(&tasks, &options).await?;
    /// assert_eq!(result.status, TaskResultStatus::Ready);
    /// assert_eq!((result.queue_name.as_str(), result.priority), ("mail", 10));
    /// assert!(result.run_after.unwrap() > chrono::Utc::now() + chrono::Duration::minutes(59));
    ///
    /// // A queue the backend does not list is refused by the task system.
    /// let err = message.send_later_with(&tasks, &SendLater::new().queue_name("nope")).await.unwrap_err();
    /// assert!(matches!(err, djrs_mail::Error::Enqueue(_)));
    /// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
    /// ```
    pub async fn send_later_with(&self, tasks: &Tasks, options: &SendLater) -> Result<TaskResult> {
        self.validate()?;
        options
            .apply(send_email.using())?
            .enqueue(tasks, self.clone())
            .await
            .map_err(|e| Error::Enqueue(Box::new(e)))
    }

    /// Enqueues the send inside the caller's database transaction (djrs-tasks' `enqueue_in`):
    /// the message is sent if and only if the transaction commits, so an order and its
    /// confirmation mail go together. `conn` is `&mut *tx` for a `sqlx::Transaction` on
    /// PostgreSQL, SQLite or MySQL (djrs-tasks' features `postgres`, `sqlite`, `mysql`); the
    /// task's backend must be the SQL backend of that database.
    ///
    /// # Errors
    /// As [`send_later_with`](Self::send_later_with); a bad message is refused before
    /// anything is written.
    ///
    /// ```
    /// use djrs_mail::{EmailMessage, Mailer, SendLater, DummyBackend};
    /// use djrs_tasks::{SqliteBackend, Tasks};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let dir = tempfile::tempdir().unwrap();
    /// let backend = SqliteBackend::open(dir.path().join("app.sqlite3")).unwrap();
    /// backend.migrate().await.unwrap();
    /// let pool = backend.pool().clone(); // the application's own database
    /// let tasks = Tasks::builder().backend("default", backend).state(Mailer::new(DummyBackend)).build().unwrap();
    /// let message = EmailMessage::new("Order confirmed", "Body").to(["a@example.com"])?;
    ///
    /// let mut tx = pool.begin().await.unwrap();
    /// // sqlx::query("INSERT INTO orders …").execute(&mut *tx).await?;
    /// let queued = message.send_later_in(&mut *tx, &tasks, &SendLater::new().priority(5)).await?;
    /// tx.rollback().await.unwrap(); // no order, no mail
    /// assert!(tasks.get_result(&queued.id).await.is_err());
    /// # Ok::<(), djrs_mail::Error>(()) }).unwrap();
    /// ```
    pub async fn send_later_in<C: EnqueueIn>(
        &self,
        conn: C,
        tasks: &Tasks,
        options: &SendLater,
    ) -> Result<TaskResult> {
        self.validate()?;
        options
            .apply(send_email.using())?
            .enqueue_in(conn, tasks, self.clone())
            .await
            .map_err(|e| Error::Enqueue(Box::new(e)))
    }
}
