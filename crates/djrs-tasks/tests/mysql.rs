//! The MySQL/MariaDB queue and the worker, on the real MariaDB: the shared queue suite. Each
//! test works in a database of its own.

#[macro_use]
mod suite;

use djrs_tasks::{
    BoxFuture, EnqueueIn, MysqlBackend, PreparedTask, TaskResult, Tasks, TasksBuilder,
};
use suite::Store;

struct MyStore {
    url: String,
    database: String,
}

impl MyStore {
    async fn new() -> Self {
        let url = std::env::var("DJRS_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let database = format!("djrs_tasks_{}_{nanos}", std::process::id());
        let admin = sqlx::MySqlPool::connect(&url)
            .await
            .expect("MariaDB is reachable");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let url = match url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{database}"),
            None => unreachable!("a MySQL URL names its database"),
        };
        MyStore { url, database }
    }

    fn pool(&self) -> sqlx::MySqlPool {
        sqlx::mysql::MySqlPoolOptions::new()
            .max_connections(8)
            .connect_lazy(&self.url)
            .unwrap()
    }

    async fn cleanup(self) {
        let admin = sqlx::MySqlPool::connect(&self.url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {}",
            self.database
        )))
        .execute(&admin)
        .await
        .unwrap();
        admin.close().await;
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
    ) -> BoxFuture<'a, djrs_tasks::Result<Vec<TaskResult>>> {
        Box::pin(async move {
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
        })
    }

    fn count<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, i64> {
        Box::pin(async move {
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
