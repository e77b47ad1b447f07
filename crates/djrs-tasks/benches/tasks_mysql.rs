//! `cargo xtask bench tasks-mysql`: the MySQL/MariaDB queue's figures (see `common/mod.rs`),
//! in a database of its own, dropped at the end.

mod common;

use djrs_tasks::{MysqlBackend, Tasks};

fn url() -> String {
    std::env::var("DJRS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

#[tokio::main]
async fn main() {
    let database = format!("djrs_bench_tasks_{}", std::process::id());
    let admin = sqlx::MySqlPool::connect(&url())
        .await
        .expect("MariaDB is reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&admin)
        .await
        .unwrap();
    let (server, _) = url()
        .rsplit_once('/')
        .map(|(s, d)| (s.to_owned(), d.to_owned()))
        .unwrap();
    let db_url = format!("{server}/{database}");
    let sizes = common::Sizes {
        single: 2_000,
        batch: 50_000,
        ceiling: 20_000,
        worked: 30_000,
        pickups: 200,
    };
    common::run("tasks_mysql", &sizes, || {
        let pool = sqlx::mysql::MySqlPoolOptions::new()
            .max_connections(8)
            .connect_lazy(&db_url)
            .unwrap();
        Tasks::builder()
            .backend("default", MysqlBackend::from_pool(pool))
            .build()
            .unwrap()
    })
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {database}")))
        .execute(&admin)
        .await
        .unwrap();
}
