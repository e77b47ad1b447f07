//! Operators' control of the default backend's queues: pause, resume and concurrency limits,
//! kept in the store so that every worker of every process follows them.

use std::collections::BTreeMap;

use crate::backend::Queue;
use crate::{DEFAULT_TASK_BACKEND_ALIAS, Error, QueueLimit, Result, Tasks};

impl Tasks {
    /// Pauses `queue` of the default backend for every worker on the store, until
    /// [`resume`](Self::resume): claims skip it from their next poll on; running tasks finish.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Tasks, Worker};
    ///
    /// #[task(queue_name = "emails")]
    /// async fn send() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("t.sqlite3"))?)
    ///     .queues("default", ["emails"])
    ///     .build()?;
    /// tasks.pause("emails").await?;
    /// assert_eq!(tasks.paused_queues().await?, ["emails"]);
    /// send.enqueue(&tasks).await?;
    /// let worker = || Worker::new(&tasks).queues(["emails"]);
    /// assert_eq!(worker().run_until_idle().await?.succeeded, 0);
    ///
    /// tasks.resume("emails").await?;
    /// assert_eq!(worker().run_until_idle().await?.succeeded, 1);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `NotSupported` for backends without a queue, or the store's error.
    pub async fn pause(&self, queue: &str) -> Result<()> {
        self.queue_of_default("pause")?
            .set_paused(queue, true)
            .await
    }

    /// Resumes a paused queue of the default backend.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{SqliteBackend, Tasks};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("t.sqlite3"))?)
    ///     .build()?;
    /// tasks.pause("default").await?;
    /// tasks.resume("default").await?;
    /// assert!(tasks.paused_queues().await?.is_empty());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`pause`](Self::pause).
    pub async fn resume(&self, queue: &str) -> Result<()> {
        self.queue_of_default("resume")?
            .set_paused(queue, false)
            .await
    }

    /// The paused queues of the default backend.
    ///
    /// ```
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{Error, Tasks};
    ///
    /// // The immediate backend has no queue to pause.
    /// let err = Tasks::default().paused_queues().await.unwrap_err();
    /// assert!(matches!(err, Error::NotSupported { operation: "paused_queues", .. }));
    ///
    /// # #[cfg(feature = "sqlite")]
    /// # {
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", djrs_tasks::SqliteBackend::open(dir.path().join("t.sqlite3"))?)
    ///     .build()?;
    /// assert!(tasks.paused_queues().await?.is_empty());
    /// tasks.pause("default").await?;
    /// assert_eq!(tasks.paused_queues().await?, ["default"]);
    /// # }
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`pause`](Self::pause).
    pub async fn paused_queues(&self) -> Result<Vec<String>> {
        self.queue_of_default("paused_queues")?.paused().await
    }

    pub(super) fn queue_of_default(&self, operation: &'static str) -> Result<&dyn Queue> {
        let backend = self.backend(DEFAULT_TASK_BACKEND_ALIAS)?;
        backend.queue().ok_or(Error::NotSupported {
            backend: backend.name(),
            operation,
        })
    }

    /// Sets `queue`'s concurrency limit on the default backend, across every worker on the
    /// store, from their next claim on and until set again (kept in the store):
    /// [`QueueLimit::AtMost`] a number, [`QueueLimit::Unlimited`], or back to the backend's
    /// configured limit with [`QueueLimit::Configured`]. Running tasks are not stopped when a
    /// limit is lowered; no new one starts until the queue is under it.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, QueueLimit, SqliteBackend, Tasks, Worker};
    ///
    /// #[task(queue_name = "reports")]
    /// async fn report() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("t.sqlite3"))?)
    ///     .queues("default", ["reports"])
    ///     .build()?;
    /// // An operator stops the queue by limiting it to none at once, then lets two run at a time.
    /// tasks.set_queue_limit("reports", QueueLimit::AtMost(0)).await?;
    /// report.enqueue(&tasks).await?;
    /// let worker = || Worker::new(&tasks).queues(["reports"]);
    /// assert_eq!(worker().run_until_idle().await?.succeeded, 0);
    /// tasks.set_queue_limit("reports", QueueLimit::AtMost(2)).await?;
    /// assert_eq!(tasks.queue_limits().await?.get("reports"), Some(&2));
    /// assert_eq!(worker().run_until_idle().await?.succeeded, 1);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `NotSupported` for backends without a queue, `InvalidTask` for a queue name the store
    /// cannot hold, or the store's error.
    pub async fn set_queue_limit(&self, queue: &str, limit: QueueLimit) -> Result<()> {
        self.queue_of_default("set_queue_limit")?
            .set_queue_limit(queue, limit)
            .await
    }

    /// The concurrency limits in effect on the default backend, by queue (queues without one
    /// are not listed).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{QueueLimit, SqliteBackend, Tasks};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let backend = SqliteBackend::open(dir.path().join("t.sqlite3"))?.queue_limit("emails", 5);
    /// let tasks = Tasks::builder().backend("default", backend).build()?;
    /// assert_eq!(tasks.queue_limits().await?.get("emails"), Some(&5));
    /// tasks.set_queue_limit("emails", QueueLimit::Unlimited).await?;
    /// assert!(tasks.queue_limits().await?.is_empty());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`set_queue_limit`](Self::set_queue_limit).
    pub async fn queue_limits(&self) -> Result<BTreeMap<String, u32>> {
        self.queue_of_default("queue_limits")?.queue_limits().await
    }
}
