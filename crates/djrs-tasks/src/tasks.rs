//! `Tasks`: Django's `TASKS` setting made into a value — backends by alias, their queues,
//! hooks for the task signals, and application state for task contexts.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use chrono::Utc;
use serde::Deserialize;

use crate::backend::{Backend, BackendContext, NewTask};
use crate::task::StateMap;
mod builder;
mod control;
mod factory;

pub use builder::TasksBuilder;
pub use factory::BackendFactory;
use factory::backend_from_config;

use crate::{
    DEFAULT_TASK_BACKEND_ALIAS, DummyBackend, Error, ImmediateBackend, PreparedTask, Result,
    TASK_MAX_PRIORITY, TASK_MIN_PRIORITY, TaskOptions, TaskResult,
};

/// One backend in the `TASKS` setting: `BACKEND`, `QUEUES`, `OPTIONS`.
///
/// `BACKEND` is a backend's name (`ImmediateBackend`, `DummyBackend`, `SqliteBackend`) or a
/// dotted path ending in one (`django.tasks.backends.immediate.ImmediateBackend`). `QUEUES`
/// lists the allowed queue names (default `["default"]`; an empty list allows any).
/// `OPTIONS` are the backend's own: `SqliteBackend` takes `PATH` (a file) or `URL`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    /// The backend's name or dotted path.
    #[serde(rename = "BACKEND")]
    pub backend: String,
    /// The allowed queues.
    #[serde(rename = "QUEUES", default)]
    pub queues: Option<Vec<String>>,
    /// Backend-specific options.
    #[serde(rename = "OPTIONS", default)]
    pub options: serde_json::Map<String, serde_json::Value>,
}

/// Django's `TASKS` setting: backend alias → [`BackendConfig`]. Deserialize it from JSON, TOML
/// or any serde format.
///
/// ```
/// use djrs_tasks::{Tasks, TasksConfig};
///
/// let config: TasksConfig = serde_json::from_str(r#"{
///     "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"},
///     "test": {"BACKEND": "DummyBackend", "QUEUES": ["default", "emails"]}
/// }"#).unwrap();
/// let tasks = Tasks::from_config(config)?;
/// assert_eq!(tasks.backend("test")?.name(), "DummyBackend");
/// # Ok::<(), djrs_tasks::Error>(())
/// ```
pub type TasksConfig = HashMap<String, BackendConfig>;

type Hook = Arc<dyn Fn(&TaskResult) + Send + Sync>;

/// Receivers of Django's task signals.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    enqueued: Vec<Hook>,
    started: Vec<Hook>,
    finished: Vec<Hook>,
    /// `djrs_tasks_enqueued_total`'s handles, by queue and task.
    #[cfg(feature = "metrics")]
    enqueued_total: Arc<crate::metrics::ByTask<metrics::Counter>>,
}

impl Hooks {
    pub(crate) fn enqueued(&self, result: &TaskResult) {
        tracing::debug!(target: "djrs_tasks", id = %result.id, name = %result.task_name, queue = %result.queue_name, backend = %result.backend, "task enqueued");
        #[cfg(feature = "metrics")]
        self.enqueued_total.enqueued(result);
        self.enqueued.iter().for_each(|hook| hook(result));
    }

    pub(crate) fn started(&self, result: &TaskResult) {
        self.started.iter().for_each(|hook| hook(result));
    }

    pub(crate) fn finished(&self, result: &TaskResult) {
        log_finished(result, result.status);
        self.finished.iter().for_each(|hook| hook(result));
    }

    /// `task_finished` for `task` ending with `status`; the final result is built only when a
    /// hook wants it (the worker's hot path need not copy every task it ran).
    pub(crate) fn finished_as(
        &self,
        task: &TaskResult,
        status: crate::TaskResultStatus,
        result: impl FnOnce() -> TaskResult,
    ) {
        log_finished(task, status);
        if !self.finished.is_empty() {
            let result = result();
            self.finished.iter().for_each(|hook| hook(&result));
        }
    }
}

