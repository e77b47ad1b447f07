//! `PostgresBackend`: one queue for many workers on many machines.
//!
//! Claims take batches with `FOR UPDATE SKIP LOCKED`, completions are written in batches with
//! `UNNEST`, enqueues send `NOTIFY` (delivered at commit) so idle workers wake at once, and
//! workers poll as a fallback when a notification is lost.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection, Row};
use tokio::sync::{Notify, OnceCell};

use crate::backend::{Backend, Capabilities, NewTask, Outcome, QueueCounts, ResultFilter};
use crate::task::BoxFuture;
use crate::{Error, Queue, Result, TaskError, TaskResult, TaskResultStatus, Tasks};

/// The channel enqueues notify and workers listen on.
const CHANNEL: &str = "djrs_tasks";
/// Key of the advisory lock that serialises migrations across processes.
const MIGRATION_LOCK: i64 = 0x646a_7273_7461_736b; // "djrstask"

/// The schema, one entry per version; applied in order, each once, under an advisory lock.
const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "CREATE TABLE djrs_task (
        id TEXT PRIMARY KEY,
        task_name TEXT NOT NULL,
        backend TEXT NOT NULL,
        queue_name TEXT NOT NULL,
        priority INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('READY', 'RUNNING', 'FAILED', 'SUCCESSFUL')),
        args JSONB NOT NULL,
        return_value JSONB,
        errors JSONB NOT NULL DEFAULT '[]',
        worker_ids JSONB NOT NULL DEFAULT '[]',
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        enqueued_at TIMESTAMPTZ NOT NULL,
        run_after TIMESTAMPTZ,
        started_at TIMESTAMPTZ,
        finished_at TIMESTAMPTZ,
        last_attempted_at TIMESTAMPTZ,
        worker_id TEXT,
        lease_expires_at TIMESTAMPTZ
    );
    CREATE INDEX djrs_task_ready ON djrs_task (queue_name, priority DESC, run_after ASC NULLS LAST, enqueued_at)
        WHERE status = 'READY';
    CREATE INDEX djrs_task_ready_any ON djrs_task (priority DESC, run_after ASC NULLS LAST, enqueued_at)
        WHERE status = 'READY';
    CREATE INDEX djrs_task_running ON djrs_task (lease_expires_at) WHERE status = 'RUNNING';
    CREATE INDEX djrs_task_finished ON djrs_task (finished_at) WHERE status IN ('FAILED', 'SUCCESSFUL');",
), (
    2,
    "ALTER TABLE djrs_task ADD COLUMN timeout_ms BIGINT, ADD COLUMN unique_key TEXT;
    CREATE UNIQUE INDEX djrs_task_unique ON djrs_task (unique_key)
        WHERE unique_key IS NOT NULL AND status IN ('READY', 'RUNNING');
    CREATE TABLE djrs_task_schedule (
        name TEXT NOT NULL,
        occurrence TIMESTAMPTZ NOT NULL,
        task_id TEXT NOT NULL,
        PRIMARY KEY (name, occurrence)
    );",
)];

const COLUMNS: &str = "id, task_name, backend, queue_name, priority, status, args, return_value, errors, \
    worker_ids, max_attempts, enqueued_at, run_after, started_at, finished_at, last_attempted_at, timeout_ms, unique_key";

/// The task queue on PostgreSQL (`BACKEND: "PostgresBackend"`, `OPTIONS: {"URL": "postgres://…"}`).
///
/// ```no_run
/// use djrs_tasks::{PostgresBackend, Tasks, Worker};
///
/// # async fn demo() -> djrs_tasks::Result<()> {
/// let backend = PostgresBackend::connect_lazy("postgres://postgres@127.0.0.1/app")?;
/// backend.migrate().await?; // or let the first use do it
/// let tasks = Tasks::builder().backend("default", backend).build()?;
/// Worker::new(&tasks).concurrency(64).run_until(std::future::pending()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PostgresBackend {
    pool: PgPool,
    migrated: Arc<OnceCell<()>>,
    notify: Arc<Notify>,
    listener: Arc<OnceCell<ListenerTask>>,
    send_notifications: bool,
    queue_limits: Arc<std::collections::BTreeMap<String, u32>>,
}

