//! `cargo xtask bench orm-ext`: what the Django 6.0 additions cost.
//!
//! - rendering a `StringAgg` (build the expression and the statement's SQL), in microseconds;
//! - `save()` on PostgreSQL: an INSERT with `RETURNING` of the key, a default and two generated
//!   columns, against a plain INSERT that returns nothing; an UPDATE with `RETURNING` of the
//!   refreshed generated column;
//! - `save()` on MariaDB: the hand-written `INSERT … RETURNING`; an UPDATE that refreshes a
//!   generated column (UPDATE + SELECT by key, since MariaDB has no `UPDATE … RETURNING`) against
//!   one that refreshes nothing (UPDATE alone); and the `SELECT VERSION()` that backend
//!   detection adds per save unless the backend is pinned.
//!
//! PostgreSQL runs with `synchronous_commit = off` for the session, so a commit's disk flush
//! (milliseconds on this machine) does not hide the statements' cost.
//!
//! Prints one `BENCH <name> <value> <unit>` line per figure (medians). Tables live in a schema
//! (PostgreSQL) or database (MariaDB) of their own, dropped at the end. Servers:
//! `DJRS_TEST_POSTGRES_URL`, `DJRS_TEST_MYSQL_URL`.

use std::str::FromStr;
use std::time::{Duration, Instant};

use djrs_orm_ext::{DatabaseServer, Record, Save, StringAgg, big_auto_column};
use sea_query::{
    ColumnDef, Expr, ExprTrait, MysqlQueryBuilder, Order, PostgresQueryBuilder, Query, Table,
};

#[derive(Debug, Clone, Record)]
#[record(table = "bench_article")]
struct Article {
    id: Option<i64>,
    title: String,
    note: String,
    #[record(db_default)]
    views: Option<i64>,
    #[record(generated(title))]
    title_length: Option<i64>,
    #[record(generated(views))]
    double_views: Option<i64>,
}

fn draft(i: usize) -> Article {
    Article {
        id: None,
        title: format!("Article {i}"),
        note: String::new(),
        views: None,
        title_length: None,
        double_views: None,
    }
}

fn table(backend: &DatabaseServer) -> String {
    let stmt = Table::create()
        .table("bench_article")
        .col(big_auto_column("id", backend))
        .col(ColumnDef::new("title").string_len(200).not_null())
        .col(ColumnDef::new("note").string_len(200).not_null())
        .col(ColumnDef::new("views").big_integer().not_null().default(0))
        .col(
            ColumnDef::new("title_length")
                .big_integer()
                .generated(Expr::cust("CHAR_LENGTH(title)"), true),
        )
        .col(
            ColumnDef::new("double_views")
                .big_integer()
                .generated(Expr::cust("views * 2"), true),
        )
        .to_owned();
    if backend.vendor() == djrs_orm_ext::Vendor::PostgreSql {
        stmt.to_string(PostgresQueryBuilder)
    } else {
        stmt.to_string(MysqlQueryBuilder)
    }
}

/// Runs `f` `warmup + runs` times and returns the median of the last `runs`, in microseconds.
async fn median_us<F, Fut>(warmup: usize, runs: usize, mut f: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..warmup {
        f(i).await;
    }
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    for i in 0..runs {
        let start = Instant::now();
        f(warmup + i).await;
        times.push(start.elapsed());
    }
    times.sort();
    times[runs / 2].as_secs_f64() * 1e6
}

fn bench(name: &str, value: f64, unit: &str) {
    println!("BENCH {name} {value:.3} {unit}");
}

fn render_us() -> f64 {
    let backend = DatabaseServer::postgres(16, 0);
    let runs = 20_000;
    let start = Instant::now();
    let mut total = 0;
    for _ in 0..runs {
        let agg = StringAgg::new(Expr::col(("tag", "name")))
            .delimiter(", ")
            .distinct()
            .order_by(Expr::col(("tag", "name")), Order::Asc)
            .filter(Expr::col(("tag", "hidden")).eq(false))
            .default("");
        let query = Query::select()
            .column(("tag", "article_id"))
            .expr_as(agg.to_expr(&backend).unwrap(), "tags")
            .from("tag")
            .group_by_col(("tag", "article_id"))
            .to_owned();
        total += query.build(PostgresQueryBuilder).0.len();
    }
    assert!(total > 0);
    start.elapsed().as_secs_f64() * 1e6 / f64::from(runs)
}

