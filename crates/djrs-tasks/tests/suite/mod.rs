//! The shared queue suite: every feature of the queue engine, run unchanged on SQLite,
//! PostgreSQL and MariaDB. Each database's test file implements [`Store`] and invokes
//! `shared_suite!`, which makes one test per scenario below.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use djrs_tasks::{
    Backoff, BoxFuture, Completion, Error, Flow, Outcome, PreparedTask, Queue, Retention,
    Scheduler, Task, TaskContext, TaskResult, TaskResultStatus, Tasks, TasksBuilder, Worker,
    WorkerId, task,
};

/// A queue store: each call gives a new backend value (its own pool) on the same store, as
/// another process would have, with the queues `default`, `low`, `high` and `limited`.
pub(crate) trait Store: Send + Sync {
    /// A builder with the store's backend as `default` (with these queue limits) and its queues.
    fn builder(&self, limits: &[(&'static str, u32)]) -> TasksBuilder;

    /// A new task system on the store.
    fn tasks(&self) -> Tasks {
        self.builder(&[]).build().unwrap()
    }

    /// Enqueues `batch` with `enqueue_batch_in` on a connection of the store inside a
    /// transaction, then commits it or rolls it back; `None` for a store an application cannot
    /// share a transaction with (Redis).
    fn enqueue_in_transaction<'a>(
        &'a self,
        tasks: &'a Tasks,
        batch: Vec<PreparedTask>,
        commit: bool,
    ) -> Option<BoxFuture<'a, djrs_tasks::Result<Vec<TaskResult>>>>;

    /// How many records of a kind the store holds.
    fn stored<'a>(&'a self, what: Stored) -> BoxFuture<'a, i64>;
}

/// Records a store holds, counted by [`Store::stored`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stored {
    /// Tasks, whatever their status.
    Tasks,
    /// Distinct cron occurrences recorded.
    Occurrences,
    /// Occurrence records whose task exists.
    OccurrencesWithTheirTask,
}

impl Stored {
    /// The SQL stores' count (the same on every SQL database).
    #[allow(dead_code)]
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Stored::Tasks => "SELECT COUNT(*) FROM djrs_task",
            Stored::Occurrences => "SELECT COUNT(DISTINCT occurrence) FROM djrs_task_schedule",
            Stored::OccurrencesWithTheirTask => {
                "SELECT COUNT(*) FROM djrs_task_schedule s JOIN djrs_task t ON t.id = s.task_id"
            }
        }
    }
}

/// One test per scenario, for a store made by `$new` (an expression, awaited in the test) and
/// removed by its `cleanup()` afterwards; or, with `one_test NAME, SETUP, NEW`, every scenario
/// in turn in one test (for a server that is costly to start, such as a Redis Cluster): `SETUP`
/// is made once and dropped when the test ends, `NEW` makes each scenario's store from it.
macro_rules! shared_suite {
    ($new:expr) => {
        shared_suite!(@names [@each $new]);
    };
    (one_test $test:ident, $setup:expr, $new:expr) => {
        shared_suite!(@names [@one $test, $setup, $new]);
    };
    (@names [$($head:tt)*]) => {
        shared_suite!($($head)*;
            claims_in_priority_then_run_after_then_fifo_order,
            queues_are_separate,
            many_worker_loops_run_every_task_exactly_once,
            failed_attempts_are_retried_with_backoff,
            a_task_snoozes_without_using_attempts_or_discards_itself,
            a_task_retries_after_its_own_backoff,
            a_panicking_task_fails_and_the_worker_goes_on,
            a_dead_workers_task_runs_again_after_its_lease_expires,
            a_lost_lease_refuses_the_late_completion_and_tells_the_heartbeat,
            graceful_shutdown_finishes_quick_tasks_and_requeues_slow_ones_without_using_an_attempt,
            deferred_tasks_wait_for_run_after,
            a_unique_key_gives_one_task_under_concurrent_enqueues,
            a_ready_task_can_be_cancelled,
            a_running_task_cancelled_by_an_operator_stops_or_is_dropped,
            a_paused_queue_is_skipped_by_every_worker_until_resumed,
            an_attempt_past_its_timeout_fails,
            a_blocking_task_past_its_timeout_never_overlaps_its_retry,
            a_queue_limit_holds_across_workers,
            a_queue_limit_changed_at_run_time_holds_across_workers,
            a_task_records_metadata_that_others_see_while_it_runs,
            an_operator_retries_hastens_deletes_and_lists_by_key,
            activity_counts_finished_tasks_the_oldest_waiting_and_live_workers,
            cron_occurrences_are_enqueued_once_and_leadership_passes_on,
            transactional_enqueue_exists_only_if_the_transaction_commits,
            old_results_and_occurrences_are_pruned,
            workers_prune_finished_results_as_their_retention_says,
            every_transition_fires_exactly_its_hooks,
            values_the_database_cannot_store_are_refused_the_same_way,
            tasks_from_config_reach_the_same_store
        );
    };
    (@one $test:ident, $setup:expr, $new:expr; $($name:ident),*) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $test() {
            let setup = $setup;
            $(
                let store = ($new)(&setup);
                suite::$name(&store).await;
                store.cleanup().await;
            )*
        }
    };
    (@each $new:expr; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let store = $new;
                suite::$name(&store).await;
                store.cleanup().await;
            }
        )*
    };
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

/// Snoozes `snoozes` times (150 ms each), then succeeds with its run count; or, with
/// `snoozes == u32::MAX`, discards itself on its first run.
#[task(max_attempts = 2)]
async fn moody(key: String, snoozes: u32) -> Result<u32, Flow> {
    let run = {
        let mut runs = runs().lock().unwrap();
        let n = runs.entry((key.clone(), 0)).or_default();
        *n += 1;
        *n
    };
    if snoozes == u32::MAX {
        return Err(Flow::discard(format!("{key} cannot be done")));
    }
    if run <= snoozes {
        return Err(Flow::snooze(Duration::from_millis(150)));
    }
    // Any error converts with `?` and is retried as usual.
    let parsed: u32 = run.to_string().parse()?;
    Ok(parsed)
}

/// Fails twice, then succeeds; waits 200 ms (no jitter) before each retry, whatever the
/// worker's own backoff.
#[task(max_attempts = 3, backoff = Backoff::fixed(Duration::from_millis(200)).without_jitter())]
async fn patient(key: String) -> Result<u32, String> {
    let run = {
        let mut runs = runs().lock().unwrap();
        let n = runs.entry((key, 0)).or_default();
        *n += 1;
        *n
    };
    if run <= 2 {
        Err(format!("run {run} failed"))
    } else {
        Ok(run)
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

/// The start and end of each run of `blocking_sleep`, per key.
type Spans = Mutex<HashMap<String, Vec<(Instant, Instant)>>>;

fn spans() -> &'static Spans {
    static SPANS: OnceLock<Spans> = OnceLock::new();
    SPANS.get_or_init(Mutex::default)
}

#[task]
fn blocking_sleep(key: String, millis: u64) {
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(millis));
    spans()
        .lock()
        .unwrap()
        .entry(key)
        .or_default()
        .push((start, Instant::now()));
}

#[task]
async fn returns_text(text: String) -> String {
    text
}

