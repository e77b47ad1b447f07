//! The Redis queue: `RedisBackend`, for Redis ≥ 7.0, Valkey and Redis Cluster.
//!
//! Every change of state is one Lua script (`lua/*.lua`, each prefixed with `lua/common.lua`),
//! so a crash between two commands never loses or duplicates a task. Scripts read the server's
//! clock, never a client's, and answer with codes. Per queue, under one hash tag: a sorted set
//! of ready tasks (priority, then the time the task became due), a sorted set of deferred tasks
//! promoted by the claim script, a sorted set of leases scored by expiry, a sorted set per
//! status in id order (every score 0: listed by key with `ZRANGE … BYLEX`, counted), a sorted
//! set per finished status scored by finish time (pruning, sweeping expired results, activity),
//! a hash per task with Django's result fields, a key per unique key, and a sorted set of cron
//! occurrences. Outside the queues: the set of queue names, the set of workers alive scored by
//! the time they stop counting as alive, and leadership keys. Workers wake through Pub/Sub.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::aio::ConnectionManagerConfig;
use redis::{Script, Value};
use tokio::sync::{Notify, OnceCell};

use crate::backend::{Backend, BackendContext, Capabilities, NewTask};
use crate::task::BoxFuture;
use crate::{Error, Queue, Result, TaskResult, TaskResultStatus, WorkerId};

mod conn;
mod keys;
mod queue;

use conn::{Client, Conn, ListenerTask, listen, warn_if_evicting};

use keys::{base, decode, integer, items, micros, queue_of, result_id, text};

/// How long a reply may take before the command fails (the `redis` crate's default, 500 ms,
/// is too short for a large batch on a busy server).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Deferred tasks one claim promotes at most, and expired leases one rescue handles at most:
/// every script's work is bounded.
const SCRIPT_BATCH: u32 = 1_000;

/// The statuses, as the index sets are named.
const STATUSES: [TaskResultStatus; 4] = [
    TaskResultStatus::Ready,
    TaskResultStatus::Running,
    TaskResultStatus::Successful,
    TaskResultStatus::Failed,
];

macro_rules! script {
    ($file:literal) => {
        LazyLock::new(|| {
            Script::new(concat!(
                include_str!("lua/common.lua"),
                include_str!(concat!("lua/", $file))
            ))
        })
    };
}

static ENQUEUE: LazyLock<Script> = script!("enqueue.lua");
static CLAIM: LazyLock<Script> = script!("claim.lua");
static COMPLETE: LazyLock<Script> = script!("complete.lua");
static RENEW: LazyLock<Script> = script!("renew.lua");
static RESCUE: LazyLock<Script> = script!("rescue.lua");
static CANCEL: LazyLock<Script> = script!("cancel.lua");
static CANCEL_RUNNING: LazyLock<Script> = script!("cancel_running.lua");
static PRUNE: LazyLock<Script> = script!("prune.lua");
static LEAD: LazyLock<Script> = script!("lead.lua");
static RESIGN: LazyLock<Script> = script!("resign.lua");
static METADATA: LazyLock<Script> = script!("metadata.lua");
static RETRY: LazyLock<Script> = script!("retry.lua");
static RUN_NOW: LazyLock<Script> = script!("run_now.lua");
static DELETE: LazyLock<Script> = script!("delete.lua");
static ACTIVITY: LazyLock<Script> = script!("activity.lua");
static LIST: LazyLock<Script> = script!("list.lua");
static SEEN: LazyLock<Script> = script!("seen.lua");
static WORKERS: LazyLock<Script> = script!("workers.lua");

