//! `djrs-demo worker` processes on one SQLite queue: a task runs once however many processes
//! work the file, and a task whose worker is killed with SIGKILL runs again after its lease.
//! Processes bind nothing, are bounded in time and are stopped by their own handles.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use djrs::tasks::{TaskResultStatus, Tasks};
use djrs_demo::{Db, jobs};
use djrs_test_support::PgDatabase;

/// A `djrs-demo worker` process; killed (SIGKILL) and reaped when dropped.
struct WorkerProcess {
    child: Child,
}

impl WorkerProcess {
    fn start(database_url: &str, lease_seconds: &str) -> WorkerProcess {
        Self::start_with(database_url, lease_seconds, &[])
    }

    fn start_with(database_url: &str, lease_seconds: &str, more: &[&str]) -> WorkerProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_djrs-demo"))
            .args([
                "worker",
                "--database-url",
                database_url,
                "--lease",
                lease_seconds,
                "--concurrency",
                "8",
            ])
            .args(more)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start djrs-demo worker");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("djrs-demo worker") {
                    let _ = tx.send(());
                }
            }
        });
        // Owned before waiting: a start that fails still kills the process.
        let process = WorkerProcess { child };
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the worker started within 60 s");
        process
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn setup() -> (tempfile::TempDir, String, Db, Tasks) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("workers.sqlite3").display());
    let db = Db::connect(&url).await.unwrap();
    let tasks = djrs_demo::tasks_for(&db).unwrap();
    (dir, url, db, tasks)
}

/// Counts of the queue's tasks by status.
async fn status_counts(tasks: &Tasks) -> std::collections::HashMap<TaskResultStatus, u64> {
    let queue = tasks.backend("default").unwrap().queue().unwrap();
    let mut counts = std::collections::HashMap::new();
    for (_, status, n) in queue.counts().await.unwrap().rows {
        *counts.entry(status).or_default() += n;
    }
    counts
}

