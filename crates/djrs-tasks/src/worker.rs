//! The worker: claims tasks from a queueing backend and runs them, with leases, retries and
//! graceful shutdown.
//!
//! Why one file of about a thousand lines: nearly half of it is the runnable examples of the
//! builder's settings, and the rest is one state machine (the claim loop, the completer, lease
//! renewal, cancellation and shutdown) sharing one `Shared`; split, each part would read the
//! others' invariants across files. Its unit tables are in `worker/tests.rs`, the faults it
//! survives in `tests/worker_faults.rs`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::backend::{Completion, Lease, Outcome, Queue};
use crate::context::Metadata;
use crate::result::Next;
use crate::runner::run_attempt;
use crate::task::{Cancel, find_registration};
use crate::{Backoff, Retention};
use crate::{
    DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME, Error, Result, TaskError, TaskId,
    TaskResult, TaskResultStatus, Tasks, WorkerId,
};

/// How many claims a worker has on their way at once: the second starts while the first is in
/// flight, so the store is never idle between them.
const CLAIMS_IN_FLIGHT: usize = 2;

/// How many batches of outcomes a worker records at once.
const RECORDS_IN_FLIGHT: usize = 2;

/// How many outcomes must wait before a batch goes while another is being recorded.
const MIN_SECOND_BATCH: usize = 32;

/// Where attempts send their outcomes: the completer's channel.
type Outcomes = tokio::sync::mpsc::UnboundedSender<(Completion, Arc<TaskResult>)>;

/// What a worker did before it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerStats {
    /// Attempts that succeeded.
    pub succeeded: u64,
    /// Attempts that failed and were scheduled again.
    pub retried: u64,
    /// Attempts that failed with no attempt left.
    pub failed: u64,
    /// Attempts cut short by shutdown and re-queued.
    pub interrupted: u64,
    /// Attempts whose task asked to run again later ([`Flow::Snooze`](crate::Flow::Snooze)).
    pub snoozed: u64,
    /// Attempts stopped because the worker lost the task's lease (it stalled past the lease and
    /// the task was rescued); their outcome is not recorded.
    pub lost: u64,
}

/// Runs tasks from a backend's queues: Django's missing worker.
///
/// ```
/// use std::time::Duration;
/// use djrs_tasks::{task, SqliteBackend, Tasks, Worker};
///
/// #[task(queue_name = "emails")]
/// async fn send(to: String) { let _ = to; }
///
/// # tokio_test::block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let tasks = Tasks::builder()
///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
///     .queues("default", ["default", "emails"])
///     .build()?;
/// send.enqueue(&tasks, "ada@example.com".into()).await?;
///
/// let worker = Worker::new(&tasks).queues(["emails"]).concurrency(4);
/// // In an application: `run_until(djrs_tasks::shutdown_signal())`; here, until nothing is due.
/// let stats = worker.run_until_idle().await?;
/// assert_eq!(stats.succeeded, 1);
/// # Ok::<(), djrs_tasks::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Worker {
    tasks: Tasks,
    backend: String,
    queues: Vec<String>,
    concurrency: usize,
    worker_id: WorkerId,
    lease: Duration,
    poll_interval: Duration,
    grace_period: Duration,
    cancel_grace_period: Duration,
    backoff: Backoff,
    retention: Retention,
    #[cfg(feature = "metrics")]
    queue_metrics_every: Option<Duration>,
}

