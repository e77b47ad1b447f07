//! The PostgreSQL queue and the worker, on the real PostgreSQL: the shared queue suite, plus
//! transactional enqueue, `LISTEN`/`NOTIFY` and a server restart. Each test works in a schema of
//! its own (the restart test on a server of its own).

mod suite;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, Instant};

use djrs_tasks::{Error, PostgresBackend, Task, TaskResultStatus, Tasks, Worker};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_unique_key_gives_one_task_under_concurrent_enqueues() {
    let store = PgStore::new().await;
    suite::a_unique_key_gives_one_task_under_concurrent_enqueues(&store).await;
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ready_task_can_be_cancelled() {
    let store = PgStore::new().await;
    suite::a_ready_task_can_be_cancelled(&store).await;
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_attempt_past_its_timeout_fails() {
    let store = PgStore::new().await;
    suite::an_attempt_past_its_timeout_fails(&store).await;
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

// PostgreSQL restarted while workers run: they reconnect and nothing is lost. The test restarts
// a PostgreSQL server of its own (a fresh cluster in a temp dir, on a free port, run as the
// `postgres` user), so the shared server other tests use is never disturbed. The cluster is
// stopped through its data directory when the test ends, even on failure.

/// The PostgreSQL server binaries: the newest `/usr/lib/postgresql/*/bin`.
fn pg_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries in /usr/lib/postgresql (apt-get install postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL version with pg_ctl")
}

fn as_postgres(args: &[&str]) -> std::process::Output {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .args(args)
        .output()
        .expect("runuser")
}

/// A private cluster; stopped immediately when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    pg_ctl: PathBuf,
}

impl Cluster {
    fn start() -> Cluster {
        let bin = pg_bin();
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "chown the cluster directory");
        let data = dir.path().join("data");
        let out = as_postgres(&[
            bin.join("initdb").to_str().unwrap(),
            "-D",
            data.to_str().unwrap(),
            "-A",
            "trust",
            "-U",
            "postgres",
        ]);
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Cluster {
            dir,
            port,
            pg_ctl: bin.join("pg_ctl"),
        };
        cluster.ctl(&["start"]);
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn ctl(&self, action: &[&str]) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log");
        let data = self.data();
        let mut args = vec![path_str(&self.pg_ctl), "-D", path_str(&data)];
        args.extend_from_slice(action);
        args.extend_from_slice(&[
            "-w",
            "-t",
            "60",
            "-m",
            "fast",
            "-o",
            &options,
            "-l",
            log.to_str().unwrap(),
        ]);
        let out = as_postgres(&args);
        assert!(
            out.status.success(),
            "pg_ctl {action:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = as_postgres(&[
            self.pg_ctl.to_str().unwrap(),
            "-D",
            path_str(&data),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]);
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

fn tasks_on(url: &str) -> Tasks {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy(url)
        .unwrap();
    Tasks::builder()
        .backend("default", PostgresBackend::from_pool(pool))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_survive_a_postgres_restart() {
    let cluster = Cluster::start();
    let tasks = tasks_on(&cluster.url());
    const N: u32 = 3_000;
    let key = "restart".to_owned();
    let batch = (0..N)
        .map(|i| suite::record.prepare(key.clone(), i))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let ids: Vec<String> = tasks
        .enqueue_many(batch)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();

    let workers: Vec<_> = (0..2)
        .map(|w| {
            let tasks = tasks_on(&cluster.url());
            tokio::spawn(
                Worker::new(&tasks)
                    .worker_id(format!("restart-{w}"))
                    .concurrency(4)
                    .lease(Duration::from_secs(2))
                    .poll_interval(Duration::from_millis(200))
                    .run_until(tokio::time::sleep(Duration::from_secs(90))),
            )
        })
        .collect();

    // Restart once some work is done and plenty is left.
    let start = Instant::now();
    while (0..N).filter(|i| suite::run_count(&key, *i) > 0).count() < 300 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the workers did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.ctl(&["restart"]);

    // Every task ends SUCCESSFUL; none is lost or left RUNNING.
    let start = Instant::now();
    loop {
        let done = (0..N).filter(|i| suite::run_count(&key, *i) > 0).count();
        if done == N as usize {
            let mut all = true;
            for id in &ids {
                match tasks.get_result(id).await {
                    Ok(r) if r.status == TaskResultStatus::Successful => {}
                    _ => all = false,
                }
            }
            if all {
                break;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(80),
            "only {done} of {N} tasks ran after the restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for worker in workers {
        worker.abort();
    }
    // At-least-once: an outcome lost in the restart means that task ran again, never zero times.
    assert!((0..N).all(|i| suite::run_count(&key, i) >= 1));
}

static IN_QUEUE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
static MOST_IN_QUEUE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Counts how many of its kind run at once.
#[djrs_tasks::task(queue_name = "limited")]
async fn counted(millis: u64) {
    use std::sync::atomic::Ordering;
    let now = IN_QUEUE.fetch_add(1, Ordering::SeqCst) + 1;
    MOST_IN_QUEUE.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(millis)).await;
    IN_QUEUE.fetch_sub(1, Ordering::SeqCst);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_queue_limit_holds_across_workers() {
    let store = PgStore::new().await;
    let limited = || {
        Tasks::builder()
            .backend("default", store.backend().queue_limit("limited", 2))
            .queues("default", ["default", "limited"])
            .build()
            .unwrap()
    };
    let tasks = limited();
    let batch = (0..12)
        .map(|_| counted.prepare(150))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    tasks.enqueue_many(batch).await.unwrap();
    let workers: Vec<_> = (0..3)
        .map(|_| {
            tokio::spawn(
                Worker::new(&limited())
                    .queues(["default", "limited"])
                    .concurrency(4)
                    .poll_interval(Duration::from_millis(20))
                    .run_until_idle(),
            )
        })
        .collect();
    let mut done = 0;
    for worker in workers {
        done += worker.await.unwrap().unwrap().succeeded;
    }
    assert_eq!(done, 12);
    // Never more than the limit at once (how close the workers came to it depends on the load).
    let most = MOST_IN_QUEUE.load(std::sync::atomic::Ordering::SeqCst);
    assert!((1..=2).contains(&most), "{most} ran at once");
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cron_occurrences_are_enqueued_once_and_leadership_passes_on() {
    let store = PgStore::new().await;
    let every_second = || {
        djrs_tasks::Scheduler::new(&store.tasks())
            .tick(Duration::from_millis(50))
            .add(
                "tick",
                "* * * * * *",
                suite::record.prepare("cron".into(), 0).unwrap(),
            )
            .unwrap()
    };
    // A leads first; B waits, takes over when A stops, and goes on without repeating A's work.
    let a =
        tokio::spawn(every_second().run_until(tokio::time::sleep(Duration::from_millis(2_300))));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let b =
        tokio::spawn(every_second().run_until(tokio::time::sleep(Duration::from_millis(3_500))));
    let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
    assert!(a.led && a.enqueued >= 1, "{a:?}");
    assert!(
        b.led && b.enqueued >= 1,
        "the second scheduler took over: {b:?}"
    );
    let enqueued = a.enqueued + b.enqueued;

    let backend = store.backend();
    let pool = backend.pool();
    let tasks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM djrs_task")
        .fetch_one(pool)
        .await
        .unwrap();
    let occurrences: i64 =
        sqlx::query_scalar("SELECT COUNT(DISTINCT occurrence) FROM djrs_task_schedule")
            .fetch_one(pool)
            .await
            .unwrap();
    let linked: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM djrs_task_schedule s JOIN djrs_task t ON t.id = s.task_id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        (tasks, occurrences, linked),
        (enqueued as i64, enqueued as i64, enqueued as i64)
    );

    let bad = djrs_tasks::Scheduler::new(&store.tasks()).add(
        "bad",
        "not a pattern",
        suite::record.prepare("cron".into(), 1).unwrap(),
    );
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("invalid cron pattern")
    );
    let not_pg = djrs_tasks::Scheduler::new(&Tasks::default())
        .run_until(std::future::ready(()))
        .await;
    assert!(matches!(not_pg, Err(Error::NotSupported { .. })));
    store.drop_schema().await;
}

#[tokio::test]
async fn old_results_are_pruned() {
    let store = PgStore::new().await;
    let tasks = store.tasks();
    let done = suite::record
        .enqueue(&tasks, "prune-pg".into(), 1)
        .await
        .unwrap();
    let waiting = suite::record
        .using()
        .run_after(chrono::Utc::now() + chrono::Duration::hours(1))
        .enqueue(&tasks, "prune-pg".into(), 2)
        .await
        .unwrap();
    Worker::new(&tasks).run_until_idle().await.unwrap();
    let statuses = [
        TaskResultStatus::Successful,
        TaskResultStatus::Failed,
        TaskResultStatus::Ready,
    ];
    assert_eq!(
        tasks
            .prune_results(chrono::Utc::now() - chrono::Duration::hours(1), &statuses)
            .await
            .unwrap(),
        0
    );
    // Only finished results go, whatever statuses are named.
    assert_eq!(
        tasks
            .prune_results(chrono::Utc::now() + chrono::Duration::seconds(1), &statuses)
            .await
            .unwrap(),
        1
    );
    assert!(matches!(
        tasks.get_result(&done.id).await,
        Err(Error::TaskResultDoesNotExist(_))
    ));
    assert_eq!(
        tasks.get_result(&waiting.id).await.unwrap().status,
        TaskResultStatus::Ready
    );
    store.drop_schema().await;
}
