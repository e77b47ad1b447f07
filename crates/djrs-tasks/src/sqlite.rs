//! `SqliteBackend`: the embedded queue. One file, WAL mode, versioned migrations, atomic
//! claims shared by any number of worker loops and processes.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::{Notify, OnceCell};

use crate::backend::{Backend, Capabilities, NewTask, Outcome, QueueCounts, ResultFilter};
use crate::task::BoxFuture;
use crate::{Error, Queue, Result, TaskError, TaskResult, TaskResultStatus, Tasks};

/// The schema, one entry per version; applied in order, each once, in one write transaction.
const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "CREATE TABLE djrs_task (
        id TEXT PRIMARY KEY,
        task_name TEXT NOT NULL,
        backend TEXT NOT NULL,
        queue_name TEXT NOT NULL,
        priority INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('READY', 'RUNNING', 'FAILED', 'SUCCESSFUL')),
        args TEXT NOT NULL,
        return_value TEXT,
        errors TEXT NOT NULL DEFAULT '[]',
        worker_ids TEXT NOT NULL DEFAULT '[]',
        max_attempts INTEGER NOT NULL,
        enqueued_at INTEGER NOT NULL,
        run_after INTEGER,
        started_at INTEGER,
        finished_at INTEGER,
        last_attempted_at INTEGER,
        worker_id TEXT,
        lease_expires_at INTEGER
    );
    CREATE INDEX djrs_task_ready ON djrs_task (queue_name, priority DESC, run_after, enqueued_at)
        WHERE status = 'READY';
    CREATE INDEX djrs_task_running ON djrs_task (lease_expires_at) WHERE status = 'RUNNING';
    CREATE INDEX djrs_task_worker ON djrs_task (worker_id) WHERE status = 'RUNNING';
    CREATE INDEX djrs_task_finished ON djrs_task (finished_at) WHERE status IN ('FAILED', 'SUCCESSFUL');",
), (
    2,
    "ALTER TABLE djrs_task ADD COLUMN timeout_ms INTEGER;
    ALTER TABLE djrs_task ADD COLUMN unique_key TEXT;
    CREATE UNIQUE INDEX djrs_task_unique ON djrs_task (unique_key)
        WHERE unique_key IS NOT NULL AND status IN ('READY', 'RUNNING');",
)];

const COLUMNS: &str = "id, task_name, backend, queue_name, priority, status, args, return_value, errors, \
    worker_ids, max_attempts, enqueued_at, run_after, started_at, finished_at, last_attempted_at, timeout_ms, unique_key";

/// The embedded task queue on one SQLite file (Django's `TASKS` `BACKEND: "SqliteBackend"`,
/// `OPTIONS: {"PATH": "tasks.sqlite3"}`).
///
/// The schema is created on first use. Workers in any number of processes share the file:
/// claims run in `BEGIN IMMEDIATE` transactions, so a task is never claimed twice.
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
#[derive(Debug, Clone)]
pub struct SqliteBackend {
    pool: SqlitePool,
    migrated: Arc<OnceCell<()>>,
    notify: Arc<Notify>,
}

