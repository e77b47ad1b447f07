//! The embedded SQLite queue and the worker, on real SQLite files: the shared queue suite, and
//! what only SQLite has (pool checks).

#[macro_use]
mod suite;

use djrs_tasks::{
    BoxFuture, EnqueueIn, PreparedTask, SqliteBackend, TaskResult, Tasks, TasksBuilder, TasksConfig,
};
use suite::{Store, Stored};

/// A SQLite file in a directory of its own, removed with the store.
struct SqliteStore(djrs_test_support::SqliteFile);

impl SqliteStore {
    fn new() -> Self {
        SqliteStore(djrs_test_support::SqliteFile::new().unwrap())
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.0.path().display())
    }

    async fn pool(&self) -> sqlx::SqlitePool {
        sqlx::sqlite::SqlitePoolOptions::new()
            .connect_with(djrs_tasks::sqlite_connect_options(&self.url()).unwrap())
            .await
            .unwrap()
    }

    /// Removes the file (what dropping the store does, named for the suite's macro).
    async fn cleanup(self) {
        drop(self);
    }
}

impl Store for SqliteStore {
    fn builder(&self, limits: &[(&'static str, u32)]) -> TasksBuilder {
        let mut backend = SqliteBackend::open(self.0.path()).unwrap();
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
            let pool = self.pool().await;
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
            let results = (&mut *tx).enqueue_batch_in(tasks, batch).await?;
            if commit {
                tx.commit().await.unwrap();
            } else {
                tx.rollback().await.unwrap();
            }
            Ok(results)
        }))
    }

    fn stored<'a>(&'a self, what: Stored) -> BoxFuture<'a, i64> {
        Box::pin(async move {
            let sql = what.sql();
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&self.pool().await)
                .await
                .unwrap()
        })
    }
}

shared_suite!(SqliteStore::new());

#[tokio::test]
async fn a_pool_that_would_lock_under_load_is_refused_or_fixed() {
    let store = SqliteStore::new();
    // No busy timeout: writers would fail at once with "database is locked".
    let options =
        std::str::FromStr::from_str(&store.url()).map(|o: sqlx::sqlite::SqliteConnectOptions| {
            o.create_if_missing(true)
                .busy_timeout(std::time::Duration::ZERO)
        });
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect_with(options.unwrap())
        .await
        .unwrap();
    let err = SqliteBackend::from_pool(pool).migrate().await.unwrap_err();
    assert!(err.to_string().contains("busy timeout is 0 ms"), "{err}");

    // A rollback-journal database (the default for a new file) with a busy timeout: switched
    // to WAL, which the file keeps for every later connection.
    let options: sqlx::sqlite::SqliteConnectOptions =
        std::str::FromStr::from_str(&store.url()).unwrap();
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            options
                .create_if_missing(true)
                .busy_timeout(std::time::Duration::from_secs(5)),
        )
        .await
        .unwrap();
    let before: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(before, "delete");
    let backend = SqliteBackend::from_pool(pool.clone());
    backend.migrate().await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let tasks = Tasks::builder()
        .backend("default", backend)
        .build()
        .unwrap();
    suite::record
        .enqueue(&tasks, "pool".into(), 1)
        .await
        .unwrap();

    // An in-memory database cannot be shared by workers.
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .in_memory(true)
                .busy_timeout(std::time::Duration::from_secs(5)),
        )
        .await
        .unwrap();
    let err = SqliteBackend::from_pool(pool).migrate().await.unwrap_err();
    assert!(err.to_string().contains("cannot use WAL"), "{err}");
}

#[tokio::test]
async fn the_sqlite_backend_is_configured_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let config: TasksConfig = serde_json::from_value(serde_json::json!({
        "default": {"BACKEND": "djrs_tasks.SqliteBackend", "OPTIONS": {"PATH": dir.path().join("t.sqlite3")}}
    }))
    .unwrap();
    let tasks = Tasks::from_config(config).unwrap();
    assert_eq!(tasks.backend("default").unwrap().name(), "SqliteBackend");
    let bad: TasksConfig =
        serde_json::from_value(serde_json::json!({"default": {"BACKEND": "SqliteBackend"}}))
            .unwrap();
    assert!(
        Tasks::from_config(bad)
            .unwrap_err()
            .to_string()
            .contains("PATH or URL")
    );
    let unknown: TasksConfig =
        serde_json::from_value(serde_json::json!({"default": {"BACKEND": "NoSuchBackend"}}))
            .unwrap();
    let err = Tasks::from_config(unknown).unwrap_err().to_string();
    for known in ["DummyBackend", "ImmediateBackend", "SqliteBackend"] {
        assert!(err.contains(known), "{err}");
    }
}
