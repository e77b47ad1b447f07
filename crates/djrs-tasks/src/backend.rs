//! The `Backend` trait with Django's capability flags, and the worker-facing `Queue` trait.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::task::BoxFuture;
use crate::{Result, TaskError, TaskId, TaskResult, TaskResultStatus, Tasks, WorkerId};

/// What a backend can do: Django's `supports_*` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Capabilities {
    /// Tasks can be deferred with `run_after`.
    pub supports_defer: bool,
    /// `async fn` tasks are supported.
    pub supports_async_task: bool,
    /// Results can be read back, from any process.
    pub supports_get_result: bool,
    /// Priorities other than 0 are honoured.
    pub supports_priority: bool,
}

impl Capabilities {
    /// No capability; add them with the `with_*` methods.
    ///
    /// ```
    /// use djrs_tasks::Capabilities;
    ///
    /// let caps = Capabilities::none().with_async_task().with_defer();
    /// assert!(caps.supports_defer && !caps.supports_priority);
    /// ```
    #[must_use]
    pub const fn none() -> Self {
        Capabilities {
            supports_defer: false,
            supports_async_task: false,
            supports_get_result: false,
            supports_priority: false,
        }
    }

    /// Adds `supports_defer`.
    ///
    /// ```
    /// use djrs_tasks::Capabilities;
    ///
    /// let caps = Capabilities::none().with_defer();
    /// assert!(caps.supports_defer);
    /// assert!(!caps.supports_priority);
    /// ```
    #[must_use]
    pub const fn with_defer(mut self) -> Self {
        self.supports_defer = true;
        self
    }

    /// Adds `supports_async_task`.
    ///
    /// ```
    /// use djrs_tasks::Capabilities;
    ///
    /// let caps = Capabilities::none().with_async_task();
    /// assert!(caps.supports_async_task);
    /// assert!(!caps.supports_defer);
    /// ```
    #[must_use]
    pub const fn with_async_task(mut self) -> Self {
        self.supports_async_task = true;
        self
    }

    /// Adds `supports_get_result`.
    ///
    /// ```
    /// use djrs_tasks::Capabilities;
    ///
    /// let caps = Capabilities::none().with_get_result();
    /// assert!(caps.supports_get_result);
    /// assert!(!caps.supports_async_task);
    /// ```
    #[must_use]
    pub const fn with_get_result(mut self) -> Self {
        self.supports_get_result = true;
        self
    }

    /// Adds `supports_priority`.
    ///
    /// ```
    /// use djrs_tasks::Capabilities;
    ///
    /// let caps = Capabilities::none().with_priority();
    /// assert!(caps.supports_priority);
    /// assert!(!caps.supports_get_result);
    /// ```
    #[must_use]
    pub const fn with_priority(mut self) -> Self {
        self.supports_priority = true;
        self
    }

    /// Every capability.
    ///
    /// ```
    /// use djrs_tasks::Capabilities;
    ///
    /// let all = Capabilities::all();
    /// assert!(all.supports_defer && all.supports_async_task && all.supports_get_result && all.supports_priority);
    /// assert_eq!(
    ///     all,
    ///     Capabilities::none().with_defer().with_async_task().with_get_result().with_priority()
    /// );
    /// ```
    #[must_use]
    pub const fn all() -> Self {
        Capabilities {
            supports_defer: true,
            supports_async_task: true,
            supports_get_result: true,
            supports_priority: true,
        }
    }
}

/// A task to store, validated and with its id and timestamps assigned.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NewTask {
    /// The result's id.
    pub id: TaskId,
    /// The task's stable name.
    pub task_name: String,
    /// The arguments as a JSON array.
    pub args: serde_json::Value,
    /// The priority.
    pub priority: i32,
    /// The queue.
    pub queue_name: String,
    /// The backend alias.
    pub backend: String,
    /// Not before this time.
    pub run_after: Option<DateTime<Utc>>,
    /// When it was enqueued.
    pub enqueued_at: DateTime<Utc>,
    /// Attempts before failing for good.
    pub max_attempts: u32,
    /// How long one attempt may run.
    pub timeout: Option<Duration>,
    /// The uniqueness key.
    pub unique_key: Option<String>,
}

impl NewTask {
    /// The `READY` result this task starts as.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, NewTask, Result,
    ///     TaskResult, TaskResultStatus, Tasks};
    ///
    /// /// Stores tasks without running them.
    /// #[derive(Debug, Default)]
    /// struct Store(Mutex<Vec<TaskResult>>);
    ///
    /// impl Backend for Store {
    ///     fn name(&self) -> &'static str { "Store" }
    ///     fn capabilities(&self) -> Capabilities { Capabilities::none().with_async_task() }
    ///     fn enqueue<'a>(&'a self, ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
    ///         Box::pin(async move {
    ///             let result = task.into_ready_result();
    ///             self.0.lock().unwrap().push(result.clone());
    ///             ctx.task_enqueued(&result);
    ///             Ok(result)
    ///         })
    ///     }
    /// # fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
    /// #     Box::pin(async move { Err(djrs_tasks::Error::TaskResultDoesNotExist(id.to_owned())) })
    /// # }
    /// }
    ///
    /// #[task]
    /// async fn index(doc: u32) {}
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::builder().backend("default", Store::default()).build()?;
    /// let result = index.enqueue(&tasks, 7).await?;
    /// assert_eq!(result.status, TaskResultStatus::Ready);
    /// assert_eq!((result.args.clone(), result.attempts()), (serde_json::json!([7]), 0));
    /// assert!(result.started_at.is_none());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn into_ready_result(self) -> TaskResult {
        TaskResult {
            id: self.id,
            task_name: self.task_name,
            status: TaskResultStatus::Ready,
            enqueued_at: self.enqueued_at,
            started_at: None,
            finished_at: None,
            last_attempted_at: None,
            run_after: self.run_after,
            args: self.args,
            backend: self.backend,
            queue_name: self.queue_name,
            priority: self.priority,
            errors: Vec::new(),
            worker_ids: Vec::new(),
            max_attempts: self.max_attempts,
            return_value: None,
            timeout: self.timeout,
            unique_key: self.unique_key,
        }
    }
}

