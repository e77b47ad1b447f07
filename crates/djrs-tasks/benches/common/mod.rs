//! What the queue benchmarks share: the same figures on every database, measured the same way.
//!
//! - `enqueue_per_s`: single enqueues, one after another.
//! - `enqueue_batch_per_s`: `enqueue_many` in batches of 5,000.
//! - `enqueue_batch_in_memory_per_s`: the same batches into a `DummyBackend`: the cost of
//!   preparing, validating and encoding tasks, without a store.
//! - `ceiling_per_s`: the engine's own claim and complete statements in tight loops, 100 tasks
//!   at a time, without the worker: the best of 2, 4 and 8 concurrent loops (`ceiling_loops`),
//!   what the database and the statements allow.
//! - `worked_per_s`: no-op tasks run by one `Worker` (concurrency 256) until the queue is empty.
//! - `worked_vs_ceiling`: the ratio of the two, measured in the same run.
//! - `worked_metrics_per_s` / `metrics_cost_ratio` (where the bench passes a metrics switch):
//!   the worked figure with a metrics recorder on, and its ratio to `worked_per_s`. The two are
//!   measured in alternation, off, on, on, off, off, on, on, off, so that the machine's noise
//!   falls on both alike and a steady drift (the table grows by every measurement's tasks)
//!   cancels out; each is the mean of its four measurements.
//! - `pickup_p50_ms` / `pickup_p99_ms`: how long after its enqueue (from another pool, as
//!   another process would) an idle worker starts a task.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use djrs_tasks::{Completion, Outcome, Tasks, Worker, WorkerId, task};

#[task]
pub(crate) async fn noop(n: u64) {
    let _ = n;
}

static PICKUPS: Mutex<Vec<Duration>> = Mutex::new(Vec::new());

/// Records how long after `sent_micros` (Unix time) the task started.
#[task]
pub(crate) async fn pickup(sent_micros: i64) {
    let now = chrono::Utc::now().timestamp_micros();
    let waited = Duration::from_micros(u64::try_from(now - sent_micros).unwrap_or(0));
    PICKUPS.lock().unwrap().push(waited);
}

/// Enqueues `n` no-op tasks in batches of 5,000.
pub(crate) async fn enqueue_noops(tasks: &Tasks, n: u64) {
    let prepared: Vec<_> = (0..n).map(|i| noop.prepare(i).unwrap()).collect();
    for chunk in prepared.chunks(5_000) {
        tasks.enqueue_many(chunk.to_vec()).await.unwrap();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Runs every due task, which must be `n`.
async fn drain(tasks: &Tasks, n: u64) {
    let stats = Worker::new(tasks)
        .concurrency(256)
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.succeeded, n);
}

/// Works `n` no-op tasks with the engine's claim and complete statements only: `loops` loops at
/// once, each claiming 100 and completing them, until none is left. Tasks per second.
async fn ceiling_run(tasks: &Tasks, n: u64, loops: usize) -> f64 {
    enqueue_noops(tasks, n).await;
    let start = Instant::now();
    let handles: Vec<_> = (0..loops)
        .map(|i| {
            let tasks = tasks.clone();
            tokio::spawn(async move {
                let queue = tasks.backend("default").unwrap().queue().unwrap();
                let worker = WorkerId::from(format!("ceiling-{i}"));
                let queues = vec!["default".to_owned()];
                let mut done = 0u64;
                loop {
                    let claimed = queue
                        .claim(&worker, &queues, 100, Duration::from_secs(60))
                        .await
                        .unwrap();
                    if claimed.is_empty() {
                        return done;
                    }
                    done += claimed.len() as u64;
                    let completions: Vec<Completion> = claimed
                        .into_iter()
                        .map(|t| {
                            let attempt = t.attempts();
                            Completion::new(
                                t.id,
                                attempt,
                                Outcome::Succeeded(serde_json::Value::Null),
                            )
                        })
                        .collect();
                    queue.complete_many(&worker, &completions).await.unwrap();
                }
            })
        })
        .collect();
    let mut done = 0;
    for handle in handles {
        done += handle.await.unwrap();
    }
    assert_eq!(done, n);
    n as f64 / start.elapsed().as_secs_f64()
}

/// Sizes of one run.
pub(crate) struct Sizes {
    pub(crate) single: u64,
    pub(crate) batch: u64,
    pub(crate) ceiling: u64,
    pub(crate) worked: u64,
    pub(crate) pickups: usize,
}

/// Turns the benchmark's metrics recorder on or off for the workers started after the call.
pub(crate) type MetricsSwitch<'a> = &'a (dyn Fn(bool) + Sync);

/// Works `n` no-op tasks with one worker (concurrency 256) until the queue is empty; tasks per
/// second, from the worker's start.
async fn worked_rate(tasks: &Tasks, n: u64) -> f64 {
    enqueue_noops(tasks, n).await;
    let start = Instant::now();
    let stats = Worker::new(tasks)
        .concurrency(256)
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.succeeded, n);
    n as f64 / start.elapsed().as_secs_f64()
}

fn mean(rates: &[f64]) -> f64 {
    rates.iter().sum::<f64>() / rates.len() as f64
}

