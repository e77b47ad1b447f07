//! Real worker processes under the signals operators send: SIGTERM is a graceful shutdown, and
//! a worker stopped (SIGSTOP) past its lease and continued stops the attempt it lost. The
//! worker process is this test binary run again with `worker_process` selected; it binds
//! nothing, and every test bounds its time and kills what it started by its own handle.
//!
//! The queue is PostgreSQL (a schema per test): the worker's own statements there are single
//! statements, so a process stopped at any moment holds no lock that others wait for. (On
//! SQLite a process stopped inside a write transaction holds the file's one write lock until it
//! resumes or dies; see the guide.)

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::str::FromStr;

use djrs_tasks::{
    PostgresBackend, TaskContext, TaskResultStatus, Tasks, Worker, shutdown_signal, task,
};

const CHILD_DB: &str = "DJRS_TASKS_TEST_CHILD_SCHEMA";
const CHILD_LEASE_MS: &str = "DJRS_TASKS_TEST_CHILD_LEASE_MS";
const CHILD_GRACE_MS: &str = "DJRS_TASKS_TEST_CHILD_GRACE_MS";

/// Writes `steps` side effects, one every `every_ms`, each a row naming its attempt.
#[task(takes_context, max_attempts = 3)]
async fn steps(ctx: TaskContext, key: String, count: u32, every_ms: u64) -> u32 {
    let pool = ctx.state::<sqlx::PgPool>().expect("a pool");
    for step in 0..count {
        sqlx::query("INSERT INTO side_effect (key, attempt, step, at_ms) VALUES ($1, $2, $3, $4)")
            .bind(&key)
            .bind(i64::from(ctx.attempt()))
            .bind(i64::from(step))
            .bind(now_ms())
            .execute(pool)
            .await
            .expect("the side effect is written");
        tokio::time::sleep(Duration::from_millis(every_ms)).await;
    }
    ctx.attempt()
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn pool(schema: &str) -> sqlx::PgPool {
    let options = sqlx::postgres::PgConnectOptions::from_str(&djrs_test_support::postgres_url())
        .unwrap()
        .options([("search_path", schema)]);
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(6)
        .connect_lazy_with(options)
}

fn tasks_on(schema: &str) -> Tasks {
    let pool = pool(schema);
    Tasks::builder()
        .backend("default", PostgresBackend::from_pool(pool.clone()))
        .state(pool)
        .build()
        .unwrap()
}

/// The worker process: runs only when started by a test below, with its settings in the
/// environment; works until SIGTERM or SIGINT.
#[test]
fn worker_process() {
    let Ok(schema) = std::env::var(CHILD_DB) else {
        return;
    };
    let ms = |var: &str| Duration::from_millis(std::env::var(var).unwrap().parse().unwrap());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let tasks = tasks_on(&schema);
        let worker = Worker::new(&tasks)
            .worker_id("child")
            .lease(ms(CHILD_LEASE_MS))
            .grace_period(ms(CHILD_GRACE_MS))
            .poll_interval(Duration::from_millis(20));
        println!("worker ready");
        let stats = worker.run_until(shutdown_signal()).await.unwrap();
        println!("worker stopped: {stats:?}");
    });
}

/// A worker process; killed and reaped when dropped.
struct WorkerProcess(Child);

impl WorkerProcess {
    fn start(schema: &str, lease_ms: u64, grace_ms: u64) -> WorkerProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "worker_process",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_DB, schema)
            .env(CHILD_LEASE_MS, lease_ms.to_string())
            .env(CHILD_GRACE_MS, grace_ms.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Owned from here: a start that fails below still kills the process.
        let process = WorkerProcess(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        // The test harness prints its own lines first.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("the worker process starts within 30 s");
            if line.contains("worker ready") {
                break;
            }
        }
        process
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit, at most `limit`.
    fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < limit,
                "the worker did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn create_side_effects(schema: &str) -> sqlx::PgPool {
    let pool = pool(schema);
    sqlx::query("CREATE TABLE side_effect (key TEXT, attempt BIGINT, step BIGINT, at_ms BIGINT)")
        .execute(&pool)
        .await
        .unwrap();
    pool
}