impl Worker {
    /// A worker for the `default` backend and queue, running up to 8 tasks at once.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Tasks, TaskResultStatus, Worker};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// let result = ping.enqueue(&tasks).await?;
    /// let stats = Worker::new(&tasks).run_until_idle().await?;
    /// assert_eq!(stats.succeeded, 1);
    /// assert_eq!(tasks.get_result(&result.id).await?.status, TaskResultStatus::Successful);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn new(tasks: &Tasks) -> Self {
        Worker {
            tasks: tasks.clone(),
            backend: DEFAULT_TASK_BACKEND_ALIAS.to_owned(),
            queues: vec![DEFAULT_TASK_QUEUE_NAME.to_owned()],
            concurrency: 8,
            worker_id: WorkerId::generate(),
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            grace_period: Duration::from_secs(10),
            cancel_grace_period: Duration::from_secs(5),
            backoff: Backoff::default(),
            retention: Retention::default(),
            #[cfg(feature = "metrics")]
            queue_metrics_every: Some(Duration::from_secs(15)),
        }
    }

    /// The backend alias to work.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Task, Tasks, Worker};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", djrs_tasks::ImmediateBackend::new())
    ///     .backend("jobs", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// let enqueued = ping.using().backend("jobs").enqueue(&tasks).await?;
    /// let stats = Worker::new(&tasks).backend("jobs").run_until_idle().await?;
    /// assert_eq!(stats.succeeded, 1);
    /// assert!(tasks.get_result_from("jobs", &enqueued.id).await?.is_finished());
    /// // The default backend here runs tasks at enqueue time: no worker for it.
    /// assert!(Worker::new(&tasks).run_until_idle().await.is_err());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn backend(mut self, alias: impl Into<String>) -> Self {
        self.backend = alias.into();
        self
    }

    /// The queues to take tasks from (an empty list: every queue).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Task, Tasks, Worker};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .queues("default", ["emails", "reports"])
    ///     .build()?;
    /// ping.using().queue_name("emails").enqueue(&tasks).await?;
    /// ping.using().queue_name("reports").enqueue(&tasks).await?;
    /// let emails = Worker::new(&tasks).queues(["emails"]).run_until_idle().await?;
    /// assert_eq!(emails.succeeded, 1);
    /// // An empty list: every queue.
    /// let rest = Worker::new(&tasks).queues(Vec::<String>::new()).run_until_idle().await?;
    /// assert_eq!(rest.succeeded, 1);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn queues<I: IntoIterator<Item = S>, S: Into<String>>(mut self, queues: I) -> Self {
        self.queues = queues.into_iter().map(Into::into).collect();
        self
    }

    /// How many tasks run at once (at least 1).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, Worker};
    ///
    /// static RUNNING: AtomicUsize = AtomicUsize::new(0);
    /// static MOST: AtomicUsize = AtomicUsize::new(0);
    ///
    /// #[task]
    /// async fn slow() {
    ///     let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
    ///     MOST.fetch_max(now, Ordering::SeqCst);
    ///     tokio::time::sleep(Duration::from_millis(20)).await;
    ///     RUNNING.fetch_sub(1, Ordering::SeqCst);
    /// }
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// for _ in 0..3 {
    ///     slow.enqueue(&tasks).await?;
    /// }
    /// let stats = Worker::new(&tasks).concurrency(1).run_until_idle().await?;
    /// assert_eq!(stats.succeeded, 3);
    /// assert_eq!(MOST.load(Ordering::SeqCst), 1); // one at a time
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// This worker's id, recorded in each attempt's `worker_ids` (at most 64 characters).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Tasks, Worker};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// let enqueued = ping.enqueue(&tasks).await?;
    /// Worker::new(&tasks).worker_id("web-1").run_until_idle().await?;
    /// assert_eq!(tasks.get_result(&enqueued.id).await?.worker_ids, ["web-1"]);
    /// // Longer ids are cut to 64 characters.
    /// assert_eq!(Worker::new(&tasks).worker_id("w".repeat(100)).id().len(), 64);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn worker_id(mut self, id: impl Into<String>) -> Self {
        self.worker_id = WorkerId::from(id.into().chars().take(64).collect::<String>());
        self
    }

    /// How long a claimed task stays this worker's without a heartbeat (default 30 s). The
    /// worker renews leases every third of it; a task whose lease expires is re-queued.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, Worker};
    ///
    /// #[task]
    /// async fn slow() {
    ///     tokio::time::sleep(Duration::from_millis(1_500)).await;
    /// }
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// slow.enqueue(&tasks).await?;
    /// // The task outlives its 600 ms lease; the worker's heartbeat renews it, so it stays this
    /// // worker's and succeeds once.
    /// let stats = Worker::new(&tasks).lease(Duration::from_millis(600)).run_until_idle().await?;
    /// assert_eq!((stats.succeeded, stats.lost), (1, 0));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(30));
        self
    }

    /// How often an idle worker looks for due tasks when nothing wakes it (default 1 s; stores
    /// that cannot announce enqueues from other processes, SQLite and MySQL, ask for 25 ms and
    /// get the shorter of the two).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, Worker};
    ///
    /// static RAN: tokio::sync::Notify = tokio::sync::Notify::const_new();
    ///
    /// #[task]
    /// async fn ping() {
    ///     RAN.notify_one();
    /// }
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// let worker = Worker::new(&tasks).poll_interval(Duration::from_millis(10));
    /// let enqueue_later = async {
    ///     tokio::time::sleep(Duration::from_millis(50)).await;
    ///     ping.enqueue(&tasks).await
    /// };
    /// // Stops once the task ran (or after 10 s).
    /// let shutdown = async {
    ///     tokio::select! {
    ///         () = RAN.notified() => {}
    ///         () = tokio::time::sleep(Duration::from_secs(10)) => {}
    ///     }
    /// };
    /// let (stats, enqueued) = tokio::join!(worker.run_until(shutdown), enqueue_later);
    /// enqueued?;
    /// assert_eq!(stats?.succeeded, 1); // found by a later poll
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every;
        self
    }

    /// How long running tasks may finish after shutdown is asked (default 10 s); the rest are
    /// interrupted and re-queued.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, TaskResultStatus, Worker};
    ///
    /// static STARTED: tokio::sync::Notify = tokio::sync::Notify::const_new();
    ///
    /// #[task]
    /// async fn long() {
    ///     STARTED.notify_one();
    ///     tokio::time::sleep(Duration::from_secs(60)).await;
    /// }
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// let enqueued = long.enqueue(&tasks).await?;
    /// let worker = Worker::new(&tasks).grace_period(Duration::from_millis(50));
    /// // Shut down once the task has started.
    /// let stats = worker.run_until(STARTED.notified()).await?;
    /// // Still running when the grace period ended: interrupted and put back in the queue.
    /// assert_eq!(stats.interrupted, 1);
    /// assert_eq!(tasks.get_result(&enqueued.id).await?.status, TaskResultStatus::Ready);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn grace_period(mut self, grace: Duration) -> Self {
        self.grace_period = grace;
        self
    }

    /// How long a task an operator cancelled while it runs may take to stop by itself
    /// (watching [`TaskContext::is_cancelled`](crate::TaskContext::is_cancelled)) before the
    /// worker drops it at its next `.await` (default 5 s). A cancel request reaches the worker
    /// with its next heartbeat, every third of the lease.
    ///
    /// ```
    /// use std::time::Duration;
    /// use djrs_tasks::{Tasks, Worker};
    ///
    /// let tasks = Tasks::default();
    /// // Cancellations reach this worker within 2 s; a task then has 1 s to stop by itself.
    /// let worker = Worker::new(&tasks)
    ///     .lease(Duration::from_secs(6))
    ///     .cancel_grace_period(Duration::from_secs(1));
    /// # let _ = worker;
    /// ```
    pub fn cancel_grace_period(mut self, grace: Duration) -> Self {
        self.cancel_grace_period = grace;
        self
    }

    /// The retry delay: `base · 2^(attempt−1)`, at most `cap`, ±25 % jitter (default 1 s, 1 h).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Tasks, TaskResultStatus, Worker};
    ///
    /// #[task(max_attempts = 2)]
    /// async fn flaky() -> Result<(), String> {
    ///     Err("the service is down".into())
    /// }
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// let enqueued = flaky.enqueue(&tasks).await?;
    /// let worker = Worker::new(&tasks).retry_backoff(Duration::from_millis(10), Duration::from_millis(20));
    /// let stats = worker
    ///     .run_until(async {
    ///         while !tasks.get_result(&enqueued.id).await.unwrap().is_finished() {
    ///             tokio::time::sleep(Duration::from_millis(10)).await;
    ///         }
    ///     })
    ///     .await?;
    /// // Retried once after about 10 ms, then failed for good.
    /// assert_eq!((stats.retried, stats.failed), (1, 1));
    /// let result = tasks.get_result(&enqueued.id).await?;
    /// assert_eq!((result.status, result.errors.len()), (TaskResultStatus::Failed, 2));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn retry_backoff(self, base: Duration, cap: Duration) -> Self {
        self.retry_policy(Backoff::exponential(base, cap))
    }

    /// The retry delay of tasks that set none themselves (`#[task(backoff = …)]`); default
    /// [`Backoff::default`], exponential from 1 s to 1 h with jitter.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{Backoff, Tasks, Worker};
    ///
    /// let tasks = Tasks::default();
    /// let worker = Worker::new(&tasks).retry_policy(Backoff::fixed(Duration::from_secs(30)));
    /// # let _ = worker;
    /// ```
    pub fn retry_policy(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// How long finished results are kept: this worker's pruner (one worker's at a time, by
    /// leadership) deletes older ones every interval. Default [`Retention::default`]:
    /// successful results a day, failed ones a week; [`Retention::forever`] keeps them all.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{Retention, Tasks, Worker};
    ///
    /// let tasks = Tasks::default();
    /// let worker = Worker::new(&tasks)
    ///     .retention(Retention::default().successful(Some(Duration::from_secs(600))));
    /// # let _ = worker;
    /// ```
    pub fn retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// How often the per-queue gauges (`djrs_tasks_queue_depth`) are sampled from the store, by
    /// one worker of all at a time (default 15 s; `None`: this worker never samples them).
    /// Feature `metrics`; see the metrics section of the tasks guide.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{Tasks, Worker};
    ///
    /// let tasks = Tasks::default();
    /// let worker = Worker::new(&tasks).queue_metrics_every(Some(Duration::from_secs(60)));
    /// # let _ = worker;
    /// ```
    #[cfg(feature = "metrics")]
    pub fn queue_metrics_every(mut self, every: Option<Duration>) -> Self {
        self.queue_metrics_every = every.map(|every| every.max(Duration::from_millis(10)));
        self
    }

    /// This worker's id.
    ///
    /// ```
    /// use djrs_tasks::{Tasks, Worker};
    ///
    /// let tasks = Tasks::default();
    /// assert!(Worker::new(&tasks).id().starts_with("djrs-"));
    /// assert_eq!(Worker::new(&tasks).worker_id("web-1").id(), "web-1");
    /// ```
    #[must_use]
    pub fn id(&self) -> &WorkerId {
        &self.worker_id
    }

    /// The delay before the retry of `task`'s failed attempt: its own policy, or the worker's.
    fn retry_delay(&self, task: &TaskResult) -> Duration {
        find_registration(&task.task_name)
            .and_then(|registration| registration.backoff)
            .unwrap_or(self.backoff)
            .delay(task.attempts())
    }

    /// Works until `shutdown` resolves, then lets running tasks finish within the grace period,
    /// interrupts and re-queues the rest, and returns what it did.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Tasks, Worker};
    ///
    /// static RAN: tokio::sync::Notify = tokio::sync::Notify::const_new();
    ///
    /// #[task]
    /// async fn ping() {
    ///     RAN.notify_one();
    /// }
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// ping.enqueue(&tasks).await?;
    /// // Any future stops it: `djrs_tasks::shutdown_signal()`, a channel, a timer; here, the
    /// // task having run.
    /// let stats = Worker::new(&tasks).run_until(RAN.notified()).await?;
    /// assert_eq!(stats.succeeded, 1);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// When the backend keeps no queue (`ImmediateBackend`, `DummyBackend`) or the alias is
    /// unknown. Storage errors while working are logged and retried, never returned.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> Result<WorkerStats> {
        self.run(shutdown, false).await
    }

    /// Works until no due task is left in its queues and nothing is running (Django's
    /// `db_worker --batch`), then returns.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Tasks, Worker};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// for _ in 0..3 {
    ///     ping.enqueue(&tasks).await?;
    /// }
    /// assert_eq!(Worker::new(&tasks).run_until_idle().await?.succeeded, 3);
    /// // Nothing left: returns at once.
    /// assert_eq!(Worker::new(&tasks).run_until_idle().await?.succeeded, 0);
    /// // A backend without a queue has nothing to work.
    /// assert!(Worker::new(&Tasks::default()).run_until_idle().await.is_err());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`run_until`](Self::run_until).
    pub async fn run_until_idle(self) -> Result<WorkerStats> {
        self.run(std::future::pending(), true).await
    }

    async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send,
        until_idle: bool,
    ) -> Result<WorkerStats> {
        let backend = Arc::clone(self.tasks.backend(&self.backend)?);
        if backend.queue().is_none() {
            return Err(Error::NotSupported {
                backend: backend.name(),
                operation: "workers (it keeps no queue)",
            });
        }
        let this = Arc::new(self);
        let queue = || {
            backend
                .queue()
                .unwrap_or_else(|| unreachable!("checked above"))
        };
        let poll_interval = queue()
            .poll_interval()
            .map_or(this.poll_interval, |hint| hint.min(this.poll_interval));
        tracing::info!(target: "djrs_tasks", worker_id = %this.worker_id, queues = ?this.queues, concurrency = this.concurrency, "worker started");

        let shared = Arc::new(Shared::default());
        let (outcomes, completions) = tokio::sync::mpsc::unbounded_channel();
        let completer = tokio::spawn(Arc::clone(&this).complete_loop(
            Arc::clone(&backend),
            completions,
            Arc::clone(&shared),
        ));
        let stop_pruning = Arc::new(Notify::new());
        let pruner = this.retention.prunes().then(|| {
            tokio::spawn(this.retention.run(
                Arc::clone(&backend),
                this.worker_id.clone(),
                Arc::clone(&stop_pruning),
            ))
        });
        let stop_presence = Arc::new(Notify::new());
        let presence = tokio::spawn(crate::presence::announce(
            Arc::clone(&backend),
            this.worker_id.clone(),
            Arc::clone(&stop_presence),
        ));
        #[cfg(feature = "metrics")]
        let sampler = this.queue_metrics_every.map(|every| {
            let stop = Arc::new(Notify::new());
            let sampler = tokio::spawn(crate::metrics::sample(
                Arc::clone(&backend),
                this.worker_id.clone(),
                every,
                Arc::clone(&stop),
            ));
            (sampler, stop)
        });
        let permits = Arc::new(Semaphore::new(this.concurrency));
        let mut running: JoinSet<()> = JoinSet::new();
        let mut shutdown = std::pin::pin!(shutdown);
        let mut heartbeat = tokio::time::interval(this.lease / 3);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_rescue = tokio::time::Instant::now() - this.lease;
        // Claims in flight, each holding the slots it may fill; a second claim starts while the
        // first is on its way, so the store is never idle between them.
        let mut claims = FuturesUnordered::new();
        // Listen before looking, so an enqueue during a claim still wakes the worker. `wakes`
        // counts wake-ups, so a claim that found nothing knows whether one came since it began.
        let mut wake = queue().notified();
        let mut wakes: u64 = 0;
        // An operator asked to cancel a task somewhere: renew now, which reports it.
        let mut cancels = queue().cancellations();
        // The last claim found nothing (or failed): wait for a reason to look again.
        let mut waiting = false;

        loop {
            while running.try_join_next().is_some() {}
            if last_rescue.elapsed() >= this.lease {
                last_rescue = tokio::time::Instant::now();
                this.rescue(queue(), &shared).await;
            }
            if !waiting && claims.len() < CLAIMS_IN_FLIGHT {
                // Claim in batches: with tasks running or a claim in flight, wait until half the
                // slots are free, so claims do not contend with completions one by one.
                let free = permits.available_permits();
                let idle = running.is_empty() && claims.is_empty();
                if free > 0 && (idle || free >= this.concurrency.div_ceil(2)) {
                    // Read before claiming: an outcome recorded while the claim runs frees a
                    // slot the claim may not have seen, so "nothing in flight" must hold from
                    // before the claim.
                    let quiet = idle && shared.in_flight_count() == 0;
                    let slots = Arc::clone(&permits)
                        .try_acquire_many_owned(u32::try_from(free).unwrap_or(u32::MAX))
                        .ok();
                    // A task of its own: a claim must go on while this loop awaits a renewal,
                    // or on SQLite, where one transaction writes at a time, a claim holding the
                    // write lock and a renewal waiting for it would stall each other until the
                    // busy timeout.
                    let claim = tokio::spawn({
                        let (this, backend) = (Arc::clone(&this), Arc::clone(&backend));
                        async move {
                            let Some(queue) = backend.queue() else {
                                return Ok(Vec::new());
                            };
                            queue
                                .claim(&this.worker_id, &this.queues, free, this.lease)
                                .await
                        }
                    });
                    let began = wakes;
                    claims.push(async move {
                        let claimed = match claim.await {
                            Ok(claimed) => claimed,
                            Err(err) => Err(crate::Error::Storage(Box::new(err))),
                        };
                        (claimed, slots, quiet, began)
                    });
                }
            }
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some((claimed, slots, quiet, began)) = claims.next() => {
                    let (claimed, failed) = match claimed {
                        Ok(claimed) => (claimed, false),
                        Err(err) => {
                            tracing::warn!(target: "djrs_tasks", error = %err, "claiming failed; retrying after the poll interval");
                            (Vec::new(), true)
                        }
                    };
                    if claimed.is_empty() {
                        // Idle means the store said there is nothing to claim, not that it failed.
                        if until_idle && quiet && !failed {
                            break;
                        }
                        // Wait for a reason to look again, unless one came during the claim.
                        waiting |= failed || wakes == began;
                        continue;
                    }
                    let mut slots = slots;
                    for task in claimed {
                        let Some(permit) = slots.as_mut().and_then(|slots| slots.split(1)) else {
                            // Cannot happen (we claimed at most the slots we held); give it back.
                            this.give_back(queue(), &task).await;
                            continue;
                        };
                        this.start(&mut running, &shared, &outcomes, task, permit);
                    }
                }
                _ = heartbeat.tick() => this.renew(queue(), &shared).await,
                () = &mut cancels => {
                    cancels = queue().cancellations();
                    this.renew(queue(), &shared).await;
                }
                () = &mut wake => {
                    wake = queue().notified();
                    wakes += 1;
                    waiting = false;
                }
                Some(_) = running.join_next(), if !running.is_empty() => waiting = false,
                // Draining (`run_until_idle`) only waits for outcomes to be recorded.
                () = tokio::time::sleep(if until_idle { poll_interval.min(Duration::from_millis(5)) } else { poll_interval }), if claims.is_empty() => waiting = false,
            }
        }

        // Shutdown: stop claiming. Claims on their way still take their tasks, which go back to
        // the queue without using an attempt.
        while let Some((claimed, _, _, _)) = claims.next().await {
            for task in claimed.unwrap_or_default() {
                this.give_back(queue(), &task).await;
            }
        }
        // Let running attempts finish within the grace period.
        tracing::info!(target: "djrs_tasks", worker_id = %this.worker_id, running = running.len(), "worker stopping");
        let deadline = tokio::time::sleep(this.grace_period);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = running.join_next() => if next.is_none() { break },
                () = &mut deadline => {
                    running.abort_all();
                    while running.join_next().await.is_some() {}
                    break;
                }
                _ = heartbeat.tick() => this.renew(queue(), &shared).await,
            }
        }
        // Every sender is gone now: the completer records what was sent, then stops.
        drop(outcomes);
        if let Err(err) = completer.await {
            tracing::error!(target: "djrs_tasks", error = %err, "the completer stopped abnormally");
        }
        let interrupted: Vec<Completion> = shared
            .drain()
            .into_iter()
            .map(|(id, attempt)| {
                let error = TaskError::new(
                    "djrs_tasks::Interrupted",
                    "the worker shut down before the attempt finished; it does not count as an attempt",
                );
                Completion::new(id, attempt, Outcome::Interrupted(error))
            })
            .collect();
        if !interrupted.is_empty() {
            let n = interrupted.len() as u64;
            match queue().complete_many(&this.worker_id, &interrupted).await {
                Ok(done) => {
                    let requeued = done.iter().filter(|recorded| **recorded).count() as u64;
                    shared.count(|s| s.interrupted += requeued);
                }
                Err(err) => {
                    tracing::warn!(target: "djrs_tasks", tasks = n, error = %err, "could not re-queue interrupted tasks; their leases will expire")
                }
            }
        }
        if let Some(pruner) = pruner {
            stop_pruning.notify_one();
            if let Err(err) = pruner.await {
                tracing::error!(target: "djrs_tasks", error = %err, "the pruner stopped abnormally");
            }
        }
        stop_presence.notify_one();
        if let Err(err) = presence.await {
            tracing::error!(target: "djrs_tasks", error = %err, "the worker's presence stopped abnormally");
        }
        #[cfg(feature = "metrics")]
        if let Some((sampler, stop)) = sampler
            && let Err(err) = {
                stop.notify_one();
                sampler.await
            }
        {
            tracing::error!(target: "djrs_tasks", error = %err, "the metrics sampler stopped abnormally");
        }
        let stats = shared.stats();
        tracing::info!(target: "djrs_tasks", worker_id = %this.worker_id, ?stats, "worker stopped");
        Ok(stats)
    }

    /// Runs a claimed task in a slot of its own; its outcome goes to the completer.
    fn start(
        self: &Arc<Self>,
        running: &mut JoinSet<()>,
        shared: &Arc<Shared>,
        outcomes: &Outcomes,
        task: TaskResult,
        permit: OwnedSemaphorePermit,
    ) {
        let (lost, cancel) = shared.insert(&task);
        let task = Arc::new(task);
        let (this, outcomes, shared) = (Arc::clone(self), outcomes.clone(), Arc::clone(shared));
        running.spawn(async move {
            let attempt = task.attempts();
            let grace = this.cancel_grace_period;
            #[cfg(feature = "metrics")]
            let began = {
                shared.metrics.started(&task);
                std::time::Instant::now()
            };
            let outcome = tokio::select! {
                outcome = this.attempt(&task, cancel.clone()) => Some(outcome),
                // The lease was lost: stop the attempt at its next await, record nothing (the
                // task belongs to another worker now).
                () = lost.notified() => None,
                // Cancelled, and still running after the grace period: drop it.
                () = async { cancel.requested().await; tokio::time::sleep(grace).await } => {
                    Some(Outcome::Failed(cancelled_while_running(grace)))
                }
            };
            drop(permit);
            #[cfg(feature = "metrics")]
            shared.metrics.ran(&task, began.elapsed());
            match outcome {
                // The completer records it; if it has stopped, the lease expires instead.
                Some(outcome) => {
                    shared.finishing(&task.id);
                    let _ = outcomes.send((Completion::new(task.id.clone(), attempt, outcome), task));
                }
                None => tracing::warn!(target: "djrs_tasks", id = %task.id, name = %task.task_name, attempt, "lost the task's lease (this worker stalled past it and the task was rescued); the attempt was stopped"),
            }
        });
    }

    /// Puts a claimed task this worker will not run back in its queue, without using an
    /// attempt; if that fails, its lease expires and it is rescued.
    async fn give_back(&self, queue: &dyn Queue, task: &TaskResult) {
        let error = TaskError::new(
            "djrs_tasks::Interrupted",
            "the worker claimed the task but did not start it (no free slot, or shutting down)",
        );
        let back = Completion::new(
            task.id.clone(),
            task.attempts(),
            Outcome::Interrupted(error),
        );
        if let Err(err) = queue.complete(&self.worker_id, back).await {
            tracing::warn!(target: "djrs_tasks", id = %task.id, error = %err, "could not give a claimed task back; it runs again after its lease expires");
        }
    }

    /// Renews the leases of the attempts in flight; stops those whose lease was lost.
    async fn renew(&self, queue: &dyn Queue, shared: &Shared) {
        let leases = shared.leases(self.lease / 2);
        if leases.is_empty() {
            return;
        }
        match queue.heartbeat(&self.worker_id, &leases, self.lease).await {
            Ok(renewed) => {
                for renewal in renewed.iter().filter(|r| r.cancel_requested) {
                    shared.request_cancel(&renewal.id);
                }
                let renewed: std::collections::HashSet<&TaskId> =
                    renewed.iter().map(|r| &r.id).collect();
                for (id, _) in &leases {
                    if !renewed.contains(id) {
                        shared.lose(id);
                    }
                }
            }
            Err(err) => {
                tracing::warn!(target: "djrs_tasks", error = %err, "lease renewal failed");
            }
        }
    }

    /// Rescues tasks whose worker stopped renewing their lease, firing `task_finished` for
    /// those that ran out of attempts.
    #[cfg_attr(
        not(feature = "metrics"),
        allow(unused_variables, reason = "`shared` holds the metric handles")
    )]
    async fn rescue(&self, queue: &dyn Queue, shared: &Shared) {
        match queue.rescue_expired().await {
            Ok(rescued) => {
                for result in rescued.iter().filter(|r| r.is_finished()) {
                    #[cfg(feature = "metrics")]
                    shared.metrics.rescued(result);
                    self.tasks.hooks().finished(result);
                }
            }
            Err(err) => {
                tracing::warn!(target: "djrs_tasks", error = %err, "could not rescue expired tasks");
            }
        }
    }

    /// Runs one attempt and decides what it means: success, a retry after a backoff, or a
    /// failure for good.
    async fn attempt(&self, task: &Arc<TaskResult>, cancel: Cancel) -> Outcome {
        let metadata = Metadata::new(task.metadata.clone());
        let ran = run_attempt(&self.tasks, task, cancel.clone(), metadata.clone()).await;
        // What the task recorded and did not save: saved before its outcome is.
        if let Some(unsaved) = metadata.unsaved()
            && let Err(err) = crate::context::save(&self.tasks, task, &unsaved).await
        {
            tracing::warn!(target: "djrs_tasks", id = %task.id, error = %err, "could not save the task's metadata");
        }
        match ran {
            Ok(value) => Outcome::Succeeded(value),
            // A cancelled task that stopped by itself: failed for good, not retried.
            Err(_) if cancel.is_requested() => {
                Outcome::Failed(cancelled_while_running(self.cancel_grace_period))
            }
            Err(error) => match error.next {
                // The task asked: later, without using the attempt.
                Next::Snooze(delay) => Outcome::Snooze {
                    run_after: after(delay),
                },
                // The task asked: failed for good, whatever attempts remain.
                Next::Discard => Outcome::Failed(error),
                Next::Retry if task.attempts() < task.max_attempts => Outcome::Retry {
                    run_after: after(self.retry_delay(task)),
                    error,
                },
                Next::Retry => Outcome::Failed(error),
            },
        }
    }

    /// Records outcomes in batches (one write for all that are waiting), so the store's commit
    /// rate does not limit the worker.
    async fn complete_loop(
        self: Arc<Self>,
        backend: Arc<dyn crate::Backend>,
        mut completions: tokio::sync::mpsc::UnboundedReceiver<(Completion, Arc<TaskResult>)>,
        shared: Arc<Shared>,
    ) {
        let Some(queue) = backend.queue() else { return };
        let mut recording = FuturesUnordered::new();
        // Outcomes received and not yet sent to the store.
        let mut waiting = Vec::new();
        let mut open = true;
        loop {
            // What waits goes at once when nothing is being recorded; a second batch goes while
            // the first is on its way once enough wait for it, so the store's round trips do not
            // limit the worker.
            let second = recording.len() < RECORDS_IN_FLIGHT && waiting.len() >= MIN_SECOND_BATCH;
            if !waiting.is_empty() && (recording.is_empty() || second) {
                while waiting.len() < 256 {
                    match completions.try_recv() {
                        Ok(next) => waiting.push(next),
                        Err(_) => break,
                    }
                }
                recording.push(self.record(queue, std::mem::take(&mut waiting), &shared));
                continue;
            }
            if !open && waiting.is_empty() {
                break;
            }
            // Either a recording is on its way, or nothing waits and the channel is open: one
            // branch is always enabled.
            tokio::select! {
                biased;
                Some(()) = recording.next(), if !recording.is_empty() => {}
                next = completions.recv(), if open && waiting.len() < 256 => match next {
                    Some(next) => waiting.push(next),
                    None => open = false,
                },
            }
        }
        while recording.next().await.is_some() {}
    }

    async fn record(
        &self,
        queue: &dyn Queue,
        batch: Vec<(Completion, Arc<TaskResult>)>,
        shared: &Shared,
    ) {
        let (completions, ran): (Vec<Completion>, Vec<Arc<TaskResult>>) = batch.into_iter().unzip();
        let mut delay = Duration::from_millis(50);
        for attempt in 1..=5 {
            match queue.complete_many(&self.worker_id, &completions).await {
                Ok(recorded) => {
                    for ((completion, task), recorded) in completions.iter().zip(&ran).zip(recorded)
                    {
                        if recorded {
                            #[cfg(feature = "metrics")]
                            shared.metrics.recorded(task, &completion.outcome);
                            shared.count(|s| match completion.outcome {
                                Outcome::Succeeded(_) => s.succeeded += 1,
                                Outcome::Retry { .. } => s.retried += 1,
                                Outcome::Interrupted(_) => s.interrupted += 1,
                                Outcome::Snooze { .. } => s.snoozed += 1,
                                Outcome::Failed(_) => s.failed += 1,
                            });
                            if let Some(status) = final_status(&completion.outcome) {
                                self.tasks.hooks().finished_as(task, status, || {
                                    finished_result(task, &completion.outcome)
                                });
                            }
                        } else {
                            shared.count(|s| s.lost += 1);
                            tracing::warn!(target: "djrs_tasks", id = %completion.id, "lost the task's lease before finishing; the outcome was refused and another worker owns the task now");
                        }
                        shared.remove(&completion.id);
                    }
                    return;
                }
                Err(err) if attempt < 5 => {
                    tracing::warn!(target: "djrs_tasks", error = %err, "recording outcomes failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(err) => {
                    tracing::error!(target: "djrs_tasks", error = %err, tasks = completions.len(), "could not record outcomes; these tasks run again after their leases expire");
                    // Stop renewing their leases so they expire and are rescued.
                    completions.iter().for_each(|c| shared.remove(&c.id));
                }
            }
        }
    }
}

