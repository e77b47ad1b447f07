//! `cargo xtask bench tasks-postgres`: the PostgreSQL queue's figures (see `common/mod.rs`),
//! plus the worked rate of two worker processes.
//!
//! Prints `BENCH tasks_postgres.<figure> <value> <unit>` lines. Works in a schema of its own,
//! dropped at the end. The two-process figure runs this same binary twice as worker children
//! (selected by an environment variable), each stopped by its own handle.
//!
//! The worked rate is measured with and without a Prometheus recorder (`metrics-exporter-
//! prometheus`, installed as the global recorder behind a switch, rendered every second as a
//! scraper would ask), alternately: `worked_metrics_per_s` and `metrics_cost_ratio`.

mod common;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use djrs_tasks::{PostgresBackend, Tasks, Worker};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};

const CHILD_ENV: &str = "DJRS_BENCH_TASKS_POSTGRES_WORKER";

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

/// The Prometheus recorder behind a switch: metrics registered while it is off go nowhere, as
/// with no recorder installed.
struct Switched {
    on: AtomicBool,
    prometheus: PrometheusRecorder,
}

impl Switched {
    fn on(&self) -> bool {
        self.on.load(Ordering::SeqCst)
    }
}

impl Recorder for Switched {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        if self.on() {
            self.prometheus.describe_counter(key, unit, description);
        }
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        if self.on() {
            self.prometheus.describe_gauge(key, unit, description);
        }
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        if self.on() {
            self.prometheus.describe_histogram(key, unit, description);
        }
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        if self.on() {
            self.prometheus.register_counter(key, metadata)
        } else {
            Counter::noop()
        }
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        if self.on() {
            self.prometheus.register_gauge(key, metadata)
        } else {
            Gauge::noop()
        }
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        if self.on() {
            self.prometheus.register_histogram(key, metadata)
        } else {
            Histogram::noop()
        }
    }
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
    let sizes = common::Sizes {
        single: 2_000,
        batch: 100_000,
        ceiling: 50_000,
        worked: 100_000,
        pickups: 300,
    };
    let recorder: &'static Switched = Box::leak(Box::new(Switched {
        on: AtomicBool::new(false),
        prometheus: PrometheusBuilder::new().build_recorder(),
    }));
    metrics::set_global_recorder(recorder).expect("the only recorder");
    // A scraper: renders (and so drains the histograms) every second.
    let handle = recorder.prometheus.handle();
    let scraper = tokio::spawn(async move {
        let mut scraped = 0;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            scraped += handle.render().len();
            std::hint::black_box(scraped);
        }
    });
    let switch = |on: bool| recorder.on.store(on, Ordering::SeqCst);
    common::run_with_metrics(
        "tasks_postgres",
        &sizes,
        || tasks_on(&schema, 8),
        Some(&switch),
    )
    .await;
    // The recorder saw the worker's metrics.
    assert!(
        recorder
            .prometheus
            .handle()
            .render()
            .contains("djrs_tasks_succeeded_total")
    );
    scraper.abort();

    // Two worker processes.
    const TWO: u64 = 100_000;
    common::enqueue_noops(&tasks_on(&schema, 8), TWO).await;
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
    println!("BENCH tasks_postgres.worked_2proc_per_s {worked_2proc:.0} per_s");

    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .unwrap();
}