/// What a backend may ask of the task system while it stores or runs tasks: the task signals,
/// an attempt run in this process, the clock. Backends get this handle rather than the whole
/// [`Tasks`], so they stay independent of the core.
///
/// ```
/// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, NewTask, Result,
///     TaskResult, Tasks};
///
/// /// Runs every task at once and forgets it (a small custom backend).
/// #[derive(Debug)]
/// struct RunNow;
///
/// impl Backend for RunNow {
///     fn name(&self) -> &'static str { "RunNow" }
///     fn capabilities(&self) -> Capabilities { Capabilities::none().with_async_task() }
///     fn enqueue<'a>(&'a self, ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
///         Box::pin(async move {
///             let mut result = task.into_ready_result();
///             ctx.task_enqueued(&result);
///             result.worker_ids.push("here".into());
///             match ctx.run(&result).await {
///                 Ok(value) => result.mark_successful(value, ctx.now()),
///                 Err(error) => result.mark_failed(error, ctx.now()),
///             }
///             ctx.task_finished(&result);
///             Ok(result)
///         })
///     }
///     fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
///         Box::pin(async move { Err(djrs_tasks::Error::TaskResultDoesNotExist(id.to_owned())) })
///     }
/// }
///
/// #[task]
/// async fn answer() -> u32 { 42 }
///
/// # tokio_test::block_on(async {
/// let tasks = Tasks::builder().backend("default", RunNow).build()?;
/// assert_eq!(answer.enqueue(&tasks).await?.return_value::<u32>()?, 42);
/// # Ok::<(), djrs_tasks::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BackendContext<'a> {
    tasks: &'a Tasks,
}

impl<'a> BackendContext<'a> {
    pub(crate) fn new(tasks: &'a Tasks) -> Self {
        BackendContext { tasks }
    }

