//! Periodic (cron) tasks on PostgreSQL, with exactly one enqueue per occurrence however many
//! schedulers run on however many machines.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use sqlx::Connection;

use crate::{Error, PreparedTask, Result, Tasks};

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    cron: Cron,
    task: PreparedTask,
}

/// What a scheduler did before it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchedulerStats {
    /// Occurrences this scheduler enqueued.
    pub enqueued: u64,
    /// Whether it led (held the leader lock) at some point.
    pub led: bool,
}

/// Enqueues tasks on cron schedules (Oban's Cron plugin, River's periodic jobs).
///
/// Run one in every process that may schedule: they elect a leader through a PostgreSQL
/// advisory lock, and only the leader enqueues. Each occurrence is recorded in
/// `djrs_task_schedule` in the same transaction as its task, so even two leaders (a lock lost
/// with its connection) cannot enqueue one occurrence twice. Occurrences missed while no
/// scheduler ran are not back-filled.
///
/// Patterns have five fields (minute granularity) or six (seconds first), and aliases such as
/// `@hourly`; times are UTC.
///
/// ```no_run
/// use djrs_tasks::{task, PostgresBackend, Scheduler, Tasks};
///
/// #[task]
/// async fn nightly_report() {}
///
/// # async fn demo() -> djrs_tasks::Result<()> {
/// let tasks = Tasks::builder().backend("default", PostgresBackend::connect_lazy("postgres://…")?).build()?;
/// Scheduler::new(&tasks)
///     .add("nightly-report", "0 3 * * *", nightly_report.prepare()?)?
///     .run_until(std::future::pending()) // or a shutdown signal
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Scheduler {
    tasks: Tasks,
    backend: String,
    entries: Vec<Entry>,
    tick: Duration,
}

impl Scheduler {
    /// A scheduler for the `default` backend, which must be a `PostgresBackend`.
    pub fn new(tasks: &Tasks) -> Self {
        Scheduler {
            tasks: tasks.clone(),
            backend: crate::DEFAULT_TASK_BACKEND_ALIAS.to_owned(),
            entries: Vec::new(),
            tick: Duration::from_millis(500),
        }
    }

    /// Adds a schedule: `task` (with its arguments, from the generated `prepare`) is enqueued at
    /// every occurrence of `pattern`. `name` identifies the schedule across processes.
    ///
    /// # Errors
    /// `InvalidTask` for a pattern that does not parse or a name used twice.
    pub fn add(
        mut self,
        name: impl Into<String>,
        pattern: &str,
        task: PreparedTask,
    ) -> Result<Self> {
        let name = name.into();
        if self.entries.iter().any(|e| e.name == name) {
            return Err(Error::InvalidTask(format!(
                "the schedule {name:?} is added twice"
            )));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .build()
            .parse(pattern)
            .map_err(|err| {
                Error::InvalidTask(format!(
                    "invalid cron pattern {pattern:?} for {name:?}: {err}"
                ))
            })?;
        self.entries.push(Entry { name, cron, task });
        Ok(self)
    }

    /// The backend alias (default `default`).
    pub fn backend(mut self, alias: impl Into<String>) -> Self {
        self.backend = alias.into();
        self
    }

    /// How often the scheduler looks at the clock and, when not leading, tries to lead
    /// (default 500 ms).
    pub fn tick(mut self, every: Duration) -> Self {
        self.tick = every.max(Duration::from_millis(10));
        self
    }

    /// Schedules until `shutdown` resolves.
    ///
    /// # Errors
    /// `NotSupported` when the backend is not a `PostgresBackend`. Database errors while
    /// running are logged and retried, never returned.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<SchedulerStats> {
        let backend = self.tasks.backend(&self.backend)?;
        let Some(postgres) = backend.as_postgres() else {
            return Err(Error::NotSupported {
                backend: backend.name(),
                operation: "cron schedules",
            });
        };
        postgres.migrate().await?;
        let pool = postgres.pool().clone();
        let mut stats = SchedulerStats::default();
        // The leader holds the lock on this connection for as long as it lives.
        let mut leader: Option<sqlx::PgConnection> = None;
        let mut last: Vec<DateTime<Utc>> = Vec::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            if leader.is_none() {
                match try_lead(&pool).await {
                    Ok(Some(conn)) => {
                        tracing::info!(target: "djrs_tasks", "this scheduler leads");
                        leader = Some(conn);
                        stats.led = true;
                        last = vec![Utc::now(); self.entries.len()];
                    }
                    Ok(None) => {}
                    Err(err) => {
                        tracing::warn!(target: "djrs_tasks", error = %err, "could not try the scheduler lock")
                    }
                }
            }
            if let Some(conn) = leader.as_mut() {
                // A dead leader connection has lost the lock: step down.
                if let Err(err) = conn.ping().await {
                    tracing::warn!(target: "djrs_tasks", error = %err, "lost the scheduler lock's connection");
                    leader = None;
                } else {
                    let now = Utc::now();
                    for (entry, since) in self.entries.iter().zip(last.iter_mut()) {
                        let mut next = entry.cron.find_next_occurrence(since, false).ok();
                        while let Some(occurrence) = next.filter(|t| *t <= now) {
                            match self.enqueue_occurrence(postgres, entry, occurrence).await {
                                Ok(true) => stats.enqueued += 1,
                                Ok(false) => {}
                                Err(err) => {
                                    tracing::warn!(target: "djrs_tasks", schedule = %entry.name, error = %err, "could not enqueue an occurrence; retrying");
                                    break;
                                }
                            }
                            *since = occurrence;
                            next = entry.cron.find_next_occurrence(&occurrence, false).ok();
                        }
                    }
                }
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(self.tick) => {}
            }
        }
        if let Some(conn) = leader {
            // Closing the connection releases the session lock.
            let _ = conn.close().await;
        }
        Ok(stats)
    }

    /// Records the occurrence and enqueues its task in one transaction; `false` when another
    /// scheduler already did.
    async fn enqueue_occurrence(
        &self,
        postgres: &crate::PostgresBackend,
        entry: &Entry,
        occurrence: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = postgres.pool().begin().await?;
        let id = uuid::Uuid::now_v7().to_string();
        let recorded = sqlx::query(
            "INSERT INTO djrs_task_schedule (name, occurrence, task_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(&entry.name)
        .bind(occurrence)
        .bind(&id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if recorded == 0 {
            return Ok(false);
        }
        let (options, args) = (entry.task.options().clone(), entry.task.args().clone());
        let result = self
            .tasks
            .enqueue_on_postgres(&mut tx, &options, args)
            .await?;
        sqlx::query(
            "UPDATE djrs_task_schedule SET task_id = $1 WHERE name = $2 AND occurrence = $3",
        )
        .bind(&result.id)
        .bind(&entry.name)
        .bind(occurrence)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(target: "djrs_tasks", schedule = %entry.name, %occurrence, id = %result.id, "scheduled task enqueued");
        Ok(true)
    }
}

/// Takes the leader lock on a connection of its own, or `None` when another scheduler leads.
async fn try_lead(pool: &sqlx::PgPool) -> Result<Option<sqlx::PgConnection>> {
    let mut conn = pool.acquire().await?.detach();
    // One leader per schema: the queue's tables live in the connection's current schema.
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended('djrs_tasks.scheduler.' || current_schema(), 0))")
            .fetch_one(&mut conn)
            .await?;
    if locked {
        Ok(Some(conn))
    } else {
        let _ = conn.close().await;
        Ok(None)
    }
}
