//! The worker-facing side of a queueing backend: the `Queue` trait and what crosses it
//! (outcomes fenced by attempt, leases and their renewals, filters, counts and activity).
//!
//! Why one file of over a thousand lines: it is one trait, and most of it is the runnable
//! example every method carries; splitting a trait's methods across files would hide the
//! contract a backend implements.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::NewTask;
use crate::task::BoxFuture;
use crate::{Result, TaskError, TaskId, TaskResult, TaskResultStatus, WorkerId};

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
    /// Only results older than this one: the page after a page that ended with it. Ids are
    /// time-ordered (UUIDv7), so "newest first" is "highest id first" and a page is found from
    /// its key (keyset pagination), however deep.
    pub before: Option<TaskId>,
    /// Only results enqueued at or after this time.
    pub enqueued_since: Option<DateTime<Utc>>,
    /// Only results enqueued before this time.
    pub enqueued_until: Option<DateTime<Utc>>,
}

/// What a queue did since a given time and who works it: per queue, the tasks that finished
/// and the oldest task waiting to run, and the workers seen. The console's overview and the
/// metrics' gauges read it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Activity {
    /// One entry per queue that has finished or waiting tasks, sorted by name.
    pub queues: Vec<QueueActivity>,
    /// Workers that said they were alive recently ([`Queue::worker_seen`]), sorted by id.
    pub workers: Vec<WorkerSeen>,
}

/// One queue's part of an [`Activity`].
///
/// ```
/// let mut emails = djrs_tasks::QueueActivity::new("emails");
/// emails.succeeded = 120;
/// emails.failed = 3;
/// assert_eq!(emails.queue_name, "emails");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct QueueActivity {
    /// The queue.
    pub queue_name: String,
    /// Tasks that finished `SUCCESSFUL` in the period.
    pub succeeded: u64,
    /// Tasks that finished `FAILED` in the period.
    pub failed: u64,
    /// Since when the longest-waiting due `READY` task waits (its `run_after`, or its
    /// `enqueued_at` when it has none); `None` when nothing is due.
    pub oldest_due: Option<DateTime<Utc>>,
}

impl QueueActivity {
    /// A queue with nothing recorded yet.
    ///
    /// ```
    /// let queue = djrs_tasks::QueueActivity::new("default");
    /// assert_eq!((queue.succeeded, queue.failed, queue.oldest_due), (0, 0, None));
    /// ```
    #[must_use]
    pub fn new(queue_name: impl Into<String>) -> Self {
        QueueActivity {
            queue_name: queue_name.into(),
            ..QueueActivity::default()
        }
    }
}

/// A worker that said it was alive, and until when that holds.
///
/// ```
/// let seen = djrs_tasks::WorkerSeen::new("web-1".into(), chrono::Utc::now());
/// assert_eq!(seen.worker_id.as_str(), "web-1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct WorkerSeen {
    /// The worker.
    pub worker_id: WorkerId,
    /// It counts as alive until this time unless it says so again.
    pub until: DateTime<Utc>,
}

impl WorkerSeen {
    /// A worker alive until `until`.
    ///
    /// ```
    /// let until = chrono::Utc::now();
    /// assert_eq!(djrs_tasks::WorkerSeen::new("w".into(), until).until, until);
    /// ```
    #[must_use]
    pub fn new(worker_id: WorkerId, until: DateTime<Utc>) -> Self {
        WorkerSeen { worker_id, until }
    }
}

/// The error of an operation a queue does not implement.
fn not_supported(operation: &'static str) -> crate::Error {
    crate::Error::NotSupported {
        backend: "this queue",
        operation,
    }
}

/// The leadership name under which a worker says it is alive ([`Queue::worker_seen`]'s default).
pub(crate) const WORKER_SEEN_PREFIX: &str = "djrs_tasks.worker.";

/// Counts of results by queue and status.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct QueueCounts {
    /// `(queue, status, count)`, sorted by queue then status.
    pub rows: Vec<(String, TaskResultStatus, u64)>,
}

