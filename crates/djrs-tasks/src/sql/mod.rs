//! The SQL queue: one engine for SQLite, PostgreSQL and MySQL/MariaDB.
//!
//! Every decision lives here: claim order and batching, queue concurrency limits, what an
//! outcome does to a task (success, retry with backoff, failure, an interrupted attempt given
//! back), the fencing of completions by attempt, rescue of expired leases, cancel, unique keys,
//! cron occurrences, leadership and pruning. A [`Dialect`] only says how its database reads and
//! writes those rows: the statements, the clock, the migrations and the wake-up channel.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use tokio::sync::{Notify, OnceCell};

use crate::backend::stored::error_json;
use crate::backend::{
    Backend, BackendContext, Capabilities, Completion, Lease, NewTask, Outcome, QueueCounts,
    Renewal, ResultFilter,
};
use crate::task::BoxFuture;
use crate::{
    Error, PreparedTask, Queue, Result, TaskId, TaskResult, TaskResultStatus, Tasks, WorkerId,
};

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "mysql")]
pub use mysql::{MySql, MysqlBackend};
#[cfg(feature = "postgres")]
pub use postgres::{Postgres, PostgresBackend};
#[cfg(feature = "sqlite")]
pub use sqlite::{Sqlite, SqliteBackend, sqlite_connect_options};

mod sealed {
    pub trait Sealed {}
}

/// A database the SQL queue runs on: [`Sqlite`], [`Postgres`] or [`MySql`]. Sealed; the
/// methods are the engine's, not a public API.
pub trait Dialect: sealed::Sealed + Send + Sync + fmt::Debug + 'static {
    #[doc(hidden)]
    type Db: sqlx::Database;

    #[doc(hidden)]
    const BACKEND_NAME: &'static str;

    #[doc(hidden)]
    fn pool(&self) -> &sqlx::Pool<Self::Db>;

    /// Applies the migrations not yet applied, safely when processes start together.
    #[doc(hidden)]
    fn migrate(&self) -> BoxFuture<'_, Result<()>>;

    /// Starts a write transaction.
    #[doc(hidden)]
    fn begin(&self) -> BoxFuture<'_, Result<sqlx::Transaction<'static, Self::Db>>>;

    /// Inserts tasks whose unique key is free; returns the ids inserted.
    #[doc(hidden)]
    fn insert<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        batch: &'a [NewTask],
    ) -> BoxFuture<'a, Result<HashSet<TaskId>>>;

    /// The `READY` or `RUNNING` task holding `key`.
    #[doc(hidden)]
    fn holder_of<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskResult>>>;

    /// Tells other processes that `queues` have new tasks (delivered at commit), where the
    /// database can.
    #[doc(hidden)]
    fn announce<'a>(
        &'a self,
        _conn: &'a mut Conn<Self>,
        _queues: &'a [&'a str],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    /// Claims on `conn` (inside the caller's transaction).
    #[doc(hidden)]
    fn claim_on<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        claim: &'a Claim<'a>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>>;

    /// Claims in a transaction of its own (or one statement, where that is atomic).
    #[doc(hidden)]
    fn claim<'a>(&'a self, claim: &'a Claim<'a>) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let mut tx = self.begin().await?;
            let claimed = self.claim_on(&mut tx, claim).await?;
            tx.commit().await?;
            Ok(claimed)
        })
    }

    /// Serialises claims from `queue` until the transaction ends, and counts its running tasks.
    #[doc(hidden)]
    fn lock_queue<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        queue: &'a str,
    ) -> BoxFuture<'a, Result<u64>>;

    /// Applies transitions whose guard still holds; returns the changed tasks.
    #[doc(hidden)]
    fn apply<'a>(
        &'a self,
        transitions: &'a [Transition],
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>>;

    /// As [`apply`](Self::apply), returning only the ids of the changed tasks (completions need
    /// no rows back).
    #[doc(hidden)]
    fn apply_ids<'a>(
        &'a self,
        transitions: &'a [Transition],
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(async move {
            Ok(self
                .apply(transitions, now)
                .await?
                .into_iter()
                .map(|t| t.id)
                .collect())
        })
    }

    /// Extends the leases `worker_id` still holds; returns their tasks.
    #[doc(hidden)]
    fn renew<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        leases: &'a [Lease],
        lease: Duration,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<TaskId>>>;

    /// `RUNNING` tasks whose lease expired, at most `limit`.
    #[doc(hidden)]
    fn expired(&self, now: DateTime<Utc>, limit: i64) -> BoxFuture<'_, Result<Vec<TaskResult>>>;

    #[doc(hidden)]
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskResult>>>;

    #[doc(hidden)]
    fn list<'a>(&'a self, filter: &'a ResultFilter) -> BoxFuture<'a, Result<Vec<TaskResult>>>;

    /// `(queue, status, count)` rows.
    #[doc(hidden)]
    fn counts(&self) -> BoxFuture<'_, Result<Vec<(String, String, i64)>>>;

    /// Deletes up to `limit` finished tasks older than `older_than` with one of `statuses`.
    #[doc(hidden)]
    fn delete_finished<'a>(
        &'a self,
        older_than: DateTime<Utc>,
        statuses: &'a [&'static str],
        limit: i64,
    ) -> BoxFuture<'a, Result<u64>>;

    #[doc(hidden)]
    fn delete_occurrences(&self, older_than: DateTime<Utc>) -> BoxFuture<'_, Result<u64>>;

    /// Takes or keeps the leadership `name` for `holder` until `now + ttl`.
    #[doc(hidden)]
    fn lead<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<bool>>;

    #[doc(hidden)]
    fn resign<'a>(&'a self, name: &'a str, holder: &'a str) -> BoxFuture<'a, Result<()>>;

    /// The ids among `ids` whose cancellation an operator requested.
    #[doc(hidden)]
    fn cancel_requests<'a>(&'a self, ids: &'a [TaskId]) -> BoxFuture<'a, Result<Vec<TaskId>>>;

    /// Marks a `RUNNING` task for cancellation; `false` when it is not `RUNNING`.
    #[doc(hidden)]
    fn request_cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool>>;

    /// Pauses or resumes a queue.
    #[doc(hidden)]
    fn set_paused<'a>(&'a self, queue: &'a str, paused: bool) -> BoxFuture<'a, Result<()>>;

    /// The paused queues, sorted.
    #[doc(hidden)]
    fn paused(&self) -> BoxFuture<'_, Result<Vec<String>>>;

    /// Records an occurrence; `false` when it already was.
    #[doc(hidden)]
    fn record_occurrence<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        schedule: &'a str,
        occurrence: DateTime<Utc>,
        task_id: &'a TaskId,
    ) -> BoxFuture<'a, Result<bool>>;

    /// A loop that wakes `notify` when another process announces tasks, for databases that can.
    #[doc(hidden)]
    fn listen(&self, _notify: Arc<Notify>) -> Option<BoxFuture<'static, ()>> {
        None
    }

    /// How often idle workers look when nothing can wake them from other processes.
    #[doc(hidden)]
    fn poll_interval(&self) -> Option<Duration> {
        None
    }
}

