//! `cargo xtask bench tasks-postgres`: the PostgreSQL queue's figures (see `common/mod.rs`),
//! plus the worked rate of two worker processes.
//!
//! Prints `BENCH tasks_postgres.<figure> <value> <unit>` lines. Works in a schema of its own,
//! dropped at the end. The two-process figure runs this same binary twice as worker children
//! (selected by an environment variable), each stopped by its own handle.

mod common;

use std::str::FromStr;
use std::time::Instant;

use djrs_tasks::{PostgresBackend, Tasks, Worker};

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
    common::run("tasks_postgres", &sizes, || tasks_on(&schema, 8)).await;

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
