//! SQLite: the embedded queue on one file. WAL mode, a busy timeout, and every write in
//! `BEGIN IMMEDIATE`, so writers queue for the lock instead of failing; times are the process's
//! clock (one machine).

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row};

use super::{Claim, Conn, Dialect, SqlBackend, Transition, decode, micros, millis};
use crate::backend::stored::metadata_json;
use crate::backend::{Lease, NewTask, ResultFilter};
use crate::task::BoxFuture;
use crate::{Error, Result, TaskId, TaskResult, WorkerId};

mod migrations;
use migrations::MIGRATIONS;

const COLUMNS: &str = "id, task_name, backend, queue_name, priority, status, args, return_value, errors, \
    worker_ids, max_attempts, enqueued_at, run_after, started_at, finished_at, last_attempted_at, timeout_ms, unique_key, metadata";

/// SQLite, through sqlx.
#[derive(Debug)]
pub struct Sqlite {
    pool: SqlitePool,
    /// The pool came from the application: check its settings before first use.
    check_pool: bool,
}

impl super::dialect::sealed::Sealed for Sqlite {}

/// The embedded task queue on one SQLite file (Django's `TASKS` `BACKEND: "SqliteBackend"`,
/// `OPTIONS: {"PATH": "tasks.sqlite3"}` or `{"URL": "sqlite://…"}`).
///
/// The schema is created on first use. Workers in any number of processes share the file:
/// every write is a `BEGIN IMMEDIATE` transaction, so a task is never claimed twice.
pub type SqliteBackend = SqlBackend<Sqlite>;

/// The pool options the backend needs: WAL (readers never block the writer), `synchronous =
/// NORMAL` (durable at checkpoints, safe in WAL), a busy timeout of 30 s (writers wait for the
/// lock rather than fail), and the file created when missing.
///
/// ```
/// let options = djrs_tasks::sqlite_connect_options("sqlite://tasks.sqlite3")?;
/// assert_eq!(options.get_filename().file_name().unwrap(), "tasks.sqlite3");
/// # Ok::<(), djrs_tasks::Error>(())
/// ```
///
/// # Errors
/// `InvalidTaskBackend` for a URL sqlx cannot parse.
pub fn sqlite_connect_options(url: &str) -> Result<SqliteConnectOptions> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|err| Error::InvalidTaskBackend(format!("invalid SQLite URL: {err}")))?;
    Ok(with_queue_settings(options))
}

fn with_queue_settings(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT)
}

/// The busy timeout the backend's own pools use, and the least it accepts from a given pool.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
const MIN_BUSY_TIMEOUT: Duration = Duration::from_secs(1);

