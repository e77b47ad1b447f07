//! [`TaskContext`]: what a `takes_context` task receives (Django's `TaskContext`), with the
//! attempt's result, the application's state, the operator's cancellation and the metadata the
//! task records of itself.

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};

use crate::{Error, Result, TaskResult, Tasks};

/// The most a task's metadata may hold, as JSON text (64 KiB).
///
/// ```
/// assert_eq!(djrs_tasks::MAX_METADATA_BYTES, 65_536);
/// ```
pub const MAX_METADATA_BYTES: usize = 64 * 1024;

/// What a `takes_context` task receives first (Django's `TaskContext`).
///
/// ```
/// use djrs_tasks::{task, TaskContext, Tasks};
///
/// #[derive(Clone)]
/// struct Greeting(&'static str);
///
/// #[task(takes_context)]
/// async fn greet(ctx: TaskContext, name: String) -> String {
///     let greeting = ctx.state::<Greeting>().map_or("Hello", |g| g.0);
///     format!("{greeting}, {name} (attempt {})", ctx.attempt())
/// }
///
/// # tokio_test::block_on(async {
/// let tasks = Tasks::builder().state(Greeting("Bonjour")).build()?;
/// let result = greet.enqueue(&tasks, "Ada".into()).await?;
/// assert_eq!(result.return_value::<String>()?, "Bonjour, Ada (attempt 1)");
/// # Ok::<(), djrs_tasks::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct TaskContext {
    task_result: Arc<TaskResult>,
    tasks: Tasks,
    cancel: Cancel,
    metadata: Metadata,
}

/// The metadata of one attempt, shared by the task's context and whoever runs the attempt
/// (which saves it when the attempt ends, if the task changed it without saving).
#[derive(Debug, Clone, Default)]
pub(crate) struct Metadata(Arc<Mutex<MetadataState>>);

#[derive(Debug, Default)]
struct MetadataState {
    map: Map<String, Value>,
    /// Changed since it was last saved.
    dirty: bool,
}

impl Metadata {
    /// The metadata a task starts an attempt with: what earlier attempts saved.
    pub(crate) fn new(saved: Map<String, Value>) -> Self {
        Metadata(Arc::new(Mutex::new(MetadataState {
            map: saved,
            dirty: false,
        })))
    }

    fn with<T>(&self, f: impl FnOnce(&mut MetadataState) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// A copy of the metadata.
    pub(crate) fn snapshot(&self) -> Map<String, Value> {
        self.with(|state| state.map.clone())
    }

    /// The metadata if it changed since it was last saved.
    pub(crate) fn unsaved(&self) -> Option<Map<String, Value>> {
        self.with(|state| state.dirty.then(|| state.map.clone()))
    }

    /// Marks `saved` as saved, unless it changed again meanwhile.
    pub(crate) fn saved(&self, saved: &Map<String, Value>) {
        self.with(|state| {
            if state.map == *saved {
                state.dirty = false;
            }
        });
    }
}

/// Saves `metadata` for the running task `running` through its backend's queue, fenced by
/// its worker and attempt; nothing to do for a backend without a queue (the result keeps it).
pub(crate) async fn save(
    tasks: &Tasks,
    running: &TaskResult,
    metadata: &Map<String, Value>,
) -> Result<()> {
    let backend = tasks.backend(&running.backend)?;
    let (Some(queue), Some(worker)) = (backend.queue(), running.worker_ids.last()) else {
        return Ok(());
    };
    let lease = (running.id.clone(), running.attempts());
    if queue.save_metadata(worker, &lease, metadata).await? {
        Ok(())
    } else {
        Err(Error::LeaseLost(running.id.clone()))
    }
}

/// The cancellation of one attempt: requested by an operator (`Tasks::cancel` on a `RUNNING`
/// task, from any process), delivered to the worker with its next lease renewal.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cancel(Arc<CancelState>);

#[derive(Debug, Default)]
struct CancelState {
    requested: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

impl Cancel {
    /// Requests the cancellation (once; later calls change nothing).
    pub(crate) fn request(&self) {
        if !self
            .0
            .requested
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            self.0.notify.notify_waiters();
        }
    }

