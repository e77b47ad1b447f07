//! [`TaskContext`]: what a `takes_context` task receives (Django's `TaskContext`), with the
//! attempt's result, the application's state and the operator's cancellation.

use std::sync::Arc;

use crate::{TaskResult, Tasks};

/// What a `takes_context` task receives first (Django's `TaskContext`).
///
/// ```
/// use djrs_tasks::{task, TaskContext, Tasks};
///
/// #[derive(Clone)]
/// struct Greeting(&'static str);
///
/// #[task(takes_context)]
/// async fn greet(ctx: TaskContext, name: String) -> String {
///     let greeting = ctx.state::<Greeting>().map_or("Hello", |g| g.0);
///     format!("{greeting}, {name} (attempt {})", ctx.attempt())
/// }
///
/// # tokio_test::block_on(async {
/// let tasks = Tasks::builder().state(Greeting("Bonjour")).build()?;
/// let result = greet.enqueue(&tasks, "Ada".into()).await?;
/// assert_eq!(result.return_value::<String>()?, "Bonjour, Ada (attempt 1)");
/// # Ok::<(), djrs_tasks::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct TaskContext {
    task_result: Arc<TaskResult>,
    tasks: Tasks,
    cancel: Cancel,
}

/// The cancellation of one attempt: requested by an operator (`Tasks::cancel` on a `RUNNING`
/// task, from any process), delivered to the worker with its next lease renewal.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cancel(Arc<CancelState>);

#[derive(Debug, Default)]
struct CancelState {
    requested: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

impl Cancel {
    /// Requests the cancellation (once; later calls change nothing).
    pub(crate) fn request(&self) {
        if !self
            .0
            .requested
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            self.0.notify.notify_waiters();
        }
    }

    pub(crate) fn is_requested(&self) -> bool {
        self.0.requested.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Resolves once the cancellation is requested.
    pub(crate) async fn requested(&self) {
        let notified = self.0.notify.notified();
        if self.is_requested() {
            return;
        }
        notified.await;
    }
}

impl TaskContext {
    pub(crate) fn new(task_result: Arc<TaskResult>, tasks: Tasks, cancel: Cancel) -> Self {
        TaskContext {
            task_result,
            tasks,
            cancel,
        }
    }

    /// Whether an operator asked to cancel this task while it runs. A task that checks it
    /// (or awaits [`cancelled`](Self::cancelled)) can stop cleanly; one that does not is
    /// dropped at its next `.await` after the worker's grace period. Either way the task
    /// ends `FAILED` with a `djrs_tasks::Cancelled` error and is not retried.
    ///
    /// ```
    /// use djrs_tasks::{task, TaskContext, Tasks};
    ///
    /// #[task(takes_context)]
    /// async fn crunch(ctx: TaskContext, rows: u32) -> u32 {
    ///     let mut done = 0;
    ///     while done < rows && !ctx.is_cancelled() {
    ///         done += 1; // one row's work
    ///     }
    ///     done
    /// }
    ///
    /// # tokio_test::block_on(async {
    /// let result = crunch.enqueue(&Tasks::default(), 3).await?;
    /// assert_eq!(result.return_value::<u32>()?, 3);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_requested()
    }

    /// Resolves when an operator asks to cancel this task (see
    /// [`is_cancelled`](Self::is_cancelled)); race it against the task's work.
    ///
    /// ```
    /// use std::time::Duration;
    /// use djrs_tasks::{task, TaskContext};
    ///
    /// #[task(takes_context)]
    /// async fn wait_for_it(ctx: TaskContext) -> Result<(), String> {
    ///     tokio::select! {
    ///         () = ctx.cancelled() => Err("cancelled; partial work rolled back".into()),
    ///         () = tokio::time::sleep(Duration::from_millis(10)) => Ok(()),
    ///     }
    /// }
    /// ```
    pub async fn cancelled(&self) {
        self.cancel.requested().await;
    }

    /// The running task's result as it was when this attempt started.
    ///
    /// ```
    /// use djrs_tasks::{task, TaskContext, Tasks};
    ///
    /// #[task(takes_context, queue_name = "default")]
    /// async fn whoami(ctx: TaskContext) -> String {
    ///     format!("{} on {}", ctx.task_result().id, ctx.task_result().queue_name)
    /// }
    ///
    /// # tokio_test::block_on(async {
    /// let result = whoami.enqueue(&Tasks::default()).await?;
    /// assert_eq!(result.return_value::<String>()?, format!("{} on default", result.id));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn task_result(&self) -> &TaskResult {
        &self.task_result
    }

    /// This attempt's number, from 1 (Django: `task_result.attempts`).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, TaskContext, Tasks, Worker};
    ///
    /// #[task(takes_context, max_attempts = 3)]
    /// async fn third_time_lucky(ctx: TaskContext) -> Result<u32, String> {
    ///     if ctx.attempt() < 3 { Err("not yet".into()) } else { Ok(ctx.attempt()) }
    /// }
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// let enqueued = third_time_lucky.enqueue(&tasks).await?;
    /// let worker = Worker::new(&tasks).retry_backoff(Duration::from_millis(5), Duration::from_millis(10));
    /// worker
    ///     .run_until(async {
    ///         while !tasks.get_result(&enqueued.id).await.unwrap().is_finished() {
    ///             tokio::time::sleep(Duration::from_millis(10)).await;
    ///         }
    ///     })
    ///     .await?;
    /// let result = tasks.get_result(&enqueued.id).await?;
    /// assert_eq!(result.return_value::<u32>()?, 3);
    /// assert_eq!(result.errors.len(), 2);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.task_result.attempts()
    }

    /// The task system, to enqueue follow-up tasks.
    ///
    /// ```
    /// use djrs_tasks::{task, DummyBackend, ImmediateBackend, TaskContext, Tasks};
    ///
    /// #[task(backend = "outbox")]
    /// async fn send_receipt(order: u32) {}
    ///
    /// #[task(takes_context)]
    /// async fn place_order(ctx: TaskContext, order: u32) -> Result<(), djrs_tasks::Error> {
    ///     // A follow-up task, through the same task system.
    ///     send_receipt.enqueue(ctx.tasks(), order).await?;
    ///     Ok(())
    /// }
    ///
    /// # tokio_test::block_on(async {
    /// let outbox = DummyBackend::new();
    /// let tasks = Tasks::builder()
    ///     .backend("default", ImmediateBackend::new())
    ///     .backend("outbox", outbox.clone())
    ///     .build()?;
    /// place_order.enqueue(&tasks, 42).await?;
    /// assert_eq!(outbox.results()[0].args, serde_json::json!([42]));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn tasks(&self) -> &Tasks {
        &self.tasks
    }

    /// Application state registered with [`TasksBuilder::state`](crate::TasksBuilder::state):
    /// a database pool, a mailer, a client.
    ///
    /// ```
    /// use djrs_tasks::{task, TaskContext, Tasks};
    ///
    /// struct Mailer {
    ///     from: &'static str,
    /// }
    ///
    /// #[task(takes_context)]
    /// async fn sender(ctx: TaskContext) -> Option<String> {
    ///     ctx.state::<Mailer>().map(|m| m.from.to_owned())
    /// }
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::builder().state(Mailer { from: "noreply@example.com" }).build()?;
    /// let result = sender.enqueue(&tasks).await?;
    /// assert_eq!(result.return_value::<Option<String>>()?.as_deref(), Some("noreply@example.com"));
    /// // Without it registered: None.
    /// let bare = sender.enqueue(&Tasks::default()).await?;
    /// assert_eq!(bare.return_value::<Option<String>>()?, None);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.tasks.state::<T>()
    }
}