/// The connection type of a dialect's database.
pub(crate) type Conn<D> = <<D as Dialect>::Db as sqlx::Database>::Connection;

/// Which queues a claim takes from.
#[derive(Debug, Clone, Copy)]
#[doc(hidden)]
// Named in the sealed `Dialect`'s hidden methods; not reachable from outside the crate.
#[allow(unreachable_pub)]
pub enum QueueSet<'a> {
    /// These queues.
    Only(&'a [String]),
    /// Every queue but these (empty: every queue).
    AllBut(&'a [String]),
}

impl<'a> QueueSet<'a> {
    /// The claim's queue condition (`AND …`, empty for every queue) with `?` placeholders, and
    /// the queue names to bind, in order.
    #[cfg(any(feature = "sqlite", feature = "mysql"))]
    pub(crate) fn placeholder_filter(self) -> (String, &'a [String]) {
        match self {
            QueueSet::Only([]) => ("AND 1 = 0".to_owned(), &[]),
            QueueSet::AllBut([]) => (String::new(), &[]),
            // One queue: an equality the index serves in claim order.
            QueueSet::Only(queues @ [_]) => ("AND queue_name = ?".to_owned(), queues),
            QueueSet::Only(queues) => (
                format!("AND queue_name IN ({})", placeholders(queues.len())),
                queues,
            ),
            QueueSet::AllBut(queues) => (
                format!("AND NOT queue_name IN ({})", placeholders(queues.len())),
                queues,
            ),
        }
    }
}

/// A claim: up to `limit` due tasks of `queues` for `worker_id`.
#[derive(Debug)]
#[doc(hidden)]
// Named in the sealed `Dialect`'s hidden methods; not reachable from outside the crate.
#[allow(unreachable_pub)]
pub struct Claim<'a> {
    pub(crate) worker_id: &'a WorkerId,
    pub(crate) queues: QueueSet<'a>,
    pub(crate) limit: i64,
    pub(crate) lease: Duration,
    /// This process's clock, for the databases that use it (SQLite).
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) now: DateTime<Utc>,
}