/// The background `LISTEN` loop; stopped when the last backend value is dropped.
#[derive(Debug)]
struct ListenerTask(tokio::task::JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl PostgresBackend {
    /// A backend on a new pool for `url`, connecting lazily.
    ///
    /// # Errors
    /// `InvalidTaskBackend` for a URL sqlx cannot parse.
    pub fn connect_lazy(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect_lazy(url)
            .map_err(|err| Error::InvalidTaskBackend(format!("invalid PostgreSQL URL: {err}")))?;
        Ok(PostgresBackend::from_pool(pool))
    }

    /// A backend on an existing pool (the application's own: transactional enqueue then shares
    /// its transactions).
    #[must_use]
    pub fn from_pool(pool: PgPool) -> Self {
        PostgresBackend {
            pool,
            migrated: Arc::new(OnceCell::new()),
            notify: Arc::new(Notify::new()),
            listener: Arc::new(OnceCell::new()),
            send_notifications: true,
            queue_limits: Arc::default(),
        }
    }

    /// Stops sending `NOTIFY` on enqueue (workers then find tasks by polling). For tests of the
    /// poll fallback and for very high enqueue rates where polling is cheaper.
    #[must_use]
    pub fn without_notifications(mut self) -> Self {
        self.send_notifications = false;
        self
    }

    /// Runs at most `limit` tasks of `queue` at once across every worker on every machine
    /// (Oban Pro's global limit). Claims from a limited queue take a transaction-level advisory
    /// lock on the queue and count its running tasks, so the limit holds under races.
    #[must_use]
    pub fn queue_limit(mut self, queue: impl Into<String>, limit: u32) -> Self {
        Arc::make_mut(&mut self.queue_limits).insert(queue.into(), limit);
        self
    }

    pub(crate) fn from_options(
        alias: &str,
        options: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self> {
        if let Some(key) = options.keys().find(|k| k.as_str() != "URL") {
            return Err(Error::InvalidTaskBackend(format!(
                "PostgresBackend takes the option URL, not {key:?} (backend '{alias}')"
            )));
        }
        match options.get("URL").and_then(serde_json::Value::as_str) {
            Some(url) => PostgresBackend::connect_lazy(url),
            None => Err(Error::InvalidTaskBackend(format!(
                "PostgresBackend needs the option URL as a string (backend '{alias}')"
            ))),
        }
    }

    /// The pool.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies the schema migrations not yet applied, under a transaction-level advisory lock so
    /// processes starting together do not race. Runs once per backend value on first use.
    ///
    /// # Errors
    /// When the database cannot be written.
    pub async fn migrate(&self) -> Result<()> {
        self.migrated
            .get_or_try_init(|| async {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATION_LOCK).execute(&mut *tx).await?;
                sqlx::query(
                    "CREATE TABLE IF NOT EXISTS djrs_tasks_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                )
                .execute(&mut *tx)
                .await?;
                let applied: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM djrs_tasks_migrations")
                    .fetch_one(&mut *tx)
                    .await?;
                for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > applied) {
                    sqlx::raw_sql(*sql).execute(&mut *tx).await?;
                    sqlx::query("INSERT INTO djrs_tasks_migrations (version) VALUES ($1)").bind(version).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok::<(), Error>(())
            })
            .await?;
        Ok(())
    }

    /// Inserts tasks on `conn` (the caller's transaction, or a pooled connection) and notifies
    /// their queues; the notification is delivered when the transaction commits. A task whose
    /// unique key is already `READY` or `RUNNING` is not inserted: the existing task is returned
    /// in its place (`false`).
    pub(crate) async fn insert_on(
        &self,
        conn: &mut PgConnection,
        batch: Vec<NewTask>,
    ) -> Result<Vec<(TaskResult, bool)>> {
        let n = batch.len();
        let mut ids = Vec::with_capacity(n);
        let mut names = Vec::with_capacity(n);
        let mut backends = Vec::with_capacity(n);
        let mut queues = Vec::with_capacity(n);
        let mut priorities = Vec::with_capacity(n);
        let mut args = Vec::with_capacity(n);
        let mut max_attempts = Vec::with_capacity(n);
        let mut enqueued = Vec::with_capacity(n);
        let mut run_after = Vec::with_capacity(n);
        let mut timeouts = Vec::with_capacity(n);
        let mut unique_keys = Vec::with_capacity(n);
        for task in &batch {
            ids.push(task.id.as_str());
            names.push(task.task_name.as_str());
            backends.push(task.backend.as_str());
            queues.push(task.queue_name.as_str());
            priorities.push(task.priority);
            args.push(task.args.to_string());
            max_attempts.push(i32::try_from(task.max_attempts).unwrap_or(i32::MAX));
            enqueued.push(task.enqueued_at);
            run_after.push(task.run_after);
            timeouts.push(task.timeout.map(millis));
            unique_keys.push(task.unique_key.as_deref());
        }
        let inserted: Vec<String> = sqlx::query_scalar(
            "INSERT INTO djrs_task (id, task_name, backend, queue_name, priority, status, args, max_attempts, \
               enqueued_at, run_after, timeout_ms, unique_key) \
             SELECT u.id, u.task_name, u.backend, u.queue_name, u.priority, 'READY', u.args::jsonb, u.max_attempts, \
               u.enqueued_at, u.run_after, u.timeout_ms, u.unique_key \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::int[], \
               $8::timestamptz[], $9::timestamptz[], $10::bigint[], $11::text[]) \
               AS u(id, task_name, backend, queue_name, priority, args, max_attempts, enqueued_at, run_after, timeout_ms, unique_key) \
             ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND status IN ('READY', 'RUNNING') DO NOTHING \
             RETURNING id",
        )
        .bind(&ids)
        .bind(&names)
        .bind(&backends)
        .bind(&queues)
        .bind(&priorities)
        .bind(&args)
        .bind(&max_attempts)
        .bind(&enqueued)
        .bind(&run_after)
        .bind(&timeouts)
        .bind(&unique_keys)
        .fetch_all(&mut *conn)
        .await?;
        if self.send_notifications && !inserted.is_empty() {
            let mut distinct: Vec<&str> = queues.clone();
            distinct.sort_unstable();
            distinct.dedup();
            sqlx::query("SELECT pg_notify($1, q) FROM UNNEST($2::text[]) AS q")
                .bind(CHANNEL)
                .bind(&distinct)
                .execute(&mut *conn)
                .await?;
        }
        let inserted: std::collections::HashSet<String> = inserted.into_iter().collect();
        let mut results = Vec::with_capacity(n);
        for task in batch {
            if inserted.contains(&task.id) {
                results.push((task.into_ready_result(), true));
                continue;
            }
            // A duplicate: the task holding the key (committed, since the insert waited for it).
            let row = sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM djrs_task WHERE unique_key = $1 AND status IN ('READY', 'RUNNING')"
            )))
            .bind(task.unique_key.as_deref())
            .fetch_optional(&mut *conn)
            .await?;
            match row {
                Some(row) => results.push((row_to_result(&row)?, false)),
                // The holder finished between the insert and the read: enqueue this one.
                None => {
                    return Box::pin(self.insert_on(conn, vec![task]))
                        .await
                        .map(|mut r| {
                            results.append(&mut r);
                            results
                        });
                }
            }
        }
        Ok(results)
    }

    async fn insert(&self, batch: Vec<NewTask>) -> Result<Vec<(TaskResult, bool)>> {
        self.migrate().await?;
        let mut tx = self.pool.begin().await?;
        let results = self.insert_on(&mut tx, batch).await?;
        tx.commit().await?;
        // Workers of this process wake without waiting for the notification's round trip.
        self.notify.notify_waiters();
        Ok(results)
    }

    /// Starts the `LISTEN` loop once; it reconnects by itself after a lost connection.
    async fn ensure_listener(&self) {
        let pool = self.pool.clone();
        let notify = Arc::clone(&self.notify);
        self.listener
            .get_or_init(|| async move {
                ListenerTask(tokio::spawn(async move {
                    loop {
                        let mut listener = match PgListener::connect_with(&pool).await {
                            Ok(listener) => listener,
                            Err(err) => {
                                tracing::warn!(target: "djrs_tasks", error = %err, "LISTEN connection failed; workers poll meanwhile");
                                tokio::time::sleep(Duration::from_secs(1)).await;
                                continue;
                            }
                        };
                        if let Err(err) = listener.listen(CHANNEL).await {
                            tracing::warn!(target: "djrs_tasks", error = %err, "LISTEN failed; workers poll meanwhile");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            continue;
                        }
                        loop {
                            match listener.try_recv().await {
                                Ok(Some(_)) => notify.notify_waiters(),
                                // The connection dropped (and notifications may be lost): wake
                                // the workers so they look, then listen again.
                                Ok(None) => notify.notify_waiters(),
                                Err(err) => {
                                    tracing::warn!(target: "djrs_tasks", error = %err, "LISTEN connection lost; reconnecting");
                                    notify.notify_waiters();
                                    tokio::time::sleep(Duration::from_millis(500)).await;
                                    break;
                                }
                            }
                        }
                    }
                }))
            })
            .await;
    }
}