/// The task queue on Redis ≥ 7.0 (also Valkey, and Redis Cluster with the feature
/// `redis-cluster`): many workers on many machines, woken through Pub/Sub.
///
/// Results live in Redis: a finished task's result is kept for [`result_ttl`]
/// (default one day), then expires. Use `maxmemory-policy noeviction`: an evicted task is a
/// lost task (the backend warns at start otherwise).
///
/// [`result_ttl`]: RedisBackend::result_ttl
///
/// ```no_run
/// use djrs_tasks::{task, RedisBackend, Tasks, Worker};
///
/// #[task]
/// async fn double(n: i64) -> i64 { n * 2 }
///
/// # async fn run() -> djrs_tasks::Result<()> {
/// let backend = RedisBackend::open("redis://127.0.0.1:6379")?.prefix("myapp")?;
/// let tasks = Tasks::builder().backend("default", backend).build()?;
/// let result = double.enqueue(&tasks, 21).await?;
/// Worker::new(&tasks).run_until_idle().await?;
/// assert_eq!(tasks.get_result(&result.id).await?.return_value::<i64>()?, 42);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisBackend {
    client: Arc<Client>,
    conn: Arc<OnceCell<Conn>>,
    prefix: Arc<str>,
    result_ttl: Option<Duration>,
    queue_limits: Arc<BTreeMap<String, u32>>,
    notify: Arc<Notify>,
    /// Wakes this process's workers when a cancel is requested from here.
    cancels: Arc<Notify>,
    listener: Arc<OnceCell<ListenerTask>>,
    next_queue: Arc<AtomicUsize>,
}

impl fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBackend")
            .field("prefix", &self.prefix)
            .field("cluster", &self.client.is_cluster())
            .field("result_ttl", &self.result_ttl)
            .field("queue_limits", &self.queue_limits)
            .finish_non_exhaustive()
    }
}

fn storage(err: redis::RedisError) -> Error {
    Error::storage(err)
}

impl RedisBackend {
    /// A backend on the Redis at `url` (`redis://[user:password@]host[:port][/db]`, or
    /// `rediss://` for TLS when the `redis` crate's TLS feature is on). Connects on first use.
    ///
    /// ```
    /// let backend = djrs_tasks::RedisBackend::open("redis://127.0.0.1:6379/0")?;
    /// assert!(djrs_tasks::RedisBackend::open("http://example.com").is_err());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    ///
    /// # Errors
    /// `InvalidTaskBackend` when the URL is not a Redis URL.
    pub fn open(url: &str) -> Result<Self> {
        // The parser's message may quote the URL, password and all: say what is expected.
        let client = redis::Client::open(url).map_err(|_| {
            Error::InvalidTaskBackend(
                "RedisBackend: URL must be redis://[user:password@]host[:port][/db] (or rediss://, unix://)"
                    .into(),
            )
        })?;
        Ok(Self::with_client(Client::Single(client)))
    }

    /// A backend on a Redis Cluster, given some of its nodes' URLs (feature `redis-cluster`).
    /// Every key of one queue carries the queue's hash tag, so one queue lives on one shard.
    ///
    /// ```
    /// let backend = djrs_tasks::RedisBackend::open_cluster(&["redis://127.0.0.1:7000"])?;
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    ///
    /// # Errors
    /// `InvalidTaskBackend` for an empty list or a URL that is not a Redis URL.
    #[cfg(feature = "redis-cluster")]
    pub fn open_cluster(urls: &[&str]) -> Result<Self> {
        let invalid = |_: redis::RedisError| {
            Error::InvalidTaskBackend(
                "RedisBackend: each cluster node URL must be redis://[user:password@]host[:port]"
                    .into(),
            )
        };
        let first = urls.first().ok_or_else(|| {
            Error::InvalidTaskBackend("RedisBackend: a cluster needs at least one node URL".into())
        })?;
        let node = redis::Client::open(*first).map_err(invalid)?;
        let cluster = redis::cluster::ClusterClient::builder(urls.iter().copied())
            .response_timeout(RESPONSE_TIMEOUT)
            .build()
            .map_err(invalid)?;
        Ok(Self::with_client(Client::Cluster(Box::new((
            cluster, node,
        )))))
    }