/// What must still hold for a transition to apply.
#[derive(Debug, Clone, PartialEq)]
#[doc(hidden)]
// Named in the sealed `Dialect`'s hidden methods; not reachable from outside the crate.
#[allow(unreachable_pub)]
pub enum Guard {
    /// The task is `RUNNING` this attempt for this worker.
    Running { worker_id: WorkerId, attempt: u32 },
    /// As `Running`, and its lease expired.
    Expired { worker_id: WorkerId, attempt: u32 },
    /// The task is `READY`.
    Ready,
}

impl Guard {
    /// The status, worker, attempt and "lease expired" the guard asks for.
    pub(crate) fn parts(&self) -> (&'static str, Option<&str>, Option<i64>, bool) {
        match self {
            Guard::Running { worker_id, attempt } => (
                "RUNNING",
                Some(worker_id.as_str()),
                Some(i64::from(*attempt)),
                false,
            ),
            Guard::Expired { worker_id, attempt } => (
                "RUNNING",
                Some(worker_id.as_str()),
                Some(i64::from(*attempt)),
                true,
            ),
            Guard::Ready => ("READY", None, None, false),
        }
    }
}

/// One change of one task: to `status`, recording a return value or appending an error, with
/// its lease cleared. `run_after` applies to `READY`; `finished_at` is set for finished
/// statuses; `refund` takes the attempt's worker id back off `worker_ids`.
#[derive(Debug, Clone, PartialEq)]
#[doc(hidden)]
// Named in the sealed `Dialect`'s hidden methods; not reachable from outside the crate.
#[allow(unreachable_pub)]
pub struct Transition {
    pub(crate) id: TaskId,
    pub(crate) guard: Guard,
    pub(crate) status: TaskResultStatus,
    pub(crate) return_value: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) run_after: Option<DateTime<Utc>>,
    pub(crate) refund: bool,
}

impl Transition {
    /// What a worker's completion does.
    pub(crate) fn completion(worker_id: &WorkerId, completion: &Completion) -> Transition {
        let guard = Guard::Running {
            worker_id: worker_id.clone(),
            attempt: completion.attempt,
        };
        let id = &completion.id;
        let base = |status| Transition {
            id: id.clone(),
            guard: guard.clone(),
            status,
            return_value: None,
            error: None,
            run_after: None,
            refund: false,
        };
        match &completion.outcome {
            Outcome::Succeeded(value) => Transition {
                return_value: Some(value.to_string()),
                ..base(TaskResultStatus::Successful)
            },
            Outcome::Failed(error) => Transition {
                error: Some(error_json(error)),
                ..base(TaskResultStatus::Failed)
            },
            Outcome::Retry { error, run_after } => Transition {
                error: Some(error_json(error)),
                run_after: Some(*run_after),
                ..base(TaskResultStatus::Ready)
            },
            Outcome::Interrupted(error) => Transition {
                error: Some(error_json(error)),
                refund: true,
                ..base(TaskResultStatus::Ready)
            },
        }
    }

    /// What the rescuer does to a task whose lease expired: run it again, or fail it when that
    /// was its last attempt.
    pub(crate) fn rescue(task: &TaskResult) -> Option<Transition> {
        let worker_id = task.worker_ids.last()?.clone();
        let attempt = task.attempts();
        let status = if attempt >= task.max_attempts {
            TaskResultStatus::Failed
        } else {
            TaskResultStatus::Ready
        };
        Some(Transition {
            id: task.id.clone(),
            guard: Guard::Expired { worker_id, attempt },
            status,
            return_value: None,
            error: Some(error_json(&crate::backend::stored::worker_lost())),
            run_after: None,
            refund: false,
        })
    }

    /// Cancelling a `READY` task.
    pub(crate) fn cancel(id: &str) -> Transition {
        Transition {
            id: TaskId::from(id),
            guard: Guard::Ready,
            status: TaskResultStatus::Failed,
            return_value: None,
            error: Some(error_json(
                &crate::backend::stored::cancelled_before_it_ran(),
            )),
            run_after: None,
            refund: false,
        }
    }
}

