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

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, OnceCell};

use crate::backend::{Backend, BackendContext, Capabilities, Lease, NewTask, ResultFilter};
use crate::task::BoxFuture;
use crate::{
    Error, PreparedTask, Queue, Result, TaskId, TaskResult, TaskResultStatus, Tasks, WorkerId,
};

/// The dialect methods whose only difference between databases is their SQL text, written
/// once: a dialect's `impl` names its statements (`request_cancel` binds the task id, `pause`
/// and `resume` the queue name, `counts` selects queue, status and count, `set_limit` binds
/// the queue name and its limit or NULL, `reset_limit` the queue name, `save_metadata` the
/// metadata JSON, the task id, the worker id and the attempt, and changes a `RUNNING` row;
/// the operator's `retry` binds the time and the task id, `run_now` the time, the task id and
/// the time again, `delete` the task id; `finished_since` binds a time and selects queue,
/// status and count, `oldest_due` and `workers` bind the time now and select a name and a time
/// in microseconds; `time` turns a time into what the database binds).
macro_rules! plain_statements {
    (
        request_cancel: $request_cancel:expr,
        pause: $pause:expr,
        resume: $resume:expr,
        counts: $counts:expr,
        set_limit: $set_limit:expr,
        reset_limit: $reset_limit:expr,
        save_metadata: $save_metadata:expr,
        retry: $retry:expr,
        run_now: $run_now:expr,
        delete: $delete:expr,
        finished_since: $finished_since:expr,
        oldest_due: $oldest_due:expr,
        workers: $workers:expr,
        time: $time:expr $(,)?
    ) => {
        fn retry_one<'a>(&'a self, id: &'a str, now: DateTime<Utc>) -> BoxFuture<'a, Result<bool>> {
            Box::pin(async move {
                let done = sqlx::query($retry)
                    .bind($time(now))
                    .bind(id)
                    .execute(&self.pool)
                    .await;
                match done {
                    Ok(done) => Ok(done.rows_affected() == 1),
                    // Another READY or RUNNING task holds its unique key: it stays FAILED.
                    Err(sqlx::Error::Database(err)) if err.is_unique_violation() => Ok(false),
                    Err(err) => Err(err.into()),
                }
            })
        }

        fn run_now_one<'a>(
            &'a self,
            id: &'a str,
            now: DateTime<Utc>,
        ) -> BoxFuture<'a, Result<bool>> {
            Box::pin(async move {
                let done = sqlx::query($run_now)
                    .bind($time(now))
                    .bind(id)
                    .bind($time(now))
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            })
        }

        fn delete_one<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool>> {
            Box::pin(async move {
                let done = sqlx::query($delete).bind(id).execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            })
        }

        fn activity_rows(
            &self,
            since: DateTime<Utc>,
            now: DateTime<Utc>,
        ) -> BoxFuture<'_, Result<super::ActivityRows>> {
            Box::pin(async move {
                let finished = sqlx::query($finished_since)
                    .bind($time(since))
                    .fetch_all(&self.pool)
                    .await?;
                let oldest = sqlx::query($oldest_due)
                    .bind($time(now))
                    .fetch_all(&self.pool)
                    .await?;
                let workers = sqlx::query($workers)
                    .bind($time(now))
                    .fetch_all(&self.pool)
                    .await?;
                Ok(super::ActivityRows {
                    finished: super::decode_counts(&finished)?,
                    oldest_due: super::decode_timed(&oldest)?,
                    workers: super::decode_timed(&workers)?,
                })
            })
        }

        fn save_metadata<'a>(
            &'a self,
            worker_id: &'a WorkerId,
            lease: &'a Lease,
            metadata: &'a str,
        ) -> BoxFuture<'a, Result<bool>> {
            Box::pin(async move {
                let done = sqlx::query($save_metadata)
                    .bind(metadata)
                    .bind(lease.0.as_str())
                    .bind(worker_id.as_str())
                    .bind(i64::from(lease.1))
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            })
        }

        fn set_limit<'a>(
            &'a self,
            queue: &'a str,
            limit: $crate::QueueLimit,
        ) -> BoxFuture<'a, Result<()>> {
            Box::pin(async move {
                let query = match limit {
                    $crate::QueueLimit::Configured => sqlx::query($reset_limit).bind(queue),
                    $crate::QueueLimit::Unlimited => {
                        sqlx::query($set_limit).bind(queue).bind(None::<i32>)
                    }
                    $crate::QueueLimit::AtMost(n) => sqlx::query($set_limit)
                        .bind(queue)
                        .bind(Some(i32::try_from(n).unwrap_or(i32::MAX))),
                };
                query.execute(&self.pool).await?;
                Ok(())
            })
        }

        fn queue_states(&self) -> BoxFuture<'_, Result<super::QueueStates>> {
            Box::pin(async move {
                // One read for both, before each claim.
                let found = sqlx::query(
                    "SELECT queue_name, 'paused', NULL FROM djrs_task_paused \
                     UNION ALL SELECT queue_name, 'limit', max_running FROM djrs_task_limit",
                )
                .fetch_all(&self.pool)
                .await?;
                super::decode_queue_states(&found)
            })
        }

        fn counts(&self) -> BoxFuture<'_, Result<Vec<(String, String, i64)>>> {
            Box::pin(async move {
                let found = sqlx::query($counts).fetch_all(&self.pool).await?;
                super::decode_counts(&found)
            })
        }

        fn request_cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool>> {
            Box::pin(async move {
                let done = sqlx::query($request_cancel)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            })
        }

        fn set_paused<'a>(&'a self, queue: &'a str, paused: bool) -> BoxFuture<'a, Result<()>> {
            Box::pin(async move {
                let sql = if paused { $pause } else { $resume };
                sqlx::query(sql).bind(queue).execute(&self.pool).await?;
                Ok(())
            })
        }

    };
}