/// A queue's concurrency limit across all workers, set at run time with
/// [`Queue::set_queue_limit`] (or [`Tasks::set_queue_limit`](crate::Tasks::set_queue_limit)).
///
/// ```
/// use djrs_tasks::QueueLimit;
///
/// assert_ne!(QueueLimit::AtMost(2), QueueLimit::Unlimited);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueLimit {
    /// What the backend was configured with (no limit if none): the run-time setting is removed.
    Configured,
    /// No limit, whatever the configuration says.
    Unlimited,
    /// At most this many of the queue's tasks run at once, across every worker.
    AtMost(u32),
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

    /// Saves the metadata of a task this worker runs
    /// ([`TaskContext::save_metadata`](crate::TaskContext::save_metadata) calls it), fenced as a
    /// completion is: `false` if the worker no longer holds the task's lease for that attempt,
    /// and nothing is written.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    ///
    /// #[task]
    /// async fn import() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// let id = import.enqueue(&tasks).await?.id;
    /// let worker = WorkerId::from("w1");
    /// queue.claim(&worker, &[], 1, Duration::from_secs(30)).await?;
    /// let progress = serde_json::json!({"done": 40, "of": 100});
    /// let progress = progress.as_object().unwrap();
    /// assert!(queue.save_metadata(&worker, &(id.clone(), 1), progress).await?);
    /// assert!(!queue.save_metadata(&WorkerId::from("w2"), &(id.clone(), 1), progress).await?);
    /// assert_eq!(tasks.get_result(&id).await?.metadata, *progress);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn save_metadata<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        lease: &'a Lease,
        metadata: &'a serde_json::Map<String, serde_json::Value>,
    ) -> BoxFuture<'a, Result<bool>>;

    /// Sets `queue`'s concurrency limit across every worker on the store, from their next
    /// claim on: [`QueueLimit::AtMost`] a number, [`QueueLimit::Unlimited`], or back to what the
    /// backend was configured with ([`QueueLimit::Configured`]). Kept in the store, so it holds
    /// for workers started later and across restarts.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{QueueLimit, SqliteBackend, Tasks};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let backend = SqliteBackend::open(dir.path().join("q.sqlite3"))?.queue_limit("emails", 4);
    /// let tasks = Tasks::builder().backend("default", backend).build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// assert_eq!(queue.queue_limits().await?.get("emails"), Some(&4));
    /// queue.set_queue_limit("emails", QueueLimit::AtMost(1)).await?;
    /// assert_eq!(queue.queue_limits().await?.get("emails"), Some(&1));
    /// queue.set_queue_limit("emails", QueueLimit::Unlimited).await?;
    /// assert_eq!(queue.queue_limits().await?.get("emails"), None);
    /// queue.set_queue_limit("emails", QueueLimit::Configured).await?;
    /// assert_eq!(queue.queue_limits().await?.get("emails"), Some(&4));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn set_queue_limit<'a>(
        &'a self,
        queue: &'a str,
        limit: QueueLimit,
    ) -> BoxFuture<'a, Result<()>>;

    /// The limits in effect, by queue: the configured ones as changed at run time. A queue
    /// without a limit is not listed.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{QueueLimit, SqliteBackend, Tasks};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// assert!(queue.queue_limits().await?.is_empty());
    /// queue.set_queue_limit("reports", QueueLimit::AtMost(2)).await?;
    /// assert_eq!(queue.queue_limits().await?.into_iter().collect::<Vec<_>>(), [("reports".to_owned(), 2)]);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn queue_limits(&self) -> BoxFuture<'_, Result<std::collections::BTreeMap<String, u32>>>;

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

    /// Resolves when an operator may have asked to cancel a running task (from this process,
    /// or announced by the store: PostgreSQL's `NOTIFY`); a busy worker then renews its leases
    /// at once, which reports the requests. Registered when called, as
    /// [`notified`](Self::notified). By default it never resolves: requests reach the worker
    /// with its next heartbeat.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, WorkerId};
    ///
    /// #[task]
    /// async fn long() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// let id = long.enqueue(&tasks).await?.id;
    /// queue.claim(&WorkerId::from("w"), &[], 1, Duration::from_secs(30)).await?;
    /// let asked = queue.cancellations();
    /// assert!(queue.request_cancel(&id).await?);
    /// tokio::time::timeout(Duration::from_secs(1), asked).await.expect("woken at once");
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn cancellations(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::pending())
    }

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

    /// Gives the space of deleted results back to the operating system, online, where the
    /// store keeps it after deletes; `true` if it did. The workers' pruner calls it as often as
    /// its [`Retention`](crate::Retention) says.
    ///
    /// On PostgreSQL: drops the invalid indexes an interrupted compaction left, then `VACUUM`s
    /// the task table (which truncates its empty tail) and rebuilds its indexes with
    /// `REINDEX TABLE CONCURRENTLY` (without blocking enqueues or claims), as Oban's reindexer
    /// does. Other stores keep no such space (Redis frees memory as keys are deleted) or cannot
    /// compact online (SQLite's `VACUUM` and MariaDB's `OPTIMIZE TABLE` rebuild the table):
    /// they do nothing and say `false`.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{Backend, SqliteBackend};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let sqlite = SqliteBackend::open(dir.path().join("q.sqlite3"))?;
    /// assert!(!sqlite.queue().unwrap().compact().await?);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn compact(&self) -> BoxFuture<'_, Result<bool>> {
        Box::pin(async { Ok(false) })
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

    /// An operator's retry: each `FAILED` task among `ids` becomes `READY`, due now, keeping
    /// its errors and the attempts it used; one that used all its attempts gets one more. A
    /// task whose unique key another `READY` or `RUNNING` task holds stays `FAILED`. Returns
    /// the ids retried, in the order given.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Tasks, TaskResultStatus, Worker};
    ///
    /// #[task(max_attempts = 1)]
    /// async fn flaky() -> Result<(), String> {
    ///     Err("the mail server said no".into())
    /// }
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let backend = tasks.backend("default")?;
    /// let queue = backend.queue().expect("SqliteBackend keeps a queue");
    /// let failed = flaky.enqueue(&tasks).await?;
    /// Worker::new(&tasks).run_until_idle().await?;
    /// assert_eq!(queue.retry(&[failed.id.clone()]).await?, [failed.id.clone()]);
    /// let again = backend.get_result(&failed.id).await?;
    /// assert_eq!(again.status, TaskResultStatus::Ready);
    /// assert_eq!((again.attempts(), again.max_attempts, again.errors.len()), (1, 2, 1));
    /// assert!(queue.retry(&[failed.id]).await?.is_empty()); // READY now, not FAILED
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn retry<'a>(&'a self, ids: &'a [TaskId]) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        let _ = ids;
        Box::pin(async { Err(not_supported("retry")) })
    }

    /// Makes deferred `READY` tasks among `ids` (those with a `run_after` in the future) due
    /// now. Returns the ids changed.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Task, Tasks};
    ///
    /// #[task]
    /// async fn digest() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let backend = tasks.backend("default")?;
    /// let queue = backend.queue().expect("SqliteBackend keeps a queue");
    /// let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    /// let later = digest.using().run_after(tomorrow).enqueue(&tasks).await?;
    /// assert_eq!(queue.run_now(&[later.id.clone()]).await?, [later.id.clone()]);
    /// assert!(backend.get_result(&later.id).await?.run_after.unwrap() < tomorrow);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn run_now<'a>(&'a self, ids: &'a [TaskId]) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        let _ = ids;
        Box::pin(async { Err(not_supported("run now")) })
    }

    /// Deletes the tasks among `ids` that are not `RUNNING` (cancel a running task first).
    /// Returns the ids deleted.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, Error, SqliteBackend, Tasks};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let backend = tasks.backend("default")?;
    /// let queue = backend.queue().expect("SqliteBackend keeps a queue");
    /// let gone = ping.enqueue(&tasks).await?;
    /// assert_eq!(queue.delete(&[gone.id.clone()]).await?, [gone.id.clone()]);
    /// assert!(matches!(backend.get_result(&gone.id).await, Err(Error::TaskResultDoesNotExist(_))));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn delete<'a>(&'a self, ids: &'a [TaskId]) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        let _ = ids;
        Box::pin(async { Err(not_supported("delete")) })
    }

    /// What happened since `since` ([`Activity`]): per queue, how many tasks finished
    /// `SUCCESSFUL` and `FAILED` and since when the oldest due task waits; and the workers
    /// alive now.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Tasks, Worker};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let tasks = Tasks::builder()
    /// #     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    /// #     .build()?;
    /// let queue = tasks.backend("default")?.queue().expect("SqliteBackend keeps a queue");
    /// let start = chrono::Utc::now() - chrono::Duration::seconds(1);
    /// ping.enqueue(&tasks).await?;
    /// ping.enqueue(&tasks).await?;
    /// Worker::new(&tasks).run_until_idle().await?;
    /// ping.enqueue(&tasks).await?;
    /// let activity = queue.activity(start).await?;
    /// assert_eq!(activity.queues[0].queue_name, "default");
    /// assert_eq!(activity.queues[0].succeeded, 2);
    /// assert!(activity.queues[0].oldest_due.is_some()); // the third waits
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn activity(&self, since: DateTime<Utc>) -> BoxFuture<'_, Result<Activity>> {
        let _ = since;
        Box::pin(async { Err(not_supported("activity")) })
    }

    /// Says that `worker` is alive for `ttl` (the workers in [`activity`](Self::activity)).
    /// Workers call it once per poll of their pruner; the default keeps a leadership of the
    /// worker's own.
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
    /// let queue = sqlite.queue().unwrap();
    /// queue.worker_seen(&"web-1".into(), Duration::from_secs(60)).await?;
    /// let activity = queue.activity(chrono::Utc::now()).await?;
    /// assert_eq!(activity.workers[0].worker_id.as_str(), "web-1");
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn worker_seen<'a>(&'a self, worker: &'a WorkerId, ttl: Duration) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let name = format!("{WORKER_SEEN_PREFIX}{worker}");
            self.lead(&name, worker.as_str(), ttl).await.map(|_| ())
        })
    }

    /// Says that `worker` stopped: it leaves the workers of [`activity`](Self::activity) at
    /// once.
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
    /// let queue = sqlite.queue().unwrap();
    /// queue.worker_seen(&"web-1".into(), Duration::from_secs(60)).await?;
    /// queue.worker_gone(&"web-1".into()).await?;
    /// assert!(queue.activity(chrono::Utc::now()).await?.workers.is_empty());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    fn worker_gone<'a>(&'a self, worker: &'a WorkerId) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let name = format!("{WORKER_SEEN_PREFIX}{worker}");
            self.resign(&name, worker.as_str()).await
        })
    }

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