/// The one line a finished task logs.
fn log_finished(task: &TaskResult, status: crate::TaskResultStatus) {
    match status {
        crate::TaskResultStatus::Failed => {
            tracing::error!(target: "djrs_tasks", id = %task.id, name = %task.task_name, attempts = task.attempts(), "task failed")
        }
        _ => {
            tracing::info!(target: "djrs_tasks", id = %task.id, name = %task.task_name, %status, "task finished")
        }
    }
}

struct Configured {
    backend: Arc<dyn Backend>,
    queues: Option<Vec<String>>,
}

struct Inner {
    backends: HashMap<String, Configured>,
    hooks: Hooks,
    state: StateMap,
}

/// The task system: backends by alias (Django's `task_backends`), the task signals and the
/// state task contexts can read. Cheap to clone; share one per application.
///
/// ```
/// use djrs_tasks::{task, DummyBackend, Task, Tasks, TaskResultStatus};
///
/// #[task]
/// async fn ping() {}
///
/// # tokio_test::block_on(async {
/// let dummy = DummyBackend::new();
/// let tasks = Tasks::builder().backend("default", dummy.clone()).build()?;
/// let result = ping.enqueue(&tasks).await?;
/// assert_eq!(result.status, TaskResultStatus::Ready); // stored, never run
/// assert_eq!(dummy.results().len(), 1);
///
/// // Django's validation, at enqueue time.
/// let err = ping.using().queue_name("nope").enqueue(&tasks).await.unwrap_err();
/// assert_eq!(err.to_string(), "Queue 'nope' is not valid for backend.");
/// # Ok::<(), djrs_tasks::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Tasks {
    inner: Arc<Inner>,
}

impl fmt::Debug for Tasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut aliases: Vec<&String> = self.inner.backends.keys().collect();
        aliases.sort();
        f.debug_struct("Tasks")
            .field("backends", &aliases)
            .finish_non_exhaustive()
    }
}

impl Default for Tasks {
    /// Django's default: one `ImmediateBackend` named `default`.
    fn default() -> Self {
        Tasks::builder()
            .backend(DEFAULT_TASK_BACKEND_ALIAS, ImmediateBackend::new())
            .build()
            .unwrap_or_else(|_| unreachable!("the default configuration is valid"))
    }
}

