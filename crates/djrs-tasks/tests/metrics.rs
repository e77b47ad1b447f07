//! The metrics enqueue and the worker emit (feature `metrics`), read back from a recorder
//! local to each test, with tasks run on a real SQLite queue.
//!
//! Each test runs on tokio's current-thread runtime, so the thread-local recorder it installs
//! sees everything the worker's tasks emit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use djrs_tasks::{Flow, SqliteBackend, Task, Tasks, Worker, task};
use djrs_test_support::SqliteFile;
use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

#[task]
async fn ok() {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

#[task(max_attempts = 2)]
async fn flaky() -> Result<(), String> {
    Err("the service is down".into())
}

static SNOOZES: AtomicUsize = AtomicUsize::new(0);

#[task]
async fn snoozy() -> Result<(), Flow> {
    if SNOOZES.fetch_add(1, Ordering::SeqCst) == 0 {
        return Err(Flow::snooze(Duration::from_millis(10)));
    }
    Ok(())
}

/// The values of one snapshot by (kind, name, queue, task); gauges have no task (`""`).
type Values = HashMap<(MetricKind, String, String, String), DebugValue>;

fn values(snapshotter: &Snapshotter) -> Values {
    let mut values = HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let (kind, key) = (key.kind(), key.key());
        let label = |name: &str| {
            key.labels()
                .find(|label| label.key() == name)
                .map(|label| label.value().to_owned())
                .unwrap_or_default()
        };
        let id = (kind, key.name().to_owned(), label("queue"), label("task"));
        assert!(
            values.insert(id, value).is_none(),
            "one series per label set"
        );
    }
    values
}

fn counter(values: &Values, name: &str, queue: &str, task: &str) -> u64 {
    let key = (
        MetricKind::Counter,
        name.to_owned(),
        queue.to_owned(),
        task.to_owned(),
    );
    match values.get(&key) {
        Some(DebugValue::Counter(n)) => *n,
        None => 0,
        Some(other) => panic!("{name}: not a counter: {other:?}"),
    }
}

fn samples(values: &Values, name: &str, queue: &str, task: &str) -> Vec<f64> {
    let key = (
        MetricKind::Histogram,
        name.to_owned(),
        queue.to_owned(),
        task.to_owned(),
    );
    match values.get(&key) {
        Some(DebugValue::Histogram(samples)) => samples.iter().map(|s| s.into_inner()).collect(),
        None => Vec::new(),
        Some(other) => panic!("{name}: not a histogram: {other:?}"),
    }
}

fn tasks_on(file: &SqliteFile) -> Tasks {
    Tasks::builder()
        .backend("default", SqliteBackend::open(file.path()).unwrap())
        .queues("default", ["default", "emails", "idle"])
        .build()
        .unwrap()
}