    fn with_client(client: Client) -> Self {
        RedisBackend {
            client: Arc::new(client),
            conn: Arc::default(),
            prefix: Arc::from("djrs"),
            result_ttl: Some(Duration::from_secs(24 * 60 * 60)),
            queue_limits: Arc::default(),
            notify: Arc::default(),
            cancels: Arc::default(),
            listener: Arc::default(),
            next_queue: Arc::default(),
        }
    }

    /// Starts every key with `prefix` (default `djrs`), so several applications share one
    /// Redis.
    ///
    /// ```
    /// let backend = djrs_tasks::RedisBackend::open("redis://127.0.0.1")?.prefix("shop")?;
    /// assert!(djrs_tasks::RedisBackend::open("redis://127.0.0.1")?.prefix("a{b}").is_err());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    ///
    /// # Errors
    /// `InvalidTaskBackend` for an empty prefix, or one with a brace (it would move the hash
    /// tag), whitespace or NUL.
    pub fn prefix(mut self, prefix: &str) -> Result<Self> {
        if !keys::valid_prefix(prefix) {
            return Err(Error::InvalidTaskBackend(format!(
                "RedisBackend: the key prefix {prefix:?} must be non-empty, without braces, \
                 whitespace or NUL"
            )));
        }
        self.prefix = Arc::from(prefix);
        Ok(self)
    }

    /// How long a finished task's result is kept (default one day); `None` keeps results until
    /// [`Tasks::prune_results`](crate::Tasks::prune_results) deletes them.
    ///
    /// ```
    /// use std::time::Duration;
    /// let backend = djrs_tasks::RedisBackend::open("redis://127.0.0.1")?
    ///     .result_ttl(Some(Duration::from_secs(3600)));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    #[must_use]
    pub fn result_ttl(mut self, ttl: Option<Duration>) -> Self {
        self.result_ttl = ttl.filter(|ttl| !ttl.is_zero());
        self
    }

    /// Runs at most `limit` tasks of `queue` at once across every worker on every machine;
    /// the claim script counts the queue's live leases, so the limit holds under races and a
    /// dead worker's slot frees when its lease expires.
    ///
    /// ```
    /// let backend = djrs_tasks::RedisBackend::open("redis://127.0.0.1")?.queue_limit("reports", 2);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    #[must_use]
    pub fn queue_limit(mut self, queue: impl Into<String>, limit: u32) -> Self {
        Arc::make_mut(&mut self.queue_limits).insert(queue.into(), limit);
        self
    }

    /// The key prefix.
    ///
    /// ```
    /// assert_eq!(djrs_tasks::RedisBackend::open("redis://127.0.0.1")?.key_prefix(), "djrs");
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    #[must_use]
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// Connects now (the backend otherwise connects on first use), and warns when the server
    /// may evict keys (`maxmemory-policy` other than `noeviction`).
    ///
    /// ```no_run
    /// // Connecting is the point of this method: it needs a Redis server, so this is only compiled.
    /// use djrs_tasks::{RedisBackend, Tasks};
    ///
    /// # async fn demo() -> djrs_tasks::Result<()> {
    /// let backend = RedisBackend::open("redis://127.0.0.1:6379/0")?;
    /// backend.connect().await?; // fail at start-up, not at the first enqueue
    /// let tasks = Tasks::builder().backend("default", backend).build()?;
    /// assert_eq!(tasks.backend("default")?.name(), "RedisBackend");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// `Storage` when Redis cannot be reached.
    pub async fn connect(&self) -> Result<()> {
        self.conn().await.map(drop)
    }

    async fn conn(&self) -> Result<Conn> {
        self.conn
            .get_or_try_init(|| async {
                if tokio::runtime::Handle::try_current().is_err() {
                    return Err(Error::InvalidTaskBackend(
                        "RedisBackend connects inside a Tokio runtime: use it from async code \
                         running on Tokio"
                            .into(),
                    ));
                }
                let mut conn = match self.client.as_ref() {
                    Client::Single(client) => {
                        let config = ConnectionManagerConfig::new()
                            .set_response_timeout(Some(RESPONSE_TIMEOUT))
                            .set_connection_timeout(Some(Duration::from_secs(5)));
                        Conn::Single(
                            client
                                .get_connection_manager_with_config(config)
                                .await
                                .map_err(storage)?,
                        )
                    }
                    #[cfg(feature = "redis-cluster")]
                    Client::Cluster(cluster) => {
                        Conn::Cluster(cluster.0.get_async_connection().await.map_err(storage)?)
                    }
                };
                warn_if_evicting(&mut conn).await;
                Ok(conn)
            })
            .await
            .cloned()
    }

