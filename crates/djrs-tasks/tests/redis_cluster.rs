//! The Redis queue on a real Redis Cluster: three `redis-server` nodes started for this test
//! (bound to 127.0.0.1, nothing on disk, stopped by their own handles when it ends), joined
//! with `redis-cli --cluster create`; then every scenario of the shared suite, in turn.

#[macro_use]
mod suite;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use djrs_tasks::{BoxFuture, PreparedTask, RedisBackend, TaskResult, Tasks, TasksBuilder};
use suite::{Store, Stored};

/// Three cluster nodes; killed and reaped when dropped.
struct Cluster {
    nodes: Vec<Child>,
    ports: Vec<u16>,
    _dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = node.kill();
            let _ = node.wait();
        }
    }
}

/// A port that is free, with its cluster bus port (10,000 above) free too.
fn free_port(taken: &[u16]) -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port < 55_000
            && !taken.contains(&port)
            && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok()
        {
            return port;
        }
    }
}

impl Cluster {
    fn start() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let mut cluster = Cluster {
            nodes: Vec::new(),
            ports: Vec::new(),
            _dir: tempfile::tempdir().unwrap(),
        };
        for _ in 0..3 {
            let port = free_port(&cluster.ports);
            let node = Command::new("redis-server")
                .args(["--port", &port.to_string()])
                .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(["--cluster-enabled", "yes"])
                .arg("--cluster-config-file")
                .arg(dir.path().join(format!("nodes-{port}.conf")))
                .arg("--dir")
                .arg(dir.path())
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server is installed");
            cluster.nodes.push(node);
            cluster.ports.push(port);
        }
        cluster._dir = dir;
        for port in &cluster.ports {
            wait_for(&format!("node {port} to answer"), || {
                redis_cli(*port, &["PING"]).is_some_and(|out| out.contains("PONG"))
            });
        }
        let addresses: Vec<String> = cluster
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(created.success(), "redis-cli --cluster create failed");
        for port in &cluster.ports {
            wait_for("the cluster to be ok", || {
                redis_cli(*port, &["CLUSTER", "INFO"])
                    .is_some_and(|out| out.contains("cluster_state:ok"))
            });
        }
        cluster
    }

    fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect()
    }
}

fn redis_cli(port: u16, args: &[&str]) -> Option<String> {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "waited for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A key prefix of its own on the test's cluster.
struct ClusterStore {
    prefix: String,
    urls: Vec<String>,
}

impl ClusterStore {
    fn new(cluster: &Cluster) -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ClusterStore {
            prefix: format!("djrs-cluster-{n}"),
            urls: cluster.urls(),
        }
    }

    fn backend(&self) -> RedisBackend {
        let urls: Vec<&str> = self.urls.iter().map(String::as_str).collect();
        RedisBackend::open_cluster(&urls)
            .unwrap()
            .prefix(&self.prefix)
            .unwrap()
    }

    /// Every key under the prefix, on every node.
    fn keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        for url in &self.urls {
            let mut conn = redis::Client::open(url.as_str())
                .unwrap()
                .get_connection()
                .unwrap();
            let found: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}:*", self.prefix))
                .query(&mut conn)
                .unwrap();
            keys.extend(found);
        }
        keys
    }

    async fn cleanup(self) {
        for url in &self.urls {
            let mut conn = redis::Client::open(url.as_str())
                .unwrap()
                .get_connection()
                .unwrap();
            let found: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}:*", self.prefix))
                .query(&mut conn)
                .unwrap();
            // One key at a time: a node refuses a DEL of keys in several slots.
            for key in found {
                redis::cmd("DEL").arg(key).query::<()>(&mut conn).unwrap();
            }
        }
    }

    fn node_of(&self, key: &str) -> redis::Connection {
        for url in &self.urls {
            let mut conn = redis::Client::open(url.as_str())
                .unwrap()
                .get_connection()
                .unwrap();
            // A node that does not own the key's slot answers MOVED.
            let exists: bool = redis::cmd("EXISTS")
                .arg(key)
                .query(&mut conn)
                .unwrap_or(false);
            if exists {
                return conn;
            }
        }
        panic!("no node holds {key}")
    }
}

impl Store for ClusterStore {
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
        _tasks: &'a Tasks,
        _batch: Vec<PreparedTask>,
        _commit: bool,
    ) -> Option<BoxFuture<'a, djrs_tasks::Result<Vec<TaskResult>>>> {
        None
    }

    fn stored<'a>(&'a self, what: Stored) -> BoxFuture<'a, i64> {
        Box::pin(async move {
            let keys = self.keys();
            let tasks: Vec<&String> = keys.iter().filter(|k| k.contains(":t:")).collect();
            let mut occurrences = std::collections::HashSet::new();
            for key in keys.iter().filter(|k| k.ends_with(":occ")) {
                let members: Vec<String> = redis::cmd("ZRANGE")
                    .arg(key)
                    .arg(0)
                    .arg(-1)
                    .query(&mut self.node_of(key))
                    .unwrap();
                occurrences.extend(members);
            }
            let n = match what {
                Stored::Tasks => tasks.len(),
                Stored::Occurrences => occurrences.len(),
                Stored::OccurrencesWithTheirTask => tasks
                    .iter()
                    .filter(|key| {
                        let occurrence: Option<String> = redis::cmd("HGET")
                            .arg(key.as_str())
                            .arg("o")
                            .query(&mut self.node_of(key))
                            .unwrap();
                        occurrence.is_some_and(|o| occurrences.contains(&o))
                    })
                    .count(),
            };
            i64::try_from(n).unwrap()
        })
    }
}

shared_suite!(
    one_test every_scenario_on_a_three_node_cluster,
    Cluster::start(),
    ClusterStore::new
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_queues_of_one_task_system_spread_over_the_shards() {
    let cluster = Cluster::start();
    let store = ClusterStore::new(&cluster);
    let tasks = Tasks::builder()
        .backend("default", store.backend())
        .queues("default", Vec::<String>::new())
        .build()
        .unwrap();
    // Queues whose hash tags land on different shards; one batch enqueues on all of them.
    let queues: Vec<String> = (0..12).map(|i| format!("q{i}")).collect();
    let batch = queues
        .iter()
        .enumerate()
        .map(|(i, q)| {
            suite::record
                .using()
                .queue_name(q.clone())
                .prepare("spread".into(), u32::try_from(i).unwrap())
        })
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    use djrs_tasks::Task as _;
    tasks.enqueue_many(batch).await.unwrap();
    // The queues' keys are on more than one node.
    let mut nodes_with_keys = 0;
    for url in cluster.urls() {
        let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:{{*", store.prefix))
            .query(&mut conn)
            .unwrap();
        nodes_with_keys += usize::from(!keys.is_empty());
    }
    assert!(nodes_with_keys > 1, "the queues span shards");
    let stats = djrs_tasks::Worker::new(&tasks)
        .queues(Vec::<String>::new())
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.succeeded, 12);
    let counts = djrs_tasks::Queue::counts(&store.backend()).await.unwrap();
    assert_eq!(counts.rows.len(), 12, "{counts:?}");
    store.cleanup().await;
}
