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
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(tasks.get_result(&done.id).await.is_err());
    djrs_tasks::Queue::rescue_expired(&backend).await.unwrap();
    let counts = djrs_tasks::Queue::counts(&backend).await.unwrap();
    assert_eq!(
        counts.rows,
        [("default".to_owned(), djrs_tasks::TaskResultStatus::Ready, 1)]
    );
    store.cleanup().await;
}