/// The task queue on a SQL database: [`SqliteBackend`] (one file, the embedded default),
/// [`PostgresBackend`] (many workers on many machines, `LISTEN`/`NOTIFY`) and
/// [`MysqlBackend`] (MySQL 8, MariaDB ≥ 10.6). One engine, one set of guarantees; the
/// database only changes how rows are read and written.
///
/// ```
/// use djrs_tasks::{task, SqliteBackend, Tasks, TaskResultStatus, Worker};
///
/// #[task]
/// async fn double(n: i64) -> i64 { n * 2 }
///
/// # tokio_test::block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let backend = SqliteBackend::open(dir.path().join("tasks.sqlite3"))?;
/// let tasks = Tasks::builder().backend("default", backend).build()?;
/// let mut result = double.enqueue(&tasks, 21).await?;
/// assert_eq!(result.status, TaskResultStatus::Ready);
///
/// Worker::new(&tasks).run_until_idle().await?;
/// result.refresh(&tasks).await?;
/// assert_eq!(result.return_value::<i64>()?, 42);
/// # Ok::<(), djrs_tasks::Error>(())
/// # }).unwrap();
/// ```
pub struct SqlBackend<D: Dialect> {
    dialect: Arc<D>,
    migrated: Arc<OnceCell<()>>,
    notify: Arc<Notify>,
    listener: Arc<OnceCell<Option<ListenerTask>>>,
    queue_limits: Arc<BTreeMap<String, u32>>,
}

impl<D: Dialect> Clone for SqlBackend<D> {
    fn clone(&self) -> Self {
        SqlBackend {
            dialect: Arc::clone(&self.dialect),
            migrated: Arc::clone(&self.migrated),
            notify: Arc::clone(&self.notify),
            listener: Arc::clone(&self.listener),
            queue_limits: Arc::clone(&self.queue_limits),
        }
    }
}

impl<D: Dialect> fmt::Debug for SqlBackend<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(D::BACKEND_NAME)
            .field("dialect", &self.dialect)
            .field("queue_limits", &self.queue_limits)
            .finish_non_exhaustive()
    }
}

