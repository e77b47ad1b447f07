//! `cargo xtask bench paginate`: offset and keyset pagination on PostgreSQL over 1,000,000 rows.
//!
//! Prints one `BENCH <name> <value> <unit>` line per figure (medians). The table lives in a
//! schema of its own, dropped at the end. Server: `DJRS_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`).

use std::str::FromStr;
use std::time::{Duration, Instant};

use djrs_paginate::{
    AsyncPaginator, CursorKey, KeyValue, KeysetPaginator, KeysetRow, SelectSource,
};
use sea_query::{Order, Query, SelectStatement};

const ROWS: i64 = 1_000_000;
const PER_PAGE: u64 = 10;
const DEPTH: u64 = 50_000;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    #[allow(dead_code, reason = "fetched like a real page would be, never read")]
    title: String,
}

impl KeysetRow for Row {
    fn key_values(&self) -> Vec<KeyValue> {
        vec![self.id.into()]
    }
}

fn query() -> SelectStatement {
    Query::select()
        .columns(["id", "title"])
        .from("bench_article")
        .to_owned()
}

/// Runs `f` `warmup + runs` times and returns the median of the last `runs`, in milliseconds.
async fn median_ms<F, Fut>(warmup: usize, runs: usize, mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..warmup {
        f().await;
    }
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f().await;
        times.push(start.elapsed());
    }
    times.sort();
    times[runs / 2].as_secs_f64() * 1000.0
}

fn bench(name: &str, value: f64, unit: &str) {
    println!("BENCH {name} {value:.3} {unit}");
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DJRS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("djrs_bench_paginate_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&url)
        .await
        .expect("PostgreSQL is reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    let options = sqlx::postgres::PgConnectOptions::from_str(&url)
        .unwrap()
        .options([("search_path", schema.as_str())]);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();

    let setup = Instant::now();
    sqlx::query("CREATE TABLE bench_article (id BIGINT PRIMARY KEY, title TEXT NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO bench_article SELECT g, 'Article ' || g FROM generate_series(1, {ROWS}) g"
    )))
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("VACUUM ANALYZE bench_article")
        .execute(&pool)
        .await
        .unwrap();
    eprintln!(
        "setup: {ROWS} rows in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let ordered = || query().order_by("id", Order::Asc).to_owned();

    // One COUNT(*) over the whole table (a fresh paginator each time, so nothing is cached).
    let count_ms = median_ms(2, 15, || async {
        let paginator = AsyncPaginator::new(
            SelectSource::<sqlx::Postgres, Row>::new(pool.clone(), ordered()),
            PER_PAGE,
        );
        assert_eq!(paginator.acount().await.unwrap(), ROWS as u64);
    })
    .await;

    // The page queries alone: the count is known, as it is after a paginator's first use.
    let paginator = AsyncPaginator::new(
        SelectSource::<sqlx::Postgres, Row>::new(pool.clone(), ordered()),
        PER_PAGE,
    )
    .with_count(ROWS as u64);
    let page1_ms = median_ms(5, 50, || async {
        let page = paginator.apage(1).await.unwrap();
        assert_eq!(page.object_list()[0].id, 1);
    })
    .await;
    let first_id_at_depth = ((DEPTH - 1) * PER_PAGE + 1) as i64;
    let offset_ms = median_ms(2, 15, || async {
        let page = paginator.apage(DEPTH).await.unwrap();
        assert_eq!(page.object_list()[0].id, first_id_at_depth);
    })
    .await;

    let keyset = KeysetPaginator::<sqlx::Postgres, Row>::new(pool.clone(), query(), PER_PAGE)
        .key("id", Order::Asc)
        .cursor_key(CursorKey::new(b"bench"));
    let cursor = keyset
        .cursor_after(vec![KeyValue::Int(first_id_at_depth - 1)])
        .unwrap();
    let keyset_ms = median_ms(5, 50, || async {
        let page = keyset.page(Some(&cursor)).await.unwrap();
        assert_eq!(page.object_list()[0].id, first_id_at_depth);
    })
    .await;

    bench("paginate.page1_ms", page1_ms, "ms");
    bench("paginate.count_ms", count_ms, "ms");
    bench("paginate.offset_depth50k_ms", offset_ms, "ms");
    bench("paginate.keyset_depth50k_ms", keyset_ms, "ms");
    bench("paginate.keyset_speedup_x", offset_ms / keyset_ms, "x");

    pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .unwrap();
}