    /// Fires `task_enqueued` for a task that was stored (not for a duplicate of a unique key).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, NewTask, Result,
    ///     TaskResult, TaskResultStatus, Tasks};
    ///
    /// /// Stores tasks without running them.
    /// #[derive(Debug, Default)]
    /// struct Store(Mutex<Vec<TaskResult>>);
    ///
    /// impl Backend for Store {
    ///     fn name(&self) -> &'static str { "Store" }
    ///     fn capabilities(&self) -> Capabilities { Capabilities::none().with_async_task() }
    ///     fn enqueue<'a>(&'a self, ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
    ///         Box::pin(async move {
    ///             let result = task.into_ready_result();
    ///             self.0.lock().unwrap().push(result.clone());
    ///             ctx.task_enqueued(&result); // after the task is stored
    ///             Ok(result)
    ///         })
    ///     }
    /// # fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
    /// #     Box::pin(async move { Err(djrs_tasks::Error::TaskResultDoesNotExist(id.to_owned())) })
    /// # }
    /// }
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// let enqueued = Arc::new(Mutex::new(0));
    /// let count = Arc::clone(&enqueued);
    /// let tasks = Tasks::builder()
    ///     .backend("default", Store::default())
    ///     .on_task_enqueued(move |_| *count.lock().unwrap() += 1)
    ///     .build()?;
    /// ping.enqueue(&tasks).await?;
    /// assert_eq!(*enqueued.lock().unwrap(), 1);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn task_enqueued(&self, result: &TaskResult) {
        self.tasks.hooks().enqueued(result);
    }

    /// Fires `task_enqueued` for the tasks that were stored (not for duplicates of a unique
    /// key, which come back as the task holding the key) and returns the results.
    #[cfg(any(
        feature = "sqlite",
        feature = "postgres",
        feature = "mysql",
        feature = "redis"
    ))]
    pub(crate) fn announce(&self, stored: Vec<(TaskResult, bool)>) -> Vec<TaskResult> {
        stored
            .into_iter()
            .map(|(result, new)| {
                if new {
                    self.task_enqueued(&result);
                }
                result
            })
            .collect()
    }

    /// Fires `task_finished` for a task that reached `SUCCESSFUL` or `FAILED`.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, NewTask, Result,
    ///     TaskResult, TaskResultStatus, Tasks};
    ///
    /// /// Runs each task at enqueue time.
    /// #[derive(Debug, Default)]
    /// struct Store(Mutex<Vec<TaskResult>>);
    ///
    /// impl Backend for Store {
    ///     fn name(&self) -> &'static str { "Store" }
    ///     fn capabilities(&self) -> Capabilities { Capabilities::none().with_async_task() }
    ///     fn enqueue<'a>(&'a self, ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
    ///         Box::pin(async move {
    ///             let mut result = task.into_ready_result();
    ///             result.worker_ids.push("here".into());
    ///             match ctx.run(&result).await {
    ///                 Ok(value) => result.mark_successful(value, ctx.now()),
    ///                 Err(error) => result.mark_failed(error, ctx.now()),
    ///             }
    ///             ctx.task_finished(&result); // once the outcome is recorded
    ///             Ok(result)
    ///         })
    ///     }
    /// # fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
    /// #     Box::pin(async move { Err(djrs_tasks::Error::TaskResultDoesNotExist(id.to_owned())) })
    /// # }
    /// }
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// let finished = Arc::new(Mutex::new(Vec::new()));
    /// let seen = Arc::clone(&finished);
    /// let tasks = Tasks::builder()
    ///     .backend("default", Store::default())
    ///     .on_task_finished(move |result| seen.lock().unwrap().push(result.status))
    ///     .build()?;
    /// ping.enqueue(&tasks).await?;
    /// assert_eq!(*finished.lock().unwrap(), [TaskResultStatus::Successful]);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn task_finished(&self, result: &TaskResult) {
        self.tasks.hooks().finished(result);
    }

    /// Runs one attempt of `running` in this process (firing `task_started`), returning its
    /// JSON value or its error. Never panics.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, NewTask, Result,
    ///     TaskResult, TaskResultStatus, Tasks};
    ///
    /// /// Runs each task at enqueue time.
    /// #[derive(Debug, Default)]
    /// struct Store(Mutex<Vec<TaskResult>>);
    ///
    /// impl Backend for Store {
    ///     fn name(&self) -> &'static str { "Store" }
    ///     fn capabilities(&self) -> Capabilities { Capabilities::none().with_async_task() }
    ///     fn enqueue<'a>(&'a self, ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
    ///         Box::pin(async move {
    ///             let mut result = task.into_ready_result();
    ///             result.worker_ids.push("here".into());
    ///             match ctx.run(&result).await {
    ///                 Ok(value) => result.mark_successful(value, ctx.now()),
    ///                 Err(error) => result.mark_failed(error, ctx.now()),
    ///             }
    ///             Ok(result)
    ///         })
    ///     }
    /// # fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
    /// #     Box::pin(async move { Err(djrs_tasks::Error::TaskResultDoesNotExist(id.to_owned())) })
    /// # }
    /// }
    ///
    /// #[task]
    /// async fn add(a: i64, b: i64) -> i64 { a + b }
    ///
    /// #[task]
    /// async fn boom() { panic!("boom") }
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::builder().backend("default", Store::default()).build()?;
    /// assert_eq!(add.enqueue(&tasks, 2, 3).await?.return_value::<i64>()?, 5);
    /// // A panic comes back as the attempt's error.
    /// let failed = boom.enqueue(&tasks).await?;
    /// assert_eq!(failed.status, TaskResultStatus::Failed);
    /// assert_eq!(failed.errors[0].exception_class_path, "panic");
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use = "the attempt runs only when awaited"]
    pub fn run<'b>(
        &'b self,
        running: &'b TaskResult,
    ) -> BoxFuture<'b, std::result::Result<serde_json::Value, TaskError>> {
        let running = std::sync::Arc::new(running.clone());
        Box::pin(async move {
            crate::runner::run_attempt(self.tasks, &running, crate::task::Cancel::default()).await
        })
    }

    /// The current time.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, NewTask, Result,
    ///     TaskResult, TaskResultStatus, Tasks};
    ///
    /// /// Stores tasks, stamped with the context's clock.
    /// #[derive(Debug, Default)]
    /// struct Store(Mutex<Vec<TaskResult>>);
    ///
    /// impl Backend for Store {
    ///     fn name(&self) -> &'static str { "Store" }
    ///     fn capabilities(&self) -> Capabilities { Capabilities::none().with_async_task() }
    ///     fn enqueue<'a>(&'a self, ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
    ///         Box::pin(async move {
    ///             let mut result = task.into_ready_result();
    ///             result.run_after = Some(ctx.now());
    ///             self.0.lock().unwrap().push(result.clone());
    ///             Ok(result)
    ///         })
    ///     }
    /// # fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
    /// #     Box::pin(async move { Err(djrs_tasks::Error::TaskResultDoesNotExist(id.to_owned())) })
    /// # }
    /// }
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::builder().backend("default", Store::default()).build()?;
    /// let before = chrono::Utc::now();
    /// let result = ping.enqueue(&tasks).await?;
    /// assert!(result.run_after.unwrap() >= before);
    /// assert!(result.run_after.unwrap() <= chrono::Utc::now());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A task backend (Django's `BaseTaskBackend`): stores enqueued tasks, or runs them, and reads
/// results back. Object-safe, so `Tasks` holds any mix of backends; `Any`, so code that knows a
/// concrete backend type (transactional enqueue) can find it.
pub trait Backend: std::any::Any + Send + Sync + std::fmt::Debug {
    /// The backend's name for messages and signals, e.g. `SqliteBackend`.
    ///
    /// ```
    /// use djrs_tasks::{Backend, DummyBackend, ImmediateBackend, Tasks};
    ///
    /// assert_eq!(ImmediateBackend::new().name(), "ImmediateBackend");
    /// assert_eq!(DummyBackend::new().name(), "DummyBackend");
    /// assert_eq!(Tasks::default().backend("default")?.name(), "ImmediateBackend");
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    fn name(&self) -> &'static str;

