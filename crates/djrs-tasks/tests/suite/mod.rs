//! Backend-independent tests of the queue and the worker, run on SQLite and PostgreSQL.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use chrono::Utc;
use djrs_tasks::{Outcome, Queue, Task, TaskContext, TaskResultStatus, Tasks, Worker, task};

/// A queue store: each call gives a new backend value (its own pool) on the same store, as
/// another process would have, with the queues `default`, `low` and `high`.
pub(crate) trait Store: Send + Sync {
    /// A new task system on the store.
    fn tasks(&self) -> Tasks;
}

/// Runs per (test key, item), shared by the tasks below: each test uses its own key.
fn runs() -> &'static Mutex<HashMap<(String, u32), u32>> {
    static RUNS: OnceLock<Mutex<HashMap<(String, u32), u32>>> = OnceLock::new();
    RUNS.get_or_init(Mutex::default)
}

pub(crate) fn run_count(key: &str, item: u32) -> u32 {
    runs()
        .lock()
        .unwrap()
        .get(&(key.to_owned(), item))
        .copied()
        .unwrap_or(0)
}

#[task]
pub(crate) async fn record(key: String, item: u32) {
    *runs().lock().unwrap().entry((key, item)).or_default() += 1;
    tokio::task::yield_now().await;
}

#[task(max_attempts = 3)]
async fn flaky(key: String, fail_times: u32) -> Result<u32, String> {
    let attempt = {
        let mut runs = runs().lock().unwrap();
        let n = runs.entry((key, 0)).or_default();
        *n += 1;
        *n
    };
    if attempt <= fail_times {
        Err(format!("attempt {attempt} failed"))
    } else {
        Ok(attempt)
    }
}

#[task(max_attempts = 5)]
async fn panicky(explode: bool) -> u32 {
    assert!(!explode, "exploded on purpose");
    1
}

#[task(takes_context)]
async fn slow(ctx: TaskContext, millis: u64) -> u32 {
    tokio::time::sleep(Duration::from_millis(millis)).await;
    ctx.attempt()
}

pub(crate) fn queue(tasks: &Tasks) -> &dyn Queue {
    tasks.backend("default").unwrap().queue().unwrap()
}

pub(crate) async fn claims_in_priority_then_run_after_then_fifo_order(store: &dyn Store) {
    let tasks = store.tasks();
    let past = Utc::now() - chrono::Duration::seconds(10);
    let key = "order".to_owned();
    let a = record.enqueue(&tasks, key.clone(), 1).await.unwrap(); // priority 0, FIFO first
    let b = record.enqueue(&tasks, key.clone(), 2).await.unwrap(); // priority 0, FIFO second
    let c = record
        .using()
        .priority(10)
        .enqueue(&tasks, key.clone(), 3)
        .await
        .unwrap();
    let d = record
        .using()
        .run_after(past)
        .enqueue(&tasks, key.clone(), 4)
        .await
        .unwrap(); // due, deferred
    let e = record
        .using()
        .priority(-10)
        .enqueue(&tasks, key.clone(), 5)
        .await
        .unwrap();
    let future = record
        .using()
        .run_after(Utc::now() + chrono::Duration::hours(1))
        .enqueue(&tasks, key, 6)
        .await
        .unwrap();

    let mut order = Vec::new();
    loop {
        let claimed = queue(&tasks)
            .claim("w", &["default".into()], 1, Duration::from_secs(30))
            .await
            .unwrap();
        let Some(task) = claimed.into_iter().next() else {
            break;
        };
        assert_eq!(task.status, TaskResultStatus::Running);
        assert_eq!(task.worker_ids, ["w"]);
        order.push(task.id);
    }
    assert_eq!(order, [c.id, d.id, a.id, b.id, e.id]);
    // The deferred task is not due.
    assert_eq!(
        tasks.get_result(&future.id).await.unwrap().status,
        TaskResultStatus::Ready
    );
}

pub(crate) async fn queues_are_separate(store: &dyn Store) {
    let tasks = store.tasks();
    let low = record
        .using()
        .queue_name("low")
        .enqueue(&tasks, "queues".into(), 1)
        .await
        .unwrap();
    let high = record
        .using()
        .queue_name("high")
        .enqueue(&tasks, "queues".into(), 2)
        .await
        .unwrap();
    Worker::new(&tasks)
        .queues(["high"])
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(
        tasks.get_result(&high.id).await.unwrap().status,
        TaskResultStatus::Successful
    );
    assert_eq!(
        tasks.get_result(&low.id).await.unwrap().status,
        TaskResultStatus::Ready
    );
    Worker::new(&tasks)
        .queues(Vec::<String>::new())
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(
        tasks.get_result(&low.id).await.unwrap().status,
        TaskResultStatus::Successful
    );
}

