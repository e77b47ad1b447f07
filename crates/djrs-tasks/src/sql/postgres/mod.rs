//! PostgreSQL: one queue for many workers on many machines. Claims take batches with
//! `FOR UPDATE SKIP LOCKED`, completions are one `UPDATE … FROM UNNEST`, enqueues send `NOTIFY`
//! (delivered at commit) so idle workers wake at once; times are the server's clock.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Row};

use super::{Claim, Conn, Dialect, QueueSet, SqlBackend, Transition, decode, millis};
use crate::backend::stored::metadata_json;
use crate::backend::{Lease, NewTask, ResultFilter};
use crate::task::BoxFuture;
use crate::{Error, Result, TaskId, TaskResult, WorkerId};

/// The channel enqueues notify and workers listen on.
const CHANNEL: &str = "djrs_tasks";
/// The channel that tells workers an operator asked to cancel a running task.
const CANCEL_CHANNEL: &str = "djrs_tasks_cancel";
/// Key of the advisory lock that serialises migrations across processes.
const MIGRATION_LOCK: i64 = 0x646a_7273_7461_736b; // "djrstask"

mod maintenance;
mod migrations;
use migrations::MIGRATIONS;

/// The selected columns in the engine's order and types, for the table alias `t`.
fn columns(t: &str) -> String {
    let us = |c: &str| format!("(extract(epoch FROM {t}{c}) * 1000000)::int8");
    format!(
        "{t}id, {t}task_name, {t}backend, {t}queue_name, {t}priority::int8, {t}status, {t}args::text, \
         {t}return_value::text, {t}errors::text, {t}worker_ids::text, {t}max_attempts::int8, {}, {}, {}, {}, {}, \
         {t}timeout_ms, {t}unique_key, {t}metadata::text",
        us("enqueued_at"),
        us("run_after"),
        us("started_at"),
        us("finished_at"),
        us("last_attempted_at"),
    )
}

/// PostgreSQL, through sqlx.
#[derive(Debug)]
pub struct Postgres {
    pool: PgPool,
    send_notifications: bool,
    columns: String,
    t_columns: String,
}

impl super::dialect::sealed::Sealed for Postgres {}

/// The task queue on PostgreSQL (`BACKEND: "PostgresBackend"`, `OPTIONS: {"URL": "postgres://…"}`):
/// many workers on many machines.
///
/// ```no_run
/// use djrs_tasks::{PostgresBackend, Tasks, Worker};
///
/// # async fn demo() -> djrs_tasks::Result<()> {
/// let backend = PostgresBackend::connect_lazy("postgres://postgres@127.0.0.1/app")?;
/// backend.migrate().await?; // or let the first use do it
/// let tasks = Tasks::builder().backend("default", backend).build()?;
/// Worker::new(&tasks).concurrency(64).run_until(djrs_tasks::shutdown_signal()).await?;
/// # Ok(()) }
/// ```
pub type PostgresBackend = SqlBackend<Postgres>;

impl SqlBackend<Postgres> {
    /// A backend on a new pool for `url`, connecting lazily.
    ///
    /// ```
    /// # #[cfg(feature = "postgres")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::PostgresBackend;
    ///
    /// // No connection is made until the backend is first used.
    /// let backend = PostgresBackend::connect_lazy("postgres://app:secret@db.invalid/app")?;
    /// assert_eq!(backend.pool().size(), 0);
    /// assert_eq!(backend.pool().options().get_max_connections(), 10);
    /// assert!(PostgresBackend::connect_lazy("not a url").is_err());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `InvalidTaskBackend` for a URL sqlx cannot parse.
    pub fn connect_lazy(url: &str) -> Result<Self> {
        super::needs_runtime("PostgresBackend")?;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect_lazy(url)
            .map_err(|err| Error::InvalidTaskBackend(format!("invalid PostgreSQL URL: {err}")))?;
        Ok(Self::from_pool(pool))
    }