    /// What the backend supports.
    ///
    /// ```
    /// use djrs_tasks::{Backend, DummyBackend, ImmediateBackend};
    ///
    /// let immediate = ImmediateBackend::new().capabilities();
    /// assert!(immediate.supports_async_task && immediate.supports_priority);
    /// assert!(!immediate.supports_defer && !immediate.supports_get_result);
    /// assert!(DummyBackend::new().capabilities().supports_defer);
    /// ```
    fn capabilities(&self) -> Capabilities;

    /// Stores (or, for `ImmediateBackend`, runs) a validated task, firing the signals it
    /// causes through `ctx`.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, DummyBackend, NewTask,
    ///     Result, TaskResult, Tasks};
    ///
    /// /// Counts what reaches the backend it wraps.
    /// #[derive(Debug, Default)]
    /// struct Counted {
    ///     inner: DummyBackend,
    ///     calls: AtomicUsize,
    /// }
    ///
    /// impl Backend for Counted {
    ///     fn name(&self) -> &'static str { "Counted" }
    ///     fn capabilities(&self) -> Capabilities { self.inner.capabilities() }
    ///     fn enqueue<'a>(&'a self, ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
    ///         self.calls.fetch_add(1, Ordering::SeqCst);
    ///         self.inner.enqueue(ctx, task)
    ///     }
    ///     fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
    ///         self.inner.get_result(id)
    ///     }
    /// }
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::builder().backend("default", Counted::default()).build()?;
    /// let result = ping.enqueue(&tasks).await?;
    /// assert_eq!(tasks.get_result(&result.id).await?, result); // stored by the inner backend
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn enqueue<'a>(
        &'a self,
        ctx: &'a BackendContext<'a>,
        task: NewTask,
    ) -> BoxFuture<'a, Result<TaskResult>>;

    /// Stores several tasks at once; by default one `enqueue` after another.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, DummyBackend, NewTask,
    ///     Result, TaskResult, Tasks};
    ///
    /// /// Counts what reaches the backend it wraps.
    /// #[derive(Debug, Default)]
    /// struct Counted {
    ///     inner: DummyBackend,
    ///     calls: AtomicUsize,
    /// }
    ///
    /// impl Backend for Counted {
    ///     fn name(&self) -> &'static str { "Counted" }
    ///     fn capabilities(&self) -> Capabilities { self.inner.capabilities() }
    ///     fn enqueue<'a>(&'a self, ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
    ///         self.inner.enqueue(ctx, task)
    ///     }
    ///     fn enqueue_many<'a>(&'a self, ctx: &'a BackendContext<'a>, batch: Vec<NewTask>) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
    ///         self.calls.fetch_add(1, Ordering::SeqCst);
    ///         self.inner.enqueue_many(ctx, batch)
    ///     }
    ///     fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
    ///         self.inner.get_result(id)
    ///     }
    /// }
    ///
    /// #[task]
    /// async fn index(doc: u32) {}
    ///
    /// # tokio_test::block_on(async {
    /// let backend = std::sync::Arc::new(Counted::default());
    /// let tasks = Tasks::builder().backend_arc("default", backend.clone()).build()?;
    /// let batch = (1..=3).map(|doc| index.prepare(doc)).collect::<Result<Vec<_>>>()?;
    /// assert_eq!(tasks.enqueue_many(batch).await?.len(), 3);
    /// assert_eq!(backend.calls.load(Ordering::SeqCst), 1); // one call for the batch
    /// assert_eq!(backend.inner.results().len(), 3);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn enqueue_many<'a>(
        &'a self,
        ctx: &'a BackendContext<'a>,
        batch: Vec<NewTask>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let mut results = Vec::with_capacity(batch.len());
            for task in batch {
                results.push(self.enqueue(ctx, task).await?);
            }
            Ok(results)
        })
    }

    /// Reads a result by id.
    ///
    /// ```
    /// use djrs_tasks::{task, Backend, DummyBackend, Error, ImmediateBackend, Tasks};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// let dummy = DummyBackend::new();
    /// let tasks = Tasks::builder().backend("default", dummy.clone()).build()?;
    /// let result = ping.enqueue(&tasks).await?;
    /// assert_eq!(dummy.get_result(&result.id).await?.id, result.id);
    /// // The immediate backend keeps no results.
    /// let err = ImmediateBackend::new().get_result(&result.id).await.unwrap_err();
    /// assert!(matches!(err, Error::NotSupported { operation: "get_result", .. }));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>>;

    /// The queue workers claim from, for backends that keep tasks for workers.
    ///
    /// ```
    /// use djrs_tasks::{Backend, DummyBackend, ImmediateBackend};
    ///
    /// assert!(ImmediateBackend::new().queue().is_none());
    /// assert!(DummyBackend::new().queue().is_none());
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// let dir = tempfile::tempdir().unwrap();
    /// let sqlite = djrs_tasks::SqliteBackend::open(dir.path().join("q.sqlite3"))?;
    /// assert!(sqlite.queue().is_some()); // workers can claim from it
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn queue(&self) -> Option<&dyn Queue> {
        None
    }
}

