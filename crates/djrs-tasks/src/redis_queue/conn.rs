//! Connections of the Redis queue: the command connection (one server, or a cluster), the
//! Pub/Sub listener that wakes workers, and the eviction check made on connecting.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{Cmd, Pipeline, RedisFuture, Value};
use tokio::sync::Notify;

/// Where the backend connects.
pub(super) enum Client {
    Single(redis::Client),
    #[cfg(feature = "redis-cluster")]
    Cluster(Box<(redis::cluster::ClusterClient, redis::Client)>),
}

impl Client {
    pub(super) fn is_cluster(&self) -> bool {
        !matches!(self, Client::Single(_))
    }

    /// A node to subscribe on (a `PUBLISH` on any cluster node reaches every node).
    pub(super) fn pubsub_node(&self) -> &redis::Client {
        match self {
            Client::Single(client) => client,
            #[cfg(feature = "redis-cluster")]
            Client::Cluster(cluster) => &cluster.1,
        }
    }
}

/// The command connection: reconnects by itself; cheap to clone.
#[derive(Clone)]
pub(super) enum Conn {
    Single(ConnectionManager),
    #[cfg(feature = "redis-cluster")]
    Cluster(redis::cluster_async::ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(conn) => conn.req_packed_command(cmd),
            #[cfg(feature = "redis-cluster")]
            Conn::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            #[cfg(feature = "redis-cluster")]
            Conn::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(conn) => conn.get_db(),
            #[cfg(feature = "redis-cluster")]
            Conn::Cluster(conn) => conn.get_db(),
        }
    }
}

/// The Pub/Sub listener; stops when the last backend value holding it is dropped.
pub(super) struct ListenerTask(pub(super) tokio::task::JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Logs a warning when Redis may evict keys: an evicted task is a lost task.
pub(super) async fn warn_if_evicting(conn: &mut Conn) {
    let policy: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory-policy")
        .query_async(conn)
        .await;
    // Managed servers may refuse CONFIG: then there is nothing to check.
    if let Ok(pair) = policy
        && let Some(policy) = pair.get(1)
        && policy != "noeviction"
    {
        tracing::warn!(target: "djrs_tasks", policy = %policy.escape_debug(), "Redis's maxmemory-policy is not noeviction: under memory pressure Redis may evict queued tasks and results; set `maxmemory-policy noeviction`");
    }
}

/// Wakes workers on every message of `channel`, reconnecting when the connection drops (and
/// waking them then too, as messages may have been missed).
pub(super) async fn listen(node: redis::Client, channel: String, notify: Arc<Notify>) {
    use futures_util::StreamExt as _;
    loop {
        match node.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if let Err(err) = pubsub.subscribe(&channel).await {
                    tracing::warn!(target: "djrs_tasks", error = %err, "Redis SUBSCRIBE failed; workers poll meanwhile");
                } else {
                    let mut messages = pubsub.on_message();
                    while messages.next().await.is_some() {
                        notify.notify_waiters();
                    }
                    tracing::warn!(target: "djrs_tasks", "Redis Pub/Sub connection lost; reconnecting");
                }
            }
            Err(err) => {
                tracing::warn!(target: "djrs_tasks", error = %err, "Redis Pub/Sub connection failed; workers poll meanwhile");
            }
        }
        notify.notify_waiters();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