/// The time `delay` from now, or the latest time there is for a delay past it.
fn after(delay: Duration) -> chrono::DateTime<Utc> {
    chrono::Duration::from_std(delay)
        .ok()
        .and_then(|delay| Utc::now().checked_add_signed(delay))
        .unwrap_or(chrono::DateTime::<Utc>::MAX_UTC)
}

/// The error a task cancelled while it ran records.
fn cancelled_while_running(grace: Duration) -> TaskError {
    TaskError::new(
        "djrs_tasks::Cancelled",
        format!(
            "the task was cancelled while it ran (it stopped by itself, or was dropped after the grace period of {grace:?})"
        ),
    )
}

/// The status an outcome leaves its task in, when it finishes it.
fn final_status(outcome: &Outcome) -> Option<TaskResultStatus> {
    match outcome {
        Outcome::Succeeded(_) => Some(TaskResultStatus::Successful),
        Outcome::Failed(_) => Some(TaskResultStatus::Failed),
        Outcome::Retry { .. } | Outcome::Interrupted(_) | Outcome::Snooze { .. } => None,
    }
}

/// The task as it ends, for `task_finished`: the task the worker ran with the outcome the store
/// recorded (called for finishing outcomes only).
fn finished_result(task: &TaskResult, outcome: &Outcome) -> TaskResult {
    let now = Utc::now();
    let mut finished = task.clone();
    match outcome {
        Outcome::Succeeded(value) => finished.mark_successful(value.clone(), now),
        Outcome::Failed(error) => finished.mark_failed(error.clone(), now),
        Outcome::Retry { .. } | Outcome::Interrupted(_) | Outcome::Snooze { .. } => {}
    }
    finished
}