/// A connection a task can be enqueued on inside the caller's own transaction (the generated
/// `enqueue_in`). Implemented for `&mut sqlx::PgConnection`, `&mut sqlx::SqliteConnection` and
/// `&mut sqlx::MySqlConnection` (features `postgres`, `sqlite`, `mysql`): pass `&mut *tx` for a
/// `sqlx::Transaction`.
pub trait EnqueueIn: Send {
    /// Validates and writes the tasks on this connection, in order.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, EnqueueIn, SqliteBackend, Tasks};
    ///
    /// #[task]
    /// async fn index(doc: u32) {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let backend = SqliteBackend::open(dir.path().join("q.sqlite3"))?;
    /// backend.migrate().await?;
    /// let pool = backend.pool().clone();
    /// let tasks = Tasks::builder().backend("default", backend).build()?;
    /// let mut tx = pool.begin().await.unwrap();
    /// let batch = vec![index.prepare(1)?, index.prepare(2)?];
    /// let results = (&mut *tx).enqueue_batch_in(&tasks, batch).await?;
    /// assert_eq!(results.len(), 2);
    /// tx.rollback().await.unwrap(); // the tasks go with the transaction
    /// assert!(tasks.get_result(&results[0].id).await.is_err());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn enqueue_batch_in<'a>(
        self,
        tasks: &'a Tasks,
        batch: Vec<crate::PreparedTask>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>>
    where
        Self: 'a;

    /// Validates and writes one task on this connection.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, EnqueueIn, SqliteBackend, Task, Tasks, TaskResultStatus};
    ///
    /// #[task]
    /// async fn welcome(account: u32) {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let backend = SqliteBackend::open(dir.path().join("q.sqlite3"))?;
    /// backend.migrate().await?;
    /// let pool = backend.pool().clone();
    /// let tasks = Tasks::builder().backend("default", backend).build()?;
    /// let mut tx = pool.begin().await.unwrap();
    /// // sqlx::query("INSERT INTO account …").execute(&mut *tx).await?;
    /// let result = (&mut *tx)
    ///     .enqueue_in(&tasks, welcome.options(), serde_json::json!([7]))
    ///     .await?;
    /// tx.commit().await.unwrap();
    /// assert_eq!(tasks.get_result(&result.id).await?.status, TaskResultStatus::Ready);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn enqueue_in<'a>(
        self,
        tasks: &'a Tasks,
        options: &'a crate::TaskOptions,
        args: serde_json::Value,
    ) -> BoxFuture<'a, Result<TaskResult>>
    where
        Self: Sized + 'a,
    {
        let prepared = crate::PreparedTask::new(options.clone(), args);
        Box::pin(
            async move { crate::store::single(self.enqueue_batch_in(tasks, vec![prepared]).await) },
        )
    }
}

/// How an attempt ended, as the worker reports it to the queue.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// Success, with the JSON return value.
    Succeeded(serde_json::Value),
    /// The attempt failed; run again not before the given time.
    Retry {
        /// The attempt's error.
        error: TaskError,
        /// The earliest next attempt.
        run_after: DateTime<Utc>,
    },
    /// The attempt failed and the task fails for good.
    Failed(TaskError),
    /// The worker stopped before the attempt finished; run again as soon as possible, and the
    /// attempt does not count (its worker id is taken back off `worker_ids`).
    Interrupted(TaskError),
    /// The task asked to run again later ([`Flow::Snooze`](crate::Flow::Snooze)): not before
    /// `run_after`, the attempt does not count (its worker id is taken back off `worker_ids`),
    /// and no error is recorded.
    Snooze {
        /// The earliest next attempt.
        run_after: DateTime<Utc>,
    },
}

/// One attempt's outcome, fenced by the attempt it belongs to: the queue records it only while
/// the task is still `RUNNING` that attempt for that worker.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Completion {
    /// The task.
    pub id: TaskId,
    /// The attempt number (the task's `attempts()` when it was claimed).
    pub attempt: u32,
    /// How it ended.
    pub outcome: Outcome,
}

impl Completion {
    /// The outcome of attempt `attempt` of task `id`.
    ///
    /// ```
    /// use djrs_tasks::{Completion, Outcome, TaskId};
    ///
    /// let done = Completion::new(TaskId::from("t-1"), 1, Outcome::Succeeded(serde_json::json!(3)));
    /// assert_eq!(done.attempt, 1);
    /// ```
    #[must_use]
    pub fn new(id: TaskId, attempt: u32, outcome: Outcome) -> Self {
        Completion {
            id,
            attempt,
            outcome,
        }
    }
}

/// A lease a worker holds: the task and the attempt it runs.
pub type Lease = (TaskId, u32);

/// A lease a heartbeat renewed, and whether an operator asked to cancel its task.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Renewal {
    /// The task whose lease the worker still holds.
    pub id: TaskId,
    /// An operator asked to cancel the task (`Tasks::cancel` on a `RUNNING` task).
    pub cancel_requested: bool,
}

impl Renewal {
    /// A renewed lease.
    ///
    /// ```
    /// let renewal = djrs_tasks::Renewal::new("t-1".into(), true);
    /// assert!(renewal.cancel_requested);
    /// ```
    #[must_use]
    pub fn new(id: TaskId, cancel_requested: bool) -> Self {
        Renewal {
            id,
            cancel_requested,
        }
    }
}

/// Filters for listing results (the dashboard).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[non_exhaustive]
pub struct ResultFilter {
    /// Only this status.
    pub status: Option<TaskResultStatus>,
    /// Only this queue.
    pub queue_name: Option<String>,
    /// Only this task name.
    pub task_name: Option<String>,
    /// At most this many, newest first (default 50, at most 500).
    pub limit: Option<u32>,
}