/// Runs every figure on the store `tasks` makes (each call a new pool, as another process
/// would have) and prints `BENCH <prefix>.<figure>` lines; returns worked per second.
#[allow(
    dead_code,
    reason = "each bench compiles this module; tasks_postgres calls run_with_metrics instead"
)]
pub(crate) async fn run(prefix: &str, sizes: &Sizes, tasks: impl Fn() -> Tasks) -> f64 {
    run_with_metrics(prefix, sizes, tasks, None).await
}

/// [`run`], with `worked_per_s` measured in alternation with `metrics` off and on (when given),
/// which adds `worked_metrics_per_s` and `metrics_cost_ratio`.
pub(crate) async fn run_with_metrics(
    prefix: &str,
    sizes: &Sizes,
    tasks: impl Fn() -> Tasks,
    metrics: Option<MetricsSwitch<'_>>,
) -> f64 {
    let main = tasks();
    noop.enqueue(&main, 0).await.unwrap(); // migrates
    let queue = || main.backend("default").unwrap().queue().unwrap();
    drain(&main, 1).await;

    let start = Instant::now();
    for i in 0..sizes.single {
        noop.enqueue(&main, i).await.unwrap();
    }
    let single = sizes.single as f64 / start.elapsed().as_secs_f64();
    drain(&main, sizes.single).await;

    let start = Instant::now();
    enqueue_noops(&main, sizes.batch).await;
    let batch = sizes.batch as f64 / start.elapsed().as_secs_f64();
    drain(&main, sizes.batch).await;

    // The same batches into memory (`DummyBackend`): what validation and encoding alone allow.
    let dummy = Tasks::builder()
        .backend("default", djrs_tasks::DummyBackend::new())
        .build()
        .unwrap();
    let start = Instant::now();
    enqueue_noops(&dummy, sizes.batch).await;
    let batch_in_memory = sizes.batch as f64 / start.elapsed().as_secs_f64();

    // The ceiling: claim 100, complete 100, from 2, 4 and 8 loops at once, until none is left;
    // the best of the three.
    let mut ceiling: f64 = 0.0;
    let mut ceiling_loops = 0;
    for loops in [2, 4, 8] {
        let rate = ceiling_run(&main, sizes.ceiling, loops).await;
        if rate > ceiling {
            (ceiling, ceiling_loops) = (rate, loops);
        }
    }

    let (worked, worked_metrics) = match metrics {
        None => (worked_rate(&main, sizes.worked).await, None),
        Some(switch) => {
            let (mut off, mut on, mut order) = (Vec::new(), Vec::new(), Vec::new());
            for round in 0..4 {
                // Off first in even rounds, on first in odd ones.
                for metrics_on in [round % 2 == 1, round % 2 == 0] {
                    switch(metrics_on);
                    let rate = worked_rate(&main, sizes.worked).await;
                    order.push(format!(
                        "{}={rate:.0}",
                        if metrics_on { "on" } else { "off" }
                    ));
                    if metrics_on {
                        on.push(rate)
                    } else {
                        off.push(rate)
                    }
                }
            }
            switch(false);
            println!(
                "# {prefix} worked per second, in order: {}",
                order.join(" ")
            );
            (mean(&off), Some(mean(&on)))
        }
    };
    assert!(
        queue()
            .counts()
            .await
            .unwrap()
            .rows
            .iter()
            .all(|(_, status, _)| status.is_finished())
    );

    // Pickup latency of an idle worker; tasks come from another pool.
    let worker_tasks = tasks();
    let worker = tokio::spawn(
        Worker::new(&worker_tasks)
            .poll_interval(Duration::from_secs(60))
            .run_until(std::future::pending()),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sender = tasks();
    for _ in 0..sizes.pickups {
        pickup
            .enqueue(&sender, chrono::Utc::now().timestamp_micros())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while PICKUPS.lock().unwrap().len() < sizes.pickups && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    worker.abort();
    let mut pickups = std::mem::take(&mut *PICKUPS.lock().unwrap());
    assert_eq!(pickups.len(), sizes.pickups);
    pickups.sort();

    println!("BENCH {prefix}.enqueue_per_s {single:.0} per_s");
    println!("BENCH {prefix}.enqueue_batch_per_s {batch:.0} per_s");
    println!("BENCH {prefix}.enqueue_batch_in_memory_per_s {batch_in_memory:.0} per_s");
    println!("BENCH {prefix}.ceiling_per_s {ceiling:.0} per_s");
    println!("BENCH {prefix}.ceiling_loops {ceiling_loops} loops");
    println!("BENCH {prefix}.worked_per_s {worked:.0} per_s");
    println!(
        "BENCH {prefix}.worked_vs_ceiling {:.2} ratio",
        worked / ceiling
    );
    if let Some(worked_metrics) = worked_metrics {
        println!("BENCH {prefix}.worked_metrics_per_s {worked_metrics:.0} tasks/s");
        println!(
            "BENCH {prefix}.metrics_cost_ratio {:.3} ratio",
            worked_metrics / worked
        );
    }
    println!(
        "BENCH {prefix}.pickup_p50_ms {:.3} ms",
        percentile(&pickups, 0.50)
    );
    println!(
        "BENCH {prefix}.pickup_p99_ms {:.3} ms",
        percentile(&pickups, 0.99)
    );
    worked
}
