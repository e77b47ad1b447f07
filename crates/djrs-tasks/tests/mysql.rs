//! The MySQL/MariaDB queue and the worker, on the real MariaDB: the shared queue suite. Each
//! test works in a database of its own.

#[macro_use]
mod suite;

use djrs_tasks::{
    BoxFuture, EnqueueIn, MysqlBackend, PreparedTask, TaskResult, Tasks, TasksBuilder,
};
use suite::{Store, Stored};

/// A MariaDB database of its own, dropped with the store (also when the test fails).
struct MyStore(djrs_test_support::MysqlDatabase);

impl MyStore {
    async fn new() -> Self {
        MyStore(
            djrs_test_support::MysqlDatabase::create("djrs_tasks")
                .await
                .expect("MariaDB is reachable"),
        )
    }

    fn pool(&self) -> sqlx::MySqlPool {
        self.0.pool(8).unwrap()
    }

    /// Drops the database (what dropping the store does, named for the suite's macro).
    async fn cleanup(self) {
        drop(self);
    }
}

impl Store for MyStore {
    fn builder(&self, limits: &[(&'static str, u32)]) -> TasksBuilder {
        let mut backend = MysqlBackend::from_pool(self.pool());
        for (queue, limit) in limits {
            backend = backend.queue_limit(*queue, *limit);
        }
        Tasks::builder()
            .backend("default", backend)
            .queues("default", ["default", "low", "high", "limited"])
    }

    fn enqueue_in_transaction<'a>(
        &'a self,
        tasks: &'a Tasks,
        batch: Vec<PreparedTask>,
        commit: bool,
    ) -> Option<BoxFuture<'a, djrs_tasks::Result<Vec<TaskResult>>>> {
        Some(Box::pin(async move {
            let pool = self.pool();
            let mut tx = pool.begin().await.unwrap();
            let results = (&mut *tx).enqueue_batch_in(tasks, batch).await?;
            if commit {
                tx.commit().await.unwrap();
            } else {
                tx.rollback().await.unwrap();
            }
            pool.close().await;
            Ok(results)
        }))
    }

    fn stored<'a>(&'a self, what: Stored) -> BoxFuture<'a, i64> {
        Box::pin(async move {
            let sql = what.sql();
            let pool = self.pool();
            let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            n
        })
    }
}

shared_suite!(MyStore::new().await);

#[tokio::test]
async fn the_mysql_backend_is_configured_by_name() {
    let config = |options: serde_json::Value| -> djrs_tasks::TasksConfig {
        serde_json::from_value(serde_json::json!({
            "default": {"BACKEND": "djrs_tasks.MysqlBackend", "OPTIONS": options}
        }))
        .unwrap()
    };
    let tasks = Tasks::from_config(config(
        serde_json::json!({"URL": "mysql://root@127.0.0.1:3306/test"}),
    ))
    .unwrap();
    assert_eq!(tasks.backend("default").unwrap().name(), "MysqlBackend");
    let missing = Tasks::from_config(config(serde_json::json!({}))).unwrap_err();
    assert_eq!(
        missing.to_string(),
        "MysqlBackend needs the option URL as a string (backend 'default')"
    );
    let extra = Tasks::from_config(config(serde_json::json!({"URL": "mysql://x/y", "POOL": 3})))
        .unwrap_err();
    assert_eq!(
        extra.to_string(),
        "MysqlBackend takes the option URL, not \"POOL\" (backend 'default')"
    );
    let bad = Tasks::from_config(config(serde_json::json!({"URL": "not a url"}))).unwrap_err();
    assert!(bad.to_string().starts_with("invalid MySQL URL"), "{bad}");
}

#[test]
fn a_backend_made_outside_a_runtime_is_an_error_not_a_panic() {
    let config: djrs_tasks::TasksConfig = serde_json::from_value(serde_json::json!({
        "default": {"BACKEND": "MysqlBackend", "OPTIONS": {"URL": "mysql://root@127.0.0.1:3306/test"}}
    }))
    .unwrap();
    let err = Tasks::from_config(config).unwrap_err();
    assert!(err.to_string().contains("inside a Tokio runtime"), "{err}");
}