    /// A backend on an existing pool (the application's own: transactional enqueue then shares
    /// its transactions).
    ///
    /// ```
    /// # #[cfg(feature = "postgres")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::PostgresBackend;
    /// use sqlx::postgres::PgPoolOptions;
    ///
    /// // The application's pool (connecting lazily here, so nothing is contacted).
    /// let pool = PgPoolOptions::new()
    ///     .max_connections(4)
    ///     .connect_lazy("postgres://app:secret@db.invalid/app")
    ///     .unwrap();
    /// let backend = PostgresBackend::from_pool(pool.clone());
    /// assert_eq!(backend.pool().options().get_max_connections(), 4);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn from_pool(pool: PgPool) -> Self {
        SqlBackend::with_dialect(Postgres {
            pool,
            send_notifications: true,
            columns: columns(""),
            t_columns: columns("t."),
        })
    }

    /// Stops sending `NOTIFY` on enqueue (workers then find tasks by polling). For tests of the
    /// poll fallback and for very high enqueue rates where polling is cheaper.
    ///
    /// ```
    /// # #[cfg(feature = "postgres")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::PostgresBackend;
    ///
    /// let backend = PostgresBackend::connect_lazy("postgres://app:secret@db.invalid/app")?;
    /// assert!(format!("{backend:?}").contains("send_notifications: true"));
    /// let polling = backend.without_notifications();
    /// assert!(format!("{polling:?}").contains("send_notifications: false"));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn without_notifications(self) -> Self {
        let dialect = Postgres {
            pool: self.dialect.pool.clone(),
            send_notifications: false,
            columns: self.dialect.columns.clone(),
            t_columns: self.dialect.t_columns.clone(),
        };
        SqlBackend {
            dialect: Arc::new(dialect),
            ..self
        }
    }

    /// Gives the space of deleted rows back to the operating system, online, now: drops the
    /// invalid indexes an interrupted compaction left, `VACUUM`s the task table (which
    /// truncates its empty tail) and runs `REINDEX TABLE CONCURRENTLY` (which rebuilds its
    /// indexes without blocking enqueues or claims). Autovacuum keeps a churning queue's size
    /// stable but never shrinks it; the workers' pruner runs this daily by default
    /// ([`Retention::compact_every`](crate::Retention::compact_every)), and it can be run by
    /// hand after a burst (a backlog of millions worked off).
    ///
    /// ```no_run
    /// # async fn demo(backend: djrs_tasks::PostgresBackend) -> djrs_tasks::Result<()> {
    /// backend.compact().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// A storage error (for example when another `REINDEX` runs).
    pub async fn compact(&self) -> Result<()> {
        self.migrate().await?;
        self.dialect.compact().await.map(drop)
    }

    pub(crate) fn from_options(
        alias: &str,
        options: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self> {
        Self::connect_lazy(super::url_option("PostgresBackend", alias, options)?)
    }
}

inventory::submit! {
    crate::tasks::BackendFactory::new("PostgresBackend", |alias, config| {
        Ok(std::sync::Arc::new(SqlBackend::<Postgres>::from_options(alias, &config.options)?))
    })
}

impl crate::EnqueueIn for &mut sqlx::PgConnection {
    fn enqueue_batch_in<'a>(
        self,
        tasks: &'a crate::Tasks,
        batch: Vec<crate::PreparedTask>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>>
    where
        Self: 'a,
    {
        Box::pin(super::enqueue_in::<Postgres>(self, tasks, batch))
    }
}

fn rows(rows: &[sqlx::postgres::PgRow]) -> Result<Vec<TaskResult>> {
    rows.iter().map(decode).collect()
}

