//! The PostgreSQL queue and the worker, on the real PostgreSQL: the shared queue suite, plus
//! what only PostgreSQL has (`LISTEN`/`NOTIFY`) and a server restart. Each test works in a
//! schema of its own (the restart test on a server of its own).

#[macro_use]
mod suite;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use djrs_tasks::{
    BoxFuture, EnqueueIn, PostgresBackend, PreparedTask, TaskResult, TaskResultStatus, Tasks,
    TasksBuilder, Worker,
};
use suite::{Store, Stored};

/// A PostgreSQL schema of its own, dropped with the store (also when the test fails).
struct PgStore(djrs_test_support::PgSchema);

impl PgStore {
    async fn new() -> Self {
        PgStore(
            djrs_test_support::PgSchema::create("djrs_tasks")
                .await
                .expect("PostgreSQL is reachable"),
        )
    }

    fn pool(&self) -> sqlx::PgPool {
        self.0.pool(8).unwrap()
    }

    fn backend(&self) -> PostgresBackend {
        PostgresBackend::from_pool(self.pool())
    }

    /// Drops the schema (what dropping the store does, named for the suite's macro).
    async fn cleanup(self) {
        drop(self);
    }
}

impl Store for PgStore {
    fn builder(&self, limits: &[(&'static str, u32)]) -> TasksBuilder {
        let mut backend = self.backend();
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
        }))
    }

    fn stored<'a>(&'a self, what: Stored) -> BoxFuture<'a, i64> {
        Box::pin(async move {
            let sql = what.sql();
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

shared_suite!(PgStore::new().await);

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
    drop(store);
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
    drop(store);
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
    let ids: Vec<djrs_tasks::TaskId> = tasks
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

#[tokio::test]
async fn the_console_answers_nul_in_urls_without_database_text() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    let store = PgStore::new().await;
    let tasks = store.tasks();
    suite::record
        .enqueue(&tasks, "console-nul".into(), 1)
        .await
        .unwrap();
    let app: axum::Router = axum::Router::new()
        .nest("/tasks", djrs_tasks::axum::console(|_, _| true))
        .with_state(tasks);
    for (uri, expected) in [
        ("/tasks/task/%00", StatusCode::BAD_REQUEST),
        ("/tasks/api/results/%00", StatusCode::BAD_REQUEST),
        ("/tasks/api/results?queue_name=%00", StatusCode::BAD_REQUEST),
        ("/tasks/list?task_name=a%00b", StatusCode::BAD_REQUEST),
        ("/tasks/list?q=a%00b", StatusCode::BAD_REQUEST),
        ("/tasks/list?before=%FF%FE", StatusCode::OK),
        ("/tasks/list?task_name=%FF%FE", StatusCode::OK),
    ] {
        let response = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, expected, "{uri}: {body}");
        for database_text in [
            "invalid byte sequence",
            "0x00",
            "SQLSTATE",
            "unsupported Unicode",
        ] {
            assert!(!body.contains(database_text), "{uri}: {body}");
        }
        if status == StatusCode::BAD_REQUEST {
            assert!(body.contains("without NUL"), "{uri}: {body}");
        }
    }
    store.cleanup().await;
}