    /// The key of the set of queue names that have had tasks.
    fn registry(&self) -> String {
        format!("{}:queues", self.prefix)
    }

    /// The key of the sorted set of workers alive, scored by the time (µs) until which each
    /// counts as alive.
    fn workers_key(&self) -> String {
        format!("{}:workers", self.prefix)
    }

    /// The Pub/Sub channel that wakes workers.
    fn channel(&self) -> String {
        format!("{}:wake", self.prefix)
    }

    fn ttl_ms(&self) -> u64 {
        self.result_ttl
            .map_or(0, |ttl| u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
    }

    /// Sets (or, with `None`, deletes) one of `queue`'s control keys (`paused`, `limit`), and
    /// registers the queue so that listings find it.
    async fn set_queue_key(&self, queue: &str, name: &str, value: Option<&str>) -> Result<()> {
        let mut conn = self.conn().await?;
        let key = format!("{}{name}", base(&self.prefix, queue));
        let mut command = redis::cmd(if value.is_some() { "SET" } else { "DEL" });
        command.arg(&key);
        if let Some(value) = value {
            command.arg(value);
        }
        command
            .query_async::<()>(&mut conn)
            .await
            .map_err(storage)?;
        redis::cmd("SADD")
            .arg(self.registry())
            .arg(queue)
            .query_async::<()>(&mut conn)
            .await
            .map_err(storage)
    }

    /// Every queue that has had tasks.
    async fn known_queues(&self, conn: &mut Conn) -> Result<Vec<String>> {
        let mut queues: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.registry())
            .query_async(conn)
            .await
            .map_err(storage)?;
        queues.sort_unstable();
        Ok(queues)
    }