impl Postgres {
    /// The claim statement for a queue filter on `$1`: `$2` tasks at most, for worker `$3`, with
    /// a lease of `$4` milliseconds.
    fn claim_sql(&self, queue_filter: &str) -> String {
        format!(
            "WITH next AS ( \
               SELECT id FROM djrs_task \
               WHERE status = 'READY' AND {queue_filter} AND (run_after IS NULL OR run_after <= now()) \
               ORDER BY priority DESC, run_after ASC NULLS LAST, enqueued_at ASC \
               LIMIT $2 FOR UPDATE SKIP LOCKED) \
             UPDATE djrs_task t SET status = 'RUNNING', worker_id = $3, \
               started_at = COALESCE(t.started_at, now()), last_attempted_at = now(), \
               worker_ids = t.worker_ids || to_jsonb($3::text), attempts = t.attempts + 1, \
               lease_expires_at = now() + $4 * interval '1 millisecond', cancel_requested = FALSE \
             FROM next WHERE t.id = next.id \
             RETURNING {}",
            self.t_columns
        )
    }

    async fn run_claim<'e, E>(&self, executor: E, claim: &Claim<'_>) -> Result<Vec<TaskResult>>
    where
        E: sqlx::Executor<'e, Database = sqlx::Postgres>,
    {
        let (filter, bound): (&str, &[String]) = match claim.queues {
            QueueSet::AllBut(queues) => ("NOT (queue_name = ANY($1))", queues),
            // One queue: an equality the partial index serves in claim order.
            QueueSet::Only(queues) if queues.len() == 1 => ("queue_name = ($1::text[])[1]", queues),
            QueueSet::Only(queues) => ("queue_name = ANY($1)", queues),
        };
        let found = sqlx::query(AssertSqlSafe(self.claim_sql(filter)))
            .bind(bound)
            .bind(claim.limit)
            .bind(claim.worker_id.as_str())
            .bind(millis(claim.lease))
            .fetch_all(executor)
            .await?;
        rows(&found)
    }
    /// Applies `transitions` in one statement, returning `returning` of each changed row; wakes
    /// other processes' workers when a task became due again at once (rescued, interrupted).
    async fn run_apply(
        &self,
        transitions: &[Transition],
        returning: &str,
    ) -> Result<Vec<sqlx::postgres::PgRow>> {
        let n = transitions.len();
        let mut ids = Vec::with_capacity(n);
        let mut statuses = Vec::with_capacity(n);
        let mut values = Vec::with_capacity(n);
        let mut errors = Vec::with_capacity(n);
        let mut run_after = Vec::with_capacity(n);
        let mut refunds = Vec::with_capacity(n);
        let mut guard_statuses = Vec::with_capacity(n);
        let mut guard_workers = Vec::with_capacity(n);
        let mut guard_attempts = Vec::with_capacity(n);
        let mut guard_expired = Vec::with_capacity(n);
        for t in transitions {
            let (status, worker, attempt, expired) = t.guard.parts();
            ids.push(t.id.as_str());
            statuses.push(t.status.as_str());
            values.push(t.return_value.as_deref());
            errors.push(t.error.as_deref());
            run_after.push(t.run_after);
            refunds.push(t.refund);
            guard_statuses.push(status);
            guard_workers.push(worker);
            guard_attempts.push(attempt.and_then(|a| i32::try_from(a).ok()));
            guard_expired.push(expired);
        }
        let sql = format!(
            "UPDATE djrs_task t SET status = u.status, \
               return_value = COALESCE(u.return_value::jsonb, t.return_value), \
               errors = CASE WHEN u.error IS NULL THEN t.errors ELSE t.errors || jsonb_build_array(u.error::jsonb) END, \
               run_after = CASE WHEN u.status = 'READY' THEN u.run_after ELSE t.run_after END, \
               finished_at = CASE WHEN u.status IN ('SUCCESSFUL', 'FAILED') THEN now() ELSE t.finished_at END, \
               worker_ids = CASE WHEN u.refund THEN t.worker_ids - (jsonb_array_length(t.worker_ids) - 1) ELSE t.worker_ids END, \
               attempts = CASE WHEN u.refund THEN t.attempts - 1 ELSE t.attempts END, \
               worker_id = NULL, lease_expires_at = NULL \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::bool[], \
               $7::text[], $8::text[], $9::int[], $10::bool[]) \
               AS u(id, status, return_value, error, run_after, refund, guard_status, guard_worker, guard_attempt, guard_expired) \
             WHERE t.id = u.id AND t.status = u.guard_status \
               AND (u.guard_worker IS NULL OR t.worker_id = u.guard_worker) \
               AND (u.guard_attempt IS NULL OR t.attempts = u.guard_attempt) \
               AND (NOT u.guard_expired OR t.lease_expires_at < now()) \
             RETURNING {returning}"
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(&ids)
            .bind(&statuses)
            .bind(&values)
            .bind(&errors)
            .bind(&run_after)
            .bind(&refunds)
            .bind(&guard_statuses)
            .bind(&guard_workers)
            .bind(&guard_attempts)
            .bind(&guard_expired)
            .fetch_all(&self.pool)
            .await?;
        if self.send_notifications
            && transitions
                .iter()
                .any(|t| t.status == crate::TaskResultStatus::Ready && t.run_after.is_none())
        {
            sqlx::query("SELECT pg_notify($1, 'requeued')")
                .bind(CHANNEL)
                .execute(&self.pool)
                .await?;
        }
        Ok(found)
    }
}

