//! `cargo xtask bench tasks-postgres`: the PostgreSQL queue's enqueue, work and pickup figures.
//!
//! Prints `BENCH tasks_postgres.<figure> <value> <unit>` lines. Works in a schema of its own,
//! dropped at the end. The two-process figure runs this same binary twice as worker children
//! (selected by an environment variable), each stopped by its own handle.

use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use djrs_tasks::{PostgresBackend, Tasks, Worker, task};

const CHILD_ENV: &str = "DJRS_BENCH_TASKS_POSTGRES_WORKER";

#[task]
async fn noop(n: u64) {
    let _ = n;
}

static PICKUPS: Mutex<Vec<Duration>> = Mutex::new(Vec::new());

/// Records how long after `sent_micros` (Unix time) the task started.
#[task]
async fn pickup(sent_micros: i64) {
    let now = chrono::Utc::now().timestamp_micros();
    let waited = Duration::from_micros(u64::try_from(now - sent_micros).unwrap_or(0));
    PICKUPS.lock().unwrap().push(waited);
}

fn url() -> String {
    std::env::var("DJRS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn tasks_on(schema: &str, connections: u32) -> Tasks {
    let options = sqlx::postgres::PgConnectOptions::from_str(&url())
        .unwrap()
        .options([("search_path", schema)]);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(connections)
        .connect_lazy_with(options);
    Tasks::builder()
        .backend("default", PostgresBackend::from_pool(pool))
        .build()
        .unwrap()
}

async fn enqueue_noops(tasks: &Tasks, n: u64) {
    let prepared: Vec<_> = (0..n).map(|i| noop.prepare(i).unwrap()).collect();
    for chunk in prepared.chunks(5_000) {
        tasks.enqueue_many(chunk.to_vec()).await.unwrap();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    if let Ok(schema) = std::env::var(CHILD_ENV) {
        let stats = Worker::new(&tasks_on(&schema, 8))
            .concurrency(256)
            .run_until_idle()
            .await
            .unwrap();
        println!("worked {}", stats.succeeded);
        return;
    }
    let schema = format!("djrs_bench_tasks_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&url())
        .await
        .expect("PostgreSQL is reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    let tasks = tasks_on(&schema, 8);
    noop.enqueue(&tasks, 0).await.unwrap(); // migrates

    // Single enqueues, one after another.
    const SINGLE: u64 = 2_000;
    let start = Instant::now();
    for i in 0..SINGLE {
        noop.enqueue(&tasks, i).await.unwrap();
    }
    let single = SINGLE as f64 / start.elapsed().as_secs_f64();

    // Batches of 5,000 through UNNEST.
    const BATCH: u64 = 100_000;
    let start = Instant::now();
    enqueue_noops(&tasks, BATCH).await;
    let batch = BATCH as f64 / start.elapsed().as_secs_f64();

    // Drain everything enqueued so far with one worker in this process.
    let total = SINGLE + BATCH + 1;
    let start = Instant::now();
    let stats = Worker::new(&tasks)
        .concurrency(256)
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.succeeded, total);
    let worked = total as f64 / start.elapsed().as_secs_f64();

    // The same with two worker processes.
    const TWO: u64 = 100_000;
    enqueue_noops(&tasks, TWO).await;
    let start = Instant::now();
    let children: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .env(CHILD_ENV, &schema)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut worked_by_children = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success());
        let text = String::from_utf8_lossy(&output.stdout);
        worked_by_children += text
            .trim()
            .strip_prefix("worked ")
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    assert_eq!(worked_by_children, TWO);
    let worked_2proc = TWO as f64 / start.elapsed().as_secs_f64();

    // Pickup latency of an idle worker woken by NOTIFY from another pool.
    let worker_tasks = tasks_on(&schema, 4);
    let worker = tokio::spawn(
        Worker::new(&worker_tasks)
            .poll_interval(Duration::from_secs(60))
            .run_until(std::future::pending()),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    const PICKUPS_N: usize = 300;
    for _ in 0..PICKUPS_N {
        pickup
            .enqueue(&tasks, chrono::Utc::now().timestamp_micros())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while PICKUPS.lock().unwrap().len() < PICKUPS_N && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    worker.abort();
    let mut pickups = PICKUPS.lock().unwrap().clone();
    assert_eq!(pickups.len(), PICKUPS_N);
    pickups.sort();

    println!("BENCH tasks_postgres.enqueue_per_s {single:.0} per_s");
    println!("BENCH tasks_postgres.enqueue_batch_per_s {batch:.0} per_s");
    println!("BENCH tasks_postgres.worked_per_s {worked:.0} per_s");
    println!("BENCH tasks_postgres.worked_2proc_per_s {worked_2proc:.0} per_s");
    println!(
        "BENCH tasks_postgres.pickup_p50_ms {:.3} ms",
        percentile(&pickups, 0.50)
    );
    println!(
        "BENCH tasks_postgres.pickup_p99_ms {:.3} ms",
        percentile(&pickups, 0.99)
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .unwrap();
}