mod listing;
#[cfg(feature = "mysql")]
mod mysql;
mod queue;
mod rows;
mod transition;

pub(crate) use listing::*;
pub(crate) use rows::*;
pub(crate) use transition::Transition;
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

mod dialect;

pub use dialect::Dialect;
pub(crate) use dialect::{Claim, Conn, QueueSet};

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
    /// Wakes this process's workers when a cancel is requested (from here, or announced).
    cancels: Arc<Notify>,
    listener: Arc<OnceCell<Option<ListenerTask>>>,
    queue_limits: Arc<BTreeMap<String, u32>>,
}

impl<D: Dialect> Clone for SqlBackend<D> {
    fn clone(&self) -> Self {
        SqlBackend {
            dialect: Arc::clone(&self.dialect),
            migrated: Arc::clone(&self.migrated),
            notify: Arc::clone(&self.notify),
            cancels: Arc::clone(&self.cancels),
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
            cancels: Arc::new(Notify::new()),
            listener: Arc::new(OnceCell::new()),
            queue_limits: Arc::default(),
        }
    }

    /// The pool, e.g. to read the tables in tests or dashboards, or to share with the
    /// application.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Tasks};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let backend = SqliteBackend::open(dir.path().join("q.sqlite3"))?;
    /// let pool = backend.pool().clone();
    /// let tasks = Tasks::builder().backend("default", backend).build()?;
    /// ping.enqueue(&tasks).await?;
    /// let (ready,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM djrs_task WHERE status = 'READY'")
    ///     .fetch_one(&pool)
    ///     .await
    ///     .unwrap();
    /// assert_eq!(ready, 1);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn pool(&self) -> &sqlx::Pool<D::Db> {
        self.dialect.pool()
    }

    /// Runs at most `limit` tasks of `queue` at once across every worker on every machine
    /// (Oban Pro's global limit). Claims from a limited queue lock the queue for the length of
    /// the claim and count its running tasks, so the limit holds under races.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, Task, Tasks, Worker};
    ///
    /// static RUNNING: AtomicUsize = AtomicUsize::new(0);
    /// static MOST: AtomicUsize = AtomicUsize::new(0);
    ///
    /// #[task(queue_name = "reports")]
    /// async fn report() {
    ///     let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
    ///     MOST.fetch_max(now, Ordering::SeqCst);
    ///     tokio::time::sleep(Duration::from_millis(20)).await;
    ///     RUNNING.fetch_sub(1, Ordering::SeqCst);
    /// }
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let backend = SqliteBackend::open(dir.path().join("q.sqlite3"))?.queue_limit("reports", 1);
    /// let tasks = Tasks::builder()
    ///     .backend("default", backend)
    ///     .queues("default", ["reports"])
    ///     .build()?;
    /// for _ in 0..3 {
    ///     report.enqueue(&tasks).await?;
    /// }
    /// let stats = Worker::new(&tasks).queues(["reports"]).concurrency(8).run_until_idle().await?;
    /// assert_eq!(stats.succeeded, 3);
    /// assert_eq!(MOST.load(Ordering::SeqCst), 1); // the limit, not the worker's concurrency
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn queue_limit(mut self, queue: impl Into<String>, limit: u32) -> Self {
        Arc::make_mut(&mut self.queue_limits).insert(queue.into(), limit);
        self
    }

    /// Applies the schema migrations not yet applied. Runs once per backend value on first use;
    /// safe when several processes start at once.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::SqliteBackend;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let backend = SqliteBackend::open(dir.path().join("q.sqlite3"))?;
    /// backend.migrate().await?;
    /// backend.migrate().await?; // applied once
    /// let (tables,): (i64,) =
    ///     sqlx::query_as("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'djrs_task'")
    ///         .fetch_one(backend.pool())
    ///         .await
    ///         .unwrap();
    /// assert_eq!(tables, 1);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
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
        Ok(ctx.announce(stored))
    }

    /// Starts the wake-up loop once, where the database has one.
    async fn ensure_listener(&self) {
        let wakes = dialect::Wakes {
            enqueued: Arc::clone(&self.notify),
            cancel: Arc::clone(&self.cancels),
        };
        self.listener
            .get_or_init(|| async move {
                self.dialect
                    .listen(wakes)
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
        // Paused queues are skipped, whoever paused them; limits set at run time hold from now.
        let states = self.dialect.queue_states().await?;
        let paused = states.paused;
        let limits = crate::store::effective_limits(&self.queue_limits, &states.limits);
        // Limited queues among the worker's (all of them for a worker of every queue).
        let limited: Vec<(&String, u32)> = limits
            .iter()
            .filter(|(q, _)| queues.is_empty() || queues.contains(q))
            .filter(|(q, _)| !paused.contains(q))
            .map(|(q, n)| (q, *n))
            .collect();
        let free: Vec<String> = queues
            .iter()
            .filter(|q| !limits.contains_key(*q) && !paused.contains(q))
            .cloned()
            .collect();
        let limited_names: Vec<String> = limits.keys().chain(&paused).cloned().collect();
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
        Box::pin(async move { Ok(ctx.announce(self.insert(batch).await?)) })
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