#[tokio::main]
async fn main() {
    bench("orm_ext.string_agg_render_us", render_us(), "us");

    // PostgreSQL.
    let url = std::env::var("DJRS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let admin = sqlx::PgPool::connect(&url).await.expect("PostgreSQL");
    let schema = format!("djrs_bench_orm_{}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    let options = sqlx::postgres::PgConnectOptions::from_str(&url)
        .unwrap()
        // Without a disk flush per commit, the figures are the statements' cost.
        .options([
            ("search_path", schema.as_str()),
            ("synchronous_commit", "off"),
        ]);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(table(&DatabaseServer::postgres(15, 0))))
        .execute(&pool)
        .await
        .unwrap();
    let insert = median_us(50, 500, |i| {
        let pool = &pool;
        async move {
            let mut article = draft(i);
            article.save(pool).await.unwrap();
            assert!(article.title_length.is_some());
        }
    })
    .await;
    let plain = median_us(50, 500, |i| {
        let pool = &pool;
        async move {
            sqlx::query("INSERT INTO bench_article (title, note) VALUES ($1, '')")
                .bind(format!("Article {i}"))
                .execute(pool)
                .await
                .unwrap();
        }
    })
    .await;
    let mut article = draft(0);
    article.save(&pool).await.unwrap();
    let update = median_us(50, 500, |i| {
        let mut article = article.clone();
        let pool = &pool;
        async move {
            article.title = format!("Title {i}");
            article.save(pool).await.unwrap();
        }
    })
    .await;
    bench("orm_ext.pg_save_insert_returning_us", insert, "us");
    bench("orm_ext.pg_plain_insert_us", plain, "us");
    bench("orm_ext.pg_save_update_returning_us", update, "us");
    pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .unwrap();

    // MariaDB.
    let url = std::env::var("DJRS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let admin = sqlx::MySqlPool::connect(&url).await.expect("MariaDB");
    let database = format!("djrs_bench_orm_{}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&admin)
        .await
        .unwrap();
    let options = sqlx::mysql::MySqlConnectOptions::from_str(&url)
        .unwrap()
        .database(&database);
    let pool = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let backend = DatabaseServer::detect(&pool).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(table(&backend)))
        .execute(&pool)
        .await
        .unwrap();
    let pinned = || Save::new().server(backend);
    let insert = median_us(50, 500, |i| {
        let pool = &pool;
        async move {
            let mut article = draft(i);
            article.save_with(pool, pinned()).await.unwrap();
            assert!(article.title_length.is_some());
        }
    })
    .await;
    let mut article = draft(0);
    article.save_with(&pool, pinned()).await.unwrap();
    let refreshing = median_us(50, 500, |i| {
        let mut article = article.clone();
        let pool = &pool;
        async move {
            article.title = format!("Title {i}");
            article
                .save_with(pool, pinned().update_fields(["title"]))
                .await
                .unwrap();
        }
    })
    .await;
    let not_refreshing = median_us(50, 500, |i| {
        let mut article = article.clone();
        let pool = &pool;
        async move {
            article.note = format!("Note {i}");
            article
                .save_with(pool, pinned().update_fields(["note"]))
                .await
                .unwrap();
        }
    })
    .await;
    let detected = median_us(50, 500, |i| {
        let mut article = article.clone();
        let pool = &pool;
        async move {
            article.note = format!("Note {i}");
            article
                .save_with(pool, Save::new().update_fields(["note"]))
                .await
                .unwrap();
        }
    })
    .await;
    bench("orm_ext.mariadb_save_insert_returning_us", insert, "us");
    bench("orm_ext.mariadb_save_update_reread_us", refreshing, "us");
    bench("orm_ext.mariadb_save_update_only_us", not_refreshing, "us");
    bench("orm_ext.mariadb_save_update_detect_us", detected, "us");
    pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {database}")))
        .execute(&admin)
        .await
        .unwrap();
}