impl Tasks {
    /// A builder, to add backends, hooks and state.
    ///
    /// ```
    /// use djrs_tasks::{DummyBackend, ImmediateBackend, Tasks};
    ///
    /// let tasks = Tasks::builder()
    ///     .backend("default", ImmediateBackend::new())
    ///     .backend("test", DummyBackend::new())
    ///     .build()?;
    /// assert_eq!(tasks.aliases(), ["default", "test"]);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    pub fn builder() -> TasksBuilder {
        TasksBuilder::default()
    }

    /// Builds the task system from Django's `TASKS` setting.
    ///
    /// ```
    /// use djrs_tasks::{Error, Tasks, TasksConfig};
    ///
    /// let config: TasksConfig = serde_json::from_str(r#"{
    ///     "default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": []}
    /// }"#).unwrap();
    /// let tasks = Tasks::from_config(config)?;
    /// assert_eq!(tasks.backend("default")?.name(), "DummyBackend");
    ///
    /// let unknown: TasksConfig = serde_json::from_str(r#"{"default": {"BACKEND": "CeleryBackend"}}"#).unwrap();
    /// assert!(matches!(Tasks::from_config(unknown), Err(Error::InvalidTaskBackend(_))));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    ///
    /// # Errors
    /// `InvalidTaskBackend` for an unknown backend or invalid options.
    pub fn from_config(config: TasksConfig) -> Result<Tasks> {
        let mut builder = Tasks::builder();
        let mut aliases: Vec<_> = config.into_iter().collect();
        aliases.sort_by(|a, b| a.0.cmp(&b.0));
        for (alias, backend_config) in aliases {
            let backend = backend_from_config(&alias, &backend_config)?;
            builder = builder.backend_arc(alias.clone(), backend);
            if let Some(queues) = backend_config.queues {
                builder = builder.queues(alias, queues);
            }
        }
        builder.build()
    }

    /// The backend with this alias.
    ///
    /// ```
    /// use djrs_tasks::Tasks;
    ///
    /// let tasks = Tasks::default();
    /// assert_eq!(tasks.backend("default")?.name(), "ImmediateBackend");
    /// let err = tasks.backend("other").unwrap_err();
    /// assert_eq!(err.to_string(), "The connection 'other' doesn't exist.");
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    ///
    /// # Errors
    /// `InvalidTaskBackend`: "The connection 'x' doesn't exist."
    pub fn backend(&self, alias: &str) -> Result<&Arc<dyn Backend>> {
        self.configured(alias).map(|c| &c.backend)
    }

    fn configured(&self, alias: &str) -> Result<&Configured> {
        self.inner.backends.get(alias).ok_or_else(|| {
            Error::InvalidTaskBackend(format!("The connection '{alias}' doesn't exist."))
        })
    }

    /// Every configured alias, sorted.
    ///
    /// ```
    /// use djrs_tasks::{DummyBackend, Tasks};
    ///
    /// assert_eq!(Tasks::default().aliases(), ["default"]);
    /// let tasks = Tasks::builder()
    ///     .backend("test", DummyBackend::new())
    ///     .backend("default", DummyBackend::new())
    ///     .build()?;
    /// assert_eq!(tasks.aliases(), ["default", "test"]);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    #[must_use]
    pub fn aliases(&self) -> Vec<&str> {
        let mut aliases: Vec<&str> = self.inner.backends.keys().map(String::as_str).collect();
        aliases.sort_unstable();
        aliases
    }

    pub(crate) fn hooks(&self) -> &Hooks {
        &self.inner.hooks
    }

    pub(crate) fn state<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.inner
            .state
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
    }

    /// Django's `validate_task` against the task's backend, then the task as the backend
    /// stores it.
    fn validate(
        &self,
        options: &TaskOptions,
        args: serde_json::Value,
    ) -> Result<(&Configured, NewTask)> {
        let configured = self.configured(options.backend())?;
        let caps = configured.backend.capabilities();
        if !(TASK_MIN_PRIORITY..=TASK_MAX_PRIORITY).contains(&options.priority()) {
            return Err(Error::InvalidTask(format!(
                "priority must be a whole number between {TASK_MIN_PRIORITY} and {TASK_MAX_PRIORITY}."
            )));
        }
        if !caps.supports_priority && options.priority() != crate::DEFAULT_TASK_PRIORITY {
            return Err(Error::InvalidTask(
                "Backend does not support setting priority of tasks.".into(),
            ));
        }
        if !caps.supports_defer && options.run_after().is_some() {
            return Err(Error::InvalidTask(
                "Backend does not support run_after.".into(),
            ));
        }
        if let Some(queues) = &configured.queues
            && !queues.is_empty()
            && !queues.iter().any(|q| q == options.queue_name())
        {
            return Err(Error::InvalidTask(format!(
                "Queue '{}' is not valid for backend.",
                options.queue_name()
            )));
        }
        check_storable(&args, "argument")?;
        for (what, text) in [
            ("queue name", Some(options.queue_name())),
            ("unique key", options.unique_key()),
        ] {
            if text.is_some_and(|t| t.contains('\0')) {
                return Err(Error::InvalidTask(format!(
                    "A task's {what} cannot hold the character U+0000 (NUL), which databases cannot store."
                )));
            }
        }
        let task = NewTask {
            id: crate::TaskId::new(),
            task_name: options.name().to_owned(),
            args,
            priority: options.priority(),
            queue_name: options.queue_name().to_owned(),
            backend: options.backend().to_owned(),
            run_after: options.run_after(),
            enqueued_at: Utc::now(),
            max_attempts: options.max_attempts(),
            timeout: options.timeout(),
            unique_key: options.unique_key().map(str::to_owned),
            metadata: enqueue_metadata(),
        };
        Ok((configured, task))
    }

    /// Django's validation of a task for its backend, and the task as a backend stores it (for
    /// transactional enqueue, which writes it on the caller's connection).
    pub(crate) fn new_task(
        &self,
        options: &TaskOptions,
        args: serde_json::Value,
    ) -> Result<NewTask> {
        Ok(self.validate(options, args)?.1)
    }

    /// Enqueues a task whose arguments are already JSON (what the generated `enqueue` calls).
    ///
    /// ```
    /// use djrs_tasks::{task, Task, Tasks, TaskResultStatus};
    ///
    /// #[task]
    /// async fn add(a: i64, b: i64) -> i64 { a + b }
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::default();
    /// let result = tasks.enqueue_json(add.options(), serde_json::json!([2, 3])).await?;
    /// assert_eq!(result.status, TaskResultStatus::Successful);
    /// assert_eq!(result.return_value::<i64>()?, 5);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// Django's validation errors, or the backend's.
    pub async fn enqueue_json(
        &self,
        options: &TaskOptions,
        args: serde_json::Value,
    ) -> Result<TaskResult> {
        let (configured, task) = self.validate(options, args)?;
        let ctx = BackendContext::new(self);
        configured.backend.enqueue(&ctx, task).await
    }

    /// Enqueues several prepared tasks, in one write where the backend can (`SqliteBackend`
    /// uses one transaction). All tasks must use the same backend.
    ///
    /// ```
    /// use djrs_tasks::{task, DummyBackend, Tasks};
    ///
    /// #[task]
    /// async fn index(doc: u32) {}
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::builder().backend("default", DummyBackend::new()).build()?;
    /// let batch = (1..=3).map(|doc| index.prepare(doc)).collect::<Result<Vec<_>, _>>()?;
    /// let results = tasks.enqueue_many(batch).await?;
    /// assert_eq!(results.len(), 3);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// Validation errors (nothing is enqueued then), or the backend's.
    pub async fn enqueue_many(&self, batch: Vec<PreparedTask>) -> Result<Vec<TaskResult>> {
        let Some(first) = batch.first() else {
            return Ok(Vec::new());
        };
        let alias = first.options().backend().to_owned();
        let mut new_tasks = Vec::with_capacity(batch.len());
        for prepared in batch {
            if prepared.options().backend() != alias {
                return Err(Error::InvalidTask(format!(
                    "enqueue_many takes tasks of one backend; got '{}' and '{alias}'",
                    prepared.options().backend()
                )));
            }
            let (options, args) = prepared.into_parts();
            new_tasks.push(self.validate(&options, args)?.1);
        }
        let configured = self.configured(&alias)?;
        let ctx = BackendContext::new(self);
        configured.backend.enqueue_many(&ctx, new_tasks).await
    }

    /// Deletes finished results of the default backend older than `older_than` with one of
    /// `statuses`, so the table does not grow forever. Returns how many were deleted.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use chrono::{Duration, Utc};
    /// use djrs_tasks::{task, SqliteBackend, Tasks, TaskResultStatus, Worker};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("t.sqlite3"))?)
    ///     .build()?;
    /// let result = ping.enqueue(&tasks).await?;
    /// Worker::new(&tasks).run_until_idle().await?;
    ///
    /// let deleted = tasks
    ///     .prune_results(Utc::now() + Duration::seconds(1), &[TaskResultStatus::Successful])
    ///     .await?;
    /// assert_eq!(deleted, 1);
    /// assert!(tasks.get_result(&result.id).await.is_err());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `NotSupported` for backends without a queue, or a storage error.
    pub async fn prune_results(
        &self,
        older_than: chrono::DateTime<Utc>,
        statuses: &[crate::TaskResultStatus],
    ) -> Result<u64> {
        let backend = self.backend(DEFAULT_TASK_BACKEND_ALIAS)?;
        match backend.queue() {
            Some(queue) => queue.prune_results(older_than, statuses).await,
            None => Err(Error::NotSupported {
                backend: backend.name(),
                operation: "prune_results",
            }),
        }
    }

    /// Cancels a task on the default backend. A `READY` task becomes `FAILED` (with a
    /// `djrs_tasks::Cancelled` error) and never runs. For a `RUNNING` task the worker running
    /// it is asked to stop it (it learns at its next heartbeat, a third of its lease); the task
    /// ends `FAILED` with a `djrs_tasks::Cancelled` error, not retried, and this returns it as
    /// it is now, still `RUNNING`.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Tasks, TaskResultStatus};
    ///
    /// #[task]
    /// async fn report() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("t.sqlite3"))?)
    ///     .build()?;
    /// let result = report.enqueue(&tasks).await?;
    /// let cancelled = tasks.cancel(&result.id).await?;
    /// assert_eq!(cancelled.status, TaskResultStatus::Failed);
    /// assert_eq!(cancelled.errors[0].exception_class_path, "djrs_tasks::Cancelled");
    /// // A finished task cannot be cancelled.
    /// assert!(tasks.cancel(&result.id).await.is_err());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `InvalidTask` when the task has finished, `TaskResultDoesNotExist`, or `NotSupported`
    /// for backends without a queue.
    pub async fn cancel(&self, id: &str) -> Result<TaskResult> {
        let backend = self.backend(DEFAULT_TASK_BACKEND_ALIAS)?;
        let Some(queue) = backend.queue() else {
            return Err(Error::NotSupported {
                backend: backend.name(),
                operation: "cancel",
            });
        };
        if let Some(result) = queue.cancel(id).await? {
            self.hooks().finished(&result);
            return Ok(result);
        }
        if queue.request_cancel(id).await? {
            return backend.get_result(id).await;
        }
        let current = backend.get_result(id).await?;
        Err(Error::InvalidTask(format!(
            "Task {id} is {}; only a READY or RUNNING task can be cancelled.",
            current.status
        )))
    }

    /// Reads a result from the default backend (Django's `default_task_backend.get_result`).
    ///
    /// ```
    /// use djrs_tasks::{task, DummyBackend, Error, Tasks, TaskResultStatus};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::builder().backend("default", DummyBackend::new()).build()?;
    /// let enqueued = ping.enqueue(&tasks).await?;
    /// let read = tasks.get_result(&enqueued.id).await?;
    /// assert_eq!(read.status, TaskResultStatus::Ready);
    /// assert_eq!(read.id, enqueued.id);
    /// assert!(matches!(tasks.get_result("no-such-id").await, Err(Error::TaskResultDoesNotExist(_))));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `TaskResultDoesNotExist`, or `NotSupported` for backends that keep no results.
    pub async fn get_result(&self, id: &str) -> Result<TaskResult> {
        self.get_result_from(DEFAULT_TASK_BACKEND_ALIAS, id).await
    }

    /// Reads a result from the backend with this alias.
    ///
    /// ```
    /// use djrs_tasks::{task, DummyBackend, Task, Tasks};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::builder()
    ///     .backend("default", DummyBackend::new())
    ///     .backend("archive", DummyBackend::new())
    ///     .build()?;
    /// let enqueued = ping.using().backend("archive").enqueue(&tasks).await?;
    /// assert_eq!(tasks.get_result_from("archive", &enqueued.id).await?.backend, "archive");
    /// assert!(tasks.get_result(&enqueued.id).await.is_err()); // not on the default backend
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`get_result`](Self::get_result), and `InvalidTaskBackend`.
    pub async fn get_result_from(&self, alias: &str, id: &str) -> Result<TaskResult> {
        self.backend(alias)?.get_result(id).await
    }
}

/// The metadata a task is stored with: with the feature `otel`, the trace context of the
/// enqueuing span, which the worker's attempt continues.
fn enqueue_metadata() -> serde_json::Map<String, serde_json::Value> {
    #[cfg(feature = "otel")]
    {
        crate::otel::current_trace_metadata()
    }
    #[cfg(not(feature = "otel"))]
    {
        serde_json::Map::new()
    }
}

/// Refuses values a database cannot store, the same on every backend: a string or key holding
/// U+0000 (PostgreSQL's `jsonb` and most drivers reject it).
pub(crate) fn check_storable(value: &serde_json::Value, what: &str) -> Result<()> {
    fn find(value: &serde_json::Value, path: &mut String) -> bool {
        match value {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().enumerate().any(|(i, v)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = find(v, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            serde_json::Value::Object(map) => map.iter().any(|(k, v)| {
                let len = path.len();
                path.push_str(&format!("[{k:?}]"));
                let found = k.contains('\0') || find(v, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    if find(value, &mut path) {
        return Err(Error::InvalidTask(format!(
            "Task {what}s cannot hold the character U+0000 (NUL), which databases cannot store; found at {what}s{path}"
        )));
    }
    Ok(())
}