impl SqlBackend<Sqlite> {
    /// A backend on the file at `path`, created if missing. Connects lazily.
    ///
    /// ```
    /// use djrs_tasks::SqliteBackend;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("tasks.sqlite3");
    /// // The pool needs a Tokio runtime.
    /// assert!(SqliteBackend::open(&path).is_err());
    /// # tokio_test::block_on(async {
    /// let backend = SqliteBackend::open(&path)?;
    /// assert!(!path.exists()); // connects lazily
    /// backend.migrate().await?;
    /// assert!(path.exists());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `InvalidTaskBackend` outside a Tokio runtime (the pool needs one).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        super::needs_runtime("SqliteBackend")?;
        Ok(Self::with_options(
            SqliteConnectOptions::new().filename(path),
        ))
    }

    /// A backend on a `sqlite://FILE` URL, created if missing. Connects lazily.
    ///
    /// ```
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::SqliteBackend;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("tasks.sqlite3");
    /// let backend = SqliteBackend::from_url(&format!("sqlite://{}", path.display()))?;
    /// backend.migrate().await?;
    /// assert!(path.exists());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `InvalidTaskBackend` for a URL sqlx cannot parse.
    pub fn from_url(url: &str) -> Result<Self> {
        super::needs_runtime("SqliteBackend")?;
        let options = SqliteConnectOptions::from_str(url).map_err(|err| {
            Error::InvalidTaskBackend(format!("invalid SQLite URL {url:?}: {err}"))
        })?;
        Ok(Self::with_options(options))
    }

    fn with_options(options: SqliteConnectOptions) -> Self {
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_lazy_with(with_queue_settings(options));
        SqlBackend::with_dialect(Sqlite {
            pool,
            check_pool: false,
        })
    }

    /// A backend on an existing pool, e.g. the application's own so that
    /// [`enqueue_in`](crate::EnqueueIn) shares its transactions.
    ///
    /// The queue needs what [`sqlite_connect_options`](crate::sqlite_connect_options) sets:
    /// WAL and a busy timeout. Before its first use the backend checks one connection of the
    /// pool: it turns WAL on (a property of the database file, kept for later connections) and
    /// refuses a pool whose busy timeout is under a second, which would fail writes with
    /// "database is locked" under load; every operation then returns that error.
    ///
    /// ```
    /// use djrs_tasks::{sqlite_connect_options, SqliteBackend};
    /// use sqlx::sqlite::SqlitePoolOptions;
    ///
    /// # tokio_test::block_on(async {
    /// let dir = tempfile::tempdir().unwrap();
    /// let url = format!("sqlite://{}", dir.path().join("app.sqlite3").display());
    /// let pool = SqlitePoolOptions::new().connect_with(sqlite_connect_options(&url)?).await.unwrap();
    /// let backend = SqliteBackend::from_pool(pool);
    /// backend.migrate().await?; // checks the pool, then creates the tables
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn from_pool(pool: SqlitePool) -> Self {
        SqlBackend::with_dialect(Sqlite {
            pool,
            check_pool: true,
        })
    }

    pub(crate) fn from_options(
        alias: &str,
        options: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self> {
        let text = |key: &str| options.get(key).and_then(serde_json::Value::as_str);
        if let Some(key) = options
            .keys()
            .find(|k| !matches!(k.as_str(), "PATH" | "URL"))
        {
            return Err(Error::InvalidTaskBackend(format!(
                "SqliteBackend takes the options PATH or URL, not {key:?} (backend '{alias}')"
            )));
        }
        match (text("PATH"), text("URL")) {
            (Some(path), None) => SqlBackend::open(path),
            (None, Some(url)) => SqlBackend::from_url(url),
            _ => Err(Error::InvalidTaskBackend(format!(
                "SqliteBackend needs exactly one of the options PATH or URL as a string (backend '{alias}')"
            ))),
        }
    }
}

inventory::submit! {
    crate::tasks::BackendFactory::new("SqliteBackend", |alias, config| {
        Ok(std::sync::Arc::new(SqlBackend::<Sqlite>::from_options(alias, &config.options)?))
    })
}

impl crate::EnqueueIn for &mut sqlx::SqliteConnection {
    fn enqueue_batch_in<'a>(
        self,
        tasks: &'a crate::Tasks,
        batch: Vec<crate::PreparedTask>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>>
    where
        Self: 'a,
    {
        Box::pin(super::enqueue_in::<Sqlite>(self, tasks, batch))
    }
}

/// Refuses a pool whose busy timeout is too short; switches its database to WAL.
async fn check_pool(pool: &SqlitePool) -> Result<()> {
    let mut conn = pool.acquire().await?;
    let busy_ms: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await?;
    if busy_ms < millis(MIN_BUSY_TIMEOUT) {
        return Err(Error::InvalidTaskBackend(format!(
            "the SQLite pool's busy timeout is {busy_ms} ms: concurrent writers would fail with \
             \"database is locked\"; build the pool with djrs_tasks::sqlite_connect_options \
             (or .busy_timeout(Duration::from_secs(30)))"
        )));
    }
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await?;
    if !mode.eq_ignore_ascii_case("wal") {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode = WAL")
            .fetch_one(&mut *conn)
            .await?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::InvalidTaskBackend(format!(
                "the SQLite database cannot use WAL (journal_mode is {mode}): an in-memory \
                 database cannot hold a queue that workers share; use a file"
            )));
        }
        tracing::info!(target: "djrs_tasks", "switched the SQLite database to WAL for the task queue");
    }
    Ok(())
}

fn rows(rows: &[sqlx::sqlite::SqliteRow]) -> Result<Vec<TaskResult>> {
    rows.iter().map(decode).collect()
}