impl SqliteBackend {
    /// A backend on the file at `path`, created if missing. Connects lazily.
    ///
    /// # Errors
    /// Never for a path; kept fallible for symmetry with [`from_url`](Self::from_url).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Ok(Self::with_options(
            SqliteConnectOptions::new().filename(path),
        ))
    }

    /// A backend on a `sqlite://FILE` URL, created if missing. Connects lazily.
    ///
    /// # Errors
    /// `InvalidTaskBackend` for a URL sqlx cannot parse.
    pub fn from_url(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url).map_err(|err| {
            Error::InvalidTaskBackend(format!("invalid SQLite URL {url:?}: {err}"))
        })?;
        Ok(Self::with_options(options))
    }

    fn with_options(options: SqliteConnectOptions) -> Self {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_lazy_with(options);
        SqliteBackend::from_pool(pool)
    }

    /// A backend on an existing pool (its connections should use WAL and a busy timeout).
    #[must_use]
    pub fn from_pool(pool: SqlitePool) -> Self {
        SqliteBackend {
            pool,
            migrated: Arc::new(OnceCell::new()),
            notify: Arc::new(Notify::new()),
        }
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
            (Some(path), None) => SqliteBackend::open(path),
            (None, Some(url)) => SqliteBackend::from_url(url),
            _ => Err(Error::InvalidTaskBackend(format!(
                "SqliteBackend needs exactly one of the options PATH or URL as a string (backend '{alias}')"
            ))),
        }
    }

    /// The pool, e.g. to read the tables in tests or dashboards.
    #[must_use]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Applies the schema migrations not yet applied. Runs once per backend value on first use;
    /// safe when several processes start at once.
    ///
    /// # Errors
    /// When the database cannot be written.
    pub async fn migrate(&self) -> Result<()> {
        self.migrated
            .get_or_try_init(|| async {
                let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
                sqlx::query(
                    "CREATE TABLE IF NOT EXISTS djrs_tasks_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
                )
                .execute(&mut *tx)
                .await?;
                let applied: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM djrs_tasks_migrations")
                    .fetch_one(&mut *tx)
                    .await?;
                for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > applied) {
                    sqlx::raw_sql(*sql).execute(&mut *tx).await?;
                    sqlx::query("INSERT INTO djrs_tasks_migrations (version, applied_at) VALUES (?, ?)")
                        .bind(version)
                        .bind(micros(Utc::now()))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok::<(), Error>(())
            })
            .await?;
        Ok(())
    }

    /// Inserts tasks in one transaction. A task whose unique key is already `READY` or
    /// `RUNNING` is not inserted: the existing task is returned in its place (`false`).
    async fn insert(&self, batch: Vec<NewTask>) -> Result<Vec<(TaskResult, bool)>> {
        self.migrate().await?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut inserted = std::collections::HashSet::new();
        // Multi-row inserts: 13 values a row keeps 70 rows under SQLite's parameter limit.
        for chunk in batch.chunks(70) {
            let rows = vec!["(?, ?, ?, ?, ?, 'READY', ?, ?, ?, ?, '[]', '[]', ?, ?)"; chunk.len()]
                .join(", ");
            let sql = format!(
                "INSERT INTO djrs_task (id, task_name, backend, queue_name, priority, status, args, \
                 max_attempts, enqueued_at, run_after, errors, worker_ids, timeout_ms, unique_key) VALUES {rows} \
                 ON CONFLICT DO NOTHING RETURNING id"
            );
            let mut query = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
            for task in chunk {
                query = query
                    .bind(&task.id)
                    .bind(&task.task_name)
                    .bind(&task.backend)
                    .bind(&task.queue_name)
                    .bind(task.priority)
                    .bind(task.args.to_string())
                    .bind(i64::from(task.max_attempts))
                    .bind(micros(task.enqueued_at))
                    .bind(task.run_after.map(micros))
                    .bind(
                        task.timeout
                            .map(|t| i64::try_from(t.as_millis()).unwrap_or(i64::MAX)),
                    )
                    .bind(task.unique_key.as_deref());
            }
            inserted.extend(query.fetch_all(&mut *tx).await?);
        }
        let mut results = Vec::with_capacity(batch.len());
        for task in batch {
            if inserted.contains(&task.id) {
                results.push((task.into_ready_result(), true));
                continue;
            }
            let existing = sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM djrs_task WHERE unique_key = ? AND status IN ('READY', 'RUNNING')"
            )))
            .bind(task.unique_key.as_deref())
            .fetch_optional(&mut *tx)
            .await?;
            match existing {
                Some(row) => results.push((row_to_result(&row)?, false)),
                None => {
                    return Err(Error::InvalidTask(format!(
                        "task {} was neither inserted nor a duplicate",
                        task.id
                    )));
                }
            }
        }
        tx.commit().await?;
        self.notify.notify_waiters();
        Ok(results)
    }
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.and_then(|m| Utc.timestamp_micros(m).single())
}

