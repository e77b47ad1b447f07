//! `cargo xtask bench tasks-console`: the operator's console over 1,000,000 results on
//! PostgreSQL, through its router (query, rendering and all).
//!
//! Prints `BENCH tasks_console.<figure> <value> <unit>` lines: `list_ms`, the median of a
//! filtered list page (one queue's failed tasks, newest first) and a deep page (the page after
//! the 500,000th task); both separately, a task's page and the overview (which counts every
//! result, so it is not a list). Works in a schema of its own (djrs-test-support's `PgSchema`),
//! dropped at the end.

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use djrs_tasks::{PostgresBackend, Tasks};
use tower::ServiceExt;

const RESULTS: i64 = 1_000_000;
const RUNS: usize = 25;

/// `RUNS` timed GETs of `uri` (after one to warm up), in milliseconds, sorted.
async fn times_ms(app: &Router, uri: &str) -> Vec<f64> {
    let mut times = Vec::with_capacity(RUNS);
    for run in 0..=RUNS {
        let start = Instant::now();
        let response = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .unwrap();
        assert_eq!(
            status,
            StatusCode::OK,
            "{uri}: {}",
            String::from_utf8_lossy(&body)
        );
        if run > 0 {
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    times
}

fn median(sorted: &[f64]) -> f64 {
    sorted[sorted.len() / 2]
}

#[tokio::main]
async fn main() {
    // A schema of its own, dropped when the benchmark ends (also when it fails).
    let schema = djrs_test_support::PgSchema::create("djrs_bench_console")
        .await
        .expect("PostgreSQL is reachable");
    let pool = schema.pool(4).unwrap();
    let backend = PostgresBackend::from_pool(pool.clone());
    backend.migrate().await.unwrap();

    // A million results over ten queues and five task names, a tenth of a second apart (about
    // 28 hours): 94 % successful, 5 % failed with an error, 1 % waiting. Ids are UUIDv7 made
    // from each result's time, as the queue makes them.
    let start = Instant::now();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO djrs_task (id, task_name, backend, queue_name, priority, status, args, errors, \
           worker_ids, attempts, max_attempts, enqueued_at, started_at, finished_at, last_attempted_at) \
         SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(r, 1, 3) || '-8' || substr(r, 4, 3) || '-' || substr(r, 7, 12), \
           'app.tasks.job_' || (i % 5), 'default', 'queue_' || (i % 10), 0, \
           CASE WHEN i % 100 = 0 THEN 'READY' WHEN i % 20 = 1 THEN 'FAILED' ELSE 'SUCCESSFUL' END, \
           jsonb_build_array(i, 'customer-' || (i % 977)), \
           CASE WHEN i % 20 = 1 THEN jsonb_build_array(jsonb_build_object('exception_class_path', 'app::Error', \
             'traceback', 'line 1\nline 2', 'message', 'failed ' || i)) ELSE '[]'::jsonb END, \
           CASE WHEN i % 100 = 0 THEN '[]'::jsonb ELSE '[\"worker-1\"]'::jsonb END, \
           CASE WHEN i % 100 = 0 THEN 0 ELSE 1 END, 3, t, \
           CASE WHEN i % 100 = 0 THEN NULL ELSE t + interval '5 ms' END, \
           CASE WHEN i % 100 = 0 THEN NULL ELSE t + interval '25 ms' END, \
           CASE WHEN i % 100 = 0 THEN NULL ELSE t + interval '5 ms' END \
         FROM (SELECT i, t, lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') AS h, md5(i::text) AS r \
               FROM (SELECT i, now() - ({RESULTS} - i) * interval '100 ms' AS t \
                     FROM generate_series(1, {RESULTS}) AS i) AS times) AS made"
    )))
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE djrs_task")
        .execute(&pool)
        .await
        .unwrap();
    eprintln!(
        "filled {RESULTS} results in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    let tasks = Tasks::builder()
        .backend("default", backend)
        .build()
        .unwrap();
    let app: Router = Router::new()
        .nest("/tasks", djrs_tasks::axum::console(|_, _| true))
        .with_state(tasks);
    let middle: String =
        sqlx::query_scalar("SELECT id FROM djrs_task ORDER BY id DESC OFFSET $1 LIMIT 1")
            .bind(RESULTS / 2)
            .fetch_one(&pool)
            .await
            .unwrap();

    let filtered = times_ms(&app, "/tasks/list?status=FAILED&queue_name=queue_1").await;
    let deep = times_ms(&app, &format!("/tasks/list?before={middle}")).await;
    let mut both = [filtered.clone(), deep.clone()].concat();
    both.sort_by(f64::total_cmp);
    let (filtered, deep) = (median(&filtered), median(&deep));
    let deep_filtered =
        median(&times_ms(&app, &format!("/tasks/list?status=FAILED&before={middle}")).await);
    let task_page = median(&times_ms(&app, &format!("/tasks/task/{middle}")).await);
    let overview = median(&times_ms(&app, "/tasks").await);
    println!("BENCH tasks_console.list_ms {:.3} ms", median(&both));
    println!("BENCH tasks_console.filtered_list_ms {filtered:.3} ms");
    println!("BENCH tasks_console.deep_page_ms {deep:.3} ms");
    println!("BENCH tasks_console.deep_filtered_page_ms {deep_filtered:.3} ms");
    println!("BENCH tasks_console.task_page_ms {task_page:.3} ms");
    println!("BENCH tasks_console.overview_ms {overview:.3} ms");
    println!("BENCH tasks_console.results {RESULTS} results");

    pool.close().await;
    drop(schema);
}