impl Sqlite {
    /// Applies `transitions` in one write transaction, returning `returning` of each changed
    /// row.
    async fn run_apply(
        &self,
        transitions: &[Transition],
        now: DateTime<Utc>,
        returning: &str,
    ) -> Result<Vec<sqlx::sqlite::SqliteRow>> {
        let sql = format!(
            "UPDATE djrs_task SET status = ?1, \
               return_value = COALESCE(?2, return_value), \
               errors = CASE WHEN ?3 IS NULL THEN errors ELSE json_insert(errors, '$[#]', json(?3)) END, \
               run_after = CASE WHEN ?1 = 'READY' THEN ?4 ELSE run_after END, \
               finished_at = CASE WHEN ?1 IN ('FAILED', 'SUCCESSFUL') THEN ?5 ELSE finished_at END, \
               worker_ids = CASE WHEN ?6 THEN json_remove(worker_ids, '$[#-1]') ELSE worker_ids END, \
               worker_id = NULL, lease_expires_at = NULL \
             WHERE id = ?7 AND status = ?8 AND (?9 IS NULL OR worker_id = ?9) \
               AND (?10 IS NULL OR json_array_length(worker_ids) = ?10) \
               AND (NOT ?11 OR lease_expires_at < ?5) \
             RETURNING {returning}"
        );
        let now = micros(now);
        let mut changed = Vec::with_capacity(transitions.len());
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for t in transitions {
            let (status, worker, attempt, expired) = t.guard.parts();
            let row = sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(t.status.as_str())
                .bind(t.return_value.as_deref())
                .bind(t.error.as_deref())
                .bind(t.run_after.map(micros))
                .bind(now)
                .bind(t.refund)
                .bind(t.id.as_str())
                .bind(status)
                .bind(worker)
                .bind(attempt)
                .bind(expired)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = row {
                changed.push(row);
            }
        }
        tx.commit().await?;
        Ok(changed)
    }
}

impl Dialect for Sqlite {
    type Db = sqlx::Sqlite;