    /// Stores tasks (and the occurrence that made them, if any), one script per queue.
    async fn store(
        &self,
        batch: Vec<NewTask>,
        occurrence: Option<(&str, DateTime<Utc>)>,
    ) -> Result<Vec<(TaskResult, bool)>> {
        let mut conn = self.conn().await?;
        let registry = self.registry();
        // One script for the whole batch on one server; one per queue on a cluster (a
        // script's keys must share a slot).
        let groups: Vec<Vec<NewTask>> = if self.client.is_cluster() {
            let mut by_queue: BTreeMap<String, Vec<NewTask>> = BTreeMap::new();
            for task in batch {
                by_queue
                    .entry(task.queue_name.clone())
                    .or_default()
                    .push(task);
            }
            by_queue.into_values().collect()
        } else {
            vec![batch]
        };
        let mut stored = Vec::new();
        for group in groups {
            let Some(first) = group.first() else { continue };
            let first_base = base(&self.prefix, &first.queue_name);
            let mut names: Vec<&str> = group.iter().map(|t| t.queue_name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            redis::cmd("SADD")
                .arg(&registry)
                .arg(&names)
                .query_async::<()>(&mut conn)
                .await
                .map_err(storage)?;
            let mut call = ENQUEUE.prepare_invoke();
            call.key(format!("{first_base}ready")).arg(self.channel());
            match occurrence {
                Some((schedule, at)) => {
                    call.arg(&first_base)
                        .arg(format!("{}:{schedule}", at.timestamp_millis()))
                        .arg(at.timestamp_millis());
                }
                None => {
                    call.arg("").arg("").arg(0);
                }
            }
            for task in &group {
                let written_once = serde_json::to_string(&(
                    &task.task_name,
                    &task.backend,
                    &task.queue_name,
                    task.timeout
                        .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
                    task.priority,
                    task.max_attempts,
                ))
                .map_err(Error::Decode)?;
                call.arg(base(&self.prefix, &task.queue_name))
                    .arg(task.id.as_str())
                    .arg(written_once)
                    .arg(task.priority)
                    .arg(task.args.to_string())
                    .arg(task.run_after.map(micros).unwrap_or_default())
                    .arg(task.unique_key.as_deref().unwrap_or_default())
                    .arg(
                        crate::backend::stored::metadata_json(&task.metadata)?.unwrap_or_default(),
                    );
            }
            let reply = items(call.invoke_async(&mut conn).await.map_err(storage)?)?;
            let mut reply = reply.into_iter();
            let first = reply.next().as_ref().and_then(text).unwrap_or_default();
            if first == "-1" {
                return Ok(Vec::new());
            }
            let enqueued_at = first
                .parse()
                .ok()
                .and_then(|us| chrono::TimeZone::timestamp_micros(&Utc, us).single())
                .ok_or_else(|| keys::unexpected(&Value::SimpleString(first.clone())))?;
            // The tasks whose unique key another task holds, by position in the group.
            let mut holders = BTreeMap::new();
            while let (Some(position), Some(row)) = (reply.next(), reply.next()) {
                let holder = decode(row)?.ok_or_else(|| {
                    keys::unexpected(&Value::SimpleString("an expired unique holder".into()))
                })?;
                holders.insert(integer(&position)?, holder);
            }
            for (position, task) in (1..).zip(group) {
                match holders.remove(&position) {
                    Some(holder) => stored.push((holder, false)),
                    None => {
                        let mut result = task.into_ready_result();
                        result.enqueued_at = enqueued_at;
                        stored.push((result, true));
                    }
                }
            }
        }
        if stored.iter().any(|(_, new)| *new) {
            self.notify.notify_waiters();
        }
        Ok(stored)
    }

    /// Gives each new task its Redis result id (the uuid and the queue).
    fn with_ids(&self, batch: Vec<NewTask>) -> Vec<NewTask> {
        batch
            .into_iter()
            .map(|mut task| {
                task.id = result_id(&task.id, &task.queue_name);
                task
            })
            .collect()
    }

    async fn claim_from(
        &self,
        conn: &mut Conn,
        worker_id: &WorkerId,
        queue: &str,
        n: usize,
        lease: Duration,
    ) -> Result<Vec<TaskResult>> {
        let base = base(&self.prefix, queue);
        let limit = self.queue_limits.get(queue).map_or(-1, |n| i64::from(*n));
        let reply: Value = CLAIM
            .key(format!("{base}ready"))
            .arg(&base)
            .arg(n)
            .arg(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX))
            .arg(limit)
            .arg(worker_id.as_str())
            .arg(serde_json::to_string(worker_id.as_str()).map_err(Error::Decode)?)
            .arg(SCRIPT_BATCH)
            .invoke_async(conn)
            .await
            .map_err(storage)?;
        rows(reply)
    }
}

/// Decodes the rows of tasks a script returns, skipping tasks whose result expired.
fn rows(reply: Value) -> Result<Vec<TaskResult>> {
    let mut out = Vec::new();
    for row in items(reply)? {
        out.extend(decode(row)?);
    }
    Ok(out)
}

impl Backend for RedisBackend {
    fn name(&self) -> &'static str {
        "RedisBackend"
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
        Box::pin(async move { Ok(ctx.announce(self.store(self.with_ids(batch), None).await?)) })
    }

    fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
        Box::pin(async move {
            let missing = || Error::TaskResultDoesNotExist(id.to_owned());
            let queue = queue_of(id).ok_or_else(missing)?;
            let mut conn = self.conn().await?;
            let rows = self.read(&mut conn, &queue, &[id]).await?;
            rows.into_iter().next().flatten().ok_or_else(missing)
        })
    }

    fn queue(&self) -> Option<&dyn Queue> {
        Some(self)
    }
}

