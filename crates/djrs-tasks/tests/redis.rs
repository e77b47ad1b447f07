//! The Redis queue and the worker, on the real Redis: the shared queue suite, and what only
//! Redis has. Each test works under a key prefix of its own and removes its keys.

#[macro_use]
mod suite;

use std::time::Duration;

use djrs_tasks::{BoxFuture, PreparedTask, RedisBackend, Task, TaskResult, Tasks, TasksBuilder};
use suite::{Store, Stored};

pub(crate) fn redis_url() -> String {
    std::env::var("DJRS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A key prefix of this test's own on the real Redis.
pub(crate) struct RedisStore {
    pub(crate) prefix: String,
    client: redis::Client,
}

impl RedisStore {
    pub(crate) fn new() -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        RedisStore {
            prefix: format!("djrs-test-{}-{nanos}-{n}", std::process::id()),
            client: redis::Client::open(redis_url()).unwrap(),
        }
    }

    pub(crate) fn backend(&self) -> RedisBackend {
        RedisBackend::open(&redis_url())
            .unwrap()
            .prefix(&self.prefix)
            .unwrap()
    }

    pub(crate) async fn conn(&self) -> redis::aio::MultiplexedConnection {
        self.client
            .get_multiplexed_async_connection()
            .await
            .expect("Redis is reachable")
    }

    /// Every key under the prefix.
    pub(crate) async fn keys(&self) -> Vec<String> {
        let mut conn = self.conn().await;
        let mut keys = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}:*", self.prefix))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .unwrap();
            keys.extend(batch);
            if next == 0 {
                return keys;
            }
            cursor = next;
        }
    }

    pub(crate) async fn cleanup(self) {
        let keys = self.keys().await;
        let mut conn = self.conn().await;
        for chunk in keys.chunks(500) {
            redis::cmd("DEL")
                .arg(chunk)
                .query_async::<()>(&mut conn)
                .await
                .unwrap();
        }
    }
}

impl Store for RedisStore {
    fn builder(&self, limits: &[(&'static str, u32)]) -> TasksBuilder {
        let mut backend = self.backend();
        for (queue, limit) in limits {
            backend = backend.queue_limit(*queue, *limit);
        }
        Tasks::builder()
            .backend("default", backend)
            .queues("default", ["default", "low", "high", "limited"])
    }

    fn enqueue_in_transaction<'a>(
        &'a self,
        _tasks: &'a Tasks,
        _batch: Vec<PreparedTask>,
        _commit: bool,
    ) -> Option<BoxFuture<'a, djrs_tasks::Result<Vec<TaskResult>>>> {
        None
    }

    fn stored<'a>(&'a self, what: Stored) -> BoxFuture<'a, i64> {
        Box::pin(async move {
            let keys = self.keys().await;
            let mut conn = self.conn().await;
            let tasks: Vec<&String> = keys.iter().filter(|k| k.contains(":t:")).collect();
            let mut occurrences = std::collections::HashSet::new();
            for key in keys.iter().filter(|k| k.ends_with(":occ")) {
                let members: Vec<String> = redis::cmd("ZRANGE")
                    .arg(key)
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                occurrences.extend(members);
            }
            let n = match what {
                Stored::Tasks => tasks.len(),
                Stored::Occurrences => occurrences.len(),
                Stored::OccurrencesWithTheirTask => {
                    let mut linked = 0;
                    for key in tasks {
                        let occurrence: Option<String> = redis::cmd("HGET")
                            .arg(key)
                            .arg("o")
                            .query_async(&mut conn)
                            .await
                            .unwrap();
                        linked += usize::from(occurrence.is_some_and(|o| occurrences.contains(&o)));
                    }
                    linked
                }
            };
            i64::try_from(n).unwrap()
        })
    }
}

shared_suite!(RedisStore::new());

