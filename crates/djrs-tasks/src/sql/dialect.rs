//! [`Dialect`]: what the engine asks of each database (statements, the clock, migrations and
//! the wake-up channel), and the claim it hands a dialect.

use super::*;

pub(crate) mod sealed {
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

    /// Sets or removes a queue's run-time limit.
    #[doc(hidden)]
    fn set_limit<'a>(
        &'a self,
        queue: &'a str,
        limit: crate::QueueLimit,
    ) -> BoxFuture<'a, Result<()>>;

    /// Saves a running task's metadata (JSON), fenced by its worker and attempt.
    #[doc(hidden)]
    fn save_metadata<'a>(
        &'a self,
        worker_id: &'a crate::WorkerId,
        lease: &'a crate::Lease,
        metadata: &'a str,
    ) -> BoxFuture<'a, Result<bool>>;

    /// An operator's retry of one `FAILED` task; `false` when it is not `FAILED` or another
    /// task holds its unique key.
    #[doc(hidden)]
    fn retry_one<'a>(&'a self, id: &'a str, now: DateTime<Utc>) -> BoxFuture<'a, Result<bool>>;

    /// Makes one deferred `READY` task due now.
    #[doc(hidden)]
    fn run_now_one<'a>(&'a self, id: &'a str, now: DateTime<Utc>) -> BoxFuture<'a, Result<bool>>;

    /// Deletes one task that is not `RUNNING`.
    #[doc(hidden)]
    fn delete_one<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool>>;

    /// Tasks finished since `since`, the oldest due task per queue and the workers alive.
    #[doc(hidden)]
    fn activity_rows(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<super::ActivityRows>>;

    /// The paused queues and the limits set at run time, in one read.
    #[doc(hidden)]
    fn queue_states(&self) -> BoxFuture<'_, Result<super::QueueStates>>;

    /// Records an occurrence; `false` when it already was.
    #[doc(hidden)]
    fn record_occurrence<'a>(
        &'a self,
        conn: &'a mut Conn<Self>,
        schedule: &'a str,
        occurrence: DateTime<Utc>,
        task_id: &'a TaskId,
    ) -> BoxFuture<'a, Result<bool>>;

    /// A loop that wakes `wakes` when another process announces tasks or asks to cancel a
    /// running one, for databases that can.
    #[doc(hidden)]
    fn listen(&self, _wakes: Wakes) -> Option<BoxFuture<'static, ()>> {
        None
    }

    /// Gives deleted rows' space back online, where the database keeps it; `true` if it did.
    fn compact(&self) -> BoxFuture<'_, Result<bool>> {
        Box::pin(async { Ok(false) })
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

/// What a dialect's listener wakes: idle workers when tasks were enqueued, busy ones when a
/// cancel was requested (they renew their leases at once, which reports it).
#[doc(hidden)]
// Named in the sealed `Dialect`'s hidden methods; not reachable from outside the crate.
#[allow(unreachable_pub)]
// Only PostgreSQL's listener reads them.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
#[derive(Debug, Clone)]
pub struct Wakes {
    pub(crate) enqueued: Arc<Notify>,
    pub(crate) cancel: Arc<Notify>,
}