async fn enqueue_welcomes(tasks: &Tasks, n: usize) {
    let batch: Vec<_> = (0..n)
        .map(|i| {
            jobs::send_welcome_message
                .prepare(format!("user {i}"), format!("user{i}@example.com"))
                .unwrap()
        })
        .collect();
    for chunk in batch.chunks(2_000) {
        tasks.enqueue_many(chunk.to_vec()).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_worker_processes_run_ten_thousand_tasks_once_each() {
    let database = PgDatabase::create("djrs_demo_two_procs")
        .await
        .expect("PostgreSQL is reachable");
    let db = Db::connect(database.url()).await.unwrap();
    let tasks = djrs_demo::tasks_for(&db).unwrap();
    const N: usize = 10_000;
    enqueue_welcomes(&tasks, N).await;
    {
        let _a = WorkerProcess::start(database.url(), "30");
        let _b = WorkerProcess::start(database.url(), "30");
        wait_until(Duration::from_secs(240), "10,000 tasks", async || {
            status_counts(&tasks)
                .await
                .get(&TaskResultStatus::Successful)
                .copied()
                .unwrap_or(0)
                >= N as u64
        })
        .await;
    }
    let counts = status_counts(&tasks).await;
    assert_eq!(
        counts.get(&TaskResultStatus::Successful),
        Some(&(N as u64)),
        "{counts:?}"
    );
    // Each ran once: one attempt each, one outbox row each.
    let queue = tasks.backend("default").unwrap().queue().unwrap();
    let mut filter = djrs::tasks::ResultFilter::default();
    filter.limit = Some(500);
    for result in queue.list_results(&filter).await.unwrap() {
        assert_eq!(result.attempts(), 1, "{result:?}");
    }
    let rows: i64 = db
        .pool()
        .query("SELECT COUNT(*) FROM outbox")
        .fetch_scalar()
        .await
        .unwrap();
    let twice: i64 = db
        .pool()
        .query("SELECT COUNT(*) FROM djrs_task WHERE attempts <> 1")
        .fetch_scalar()
        .await
        .unwrap();
    assert_eq!((rows, twice), (N as i64, 0));
    db.pool().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tasks_of_a_killed_worker_all_finish() {
    let database = PgDatabase::create("djrs_demo_sigkill")
        .await
        .expect("PostgreSQL is reachable");
    let db = Db::connect(database.url()).await.unwrap();
    let tasks = djrs_demo::tasks_for(&db).unwrap();
    const N: usize = 3_000;
    enqueue_welcomes(&tasks, N).await;
    for _ in 0..4 {
        jobs::generate_report.enqueue(&tasks, 2).await.unwrap();
    }
    let doomed = WorkerProcess::start(database.url(), "1");
    wait_until(
        Duration::from_secs(60),
        "the first worker to be mid-run",
        async || {
            let counts = status_counts(&tasks).await;
            counts.get(&TaskResultStatus::Running).copied().unwrap_or(0) > 0
                && counts
                    .get(&TaskResultStatus::Successful)
                    .copied()
                    .unwrap_or(0)
                    > 0
        },
    )
    .await;
    drop(doomed); // SIGKILL
    {
        let _rescuer = WorkerProcess::start(database.url(), "1");
        wait_until(
            Duration::from_secs(120),
            "every task to finish",
            async || {
                let counts = status_counts(&tasks).await;
                counts
                    .get(&TaskResultStatus::Successful)
                    .copied()
                    .unwrap_or(0)
                    == (N + 4) as u64
            },
        )
        .await;
    }
    let counts = status_counts(&tasks).await;
    assert_eq!(counts.get(&TaskResultStatus::Running), None, "{counts:?}");
    assert_eq!(counts.get(&TaskResultStatus::Ready), None, "{counts:?}");
    let rows: i64 = db
        .pool()
        .query("SELECT COUNT(*) FROM outbox")
        .fetch_scalar()
        .await
        .unwrap();
    assert_eq!(rows, (N + 4) as i64);
    let rescued: i64 = db
        .pool()
        .query("SELECT COUNT(*) FROM djrs_task WHERE attempts = 2")
        .fetch_scalar()
        .await
        .unwrap();
    assert!(rescued >= 1, "the killed worker had tasks running");
    db.pool().close().await;
}

/// Removes the Redis keys under a prefix when dropped (also when the test fails).
struct RedisKeys(String);

impl RedisKeys {
    fn url() -> String {
        std::env::var("DJRS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
    }
}

impl Drop for RedisKeys {
    fn drop(&mut self) {
        let Ok(mut conn) = redis::Client::open(Self::url()).and_then(|c| c.get_connection()) else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.0))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _ = redis::cmd("DEL").arg(&keys).query::<()>(&mut conn);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_queue_worker_processes_finish_every_task_when_one_is_killed() {
    let (_dir, url, db, _) = setup().await;
    let keys = RedisKeys(format!("djrs-demo-test-{}", std::process::id()));
    let redis_url = RedisKeys::url();
    let queue = djrs_demo::queue_for(&db, Some(&redis_url), &keys.0).unwrap();
    assert_eq!(queue.name(), "RedisBackend");
    let tasks = djrs_demo::tasks_on(
        &db,
        queue,
        djrs::mail::Mailer::new(djrs::mail::LocmemBackend::new()),
    )
    .unwrap();
    const N: usize = 2_000;
    enqueue_welcomes(&tasks, N).await;
    let flags = [
        "--tasks-url",
        redis_url.as_str(),
        "--tasks-prefix",
        keys.0.as_str(),
    ];
    let doomed = WorkerProcess::start_with(&url, "1", &flags);
    wait_until(
        Duration::from_secs(60),
        "the first worker to be mid-run",
        async || {
            status_counts(&tasks)
                .await
                .get(&TaskResultStatus::Successful)
                .copied()
                .unwrap_or(0)
                > 0
        },
    )
    .await;
    drop(doomed); // SIGKILL
    {
        let _a = WorkerProcess::start_with(&url, "1", &flags);
        let _b = WorkerProcess::start_with(&url, "1", &flags);
        wait_until(
            Duration::from_secs(120),
            "every task to finish",
            async || {
                status_counts(&tasks)
                    .await
                    .get(&TaskResultStatus::Successful)
                    .copied()
                    .unwrap_or(0)
                    == N as u64
            },
        )
        .await;
    }
    let counts = status_counts(&tasks).await;
    assert_eq!(counts.len(), 1, "{counts:?}");
    // One outbox row per task (the task id keys the write), in the showcase's own database.
    let rows: i64 = db
        .pool()
        .query("SELECT COUNT(*) FROM outbox")
        .fetch_scalar()
        .await
        .unwrap();
    assert_eq!(rows, N as i64);
    // A URL of another kind is refused without echoing its password.
    let err = djrs_demo::queue_for(&db, Some("amqp://u:hunter2@host"), "x").unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

async fn wait_until<F: AsyncFnMut() -> bool>(limit: Duration, what: &str, mut done: F) {
    let start = Instant::now();
    while !done().await {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_run_each_task_once() {
    let (_dir, url, db, tasks) = setup().await;
    const N: usize = 300;
    let batch: Vec<_> = (0..N)
        .map(|i| {
            jobs::send_welcome_message
                .prepare(format!("user {i}"), format!("user{i}@example.com"))
                .unwrap()
        })
        .collect();
    let results = tasks.enqueue_many(batch).await.unwrap();

    let _a = WorkerProcess::start(&url, "30");
    let _b = WorkerProcess::start(&url, "30");
    wait_until(Duration::from_secs(60), "every welcome task", async || {
        db.outbox(i64::try_from(N + 10).unwrap())
            .await
            .unwrap()
            .len()
            >= N
    })
    .await;
    let mut workers = std::collections::HashSet::new();
    for result in &results {
        let done = tasks.get_result(&result.id).await.unwrap();
        assert_eq!(done.status, TaskResultStatus::Successful, "{done:?}");
        assert_eq!(done.attempts(), 1, "{done:?}");
        workers.insert(done.worker_ids[0].clone());
    }
    assert_eq!(
        db.outbox(i64::try_from(N * 2).unwrap())
            .await
            .unwrap()
            .len(),
        N
    );
    assert!(!workers.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_of_a_killed_worker_runs_again_after_its_lease() {
    let (_dir, url, db, tasks) = setup().await;
    let result = jobs::generate_report.enqueue(&tasks, 3).await.unwrap();

    let doomed = WorkerProcess::start(&url, "1");
    wait_until(
        Duration::from_secs(30),
        "the first worker to start the report",
        async || tasks.get_result(&result.id).await.unwrap().status == TaskResultStatus::Running,
    )
    .await;
    drop(doomed); // SIGKILL, mid-task

    let _rescuer = WorkerProcess::start(&url, "1");
    wait_until(
        Duration::from_secs(60),
        "the report to finish on the second worker",
        async || tasks.get_result(&result.id).await.unwrap().is_finished(),
    )
    .await;
    let done = tasks.get_result(&result.id).await.unwrap();
    assert_eq!(done.status, TaskResultStatus::Successful, "{done:?}");
    assert_eq!(done.attempts(), 2);
    assert_ne!(done.worker_ids[0], done.worker_ids[1]);
    assert_eq!(
        done.errors[0].exception_class_path,
        "djrs_tasks::WorkerLost"
    );
    assert_eq!(
        done.return_value::<String>().unwrap(),
        "report built in 3 s on attempt 2"
    );
    let reports = db.outbox(10).await.unwrap();
    assert_eq!(reports.iter().filter(|m| m.task_id == result.id).count(), 1);
}
