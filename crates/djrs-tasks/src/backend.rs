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
    fn name(&self) -> &'static str;

    /// What the backend supports.
    fn capabilities(&self) -> Capabilities;

    /// Stores (or, for `ImmediateBackend`, runs) a validated task, firing the signals it
    /// causes through `ctx`.
    fn enqueue<'a>(
        &'a self,
        ctx: &'a BackendContext<'a>,
        task: NewTask,
    ) -> BoxFuture<'a, Result<TaskResult>>;

    /// Stores several tasks at once; by default one `enqueue` after another.
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
    fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>>;

    /// The queue workers claim from, for backends that keep tasks for workers.
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
    fn enqueue_batch_in<'a>(
        self,
        tasks: &'a Tasks,
        batch: Vec<crate::PreparedTask>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>>
    where
        Self: 'a;

    /// Validates and writes one task on this connection.
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
    fn complete_many<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        completions: &'a [Completion],
    ) -> BoxFuture<'a, Result<Vec<bool>>>;

    /// Records how one attempt ended; `false` when the lease was lost.
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
    fn heartbeat<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        leases: &'a [Lease],
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<Renewal>>>;

    /// Asks the worker running task `id` to cancel it: the request reaches the worker with its
    /// next heartbeat (a third of its lease). `false` when the task is not `RUNNING`.
    fn request_cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool>>;

    /// Pauses (`true`) or resumes (`false`) `queue` for every worker on the store: claims skip
    /// a paused queue from their next poll on; running tasks finish. Persisted in the store.
    fn set_paused<'a>(&'a self, queue: &'a str, paused: bool) -> BoxFuture<'a, Result<()>>;

    /// The paused queues, sorted.
    fn paused(&self) -> BoxFuture<'_, Result<Vec<String>>>;

    /// Re-queues the `RUNNING` tasks whose lease expired (their worker died or stalled), or
    /// fails them when that was their last attempt. Returns the tasks it changed.
    fn rescue_expired(&self) -> BoxFuture<'_, Result<Vec<TaskResult>>>;

    /// Resolves when a task may have become available: enqueued in this process, or announced by
    /// the store (PostgreSQL `NOTIFY`). A hint; workers also poll. Implementations register the
    /// interest when this is called, not when the future is first polled.
    fn notified(&self) -> BoxFuture<'_, ()>;

    /// How often a worker should look for tasks when nothing wakes it, for stores that cannot
    /// announce enqueues from other processes; `None` leaves the worker's own setting.
    fn poll_interval(&self) -> Option<Duration> {
        None
    }

    /// Deletes finished results older than `older_than` with one of `statuses`; returns how many.
    fn prune_results<'a>(
        &'a self,
        older_than: DateTime<Utc>,
        statuses: &'a [TaskResultStatus],
    ) -> BoxFuture<'a, Result<u64>>;

    /// Lists results, newest first.
    fn list_results<'a>(
        &'a self,
        filter: &'a ResultFilter,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>>;

    /// Counts results by queue and status.
    fn counts(&self) -> BoxFuture<'_, Result<QueueCounts>>;

    /// Cancels a `READY` task: it becomes `FAILED` with a `djrs_tasks::Cancelled` error and never
    /// runs. Returns the updated result, or `None` when the task is not `READY` (any more).
    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskResult>>>;

    /// Takes or keeps the lease on the leadership `name` for `holder` for `ttl`; `true` while
    /// `holder` leads. One holder at a time across every process on the store.
    fn lead<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool>>;

    /// Gives up the leadership `name` if `holder` has it.
    fn resign<'a>(&'a self, name: &'a str, holder: &'a str) -> BoxFuture<'a, Result<()>>;

    /// Stores `task` as the occurrence `occurrence` of the schedule `schedule`, both in one
    /// write: `None` when that occurrence already has its task (another scheduler enqueued it).
    fn enqueue_occurrence<'a>(
        &'a self,
        schedule: &'a str,
        occurrence: DateTime<Utc>,
        task: NewTask,
    ) -> BoxFuture<'a, Result<Option<TaskResult>>>;

    /// Deletes the records of schedule occurrences older than `older_than`; returns how many.
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