impl RedisBackend {
    /// Reads tasks of one queue by id (`None` for those that do not exist).
    async fn read(
        &self,
        conn: &mut Conn,
        queue: &str,
        ids: &[&str],
    ) -> Result<Vec<Option<TaskResult>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let base = base(&self.prefix, queue);
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.cmd("HMGET")
                .arg(format!("{base}t:{id}"))
                .arg(&keys::FIELDS);
        }
        let replies: Vec<Value> = pipe.query_async(conn).await.map_err(storage)?;
        replies
            .into_iter()
            .zip(ids)
            .map(|(reply, id)| {
                let mut row = items(reply)?;
                row.insert(0, Value::BulkString(id.as_bytes().to_vec()));
                decode(Value::Array(row))
            })
            .collect()
    }

    /// The queues a worker of `queues` claims from (every known queue for an empty list),
    /// starting from the next one each time so no queue starves.
    async fn claim_order(&self, conn: &mut Conn, queues: &[String]) -> Result<Vec<String>> {
        let mut order = if queues.is_empty() {
            self.known_queues(conn).await?
        } else {
            queues.to_vec()
        };
        if !order.is_empty() {
            let start = self.next_queue.fetch_add(1, Ordering::Relaxed) % order.len();
            order.rotate_left(start);
        }
        Ok(order)
    }

    /// Spawns the Pub/Sub listener once.
    async fn ensure_listener(&self) {
        let node = self.client.pubsub_node().clone();
        let notify = Arc::clone(&self.notify);
        let channel = self.channel();
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        self.listener
            .get_or_init(
                || async move { ListenerTask(tokio::spawn(listen(node, channel, notify))) },
            )
            .await;
    }
}

impl RedisBackend {
    /// A backend from `TASKS` options: `URL` (required), `PREFIX`, `RESULT_TTL` (seconds;
    /// `0` or `null` keeps results) and `QUEUE_LIMITS` (an object of queue name to limit).
    pub(crate) fn from_options(
        alias: &str,
        options: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self> {
        let invalid = |what: &str| {
            Error::InvalidTaskBackend(format!("RedisBackend: {what} (backend '{alias}')"))
        };
        if let Some(key) = options
            .keys()
            .find(|k| !matches!(k.as_str(), "URL" | "PREFIX" | "RESULT_TTL" | "QUEUE_LIMITS"))
        {
            return Err(invalid(&format!(
                "takes the options URL, PREFIX, RESULT_TTL and QUEUE_LIMITS, not {key:?}"
            )));
        }
        let url = options
            .get("URL")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| invalid("needs the option URL as a string"))?;
        let mut backend = Self::open(url)?;
        if let Some(prefix) = options.get("PREFIX") {
            let prefix = prefix
                .as_str()
                .ok_or_else(|| invalid("PREFIX must be a string"))?;
            backend = backend.prefix(prefix)?;
        }
        match options.get("RESULT_TTL") {
            None => {}
            Some(serde_json::Value::Null) => backend = backend.result_ttl(None),
            Some(ttl) => {
                let seconds = ttl
                    .as_f64()
                    .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e12)
                    .ok_or_else(|| invalid("RESULT_TTL must be a number of seconds"))?;
                backend = backend.result_ttl(Some(Duration::from_secs_f64(seconds)));
            }
        }
        if let Some(limits) = options.get("QUEUE_LIMITS") {
            let limits = limits
                .as_object()
                .ok_or_else(|| invalid("QUEUE_LIMITS must map queue names to limits"))?;
            for (queue, limit) in limits {
                let limit = limit
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| invalid("each queue limit must be a whole number"))?;
                backend = backend.queue_limit(queue.clone(), limit);
            }
        }
        Ok(backend)
    }
}

inventory::submit! {
    crate::tasks::BackendFactory::new("RedisBackend", |alias, config| {
        Ok(Arc::new(RedisBackend::from_options(alias, &config.options)?))
    })
}