pub(crate) fn queue(tasks: &Tasks) -> &dyn Queue {
    tasks.backend("default").unwrap().queue().unwrap()
}

fn worker(id: &str) -> WorkerId {
    WorkerId::from(id)
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
            .claim(
                &worker("w"),
                &["default".into()],
                1,
                Duration::from_secs(30),
            )
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
    // A batch claim returns the same order.
    let tasks = store.tasks();
    let x = record.enqueue(&tasks, "order".into(), 7).await.unwrap();
    let y = record
        .using()
        .priority(5)
        .enqueue(&tasks, "order".into(), 8)
        .await
        .unwrap();
    let batch = queue(&tasks)
        .claim(
            &worker("w"),
            &["default".into()],
            10,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    let ids: Vec<_> = batch.into_iter().map(|t| t.id).collect();
    assert_eq!(ids, [y.id, x.id]);
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
        .run_until(all_finished(&tasks, &[&ok.id], Duration::from_secs(10)))
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
    // Each retry waited for its backoff.
    let run_after = ok.run_after.unwrap();
    assert!(ok.last_attempted_at.unwrap() >= run_after);
    // Both retries waited their backoff, less the jitter: 0.75 · (20 + 40) ms at least.
    let waited = ok.last_attempted_at.unwrap() - ok.started_at.unwrap();
    assert!(waited >= chrono::Duration::milliseconds(45), "{waited:?}");

    let mut gives_up = flaky
        .enqueue(&tasks, "retry-fail".into(), 10)
        .await
        .unwrap();
    worker()
        .run_until(all_finished(
            &tasks,
            &[&gives_up.id],
            Duration::from_secs(10),
        ))
        .await
        .unwrap();
    gives_up.refresh(&tasks).await.unwrap();
    assert_eq!(gives_up.status, TaskResultStatus::Failed);
    assert_eq!((gives_up.attempts(), gives_up.errors.len()), (3, 3));
    assert!(gives_up.finished_at.is_some());
}

pub(crate) async fn a_task_snoozes_without_using_attempts_or_discards_itself(store: &dyn Store) {
    let tasks = store.tasks();
    let key = format!("moody-{}", uuid_like());
    // Three snoozes with two attempts: snoozing uses none of them.
    let mut snoozer = moody.enqueue(&tasks, key.clone(), 3).await.unwrap();
    let stats = Worker::new(&tasks)
        .poll_interval(Duration::from_millis(10))
        .run_until(all_finished(
            &tasks,
            &[&snoozer.id],
            Duration::from_secs(10),
        ))
        .await
        .unwrap();
    snoozer.refresh(&tasks).await.unwrap();
    assert_eq!(snoozer.status, TaskResultStatus::Successful, "{snoozer:?}");
    assert_eq!(snoozer.return_value::<u32>().unwrap(), 4);
    assert_eq!(snoozer.attempts(), 1, "{snoozer:?}");
    assert!(snoozer.errors.is_empty(), "{snoozer:?}");
    assert_eq!((stats.snoozed, stats.succeeded, stats.retried), (3, 1, 0));
    assert_eq!(run_count(&key, 0), 4);
    // Each snooze waited its 150 ms: three of them between the first run and the last.
    let waited = snoozer.last_attempted_at.unwrap() - snoozer.started_at.unwrap();
    assert!(waited >= chrono::Duration::milliseconds(450), "{waited:?}");

    // Discarded: failed on its first run, though a second attempt remained.
    let key = format!("discard-{}", uuid_like());
    let mut discarded = moody.enqueue(&tasks, key.clone(), u32::MAX).await.unwrap();
    let stats = Worker::new(&tasks)
        .poll_interval(Duration::from_millis(10))
        .run_until(all_finished(
            &tasks,
            &[&discarded.id],
            Duration::from_secs(10),
        ))
        .await
        .unwrap();
    discarded.refresh(&tasks).await.unwrap();
    assert_eq!(discarded.status, TaskResultStatus::Failed);
    assert_eq!((discarded.attempts(), discarded.errors.len()), (1, 1));
    assert_eq!(
        discarded.errors[0].exception_class_path,
        "djrs_tasks::Discarded"
    );
    assert_eq!(discarded.errors[0].message, format!("{key} cannot be done"));
    assert_eq!((stats.failed, stats.retried), (1, 0));
    assert_eq!(run_count(&key, 0), 1);
}

pub(crate) async fn a_task_retries_after_its_own_backoff(store: &dyn Store) {
    let tasks = store.tasks();
    let key = format!("patient-{}", uuid_like());
    let mut task = patient.enqueue(&tasks, key.clone()).await.unwrap();
    let stats = Worker::new(&tasks)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(1))
        .poll_interval(Duration::from_millis(10))
        .run_until(all_finished(&tasks, &[&task.id], Duration::from_secs(10)))
        .await
        .unwrap();
    task.refresh(&tasks).await.unwrap();
    assert_eq!(task.status, TaskResultStatus::Successful, "{task:?}");
    assert_eq!((task.attempts(), task.errors.len()), (3, 2));
    assert_eq!((stats.retried, stats.succeeded), (2, 1));
    // Two retries of the task's own 200 ms, not the worker's 1 ms.
    let waited = task.last_attempted_at.unwrap() - task.started_at.unwrap();
    assert!(waited >= chrono::Duration::milliseconds(400), "{waited:?}");
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
            &worker("dead-worker"),
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
            .claim(
                &worker("other"),
                &["default".into()],
                10,
                Duration::from_secs(30)
            )
            .await
            .unwrap()
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(120)).await;

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
            &worker("dead-worker"),
            Completion::new(
                result.id.clone(),
                1,
                Outcome::Succeeded(serde_json::json!(1)),
            ),
        )
        .await
        .unwrap();
    assert!(!late);
    assert_eq!(
        tasks
            .get_result(&result.id)
            .await
            .unwrap()
            .return_value::<u32>()
            .unwrap(),
        2
    );
}