/// The background wake-up loop; stopped when the last backend value is dropped.
#[derive(Debug)]
struct ListenerTask(tokio::task::JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<D: Dialect> SqlBackend<D> {
    fn with_dialect(dialect: D) -> Self {
        SqlBackend {
            dialect: Arc::new(dialect),
            migrated: Arc::new(OnceCell::new()),
            notify: Arc::new(Notify::new()),
            listener: Arc::new(OnceCell::new()),
            queue_limits: Arc::default(),
        }
    }

    /// The pool, e.g. to read the tables in tests or dashboards, or to share with the
    /// application.
    #[must_use]
    pub fn pool(&self) -> &sqlx::Pool<D::Db> {
        self.dialect.pool()
    }

    /// Runs at most `limit` tasks of `queue` at once across every worker on every machine
    /// (Oban Pro's global limit). Claims from a limited queue lock the queue for the length of
    /// the claim and count its running tasks, so the limit holds under races.
    #[must_use]
    pub fn queue_limit(mut self, queue: impl Into<String>, limit: u32) -> Self {
        Arc::make_mut(&mut self.queue_limits).insert(queue.into(), limit);
        self
    }

    /// Applies the schema migrations not yet applied. Runs once per backend value on first use;
    /// safe when several processes start at once.
    ///
    /// # Errors
    /// When the database cannot be written.
    pub async fn migrate(&self) -> Result<()> {
        self.migrated
            .get_or_try_init(|| self.dialect.migrate())
            .await?;
        Ok(())
    }

    /// Inserts tasks on `conn` (the caller's transaction, or one of the backend's). A task whose
    /// unique key is `READY` or `RUNNING` is not inserted: the holder is returned in its place
    /// (`false`).
    async fn insert_on(
        &self,
        conn: &mut Conn<D>,
        batch: Vec<NewTask>,
    ) -> Result<Vec<(TaskResult, bool)>> {
        let inserted = self.dialect.insert(conn, &batch).await?;
        if !inserted.is_empty() {
            let mut queues: Vec<&str> = batch
                .iter()
                .filter(|t| inserted.contains(&t.id))
                .map(|t| t.queue_name.as_str())
                .collect();
            queues.sort_unstable();
            queues.dedup();
            self.dialect.announce(conn, &queues).await?;
        }
        let mut results = Vec::with_capacity(batch.len());
        for task in batch {
            if inserted.contains(&task.id) {
                results.push((task.into_ready_result(), true));
                continue;
            }
            let key = task.unique_key.as_deref().ok_or_else(|| {
                Error::InvalidTask(format!(
                    "task {} was not stored and has no unique key",
                    task.id
                ))
            })?;
            match self.dialect.holder_of(conn, key).await? {
                Some(holder) => results.push((holder, false)),
                // The holder finished between the insert and the read: store this one.
                None => {
                    let again = Box::pin(self.insert_on(conn, vec![task])).await?;
                    results.extend(again);
                }
            }
        }
        Ok(results)
    }

    async fn insert(&self, batch: Vec<NewTask>) -> Result<Vec<(TaskResult, bool)>> {
        self.migrate().await?;
        let mut tx = self.dialect.begin().await?;
        let results = self.insert_on(&mut tx, batch).await?;
        tx.commit().await?;
        // Workers of this process wake without waiting for another channel.
        self.notify.notify_waiters();
        Ok(results)
    }

    /// Validates `batch` for this backend and writes it on the caller's connection.
    async fn enqueue_batch_on(
        &self,
        conn: &mut Conn<D>,
        tasks: &Tasks,
        batch: Vec<PreparedTask>,
    ) -> Result<Vec<TaskResult>> {
        let mut new_tasks = Vec::with_capacity(batch.len());
        for prepared in batch {
            let (options, args) = prepared.into_parts();
            new_tasks.push(tasks.new_task(&options, args)?);
        }
        self.migrate().await?;
        let stored = self.insert_on(conn, new_tasks).await?;
        self.notify.notify_waiters();
        let ctx = BackendContext::new(tasks);
        Ok(announce(&ctx, stored))
    }

    /// Starts the wake-up loop once, where the database has one.
    async fn ensure_listener(&self) {
        let notify = Arc::clone(&self.notify);
        self.listener
            .get_or_init(|| async move {
                self.dialect
                    .listen(notify)
                    .map(|future| ListenerTask(tokio::spawn(future)))
            })
            .await;
    }

    async fn claim_tasks(
        &self,
        worker_id: &WorkerId,
        queues: &[String],
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<TaskResult>> {
        self.migrate().await?;
        let mut want = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut claimed = Vec::new();
        // Paused queues are skipped, whoever paused them.
        let paused = self.dialect.paused().await?;
        // Limited queues among the worker's (all of them for a worker of every queue).
        let limited: Vec<(&String, u32)> = self
            .queue_limits
            .iter()
            .filter(|(q, _)| queues.is_empty() || queues.contains(q))
            .filter(|(q, _)| !paused.contains(q))
            .map(|(q, n)| (q, *n))
            .collect();
        let free: Vec<String> = queues
            .iter()
            .filter(|q| !self.queue_limits.contains_key(*q) && !paused.contains(q))
            .cloned()
            .collect();
        let limited_names: Vec<String> = self.queue_limits.keys().chain(&paused).cloned().collect();
        let unlimited = if queues.is_empty() {
            Some(QueueSet::AllBut(&limited_names))
        } else if free.is_empty() {
            None
        } else {
            Some(QueueSet::Only(&free))
        };
        if let Some(set) = unlimited {
            let claim = Claim {
                worker_id,
                queues: set,
                limit: want,
                lease,
                now: Utc::now(),
            };
            let rows = self.dialect.claim(&claim).await?;
            want -= i64::try_from(rows.len()).unwrap_or(0);
            claimed.extend(rows);
        }
        for (queue, queue_limit) in limited {
            if want <= 0 {
                break;
            }
            let mut tx = self.dialect.begin().await?;
            let running = self.dialect.lock_queue(&mut tx, queue).await?;
            let room =
                (i64::from(queue_limit) - i64::try_from(running).unwrap_or(i64::MAX)).min(want);
            if room > 0 {
                let only = std::slice::from_ref(queue);
                let claim = Claim {
                    worker_id,
                    queues: QueueSet::Only(only),
                    limit: room,
                    lease,
                    now: Utc::now(),
                };
                let rows = self.dialect.claim_on(&mut tx, &claim).await?;
                want -= i64::try_from(rows.len()).unwrap_or(0);
                claimed.extend(rows);
            }
            tx.commit().await?;
        }
        claimed.sort_by(claim_order);
        Ok(claimed)
    }

    async fn apply(&self, transitions: Vec<Transition>) -> Result<Vec<Option<TaskResult>>> {
        if transitions.is_empty() {
            return Ok(Vec::new());
        }
        let changed = self.dialect.apply(&transitions, Utc::now()).await?;
        if changed.iter().any(|t| t.status == TaskResultStatus::Ready) {
            self.notify.notify_waiters();
        }
        let mut by_id: std::collections::HashMap<TaskId, TaskResult> =
            changed.into_iter().map(|r| (r.id.clone(), r)).collect();
        Ok(transitions.iter().map(|t| by_id.remove(&t.id)).collect())
    }
}

/// Fires `task_enqueued` for the tasks that were stored (not for duplicates of a unique key,
/// which come back as the existing task) and returns the results.
pub(crate) fn announce(
    ctx: &BackendContext<'_>,
    stored: Vec<(TaskResult, bool)>,
) -> Vec<TaskResult> {
    stored
        .into_iter()
        .map(|(result, new)| {
            if new {
                ctx.task_enqueued(&result);
            }
            result
        })
        .collect()
}

/// Claim order, as SQL returns the rows of `UPDATE … RETURNING` in no particular order:
/// priority DESC, then `run_after` ASC with undeferred tasks last (as Django's database
/// backend), then FIFO.
pub(crate) fn claim_order(a: &TaskResult, b: &TaskResult) -> std::cmp::Ordering {
    b.priority
        .cmp(&a.priority)
        .then_with(|| match (a.run_after, b.run_after) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        })
        .then_with(|| a.enqueued_at.cmp(&b.enqueued_at))
}

impl<D: Dialect> Backend for SqlBackend<D> {
    fn name(&self) -> &'static str {
        D::BACKEND_NAME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::all()
    }

    fn enqueue<'a>(
        &'a self,
        ctx: &'a BackendContext<'a>,
        task: NewTask,
    ) -> BoxFuture<'a, Result<TaskResult>> {
        Box::pin(async move { crate::store::single(self.enqueue_many(ctx, vec![task]).await) })
    }

    fn enqueue_many<'a>(
        &'a self,
        ctx: &'a BackendContext<'a>,
        batch: Vec<NewTask>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move { Ok(announce(ctx, self.insert(batch).await?)) })
    }

    fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
        Box::pin(async move {
            // Untrusted ids (a URL, a form): one no database can store names no task.
            if !storable(id) {
                return Err(Error::TaskResultDoesNotExist(id.to_owned()));
            }
            self.migrate().await?;
            self.dialect
                .get(id)
                .await?
                .ok_or_else(|| Error::TaskResultDoesNotExist(id.to_owned()))
        })
    }

    fn queue(&self) -> Option<&dyn Queue> {
        Some(self)
    }
}