/// An attempt in flight: its number and the signal that stops it when its lease is lost.
struct InFlight {
    attempt: u32,
    lost: Arc<Notify>,
    cancel: Cancel,
    /// Since when its outcome is on its way to the store. Heartbeats leave it to the completer
    /// for half a lease, so the two do not update the same rows at once (on PostgreSQL they
    /// would lock them in different orders and deadlock); a recording slower than that has
    /// its lease renewed again.
    finishing: Option<tokio::time::Instant>,
}

/// What the worker's loops share: the attempts in flight (whose leases it renews) and the
/// counts.
#[derive(Default)]
struct Shared {
    in_flight: Mutex<HashMap<TaskId, InFlight>>,
    stats: Mutex<WorkerStats>,
    /// The metric handles of the pairs this worker ran, registered once per run.
    #[cfg(feature = "metrics")]
    metrics: crate::metrics::ByTask<crate::metrics::WorkerMetrics>,
}

impl Shared {
    /// Tracks a claimed task; returns the signal that fires when its lease is lost.
    fn insert(&self, task: &TaskResult) -> (Arc<Notify>, Cancel) {
        let lost = Arc::new(Notify::new());
        let cancel = Cancel::default();
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                task.id.clone(),
                InFlight {
                    attempt: task.attempts(),
                    lost: Arc::clone(&lost),
                    cancel: cancel.clone(),
                    finishing: None,
                },
            );
        (lost, cancel)
    }

    /// Passes an operator's cancel request to the attempt of `id`.
    fn request_cancel(&self, id: &TaskId) {
        if let Some(in_flight) = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
        {
            in_flight.cancel.request();
        }
    }

    fn remove(&self, id: &TaskId) {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }

    /// Stops tracking `id` and stops its attempt.
    fn lose(&self, id: &TaskId) {
        let removed = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        if let Some(in_flight) = removed {
            // `notify_one` keeps the permit if the attempt is not waiting yet.
            in_flight.lost.notify_one();
            self.count(|s| s.lost += 1);
        }
    }

    /// The leases to renew: attempts still running, and those whose outcome has been on its
    /// way for at least `grace`.
    fn leases(&self, grace: Duration) -> Vec<Lease> {
        let now = tokio::time::Instant::now();
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(_, f)| f.finishing.is_none_or(|since| now - since >= grace))
            .map(|(id, f)| (id.clone(), f.attempt))
            .collect()
    }

    /// Marks `id`'s attempt as over, its outcome on its way to the store.
    fn finishing(&self, id: &TaskId) {
        if let Some(in_flight) = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(id)
        {
            in_flight.finishing = Some(tokio::time::Instant::now());
        }
    }

    fn in_flight_count(&self) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    fn drain(&self) -> Vec<Lease> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .map(|(id, f)| (id, f.attempt))
            .collect()
    }

    fn count(&self, f: impl FnOnce(&mut WorkerStats)) {
        f(&mut self.stats.lock().unwrap_or_else(PoisonError::into_inner));
    }

    fn stats(&self) -> WorkerStats {
        *self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests;