pub(crate) async fn a_lost_lease_refuses_the_late_completion_and_tells_the_heartbeat(
    store: &dyn Store,
) {
    let tasks = store.tasks();
    let result = record.enqueue(&tasks, "lost".into(), 1).await.unwrap();
    let stalled = worker("stalled");
    let first = queue(&tasks)
        .claim(&stalled, &[], 1, Duration::from_millis(50))
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    // While it holds the lease, its heartbeat renews it.
    let lease = [(result.id.clone(), 1)];
    assert_eq!(
        queue(&tasks)
            .heartbeat(&stalled, &lease, Duration::from_millis(50))
            .await
            .unwrap(),
        [djrs_tasks::Renewal::new(result.id.clone(), false)]
    );
    // It stalls past the lease; the task is rescued and claimed by another worker.
    tokio::time::sleep(Duration::from_millis(120)).await;
    let rescued = queue(&tasks).rescue_expired().await.unwrap();
    assert_eq!(rescued.len(), 1);
    assert_eq!(rescued[0].status, TaskResultStatus::Ready);
    let second = queue(&tasks)
        .claim(&worker("healthy"), &[], 1, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(second[0].attempts(), 2);
    // When it resumes, its heartbeat reports the lease lost, and its completion is refused.
    assert!(
        queue(&tasks)
            .heartbeat(&stalled, &lease, Duration::from_secs(30))
            .await
            .unwrap()
            .is_empty()
    );
    let late = queue(&tasks)
        .complete(
            &stalled,
            Completion::new(
                result.id.clone(),
                1,
                Outcome::Succeeded(serde_json::json!("late")),
            ),
        )
        .await
        .unwrap();
    assert!(!late);
    // The healthy worker's completion stands; a stale attempt number is refused even from it.
    let stale = queue(&tasks)
        .complete(
            &worker("healthy"),
            Completion::new(
                result.id.clone(),
                1,
                Outcome::Succeeded(serde_json::json!("stale")),
            ),
        )
        .await
        .unwrap();
    assert!(!stale);
    let recorded = queue(&tasks)
        .complete(
            &worker("healthy"),
            Completion::new(
                result.id.clone(),
                2,
                Outcome::Succeeded(serde_json::json!("ok")),
            ),
        )
        .await
        .unwrap();
    assert!(recorded);
    let done = tasks.get_result(&result.id).await.unwrap();
    assert_eq!(done.return_value::<String>().unwrap(), "ok");
    assert_eq!(done.status, TaskResultStatus::Successful);
    assert!(done.finished_at.is_some());
}

pub(crate) async fn graceful_shutdown_finishes_quick_tasks_and_requeues_slow_ones_without_using_an_attempt(
    store: &dyn Store,
) {
    let tasks = store.tasks();
    let quick = slow.enqueue(&tasks, 50).await.unwrap();
    let stuck = slow
        .using()
        .max_attempts(1)
        .enqueue(&tasks, 60_000)
        .await
        .unwrap();
    let stats = Worker::new(&tasks)
        .grace_period(Duration::from_millis(200))
        .run_until(tokio::time::sleep(Duration::from_millis(150)))
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
    // The interrupted attempt was given back: its one attempt is still there to run.
    assert_eq!(stuck.attempts(), 0, "{stuck:?}");
    let claimed = queue(&tasks)
        .claim(&worker("next"), &[], 1, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(claimed[0].attempts(), 1);
}

pub(crate) async fn deferred_tasks_wait_for_run_after(store: &dyn Store) {
    let tasks = store.tasks();
    let when = Utc::now() + chrono::Duration::milliseconds(1_500);
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
        .run_until(all_finished(
            &tasks,
            &[&deferred.id],
            Duration::from_secs(10),
        ))
        .await
        .unwrap();
    let done = tasks.get_result(&deferred.id).await.unwrap();
    assert_eq!(done.status, TaskResultStatus::Successful);
    assert!(done.started_at.unwrap() >= when);
    assert_eq!(run_count("deferred", 1), 1);
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
            "Task {} is FAILED; only a READY or RUNNING task can be cancelled.",
            doomed.id
        )
    );
    assert!(tasks.cancel("no-such-task").await.is_err());
    Worker::new(&tasks).run_until_idle().await.unwrap();
    assert_eq!(run_count("cancel", 1), 0);
}

/// Loops until cancelled, counting its rounds; records that it saw the cancellation.
#[task(takes_context, max_attempts = 3)]
pub(crate) async fn cooperative(ctx: TaskContext, key: String) -> Result<u32, String> {
    let mut rounds = 0;
    loop {
        tokio::select! {
            () = ctx.cancelled() => {
                *runs().lock().unwrap().entry((key, 1)).or_default() += 1;
                return Err(format!("stopped after {rounds} rounds"));
            }
            () = tokio::time::sleep(Duration::from_millis(10)) => rounds += 1,
        }
    }
}

/// Ignores cancellation: sleeps for a minute.
#[task(max_attempts = 3)]
async fn stubborn(key: String) {
    tokio::time::sleep(Duration::from_secs(60)).await;
    *runs().lock().unwrap().entry((key, 2)).or_default() += 1;
}

