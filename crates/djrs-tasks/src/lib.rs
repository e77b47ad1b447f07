//! Django 6.0's background tasks (`django.tasks`) for Rust, with what Django leaves out: a real
//! queue, a worker, retries and crash recovery.
//!
//! Define a task with [`#[task]`](task), enqueue it through [`Tasks`] (Django's `TASKS`
//! setting), read its [`TaskResult`] back. [`ImmediateBackend`] runs tasks at enqueue time (the
//! default), [`DummyBackend`] stores them for tests, and `SqliteBackend` (feature `sqlite`) is an
//! embedded queue that [`Worker`]s in any number of processes share.
//!
//! ```
//! use djrs_tasks::{task, Task, Tasks, TaskResultStatus};
//!
//! /// Sends the welcome email (a stand-in here).
//! #[task(priority = 10, queue_name = "default")]
//! async fn send_welcome_email(user_id: i64) -> Result<String, std::io::Error> {
//!     Ok(format!("welcomed user {user_id}"))
//! }
//!
//! # tokio_test::block_on(async {
//! let tasks = Tasks::default(); // ImmediateBackend, as Django's default
//! let result = send_welcome_email.enqueue(&tasks, 42).await?;
//! assert_eq!(result.status, TaskResultStatus::Successful);
//! assert_eq!(result.return_value::<String>()?, "welcomed user 42");
//!
//! // Inline, without a backend (Django's `Task.call`).
//! assert_eq!(send_welcome_email.call(7).await.unwrap(), "welcomed user 7");
//! # Ok::<(), djrs_tasks::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Features
//!
//! | feature  | adds                                                                 | default |
//! |----------|----------------------------------------------------------------------|---------|
//! | `sqlite` | `SqliteBackend`: the embedded queue on one SQLite file               | no      |
//! | `postgres` | `PostgresBackend`: one queue for many workers on many machines, `LISTEN`/`NOTIFY` wake-ups | no |
//! | `mysql`  | `MysqlBackend`: the same queue on MySQL 8 and MariaDB ≥ 10.6                  | no      |
//! | `redis`  | `RedisBackend`: the queue on Redis ≥ 7.0 and Valkey, Lua scripts, Pub/Sub wake-ups | no |
//! | `redis-cluster` | `RedisBackend::open_cluster`: the queue on a Redis Cluster    | no      |
//! | `axum`   | `axum::console`: the operator's console (overview, keyset lists, a task's page, confirmed actions); `Tasks` as state | no |
//! | `csp`    | the console's script nonce is djrs-csp's `CspNonce` of the request, when its middleware runs | no |
//! | `metrics` | counters, histograms and queue gauges through the `metrics` facade, by queue and task | no |
//! | `otel`   | the enqueuing span's OpenTelemetry trace continued by the worker's attempt | no |
//!
//! # Beyond Django
//!
//! Django 6.0 defines the API and ships no worker. djrs adds: the [`Worker`] (concurrency,
//! leases renewed by heartbeat, re-queueing of tasks whose worker died, graceful shutdown),
//! retries with exponential backoff and jitter (`#[task(max_attempts = N)]`, default
//! [`DEFAULT_MAX_ATTEMPTS`]), panics recorded as failures, batch enqueue
//! ([`Tasks::enqueue_many`]), pruning ([`Tasks::prune_results`]) and typed application state
//! for task contexts ([`TaskContext::state`]).

#[cfg(feature = "axum")]
pub mod axum;

mod backend;
mod backoff;
mod context;
mod error;
mod flow;
mod ids;
mod immediate;
mod leadership;
#[cfg(feature = "metrics")]
mod metrics;
#[cfg(feature = "otel")]
mod otel;
mod output;
mod presence;
#[cfg(feature = "redis")]
mod redis_queue;
mod result;
mod retention;
mod runner;
mod schedule;
mod signal;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod sql;
mod store;
mod task;
mod tasks;
mod worker;

pub use backend::{
    Activity, Backend, BackendContext, Capabilities, Completion, EnqueueIn, Lease, NewTask,
    Outcome, Queue, QueueActivity, QueueCounts, QueueLimit, Renewal, ResultFilter, WorkerSeen,
};
pub use backoff::Backoff;
pub use djrs_tasks_macros::task;
pub use error::{Error, Result};
pub use flow::Flow;
pub use ids::{TaskId, WorkerId};
pub use immediate::{DummyBackend, ImmediateBackend};
#[cfg(feature = "redis")]
pub use redis_queue::RedisBackend;
pub use result::{TaskError, TaskResult, TaskResultStatus};
pub use retention::Retention;
pub use schedule::{Scheduler, SchedulerStats};
pub use signal::shutdown_signal;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub use sql::{Dialect, SqlBackend};
#[cfg(feature = "mysql")]
pub use sql::{MySql, MysqlBackend};
#[cfg(feature = "postgres")]
pub use sql::{Postgres, PostgresBackend};
#[cfg(feature = "sqlite")]
pub use sql::{Sqlite, SqliteBackend, sqlite_connect_options};
#[doc(hidden)]
pub use task::__private;
pub use task::{
    BoxFuture, DEFAULT_MAX_ATTEMPTS, DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_PRIORITY,
    DEFAULT_TASK_QUEUE_NAME, MAX_METADATA_BYTES, PreparedTask, TASK_MAX_PRIORITY,
    TASK_MIN_PRIORITY, Task, TaskContext, TaskOptions, TaskOutput, registered_task_names,
};
#[doc(hidden)]
pub use tasks::BackendFactory;
pub use tasks::{BackendConfig, Tasks, TasksBuilder, TasksConfig};
pub use worker::{Worker, WorkerStats};