impl<D: Dialect> Queue for SqlBackend<D> {
    fn claim<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        queues: &'a [String],
        limit: usize,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(self.claim_tasks(worker_id, queues, limit, lease))
    }

    fn complete_many<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        completions: &'a [Completion],
    ) -> BoxFuture<'a, Result<Vec<bool>>> {
        Box::pin(async move {
            if completions.is_empty() {
                return Ok(Vec::new());
            }
            let transitions: Vec<Transition> = completions
                .iter()
                .map(|c| Transition::completion(worker_id, c))
                .collect();
            let applied: HashSet<TaskId> = self
                .dialect
                .apply_ids(&transitions, Utc::now())
                .await?
                .into_iter()
                .collect();
            if transitions
                .iter()
                .any(|t| t.status == TaskResultStatus::Ready && applied.contains(&t.id))
            {
                self.notify.notify_waiters();
            }
            Ok(transitions
                .iter()
                .map(|t| applied.contains(&t.id))
                .collect())
        })
    }

    fn heartbeat<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        leases: &'a [Lease],
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<Renewal>>> {
        Box::pin(async move {
            if leases.is_empty() {
                return Ok(Vec::new());
            }
            let renewed = self
                .dialect
                .renew(worker_id, leases, lease, Utc::now())
                .await?;
            let cancel: HashSet<TaskId> = if renewed.is_empty() {
                HashSet::new()
            } else {
                self.dialect
                    .cancel_requests(&renewed)
                    .await?
                    .into_iter()
                    .collect()
            };
            Ok(renewed
                .into_iter()
                .map(|id| {
                    let requested = cancel.contains(&id);
                    Renewal::new(id, requested)
                })
                .collect())
        })
    }

    fn request_cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            if !storable(id) {
                return Ok(false);
            }
            self.migrate().await?;
            self.dialect.request_cancel(id).await
        })
    }

    fn set_paused<'a>(&'a self, queue: &'a str, paused: bool) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            crate::tasks::check_storable(&serde_json::Value::from(queue), "queue name")?;
            self.migrate().await?;
            self.dialect.set_paused(queue, paused).await?;
            if !paused {
                self.notify.notify_waiters();
            }
            Ok(())
        })
    }

    fn paused(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            self.migrate().await?;
            self.dialect.paused().await
        })
    }

    fn rescue_expired(&self) -> BoxFuture<'_, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            self.migrate().await?;
            let mut rescued: Vec<TaskResult> = Vec::new();
            // Bounded batches, as many as it takes.
            loop {
                let expired = self.dialect.expired(Utc::now(), RESCUE_BATCH).await?;
                let transitions: Vec<Transition> =
                    expired.iter().filter_map(Transition::rescue).collect();
                let before = rescued.len();
                rescued.extend(self.apply(transitions).await?.into_iter().flatten());
                // A full batch may have more behind it; one that changed nothing would repeat.
                if i64::try_from(expired.len()).unwrap_or(0) < RESCUE_BATCH
                    || rescued.len() == before
                {
                    break;
                }
            }
            if !rescued.is_empty() {
                tracing::warn!(target: "djrs_tasks", rescued = rescued.len(), "rescued tasks of workers that stopped renewing their leases");
            }
            Ok(rescued)
        })
    }

    fn notified(&self) -> BoxFuture<'_, ()> {
        // Created now, not when first polled: a notification that arrives while the worker
        // is still claiming is not missed.
        let notified = self.notify.notified();
        Box::pin(async move {
            self.ensure_listener().await;
            notified.await;
        })
    }

    fn poll_interval(&self) -> Option<Duration> {
        self.dialect.poll_interval()
    }

    fn prune_results<'a>(
        &'a self,
        older_than: DateTime<Utc>,
        statuses: &'a [TaskResultStatus],
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            self.migrate().await?;
            let finished: Vec<&'static str> = statuses
                .iter()
                .filter(|s| s.is_finished())
                .map(|s| s.as_str())
                .collect();
            if finished.is_empty() {
                return Ok(0);
            }
            // Bounded batches: a large backlog never holds one long write.
            let mut deleted = 0;
            loop {
                let n = self
                    .dialect
                    .delete_finished(older_than, &finished, PRUNE_BATCH)
                    .await?;
                deleted += n;
                if n < u64::try_from(PRUNE_BATCH).unwrap_or(u64::MAX) {
                    return Ok(deleted);
                }
            }
        })
    }

    fn list_results<'a>(
        &'a self,
        filter: &'a ResultFilter,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let texts = [filter.queue_name.as_deref(), filter.task_name.as_deref()];
            if !texts.into_iter().flatten().all(storable) {
                return Ok(Vec::new());
            }
            self.migrate().await?;
            self.dialect.list(filter).await
        })
    }

    fn counts(&self) -> BoxFuture<'_, Result<QueueCounts>> {
        Box::pin(async move {
            self.migrate().await?;
            let mut counts = QueueCounts::default();
            for (queue, status, n) in self.dialect.counts().await? {
                counts
                    .rows
                    .push((queue, status.parse()?, u64::try_from(n).unwrap_or(0)));
            }
            Ok(counts)
        })
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskResult>>> {
        Box::pin(async move {
            if !storable(id) {
                return Ok(None);
            }
            self.migrate().await?;
            Ok(self
                .apply(vec![Transition::cancel(id)])
                .await?
                .pop()
                .flatten())
        })
    }

    fn lead<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            self.migrate().await?;
            self.dialect.lead(name, holder, ttl, Utc::now()).await
        })
    }

    fn resign<'a>(&'a self, name: &'a str, holder: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.migrate().await?;
            self.dialect.resign(name, holder).await
        })
    }

    fn enqueue_occurrence<'a>(
        &'a self,
        schedule: &'a str,
        occurrence: DateTime<Utc>,
        task: NewTask,
    ) -> BoxFuture<'a, Result<Option<TaskResult>>> {
        Box::pin(async move {
            self.migrate().await?;
            let mut tx = self.dialect.begin().await?;
            let id = task.id.clone();
            if !self
                .dialect
                .record_occurrence(&mut tx, schedule, occurrence, &id)
                .await?
            {
                return Ok(None);
            }
            let (result, _) = self
                .insert_on(&mut tx, vec![task])
                .await?
                .pop()
                .ok_or_else(|| Error::InvalidTask("the backend returned no result".into()))?;
            tx.commit().await?;
            self.notify.notify_waiters();
            Ok(Some(result))
        })
    }

    fn prune_occurrences(&self, older_than: DateTime<Utc>) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            self.migrate().await?;
            self.dialect.delete_occurrences(older_than).await
        })
    }
}