pub(crate) async fn a_running_task_cancelled_by_an_operator_stops_or_is_dropped(store: &dyn Store) {
    let tasks = store.tasks();
    let key = format!("cancel-running-{}", uuid_like());
    let polite = cooperative.enqueue(&tasks, key.clone()).await.unwrap();
    let deaf = stubborn.enqueue(&tasks, key.clone()).await.unwrap();
    // The worker runs until both ended (a loaded machine may take a while), then stops.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(
        Worker::new(&store.tasks())
            .lease(Duration::from_millis(300))
            .cancel_grace_period(Duration::from_millis(300))
            .poll_interval(Duration::from_millis(20))
            .run_until(async {
                let _ = stopped.await;
            }),
    );
    let start = Instant::now();
    while tasks.get_result(&deaf.id).await.unwrap().status != TaskResultStatus::Running
        || tasks.get_result(&polite.id).await.unwrap().status != TaskResultStatus::Running
    {
        assert!(start.elapsed() < Duration::from_secs(3), "both started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Another task system (another process) cancels: each is RUNNING right after, unless its
    // worker heard the request and ended it already (PostgreSQL's NOTIFY arrives at commit, and
    // the cooperative task stops within milliseconds), and then it ended cancelled.
    let canceller = store.tasks();
    for id in [&polite.id, &deaf.id] {
        let now = canceller.cancel(id).await.unwrap();
        match now.status {
            TaskResultStatus::Running => {}
            TaskResultStatus::Failed => assert_eq!(
                now.errors.last().unwrap().exception_class_path,
                "djrs_tasks::Cancelled",
                "{now:?}"
            ),
            other => panic!("{other} after a cancel: {now:?}"),
        }
    }
    let start = Instant::now();
    loop {
        let (a, b) = (
            tasks.get_result(&polite.id).await.unwrap(),
            tasks.get_result(&deaf.id).await.unwrap(),
        );
        if a.is_finished() && b.is_finished() {
            for done in [&a, &b] {
                assert_eq!(done.status, TaskResultStatus::Failed, "{done:?}");
                assert_eq!(done.attempts(), 1, "not retried: {done:?}");
                assert_eq!(
                    done.errors.last().unwrap().exception_class_path,
                    "djrs_tasks::Cancelled"
                );
            }
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "{a:?} {b:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).unwrap();
    worker.await.unwrap().unwrap();
    // The cooperative one saw the cancellation; the other was dropped before it finished.
    assert_eq!(run_count(&key, 1), 1);
    assert_eq!(run_count(&key, 2), 0);
    // A finished task cannot be cancelled again.
    assert!(tasks.cancel(&polite.id).await.is_err());
}

pub(crate) async fn a_paused_queue_is_skipped_by_every_worker_until_resumed(store: &dyn Store) {
    let tasks = store.tasks();
    let key = format!("paused-{}", uuid_like());
    tasks.pause("low").await.unwrap();
    tasks.pause("low").await.unwrap(); // twice is once
    assert_eq!(store.tasks().paused_queues().await.unwrap(), ["low"]);
    let waiting = record
        .using()
        .queue_name("low")
        .enqueue(&tasks, key.clone(), 1)
        .await
        .unwrap();
    let other = record.enqueue(&tasks, key.clone(), 2).await.unwrap();
    // Workers of another task system (another process): every queue, or `low` by name.
    let (all, named) = (store.tasks(), store.tasks());
    let stats = Worker::new(&all)
        .queues(Vec::<String>::new())
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.succeeded, 1, "only the unpaused queue's task ran");
    Worker::new(&named)
        .queues(["low"])
        .poll_interval(Duration::from_millis(20))
        .run_until(tokio::time::sleep(Duration::from_millis(200)))
        .await
        .unwrap();
    assert_eq!(
        tasks.get_result(&waiting.id).await.unwrap().status,
        TaskResultStatus::Ready
    );
    assert_eq!(
        tasks.get_result(&other.id).await.unwrap().status,
        TaskResultStatus::Successful
    );
    // Resumed: the next worker runs it.
    store.tasks().resume("low").await.unwrap();
    assert!(tasks.paused_queues().await.unwrap().is_empty());
    Worker::new(&named)
        .queues(["low"])
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(run_count(&key, 1), 1);
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
        .run_until(all_finished(
            &tasks,
            &[&stuck.id, &quick.id],
            Duration::from_secs(10),
        ))
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

pub(crate) async fn a_blocking_task_past_its_timeout_never_overlaps_its_retry(store: &dyn Store) {
    let tasks = store.tasks();
    let key = format!("blocking-{}", uuid_like());
    let task = blocking_sleep
        .using()
        .timeout(Duration::from_millis(100))
        .max_attempts(2)
        .enqueue(&tasks, key.clone(), 400)
        .await
        .unwrap();
    Worker::new(&tasks)
        .concurrency(4)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(1))
        .poll_interval(Duration::from_millis(10))
        .run_until(all_finished(&tasks, &[&task.id], Duration::from_secs(10)))
        .await
        .unwrap();
    let done = tasks.get_result(&task.id).await.unwrap();
    assert_eq!(done.status, TaskResultStatus::Failed, "{done:?}");
    assert!(done.errors[0].message.contains("blocking call"), "{done:?}");
    let runs = spans().lock().unwrap().get(&key).cloned().unwrap();
    assert_eq!(runs.len(), 2);
    // The retry started after the first blocking call had returned.
    assert!(
        runs[1].0 >= runs[0].1,
        "the retry overlapped the first attempt"
    );
}

/// Resolves once every task in `ids` has finished, or after `limit`: the stop
/// signal for a worker whose work a test waits out, so a loaded machine only
/// makes the test slower, never wrong.
async fn all_finished(tasks: &Tasks, ids: &[&str], limit: Duration) {
    let poll = async {
        loop {
            let mut done = true;
            for id in ids {
                let result = tasks.get_result(id).await.unwrap();
                done &= result.status.is_finished();
            }
            if done {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let _ = tokio::time::timeout(limit, poll).await;
}

/// A per-run unique suffix.
fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

static IN_QUEUE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
static MOST_IN_QUEUE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Counts how many of its kind run at once.
#[task(queue_name = "limited")]
async fn counted(millis: u64) {
    use std::sync::atomic::Ordering;
    let now = IN_QUEUE.fetch_add(1, Ordering::SeqCst) + 1;
    MOST_IN_QUEUE.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(millis)).await;
    IN_QUEUE.fetch_sub(1, Ordering::SeqCst);
}

pub(crate) async fn a_queue_limit_holds_across_workers(store: &dyn Store) {
    MOST_IN_QUEUE.store(0, std::sync::atomic::Ordering::SeqCst);
    let limited = || store.builder(&[("limited", 2)]).build().unwrap();
    let tasks = limited();
    let batch = (0..12)
        .map(|_| counted.prepare(150))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    tasks.enqueue_many(batch).await.unwrap();
    let free = record.enqueue(&tasks, "limit".into(), 1).await.unwrap();
    let done = three_workers(store, &["default", "limited"], 4).await;
    assert_eq!(done, 13);
    assert_eq!(
        tasks.get_result(&free.id).await.unwrap().status,
        TaskResultStatus::Successful
    );
    // Never more than the limit at once (how close the workers came to it depends on the load).
    let most = MOST_IN_QUEUE.load(std::sync::atomic::Ordering::SeqCst);
    assert!((1..=2).contains(&most), "{most} ran at once");
}

/// Runs three workers of `queues`, each of its own task system (a limit of two on `limited`),
/// until nothing is due; returns how many tasks they ran.
async fn three_workers(store: &dyn Store, queues: &[&str], concurrency: usize) -> u64 {
    let workers: Vec<_> = (0..3)
        .map(|_| {
            tokio::spawn(
                Worker::new(&store.builder(&[("limited", 2)]).build().unwrap())
                    .queues(queues.iter().copied())
                    .concurrency(concurrency)
                    .poll_interval(Duration::from_millis(20))
                    .run_until_idle(),
            )
        })
        .collect();
    let mut done = 0;
    for worker in workers {
        done += worker.await.unwrap().unwrap().succeeded;
    }
    done
}

/// Works `n` `counted` tasks of `millis` each with three workers; returns the most that ran
/// at once.
async fn most_at_once(store: &dyn Store, n: usize, millis: u64) -> u32 {
    use std::sync::atomic::Ordering;
    let batch = (0..n)
        .map(|_| counted.prepare(millis))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    store.tasks().enqueue_many(batch).await.unwrap();
    MOST_IN_QUEUE.store(0, Ordering::SeqCst);
    assert_eq!(three_workers(store, &["limited"], n).await, n as u64);
    MOST_IN_QUEUE.load(Ordering::SeqCst)
}

pub(crate) async fn a_queue_limit_changed_at_run_time_holds_across_workers(store: &dyn Store) {
    use djrs_tasks::QueueLimit;
    // Configured with a limit of two; an operator's process changes it for every worker.
    let operator = store.builder(&[("limited", 2)]).build().unwrap();
    let observer = store.builder(&[("limited", 2)]).build().unwrap();
    let limits = || async { observer.queue_limits().await.unwrap() };
    assert_eq!(limits().await.get("limited"), Some(&2));
    operator
        .set_queue_limit("limited", QueueLimit::AtMost(1))
        .await
        .unwrap();
    assert_eq!(limits().await.get("limited"), Some(&1));
    assert_eq!(most_at_once(store, 4, 80).await, 1);

    // None at once: a worker claims nothing from the queue.
    operator
        .set_queue_limit("limited", QueueLimit::AtMost(0))
        .await
        .unwrap();
    let held = counted.enqueue(&operator, 1).await.unwrap();
    Worker::new(&store.builder(&[("limited", 2)]).build().unwrap())
        .queues(["limited"])
        .poll_interval(Duration::from_millis(20))
        .run_until(tokio::time::sleep(Duration::from_millis(300)))
        .await
        .unwrap();
    assert_eq!(
        operator.get_result(&held.id).await.unwrap().status,
        TaskResultStatus::Ready
    );

    // Unlimited, whatever the configuration says: more than two run at once.
    operator
        .set_queue_limit("limited", QueueLimit::Unlimited)
        .await
        .unwrap();
    assert_eq!(limits().await.get("limited"), None);
    Worker::new(&store.builder(&[("limited", 2)]).build().unwrap())
        .queues(["limited"])
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(
        operator.get_result(&held.id).await.unwrap().status,
        TaskResultStatus::Successful
    );
    let most = most_at_once(store, 6, 300).await;
    assert!(most > 2, "{most} ran at once");

    // Back to the configuration.
    operator
        .set_queue_limit("limited", QueueLimit::Configured)
        .await
        .unwrap();
    assert_eq!(limits().await.get("limited"), Some(&2));
    assert!((1..=2).contains(&most_at_once(store, 6, 80).await));
}

/// Keys whose `reporting` task may finish.
fn released() -> &'static Mutex<std::collections::HashSet<String>> {
    static RELEASED: OnceLock<Mutex<std::collections::HashSet<String>>> = OnceLock::new();
    RELEASED.get_or_init(Mutex::default)
}

/// Saves its progress, waits (at most 10 s) until the test releases its key, records more
/// without saving, and fails its first attempt after saving a checkpoint, which the second
/// attempt resumes from.
#[task(takes_context, max_attempts = 2)]
async fn reporting(ctx: TaskContext, key: String) -> Result<u64, String> {
    let err = |e: djrs_tasks::Error| e.to_string();
    if ctx.attempt() == 1 {
        assert!(ctx.metadata().is_empty());
        ctx.set_metadata("step", 1).map_err(err)?;
        ctx.save_metadata().await.map_err(err)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !released().lock().unwrap().contains(&key) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        ctx.set_metadata("checkpoint", 40).map_err(err)?;
        return Err("stopped at the checkpoint".into());
    }
    // The second attempt starts from what the first saved.
    let checkpoint = ctx.metadata()["checkpoint"].as_u64().unwrap_or(0);
    let reserved = ctx.set_metadata("_djrs", true).map_err(err);
    ctx.set_metadata("reserved_refused", reserved.is_err())
        .map_err(err)?;
    ctx.set_metadata("step", 2).map_err(err)?;
    Ok(checkpoint + 2)
}

pub(crate) async fn a_task_records_metadata_that_others_see_while_it_runs(store: &dyn Store) {
    let tasks = store.tasks();
    let key = format!("metadata-{}", uuid_like());
    let id = reporting.enqueue(&tasks, key.clone()).await.unwrap().id;
    let worker_tasks = store.tasks();
    let id_text = id.to_string();
    let ids = [id_text.as_str()];
    let worker = Worker::new(&worker_tasks)
        .poll_interval(Duration::from_millis(20))
        .retry_backoff(Duration::from_millis(10), Duration::from_millis(10))
        .run_until(all_finished(&worker_tasks, &ids, Duration::from_secs(20)));
    let observer = async {
        // Another process sees the saved progress while the task runs.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let seen = tasks.get_result(&id).await.unwrap();
            if seen.metadata.get("step") == Some(&serde_json::json!(1)) {
                assert_eq!(seen.status, TaskResultStatus::Running);
                break;
            }
            assert!(Instant::now() < deadline, "no progress seen: {seen:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        released().lock().unwrap().insert(key.clone());
    };
    let (stats, ()) = tokio::join!(worker, observer);
    assert_eq!(stats.unwrap().succeeded, 1);
    let done = tasks.get_result(&id).await.unwrap();
    assert_eq!(done.status, TaskResultStatus::Successful, "{done:?}");
    assert_eq!(done.attempts(), 2);
    // Recorded without saving, kept when each attempt ended; the retry resumed from it.
    assert_eq!(done.return_value::<u64>().unwrap(), 42);
    assert_eq!(
        serde_json::Value::Object(done.metadata),
        serde_json::json!({"step": 2, "checkpoint": 40, "reserved_refused": true})
    );
}

pub(crate) async fn cron_occurrences_are_enqueued_once_and_leadership_passes_on(store: &dyn Store) {
    // Each scheduler's store makes (or checks) its schema before the clock starts, so that only
    // leadership is timed below: a busy MySQL server can take seconds over its migrations.
    let (tasks_a, tasks_b) = (store.tasks(), store.tasks());
    for tasks in [&tasks_a, &tasks_b] {
        let missing = tasks.get_result("schema-check").await;
        assert!(
            matches!(missing, Err(djrs_tasks::Error::TaskResultDoesNotExist(_))),
            "{missing:?}"
        );
    }
    let every_second = |tasks: &Tasks| {
        Scheduler::new(tasks)
            .tick(Duration::from_millis(50))
            .leadership_lease(Duration::from_millis(600))
            .add(
                "tick",
                "* * * * * *",
                record.prepare("cron".into(), 0).unwrap(),
            )
            .unwrap()
    };
    // A leads first; B waits, takes over when A stops, and goes on without repeating A's work.
    let a = tokio::spawn(
        every_second(&tasks_a).run_until(tokio::time::sleep(Duration::from_millis(2_300))),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let b = tokio::spawn(
        every_second(&tasks_b).run_until(tokio::time::sleep(Duration::from_millis(4_000))),
    );
    let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
    assert!(a.led && a.enqueued >= 1, "{a:?}");
    assert!(
        b.led && b.enqueued >= 1,
        "the second scheduler took over: {b:?}"
    );
    let enqueued = i64::try_from(a.enqueued + b.enqueued).unwrap();
    let tasks = store.stored(Stored::Tasks).await;
    let occurrences = store.stored(Stored::Occurrences).await;
    let linked = store.stored(Stored::OccurrencesWithTheirTask).await;
    assert_eq!((tasks, occurrences, linked), (enqueued, enqueued, enqueued));
    // One occurrence per second, none missed at the hand-over: the span covers ~4 seconds.
    assert!((3..=6).contains(&enqueued), "{enqueued} occurrences");

    let bad = Scheduler::new(&store.tasks()).add(
        "bad",
        "not a pattern",
        record.prepare("cron".into(), 1).unwrap(),
    );
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("invalid cron pattern")
    );
    let zone = Scheduler::new(&store.tasks()).add_in_zone(
        "zoned",
        "0 3 * * *",
        "Mars/Olympus",
        record.prepare("cron".into(), 1).unwrap(),
    );
    assert!(zone.unwrap_err().to_string().contains("unknown time zone"));
    let no_queue = Scheduler::new(&Tasks::default())
        .run_until(std::future::ready(()))
        .await;
    assert!(matches!(no_queue, Err(Error::NotSupported { .. })));
}

pub(crate) async fn transactional_enqueue_exists_only_if_the_transaction_commits(
    store: &dyn Store,
) {
    let tasks = store.tasks();
    // Redis keeps no transaction an application shares with its queue.
    if store
        .enqueue_in_transaction(&tasks, Vec::new(), false)
        .is_none()
    {
        return;
    }
    tasks.get_result("migrate-first").await.unwrap_err();
    let rolled_back = store
        .enqueue_in_transaction(&tasks, vec![record.prepare("tx".into(), 1).unwrap()], false)
        .unwrap()
        .await
        .unwrap();
    assert!(matches!(
        tasks.get_result(&rolled_back[0].id).await,
        Err(Error::TaskResultDoesNotExist(_))
    ));
    let batch = (2..=4)
        .map(|i| record.prepare("tx".into(), i))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let committed = store
        .enqueue_in_transaction(&tasks, batch, true)
        .unwrap()
        .await
        .unwrap();
    assert_eq!(committed.len(), 3);
    for result in &committed {
        assert_eq!(
            tasks.get_result(&result.id).await.unwrap().status,
            TaskResultStatus::Ready
        );
    }
    Worker::new(&tasks).run_until_idle().await.unwrap();
    assert_eq!(run_count("tx", 1), 0);
    assert_eq!((2..=4).map(|i| run_count("tx", i)).sum::<u32>(), 3);

    // Validation applies as on any enqueue.
    let invalid = store
        .enqueue_in_transaction(
            &tasks,
            vec![
                record
                    .using()
                    .priority(500)
                    .prepare("tx".into(), 5)
                    .unwrap(),
            ],
            true,
        )
        .unwrap()
        .await
        .unwrap_err();
    assert!(matches!(invalid, Error::InvalidTask(_)), "{invalid}");
    // Only this database's backend can share the caller's transaction.
    let err = store
        .enqueue_in_transaction(
            &Tasks::default(),
            vec![record.prepare("tx".into(), 6).unwrap()],
            true,
        )
        .unwrap()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("enqueue_in on a"), "{err}");
}

pub(crate) async fn workers_prune_finished_results_as_their_retention_says(store: &dyn Store) {
    let tasks = store.tasks();
    let key = format!("retention-{}", uuid_like());
    let done = record.enqueue(&tasks, key.clone(), 1).await.unwrap();
    let failed = flaky
        .using()
        .max_attempts(1)
        .enqueue(&tasks, key.clone(), 5)
        .await
        .unwrap();
    // The default keeps a day of successes and a week of failures: nothing goes.
    Worker::new(&tasks).run_until_idle().await.unwrap();
    assert_eq!(
        tasks.get_result(&done.id).await.unwrap().status,
        TaskResultStatus::Successful
    );
    // Successes kept for no time at all, failures forever: two workers (of two processes)
    // prune, one at a time, until the success is gone.
    let retention = Retention::default()
        .successful(Some(Duration::ZERO))
        .failed(None)
        .every(Duration::from_millis(20));
    let gone = async {
        for _ in 0..500 {
            if tasks.get_result(&done.id).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let (other, other_stop) = (store.tasks(), tokio::time::sleep(Duration::from_secs(10)));
    let second = tokio::spawn(async move {
        Worker::new(&other)
            .retention(retention)
            .run_until(other_stop)
            .await
    });
    Worker::new(&tasks)
        .retention(retention)
        .run_until(gone)
        .await
        .unwrap();
    second.abort();
    assert!(matches!(
        tasks.get_result(&done.id).await,
        Err(Error::TaskResultDoesNotExist(_))
    ));
    assert_eq!(
        tasks.get_result(&failed.id).await.unwrap().status,
        TaskResultStatus::Failed
    );
}

pub(crate) async fn old_results_and_occurrences_are_pruned(store: &dyn Store) {
    let tasks = store.tasks();
    let done = record.enqueue(&tasks, "prune".into(), 1).await.unwrap();
    let failed = flaky
        .using()
        .max_attempts(1)
        .enqueue(&tasks, "prune-fail".into(), 5)
        .await
        .unwrap();
    let waiting = record
        .using()
        .run_after(Utc::now() + chrono::Duration::hours(1))
        .enqueue(&tasks, "prune".into(), 2)
        .await
        .unwrap();
    Worker::new(&tasks).run_until_idle().await.unwrap();
    let all = [
        TaskResultStatus::Successful,
        TaskResultStatus::Failed,
        TaskResultStatus::Ready,
    ];
    assert_eq!(
        tasks
            .prune_results(Utc::now() - chrono::Duration::hours(1), &all)
            .await
            .unwrap(),
        0
    );
    // Per status: the successful one only.
    let later = Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(
        tasks
            .prune_results(later, &[TaskResultStatus::Successful])
            .await
            .unwrap(),
        1
    );
    assert!(matches!(
        tasks.get_result(&done.id).await,
        Err(Error::TaskResultDoesNotExist(_))
    ));
    // Only finished results go, whatever statuses are named.
    assert_eq!(tasks.prune_results(later, &all).await.unwrap(), 1);
    assert!(tasks.get_result(&failed.id).await.is_err());
    assert_eq!(
        tasks.get_result(&waiting.id).await.unwrap().status,
        TaskResultStatus::Ready
    );
    // Occurrence records of schedules go by age too.
    Scheduler::new(&tasks)
        .tick(Duration::from_millis(50))
        .add(
            "prune-tick",
            "* * * * * *",
            record.prepare("prune-cron".into(), 0).unwrap(),
        )
        .unwrap()
        .run_until(tokio::time::sleep(Duration::from_millis(1_300)))
        .await
        .unwrap();
    let recorded = store.stored(Stored::Occurrences).await;
    assert!(recorded >= 1);
    let queue = queue(&tasks);
    assert_eq!(
        queue
            .prune_occurrences(Utc::now() - chrono::Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        queue
            .prune_occurrences(Utc::now() + chrono::Duration::seconds(2))
            .await
            .unwrap(),
        u64::try_from(recorded).unwrap()
    );
}

/// The signals one task received, in order.
type Signals = Arc<Mutex<HashMap<String, Vec<&'static str>>>>;

fn with_signal_hooks(builder: TasksBuilder, signals: &Signals) -> Tasks {
    let (e, s, f) = (signals.clone(), signals.clone(), signals.clone());
    let push = |signals: &Signals, id: &str, what: &'static str| {
        signals
            .lock()
            .unwrap()
            .entry(id.to_owned())
            .or_default()
            .push(what);
    };
    builder
        .on_task_enqueued(move |r| push(&e, &r.id, "enqueued"))
        .on_task_started(move |r| push(&s, &r.id, "started"))
        .on_task_finished(move |r| {
            let what = match r.status {
                TaskResultStatus::Successful => "finished:SUCCESSFUL",
                TaskResultStatus::Failed => "finished:FAILED",
                _ => "finished:UNFINISHED",
            };
            push(&f, &r.id, what);
        })
        .build()
        .unwrap()
}

pub(crate) async fn every_transition_fires_exactly_its_hooks(store: &dyn Store) {
    let signals: Signals = Arc::default();
    let tasks = with_signal_hooks(store.builder(&[]), &signals);
    let succeeds = record.enqueue(&tasks, "hooks".into(), 1).await.unwrap();
    let retried_then_succeeds = flaky
        .enqueue(&tasks, "hooks-flaky".into(), 1)
        .await
        .unwrap();
    let fails = flaky
        .using()
        .max_attempts(1)
        .enqueue(&tasks, "hooks-fail".into(), 5)
        .await
        .unwrap();
    let cancelled = record.enqueue(&tasks, "hooks".into(), 2).await.unwrap();
    tasks.cancel(&cancelled.id).await.unwrap();
    let duplicate = record
        .using()
        .unique_key("hooks-unique")
        .enqueue(&tasks, "hooks".into(), 3)
        .await
        .unwrap();
    let again = record
        .using()
        .unique_key("hooks-unique")
        .enqueue(&tasks, "hooks".into(), 3)
        .await
        .unwrap();
    assert_eq!(duplicate.id, again.id);
    Worker::new(&tasks)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(1))
        .poll_interval(Duration::from_millis(10))
        .run_until(tokio::time::sleep(Duration::from_millis(600)))
        .await
        .unwrap();
    // A task whose worker died on its last attempt: the rescuer fails it and fires the signal.
    let orphan = record
        .using()
        .max_attempts(1)
        .enqueue(&tasks, "hooks".into(), 4)
        .await
        .unwrap();
    queue(&tasks)
        .claim(&worker("dies"), &[], 1, Duration::from_millis(30))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(80)).await;
    Worker::new(&tasks).run_until_idle().await.unwrap();
    // A task interrupted by shutdown goes back to READY without finishing.
    let interrupted = slow.enqueue(&tasks, 60_000).await.unwrap();
    Worker::new(&tasks)
        .grace_period(Duration::from_millis(10))
        .run_until(tokio::time::sleep(Duration::from_millis(100)))
        .await
        .unwrap();

    let signals = signals.lock().unwrap().clone();
    let table: [(&TaskResult, &[&str]); 7] = [
        (&succeeds, &["enqueued", "started", "finished:SUCCESSFUL"]),
        (
            &retried_then_succeeds,
            &["enqueued", "started", "started", "finished:SUCCESSFUL"],
        ),
        (&fails, &["enqueued", "started", "finished:FAILED"]),
        (&cancelled, &["enqueued", "finished:FAILED"]),
        (&duplicate, &["enqueued", "started", "finished:SUCCESSFUL"]),
        (&orphan, &["enqueued", "finished:FAILED"]),
        (&interrupted, &["enqueued", "started"]),
    ];
    for (result, expected) in table {
        assert_eq!(
            signals.get(result.id.as_str()).map(Vec::as_slice),
            Some(expected),
            "signals of {} ({})",
            result.id,
            result.task_name
        );
    }
    let orphan = tasks.get_result(&orphan.id).await.unwrap();
    assert_eq!(orphan.status, TaskResultStatus::Failed);
    assert_eq!(
        orphan.errors[0].exception_class_path,
        "djrs_tasks::WorkerLost"
    );
}

pub(crate) async fn values_the_database_cannot_store_are_refused_the_same_way(store: &dyn Store) {
    let tasks = store.tasks();
    let err = record
        .enqueue(&tasks, "nul\u{0}here".into(), 1)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidTask(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "Task arguments cannot hold the character U+0000 (NUL), which databases cannot store; found at arguments[0]"
    );
    let batch = vec![
        record.prepare("ok".into(), 1).unwrap(),
        record.prepare("bad\u{0}".into(), 2).unwrap(),
    ];
    assert!(matches!(
        tasks.enqueue_many(batch).await,
        Err(Error::InvalidTask(_))
    ));
    assert_eq!(queue(&tasks).counts().await.unwrap().rows, []);
    // A return value holding one fails the task with a clear error.
    let returned = returns_text
        .using()
        .max_attempts(1)
        .enqueue(&tasks, "fine".into())
        .await
        .unwrap();
    Worker::new(&tasks).run_until_idle().await.unwrap();
    assert_eq!(
        tasks.get_result(&returned.id).await.unwrap().status,
        TaskResultStatus::Successful
    );
    let json = serde_json::json!({"k": ["a", "b\u{0}"]});
    let nul_return = returns_json
        .using()
        .max_attempts(1)
        .enqueue(&tasks, json.to_string())
        .await
        .unwrap();
    Worker::new(&tasks).run_until_idle().await.unwrap();
    let failed = tasks.get_result(&nul_return.id).await.unwrap();
    assert_eq!(failed.status, TaskResultStatus::Failed);
    assert_eq!(
        failed.errors[0].exception_class_path,
        "djrs_tasks::InvalidTask"
    );
    // Keys and queue names holding one are refused too; lookups by such text find nothing.
    let err = record
        .using()
        .unique_key("k\u{0}")
        .enqueue(&tasks, "ok".into(), 2)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "A task's unique key cannot hold the character U+0000 (NUL), which databases cannot store."
    );
    assert!(matches!(
        tasks.get_result("\u{0}").await,
        Err(Error::TaskResultDoesNotExist(_))
    ));
    assert!(tasks.cancel("a\u{0}").await.is_err());
    let mut filter = djrs_tasks::ResultFilter::default();
    filter.queue_name = Some("default\u{0}".into());
    assert!(
        queue(&tasks)
            .list_results(&filter)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        failed.errors[0].message.contains("return value")
            && failed.errors[0].message.contains("[\"k\"][1]"),
        "{failed:?}"
    );
}

/// Returns the JSON that `text` holds (a `\\u0000` escape in it becomes a real U+0000).
#[task]
async fn returns_json(text: String) -> serde_json::Value {
    serde_json::from_str(&text).unwrap()
}

pub(crate) async fn tasks_from_config_reach_the_same_store(store: &dyn Store) {
    // Two task systems on the store see each other's tasks, as two processes would.
    let writer = store.tasks();
    let reader = store.tasks();
    let result = record.enqueue(&writer, "shared".into(), 1).await.unwrap();
    assert_eq!(
        reader.get_result(&result.id).await.unwrap().status,
        TaskResultStatus::Ready
    );
    Worker::new(&reader).run_until_idle().await.unwrap();
    assert_eq!(
        writer.get_result(&result.id).await.unwrap().status,
        TaskResultStatus::Successful
    );
    assert_eq!(
        queue(&writer)
            .list_results(&djrs_tasks::ResultFilter::default())
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Fails every time; one attempt unless an operator gives it another.
#[task(max_attempts = 1)]
async fn hopeless(key: String) -> Result<(), String> {
    *runs().lock().unwrap().entry((key, 0)).or_default() += 1;
    Err("hopeless".to_owned())
}

pub(crate) async fn an_operator_retries_hastens_deletes_and_lists_by_key(store: &dyn Store) {
    let tasks = store.tasks();
    let backend = tasks.backend("default").unwrap();
    let queue = backend.queue().unwrap();
    let status = async |id: &djrs_tasks::TaskId| backend.get_result(id).await.unwrap();

    // FAILED with every attempt used, FAILED by discarding with one left, SUCCESSFUL, deferred.
    let exhausted = hopeless
        .enqueue(&tasks, "op-exhausted".into())
        .await
        .unwrap();
    let discarded = moody
        .enqueue(&tasks, "op-discarded".into(), u32::MAX)
        .await
        .unwrap();
    let done = record.enqueue(&tasks, "op-done".into(), 0).await.unwrap();
    Worker::new(&tasks).run_until_idle().await.unwrap();
    let tomorrow = Utc::now() + chrono::Duration::days(1);
    let deferred = record
        .using()
        .run_after(tomorrow)
        .enqueue(&tasks, "op-deferred".into(), 0)
        .await
        .unwrap();
    // A failed task whose unique key another task took since.
    let unique = hopeless
        .using()
        .unique_key("op-unique")
        .enqueue(&tasks, "op-unique".into())
        .await
        .unwrap();
    Worker::new(&tasks).run_until_idle().await.unwrap();
    let holder = record
        .using()
        .unique_key("op-unique")
        .using()
        .run_after(tomorrow)
        .enqueue(&tasks, "op-holder".into(), 0)
        .await
        .unwrap();
    assert_ne!(holder.id, unique.id);

    // Retry: only the FAILED ones whose key is free; a spent task gets one more attempt.
    let nope = djrs_tasks::TaskId::from("no-such-task");
    let asked = [
        exhausted.id.clone(),
        discarded.id.clone(),
        done.id.clone(),
        unique.id.clone(),
        nope.clone(),
    ];
    assert_eq!(
        queue.retry(&asked).await.unwrap(),
        [exhausted.id.clone(), discarded.id.clone()]
    );
    let retried = status(&exhausted.id).await;
    assert_eq!(retried.status, TaskResultStatus::Ready);
    assert_eq!((retried.attempts(), retried.max_attempts), (1, 2));
    assert_eq!(retried.errors.len(), 1, "its errors are kept");
    assert!(retried.finished_at.is_none());
    let retried = status(&discarded.id).await;
    assert_eq!((retried.attempts(), retried.max_attempts), (1, 2));
    assert_eq!(status(&unique.id).await.status, TaskResultStatus::Failed);
    assert!(
        queue
            .retry(std::slice::from_ref(&exhausted.id))
            .await
            .unwrap()
            .is_empty()
    );
    Worker::new(&tasks).run_until_idle().await.unwrap();
    let again = status(&exhausted.id).await;
    assert_eq!(
        (again.status, again.attempts()),
        (TaskResultStatus::Failed, 2)
    );
    assert_eq!(run_count("op-exhausted", 0), 2);

    // Run now: a deferred READY task becomes due; nothing else changes.
    assert!(
        queue
            .run_now(&[done.id.clone(), nope.clone()])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        queue
            .run_now(std::slice::from_ref(&deferred.id))
            .await
            .unwrap(),
        std::slice::from_ref(&deferred.id)
    );
    assert!(status(&deferred.id).await.run_after.unwrap() <= Utc::now());
    assert!(
        queue
            .run_now(std::slice::from_ref(&deferred.id))
            .await
            .unwrap()
            .is_empty()
    );
    Worker::new(&tasks).run_until_idle().await.unwrap();
    assert_eq!(run_count("op-deferred", 0), 1);

    // Delete: anything not RUNNING.
    assert_eq!(
        queue
            .delete(&[done.id.clone(), holder.id.clone(), nope])
            .await
            .unwrap(),
        [done.id.clone(), holder.id.clone()]
    );
    assert!(matches!(
        backend.get_result(&done.id).await,
        Err(Error::TaskResultDoesNotExist(_))
    ));
    // With its holder gone, the unique task can be retried.
    assert_eq!(
        queue.retry(std::slice::from_ref(&unique.id)).await.unwrap(),
        std::slice::from_ref(&unique.id)
    );

    // Keyset pages, newest first, by queue, status, name and time.
    let mut ids = Vec::new();
    for item in 0..7 {
        let task = record
            .using()
            .queue_name("low")
            .enqueue(&tasks, "op-list".into(), item)
            .await
            .unwrap();
        ids.push(task.id);
    }
    ids.reverse();
    let mut filter = djrs_tasks::ResultFilter::default();
    filter.queue_name = Some("low".to_owned());
    filter.limit = Some(3);
    let mut listed = Vec::new();
    loop {
        let page = queue.list_results(&filter).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        filter.before = Some(last.id.clone());
        listed.extend(page.into_iter().map(|t| t.id));
    }
    assert_eq!(listed, ids);
    let mut filter = djrs_tasks::ResultFilter::default();
    filter.status = Some(TaskResultStatus::Failed);
    let failed: Vec<_> = queue
        .list_results(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    // Newest first: the discarded task was enqueued after the spent one.
    assert_eq!(failed, [discarded.id.clone(), exhausted.id.clone()]);
    filter.task_name = Some(moody.name().to_owned());
    let failed: Vec<_> = queue
        .list_results(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(failed, std::slice::from_ref(&discarded.id));
    let mut filter = djrs_tasks::ResultFilter::default();
    filter.enqueued_since = Some(Utc::now() + chrono::Duration::seconds(5));
    assert!(queue.list_results(&filter).await.unwrap().is_empty());
    filter.enqueued_since = None;
    filter.enqueued_until = Some(Utc::now() - chrono::Duration::days(1));
    assert!(queue.list_results(&filter).await.unwrap().is_empty());
    filter.enqueued_until = Some(Utc::now() + chrono::Duration::seconds(5));
    filter.limit = Some(500);
    // Thirteen enqueued, two deleted.
    assert_eq!(queue.list_results(&filter).await.unwrap().len(), 11);
}

pub(crate) async fn activity_counts_finished_tasks_the_oldest_waiting_and_live_workers(
    store: &dyn Store,
) {
    let tasks = store.tasks();
    let queue = tasks.backend("default").unwrap().queue().unwrap();
    let since = Utc::now() - chrono::Duration::seconds(1);
    hopeless.enqueue(&tasks, "activity".into()).await.unwrap();
    for item in 0..3 {
        record
            .enqueue(&tasks, "activity".into(), item)
            .await
            .unwrap();
    }
    record
        .using()
        .queue_name("low")
        .enqueue(&tasks, "activity".into(), 9)
        .await
        .unwrap();
    Worker::new(&tasks)
        .queues(["default", "low"])
        .run_until_idle()
        .await
        .unwrap();
    let waiting = record
        .using()
        .queue_name("high")
        .enqueue(&tasks, "activity".into(), 10)
        .await
        .unwrap();
    record
        .using()
        .queue_name("high")
        .run_after(Utc::now() + chrono::Duration::days(1))
        .enqueue(&tasks, "activity".into(), 11)
        .await
        .unwrap();

    let activity = queue.activity(since).await.unwrap();
    let of = |name: &str| {
        activity
            .queues
            .iter()
            .find(|q| q.queue_name == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {activity:?}"))
    };
    let names: Vec<&str> = activity
        .queues
        .iter()
        .map(|q| q.queue_name.as_str())
        .collect();
    assert_eq!(names, ["default", "high", "low"]);
    assert_eq!((of("default").succeeded, of("default").failed), (3, 1));
    assert_eq!((of("low").succeeded, of("low").failed), (1, 0));
    assert_eq!((of("high").succeeded, of("high").failed), (0, 0));
    assert_eq!(of("default").oldest_due, None);
    // The due task waits since it was enqueued (to the stored precision); the deferred one is
    // not waiting yet.
    let oldest = of("high").oldest_due.expect("a due task waits");
    assert!(
        (oldest - waiting.enqueued_at).num_milliseconds().abs() <= 1,
        "{oldest} {}",
        waiting.enqueued_at
    );
    assert!(oldest <= Utc::now());
    // Nothing finished after now.
    let later = queue
        .activity(Utc::now() + chrono::Duration::seconds(5))
        .await
        .unwrap();
    assert!(
        later
            .queues
            .iter()
            .all(|q| q.succeeded == 0 && q.failed == 0)
    );
    assert!(later.workers.is_empty(), "no worker runs: {later:?}");

    // A running worker is seen at once, and leaves when it stops.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = Worker::new(&tasks)
        .worker_id("activity-worker")
        .queues(["low"]);
    let running = tokio::spawn(worker.run_until(async {
        let _ = stopped.await;
    }));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = queue.activity(Utc::now()).await.unwrap().workers;
        if let Some(worker) = seen
            .iter()
            .find(|w| w.worker_id.as_str() == "activity-worker")
        {
            assert!(
                worker.until > Utc::now() + chrono::Duration::seconds(30),
                "{worker:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the worker was never seen: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    assert!(queue.activity(Utc::now()).await.unwrap().workers.is_empty());
}