pub(crate) async fn many_worker_loops_run_every_task_exactly_once(store: &dyn Store) {
    let tasks = store.tasks();
    let key = "exactly-once".to_owned();
    const N: u32 = 2_000;
    let batch = (0..N)
        .map(|i| record.prepare(key.clone(), i))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    tasks.enqueue_many(batch).await.unwrap();

    // Four workers, each on its own backend value (its own pool), as separate processes would.
    let mut handles = Vec::new();
    for w in 0..4 {
        let tasks = store.tasks();
        handles.push(tokio::spawn(
            Worker::new(&tasks)
                .worker_id(format!("w{w}"))
                .concurrency(8)
                .run_until_idle(),
        ));
    }
    let mut succeeded = 0;
    for handle in handles {
        succeeded += handle.await.unwrap().unwrap().succeeded;
    }
    assert_eq!(succeeded, u64::from(N));
    for i in 0..N {
        assert_eq!(run_count(&key, i), 1, "task {i}");
    }
}

pub(crate) async fn failed_attempts_are_retried_with_backoff(store: &dyn Store) {
    let tasks = store.tasks();
    let worker = || {
        Worker::new(&tasks)
            .retry_backoff(Duration::from_millis(20), Duration::from_millis(40))
            .poll_interval(Duration::from_millis(10))
    };

    let mut ok = flaky.enqueue(&tasks, "retry-ok".into(), 2).await.unwrap();
    let stats = worker()
        .run_until(tokio::time::sleep(Duration::from_millis(600)))
        .await
        .unwrap();
    ok.refresh(&tasks).await.unwrap();
    assert_eq!(ok.status, TaskResultStatus::Successful, "{ok:?}");
    assert_eq!(ok.return_value::<u32>().unwrap(), 3);
    assert_eq!(ok.attempts(), 3);
    assert_eq!(
        ok.errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>(),
        ["attempt 1 failed", "attempt 2 failed"]
    );
    assert_eq!((stats.succeeded, stats.retried), (1, 2));
    // Each retry waited at least the 75 % of its backoff.
    let run_after = ok.run_after.unwrap();
    assert!(ok.last_attempted_at.unwrap() >= run_after);

    let mut gives_up = flaky
        .enqueue(&tasks, "retry-fail".into(), 10)
        .await
        .unwrap();
    worker()
        .run_until(tokio::time::sleep(Duration::from_millis(600)))
        .await
        .unwrap();
    gives_up.refresh(&tasks).await.unwrap();
    assert_eq!(gives_up.status, TaskResultStatus::Failed);
    assert_eq!((gives_up.attempts(), gives_up.errors.len()), (3, 3));
    assert!(gives_up.finished_at.is_some());
}

pub(crate) async fn a_panicking_task_fails_and_the_worker_goes_on(store: &dyn Store) {
    let tasks = store.tasks();
    let bad = panicky
        .using()
        .max_attempts(1)
        .enqueue(&tasks, true)
        .await
        .unwrap();
    let good = panicky.enqueue(&tasks, false).await.unwrap();
    let stats = Worker::new(&tasks)
        .concurrency(1)
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!((stats.failed, stats.succeeded), (1, 1));
    let bad = tasks.get_result(&bad.id).await.unwrap();
    assert_eq!(bad.status, TaskResultStatus::Failed);
    assert_eq!(bad.errors[0].exception_class_path, "panic");
    assert_eq!(bad.errors[0].message, "exploded on purpose");
    assert_eq!(
        tasks
            .get_result(&good.id)
            .await
            .unwrap()
            .return_value::<u32>()
            .unwrap(),
        1
    );
}

pub(crate) async fn a_dead_workers_task_runs_again_after_its_lease_expires(store: &dyn Store) {
    let tasks = store.tasks();
    let result = slow.enqueue(&tasks, 1).await.unwrap();
    // A worker claims it with a short lease and dies: it never completes or renews.
    let claimed = queue(&tasks)
        .claim(
            "dead-worker",
            &["default".into()],
            10,
            Duration::from_millis(50),
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    // While the lease holds, nobody else gets it.
    assert!(
        queue(&tasks)
            .claim("other", &["default".into()], 10, Duration::from_secs(30))
            .await
            .unwrap()
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(80)).await;

    let stats = Worker::new(&tasks)
        .worker_id("rescuer")
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.succeeded, 1);
    let done = tasks.get_result(&result.id).await.unwrap();
    assert_eq!(done.status, TaskResultStatus::Successful);
    assert_eq!(done.worker_ids, ["dead-worker", "rescuer"]);
    assert_eq!(done.return_value::<u32>().unwrap(), 2); // the second attempt
    assert_eq!(
        done.errors[0].exception_class_path,
        "djrs_tasks::WorkerLost"
    );
    // The dead worker's late completion is refused: it no longer holds the task.
    let late = queue(&tasks)
        .complete(
            "dead-worker",
            &result.id,
            Outcome::Succeeded(serde_json::json!(1)),
        )
        .await
        .unwrap();
    assert!(late.is_none());
}