/// Expired leases one rescue statement handles at most.
const RESCUE_BATCH: i64 = 1_000;

/// Rows one pruning statement deletes at most.
const PRUNE_BATCH: i64 = 5_000;

/// Enqueues `batch` on `conn` for the backend its tasks name, which must be a `SqlBackend<D>`.
pub(crate) async fn enqueue_in<D: Dialect>(
    conn: &mut Conn<D>,
    tasks: &Tasks,
    batch: Vec<PreparedTask>,
) -> Result<Vec<TaskResult>> {
    let Some(first) = batch.first() else {
        return Ok(Vec::new());
    };
    let alias = first.options().backend().to_owned();
    if let Some(other) = batch.iter().find(|p| p.options().backend() != alias) {
        return Err(Error::InvalidTask(format!(
            "enqueue_in takes tasks of one backend; got '{}' and '{alias}'",
            other.options().backend()
        )));
    }
    let backend = tasks.backend(&alias)?;
    let any: &dyn std::any::Any = backend.as_ref();
    let Some(sql) = any.downcast_ref::<SqlBackend<D>>() else {
        return Err(Error::InvalidTask(format!(
            "enqueue_in on a {} connection needs a {} for the backend '{alias}', and it is a {}",
            D::BACKEND_NAME.trim_end_matches("Backend"),
            D::BACKEND_NAME,
            backend.name()
        )));
    };
    sql.enqueue_batch_on(conn, tasks, batch).await
}