/// `(attempt, step, at_ms)` of each side effect of `key`.
async fn side_effects(pool: &sqlx::PgPool, key: &str) -> Vec<(i64, i64, i64)> {
    sqlx::query_as("SELECT attempt, step, at_ms FROM side_effect WHERE key = $1 ORDER BY at_ms")
        .bind(key)
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn wait_until(limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "not done within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_is_a_graceful_shutdown_that_gives_the_attempt_back() {
    let schema = djrs_test_support::PgSchema::create("djrs_tasks_proc")
        .await
        .expect("PostgreSQL is reachable");
    let side = create_side_effects(schema.name()).await;
    let tasks = tasks_on(schema.name());
    // A long task (10 s) and a short one (300 ms), both running when SIGTERM arrives.
    let long = steps.enqueue(&tasks, "long".into(), 50, 200).await.unwrap();
    let short = steps.enqueue(&tasks, "short".into(), 3, 100).await.unwrap();
    let mut child = WorkerProcess::start(schema.name(), 30_000, 1_000);
    wait_until(Duration::from_secs(20), async || {
        !side_effects(&side, "long").await.is_empty()
            && !side_effects(&side, "short").await.is_empty()
    })
    .await;
    child.signal("-TERM");
    let sent = Instant::now();
    let status = child.wait(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    // It waited for the grace period (the long task), no longer than it needed to.
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "{:?}",
        sent.elapsed()
    );
    // The short task finished within the grace period.
    let short = tasks.get_result(&short.id).await.unwrap();
    assert_eq!(short.status, TaskResultStatus::Successful, "{short:?}");
    // The long one is back in the queue, without using its attempt.
    let long = tasks.get_result(&long.id).await.unwrap();
    assert_eq!(long.status, TaskResultStatus::Ready, "{long:?}");
    assert_eq!(long.attempts(), 0);
    assert_eq!(
        long.errors[0].exception_class_path,
        "djrs_tasks::Interrupted"
    );
    let written = side_effects(&side, "long").await.len();
    assert!(written < 50, "the long task was stopped ({written} steps)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_stopped_past_its_lease_stops_the_attempt_it_lost() {
    let schema = djrs_test_support::PgSchema::create("djrs_tasks_proc")
        .await
        .expect("PostgreSQL is reachable");
    let side = create_side_effects(schema.name()).await;
    let tasks = tasks_on(schema.name());
    let task = steps
        .enqueue(&tasks, "stalled".into(), 12, 150)
        .await
        .unwrap();
    // The child's lease is 600 ms: it renews every 200 ms while it runs.
    let mut child = WorkerProcess::start(schema.name(), 600, 5_000);
    wait_until(Duration::from_secs(20), async || {
        !side_effects(&side, "stalled").await.is_empty()
    })
    .await;
    child.signal("-STOP");
    let stopped_at = now_ms();
    // Another worker rescues the task once the lease expires and runs it to the end.
    let rescuer = tokio::spawn(
        Worker::new(&tasks)
            .worker_id("rescuer")
            .lease(Duration::from_secs(1))
            .poll_interval(Duration::from_millis(20))
            .run_until(tokio::time::sleep(Duration::from_secs(8))),
    );
    wait_until(Duration::from_secs(10), async || {
        side_effects(&side, "stalled")
            .await
            .iter()
            .any(|(attempt, _, _)| *attempt == 2)
    })
    .await;
    // The stalled worker resumes while the rescuer runs the task.
    let resumed_at = now_ms();
    child.signal("-CONT");
    wait_until(Duration::from_secs(15), async || {
        tasks.get_result(&task.id).await.unwrap().status == TaskResultStatus::Successful
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    child.signal("-TERM");
    assert!(child.wait(Duration::from_secs(10)).success());
    rescuer.abort();

    let effects = side_effects(&side, "stalled").await;
    let first: Vec<_> = effects.iter().filter(|(a, _, _)| *a == 1).collect();
    let second: Vec<_> = effects.iter().filter(|(a, _, _)| *a == 2).collect();
    assert_eq!(second.len(), 12, "the rescuer ran every step");
    assert!(first.len() < 12, "the lost attempt stopped: {first:?}");
    // After it resumed, the lost attempt started at most the step that was already due; none
    // once its heartbeat had found the lease lost.
    let after_resume = first.iter().filter(|(_, _, at)| *at >= resumed_at).count();
    assert!(
        after_resume <= 1,
        "{after_resume} side effects after the loss: {effects:?}"
    );
    // Nothing ran while it was stopped.
    assert!(
        first
            .iter()
            .all(|(_, _, at)| *at <= stopped_at || *at >= resumed_at),
        "stopped {stopped_at}, resumed {resumed_at}: {first:?}"
    );
    // The rescuer's result stands; the stalled worker's completion, if any, was refused.
    let done = tasks.get_result(&task.id).await.unwrap();
    assert_eq!(done.return_value::<u32>().unwrap(), 2);
    assert_eq!(done.worker_ids, ["child", "rescuer"]);
}