#[tokio::test]
async fn the_redis_backend_is_configured_by_name() {
    let store = RedisStore::new();
    let config: djrs_tasks::TasksConfig = serde_json::from_value(serde_json::json!({
        "default": {
            "BACKEND": "djrs_tasks.backends.redis.RedisBackend",
            "OPTIONS": {"URL": redis_url(), "PREFIX": store.prefix, "RESULT_TTL": 60,
                        "QUEUE_LIMITS": {"reports": 1}},
        }
    }))
    .unwrap();
    let tasks = Tasks::from_config(config).unwrap();
    let result = suite::record
        .enqueue(&tasks, "config".into(), 1)
        .await
        .unwrap();
    assert!(result.id.ends_with(".default"), "{}", result.id);
    assert_eq!(
        tasks.get_result(&result.id).await.unwrap().status,
        djrs_tasks::TaskResultStatus::Ready
    );

    for (options, message) in [
        (serde_json::json!({}), "needs the option URL"),
        (
            serde_json::json!({"URL": "http://x"}),
            "URL must be redis://",
        ),
        (
            serde_json::json!({"URL": redis_url(), "PREFIX": "a{b}"}),
            "without braces",
        ),
        (
            serde_json::json!({"URL": redis_url(), "RESULT_TTL": -1}),
            "RESULT_TTL must be",
        ),
        (
            serde_json::json!({"URL": redis_url(), "QUEUE_LIMITS": {"a": "x"}}),
            "whole number",
        ),
        (
            serde_json::json!({"URL": redis_url(), "HOST": 1}),
            "not \"HOST\"",
        ),
    ] {
        let config: djrs_tasks::TasksConfig = serde_json::from_value(serde_json::json!({
            "default": {"BACKEND": "RedisBackend", "OPTIONS": options}
        }))
        .unwrap();
        let err = Tasks::from_config(config).unwrap_err();
        assert!(err.to_string().contains(message), "{err}");
    }
    store.cleanup().await;
}

#[tokio::test]
async fn ids_from_elsewhere_name_no_task() {
    let store = RedisStore::new();
    let tasks = store.tasks();
    for id in [
        "",
        "nope",
        "0190c3a4-0000-7000-8000-000000000000.default",
        "0190c3a4.bad queue",
        "0190c3a4.a\0b",
        "0190c3a4.default}",
    ] {
        assert!(
            matches!(
                tasks.get_result(id).await,
                Err(djrs_tasks::Error::TaskResultDoesNotExist(_))
            ),
            "{id:?}"
        );
    }
    assert!(
        djrs_tasks::Queue::cancel(&store.backend(), "x.default")
            .await
            .unwrap()
            .is_none()
    );
    store.cleanup().await;
}

#[tokio::test]
async fn finished_results_expire_with_their_index_entries() {
    let store = RedisStore::new();
    let backend = store.backend().result_ttl(Some(Duration::from_millis(300)));
    let tasks = Tasks::builder()
        .backend("default", backend.clone())
        .build()
        .unwrap();
    let done = suite::record
        .using()
        .unique_key("expiring")
        .enqueue(&tasks, "ttl".into(), 1)
        .await
        .unwrap();
    djrs_tasks::Worker::new(&tasks)
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(
        tasks.get_result(&done.id).await.unwrap().status,
        djrs_tasks::TaskResultStatus::Successful
    );
    // The unique key went with the finish: the same key enqueues a new task at once.
    let again = suite::record
        .using()
        .unique_key("expiring")
        .enqueue(&tasks, "ttl".into(), 2)
        .await
        .unwrap();
    assert_ne!(again.id, done.id);
    // A unique key whose task's data is gone (expired, or evicted by a server that may evict)
    // is free again.
    let mut conn = store.conn().await;
    redis::cmd("DEL")
        .arg(format!("{}:{{default}}:t:{}", store.prefix, again.id))
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    let third = suite::record
        .using()
        .unique_key("expiring")
        .enqueue(&tasks, "ttl".into(), 3)
        .await
        .unwrap();
    assert_ne!(third.id, again.id);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(tasks.get_result(&done.id).await.is_err());
    djrs_tasks::Queue::rescue_expired(&backend).await.unwrap();
    // The next claim passes over the task whose data is gone and drops what named it.
    let claimed = djrs_tasks::Queue::claim(
        &backend,
        &djrs_tasks::WorkerId::from("w"),
        &["default".to_owned()],
        5,
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, third.id);
    let counts = djrs_tasks::Queue::counts(&backend).await.unwrap();
    assert_eq!(
        counts.rows,
        [(
            "default".to_owned(),
            djrs_tasks::TaskResultStatus::Running,
            1
        )]
    );
    store.cleanup().await;
}