pub(crate) async fn graceful_shutdown_finishes_quick_tasks_and_requeues_slow_ones(
    store: &dyn Store,
) {
    let tasks = store.tasks();
    let quick = slow.enqueue(&tasks, 50).await.unwrap();
    let stuck = slow.enqueue(&tasks, 60_000).await.unwrap();
    let stats = Worker::new(&tasks)
        .grace_period(Duration::from_millis(200))
        .run_until(tokio::time::sleep(Duration::from_millis(100)))
        .await
        .unwrap();
    assert_eq!((stats.succeeded, stats.interrupted), (1, 1));
    assert_eq!(
        tasks.get_result(&quick.id).await.unwrap().status,
        TaskResultStatus::Successful
    );
    let stuck = tasks.get_result(&stuck.id).await.unwrap();
    assert_eq!(stuck.status, TaskResultStatus::Ready);
    assert_eq!(
        stuck.errors[0].exception_class_path,
        "djrs_tasks::Interrupted"
    );
}

pub(crate) async fn deferred_tasks_wait_for_run_after(store: &dyn Store) {
    let tasks = store.tasks();
    let when = Utc::now() + chrono::Duration::milliseconds(300);
    let deferred = record
        .using()
        .run_after(when)
        .enqueue(&tasks, "deferred".into(), 1)
        .await
        .unwrap();
    Worker::new(&tasks).run_until_idle().await.unwrap();
    assert_eq!(
        tasks.get_result(&deferred.id).await.unwrap().status,
        TaskResultStatus::Ready
    );
    Worker::new(&tasks)
        .poll_interval(Duration::from_millis(20))
        .run_until(tokio::time::sleep(Duration::from_millis(600)))
        .await
        .unwrap();
    let done = tasks.get_result(&deferred.id).await.unwrap();
    assert_eq!(done.status, TaskResultStatus::Successful);
    assert!(done.started_at.unwrap() >= when);
}

pub(crate) async fn a_unique_key_gives_one_task_under_concurrent_enqueues(store: &dyn Store) {
    let tasks = store.tasks();
    tasks.get_result("migrate-first").await.unwrap_err();
    let enqueuers: Vec<_> = (0..16)
        .map(|_| {
            let tasks = store.tasks();
            tokio::spawn(async move {
                record
                    .using()
                    .unique_key("report:1")
                    .enqueue(&tasks, "unique".into(), 1)
                    .await
                    .unwrap()
                    .id
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for enqueuer in enqueuers {
        ids.insert(enqueuer.await.unwrap());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    let counts = queue(&tasks).counts().await.unwrap();
    assert_eq!(
        counts.rows,
        [("default".to_owned(), TaskResultStatus::Ready, 1)]
    );
    // Another key is another task; once the first is done, its key is free again.
    let other = record
        .using()
        .unique_key("report:2")
        .enqueue(&tasks, "unique".into(), 2)
        .await
        .unwrap();
    assert!(!ids.contains(&other.id));
    Worker::new(&tasks).run_until_idle().await.unwrap();
    assert_eq!(run_count("unique", 1), 1);
    let again = record
        .using()
        .unique_key("report:1")
        .enqueue(&tasks, "unique".into(), 1)
        .await
        .unwrap();
    assert!(!ids.contains(&again.id));
    assert_eq!(again.unique_key.as_deref(), Some("report:1"));
}

pub(crate) async fn a_ready_task_can_be_cancelled(store: &dyn Store) {
    let tasks = store.tasks();
    let doomed = record.enqueue(&tasks, "cancel".into(), 1).await.unwrap();
    let cancelled = tasks.cancel(&doomed.id).await.unwrap();
    assert_eq!(cancelled.status, TaskResultStatus::Failed);
    assert_eq!(
        cancelled.errors[0].exception_class_path,
        "djrs_tasks::Cancelled"
    );
    let again = tasks.cancel(&doomed.id).await.unwrap_err();
    assert_eq!(
        again.to_string(),
        format!(
            "Task {} is FAILED; only a READY task can be cancelled.",
            doomed.id
        )
    );
    assert!(tasks.cancel("no-such-task").await.is_err());
    Worker::new(&tasks).run_until_idle().await.unwrap();
    assert_eq!(run_count("cancel", 1), 0);
}

pub(crate) async fn an_attempt_past_its_timeout_fails(store: &dyn Store) {
    let tasks = store.tasks();
    let stuck = slow
        .using()
        .timeout(Duration::from_millis(100))
        .max_attempts(2)
        .enqueue(&tasks, 60_000)
        .await
        .unwrap();
    let quick = slow
        .using()
        .timeout(Duration::from_secs(10))
        .enqueue(&tasks, 1)
        .await
        .unwrap();
    assert_eq!(stuck.timeout, Some(Duration::from_millis(100)));
    Worker::new(&tasks)
        .retry_backoff(Duration::from_millis(10), Duration::from_millis(10))
        .poll_interval(Duration::from_millis(10))
        .run_until(tokio::time::sleep(Duration::from_millis(1_000)))
        .await
        .unwrap();
    let stuck = tasks.get_result(&stuck.id).await.unwrap();
    assert_eq!(stuck.status, TaskResultStatus::Failed, "{stuck:?}");
    assert_eq!(stuck.errors.len(), 2);
    assert!(
        stuck
            .errors
            .iter()
            .all(|e| e.exception_class_path == "djrs_tasks::Timeout")
    );
    assert_eq!(
        tasks.get_result(&quick.id).await.unwrap().status,
        TaskResultStatus::Successful
    );
}