/// Whether a database can hold `text` (no U+0000); a lookup by text it cannot hold finds
/// nothing.
fn storable(text: &str) -> bool {
    !text.contains('\0')
}

/// Refuses to make a pool outside a Tokio runtime (sqlx's pools start a background task, and
/// would panic).
pub(crate) fn needs_runtime(backend: &str) -> Result<()> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(Error::InvalidTaskBackend(format!(
            "{backend} makes its connection pool inside a Tokio runtime: build the task system \
             (Tasks::from_config, {backend}::connect_lazy, ::open) from async code or inside \
             Runtime::block_on"
        )));
    }
    Ok(())
}

/// The `URL` option of a backend that takes only that one.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn url_option<'a>(
    backend: &str,
    alias: &str,
    options: &'a serde_json::Map<String, serde_json::Value>,
) -> Result<&'a str> {
    if let Some(key) = options.keys().find(|k| k.as_str() != "URL") {
        return Err(Error::InvalidTaskBackend(format!(
            "{backend} takes the option URL, not {key:?} (backend '{alias}')"
        )));
    }
    options
        .get("URL")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            Error::InvalidTaskBackend(format!(
                "{backend} needs the option URL as a string (backend '{alias}')"
            ))
        })
}

/// Microseconds since the epoch.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A time from microseconds since the epoch.
pub(crate) fn from_micros(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.and_then(|m| Utc.timestamp_micros(m).single())
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The columns every dialect selects (18), in this order, with these types: text, text, text, text,
/// integer (priority), text (status), text (args JSON), text or NULL (return value JSON), text
/// (errors JSON), text (worker ids JSON), integer (max attempts), then five times as integer
/// microseconds or NULL (enqueued, run after, started, finished, last attempted), integer or
/// NULL (timeout in ms), text or NULL (unique key).
/// Decodes a row of those columns into a result.
pub(crate) fn decode<R>(row: &R) -> Result<TaskResult>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let json = |text: String| -> Result<serde_json::Value> {
        serde_json::from_str(&text).map_err(Error::Decode)
    };
    let status: String = row.try_get(5)?;
    let return_value: Option<String> = row.try_get(7)?;
    let errors: String = row.try_get(8)?;
    let worker_ids: String = row.try_get(9)?;
    Ok(TaskResult {
        id: TaskId::from(row.try_get::<String, _>(0)?),
        task_name: row.try_get(1)?,
        backend: row.try_get(2)?,
        queue_name: row.try_get(3)?,
        priority: i32::try_from(row.try_get::<i64, _>(4)?).unwrap_or_default(),
        status: status.parse()?,
        args: json(row.try_get(6)?)?,
        return_value: return_value.map(json).transpose()?,
        errors: serde_json::from_str(&errors).map_err(Error::Decode)?,
        worker_ids: serde_json::from_str(&worker_ids).map_err(Error::Decode)?,
        max_attempts: u32::try_from(row.try_get::<i64, _>(10)?).unwrap_or(1),
        enqueued_at: from_micros(Some(row.try_get(11)?)).unwrap_or_default(),
        run_after: from_micros(row.try_get(12)?),
        started_at: from_micros(row.try_get(13)?),
        finished_at: from_micros(row.try_get(14)?),
        last_attempted_at: from_micros(row.try_get(15)?),
        timeout: row
            .try_get::<Option<i64>, _>(16)?
            .map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0))),
        unique_key: row.try_get(17)?,
    })
}

/// Decodes `(queue, status, count)` rows.
pub(crate) fn decode_counts<R>(rows: &[R]) -> Result<Vec<(String, String, i64)>>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .collect()
}

/// Placeholders `?, ?, …` for `n` values.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}
