//! The embedded SQLite queue and the worker, on real SQLite files.

mod suite;

use chrono::Utc;
use djrs_tasks::{SqliteBackend, TaskResultStatus, Tasks, TasksConfig, Worker};
use suite::Store;

struct SqliteStore(tempfile::TempDir);

impl SqliteStore {
    fn new() -> Self {
        SqliteStore(tempfile::tempdir().unwrap())
    }
}

impl Store for SqliteStore {
    fn tasks(&self) -> Tasks {
        Tasks::builder()
            .backend(
                "default",
                SqliteBackend::open(self.0.path().join("tasks.sqlite3")).unwrap(),
            )
            .queues("default", ["default", "low", "high"])
            .build()
            .unwrap()
    }
}

#[tokio::test]
async fn claims_in_priority_then_run_after_then_fifo_order() {
    suite::claims_in_priority_then_run_after_then_fifo_order(&SqliteStore::new()).await;
}

#[tokio::test]
async fn queues_are_separate() {
    suite::queues_are_separate(&SqliteStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_worker_loops_run_every_task_exactly_once() {
    suite::many_worker_loops_run_every_task_exactly_once(&SqliteStore::new()).await;
}

#[tokio::test]
async fn failed_attempts_are_retried_with_backoff() {
    suite::failed_attempts_are_retried_with_backoff(&SqliteStore::new()).await;
}

#[tokio::test]
async fn a_panicking_task_fails_and_the_worker_goes_on() {
    suite::a_panicking_task_fails_and_the_worker_goes_on(&SqliteStore::new()).await;
}

#[tokio::test]
async fn a_dead_workers_task_runs_again_after_its_lease_expires() {
    suite::a_dead_workers_task_runs_again_after_its_lease_expires(&SqliteStore::new()).await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_quick_tasks_and_requeues_slow_ones() {
    suite::graceful_shutdown_finishes_quick_tasks_and_requeues_slow_ones(&SqliteStore::new()).await;
}

#[tokio::test]
async fn deferred_tasks_wait_for_run_after() {
    suite::deferred_tasks_wait_for_run_after(&SqliteStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_unique_key_gives_one_task_under_concurrent_enqueues() {
    suite::a_unique_key_gives_one_task_under_concurrent_enqueues(&SqliteStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ready_task_can_be_cancelled() {
    suite::a_ready_task_can_be_cancelled(&SqliteStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_attempt_past_its_timeout_fails() {
    suite::an_attempt_past_its_timeout_fails(&SqliteStore::new()).await;
}

#[tokio::test]
async fn results_are_readable_from_another_backend_value_and_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let config: TasksConfig = serde_json::from_value(serde_json::json!({
        "default": {"BACKEND": "SqliteBackend", "OPTIONS": {"PATH": dir.path().join("t.sqlite3")}}
    }))
    .unwrap();
    let writer = Tasks::from_config(config.clone()).unwrap();
    let reader = Tasks::from_config(config).unwrap();
    let result = suite::record
        .enqueue(&writer, "prune".into(), 1)
        .await
        .unwrap();
    assert_eq!(
        reader.get_result(&result.id).await.unwrap().status,
        TaskResultStatus::Ready
    );
    Worker::new(&reader).run_until_idle().await.unwrap();
    assert_eq!(
        writer.get_result(&result.id).await.unwrap().status,
        TaskResultStatus::Successful
    );

    let statuses = [TaskResultStatus::Successful, TaskResultStatus::Failed];
    assert_eq!(
        writer
            .prune_results(Utc::now() - chrono::Duration::hours(1), &statuses)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        writer
            .prune_results(Utc::now() + chrono::Duration::seconds(1), &statuses)
            .await
            .unwrap(),
        1
    );
    assert!(writer.get_result(&result.id).await.is_err());

    let bad: TasksConfig =
        serde_json::from_value(serde_json::json!({"default": {"BACKEND": "SqliteBackend"}}))
            .unwrap();
    assert!(
        Tasks::from_config(bad)
            .unwrap_err()
            .to_string()
            .contains("PATH or URL")
    );
}