/// The store's index sets agree with each other and with the tasks' own statuses: every
/// enqueued task is in exactly one status, and READY and RUNNING tasks are where claims and
/// rescue look for them.
async fn assert_accounted(store: &RedisStore, enqueued: usize) {
    let mut conn = store.conn().await;
    let base = format!("{}:{{default}}:", store.prefix);
    let mut card = async |name: &str| -> usize {
        redis::cmd("ZCARD")
            .arg(format!("{base}{name}"))
            .query_async(&mut conn)
            .await
            .unwrap()
    };
    let (ready, delayed, leases) = (
        card("ready").await,
        card("delayed").await,
        card("leases").await,
    );
    let (r, running, ok, failed) = (
        card("s:READY").await,
        card("s:RUNNING").await,
        card("s:SUCCESSFUL").await,
        card("s:FAILED").await,
    );
    assert_eq!(
        r + running + ok + failed,
        enqueued,
        "every task in one status"
    );
    assert_eq!(ready + delayed, r, "every READY task is ready or deferred");
    assert_eq!(leases, running, "every RUNNING task holds a lease");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_cut_off_at_random_points_lose_no_task() {
    use rand::Rng as _;
    let store = RedisStore::new();
    let backend = store.backend();
    let tasks = Tasks::builder()
        .backend("default", backend.clone())
        .build()
        .unwrap();
    let key = format!("cut-{}", store.prefix);
    const N: u32 = 10_000;
    for chunk in (0..N).collect::<Vec<_>>().chunks(1_000) {
        let batch = chunk
            .iter()
            .map(|i| suite::record.prepare(key.clone(), *i))
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        tasks.enqueue_many(batch).await.unwrap();
    }
    // 10,000 claims, each given a random time between nothing and a little more than a claim
    // takes: some finish, some are dropped before they are sent, some after the script ran.
    let worker = djrs_tasks::WorkerId::from("cut");
    let queues = ["default".to_owned()];
    let mut answered = 0;
    for i in 0..10_000u32 {
        let budget = Duration::from_micros(rand::rng().random_range(0..1_500));
        let claim =
            djrs_tasks::Queue::claim(&backend, &worker, &queues, 1, Duration::from_millis(300));
        if let Ok(result) = tokio::time::timeout(budget, claim).await {
            answered += result.unwrap().len();
        }
        if i % 2_500 == 0 {
            assert_accounted(&store, N as usize).await;
        }
    }
    assert_accounted(&store, N as usize).await;
    assert!(answered > 0, "some claims finished");
    // Every task runs exactly once: claimed ones once their lease expires (nobody ran them).
    tokio::time::sleep(Duration::from_millis(350)).await;
    djrs_tasks::Worker::new(&tasks)
        .concurrency(32)
        .lease(Duration::from_secs(5))
        .run_until_idle()
        .await
        .unwrap();
    assert_accounted(&store, N as usize).await;
    for i in 0..N {
        assert_eq!(suite::run_count(&key, i), 1, "item {i}");
    }
    store.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_task_deferred_far_beyond_the_lease_runs_once() {
    let store = RedisStore::new();
    let tasks = store.tasks();
    let key = format!("far-{}", store.prefix);
    let task = suite::record
        .using()
        .run_after(chrono::Utc::now() + chrono::Duration::milliseconds(1_200))
        .enqueue(&tasks, key.clone(), 1)
        .await
        .unwrap();
    let workers: Vec<_> = (0..3)
        .map(|_| {
            tokio::spawn(
                djrs_tasks::Worker::new(&store.tasks())
                    .lease(Duration::from_millis(150))
                    .poll_interval(Duration::from_millis(20))
                    .run_until(tokio::time::sleep(Duration::from_millis(2_500))),
            )
        })
        .collect();
    for worker in workers {
        worker.await.unwrap().unwrap();
    }
    assert_eq!(suite::run_count(&key, 1), 1);
    let done = tasks.get_result(&task.id).await.unwrap();
    assert_eq!(done.status, djrs_tasks::TaskResultStatus::Successful);
    assert_eq!(done.attempts(), 1);
    store.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_workers_concurrency_slot_frees_when_its_lease_expires() {
    let store = RedisStore::new();
    let backend = store.backend().queue_limit("limited", 1);
    let tasks = Tasks::builder()
        .backend("default", backend.clone())
        .queues("default", ["limited"])
        .build()
        .unwrap();
    for i in 0..2 {
        suite::record
            .using()
            .queue_name("limited")
            .enqueue(&tasks, "slot".into(), i)
            .await
            .unwrap();
    }
    let queues = ["limited".to_owned()];
    let claim = |who: &'static str| {
        let backend = backend.clone();
        let queues = queues.clone();
        async move {
            djrs_tasks::Queue::claim(
                &backend,
                &djrs_tasks::WorkerId::from(who),
                &queues,
                5,
                Duration::from_millis(300),
            )
            .await
            .unwrap()
            .len()
        }
    };
    // The first worker takes the one slot and dies holding it.
    assert_eq!(claim("dead").await, 1);
    assert_eq!(claim("alive").await, 0, "the slot is taken");
    tokio::time::sleep(Duration::from_millis(350)).await;
    // Its lease expired: the slot is free again, even before anyone rescues its task.
    assert_eq!(claim("alive").await, 1);
    store.cleanup().await;
}

/// The URL of database `db` on the test server (a database only one test uses, so it can
/// count its keys and kill its connections without touching other tests').
fn url_of_db(db: u8) -> String {
    let url = redis_url();
    let server = match url.rsplit_once('/') {
        Some((server, last))
            if last.chars().all(|c| c.is_ascii_digit()) && !server.ends_with('/') =>
        {
            server.to_owned()
        }
        _ => url,
    };
    format!("{server}/{db}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_connections_and_flushed_scripts_under_load_lose_nothing() {
    let url = url_of_db(9);
    let prefix = format!("djrs-kill-{}", std::process::id());
    let backend = || RedisBackend::open(&url).unwrap().prefix(&prefix).unwrap();
    let tasks = Tasks::builder()
        .backend("default", backend())
        .build()
        .unwrap();
    let key = format!("kill-{prefix}");
    const N: u32 = 2_000;
    let batch = (0..N)
        .map(|i| suite::record.prepare(key.clone(), i))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    tasks.enqueue_many(batch).await.unwrap();
    let stop = std::sync::Arc::new(tokio::sync::Notify::new());
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            let tasks = Tasks::builder()
                .backend("default", backend())
                .build()
                .unwrap();
            tokio::spawn(async move {
                djrs_tasks::Worker::new(&tasks)
                    .lease(Duration::from_millis(800))
                    .concurrency(8)
                    .poll_interval(Duration::from_millis(20))
                    .run_until(async move { stop.notified().await })
                    .await
                    .unwrap()
            })
        })
        .collect();
    // Kill every connection on this database (the workers', their Pub/Sub listeners') and
    // flush the scripts, again and again while they work.
    let admin = redis::Client::open(url.as_str()).unwrap();
    let mut conn = admin.get_multiplexed_async_connection().await.unwrap();
    let me: i64 = redis::cmd("CLIENT")
        .arg("ID")
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut kills = 0;
    for round in 0..12 {
        tokio::time::sleep(Duration::from_millis(60)).await;
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(&mut conn)
            .await
            .unwrap();
        for line in list.lines().filter(|l| l.contains(" db=9 ")) {
            let id: i64 = line
                .split(' ')
                .find_map(|f| f.strip_prefix("id="))
                .and_then(|id| id.parse().ok())
                .unwrap();
            if id != me {
                let killed: i64 = redis::cmd("CLIENT")
                    .arg("KILL")
                    .arg("ID")
                    .arg(id)
                    .query_async(&mut conn)
                    .await
                    .unwrap_or(0);
                kills += killed;
            }
        }
        if round % 3 == 0 {
            redis::cmd("SCRIPT")
                .arg("FLUSH")
                .query_async::<()>(&mut conn)
                .await
                .unwrap();
        }
    }
    assert!(kills > 0, "connections were killed");
    // The workers reconnect, reload the scripts and finish everything.
    let start = std::time::Instant::now();
    loop {
        let counts = djrs_tasks::Queue::counts(&backend()).await.unwrap();
        let ok = counts
            .rows
            .iter()
            .find(|(_, s, _)| *s == djrs_tasks::TaskResultStatus::Successful)
            .map_or(0, |(_, _, n)| *n);
        if ok == u64::from(N) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{counts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.notify_waiters();
    for worker in workers {
        worker.await.unwrap();
    }
    for i in 0..N {
        assert_eq!(suite::run_count(&key, i), 1, "item {i}");
    }
    redis::cmd("FLUSHDB")
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_and_keys_return_to_the_baseline_when_results_expire() {
    let url = url_of_db(10);
    let admin = redis::Client::open(url.as_str()).unwrap();
    let mut conn = admin.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("FLUSHDB")
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    // What this database's keys take (`MEMORY USAGE` of each): unlike the server's
    // `used_memory` (measured by `cargo xtask bench tasks-redis`), other tests running meanwhile
    // on other databases do not count.
    let used = async |conn: &mut redis::aio::MultiplexedConnection| -> i64 {
        let mut total = 0;
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("COUNT")
                .arg(5_000)
                .query_async(conn)
                .await
                .unwrap();
            let mut pipe = redis::pipe();
            for key in &keys {
                pipe.cmd("MEMORY").arg("USAGE").arg(key);
            }
            if !keys.is_empty() {
                let sizes: Vec<Option<i64>> = pipe.query_async(conn).await.unwrap();
                total += sizes.into_iter().flatten().sum::<i64>();
            }
            if next == 0 {
                return total;
            }
            cursor = next;
        }
    };
    let dbsize = async |conn: &mut redis::aio::MultiplexedConnection| -> i64 {
        redis::cmd("DBSIZE").query_async(conn).await.unwrap()
    };
    let backend = RedisBackend::open(&url)
        .unwrap()
        .prefix("djrs-ttl")
        .unwrap()
        .result_ttl(Some(Duration::from_secs(1)));
    let tasks = Tasks::builder()
        .backend("default", backend.clone())
        .build()
        .unwrap();
    // The baseline: the queue known, nothing in it.
    let warm = suite::record
        .enqueue(&tasks, "ttl-warm".into(), 0)
        .await
        .unwrap();
    djrs_tasks::Worker::new(&tasks)
        .run_until_idle()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    djrs_tasks::Queue::rescue_expired(&backend).await.unwrap();
    assert!(tasks.get_result(&warm.id).await.is_err());
    let (keys_before, memory_before) = (dbsize(&mut conn).await, used(&mut conn).await);

    const N: u32 = 100_000;
    for start in (0..N).step_by(2_000) {
        let batch = (start..start + 2_000)
            .map(|i| suite::record.prepare("ttl".into(), i))
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        tasks.enqueue_many(batch).await.unwrap();
    }
    let peak = used(&mut conn).await;
    djrs_tasks::Worker::new(&tasks)
        .concurrency(64)
        .run_until_idle()
        .await
        .unwrap();
    // Results expire one second after they finish; the worker's upkeep drops their entries.
    let start = std::time::Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        djrs_tasks::Queue::rescue_expired(&backend).await.unwrap();
        if dbsize(&mut conn).await == keys_before {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} keys left",
            dbsize(&mut conn).await
        );
    }
    let memory_after = used(&mut conn).await;
    let grew = peak - memory_before;
    assert!(grew > 10_000_000, "100,000 tasks took {grew} bytes");
    assert!(
        memory_after <= memory_before,
        "before {memory_before}, peak {peak}, after {memory_after}"
    );
    redis::cmd("FLUSHDB")
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
}

/// A `tracing` writer that keeps what is written.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn a_server_that_may_evict_tasks_is_warned_about() {
    // Database 11: only this test changes the server's policy (it is server-wide; no test
    // sets a memory limit, so nothing is evicted meanwhile).
    let url = url_of_db(11);
    let mut conn = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let set_policy = async |conn: &mut redis::aio::MultiplexedConnection, policy: &str| {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory-policy")
            .arg(policy)
            .query_async::<()>(conn)
            .await
            .unwrap();
    };
    let warnings_on_connect = async || {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        RedisBackend::open(&url).unwrap().connect().await.unwrap();
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    };
    set_policy(&mut conn, "allkeys-lru").await;
    let warned = warnings_on_connect().await;
    set_policy(&mut conn, "noeviction").await;
    assert!(
        warned.contains("maxmemory-policy") && warned.contains("allkeys-lru"),
        "{warned}"
    );
    assert!(!warnings_on_connect().await.contains("maxmemory-policy"));
}