impl Dialect for Postgres {
    type Db = sqlx::Postgres;

    const BACKEND_NAME: &'static str = "PostgresBackend";

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn migrate(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS djrs_tasks_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            )
            .execute(&mut *tx)
            .await?;
            let applied: i64 =
                sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM djrs_tasks_migrations")
                    .fetch_one(&mut *tx)
                    .await?;
            for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > applied) {
                sqlx::raw_sql(*sql).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO djrs_tasks_migrations (version) VALUES ($1)")
                    .bind(version)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn begin(&self) -> BoxFuture<'_, Result<sqlx::Transaction<'static, sqlx::Postgres>>> {
        Box::pin(async move { Ok(self.pool.begin().await?) })
    }

    fn insert<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        batch: &'a [NewTask],
    ) -> BoxFuture<'a, Result<HashSet<TaskId>>> {
        Box::pin(async move {
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
            let mut metadata = Vec::with_capacity(n);
            for task in batch {
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
                metadata.push(metadata_json(&task.metadata)?);
            }
            let inserted: Vec<String> = sqlx::query_scalar(
                "INSERT INTO djrs_task (id, task_name, backend, queue_name, priority, status, args, max_attempts, \
                   enqueued_at, run_after, timeout_ms, unique_key, metadata) \
                 SELECT u.id, u.task_name, u.backend, u.queue_name, u.priority, 'READY', u.args::jsonb, u.max_attempts, \
                   u.enqueued_at, u.run_after, u.timeout_ms, u.unique_key, u.metadata::jsonb \
                 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::int[], \
                   $8::timestamptz[], $9::timestamptz[], $10::bigint[], $11::text[], $12::text[]) \
                   AS u(id, task_name, backend, queue_name, priority, args, max_attempts, enqueued_at, run_after, timeout_ms, unique_key, metadata) \
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
            .bind(&metadata)
            .fetch_all(&mut *conn)
            .await?;
            Ok(inserted.into_iter().map(TaskId::from).collect())
        })
    }

    fn holder_of<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskResult>>> {
        Box::pin(async move {
            let row = sqlx::query(AssertSqlSafe(format!(
                "SELECT {} FROM djrs_task WHERE unique_key = $1 AND status IN ('READY', 'RUNNING')",
                self.columns
            )))
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
            row.as_ref().map(decode).transpose()
        })
    }

    fn announce<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        queues: &'a [&'a str],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if self.send_notifications {
                sqlx::query("SELECT pg_notify($1, q) FROM UNNEST($2::text[]) AS q")
                    .bind(CHANNEL)
                    .bind(queues)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        })
    }

    fn claim_on<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        claim: &'a Claim<'a>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(self.run_claim(conn, claim))
    }

    fn claim<'a>(&'a self, claim: &'a Claim<'a>) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        // One statement is atomic: no transaction round trips.
        Box::pin(self.run_claim(&self.pool, claim))
    }

    fn lock_queue<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        queue: &'a str,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            sqlx::query(
                "SELECT pg_advisory_xact_lock(hashtextextended('djrs_tasks.queue.' || $1, 0))",
            )
            .bind(queue)
            .execute(&mut *conn)
            .await?;
            let running: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM djrs_task WHERE status = 'RUNNING' AND queue_name = $1",
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
        _now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move { rows(&self.run_apply(transitions, &self.t_columns).await?) })
    }

    fn apply_ids<'a>(
        &'a self,
        transitions: &'a [Transition],
        _now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(async move {
            self.run_apply(transitions, "t.id")
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
        _now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(async move {
            let ids: Vec<&str> = leases.iter().map(|(id, _)| id.as_str()).collect();
            let attempts: Vec<i32> = leases
                .iter()
                .map(|(_, a)| i32::try_from(*a).unwrap_or(i32::MAX))
                .collect();
            let renewed: Vec<String> = sqlx::query_scalar(
                "UPDATE djrs_task t SET lease_expires_at = now() + $1 * interval '1 millisecond' \
                 FROM UNNEST($3::text[], $4::int[]) AS u(id, attempt) \
                 WHERE t.id = u.id AND t.worker_id = $2 AND t.status = 'RUNNING' AND t.attempts = u.attempt \
                 RETURNING t.id",
            )
            .bind(millis(lease))
            .bind(worker_id.as_str())
            .bind(&ids)
            .bind(&attempts)
            .fetch_all(&self.pool)
            .await?;
            Ok(renewed.into_iter().map(TaskId::from).collect())
        })
    }

    fn expired(&self, _now: DateTime<Utc>, limit: i64) -> BoxFuture<'_, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let found = sqlx::query(AssertSqlSafe(format!(
                "SELECT {} FROM djrs_task WHERE status = 'RUNNING' AND lease_expires_at < now() LIMIT $1",
                self.columns
            )))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            rows(&found)
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskResult>>> {
        Box::pin(async move {
            let row = sqlx::query(AssertSqlSafe(format!(
                "SELECT {} FROM djrs_task WHERE id = $1",
                self.columns
            )))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(decode).transpose()
        })
    }

    fn list<'a>(&'a self, filter: &'a ResultFilter) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let (clauses, args) = super::list_clauses(filter, |n| format!("${n}"));
            let sql = format!("SELECT {} FROM djrs_task{clauses}", self.columns);
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for arg in args {
                query = match arg {
                    super::ListArg::Text(text) => query.bind(text),
                    super::ListArg::Time(time) => query.bind(time),
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
            let done = sqlx::query(
                "DELETE FROM djrs_task WHERE id IN (SELECT id FROM djrs_task \
                 WHERE finished_at < $1 AND status = ANY($2) LIMIT $3 FOR UPDATE SKIP LOCKED)",
            )
            .bind(older_than)
            .bind(statuses)
            .bind(limit)
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    fn delete_occurrences(&self, older_than: DateTime<Utc>) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM djrs_task_schedule WHERE occurrence < $1")
                .bind(older_than)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected())
        })
    }

    fn lead<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
        _now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let led: Option<String> = sqlx::query_scalar(
                "INSERT INTO djrs_task_leader (name, holder, expires_at) \
                 VALUES ($1, $2, now() + $3 * interval '1 millisecond') \
                 ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at \
                 WHERE djrs_task_leader.holder = EXCLUDED.holder OR djrs_task_leader.expires_at < now() \
                 RETURNING holder",
            )
            .bind(name)
            .bind(holder)
            .bind(millis(ttl))
            .fetch_optional(&self.pool)
            .await?;
            Ok(led.is_some())
        })
    }

    fn resign<'a>(&'a self, name: &'a str, holder: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query("DELETE FROM djrs_task_leader WHERE name = $1 AND holder = $2")
                .bind(name)
                .bind(holder)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
    }

    fn cancel_requests<'a>(&'a self, ids: &'a [TaskId]) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(async move {
            let ids: Vec<&str> = ids.iter().map(TaskId::as_str).collect();
            let found: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM djrs_task WHERE cancel_requested AND id = ANY($1::text[])",
            )
            .bind(&ids)
            .fetch_all(&self.pool)
            .await?;
            Ok(found.into_iter().map(TaskId::from).collect())
        })
    }

    plain_statements! {
        // The request and its announcement (delivered at commit) in one statement.
        request_cancel: "WITH asked AS (UPDATE djrs_task SET cancel_requested = TRUE WHERE id = $1 AND status = 'RUNNING' RETURNING id) \
             SELECT pg_notify('djrs_tasks_cancel', id) FROM asked",
        pause: "INSERT INTO djrs_task_paused (queue_name) VALUES ($1) ON CONFLICT DO NOTHING",
        resume: "DELETE FROM djrs_task_paused WHERE queue_name = $1",
        counts: "SELECT queue_name, status, COUNT(*) FROM djrs_task GROUP BY queue_name, status ORDER BY queue_name, status",
        set_limit: "INSERT INTO djrs_task_limit (queue_name, max_running) VALUES ($1, $2) ON CONFLICT (queue_name) DO UPDATE SET max_running = excluded.max_running",
        reset_limit: "DELETE FROM djrs_task_limit WHERE queue_name = $1",
        save_metadata: "UPDATE djrs_task SET metadata = $1::jsonb WHERE id = $2 AND worker_id = $3 AND attempts = $4 AND status = 'RUNNING'",
        // Retried and hastened tasks are announced (at commit) as new ones are.
        retry: "WITH changed AS (UPDATE djrs_task SET status = 'READY', run_after = $1, finished_at = NULL, worker_id = NULL, lease_expires_at = NULL, cancel_requested = FALSE, max_attempts = GREATEST(max_attempts, attempts + 1) WHERE id = $2 AND status = 'FAILED' RETURNING queue_name) \
             SELECT pg_notify('djrs_tasks', queue_name) FROM changed",
        run_now: "WITH changed AS (UPDATE djrs_task SET run_after = $1 WHERE id = $2 AND status = 'READY' AND run_after > $3 RETURNING queue_name) \
             SELECT pg_notify('djrs_tasks', queue_name) FROM changed",
        delete: "DELETE FROM djrs_task WHERE id = $1 AND status <> 'RUNNING'",
        finished_since: "SELECT queue_name, status, COUNT(*) FROM djrs_task WHERE status IN ('FAILED', 'SUCCESSFUL') AND finished_at >= $1 GROUP BY queue_name, status",
        oldest_due: "SELECT queue_name, (extract(epoch FROM MIN(COALESCE(run_after, enqueued_at))) * 1000000)::int8 FROM djrs_task WHERE status = 'READY' AND (run_after IS NULL OR run_after <= $1) GROUP BY queue_name",
        workers: "SELECT holder, (extract(epoch FROM expires_at) * 1000000)::int8 FROM djrs_task_leader WHERE substr(name, 1, 18) = 'djrs_tasks.worker.' AND expires_at > $1",
        time: std::convert::identity,
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
                "INSERT INTO djrs_task_schedule (name, occurrence, task_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(schedule)
            .bind(occurrence)
            .bind(task_id.as_str())
            .execute(&mut *conn)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn compact(&self) -> BoxFuture<'_, Result<bool>> {
        Box::pin(async move {
            maintenance::compact(&self.pool).await?;
            Ok(true)
        })
    }

    fn listen(&self, wakes: super::dialect::Wakes) -> Option<BoxFuture<'static, ()>> {
        Some(Box::pin(maintenance::listen(self.pool.clone(), wakes)))
    }
}