#[tokio::test]
async fn counters_and_histograms_are_emitted_per_queue_and_task() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let file = SqliteFile::new().unwrap();
    let tasks = tasks_on(&file);

    let mut names = HashMap::new();
    for _ in 0..3 {
        names.insert("ok", ok.enqueue(&tasks).await.unwrap().task_name);
    }
    ok.using()
        .queue_name("emails")
        .enqueue(&tasks)
        .await
        .unwrap();
    names.insert("flaky", flaky.enqueue(&tasks).await.unwrap().task_name);
    names.insert("snoozy", snoozy.enqueue(&tasks).await.unwrap().task_name);
    let (ok_name, flaky_name, snoozy_name) = (&names["ok"], &names["flaky"], &names["snoozy"]);
    // Every first attempt waits at least this long between being due and its start.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let worker = Worker::new(&tasks)
        .queues(["default", "emails"])
        .retry_backoff(Duration::from_millis(5), Duration::from_millis(10));
    let stats = worker
        .run_until(async {
            let finished = || async {
                tasks
                    .backend("default")
                    .unwrap()
                    .queue()
                    .unwrap()
                    .counts()
                    .await
                    .unwrap()
                    .rows
                    .iter()
                    .all(|(_, status, _)| status.is_finished())
            };
            while !finished().await {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .unwrap();
    assert_eq!(
        (stats.succeeded, stats.failed, stats.retried, stats.snoozed),
        (5, 1, 1, 1)
    );

    let values = values(&snapshotter);
    // (counter, queue, task, value)
    let table = [
        ("djrs_tasks_enqueued_total", "default", ok_name, 3),
        ("djrs_tasks_enqueued_total", "emails", ok_name, 1),
        ("djrs_tasks_enqueued_total", "default", flaky_name, 1),
        ("djrs_tasks_enqueued_total", "default", snoozy_name, 1),
        ("djrs_tasks_started_total", "default", ok_name, 3),
        ("djrs_tasks_started_total", "emails", ok_name, 1),
        ("djrs_tasks_started_total", "default", flaky_name, 2),
        ("djrs_tasks_started_total", "default", snoozy_name, 2),
        ("djrs_tasks_succeeded_total", "default", ok_name, 3),
        ("djrs_tasks_succeeded_total", "emails", ok_name, 1),
        ("djrs_tasks_succeeded_total", "default", flaky_name, 0),
        ("djrs_tasks_succeeded_total", "default", snoozy_name, 1),
        ("djrs_tasks_failed_total", "default", flaky_name, 1),
        ("djrs_tasks_failed_total", "default", ok_name, 0),
        ("djrs_tasks_retried_total", "default", flaky_name, 1),
        ("djrs_tasks_retried_total", "default", snoozy_name, 0),
        ("djrs_tasks_snoozed_total", "default", snoozy_name, 1),
        ("djrs_tasks_snoozed_total", "default", flaky_name, 0),
    ];
    for (name, queue, task, expected) in table {
        assert_eq!(
            counter(&values, name, queue, task),
            expected,
            "{name}{{queue={queue}, task={task}}}"
        );
    }
    // One run time and one wait per attempt started.
    for (queue, task, attempts) in [
        ("default", ok_name, 3),
        ("emails", ok_name, 1),
        ("default", flaky_name, 2),
        ("default", snoozy_name, 2),
    ] {
        for histogram in ["djrs_tasks_run_seconds", "djrs_tasks_wait_seconds"] {
            let got = samples(&values, histogram, queue, task);
            assert_eq!(
                got.len(),
                attempts,
                "{histogram}{{queue={queue}, task={task}}}"
            );
            assert!(got.iter().all(|s| *s >= 0.0), "{histogram}: {got:?}");
        }
    }
    // The run times are the attempts' (`ok` sleeps 20 ms); the first attempts waited through the
    // second before the worker started, counted from their enqueue.
    assert!(
        samples(&values, "djrs_tasks_run_seconds", "default", ok_name)
            .iter()
            .all(|s| *s >= 0.02)
    );
    let waits = samples(&values, "djrs_tasks_wait_seconds", "default", ok_name);
    assert!(waits.iter().all(|s| (1.0..30.0).contains(s)), "{waits:?}");
    // The retry waited from when it became due (its `run_after`), not from its enqueue.
    let mut flaky_waits = samples(&values, "djrs_tasks_wait_seconds", "default", flaky_name);
    flaky_waits.sort_by(f64::total_cmp);
    assert!(
        flaky_waits[0] < 1.0 && flaky_waits[1] >= 1.0,
        "{flaky_waits:?}"
    );
}

#[tokio::test]
async fn the_queue_depth_of_every_queue_is_sampled_by_the_leading_worker() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let file = SqliteFile::new().unwrap();
    let tasks = tasks_on(&file);
    // Four tasks on a queue no worker works: they stay READY.
    for _ in 0..4 {
        ok.using().queue_name("idle").enqueue(&tasks).await.unwrap();
    }
    ok.enqueue(&tasks).await.unwrap();
    let sampling = |id: &str| {
        Worker::new(&tasks)
            .worker_id(id)
            .queue_metrics_every(Some(Duration::from_millis(20)))
            .poll_interval(Duration::from_millis(10))
    };
    // Two workers, one leadership: whichever leads sets the gauges of every queue in the store,
    // including one neither works.
    let (first, second) = tokio::join!(
        sampling("a").run_until(tokio::time::sleep(Duration::from_millis(400))),
        sampling("b").run_until(tokio::time::sleep(Duration::from_millis(400))),
    );
    assert_eq!(first.unwrap().succeeded + second.unwrap().succeeded, 1);
    let sampled = values(&snapshotter);
    let gauge = |name: &str, queue: &str| {
        let key = (
            MetricKind::Gauge,
            name.to_owned(),
            queue.to_owned(),
            String::new(),
        );
        match sampled.get(&key) {
            Some(DebugValue::Gauge(v)) => v.into_inner(),
            other => panic!("no {name} gauge for {queue}: {other:?}"),
        }
    };
    assert_eq!(gauge("djrs_tasks_queue_depth", "idle"), 4.0);
    // Its one task ran: nothing READY is left.
    assert_eq!(gauge("djrs_tasks_queue_depth", "default"), 0.0);
    // The idle queue's first task waited (almost) the whole run; nothing waits on the other.
    let waited = gauge("djrs_tasks_oldest_ready_age_seconds", "idle");
    assert!((0.25..5.0).contains(&waited), "{waited}");
    assert_eq!(gauge("djrs_tasks_oldest_ready_age_seconds", "default"), 0.0);

    // No sampling when asked for none: the gauge is not set again (a snapshot resets it to 0).
    let file = SqliteFile::new().unwrap();
    let quiet = tasks_on(&file);
    ok.using().queue_name("idle").enqueue(&quiet).await.unwrap();
    Worker::new(&quiet)
        .queue_metrics_every(None)
        .run_until(tokio::time::sleep(Duration::from_millis(100)))
        .await
        .unwrap();
    let key = (
        MetricKind::Gauge,
        "djrs_tasks_queue_depth".to_owned(),
        "idle".to_owned(),
        String::new(),
    );
    assert!(
        matches!(values(&snapshotter).get(&key), Some(DebugValue::Gauge(v)) if v.into_inner() == 0.0)
    );
}