/// Fails at once, for the operator's test below.
#[djrs_tasks::task(max_attempts = 1)]
async fn refuses(n: u32) -> Result<(), String> {
    Err(format!("{n} refused"))
}

/// Does nothing; found by name under many others.
#[djrs_tasks::task]
async fn needle() {}

/// The operator's retry and delete keep every index set in step with the tasks (each task in
/// one status set, finished ones in their finish-time set too, READY ones ready or deferred),
/// and a listing filtered by name goes on past one script's batch of ids to the oldest task.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_actions_keep_the_indexes_in_step_and_deep_filters_page_on() {
    use djrs_tasks::{Queue, ResultFilter, TaskResultStatus};

    let store = RedisStore::new();
    let backend = store.backend();
    let tasks = Tasks::builder()
        .backend("default", backend.clone())
        .build()
        .unwrap();
    // The needle first (the lowest id), then more than a script examines in one call.
    let found = needle.enqueue(&tasks).await.unwrap();
    let batch = (0..1_500)
        .map(|n| refuses.prepare(n))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    tasks.enqueue_many(batch).await.unwrap();
    let mut by_name = ResultFilter::default();
    by_name.task_name = Some(needle.name().to_owned());
    by_name.limit = Some(1);
    let listed = backend.list_results(&by_name).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, found.id);

    djrs_tasks::Worker::new(&tasks)
        .concurrency(32)
        .run_until_idle()
        .await
        .unwrap();
    let mut conn = store.conn().await;
    let base = format!("{}:{{default}}:", store.prefix);
    let mut finished_in_step = async || {
        for status in ["SUCCESSFUL", "FAILED"] {
            let (listed, timed): (usize, usize) = redis::pipe()
                .cmd("ZCARD")
                .arg(format!("{base}s:{status}"))
                .cmd("ZCARD")
                .arg(format!("{base}f:{status}"))
                .query_async(&mut conn)
                .await
                .unwrap();
            assert_eq!(listed, timed, "{status}");
        }
    };
    assert_accounted(&store, 1_501).await;
    finished_in_step().await;

    let mut failed = ResultFilter::default();
    failed.status = Some(TaskResultStatus::Failed);
    failed.limit = Some(500);
    let ids: Vec<_> = backend
        .list_results(&failed)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids.len(), 500);
    assert_eq!(backend.retry(&ids).await.unwrap(), ids);
    assert_accounted(&store, 1_501).await;
    finished_in_step().await;
    let counts = backend.counts().await.unwrap().rows;
    assert!(counts.contains(&("default".into(), TaskResultStatus::Ready, 500)));
    assert!(counts.contains(&("default".into(), TaskResultStatus::Failed, 1_000)));

    let mut gone = ids.clone();
    gone.push(found.id.clone());
    assert_eq!(backend.delete(&gone).await.unwrap(), gone);
    assert_accounted(&store, 1_000).await;
    finished_in_step().await;
    assert!(tasks.get_result(&found.id).await.is_err());
    let keys = store.keys().await;
    assert_eq!(keys.iter().filter(|k| k.contains(":t:")).count(), 1_000);
    assert!(
        !keys
            .iter()
            .any(|k| k.ends_with(":ready") || k.ends_with(":s:READY"))
    );
    store.cleanup().await;
}