    const BACKEND_NAME: &'static str = "SqliteBackend";

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    fn migrate(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            if self.check_pool {
                check_pool(&self.pool).await?;
            }
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS djrs_tasks_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
            )
            .execute(&mut *tx)
            .await?;
            let applied: i64 =
                sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM djrs_tasks_migrations")
                    .fetch_one(&mut *tx)
                    .await?;
            for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > applied) {
                sqlx::raw_sql(*sql).execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO djrs_tasks_migrations (version, applied_at) VALUES (?, ?)",
                )
                .bind(version)
                .bind(micros(Utc::now()))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn begin(&self) -> BoxFuture<'_, Result<sqlx::Transaction<'static, sqlx::Sqlite>>> {
        Box::pin(async move { Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?) })
    }

    fn insert<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        batch: &'a [NewTask],
    ) -> BoxFuture<'a, Result<HashSet<TaskId>>> {
        Box::pin(async move {
            let mut inserted = HashSet::new();
            // Multi-row inserts: 12 values a row keeps 80 rows under SQLite's parameter limit.
            for chunk in batch.chunks(80) {
                let rows =
                    vec!["(?, ?, ?, ?, ?, 'READY', ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
                let sql = format!(
                    "INSERT INTO djrs_task (id, task_name, backend, queue_name, priority, status, args, \
                     max_attempts, enqueued_at, run_after, timeout_ms, unique_key, metadata) VALUES {rows} \
                     ON CONFLICT DO NOTHING RETURNING id"
                );
                let mut query = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
                for task in chunk {
                    query = query
                        .bind(task.id.as_str())
                        .bind(&task.task_name)
                        .bind(&task.backend)
                        .bind(&task.queue_name)
                        .bind(task.priority)
                        .bind(task.args.to_string())
                        .bind(i64::from(task.max_attempts))
                        .bind(micros(task.enqueued_at))
                        .bind(task.run_after.map(micros))
                        .bind(task.timeout.map(millis))
                        .bind(task.unique_key.as_deref())
                        .bind(metadata_json(&task.metadata)?);
                }
                inserted.extend(
                    query
                        .fetch_all(&mut *conn)
                        .await?
                        .into_iter()
                        .map(TaskId::from),
                );
            }
            Ok(inserted)
        })
    }

    fn holder_of<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskResult>>> {
        Box::pin(async move {
            let row = sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM djrs_task WHERE unique_key = ? AND status IN ('READY', 'RUNNING')"
            )))
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
            row.as_ref().map(decode).transpose()
        })
    }

    fn claim_on<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        claim: &'a Claim<'a>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let now = micros(claim.now);
            let lease_until = now.saturating_add(millis(claim.lease).saturating_mul(1000));
            let (queue_filter, queues) = claim.queues.placeholder_filter();
            let sql = format!(
                "UPDATE djrs_task SET status = 'RUNNING', worker_id = ?, started_at = COALESCE(started_at, ?), \
                 last_attempted_at = ?, worker_ids = json_insert(worker_ids, '$[#]', ?), lease_expires_at = ?, \
                 cancel_requested = 0 \
                 WHERE id IN (SELECT id FROM djrs_task WHERE status = 'READY' {queue_filter} \
                   AND (run_after IS NULL OR run_after <= ?) \
                   ORDER BY priority DESC, run_after ASC NULLS LAST, enqueued_at ASC LIMIT ?) \
                 RETURNING {COLUMNS}"
            );
            let mut query = sqlx::query(AssertSqlSafe(sql))
                .bind(claim.worker_id.as_str())
                .bind(now)
                .bind(now)
                .bind(claim.worker_id.as_str())
                .bind(lease_until);
            for queue in queues {
                query = query.bind(queue);
            }
            let found = query
                .bind(now)
                .bind(claim.limit)
                .fetch_all(&mut *conn)
                .await?;
            rows(&found)
        })
    }

    fn lock_queue<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        queue: &'a str,
    ) -> BoxFuture<'a, Result<u64>> {
        // `BEGIN IMMEDIATE` already holds the database's one write lock.
        Box::pin(async move {
            let running: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM djrs_task WHERE status = 'RUNNING' AND queue_name = ?",
            )
            .bind(queue)
            .fetch_one(&mut *conn)
            .await?;
            Ok(u64::try_from(running).unwrap_or(0))
        })
    }

    fn apply<'a>(
        &'a self,
        transitions: &'a [Transition],
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move { rows(&self.run_apply(transitions, now, COLUMNS).await?) })
    }

    fn apply_ids<'a>(
        &'a self,
        transitions: &'a [Transition],
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(async move {
            self.run_apply(transitions, now, "id")
                .await?
                .iter()
                .map(|row| Ok(TaskId::from(row.try_get::<String, _>(0)?)))
                .collect()
        })
    }

    fn renew<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        leases: &'a [Lease],
        lease: Duration,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(async move {
            let until = micros(now).saturating_add(millis(lease).saturating_mul(1000));
            let mut renewed = Vec::with_capacity(leases.len());
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            for (id, attempt) in leases {
                let done = sqlx::query(
                    "UPDATE djrs_task SET lease_expires_at = ? WHERE id = ? AND worker_id = ? \
                     AND status = 'RUNNING' AND json_array_length(worker_ids) = ?",
                )
                .bind(until)
                .bind(id.as_str())
                .bind(worker_id.as_str())
                .bind(i64::from(*attempt))
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 1 {
                    renewed.push(id.clone());
                }
            }
            tx.commit().await?;
            Ok(renewed)
        })
    }

    fn expired(&self, now: DateTime<Utc>, limit: i64) -> BoxFuture<'_, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let found = sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM djrs_task WHERE status = 'RUNNING' AND lease_expires_at < ? LIMIT ?"
            )))
            .bind(micros(now))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            rows(&found)
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskResult>>> {
        Box::pin(async move {
            let row = sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM djrs_task WHERE id = ?"
            )))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(decode).transpose()
        })
    }

    fn list<'a>(&'a self, filter: &'a ResultFilter) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let (clauses, args) = super::list_clauses(filter, |n| format!("?{n}"));
            let sql = format!("SELECT {COLUMNS} FROM djrs_task{clauses}");
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for arg in args {
                query = match arg {
                    super::ListArg::Text(text) => query.bind(text),
                    super::ListArg::Time(time) => query.bind(micros(time)),
                };
            }
            rows(&query.fetch_all(&self.pool).await?)
        })
    }

    fn delete_finished<'a>(
        &'a self,
        older_than: DateTime<Utc>,
        statuses: &'a [&'static str],
        limit: i64,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let sql = format!(
                "DELETE FROM djrs_task WHERE id IN (SELECT id FROM djrs_task \
                 WHERE finished_at < ? AND status IN ({}) LIMIT ?)",
                super::placeholders(statuses.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(micros(older_than));
            for status in statuses {
                query = query.bind(*status);
            }
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let done = query.bind(limit).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(done.rows_affected())
        })
    }

    fn delete_occurrences(&self, older_than: DateTime<Utc>) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let done = sqlx::query("DELETE FROM djrs_task_schedule WHERE occurrence < ?")
                .bind(micros(older_than))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(done.rows_affected())
        })
    }

    fn lead<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let now = micros(now);
            let until = now.saturating_add(millis(ttl).saturating_mul(1000));
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let led = sqlx::query_scalar::<_, String>(
                "INSERT INTO djrs_task_leader (name, holder, expires_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                 WHERE djrs_task_leader.holder = excluded.holder OR djrs_task_leader.expires_at < ?4 \
                 RETURNING holder",
            )
            .bind(name)
            .bind(holder)
            .bind(until)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(led.is_some())
        })
    }

    fn resign<'a>(&'a self, name: &'a str, holder: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            sqlx::query("DELETE FROM djrs_task_leader WHERE name = ? AND holder = ?")
                .bind(name)
                .bind(holder)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn cancel_requests<'a>(&'a self, ids: &'a [TaskId]) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(async move {
            let sql = format!(
                "SELECT id FROM djrs_task WHERE cancel_requested <> 0 AND id IN ({})",
                super::placeholders(ids.len())
            );
            let mut query = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
            for id in ids {
                query = query.bind(id.as_str());
            }
            let found = query.fetch_all(&self.pool).await?;
            Ok(found.into_iter().map(TaskId::from).collect())
        })
    }

    plain_statements! {
        request_cancel: "UPDATE djrs_task SET cancel_requested = 1 WHERE id = ? AND status = 'RUNNING'",
        pause: "INSERT OR IGNORE INTO djrs_task_paused (queue_name) VALUES (?)",
        resume: "DELETE FROM djrs_task_paused WHERE queue_name = ?",
        counts: "SELECT queue_name, status, COUNT(*) FROM djrs_task GROUP BY queue_name, status ORDER BY queue_name, status",
        set_limit: "INSERT INTO djrs_task_limit (queue_name, max_running) VALUES (?, ?) ON CONFLICT (queue_name) DO UPDATE SET max_running = excluded.max_running",
        reset_limit: "DELETE FROM djrs_task_limit WHERE queue_name = ?",
        save_metadata: "UPDATE djrs_task SET metadata = ? WHERE id = ? AND worker_id = ? AND json_array_length(worker_ids) = ? AND status = 'RUNNING'",
        retry: "UPDATE djrs_task SET status = 'READY', run_after = ?1, finished_at = NULL, worker_id = NULL, lease_expires_at = NULL, cancel_requested = 0, max_attempts = MAX(max_attempts, json_array_length(worker_ids) + 1) WHERE id = ?2 AND status = 'FAILED'",
        run_now: "UPDATE djrs_task SET run_after = ?1 WHERE id = ?2 AND status = 'READY' AND run_after > ?3",
        delete: "DELETE FROM djrs_task WHERE id = ?1 AND status <> 'RUNNING'",
        finished_since: "SELECT queue_name, status, COUNT(*) FROM djrs_task WHERE status IN ('FAILED', 'SUCCESSFUL') AND finished_at >= ?1 GROUP BY queue_name, status",
        oldest_due: "SELECT queue_name, MIN(COALESCE(run_after, enqueued_at)) FROM djrs_task WHERE status = 'READY' AND (run_after IS NULL OR run_after <= ?1) GROUP BY queue_name",
        workers: "SELECT holder, expires_at FROM djrs_task_leader WHERE substr(name, 1, 18) = 'djrs_tasks.worker.' AND expires_at > ?1",
        time: micros,
    }

    fn record_occurrence<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        schedule: &'a str,
        occurrence: DateTime<Utc>,
        task_id: &'a TaskId,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let done = sqlx::query(
                "INSERT INTO djrs_task_schedule (name, occurrence, task_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(schedule)
            .bind(micros(occurrence))
            .bind(task_id.as_str())
            .execute(&mut *conn)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn listen(&self, _wakes: super::dialect::Wakes) -> Option<BoxFuture<'static, ()>> {
        None
    }

    fn poll_interval(&self) -> Option<Duration> {
        // Other processes on the same file cannot announce their enqueues.
        Some(Duration::from_millis(25))
    }
}
