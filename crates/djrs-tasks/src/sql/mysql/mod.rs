//! MySQL 8 and MariaDB ≥ 10.6: claims with `FOR UPDATE SKIP LOCKED` in a transaction (there
//! is no `UPDATE … RETURNING`), unique keys through a generated column (there are no partial
//! indexes), migrations under a named lock (DDL does not roll back), and polling wake-ups with a
//! short interval (there is no `LISTEN`). Times are the server's clock, in microseconds.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};

use super::{Claim, Conn, Dialect, SqlBackend, Transition, decode, micros, millis, placeholders};
use crate::backend::stored::metadata_json;
use crate::backend::{Lease, NewTask, ResultFilter};
use crate::task::BoxFuture;
use crate::{Error, Result, TaskId, TaskResult, WorkerId};

/// The server's time in microseconds since the epoch.
const NOW: &str = "CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)";

mod migrations;
use migrations::MIGRATIONS;

const COLUMNS: &str = "id, task_name, backend, queue_name, CAST(priority AS SIGNED), status, args, return_value, errors, \
    worker_ids, CAST(max_attempts AS SIGNED), enqueued_at, run_after, started_at, finished_at, last_attempted_at, timeout_ms, unique_key, metadata";

/// MySQL and MariaDB, through sqlx.
#[derive(Debug)]
pub struct MySql {
    pool: MySqlPool,
}

impl super::dialect::sealed::Sealed for MySql {}

/// The task queue on MySQL 8 or MariaDB ≥ 10.6 (`BACKEND: "MysqlBackend"`,
/// `OPTIONS: {"URL": "mysql://…"}`): many workers on many machines.
///
/// Workers in other processes find new tasks by polling every 25 ms (workers of the enqueuing
/// process wake at once).
///
/// ```no_run
/// use djrs_tasks::{MysqlBackend, Tasks, Worker};
///
/// # async fn demo() -> djrs_tasks::Result<()> {
/// let backend = MysqlBackend::connect_lazy("mysql://root@127.0.0.1:3306/app")?;
/// let tasks = Tasks::builder().backend("default", backend).build()?;
/// Worker::new(&tasks).concurrency(32).run_until(djrs_tasks::shutdown_signal()).await?;
/// # Ok(()) }
/// ```
pub type MysqlBackend = SqlBackend<MySql>;

impl SqlBackend<MySql> {
    /// A backend on a new pool for `url`, connecting lazily.
    ///
    /// ```
    /// # #[cfg(feature = "mysql")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::MysqlBackend;
    ///
    /// // No connection is made until the backend is first used.
    /// let backend = MysqlBackend::connect_lazy("mysql://app:secret@db.invalid:3306/app")?;
    /// assert_eq!(backend.pool().size(), 0);
    /// assert_eq!(backend.pool().options().get_max_connections(), 10);
    /// assert!(MysqlBackend::connect_lazy("not a url").is_err());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `InvalidTaskBackend` for a URL sqlx cannot parse.
    pub fn connect_lazy(url: &str) -> Result<Self> {
        super::needs_runtime("MysqlBackend")?;
        let pool = MySqlPoolOptions::new()
            .max_connections(10)
            .connect_lazy(url)
            .map_err(|err| Error::InvalidTaskBackend(format!("invalid MySQL URL: {err}")))?;
        Ok(Self::from_pool(pool))
    }

    /// A backend on an existing pool (the application's own: transactional enqueue then shares
    /// its transactions).
    ///
    /// ```
    /// # #[cfg(feature = "mysql")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::MysqlBackend;
    /// use sqlx::mysql::MySqlPoolOptions;
    ///
    /// // The application's pool (connecting lazily here, so nothing is contacted).
    /// let pool = MySqlPoolOptions::new()
    ///     .max_connections(4)
    ///     .connect_lazy("mysql://app:secret@db.invalid:3306/app")
    ///     .unwrap();
    /// let backend = MysqlBackend::from_pool(pool);
    /// assert_eq!(backend.pool().options().get_max_connections(), 4);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn from_pool(pool: MySqlPool) -> Self {
        SqlBackend::with_dialect(MySql { pool })
    }

    pub(crate) fn from_options(
        alias: &str,
        options: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self> {
        Self::connect_lazy(super::url_option("MysqlBackend", alias, options)?)
    }
}

inventory::submit! {
    crate::tasks::BackendFactory::new("MysqlBackend", |alias, config| {
        Ok(std::sync::Arc::new(SqlBackend::<MySql>::from_options(alias, &config.options)?))
    })
}

impl crate::EnqueueIn for &mut sqlx::MySqlConnection {
    fn enqueue_batch_in<'a>(
        self,
        tasks: &'a crate::Tasks,
        batch: Vec<crate::PreparedTask>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>>
    where
        Self: 'a,
    {
        Box::pin(super::enqueue_in::<MySql>(self, tasks, batch))
    }
}

