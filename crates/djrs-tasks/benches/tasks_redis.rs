//! `cargo xtask bench tasks-redis`: the Redis queue's figures (see `common/mod.rs`) under a key
//! prefix of its own, removed at the end; then memory: `memory_growth_bytes` is what 100,000
//! finished results with a one-second time to live took at their peak, and
//! `memory_after_expiry_bytes` what is left of it once they expired (Redis's `used_memory`).

mod common;

use std::time::{Duration, Instant};

use djrs_tasks::{Queue, RedisBackend, Tasks, Worker};

fn url() -> String {
    std::env::var("DJRS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

async fn used_memory(conn: &mut redis::aio::MultiplexedConnection) -> i64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(conn)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

/// Deletes every key under `prefix`, a page of SCAN at a time (never `KEYS`, which blocks the
/// server on a large keyspace).
async fn delete_prefix(conn: &mut redis::aio::MultiplexedConnection, prefix: &str) {
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}:*"))
            .arg("COUNT")
            .arg(10_000)
            .query_async(conn)
            .await
            .unwrap();
        if !keys.is_empty() {
            redis::cmd("UNLINK")
                .arg(&keys)
                .query_async::<()>(conn)
                .await
                .unwrap();
        }
        if next == 0 {
            return;
        }
        cursor = next;
    }
}

#[tokio::main]
async fn main() {
    let prefix = format!("djrs-bench-{}", std::process::id());
    let client = redis::Client::open(url()).unwrap();
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis is reachable");
    let backend = || RedisBackend::open(&url()).unwrap().prefix(&prefix).unwrap();
    let sizes = common::Sizes {
        single: 5_000,
        batch: 100_000,
        ceiling: 50_000,
        worked: 100_000,
        pickups: 200,
    };
    common::run("tasks_redis", &sizes, || {
        Tasks::builder()
            .backend("default", backend())
            .build()
            .unwrap()
    })
    .await;
    delete_prefix(&mut conn, &prefix).await;

    // Memory: 100,000 results that expire one second after they finish.
    let ttl = backend().result_ttl(Some(Duration::from_secs(1)));
    let tasks = Tasks::builder()
        .backend("default", ttl.clone())
        .build()
        .unwrap();
    common::noop.enqueue(&tasks, 0).await.unwrap();
    Worker::new(&tasks).run_until_idle().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    ttl.rescue_expired().await.unwrap();
    let before = used_memory(&mut conn).await;
    common::enqueue_noops(&tasks, 100_000).await;
    Worker::new(&tasks)
        .concurrency(256)
        .run_until_idle()
        .await
        .unwrap();
    let peak = used_memory(&mut conn).await;
    let start = Instant::now();
    while ttl
        .counts()
        .await
        .unwrap()
        .rows
        .iter()
        .any(|(_, _, n)| *n > 0)
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "results did not expire"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        ttl.rescue_expired().await.unwrap();
    }
    // Let Redis's active expiry reclaim the last hashes.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = used_memory(&mut conn).await;
    println!(
        "BENCH tasks_redis.memory_growth_bytes {} bytes",
        peak - before
    );
    println!(
        "BENCH tasks_redis.memory_after_expiry_bytes {} bytes",
        after - before
    );
    delete_prefix(&mut conn, &prefix).await;
}