/// The task table's size (table, indexes and TOAST), its invalid indexes, and the object id of
/// one of its indexes (which `REINDEX … CONCURRENTLY` changes).
async fn table_facts(pool: &sqlx::PgPool) -> (i64, i64, u32) {
    sqlx::query_as(
        "SELECT pg_total_relation_size('djrs_task'), \
           (SELECT COUNT(*) FROM pg_index WHERE indrelid = 'djrs_task'::regclass AND NOT indisvalid), \
           'djrs_task_finished'::regclass::oid::int4",
    )
    .fetch_one(pool)
    .await
    .map(|(size, invalid, oid): (i64, i64, i32)| (size, invalid, u32::try_from(oid).unwrap()))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_compact_the_task_table_once_per_interval_and_drop_invalid_indexes() {
    use djrs_tasks::Retention;

    let store = PgStore::new().await;
    let tasks = store.tasks();
    let pool = store.pool();
    let batch = (0..3_000)
        .map(|i| suite::record.prepare("compaction".into(), i))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    tasks.enqueue_many(batch).await.unwrap();
    let kept = Worker::new(&tasks)
        .concurrency(64)
        .retention(Retention::forever())
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(kept.succeeded, 3_000);
    // What an interrupted `REINDEX … CONCURRENTLY` leaves: an invalid index (here one whose
    // build failed on duplicates).
    let failed = sqlx::raw_sql(
        "CREATE UNIQUE INDEX CONCURRENTLY djrs_task_finished_ccnew ON djrs_task (queue_name)",
    )
    .execute(&pool)
    .await;
    assert!(failed.is_err());
    let later = chrono::Utc::now() + chrono::Duration::seconds(1);
    let pruned = tasks
        .prune_results(later, &[TaskResultStatus::Successful])
        .await
        .unwrap();
    assert_eq!(pruned, 3_000);
    let (full, invalid, index) = table_facts(&pool).await;
    assert_eq!(invalid, 1);

    // A worker whose pruner compacts hourly: nothing compacted the store yet, so it does now.
    let hourly = Retention::default()
        .every(Duration::from_millis(50))
        .compact_every(Some(Duration::from_secs(3_600)));
    let first = store.tasks();
    Worker::new(&first)
        .worker_id("compacting")
        .retention(hourly)
        .run_until(tokio::time::sleep(Duration::from_millis(1_500)))
        .await
        .unwrap();
    let (compacted, invalid, rebuilt) = table_facts(&pool).await;
    assert_eq!(invalid, 0, "the leftover index is dropped");
    assert_ne!(rebuilt, index, "the indexes are rebuilt");
    assert!(
        compacted * 4 < full,
        "{compacted} bytes after, {full} before"
    );

    // Another worker within the hour (another process, after a restart): not again.
    let second = store.tasks();
    Worker::new(&second)
        .worker_id("within-the-hour")
        .retention(hourly)
        .run_until(tokio::time::sleep(Duration::from_millis(500)))
        .await
        .unwrap();
    assert_eq!(table_facts(&pool).await.2, rebuilt);
    pool.close().await;
    store.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_from_another_process_reaches_a_busy_worker_by_notify() {
    let store = PgStore::new().await;
    let key = format!("notify-cancel-{}", std::process::id());
    let worker_tasks = store.tasks();
    let id = suite::cooperative
        .enqueue(&worker_tasks, key.clone())
        .await
        .unwrap()
        .id;
    // Heartbeats every 20 s (a third of the lease): a cancel seen sooner came by NOTIFY.
    let worker = tokio::spawn(
        Worker::new(&worker_tasks)
            .lease(Duration::from_secs(60))
            .run_until(tokio::time::sleep(Duration::from_secs(15))),
    );
    let operator = store.tasks();
    let deadline = Instant::now() + Duration::from_secs(10);
    while operator.get_result(&id).await.unwrap().status != TaskResultStatus::Running {
        assert!(Instant::now() < deadline, "the task never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Past the worker's first heartbeat, which comes when it starts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    operator.cancel(&id).await.unwrap();
    let took = {
        let asked = Instant::now();
        loop {
            let seen = operator.get_result(&id).await.unwrap();
            if seen.status == TaskResultStatus::Failed {
                assert_eq!(seen.errors[0].exception_class_path, "djrs_tasks::Cancelled");
                break asked.elapsed();
            }
            assert!(asked.elapsed() < Duration::from_secs(10), "{seen:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    assert!(took < Duration::from_secs(5), "the cancel took {took:?}");
    assert_eq!(
        suite::run_count(&key, 1),
        1,
        "the task saw the cancellation"
    );
    worker.abort();
    store.cleanup().await;
}