fn rows(rows: &[sqlx::mysql::MySqlRow]) -> Result<Vec<TaskResult>> {
    rows.iter().map(decode).collect()
}

/// The tasks with these ids, read on `conn`.
async fn by_ids(conn: &mut sqlx::MySqlConnection, ids: &[String]) -> Result<Vec<TaskResult>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM djrs_task WHERE id IN ({})",
            placeholders(chunk.len())
        )));
        for id in chunk {
            query = query.bind(id);
        }
        found.extend(rows(&query.fetch_all(&mut *conn).await?)?);
    }
    Ok(found)
}

impl MySql {
    /// Applies `transitions` in one transaction; returns the ids of the changed tasks and, when
    /// `rows`, the tasks as they now are.
    async fn run_apply(
        &self,
        transitions: &[Transition],
        rows: bool,
    ) -> Result<(Vec<String>, Vec<TaskResult>)> {
        // MySQL assigns left to right, and later assignments see earlier ones: `status`
        // comes last, after everything that reads the old row.
        let sql = format!(
            "UPDATE djrs_task SET \
               errors = IF(? IS NULL, errors, JSON_ARRAY_APPEND(errors, '$', JSON_EXTRACT(?, '$'))), \
               return_value = COALESCE(?, return_value), \
               run_after = IF(? = 'READY', ?, run_after), \
               finished_at = IF(? IN ('FAILED', 'SUCCESSFUL'), {NOW}, finished_at), \
               worker_ids = IF(?, JSON_REMOVE(worker_ids, CONCAT('$[', JSON_LENGTH(worker_ids) - 1, ']')), worker_ids), \
               attempts = IF(?, attempts - 1, attempts), \
               worker_id = NULL, lease_expires_at = NULL, status = ? \
             WHERE id = ? AND status = ? AND (? IS NULL OR worker_id = ?) \
               AND (? IS NULL OR attempts = ?) AND (NOT ? OR lease_expires_at < {NOW})"
        );
        let mut tx = self.pool.begin().await?;
        let mut changed = Vec::with_capacity(transitions.len());
        for t in transitions {
            let (status, worker, attempt, expired) = t.guard.parts();
            let done = sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(t.error.as_deref())
                .bind(t.error.as_deref())
                .bind(t.return_value.as_deref())
                .bind(t.status.as_str())
                .bind(t.run_after.map(micros))
                .bind(t.status.as_str())
                .bind(t.refund)
                .bind(t.refund)
                .bind(t.status.as_str())
                .bind(t.id.as_str())
                .bind(status)
                .bind(worker)
                .bind(worker)
                .bind(attempt)
                .bind(attempt)
                .bind(expired)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 1 {
                changed.push(t.id.as_str().to_owned());
            }
        }
        let results = if rows {
            by_ids(&mut tx, &changed).await?
        } else {
            Vec::new()
        };
        tx.commit().await?;
        Ok((changed, results))
    }
}

impl Dialect for MySql {
    type Db = sqlx::MySql;

    const BACKEND_NAME: &'static str = "MysqlBackend";

    fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    fn migrate(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            let locked: Option<i64> = sqlx::query_scalar(
                "SELECT GET_LOCK(CONCAT('djrs_tasks.migrate.', DATABASE()), 60)",
            )
            .fetch_one(&mut *conn)
            .await?;
            if locked != Some(1) {
                return Err(Error::InvalidTaskBackend(
                    "another process held the task queue's migration lock for 60 s".into(),
                ));
            }
            let outcome = async {
                sqlx::query(
                    "CREATE TABLE IF NOT EXISTS djrs_tasks_migrations (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)",
                )
                .execute(&mut *conn)
                .await?;
                let applied: i64 = sqlx::query_scalar(
                    "SELECT CAST(COALESCE(MAX(version), 0) AS SIGNED) FROM djrs_tasks_migrations",
                )
                .fetch_one(&mut *conn)
                .await?;
                for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > applied) {
                    sqlx::raw_sql(*sql).execute(&mut *conn).await?;
                    sqlx::query("INSERT INTO djrs_tasks_migrations (version, applied_at) VALUES (?, ?)")
                        .bind(version)
                        .bind(micros(Utc::now()))
                        .execute(&mut *conn)
                        .await?;
                }
                Ok::<(), Error>(())
            }
            .await;
            sqlx::query("SELECT RELEASE_LOCK(CONCAT('djrs_tasks.migrate.', DATABASE()))")
                .execute(&mut *conn)
                .await?;
            outcome
        })
    }

    fn begin(&self) -> BoxFuture<'_, Result<sqlx::Transaction<'static, sqlx::MySql>>> {
        Box::pin(async move { Ok(self.pool.begin().await?) })
    }

    fn insert<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        batch: &'a [NewTask],
    ) -> BoxFuture<'a, Result<HashSet<TaskId>>> {
        Box::pin(async move {
            for chunk in batch.chunks(500) {
                let rows =
                    vec!["(?, ?, ?, ?, ?, 'READY', ?, '[]', '[]', ?, ?, ?, ?, ?, ?)"; chunk.len()]
                        .join(", ");
                // A row whose unique key is taken is skipped (`id = id` changes nothing).
                let sql = format!(
                    "INSERT INTO djrs_task (id, task_name, backend, queue_name, priority, status, args, \
                     errors, worker_ids, max_attempts, enqueued_at, run_after, timeout_ms, unique_key, metadata) \
                     VALUES {rows} ON DUPLICATE KEY UPDATE id = id"
                );
                let mut query = sqlx::query(AssertSqlSafe(sql));
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
                query.execute(&mut *conn).await?;
            }
            // Which were stored: every id is new, so an id found is a row inserted.
            let mut inserted = HashSet::with_capacity(batch.len());
            for chunk in batch.chunks(1000) {
                let mut query = sqlx::query_scalar::<_, String>(AssertSqlSafe(format!(
                    "SELECT id FROM djrs_task WHERE id IN ({})",
                    placeholders(chunk.len())
                )));
                for task in chunk {
                    query = query.bind(task.id.as_str());
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
                "SELECT {COLUMNS} FROM djrs_task WHERE unique_active = ?"
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
            let (queue_filter, queues) = claim.queues.placeholder_filter();
            let mut select = sqlx::query_scalar::<_, String>(AssertSqlSafe(format!(
                "SELECT id FROM djrs_task WHERE status = 'READY' {queue_filter} \
                 AND (run_after IS NULL OR run_after <= {NOW}) \
                 ORDER BY priority DESC, run_after_sort ASC, enqueued_at ASC \
                 LIMIT ? FOR UPDATE SKIP LOCKED"
            )));
            for queue in queues {
                select = select.bind(queue);
            }
            let ids = select.bind(claim.limit).fetch_all(&mut *conn).await?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut update = sqlx::query(AssertSqlSafe(format!(
                "UPDATE djrs_task SET status = 'RUNNING', worker_id = ?, \
                   started_at = COALESCE(started_at, {NOW}), last_attempted_at = {NOW}, \
                   worker_ids = JSON_ARRAY_APPEND(worker_ids, '$', ?), attempts = attempts + 1, \
                   lease_expires_at = {NOW} + ? * 1000, cancel_requested = FALSE \
                 WHERE id IN ({})",
                placeholders(ids.len())
            )))
            .bind(claim.worker_id.as_str())
            .bind(claim.worker_id.as_str())
            .bind(millis(claim.lease));
            for id in &ids {
                update = update.bind(id);
            }
            update.execute(&mut *conn).await?;
            by_ids(conn, &ids).await
        })
    }

    fn lock_queue<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        queue: &'a str,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO djrs_task_queue (name) VALUES (?) ON DUPLICATE KEY UPDATE name = name",
            )
            .bind(queue)
            .execute(&mut *conn)
            .await?;
            sqlx::query("SELECT name FROM djrs_task_queue WHERE name = ? FOR UPDATE")
                .bind(queue)
                .fetch_optional(&mut *conn)
                .await?;
            // A locking read: the latest committed count, not the transaction's snapshot.
            let running: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM djrs_task WHERE status = 'RUNNING' AND queue_name = ? LOCK IN SHARE MODE",
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
        Box::pin(async move { Ok(self.run_apply(transitions, true).await?.1) })
    }

    fn apply_ids<'a>(
        &'a self,
        transitions: &'a [Transition],
        _now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(async move {
            let (ids, _) = self.run_apply(transitions, false).await?;
            Ok(ids.into_iter().map(TaskId::from).collect())
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
            let sql = format!(
                "UPDATE djrs_task SET lease_expires_at = {NOW} + ? * 1000 \
                 WHERE id = ? AND worker_id = ? AND status = 'RUNNING' AND attempts = ?"
            );
            let mut renewed = Vec::with_capacity(leases.len());
            let mut tx = self.pool.begin().await?;
            for (id, attempt) in leases {
                let done = sqlx::query(AssertSqlSafe(sql.as_str()))
                    .bind(millis(lease))
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

    fn expired(&self, _now: DateTime<Utc>, limit: i64) -> BoxFuture<'_, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let found = sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM djrs_task WHERE status = 'RUNNING' AND lease_expires_at < {NOW} LIMIT ?"
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
            let (clauses, args) = super::list_clauses(filter, |_| "?".to_owned());
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
                "DELETE FROM djrs_task WHERE finished_at < ? AND status IN ({}) LIMIT ?",
                placeholders(statuses.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(micros(older_than));
            for status in statuses {
                query = query.bind(*status);
            }
            let done = query.bind(limit).execute(&self.pool).await?;
            Ok(done.rows_affected())
        })
    }

    fn delete_occurrences(&self, older_than: DateTime<Utc>) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM djrs_task_schedule WHERE occurrence < ?")
                .bind(micros(older_than))
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
            let mut tx = self.pool.begin().await?;
            // Left to right: `holder` changes only for the holder or after expiry, and
            // `expires_at` follows only when the (new) holder is this one.
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO djrs_task_leader (name, holder, expires_at) VALUES (?, ?, {NOW} + ? * 1000) \
                 ON DUPLICATE KEY UPDATE \
                   holder = IF(holder = VALUES(holder) OR expires_at < {NOW}, VALUES(holder), holder), \
                   expires_at = IF(holder = VALUES(holder), VALUES(expires_at), expires_at)"
            )))
            .bind(name)
            .bind(holder)
            .bind(millis(ttl))
            .execute(&mut *tx)
            .await?;
            let current: Option<String> =
                sqlx::query_scalar("SELECT holder FROM djrs_task_leader WHERE name = ?")
                    .bind(name)
                    .fetch_optional(&mut *tx)
                    .await?;
            tx.commit().await?;
            Ok(current.as_deref() == Some(holder))
        })
    }

    fn resign<'a>(&'a self, name: &'a str, holder: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query("DELETE FROM djrs_task_leader WHERE name = ? AND holder = ?")
                .bind(name)
                .bind(holder)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
    }

    fn cancel_requests<'a>(&'a self, ids: &'a [TaskId]) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(async move {
            let sql = format!(
                "SELECT id FROM djrs_task WHERE cancel_requested AND id IN ({})",
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
        request_cancel: "UPDATE djrs_task SET cancel_requested = TRUE WHERE id = ? AND status = 'RUNNING'",
        pause: "INSERT IGNORE INTO djrs_task_paused (queue_name) VALUES (?)",
        resume: "DELETE FROM djrs_task_paused WHERE queue_name = ?",
        counts: "SELECT queue_name, status, CAST(COUNT(*) AS SIGNED) FROM djrs_task GROUP BY queue_name, status ORDER BY queue_name, status",
        set_limit: "INSERT INTO djrs_task_limit (queue_name, max_running) VALUES (?, ?) ON DUPLICATE KEY UPDATE max_running = VALUES(max_running)",
        reset_limit: "DELETE FROM djrs_task_limit WHERE queue_name = ?",
        save_metadata: "UPDATE djrs_task SET metadata = ? WHERE id = ? AND worker_id = ? AND attempts = ? AND status = 'RUNNING'",
        retry: "UPDATE djrs_task SET status = 'READY', run_after = ?, finished_at = NULL, worker_id = NULL, lease_expires_at = NULL, cancel_requested = FALSE, max_attempts = GREATEST(max_attempts, attempts + 1) WHERE id = ? AND status = 'FAILED'",
        run_now: "UPDATE djrs_task SET run_after = ? WHERE id = ? AND status = 'READY' AND run_after > ?",
        delete: "DELETE FROM djrs_task WHERE id = ? AND status <> 'RUNNING'",
        finished_since: "SELECT queue_name, status, CAST(COUNT(*) AS SIGNED) FROM djrs_task WHERE status IN ('FAILED', 'SUCCESSFUL') AND finished_at >= ? GROUP BY queue_name, status",
        oldest_due: "SELECT queue_name, CAST(MIN(COALESCE(run_after, enqueued_at)) AS SIGNED) FROM djrs_task WHERE status = 'READY' AND (run_after IS NULL OR run_after <= ?) GROUP BY queue_name",
        workers: "SELECT holder, expires_at FROM djrs_task_leader WHERE substr(name, 1, 18) = 'djrs_tasks.worker.' AND expires_at > ?",
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
            // A duplicate is an error to catch: with the found-rows flag sqlx sets, an upsert
            // that changes nothing reports one row, as an insert does.
            let inserted = sqlx::query(
                "INSERT INTO djrs_task_schedule (name, occurrence, task_id) VALUES (?, ?, ?)",
            )
            .bind(schedule)
            .bind(micros(occurrence))
            .bind(task_id.as_str())
            .execute(&mut *conn)
            .await;
            match inserted {
                Ok(_) => Ok(true),
                Err(sqlx::Error::Database(err)) if err.is_unique_violation() => Ok(false),
                Err(err) => Err(err.into()),
            }
        })
    }

    fn poll_interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(25))
    }
}