fn row_to_result(row: &PgRow) -> Result<TaskResult> {
    let status: String = row.try_get("status")?;
    let Json(args): Json<serde_json::Value> = row.try_get("args")?;
    let return_value: Option<Json<serde_json::Value>> = row.try_get("return_value")?;
    let Json(errors): Json<Vec<TaskError>> = row.try_get("errors")?;
    let Json(worker_ids): Json<Vec<String>> = row.try_get("worker_ids")?;
    Ok(TaskResult {
        id: row.try_get("id")?,
        task_name: row.try_get("task_name")?,
        status: status.parse()?,
        enqueued_at: row.try_get("enqueued_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        last_attempted_at: row.try_get("last_attempted_at")?,
        run_after: row.try_get("run_after")?,
        args,
        backend: row.try_get("backend")?,
        queue_name: row.try_get("queue_name")?,
        priority: row.try_get("priority")?,
        errors,
        worker_ids,
        max_attempts: u32::try_from(row.try_get::<i32, _>("max_attempts")?).unwrap_or(1),
        return_value: return_value.map(|Json(v)| v),
        timeout: row
            .try_get::<Option<i64>, _>("timeout_ms")?
            .map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0))),
        unique_key: row.try_get("unique_key")?,
    })
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The claim statement for a queue filter on `$1`: `$2` tasks at most, for worker `$3`, with a
/// lease of `$4` milliseconds.
fn claim_sql(queue_filter: &str) -> String {
    format!(
        "WITH next AS ( \
           SELECT id FROM djrs_task \
           WHERE status = 'READY' AND {queue_filter} AND (run_after IS NULL OR run_after <= now()) \
           ORDER BY priority DESC, run_after ASC NULLS LAST, enqueued_at ASC \
           LIMIT $2 FOR UPDATE SKIP LOCKED) \
         UPDATE djrs_task t SET status = 'RUNNING', worker_id = $3, \
           started_at = COALESCE(t.started_at, now()), last_attempted_at = now(), \
           worker_ids = t.worker_ids || to_jsonb($3::text), attempts = t.attempts + 1, \
           lease_expires_at = now() + $4 * interval '1 millisecond' \
         FROM next WHERE t.id = next.id \
         RETURNING {}",
        COLUMNS
            .split(", ")
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

impl Backend for PostgresBackend {
    fn name(&self) -> &'static str {
        "PostgresBackend"
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
                "SELECT {COLUMNS} FROM djrs_task WHERE id = $1"
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

    fn as_postgres(&self) -> Option<&PostgresBackend> {
        Some(self)
    }
}

impl Queue for PostgresBackend {
    fn claim<'a>(
        &'a self,
        worker_id: &'a str,
        queues: &'a [String],
        limit: usize,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            self.migrate().await?;
            let mut want = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut claimed = Vec::new();
            // Limited queues among the worker's (all of them for a worker of every queue).
            let limited: Vec<(&String, u32)> = self
                .queue_limits
                .iter()
                .filter(|(q, _)| queues.is_empty() || queues.contains(q))
                .map(|(q, n)| (q, *n))
                .collect();
            let free: Vec<String> = queues
                .iter()
                .filter(|q| !self.queue_limits.contains_key(*q))
                .cloned()
                .collect();
            if queues.is_empty() || !free.is_empty() {
                let (filter, bound): (&str, Vec<String>) = if queues.is_empty() {
                    (
                        "NOT (queue_name = ANY($1))",
                        self.queue_limits.keys().cloned().collect(),
                    )
                } else if free.len() == 1 {
                    // One queue: an equality the partial index serves in claim order.
                    ("queue_name = ($1::text[])[1]", free)
                } else {
                    ("queue_name = ANY($1)", free)
                };
                let rows = sqlx::query(AssertSqlSafe(claim_sql(filter)))
                    .bind(&bound)
                    .bind(want)
                    .bind(worker_id)
                    .bind(millis(lease))
                    .fetch_all(&self.pool)
                    .await?;
                want -= i64::try_from(rows.len()).unwrap_or(0);
                claimed.extend(rows.iter().map(row_to_result).collect::<Result<Vec<_>>>()?);
            }
            for (queue, queue_limit) in limited {
                if want <= 0 {
                    break;
                }
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "SELECT pg_advisory_xact_lock(hashtextextended('djrs_tasks.queue.' || $1, 0))",
                )
                .bind(queue)
                .execute(&mut *tx)
                .await?;
                let running: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM djrs_task WHERE status = 'RUNNING' AND queue_name = $1",
                )
                .bind(queue)
                .fetch_one(&mut *tx)
                .await?;
                let room = (i64::from(queue_limit) - running).min(want);
                if room > 0 {
                    let rows =
                        sqlx::query(AssertSqlSafe(claim_sql("queue_name = ($1::text[])[1]")))
                            .bind(std::slice::from_ref(queue))
                            .bind(room)
                            .bind(worker_id)
                            .bind(millis(lease))
                            .fetch_all(&mut *tx)
                            .await?;
                    want -= i64::try_from(rows.len()).unwrap_or(0);
                    claimed.extend(rows.iter().map(row_to_result).collect::<Result<Vec<_>>>()?);
                }
                tx.commit().await?;
            }
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
            let n = outcomes.len();
            let mut ids = Vec::with_capacity(n);
            let mut statuses = Vec::with_capacity(n);
            let mut values: Vec<Option<String>> = Vec::with_capacity(n);
            let mut errors: Vec<Option<String>> = Vec::with_capacity(n);
            let mut run_after: Vec<Option<DateTime<Utc>>> = Vec::with_capacity(n);
            let mut requeued = false;
            for (id, outcome) in &outcomes {
                ids.push(id.as_str());
                let (status, value, error, after) = match outcome {
                    Outcome::Succeeded(value) => {
                        ("SUCCESSFUL", Some(value.to_string()), None, None)
                    }
                    Outcome::Failed(error) => {
                        ("FAILED", None, Some(crate::store::error_json(error)), None)
                    }
                    Outcome::Retry { error, run_after } => (
                        "READY",
                        None,
                        Some(crate::store::error_json(error)),
                        Some(*run_after),
                    ),
                    Outcome::Interrupted(error) => {
                        ("READY", None, Some(crate::store::error_json(error)), None)
                    }
                };
                requeued |= status == "READY";
                statuses.push(status);
                values.push(value);
                errors.push(error);
                run_after.push(after);
            }
            let sql = format!(
                "UPDATE djrs_task t SET status = u.status, return_value = u.return_value::jsonb, \
                   errors = CASE WHEN u.error IS NULL THEN t.errors ELSE t.errors || jsonb_build_array(u.error::jsonb) END, \
                   finished_at = CASE WHEN u.status IN ('SUCCESSFUL', 'FAILED') THEN now() END, \
                   run_after = CASE WHEN u.status = 'READY' THEN u.run_after ELSE t.run_after END, \
                   worker_id = NULL, lease_expires_at = NULL \
                 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS u(id, status, return_value, error, run_after) \
                 WHERE t.id = u.id AND t.worker_id = $6 AND t.status = 'RUNNING' \
                 RETURNING {}",
                COLUMNS
                    .split(", ")
                    .map(|c| format!("t.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let rows = sqlx::query(AssertSqlSafe(sql))
                .bind(&ids)
                .bind(&statuses)
                .bind(&values)
                .bind(&errors)
                .bind(&run_after)
                .bind(worker_id)
                .fetch_all(&self.pool)
                .await?;
            if requeued {
                self.notify.notify_waiters();
            }
            let mut by_id: std::collections::HashMap<String, TaskResult> = rows
                .iter()
                .map(|row| row_to_result(row).map(|r| (r.id.clone(), r)))
                .collect::<Result<_>>()?;
            Ok(outcomes.iter().map(|(id, _)| by_id.remove(id)).collect())
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
            let done = sqlx::query(
                "UPDATE djrs_task SET lease_expires_at = now() + $1 * interval '1 millisecond' \
                 WHERE worker_id = $2 AND status = 'RUNNING' AND id = ANY($3)",
            )
            .bind(millis(lease))
            .bind(worker_id)
            .bind(ids)
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    fn rescue_expired(&self) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            self.migrate().await?;
            let error = crate::store::error_json(&TaskError::new(
                "djrs_tasks::WorkerLost",
                "the worker running this attempt stopped renewing its lease (it crashed or was killed)",
            ));
            let done = sqlx::query(
                "UPDATE djrs_task SET \
                   status = CASE WHEN attempts >= max_attempts THEN 'FAILED' ELSE 'READY' END, \
                   finished_at = CASE WHEN attempts >= max_attempts THEN now() END, \
                   errors = errors || jsonb_build_array($1::jsonb), worker_id = NULL, lease_expires_at = NULL \
                 WHERE status = 'RUNNING' AND lease_expires_at < now()",
            )
            .bind(error)
            .execute(&self.pool)
            .await?;
            if done.rows_affected() > 0 {
                tracing::warn!(target: "djrs_tasks", rescued = done.rows_affected(), "re-queued tasks of workers that stopped");
                sqlx::query("SELECT pg_notify($1, 'rescued')")
                    .bind(CHANNEL)
                    .execute(&self.pool)
                    .await?;
            }
            Ok(done.rows_affected())
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

    fn prune_results<'a>(
        &'a self,
        older_than: DateTime<Utc>,
        statuses: &'a [TaskResultStatus],
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            self.migrate().await?;
            let finished: Vec<&str> = statuses
                .iter()
                .filter(|s| s.is_finished())
                .map(|s| s.as_str())
                .collect();
            let done =
                sqlx::query("DELETE FROM djrs_task WHERE finished_at < $1 AND status = ANY($2)")
                    .bind(older_than)
                    .bind(&finished)
                    .execute(&self.pool)
                    .await?;
            Ok(done.rows_affected())
        })
    }

    fn list_results<'a>(
        &'a self,
        filter: &'a ResultFilter,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            self.migrate().await?;
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM djrs_task \
                 WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR queue_name = $2) \
                   AND ($3::text IS NULL OR task_name = $3) \
                 ORDER BY enqueued_at DESC, id DESC LIMIT $4"
            )))
            .bind(filter.status.map(TaskResultStatus::as_str))
            .bind(filter.queue_name.as_deref())
            .bind(filter.task_name.as_deref())
            .bind(i64::from(filter.limit.unwrap_or(50).min(500)))
            .fetch_all(&self.pool)
            .await?;
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
            let row = sqlx::query(AssertSqlSafe(format!(
                "UPDATE djrs_task SET status = 'FAILED', finished_at = now(), errors = errors || jsonb_build_array($1::jsonb) \
                 WHERE id = $2 AND status = 'READY' RETURNING {COLUMNS}"
            )))
            .bind(error)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
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
