//! `cargo xtask bench tasks-soak`: 2,000,000 no-op tasks through the PostgreSQL queue with the
//! workers' retention on, to show that the queue does not slow down or grow under churn.
//!
//! A producer enqueues in batches of 5,000 while one worker (concurrency 256) works; the
//! worker's own pruner ([`Retention`]) deletes finished results older than a second every half
//! second and compacts the store every minute; the backlog stays under 50,000. Prints
//! `BENCH tasks_soak.first_tenth_per_s` and `last_tenth_per_s` (tasks finished per second over
//! the first and the last tenth), `empty_bytes` (table and indexes after migration) and
//! `after_prune_bytes` (once every task has finished and been pruned, and a compaction the
//! worker began after that has ended: what the workers leave by themselves). `DJRS_BENCH_SOAK_TASKS` sets
//! another total for a shorter run. Where the server runs without autovacuum, the benchmark
//! runs a plain `VACUUM` every 5 s, as autovacuum would.

// Only the no-op task and its batch enqueue are used here.
#[allow(dead_code)]
mod common;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use djrs_tasks::{PostgresBackend, Retention, Tasks, Worker};

fn url() -> String {
    std::env::var("DJRS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// How often the worker compacts the store here (a day by default).
const COMPACT_EVERY: Duration = Duration::from_secs(60);

/// The object id of one of the task table's indexes (a rebuild changes it).
async fn index_oid(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT 'djrs_task_finished'::regclass::oid::int8")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// When the latest compaction began: the compaction lease's holder ends in `@` and the
/// microseconds of its start.
async fn compaction_began(pool: &sqlx::PgPool) -> Option<chrono::DateTime<chrono::Utc>> {
    let holder: Option<String> = sqlx::query_scalar(
        "SELECT holder FROM djrs_task_leader WHERE name = 'djrs_tasks.compaction'",
    )
    .fetch_optional(pool)
    .await
    .unwrap();
    let micros = holder?.rsplit_once('@')?.1.parse().ok()?;
    chrono::DateTime::from_timestamp_micros(micros)
}

/// Whether a `REINDEX` runs on this server now.
async fn reindexing(pool: &sqlx::PgPool) -> bool {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE query ILIKE 'REINDEX%' AND state = 'active')",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn table_bytes(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT pg_total_relation_size('djrs_task')")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::main]
async fn main() {
    // The worker's warnings (a failed prune or compaction) show on stderr; `RUST_LOG` for more.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("djrs_tasks=warn")),
        )
        .init();
    let total: u64 = std::env::var("DJRS_BENCH_SOAK_TASKS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000_000);
    let tenth = total / 10;
    let schema = format!("djrs_bench_soak_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&url())
        .await
        .expect("PostgreSQL is reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    let options = sqlx::postgres::PgConnectOptions::from_str(&url())
        .unwrap()
        .options([("search_path", schema.as_str())]);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(10)
        .connect_lazy_with(options);
    let finished = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&finished);
    let backend = PostgresBackend::from_pool(pool.clone());
    backend.migrate().await.unwrap();
    let tasks = Tasks::builder()
        .backend("default", backend.clone())
        .on_task_finished(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        })
        .build()
        .unwrap();
    let empty_bytes = table_bytes(&pool).await;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let second = Some(Duration::from_secs(1));
    let retention = Retention::default()
        .successful(second)
        .failed(second)
        .every(Duration::from_millis(500))
        .compact_every(Some(COMPACT_EVERY));
    let worker = tokio::spawn(
        Worker::new(&tasks)
            .concurrency(256)
            .retention(retention)
            .run_until(until(stopped.clone())),
    );
    // Production servers run autovacuum; where this one has it off, the benchmark stands in
    // for it with a plain VACUUM every 5 s (online, as autovacuum's).
    let autovacuum: String = sqlx::query_scalar("SHOW autovacuum")
        .fetch_one(&pool)
        .await
        .unwrap();
    println!("tasks_soak: the server's autovacuum is {autovacuum}");
    let vacuum = (autovacuum != "on").then(|| {
        let stopped = stopped.clone();
        let pool = pool.clone();
        tokio::spawn(async move {
            while !*stopped.borrow() {
                tokio::time::sleep(Duration::from_secs(5)).await;
                sqlx::raw_sql("VACUUM djrs_task")
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        })
    });

    let start = Instant::now();
    let mut marks = Vec::with_capacity(11);
    marks.push(start);
    let mut enqueued = 0;
    while finished.load(Ordering::Relaxed) < total {
        let done = finished.load(Ordering::Relaxed);
        if enqueued < total && enqueued - done < 50_000 {
            let n = 5_000.min(total - enqueued);
            common::enqueue_noops(&tasks, n).await;
            enqueued += n;
        } else {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        while marks.len() <= 10 && finished.load(Ordering::Relaxed) >= tenth * marks.len() as u64 {
            marks.push(Instant::now());
        }
    }
    while marks.len() <= 10 {
        marks.push(Instant::now());
    }
    let rate = |from: usize| tenth as f64 / (marks[from + 1] - marks[from]).as_secs_f64();
    let (first, last) = (rate(0), rate(9));

    // Every task has finished: the worker prunes them within a few seconds, then compacts at
    // its next interval. Wait for the first, then for a compaction that began after it to have
    // rebuilt the indexes (an index's object id changes) and ended; bounded.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM djrs_task")
            .fetch_one(&pool)
            .await
            .unwrap();
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{left} results were not pruned");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let emptied = chrono::Utc::now();
    let index_before = index_oid(&pool).await;
    loop {
        assert!(
            Instant::now() < deadline,
            "no compaction ended within {COMPACT_EVERY:?} × several after the table emptied"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        let began_after = compaction_began(&pool)
            .await
            .is_some_and(|began| began > emptied);
        if began_after && index_oid(&pool).await != index_before && !reindexing(&pool).await {
            break;
        }
    }
    let after = table_bytes(&pool).await;
    let _ = stop.send(true);
    worker.await.unwrap().unwrap();
    if let Some(vacuum) = vacuum {
        vacuum.await.unwrap();
    }

    println!("BENCH tasks_soak.tasks {total} tasks");
    println!("BENCH tasks_soak.first_tenth_per_s {first:.0} per_s");
    println!("BENCH tasks_soak.last_tenth_per_s {last:.0} per_s");
    println!("BENCH tasks_soak.last_vs_first {:.2} ratio", last / first);
    println!("BENCH tasks_soak.empty_bytes {empty_bytes} bytes");
    println!("BENCH tasks_soak.after_prune_bytes {after} bytes");
    println!(
        "BENCH tasks_soak.after_prune_vs_empty {:.2} ratio",
        after as f64 / empty_bytes as f64
    );
    pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .unwrap();
}
