//! Real worker processes on the Redis queue under the signals that end or stall them: a worker
//! killed mid-task (SIGKILL) and one stopped past its lease (SIGSTOP) then continued. The
//! worker process is this test binary run again with `worker_process` selected; it binds
//! nothing, and every test bounds its time and kills what it started by its own handle. Each
//! test works under a key prefix of its own and removes its keys, also when it fails.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use djrs_tasks::{
    RedisBackend, Task, TaskContext, TaskResultStatus, Tasks, Worker, shutdown_signal, task,
};

const CHILD_PREFIX: &str = "DJRS_TASKS_TEST_CHILD_PREFIX";
const CHILD_LEASE_MS: &str = "DJRS_TASKS_TEST_CHILD_LEASE_MS";

fn redis_url() -> String {
    std::env::var("DJRS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Writes `count` side effects, one every `every_ms`: `attempt,step,at_ms` on a list.
#[task(takes_context, max_attempts = 3)]
async fn steps(ctx: TaskContext, key: String, count: u32, every_ms: u64) -> u32 {
    let effects = ctx.state::<Effects>().expect("the side-effect list");
    for step in 0..count {
        effects.push(&key, ctx.attempt(), step).await;
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

/// Side effects, kept in Redis under the test's prefix.
#[derive(Clone)]
struct Effects {
    prefix: String,
    client: redis::Client,
}

impl Effects {
    async fn push(&self, key: &str, attempt: u32, step: u32) {
        let mut conn = self
            .client
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        redis::cmd("RPUSH")
            .arg(format!("{}:effects:{key}", self.prefix))
            .arg(format!("{attempt},{step},{}", now_ms()))
            .query_async::<()>(&mut conn)
            .await
            .expect("the side effect is written");
    }

    /// `(attempt, step, at_ms)` of each side effect of `key`.
    async fn of(&self, key: &str) -> Vec<(u32, u32, i64)> {
        let mut conn = self
            .client
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let lines: Vec<String> = redis::cmd("LRANGE")
            .arg(format!("{}:effects:{key}", self.prefix))
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .unwrap();
        lines
            .iter()
            .map(|line| {
                let mut parts = line.split(',');
                let mut next = || parts.next().unwrap().to_owned();
                (
                    next().parse().unwrap(),
                    next().parse().unwrap(),
                    next().parse().unwrap(),
                )
            })
            .collect()
    }
}

/// A key prefix of the test's own, whose keys are removed when the test ends (also when it
/// fails).
struct Prefix(String);

impl Prefix {
    fn new() -> Prefix {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        Prefix(format!("djrs-proc-{}-{nanos}", std::process::id()))
    }

    /// The time to live of `key` (below the prefix) in milliseconds: -1 for none, -2 when it
    /// does not exist.
    fn pttl(&self, key: &str) -> i64 {
        let mut conn = redis::Client::open(redis_url())
            .unwrap()
            .get_connection()
            .unwrap();
        redis::cmd("PTTL")
            .arg(format!("{}{key}", self.0))
            .query(&mut conn)
            .unwrap()
    }

    fn keys(&self) -> Vec<String> {
        let mut conn = redis::Client::open(redis_url())
            .unwrap()
            .get_connection()
            .unwrap();
        redis::cmd("KEYS")
            .arg(format!("{}:*", self.0))
            .query(&mut conn)
            .unwrap()
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let keys = self.keys();
        if let Ok(mut conn) = redis::Client::open(redis_url()).and_then(|c| c.get_connection())
            && !keys.is_empty()
        {
            let _ = redis::cmd("DEL").arg(&keys).query::<()>(&mut conn);
        }
    }
}

fn tasks_on(prefix: &str) -> Tasks {
    let effects = Effects {
        prefix: prefix.to_owned(),
        client: redis::Client::open(redis_url()).unwrap(),
    };
    Tasks::builder()
        .backend(
            "default",
            RedisBackend::open(&redis_url())
                .unwrap()
                .prefix(prefix)
                .unwrap(),
        )
        .state(effects)
        .build()
        .unwrap()
}

fn effects(prefix: &str) -> Effects {
    Effects {
        prefix: prefix.to_owned(),
        client: redis::Client::open(redis_url()).unwrap(),
    }
}

/// The worker process: runs only when started by a test below, with its settings in the
/// environment; works until SIGTERM or SIGINT.
#[test]
fn worker_process() {
    let Ok(prefix) = std::env::var(CHILD_PREFIX) else {
        return;
    };
    let lease: u64 = std::env::var(CHILD_LEASE_MS).unwrap().parse().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let tasks = tasks_on(&prefix);
        let worker = Worker::new(&tasks)
            .worker_id("child")
            .lease(Duration::from_millis(lease))
            .grace_period(Duration::from_secs(5))
            .poll_interval(Duration::from_millis(20));
        println!("worker ready");
        let stats = worker.run_until(shutdown_signal()).await.unwrap();
        println!("worker stopped: {stats:?}");
    });
}

/// A worker process; killed and reaped when dropped.
struct WorkerProcess {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl WorkerProcess {
    fn start(prefix: &str, lease_ms: u64) -> WorkerProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "worker_process",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_PREFIX, prefix)
            .env(CHILD_LEASE_MS, lease_ms.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        // Owned from here: a start that fails below still kills the process.
        let process = WorkerProcess { child, lines };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let line = process
                .lines
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
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit, at most `limit`, and returns what it printed last.
    fn wait(&mut self, limit: Duration) -> (std::process::ExitStatus, Vec<String>) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50));
                return (status, self.lines.try_iter().collect());
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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_until(limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "not done within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Resolves once the task is finished; fails the test after `limit`.
async fn finished(tasks: &Tasks, id: &str, limit: Duration) {
    let start = Instant::now();
    while !tasks.get_result(id).await.unwrap().is_finished() {
        assert!(start.elapsed() < limit, "not finished within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workers_task_is_finished_by_another_and_leaves_no_key_behind() {
    let prefix = Prefix::new();
    let tasks = tasks_on(&prefix.0);
    let side = effects(&prefix.0);
    let task = steps
        .using()
        .unique_key("only-one")
        .enqueue(&tasks, "killed".into(), 8, 100)
        .await
        .unwrap();
    let mut child = WorkerProcess::start(&prefix.0, 600);
    wait_until(Duration::from_secs(20), async || {
        !side.of("killed").await.is_empty()
    })
    .await;
    child.signal("-KILL");
    let _ = child.wait(Duration::from_secs(10));

    Worker::new(&tasks)
        .worker_id("survivor")
        .lease(Duration::from_secs(1))
        .poll_interval(Duration::from_millis(20))
        .run_until(finished(&tasks, &task.id, Duration::from_secs(15)))
        .await
        .unwrap();
    let done = tasks.get_result(&task.id).await.unwrap();
    assert_eq!(done.status, TaskResultStatus::Successful, "{done:?}");
    assert_eq!(done.attempts(), 2);
    assert_eq!(done.worker_ids, ["child", "survivor"]);
    assert_eq!(
        done.errors[0].exception_class_path,
        "djrs_tasks::WorkerLost"
    );
    assert_eq!(done.return_value::<u32>().unwrap(), 2);
    // What is left: the result, its index entries, the queue registry and the test's effects;
    // no lease, no ready or deferred entry, no unique key. What the killed worker held is left
    // to expire by itself, each with a time to live: its pruner's and its metrics sampler's
    // leadership (at most three pruner intervals) and its entry among the live workers (three
    // presence intervals).
    let expiring = [
        ":lead:djrs_tasks.pruner",
        ":lead:djrs_tasks.metrics",
        ":workers",
    ];
    let mut keys: Vec<String> = prefix
        .keys()
        .into_iter()
        .map(|k| k.trim_start_matches(&prefix.0).to_owned())
        .filter(|k| !expiring.contains(&k.as_str()))
        .collect();
    keys.sort();
    for key in expiring {
        let ttl = prefix.pttl(key);
        assert!(ttl == -2 || (0..=180_000).contains(&ttl), "{key}: {ttl}");
    }
    assert_eq!(
        keys,
        [
            ":effects:killed".to_owned(),
            ":queues".to_owned(),
            ":{default}:f:SUCCESSFUL".to_owned(),
            ":{default}:s:SUCCESSFUL".to_owned(),
            format!(":{{default}}:t:{}", task.id),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_stopped_past_its_lease_has_its_late_completion_refused() {
    let prefix = Prefix::new();
    let tasks = tasks_on(&prefix.0);
    let side = effects(&prefix.0);
    let task = steps
        .enqueue(&tasks, "stalled".into(), 6, 100)
        .await
        .unwrap();
    // The child's lease is 500 ms: it renews every ~170 ms while it runs.
    let mut child = WorkerProcess::start(&prefix.0, 500);
    wait_until(Duration::from_secs(20), async || {
        !side.of("stalled").await.is_empty()
    })
    .await;
    child.signal("-STOP");
    let stopped_at = now_ms();
    // Another worker rescues the task once the lease expires and runs it to the end.
    Worker::new(&tasks)
        .worker_id("rescuer")
        .lease(Duration::from_secs(1))
        .poll_interval(Duration::from_millis(20))
        .run_until(finished(&tasks, &task.id, Duration::from_secs(15)))
        .await
        .unwrap();
    // The stalled worker resumes: its attempt is stopped or its completion refused.
    let resumed_at = now_ms();
    child.signal("-CONT");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    child.signal("-TERM");
    let (status, lines) = child.wait(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let stats = lines
        .iter()
        .find(|l| l.contains("worker stopped"))
        .cloned()
        .unwrap_or_default();
    assert!(stats.contains("lost: 1"), "{stats}");
    assert!(stats.contains("succeeded: 0"), "{stats}");

    let done = tasks.get_result(&task.id).await.unwrap();
    assert_eq!(done.status, TaskResultStatus::Successful);
    assert_eq!(done.return_value::<u32>().unwrap(), 2);
    assert_eq!(done.worker_ids, ["child", "rescuer"]);
    let effects = side.of("stalled").await;
    assert_eq!(effects.iter().filter(|(a, _, _)| *a == 2).count(), 6);
    // Nothing ran while it was stopped; at most the step already due ran after it resumed.
    let first: Vec<_> = effects.iter().filter(|(a, _, _)| *a == 1).collect();
    assert!(
        first
            .iter()
            .all(|(_, _, at)| *at <= stopped_at || *at >= resumed_at),
        "{first:?}"
    );
    assert!(first.iter().filter(|(_, _, at)| *at >= resumed_at).count() <= 1);
}
