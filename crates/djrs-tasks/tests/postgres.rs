//! The PostgreSQL queue and the worker, on the real PostgreSQL: the shared queue suite, plus
//! transactional enqueue and `LISTEN`/`NOTIFY`. Each test works in a schema of its own.

mod suite;

use std::str::FromStr;
use std::time::{Duration, Instant};

use djrs_tasks::{Error, PostgresBackend, TaskResultStatus, Tasks, Worker};
use suite::Store;

struct PgStore {
    url: String,
    schema: String,
}

impl PgStore {
    async fn new() -> Self {
        let url = std::env::var("DJRS_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let schema = format!("djrs_tasks_{}_{nanos}", std::process::id());
        let admin = sqlx::PgPool::connect(&url)
            .await
            .expect("PostgreSQL is reachable");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        PgStore { url, schema }
    }

    fn backend(&self) -> PostgresBackend {
        let options = sqlx::postgres::PgConnectOptions::from_str(&self.url)
            .unwrap()
            .options([("search_path", self.schema.as_str())]);
        PostgresBackend::from_pool(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(8)
                .connect_lazy_with(options),
        )
    }

    async fn drop_schema(self) {
        let admin = sqlx::PgPool::connect(&self.url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA {} CASCADE",
            self.schema
        )))
        .execute(&admin)
        .await
        .unwrap();
        admin.close().await;
    }
}

impl Store for PgStore {
    fn tasks(&self) -> Tasks {
        Tasks::builder()
            .backend("default", self.backend())
            .queues("default", ["default", "low", "high"])
            .build()
            .unwrap()
    }
}

#[tokio::test]
async fn claims_in_priority_then_run_after_then_fifo_order() {
    let store = PgStore::new().await;
    suite::claims_in_priority_then_run_after_then_fifo_order(&store).await;
    store.drop_schema().await;
}

#[tokio::test]
async fn queues_are_separate() {
    let store = PgStore::new().await;
    suite::queues_are_separate(&store).await;
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_worker_loops_run_every_task_exactly_once() {
    let store = PgStore::new().await;
    suite::many_worker_loops_run_every_task_exactly_once(&store).await;
    store.drop_schema().await;
}

#[tokio::test]
async fn failed_attempts_are_retried_with_backoff() {
    let store = PgStore::new().await;
    suite::failed_attempts_are_retried_with_backoff(&store).await;
    store.drop_schema().await;
}

#[tokio::test]
async fn a_panicking_task_fails_and_the_worker_goes_on() {
    let store = PgStore::new().await;
    suite::a_panicking_task_fails_and_the_worker_goes_on(&store).await;
    store.drop_schema().await;
}

#[tokio::test]
async fn a_dead_workers_task_runs_again_after_its_lease_expires() {
    let store = PgStore::new().await;
    suite::a_dead_workers_task_runs_again_after_its_lease_expires(&store).await;
    store.drop_schema().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_quick_tasks_and_requeues_slow_ones() {
    let store = PgStore::new().await;
    suite::graceful_shutdown_finishes_quick_tasks_and_requeues_slow_ones(&store).await;
    store.drop_schema().await;
}

#[tokio::test]
async fn deferred_tasks_wait_for_run_after() {
    let store = PgStore::new().await;
    suite::deferred_tasks_wait_for_run_after(&store).await;
    store.drop_schema().await;
}

#[tokio::test]
async fn transactional_enqueue_exists_only_if_the_transaction_commits() {
    let store = PgStore::new().await;
    let backend = store.backend();
    backend.migrate().await.unwrap();
    let pool = backend.pool().clone();
    let tasks = Tasks::builder()
        .backend("default", backend)
        .build()
        .unwrap();

    let mut tx = pool.begin().await.unwrap();
    let rolled_back = suite::record
        .enqueue_in(&mut *tx, &tasks, "tx".into(), 1)
        .await
        .unwrap();
    // Inside the transaction the task is there; outside it is not yet.
    assert!(matches!(
        tasks.get_result(&rolled_back.id).await,
        Err(Error::TaskResultDoesNotExist(_))
    ));
    tx.rollback().await.unwrap();
    assert!(matches!(
        tasks.get_result(&rolled_back.id).await,
        Err(Error::TaskResultDoesNotExist(_))
    ));

    let mut tx = pool.begin().await.unwrap();
    let committed = suite::record
        .enqueue_in(&mut *tx, &tasks, "tx".into(), 2)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        tasks.get_result(&committed.id).await.unwrap().status,
        TaskResultStatus::Ready
    );
    Worker::new(&tasks).run_until_idle().await.unwrap();
    assert_eq!(
        tasks.get_result(&committed.id).await.unwrap().status,
        TaskResultStatus::Successful
    );
    assert_eq!(suite::run_count("tx", 1), 0);
    assert_eq!(suite::run_count("tx", 2), 1);

    // Only a PostgreSQL backend can share the caller's transaction.
    let immediate = Tasks::default();
    let mut conn = pool.acquire().await.unwrap();
    let err = suite::record
        .enqueue_in(&mut *conn, &immediate, "tx".into(), 3)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("enqueue_in needs a PostgresBackend"),
        "{err}"
    );
    drop(conn);
    store.drop_schema().await;
}

/// Waits for a task to succeed, or fails after `limit`.
async fn wait_for_success(tasks: &Tasks, id: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if tasks.get_result(id).await.unwrap().status == TaskResultStatus::Successful {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "task {id} not done after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_wakes_an_idle_worker_in_another_process() {
    let store = PgStore::new().await;
    store.backend().migrate().await.unwrap();
    // The worker polls only every minute: only NOTIFY can wake it in time.
    let worker_tasks = store.tasks();
    let worker = tokio::spawn(
        Worker::new(&worker_tasks)
            .poll_interval(Duration::from_secs(60))
            .run_until(tokio::time::sleep(Duration::from_secs(20))),
    );
    tokio::time::sleep(Duration::from_millis(300)).await; // the worker is idle and listening
    let enqueuer = store.tasks(); // another pool, as another process
    let result = suite::record
        .enqueue(&enqueuer, "notify".into(), 1)
        .await
        .unwrap();
    let took = wait_for_success(&enqueuer, &result.id, Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(5), "{took:?}");
    worker.abort();
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_notifications_are_covered_by_polling() {
    let store = PgStore::new().await;
    let quiet = Tasks::builder()
        .backend("default", store.backend().without_notifications())
        .build()
        .unwrap();
    let worker_tasks = store.tasks();
    quiet.get_result("none").await.unwrap_err(); // migrates
    let worker = tokio::spawn(
        Worker::new(&worker_tasks)
            .poll_interval(Duration::from_millis(200))
            .run_until(tokio::time::sleep(Duration::from_secs(20))),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let result = suite::record
        .enqueue(&quiet, "polling".into(), 1)
        .await
        .unwrap();
    wait_for_success(&quiet, &result.id, Duration::from_secs(10)).await;
    worker.abort();
    store.drop_schema().await;
}
