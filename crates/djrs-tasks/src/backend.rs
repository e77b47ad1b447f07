//! The `Backend` trait with Django's capability flags, and the worker-facing `Queue` trait.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::task::BoxFuture;
use crate::{Result, TaskError, TaskResult, TaskResultStatus, Tasks};

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
    #[must_use]
    pub const fn with_defer(mut self) -> Self {
        self.supports_defer = true;
        self
    }

    /// Adds `supports_async_task`.
    #[must_use]
    pub const fn with_async_task(mut self) -> Self {
        self.supports_async_task = true;
        self
    }

    /// Adds `supports_get_result`.
    #[must_use]
    pub const fn with_get_result(mut self) -> Self {
        self.supports_get_result = true;
        self
    }

    /// Adds `supports_priority`.
    #[must_use]
    pub const fn with_priority(mut self) -> Self {
        self.supports_priority = true;
        self
    }

    /// Every capability.
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
    pub id: String,
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

/// A task backend (Django's `BaseTaskBackend`): stores enqueued tasks, or runs them, and reads
/// results back. Object-safe, so `Tasks` holds any mix of backends.
pub trait Backend: Send + Sync + std::fmt::Debug + 'static {
    /// The backend's name for messages and signals, e.g. `SqliteBackend`.
    fn name(&self) -> &'static str;

    /// What the backend supports.
    fn capabilities(&self) -> Capabilities;

    /// Stores (or, for `ImmediateBackend`, runs) a validated task.
    fn enqueue<'a>(&'a self, tasks: &'a Tasks, task: NewTask) -> BoxFuture<'a, Result<TaskResult>>;

    /// Stores several tasks at once; by default one `enqueue` after another.
    fn enqueue_many<'a>(
        &'a self,
        tasks: &'a Tasks,
        batch: Vec<NewTask>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let mut results = Vec::with_capacity(batch.len());
            for task in batch {
                results.push(self.enqueue(tasks, task).await?);
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

    /// This backend as a [`PostgresBackend`](crate::PostgresBackend), for transactional enqueue.
    #[cfg(feature = "postgres")]
    fn as_postgres(&self) -> Option<&crate::PostgresBackend> {
        None
    }
}

/// A connection a task can be enqueued on inside the caller's own transaction (the generated
/// `enqueue_in`). Implemented for `&mut sqlx::PgConnection` (feature `postgres`): pass
/// `&mut *tx` for a `sqlx::Transaction`.
pub trait EnqueueIn: Send {
    /// Validates and writes the task on this connection.
    fn enqueue_in<'a>(
        self,
        tasks: &'a Tasks,
        options: &'a crate::TaskOptions,
        args: serde_json::Value,
    ) -> BoxFuture<'a, Result<TaskResult>>
    where
        Self: 'a;
}

#[cfg(feature = "postgres")]
impl EnqueueIn for &mut sqlx::PgConnection {
    fn enqueue_in<'a>(
        self,
        tasks: &'a Tasks,
        options: &'a crate::TaskOptions,
        args: serde_json::Value,
    ) -> BoxFuture<'a, Result<TaskResult>>
    where
        Self: 'a,
    {
        Box::pin(tasks.enqueue_on_postgres(self, options, args))
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
    /// The worker stopped before the attempt finished; run again as soon as possible.
    Interrupted(TaskError),
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

/// The worker-facing side of a queueing backend.
pub trait Queue: Send + Sync {
    /// Atomically claims up to `limit` due `READY` tasks of `queues` for `worker_id`, in the order
    /// priority DESC, `run_after` ASC, `enqueued_at` ASC, marking them `RUNNING` with a lease of
    /// `lease`. Every task is claimed by one worker at a time.
    fn claim<'a>(
        &'a self,
        worker_id: &'a str,
        queues: &'a [String],
        limit: usize,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>>;

    /// Records how an attempt ended. Only the worker holding the task's lease may do so; returns
    /// the updated result, or `None` when the lease was lost (the task was rescued meanwhile).
    fn complete<'a>(
        &'a self,
        worker_id: &'a str,
        id: &'a str,
        outcome: Outcome,
    ) -> BoxFuture<'a, Result<Option<TaskResult>>>;

    /// Records several outcomes at once (one write transaction where the backend can); the
    /// results are in the order given. By default one [`complete`](Self::complete) after another.
    fn complete_many<'a>(
        &'a self,
        worker_id: &'a str,
        outcomes: Vec<(String, Outcome)>,
    ) -> BoxFuture<'a, Result<Vec<Option<TaskResult>>>> {
        Box::pin(async move {
            let mut results = Vec::with_capacity(outcomes.len());
            for (id, outcome) in outcomes {
                results.push(self.complete(worker_id, &id, outcome).await?);
            }
            Ok(results)
        })
    }

    /// Extends the leases of the tasks `ids` that `worker_id` is running.
    fn heartbeat<'a>(
        &'a self,
        worker_id: &'a str,
        ids: &'a [String],
        lease: Duration,
    ) -> BoxFuture<'a, Result<u64>>;

    /// Re-queues (or fails, when out of attempts) the `RUNNING` tasks whose lease expired: their
    /// worker died. Returns how many.
    fn rescue_expired(&self) -> BoxFuture<'_, Result<u64>>;

    /// Resolves when a task may have become available: enqueued in this process, or announced by
    /// the store (PostgreSQL `NOTIFY`). A hint; workers also poll. Implementations register the
    /// interest when this is called, not when the future is first polled.
    fn notified(&self) -> BoxFuture<'_, ()>;

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
}