    pub(crate) fn is_requested(&self) -> bool {
        self.0.requested.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Resolves once the cancellation is requested.
    pub(crate) async fn requested(&self) {
        let notified = self.0.notify.notified();
        if self.is_requested() {
            return;
        }
        notified.await;
    }
}

impl TaskContext {
    pub(crate) fn new(
        task_result: Arc<TaskResult>,
        tasks: Tasks,
        cancel: Cancel,
        metadata: Metadata,
    ) -> Self {
        TaskContext {
            task_result,
            tasks,
            cancel,
            metadata,
        }
    }

    /// What the task has recorded of itself (Django 6.1's `TaskContext.metadata`): a copy,
    /// starting from what earlier attempts saved, so a retry can resume from a checkpoint.
    ///
    /// ```
    /// use djrs_tasks::{task, TaskContext, Tasks};
    ///
    /// #[task(takes_context)]
    /// async fn resume(ctx: TaskContext) -> u64 {
    ///     // Where an earlier attempt got to, if it saved a checkpoint.
    ///     ctx.metadata().get("next_row").and_then(|v| v.as_u64()).unwrap_or(0)
    /// }
    ///
    /// # tokio_test::block_on(async {
    /// let result = resume.enqueue(&Tasks::default()).await?;
    /// assert_eq!(result.return_value::<u64>()?, 0);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn metadata(&self) -> Map<String, Value> {
        self.metadata.snapshot()
    }

    /// Records `value` under `key` in the task's metadata: progress, counts, a checkpoint.
    /// It is stored when the task calls [`save_metadata`](Self::save_metadata) (shown live in
    /// the console) and, if it changed since, when the attempt ends; it reaches
    /// [`TaskResult::metadata`] either way.
    ///
    /// ```
    /// use djrs_tasks::{task, Error, TaskContext, Tasks};
    ///
    /// #[task(takes_context)]
    /// async fn import(ctx: TaskContext, rows: u32) -> Result<(), Error> {
    ///     for done in 1..=rows {
    ///         // … one row's work …
    ///         ctx.set_metadata("progress", serde_json::json!({"done": done, "of": rows}))?;
    ///     }
    ///     // Keys starting with `_` are reserved, as in Django.
    ///     assert!(ctx.set_metadata("_internal", 1).is_err());
    ///     Ok(())
    /// }
    ///
    /// # tokio_test::block_on(async {
    /// let result = import.enqueue(&Tasks::default(), 3).await?;
    /// assert_eq!(result.metadata["progress"], serde_json::json!({"done": 3, "of": 3}));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `InvalidTask` for a key starting with `_` (reserved for djrs and Django), a value no
    /// database can store (a string holding U+0000, a map with keys that are not strings), or
    /// metadata past [`MAX_METADATA_BYTES`] as JSON; nothing is changed then.
    pub fn set_metadata(&self, key: &str, value: impl serde::Serialize) -> Result<()> {
        if key.starts_with('_') {
            return Err(Error::InvalidTask(format!(
                "metadata key {:?} starts with `_`: such keys are reserved",
                key.chars().take(80).collect::<String>()
            )));
        }
        let value = serde_json::to_value(value).map_err(|err| {
            Error::InvalidTask(format!(
                "metadata {:?} is not JSON: {err}",
                key.chars().take(80).collect::<String>()
            ))
        })?;
        crate::tasks::check_storable(&Value::from(key), "metadata key")?;
        crate::tasks::check_storable(&value, "metadata value")?;
        self.metadata.with(|state| {
            let before = state.map.insert(key.to_owned(), value);
            let size = serde_json::to_vec(&state.map).map_or(usize::MAX, |json| json.len());
            if size > MAX_METADATA_BYTES {
                match before {
                    Some(before) => state.map.insert(key.to_owned(), before),
                    None => state.map.remove(key),
                };
                return Err(Error::InvalidTask(format!(
                    "metadata would take {size} bytes as JSON, over the {MAX_METADATA_BYTES} a task may keep"
                )));
            }
            state.dirty = true;
            Ok(())
        })
    }

