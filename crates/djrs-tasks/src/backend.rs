//! The `Backend` trait with Django's capability flags and the context a backend gets; the
//! worker-facing `Queue` trait is in `queue.rs`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::task::BoxFuture;
use crate::{Result, TaskError, TaskId, TaskResult, TaskResultStatus, Tasks};

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

mod context;
mod queue;
#[cfg(any(
    feature = "sqlite",
    feature = "postgres",
    feature = "mysql",
    feature = "redis"
))]
pub(crate) mod stored;

pub use context::{BackendContext, NewTask};
pub use queue::{
    Activity, Completion, Lease, Outcome, Queue, QueueActivity, QueueCounts, QueueLimit, Renewal,
    ResultFilter, WorkerSeen,
};