fn json_column<T: serde::de::DeserializeOwned>(row: &SqliteRow, column: &str) -> Result<T> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(Error::Decode)
}

fn row_to_result(row: &SqliteRow) -> Result<TaskResult> {
    let status: String = row.try_get("status")?;
    let return_value: Option<String> = row.try_get("return_value")?;
    Ok(TaskResult {
        id: row.try_get("id")?,
        task_name: row.try_get("task_name")?,
        status: status.parse()?,
        enqueued_at: from_micros(Some(row.try_get("enqueued_at")?)).unwrap_or_default(),
        started_at: from_micros(row.try_get("started_at")?),
        finished_at: from_micros(row.try_get("finished_at")?),
        last_attempted_at: from_micros(row.try_get("last_attempted_at")?),
        run_after: from_micros(row.try_get("run_after")?),
        args: json_column(row, "args")?,
        backend: row.try_get("backend")?,
        queue_name: row.try_get("queue_name")?,
        priority: row.try_get("priority")?,
        errors: json_column(row, "errors")?,
        worker_ids: json_column(row, "worker_ids")?,
        max_attempts: u32::try_from(row.try_get::<i64, _>("max_attempts")?).unwrap_or(1),
        return_value: return_value
            .map(|v| serde_json::from_str(&v))
            .transpose()
            .map_err(Error::Decode)?,
        timeout: row
            .try_get::<Option<i64>, _>("timeout_ms")?
            .map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0))),
        unique_key: row.try_get("unique_key")?,
    })
}

/// The `UPDATE` recording an outcome, with its two values; the id and the worker follow.
/// Only the worker holding the lease of a `RUNNING` task can complete it.
fn completion(outcome: &Outcome, now: i64) -> (String, String, Option<i64>) {
    let appended = "errors = json_insert(errors, '$[#]', json(?))";
    let (assignments, first, second) = match outcome {
        Outcome::Succeeded(value) => (
            "status = 'SUCCESSFUL', return_value = ?, finished_at = ?".to_owned(),
            value.to_string(),
            Some(now),
        ),
        Outcome::Failed(error) => (
            format!("status = 'FAILED', {appended}, finished_at = ?"),
            crate::store::error_json(error),
            Some(now),
        ),
        Outcome::Retry { error, run_after } => (
            format!("status = 'READY', {appended}, run_after = ?"),
            crate::store::error_json(error),
            Some(micros(*run_after)),
        ),
        Outcome::Interrupted(error) => (
            format!("status = 'READY', {appended}, run_after = ?"),
            crate::store::error_json(error),
            None,
        ),
    };
    let sql = format!(
        "UPDATE djrs_task SET {assignments}, worker_id = NULL, lease_expires_at = NULL \
         WHERE id = ? AND worker_id = ? AND status = 'RUNNING' RETURNING {COLUMNS}"
    );
    (sql, first, second)
}

impl Backend for SqliteBackend {
    fn name(&self) -> &'static str {
        "SqliteBackend"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::all()
    }

    fn enqueue<'a>(&'a self, tasks: &'a Tasks, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
        Box::pin(async move { crate::store::single(self.enqueue_many(tasks, vec![task]).await) })
    }

    fn enqueue_many<'a>(
        &'a self,
        tasks: &'a Tasks,
        batch: Vec<NewTask>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move { Ok(crate::store::announce(tasks, self.insert(batch).await?)) })
    }

    fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
        Box::pin(async move {
            self.migrate().await?;
            let row = sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM djrs_task WHERE id = ?"
            )))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::TaskResultDoesNotExist(id.to_owned()))?;
            row_to_result(&row)
        })
    }

    fn queue(&self) -> Option<&dyn Queue> {
        Some(self)
    }
}