    /// Removes `key` from the task's metadata; its value, if it had one. Keys starting with
    /// `_` are reserved (djrs keeps the enqueuing trace there): nothing is removed, `None`.
    ///
    /// ```
    /// use djrs_tasks::{task, Error, TaskContext, Tasks};
    ///
    /// #[task(takes_context)]
    /// async fn step(ctx: TaskContext) -> Result<(), Error> {
    ///     ctx.set_metadata("checkpoint", 10)?;
    ///     assert_eq!(ctx.remove_metadata("checkpoint"), Some(serde_json::json!(10)));
    ///     assert_eq!(ctx.remove_metadata("_traceparent"), None); // reserved
    ///     Ok(())
    /// }
    ///
    /// # tokio_test::block_on(async {
    /// assert!(step.enqueue(&Tasks::default()).await?.metadata.is_empty());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[allow(
        clippy::must_use_candidate,
        reason = "called for its effect as often as for the value"
    )]
    pub fn remove_metadata(&self, key: &str) -> Option<Value> {
        if key.starts_with('_') {
            return None;
        }
        self.metadata.with(|state| {
            let removed = state.map.remove(key);
            state.dirty |= removed.is_some();
            removed
        })
    }

    /// Stores the task's metadata now (Django 6.1's `save_metadata`), so that operators see
    /// progress while the task runs. On a queueing backend the write is fenced as a completion
    /// is; a task run in process (`ImmediateBackend`) keeps it in its result.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, Error, SqliteBackend, TaskContext, Tasks, Worker};
    ///
    /// #[task(takes_context)]
    /// async fn render(ctx: TaskContext, pages: u32) -> Result<(), Error> {
    ///     for page in 1..=pages {
    ///         ctx.set_metadata("page", page)?;
    ///         ctx.save_metadata().await?; // visible to `get_result` and the console now
    ///     }
    ///     Ok(())
    /// }
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("t.sqlite3"))?)
    ///     .build()?;
    /// let id = render.enqueue(&tasks, 3).await?.id;
    /// Worker::new(&tasks).run_until_idle().await?;
    /// assert_eq!(tasks.get_result(&id).await?.metadata["page"], 3);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `LeaseLost` when this worker no longer holds the task (another worker runs it now);
    /// the store's error.
    pub async fn save_metadata(&self) -> Result<()> {
        let metadata = self.metadata.snapshot();
        save(&self.tasks, &self.task_result, &metadata).await?;
        self.metadata.saved(&metadata);
        Ok(())
    }

    /// Whether an operator asked to cancel this task while it runs. A task that checks it
    /// (or awaits [`cancelled`](Self::cancelled)) can stop cleanly; one that does not is
    /// dropped at its next `.await` after the worker's grace period. Either way the task
    /// ends `FAILED` with a `djrs_tasks::Cancelled` error and is not retried.
    ///
    /// ```
    /// use djrs_tasks::{task, TaskContext, Tasks};
    ///
    /// #[task(takes_context)]
    /// async fn crunch(ctx: TaskContext, rows: u32) -> u32 {
    ///     let mut done = 0;
    ///     while done < rows && !ctx.is_cancelled() {
    ///         done += 1; // one row's work
    ///     }
    ///     done
    /// }
    ///
    /// # tokio_test::block_on(async {
    /// let result = crunch.enqueue(&Tasks::default(), 3).await?;
    /// assert_eq!(result.return_value::<u32>()?, 3);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_requested()
    }

    /// Resolves when an operator asks to cancel this task (see
    /// [`is_cancelled`](Self::is_cancelled)); race it against the task's work.
    ///
    /// ```
    /// use std::time::Duration;
    /// use djrs_tasks::{task, TaskContext};
    ///
    /// #[task(takes_context)]
    /// async fn wait_for_it(ctx: TaskContext) -> Result<(), String> {
    ///     tokio::select! {
    ///         () = ctx.cancelled() => Err("cancelled; partial work rolled back".into()),
    ///         () = tokio::time::sleep(Duration::from_millis(10)) => Ok(()),
    ///     }
    /// }
    /// ```
    pub async fn cancelled(&self) {
        self.cancel.requested().await;
    }

    /// The running task's result as it was when this attempt started.
    ///
    /// ```
    /// use djrs_tasks::{task, TaskContext, Tasks};
    ///
    /// #[task(takes_context, queue_name = "default")]
    /// async fn whoami(ctx: TaskContext) -> String {
    ///     format!("{} on {}", ctx.task_result().id, ctx.task_result().queue_name)
    /// }
    ///
    /// # tokio_test::block_on(async {
    /// let result = whoami.enqueue(&Tasks::default()).await?;
    /// assert_eq!(result.return_value::<String>()?, format!("{} on default", result.id));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn task_result(&self) -> &TaskResult {
        &self.task_result
    }

    /// This attempt's number, from 1 (Django: `task_result.attempts`).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, SqliteBackend, TaskContext, Tasks, Worker};
    ///
    /// #[task(takes_context, max_attempts = 3)]
    /// async fn third_time_lucky(ctx: TaskContext) -> Result<u32, String> {
    ///     if ctx.attempt() < 3 { Err("not yet".into()) } else { Ok(ctx.attempt()) }
    /// }
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// let enqueued = third_time_lucky.enqueue(&tasks).await?;
    /// let worker = Worker::new(&tasks).retry_backoff(Duration::from_millis(5), Duration::from_millis(10));
    /// worker
    ///     .run_until(async {
    ///         while !tasks.get_result(&enqueued.id).await.unwrap().is_finished() {
    ///             tokio::time::sleep(Duration::from_millis(10)).await;
    ///         }
    ///     })
    ///     .await?;
    /// let result = tasks.get_result(&enqueued.id).await?;
    /// assert_eq!(result.return_value::<u32>()?, 3);
    /// assert_eq!(result.errors.len(), 2);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.task_result.attempts()
    }

    /// The task system, to enqueue follow-up tasks.
    ///
    /// ```
    /// use djrs_tasks::{task, DummyBackend, ImmediateBackend, TaskContext, Tasks};
    ///
    /// #[task(backend = "outbox")]
    /// async fn send_receipt(order: u32) {}
    ///
    /// #[task(takes_context)]
    /// async fn place_order(ctx: TaskContext, order: u32) -> Result<(), djrs_tasks::Error> {
    ///     // A follow-up task, through the same task system.
    ///     send_receipt.enqueue(ctx.tasks(), order).await?;
    ///     Ok(())
    /// }
    ///
    /// # tokio_test::block_on(async {
    /// let outbox = DummyBackend::new();
    /// let tasks = Tasks::builder()
    ///     .backend("default", ImmediateBackend::new())
    ///     .backend("outbox", outbox.clone())
    ///     .build()?;
    /// place_order.enqueue(&tasks, 42).await?;
    /// assert_eq!(outbox.results()[0].args, serde_json::json!([42]));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn tasks(&self) -> &Tasks {
        &self.tasks
    }

    /// Application state registered with [`TasksBuilder::state`](crate::TasksBuilder::state):
    /// a database pool, a mailer, a client.
    ///
    /// ```
    /// use djrs_tasks::{task, TaskContext, Tasks};
    ///
    /// struct Mailer {
    ///     from: &'static str,
    /// }
    ///
    /// #[task(takes_context)]
    /// async fn sender(ctx: TaskContext) -> Option<String> {
    ///     ctx.state::<Mailer>().map(|m| m.from.to_owned())
    /// }
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::builder().state(Mailer { from: "noreply@example.com" }).build()?;
    /// let result = sender.enqueue(&tasks).await?;
    /// assert_eq!(result.return_value::<Option<String>>()?.as_deref(), Some("noreply@example.com"));
    /// // Without it registered: None.
    /// let bare = sender.enqueue(&Tasks::default()).await?;
    /// assert_eq!(bare.return_value::<Option<String>>()?, None);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.tasks.state::<T>()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A context for a task run in process, and the metadata it shares with its runner.
    fn context() -> (TaskContext, Metadata) {
        let running: TaskResult = serde_json::from_value(json!({
            "id": "t", "task_name": "n", "status": "RUNNING", "enqueued_at": "2026-01-01T00:00:00Z",
            "started_at": null, "finished_at": null, "last_attempted_at": null, "run_after": null,
            "args": [], "backend": "default", "queue_name": "default", "priority": 0,
            "errors": [], "worker_ids": ["w"], "max_attempts": 1, "return_value": null,
            "timeout": null, "unique_key": null}))
        .unwrap();
        let metadata = Metadata::new(Map::new());
        let ctx = TaskContext::new(
            Arc::new(running),
            Tasks::default(),
            Cancel::default(),
            metadata.clone(),
        );
        (ctx, metadata)
    }

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn metadata_is_unsaved_from_a_change_until_that_state_is_saved() {
        let (ctx, shared) = context();
        assert!(shared.unsaved().is_none());
        ctx.set_metadata("a", 1).unwrap();
        assert_eq!(ctx.metadata(), map(json!({"a": 1})));
        let first = shared.unsaved().expect("changed");
        assert_eq!(first, ctx.metadata());
        shared.saved(&first);
        assert!(shared.unsaved().is_none());
        // Saving an older state does not hide a later change.
        ctx.set_metadata("b", 2).unwrap();
        shared.saved(&first);
        assert_eq!(shared.unsaved(), Some(map(json!({"a": 1, "b": 2}))));
        shared.saved(&shared.snapshot());
        assert!(shared.unsaved().is_none());
        // Removing what is not there changes nothing.
        assert_eq!(ctx.remove_metadata("missing"), None);
        assert!(shared.unsaved().is_none());
        assert_eq!(ctx.remove_metadata("a"), Some(json!(1)));
        assert_eq!(shared.unsaved(), Some(map(json!({"b": 2}))));
        // In process (no queue) a save only marks it saved.
        tokio_test::block_on(ctx.save_metadata()).unwrap();
        assert!(shared.unsaved().is_none());
        assert_eq!(ctx.metadata(), map(json!({"b": 2})));
    }

    #[test]
    fn reserved_keys_djrs_stored_are_kept_through_a_task_s_changes() {
        let (ctx, _) = context();
        let saved =
            map(json!({"_traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}));
        let shared = Metadata::new(saved.clone());
        let ctx = TaskContext {
            metadata: shared.clone(),
            ..ctx
        };
        ctx.set_metadata("done", 3).unwrap();
        // The task can neither set nor remove a reserved key; what it saves keeps them.
        assert!(ctx.set_metadata("_traceparent", "forged").is_err());
        assert_eq!(ctx.remove_metadata("_traceparent"), None);
        let unsaved = shared.unsaved().expect("changed");
        assert_eq!(unsaved["_traceparent"], saved["_traceparent"]);
        assert_eq!(unsaved["done"], json!(3));
    }

    #[test]
    fn metadata_is_refused_for_reserved_keys_unstorable_values_and_past_its_cap() {
        let (ctx, shared) = context();
        for refused in [
            ctx.set_metadata("_djrs", 1),
            ctx.set_metadata("k", "a\0b"),
            ctx.set_metadata("a\0", 1),
        ] {
            assert!(matches!(refused, Err(Error::InvalidTask(_))), "{refused:?}");
        }
        assert!(ctx.metadata().is_empty());
        assert!(shared.unsaved().is_none());
        assert_eq!(MAX_METADATA_BYTES, 65_536);
        // `{"k":"…"}` is 8 bytes and the string: exactly the cap fits, one byte more does not,
        // and the value before stays.
        let fits = "x".repeat(MAX_METADATA_BYTES - 8);
        ctx.set_metadata("k", &fits).unwrap();
        let over = "y".repeat(MAX_METADATA_BYTES - 7);
        let err = ctx.set_metadata("k", &over).unwrap_err();
        assert!(err.to_string().contains("65537 bytes"), "{err}");
        assert_eq!(ctx.metadata()["k"], json!(fits));
        // Nor is a new key added past it.
        assert!(ctx.set_metadata("other", 1).is_err());
        assert!(!ctx.metadata().contains_key("other"));
    }
}