/// Counts of results by queue and status.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct QueueCounts {
    /// `(queue, status, count)`, sorted by queue then status.
    pub rows: Vec<(String, TaskResultStatus, u64)>,
}

/// The worker-facing side of a queueing backend. Every method is one atomic change of the
/// store; the worker and the scheduler fire the signals for the results they get back.
pub trait Queue: Send + Sync {
    /// Atomically claims up to `limit` due `READY` tasks of `queues` (empty: every queue) for
    /// `worker_id`, in the order priority DESC, `run_after` ASC (undeferred last),
    /// `enqueued_at` ASC, marking them `RUNNING` with a lease of `lease`, within the queues'
    /// concurrency limits. Every task is claimed by one worker at a time.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    /// use djrs_tasks::TaskResultStatus;
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// ping.enqueue(&tasks).await?;
    /// let worker = WorkerId::from("w-1");
    /// let claimed = queue.claim(&worker, &[], 10, Duration::from_secs(30)).await?;
    /// assert_eq!(claimed.len(), 1);
    /// assert_eq!(claimed[0].status, TaskResultStatus::Running);
    /// assert_eq!(claimed[0].worker_ids, ["w-1"]);
    /// // Claimed once: nothing left for another worker.
    /// assert!(queue.claim(&"w-2".into(), &[], 10, Duration::from_secs(30)).await?.is_empty());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn claim<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        queues: &'a [String],
        limit: usize,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>>;