impl Queue for SqliteBackend {
    fn claim<'a>(
        &'a self,
        worker_id: &'a str,
        queues: &'a [String],
        limit: usize,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            self.migrate().await?;
            let now = Utc::now();
            let lease_until =
                now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
            let queue_filter = if queues.is_empty() {
                String::new()
            } else {
                format!("AND queue_name IN ({})", vec!["?"; queues.len()].join(", "))
            };
            let sql = format!(
                "UPDATE djrs_task SET status = 'RUNNING', worker_id = ?, started_at = COALESCE(started_at, ?), \
                 last_attempted_at = ?, worker_ids = json_insert(worker_ids, '$[#]', ?), lease_expires_at = ? \
                 WHERE id IN (SELECT id FROM djrs_task WHERE status = 'READY' {queue_filter} \
                   AND (run_after IS NULL OR run_after <= ?) \
                   ORDER BY priority DESC, run_after ASC NULLS LAST, enqueued_at ASC LIMIT ?) \
                 RETURNING {COLUMNS}"
            );
            let mut query = sqlx::query(AssertSqlSafe(sql))
                .bind(worker_id)
                .bind(micros(now))
                .bind(micros(now))
                .bind(worker_id)
                .bind(micros(lease_until));
            for queue in queues {
                query = query.bind(queue);
            }
            query = query
                .bind(micros(now))
                .bind(i64::try_from(limit).unwrap_or(i64::MAX));
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let rows = query.fetch_all(&mut *tx).await?;
            tx.commit().await?;
            let mut claimed = rows.iter().map(row_to_result).collect::<Result<Vec<_>>>()?;
            claimed.sort_by(crate::store::claim_order);
            Ok(claimed)
        })
    }

    fn complete<'a>(
        &'a self,
        worker_id: &'a str,
        id: &'a str,
        outcome: Outcome,
    ) -> BoxFuture<'a, Result<Option<TaskResult>>> {
        Box::pin(async move {
            let mut results = self
                .complete_many(worker_id, vec![(id.to_owned(), outcome)])
                .await?;
            Ok(results.pop().flatten())
        })
    }

    fn complete_many<'a>(
        &'a self,
        worker_id: &'a str,
        outcomes: Vec<(String, Outcome)>,
    ) -> BoxFuture<'a, Result<Vec<Option<TaskResult>>>> {
        Box::pin(async move {
            let now = micros(Utc::now());
            let mut requeued = false;
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let mut rows = Vec::with_capacity(outcomes.len());
            for (id, outcome) in &outcomes {
                requeued |= matches!(outcome, Outcome::Interrupted(_) | Outcome::Retry { .. });
                let (sql, first, second) = completion(outcome, now);
                let row = sqlx::query(AssertSqlSafe(sql))
                    .bind(first)
                    .bind(second)
                    .bind(id)
                    .bind(worker_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                rows.push(row);
            }
            tx.commit().await?;
            if requeued {
                self.notify.notify_waiters();
            }
            rows.iter()
                .map(|row| row.as_ref().map(row_to_result).transpose())
                .collect()
        })
    }

    fn heartbeat<'a>(
        &'a self,
        worker_id: &'a str,
        ids: &'a [String],
        lease: Duration,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            if ids.is_empty() {
                return Ok(0);
            }
            let until = micros(
                Utc::now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX),
            );
            let mut renewed = 0;
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            for chunk in ids.chunks(500) {
                let sql = format!(
                    "UPDATE djrs_task SET lease_expires_at = ? WHERE worker_id = ? AND status = 'RUNNING' AND id IN ({})",
                    vec!["?"; chunk.len()].join(", ")
                );
                let mut query = sqlx::query(AssertSqlSafe(sql)).bind(until).bind(worker_id);
                for id in chunk {
                    query = query.bind(id);
                }
                renewed += query.execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(renewed)
        })
    }

    fn rescue_expired(&self) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            self.migrate().await?;
            let now = micros(Utc::now());
            let error = crate::store::error_json(&TaskError::new(
                "djrs_tasks::WorkerLost",
                "the worker running this attempt stopped renewing its lease (it crashed or was killed)",
            ));
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let done = sqlx::query(
                "UPDATE djrs_task SET \
                   status = CASE WHEN json_array_length(worker_ids) >= max_attempts THEN 'FAILED' ELSE 'READY' END, \
                   finished_at = CASE WHEN json_array_length(worker_ids) >= max_attempts THEN ? ELSE NULL END, \
                   errors = json_insert(errors, '$[#]', json(?)), worker_id = NULL, lease_expires_at = NULL \
                 WHERE status = 'RUNNING' AND lease_expires_at < ?",
            )
            .bind(now)
            .bind(error)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            if done.rows_affected() > 0 {
                tracing::warn!(target: "djrs_tasks", rescued = done.rows_affected(), "re-queued tasks of workers that stopped");
                self.notify.notify_waiters();
            }
            Ok(done.rows_affected())
        })
    }

    fn notified(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.notify.notified())
    }

    fn prune_results<'a>(
        &'a self,
        older_than: DateTime<Utc>,
        statuses: &'a [TaskResultStatus],
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            self.migrate().await?;
            let finished: Vec<&TaskResultStatus> =
                statuses.iter().filter(|s| s.is_finished()).collect();
            if finished.is_empty() {
                return Ok(0);
            }
            let sql = format!(
                "DELETE FROM djrs_task WHERE finished_at < ? AND status IN ({})",
                vec!["?"; finished.len()].join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(micros(older_than));
            for status in finished {
                query = query.bind(status.as_str());
            }
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let done = query.execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(done.rows_affected())
        })
    }

    fn list_results<'a>(
        &'a self,
        filter: &'a ResultFilter,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            self.migrate().await?;
            let mut sql = format!("SELECT {COLUMNS} FROM djrs_task WHERE 1 = 1");
            if filter.status.is_some() {
                sql.push_str(" AND status = ?");
            }
            if filter.queue_name.is_some() {
                sql.push_str(" AND queue_name = ?");
            }
            if filter.task_name.is_some() {
                sql.push_str(" AND task_name = ?");
            }
            sql.push_str(" ORDER BY enqueued_at DESC, id DESC LIMIT ?");
            let mut query = sqlx::query(AssertSqlSafe(sql));
            if let Some(status) = filter.status {
                query = query.bind(status.as_str());
            }
            if let Some(queue) = &filter.queue_name {
                query = query.bind(queue);
            }
            if let Some(name) = &filter.task_name {
                query = query.bind(name);
            }
            let limit = i64::from(filter.limit.unwrap_or(50).min(500));
            let rows = query.bind(limit).fetch_all(&self.pool).await?;
            rows.iter().map(row_to_result).collect()
        })
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskResult>>> {
        Box::pin(async move {
            self.migrate().await?;
            let error = crate::store::error_json(&TaskError::new(
                "djrs_tasks::Cancelled",
                "the task was cancelled before it ran",
            ));
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let row = sqlx::query(AssertSqlSafe(format!(
                "UPDATE djrs_task SET status = 'FAILED', finished_at = ?, errors = json_insert(errors, '$[#]', json(?)) \
                 WHERE id = ? AND status = 'READY' RETURNING {COLUMNS}"
            )))
            .bind(micros(Utc::now()))
            .bind(error)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            row.as_ref().map(row_to_result).transpose()
        })
    }

    fn counts(&self) -> BoxFuture<'_, Result<QueueCounts>> {
        Box::pin(async move {
            self.migrate().await?;
            let rows = sqlx::query(
                "SELECT queue_name, status, COUNT(*) AS n FROM djrs_task GROUP BY queue_name, status ORDER BY queue_name, status",
            )
            .fetch_all(&self.pool)
            .await?;
            let mut counts = QueueCounts::default();
            for row in rows {
                let status: String = row.try_get("status")?;
                let n: i64 = row.try_get("n")?;
                counts.rows.push((
                    row.try_get("queue_name")?,
                    status.parse()?,
                    u64::try_from(n).unwrap_or(0),
                ));
            }
            Ok(counts)
        })
    }
}
