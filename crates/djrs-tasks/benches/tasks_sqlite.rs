//! `cargo xtask bench tasks-sqlite`: the embedded SQLite queue's enqueue and work rates.
//!
//! Prints `BENCH tasks_sqlite.<figure> <value> per_s` lines. Each figure is the median of
//! several runs, each on a fresh database file in a temp dir.

use std::time::Instant;

use djrs_tasks::{SqliteBackend, Tasks, Worker, task};

#[task]
async fn noop(n: u64) {
    let _ = n;
}

fn fresh() -> (tempfile::TempDir, Tasks) {
    let dir = tempfile::tempdir().unwrap();
    let tasks = Tasks::builder()
        .backend(
            "default",
            SqliteBackend::open(dir.path().join("bench.sqlite3")).unwrap(),
        )
        .build()
        .unwrap();
    (dir, tasks)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    const SINGLE: u64 = 2_000;
    const BATCH: u64 = 50_000;
    const WORKED: u64 = 20_000;
    const RUNS: usize = 3;

    let mut single = Vec::new();
    let mut batch = Vec::new();
    let mut worked = Vec::new();
    for _ in 0..RUNS {
        let (_dir, tasks) = fresh();
        noop.enqueue(&tasks, 0).await.unwrap(); // creates the schema
        let start = Instant::now();
        for i in 0..SINGLE {
            noop.enqueue(&tasks, i).await.unwrap();
        }
        single.push(SINGLE as f64 / start.elapsed().as_secs_f64());

        let (_dir, tasks) = fresh();
        noop.enqueue(&tasks, 0).await.unwrap();
        let prepared: Vec<_> = (0..BATCH).map(|i| noop.prepare(i).unwrap()).collect();
        let start = Instant::now();
        for chunk in prepared.chunks(1_000) {
            tasks.enqueue_many(chunk.to_vec()).await.unwrap();
        }
        batch.push(BATCH as f64 / start.elapsed().as_secs_f64());

        let (_dir, tasks) = fresh();
        let prepared: Vec<_> = (0..WORKED).map(|i| noop.prepare(i).unwrap()).collect();
        for chunk in prepared.chunks(1_000) {
            tasks.enqueue_many(chunk.to_vec()).await.unwrap();
        }
        let start = Instant::now();
        let stats = Worker::new(&tasks)
            .concurrency(32)
            .run_until_idle()
            .await
            .unwrap();
        assert_eq!(stats.succeeded, WORKED);
        worked.push(WORKED as f64 / start.elapsed().as_secs_f64());
    }
    println!(
        "BENCH tasks_sqlite.enqueue_per_s {:.0} per_s",
        median(single)
    );
    println!(
        "BENCH tasks_sqlite.enqueue_batch_per_s {:.0} per_s",
        median(batch)
    );
    println!(
        "BENCH tasks_sqlite.worked_per_s {:.0} per_s",
        median(worked)
    );
}