    /// Records how attempts ended, in one write where the store can. The answer is in the order
    /// given: `true` where the outcome was recorded, `false` where the worker no longer holds
    /// that attempt's lease (it was rescued meanwhile, and another worker may own the task now),
    /// so the outcome was refused. The worker knows the task it ran; it builds the final result
    /// for the signals itself, so the store need not send rows back.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    /// use djrs_tasks::{Completion, Outcome, TaskResultStatus};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// ping.enqueue(&tasks).await?;
    /// ping.enqueue(&tasks).await?;
    /// let worker = WorkerId::from("w-1");
    /// let claimed = queue.claim(&worker, &[], 10, Duration::from_secs(30)).await?;
    /// let done: Vec<Completion> = claimed
    ///     .iter()
    ///     .map(|t| Completion::new(t.id.clone(), t.attempts(), Outcome::Succeeded(serde_json::Value::Null)))
    ///     .collect();
    /// assert_eq!(queue.complete_many(&worker, &done).await?, [true, true]);
    /// let first = tasks.get_result(&claimed[0].id).await?;
    /// assert_eq!(first.status, TaskResultStatus::Successful);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn complete_many<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        completions: &'a [Completion],
    ) -> BoxFuture<'a, Result<Vec<bool>>>;

    /// Records how one attempt ended; `false` when the lease was lost.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    /// use djrs_tasks::{Completion, Outcome, TaskResultStatus};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// ping.enqueue(&tasks).await?;
    /// let worker = WorkerId::from("w-1");
    /// let task = queue.claim(&worker, &[], 1, Duration::from_secs(30)).await?.remove(0);
    /// let done = Completion::new(task.id.clone(), task.attempts(), Outcome::Succeeded(serde_json::json!(1)));
    /// assert!(queue.complete(&worker, done.clone()).await?);
    /// // The attempt is over: a second outcome for it is refused.
    /// assert!(!queue.complete(&worker, done).await?);
    /// assert_eq!(tasks.get_result(&task.id).await?.status, TaskResultStatus::Successful);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn complete<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        completion: Completion,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            Ok(self
                .complete_many(worker_id, std::slice::from_ref(&completion))
                .await?
                .first()
                .copied()
                .unwrap_or(false))
        })
    }

    /// Extends the leases `worker_id` holds and returns the tasks whose lease it still holds,
    /// each with whether an operator asked to cancel it; a task missing from the answer was
    /// lost (rescued or deleted), and its attempt must stop.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// ping.enqueue(&tasks).await?;
    /// let worker = WorkerId::from("w-1");
    /// let task = queue.claim(&worker, &[], 1, Duration::from_secs(30)).await?.remove(0);
    /// let renewed = queue
    ///     .heartbeat(&worker, &[(task.id.clone(), task.attempts())], Duration::from_secs(30))
    ///     .await?;
    /// assert_eq!(renewed.len(), 1);
    /// assert_eq!((renewed[0].id.clone(), renewed[0].cancel_requested), (task.id.clone(), false));
    /// // Another worker holds no lease on it.
    /// let other = queue.heartbeat(&"w-2".into(), &[(task.id, 1)], Duration::from_secs(30)).await?;
    /// assert!(other.is_empty());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn heartbeat<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        leases: &'a [Lease],
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<Renewal>>>;

    /// Asks the worker running task `id` to cancel it: the request reaches the worker with its
    /// next heartbeat (a third of its lease). `false` when the task is not `RUNNING`.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// let ready = ping.enqueue(&tasks).await?;
    /// assert!(!queue.request_cancel(&ready.id).await?); // not RUNNING
    /// let worker = WorkerId::from("w-1");
    /// let task = queue.claim(&worker, &[], 1, Duration::from_secs(30)).await?.remove(0);
    /// assert!(queue.request_cancel(&task.id).await?);
    /// // The worker learns it with its next heartbeat.
    /// let renewed = queue.heartbeat(&worker, &[(task.id, 1)], Duration::from_secs(30)).await?;
    /// assert!(renewed[0].cancel_requested);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn request_cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool>>;

    /// Pauses (`true`) or resumes (`false`) `queue` for every worker on the store: claims skip
    /// a paused queue from their next poll on; running tasks finish. Persisted in the store.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// ping.enqueue(&tasks).await?;
    /// queue.set_paused("default", true).await?;
    /// let worker = WorkerId::from("w-1");
    /// assert!(queue.claim(&worker, &[], 1, Duration::from_secs(30)).await?.is_empty());
    /// queue.set_paused("default", false).await?;
    /// assert_eq!(queue.claim(&worker, &[], 1, Duration::from_secs(30)).await?.len(), 1);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn set_paused<'a>(&'a self, queue: &'a str, paused: bool) -> BoxFuture<'a, Result<()>>;

    /// The paused queues, sorted.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// assert!(queue.paused().await?.is_empty());
    /// queue.set_paused("reports", true).await?;
    /// queue.set_paused("emails", true).await?;
    /// assert_eq!(queue.paused().await?, ["emails", "reports"]);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn paused(&self) -> BoxFuture<'_, Result<Vec<String>>>;

    /// Re-queues the `RUNNING` tasks whose lease expired (their worker died or stalled), or
    /// fails them when that was their last attempt. Returns the tasks it changed.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    /// use djrs_tasks::TaskResultStatus;
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// let enqueued = ping.enqueue(&tasks).await?;
    /// // A worker claims the task with a short lease, then stops renewing it.
    /// queue.claim(&"w-1".into(), &[], 1, Duration::from_millis(50)).await?;
    /// tokio::time::sleep(Duration::from_millis(200)).await;
    /// let rescued = queue.rescue_expired().await?;
    /// assert_eq!(rescued.len(), 1);
    /// let result = tasks.get_result(&enqueued.id).await?;
    /// assert_eq!(result.status, TaskResultStatus::Ready); // attempts remain: back in the queue
    /// assert_eq!(result.errors[0].exception_class_path, "djrs_tasks::WorkerLost");
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn rescue_expired(&self) -> BoxFuture<'_, Result<Vec<TaskResult>>>;

    /// Resolves when a task may have become available: enqueued in this process, or announced by
    /// the store (PostgreSQL `NOTIFY`). A hint; workers also poll. Implementations register the
    /// interest when this is called, not when the future is first polled.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// let wake = queue.notified(); // interest registered here
    /// ping.enqueue(&tasks).await?;
    /// assert!(tokio::time::timeout(Duration::from_secs(5), wake).await.is_ok());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn notified(&self) -> BoxFuture<'_, ()>;

    /// How often a worker should look for tasks when nothing wakes it, for stores that cannot
    /// announce enqueues from other processes; `None` leaves the worker's own setting.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{Backend, SqliteBackend};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let sqlite = SqliteBackend::open(dir.path().join("q.sqlite3"))?;
    /// // Other processes on the same file cannot announce their enqueues: workers poll often.
    /// assert_eq!(sqlite.queue().unwrap().poll_interval(), Some(Duration::from_millis(25)));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn poll_interval(&self) -> Option<Duration> {
        None
    }

    /// Deletes finished results older than `older_than` with one of `statuses`; returns how many.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    /// use djrs_tasks::{TaskResultStatus, Worker};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// ping.enqueue(&tasks).await?;
    /// ping.enqueue(&tasks).await?;
    /// Worker::new(&tasks).run_until_idle().await?;
    /// let later = chrono::Utc::now() + chrono::Duration::seconds(1);
    /// assert_eq!(queue.prune_results(later, &[TaskResultStatus::Failed]).await?, 0);
    /// assert_eq!(queue.prune_results(later, &[TaskResultStatus::Successful]).await?, 2);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn prune_results<'a>(
        &'a self,
        older_than: DateTime<Utc>,
        statuses: &'a [TaskResultStatus],
    ) -> BoxFuture<'a, Result<u64>>;

    /// Lists results, newest first.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    /// use djrs_tasks::{ResultFilter, Task, TaskResultStatus};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// let first = ping.enqueue(&tasks).await?;
    /// let second = ping.enqueue(&tasks).await?;
    /// queue.claim(&"w-1".into(), &[], 1, Duration::from_secs(30)).await?; // takes the first
    /// let all = queue.list_results(&ResultFilter::default()).await?;
    /// assert_eq!(all.len(), 2);
    /// let mut filter = ResultFilter::default();
    /// filter.status = Some(TaskResultStatus::Ready);
    /// let ready = queue.list_results(&filter).await?;
    /// assert_eq!(ready.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), [second.id]);
    /// # let _ = (first, ping.name());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn list_results<'a>(
        &'a self,
        filter: &'a ResultFilter,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>>;

    /// Counts results by queue and status.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    /// use djrs_tasks::TaskResultStatus;
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// ping.enqueue(&tasks).await?;
    /// ping.enqueue(&tasks).await?;
    /// queue.claim(&"w-1".into(), &[], 1, Duration::from_secs(30)).await?;
    /// let counts = queue.counts().await?;
    /// assert_eq!(
    ///     counts.rows,
    ///     [
    ///         ("default".to_owned(), TaskResultStatus::Ready, 1),
    ///         ("default".to_owned(), TaskResultStatus::Running, 1),
    ///     ]
    /// );
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn counts(&self) -> BoxFuture<'_, Result<QueueCounts>>;

    /// Cancels a `READY` task: it becomes `FAILED` with a `djrs_tasks::Cancelled` error and never
    /// runs. Returns the updated result, or `None` when the task is not `READY` (any more).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    /// use djrs_tasks::TaskResultStatus;
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// let enqueued = ping.enqueue(&tasks).await?;
    /// let cancelled = queue.cancel(&enqueued.id).await?.expect("it was READY");
    /// assert_eq!(cancelled.status, TaskResultStatus::Failed);
    /// assert!(queue.cancel(&enqueued.id).await?.is_none()); // not READY any more
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskResult>>>;

    /// Takes or keeps the lease on the leadership `name` for `holder` for `ttl`; `true` while
    /// `holder` leads. One holder at a time across every process on the store.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    ///
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// let ttl = Duration::from_secs(10);
    /// assert!(queue.lead("reports", "scheduler-a", ttl).await?);
    /// assert!(queue.lead("reports", "scheduler-a", ttl).await?); // renewed
    /// assert!(!queue.lead("reports", "scheduler-b", ttl).await?); // one holder at a time
    /// assert!(queue.lead("cleanup", "scheduler-b", ttl).await?); // another leadership
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn lead<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool>>;

    /// Gives up the leadership `name` if `holder` has it.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    ///
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// let ttl = Duration::from_secs(10);
    /// assert!(queue.lead("reports", "scheduler-a", ttl).await?);
    /// queue.resign("reports", "scheduler-b").await?; // not the holder: nothing changes
    /// assert!(!queue.lead("reports", "scheduler-b", ttl).await?);
    /// queue.resign("reports", "scheduler-a").await?;
    /// assert!(queue.lead("reports", "scheduler-b", ttl).await?);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn resign<'a>(&'a self, name: &'a str, holder: &'a str) -> BoxFuture<'a, Result<()>>;

    /// Stores `task` as the occurrence `occurrence` of the schedule `schedule`, both in one
    /// write: `None` when that occurrence already has its task (another scheduler enqueued it).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, Error, NewTask, Queue,
    ///     Result, SqliteBackend, TaskResult, Tasks};
    ///
    /// /// Enqueues each task at most once per day, as the occurrence of that day.
    /// #[derive(Debug)]
    /// struct Daily(SqliteBackend);
    ///
    /// impl Backend for Daily {
    ///     fn name(&self) -> &'static str { "Daily" }
    ///     fn capabilities(&self) -> Capabilities { self.0.capabilities() }
    ///     fn enqueue<'a>(&'a self, _ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
    ///         Box::pin(async move {
    ///             let day = task.enqueued_at.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
    ///             let name = task.task_name.clone();
    ///             let queue = self.0.queue().expect("SqliteBackend keeps a queue");
    ///             queue
    ///                 .enqueue_occurrence(&name, day, task)
    ///                 .await?
    ///                 .ok_or_else(|| Error::InvalidTask(format!("{name} was enqueued today")))
    ///         })
    ///     }
    ///     fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> { self.0.get_result(id) }
    ///     fn queue(&self) -> Option<&dyn Queue> { self.0.queue() }
    /// }
    ///
    /// #[task]
    /// async fn digest() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", Daily(SqliteBackend::open(dir.path().join("q.sqlite3"))?))
    ///     .build()?;
    /// assert!(digest.enqueue(&tasks).await.is_ok());
    /// assert!(digest.enqueue(&tasks).await.is_err()); // the day's occurrence has its task
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn enqueue_occurrence<'a>(
        &'a self,
        schedule: &'a str,
        occurrence: DateTime<Utc>,
        task: NewTask,
    ) -> BoxFuture<'a, Result<Option<TaskResult>>>;

    /// Deletes the records of schedule occurrences older than `older_than`; returns how many.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    /// use djrs_tasks::Scheduler;
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// // A new scheduler records the occurrences of its lease's look-back: 3 s of a
    /// // per-second schedule.
    /// Scheduler::new(&tasks)
    ///     .add("beat", "* * * * * *", ping.prepare()?)?
    ///     .leadership_lease(Duration::from_secs(3))
    ///     .run_until(std::future::ready(()))
    ///     .await?;
    /// let later = chrono::Utc::now() + chrono::Duration::seconds(1);
    /// let pruned = queue.prune_occurrences(later).await?;
    /// assert!((3..=4).contains(&pruned));
    /// assert_eq!(queue.prune_occurrences(later).await?, 0);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn prune_occurrences(&self, older_than: DateTime<Utc>) -> BoxFuture<'_, Result<u64>>;
}

/// What the queueing backends write into a result's `errors`.
#[cfg(any(
    feature = "sqlite",
    feature = "postgres",
    feature = "mysql",
    feature = "redis"
))]
pub(crate) mod stored {
    use crate::TaskError;

    /// An error as the JSON stored in a result's `errors`.
    pub(crate) fn error_json(error: &TaskError) -> String {
        serde_json::to_string(error).unwrap_or_else(|_| "{}".to_owned())
    }

    /// The error a rescued attempt records: its worker stopped renewing the lease.
    pub(crate) fn worker_lost() -> TaskError {
        TaskError::new(
            "djrs_tasks::WorkerLost",
            "the worker running this attempt stopped renewing its lease (it crashed, was killed or stalled)",
        )
    }

    /// The error a task cancelled while `READY` records.
    pub(crate) fn cancelled_before_it_ran() -> TaskError {
        TaskError::new(
            "djrs_tasks::Cancelled",
            "the task was cancelled before it ran",
        )
    }
}
