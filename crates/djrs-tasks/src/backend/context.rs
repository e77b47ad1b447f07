//! What a backend gets: [`NewTask`], a task to store, and [`BackendContext`], the handle to
//! the signals, an in-process attempt and the clock (not the whole `Tasks`).

use super::*;

/// A task to store, validated and with its id and timestamps assigned.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NewTask {
    /// The result's id.
    pub id: TaskId,
    /// The task's stable name.
    pub task_name: String,
    /// The arguments as a JSON array.
    pub args: serde_json::Value,
    /// The priority.
    pub priority: i32,
    /// The queue.
    pub queue_name: String,
    /// The backend alias.
    pub backend: String,
    /// Not before this time.
    pub run_after: Option<DateTime<Utc>>,
    /// When it was enqueued.
    pub enqueued_at: DateTime<Utc>,
    /// Attempts before failing for good.
    pub max_attempts: u32,
    /// How long one attempt may run.
    pub timeout: Option<Duration>,
    /// The uniqueness key.
    pub unique_key: Option<String>,
    /// The metadata the task starts with: empty, or what djrs records under reserved keys
    /// (`_traceparent` and `_tracestate` with the feature `otel`). Stores write it with the task.
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

impl NewTask {
    /// The `READY` result this task starts as.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, NewTask, Result,
    ///     TaskResult, TaskResultStatus, Tasks};
    ///
    /// /// Stores tasks without running them.
    /// #[derive(Debug, Default)]
    /// struct Store(Mutex<Vec<TaskResult>>);
    ///
    /// impl Backend for Store {
    ///     fn name(&self) -> &'static str { "Store" }
    ///     fn capabilities(&self) -> Capabilities { Capabilities::none().with_async_task() }
    ///     fn enqueue<'a>(&'a self, ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
    ///         Box::pin(async move {
    ///             let result = task.into_ready_result();
    ///             self.0.lock().unwrap().push(result.clone());
    ///             ctx.task_enqueued(&result);
    ///             Ok(result)
    ///         })
    ///     }
    /// # fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
    /// #     Box::pin(async move { Err(djrs_tasks::Error::TaskResultDoesNotExist(id.to_owned())) })
    /// # }
    /// }
    ///
    /// #[task]
    /// async fn index(doc: u32) {}
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::builder().backend("default", Store::default()).build()?;
    /// let result = index.enqueue(&tasks, 7).await?;
    /// assert_eq!(result.status, TaskResultStatus::Ready);
    /// assert_eq!((result.args.clone(), result.attempts()), (serde_json::json!([7]), 0));
    /// assert!(result.started_at.is_none());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn into_ready_result(self) -> TaskResult {
        TaskResult {
            id: self.id,
            task_name: self.task_name,
            status: TaskResultStatus::Ready,
            enqueued_at: self.enqueued_at,
            started_at: None,
            finished_at: None,
            last_attempted_at: None,
            run_after: self.run_after,
            args: self.args,
            backend: self.backend,
            queue_name: self.queue_name,
            priority: self.priority,
            errors: Vec::new(),
            worker_ids: Vec::new(),
            max_attempts: self.max_attempts,
            return_value: None,
            timeout: self.timeout,
            unique_key: self.unique_key,
            metadata: self.metadata,
        }
    }
}

/// What a backend may ask of the task system while it stores or runs tasks: the task signals,
/// an attempt run in this process, the clock. Backends get this handle rather than the whole
/// [`Tasks`], so they stay independent of the core.
///
/// ```
/// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, NewTask, Result,
///     TaskResult, Tasks};
///
/// /// Runs every task at once and forgets it (a small custom backend).
/// #[derive(Debug)]
/// struct RunNow;
///
/// impl Backend for RunNow {
///     fn name(&self) -> &'static str { "RunNow" }
///     fn capabilities(&self) -> Capabilities { Capabilities::none().with_async_task() }
///     fn enqueue<'a>(&'a self, ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
///         Box::pin(async move {
///             let mut result = task.into_ready_result();
///             ctx.task_enqueued(&result);
///             result.worker_ids.push("here".into());
///             match ctx.run(&mut result).await {
///                 Ok(value) => result.mark_successful(value, ctx.now()),
///                 Err(error) => result.mark_failed(error, ctx.now()),
///             }
///             ctx.task_finished(&result);
///             Ok(result)
///         })
///     }
///     fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
///         Box::pin(async move { Err(djrs_tasks::Error::TaskResultDoesNotExist(id.to_owned())) })
///     }
/// }
///
/// #[task]
/// async fn answer() -> u32 { 42 }
///
/// # tokio_test::block_on(async {
/// let tasks = Tasks::builder().backend("default", RunNow).build()?;
/// assert_eq!(answer.enqueue(&tasks).await?.return_value::<u32>()?, 42);
/// # Ok::<(), djrs_tasks::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BackendContext<'a> {
    tasks: &'a Tasks,
}

impl<'a> BackendContext<'a> {
    pub(crate) fn new(tasks: &'a Tasks) -> Self {
        BackendContext { tasks }
    }

    /// Fires `task_enqueued` for a task that was stored (not for a duplicate of a unique key).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, NewTask, Result,
    ///     TaskResult, TaskResultStatus, Tasks};
    ///
    /// /// Stores tasks without running them.
    /// #[derive(Debug, Default)]
    /// struct Store(Mutex<Vec<TaskResult>>);
    ///
    /// impl Backend for Store {
    ///     fn name(&self) -> &'static str { "Store" }
    ///     fn capabilities(&self) -> Capabilities { Capabilities::none().with_async_task() }
    ///     fn enqueue<'a>(&'a self, ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
    ///         Box::pin(async move {
    ///             let result = task.into_ready_result();
    ///             self.0.lock().unwrap().push(result.clone());
    ///             ctx.task_enqueued(&result); // after the task is stored
    ///             Ok(result)
    ///         })
    ///     }
    /// # fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
    /// #     Box::pin(async move { Err(djrs_tasks::Error::TaskResultDoesNotExist(id.to_owned())) })
    /// # }
    /// }
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// let enqueued = Arc::new(Mutex::new(0));
    /// let count = Arc::clone(&enqueued);
    /// let tasks = Tasks::builder()
    ///     .backend("default", Store::default())
    ///     .on_task_enqueued(move |_| *count.lock().unwrap() += 1)
    ///     .build()?;
    /// ping.enqueue(&tasks).await?;
    /// assert_eq!(*enqueued.lock().unwrap(), 1);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn task_enqueued(&self, result: &TaskResult) {
        self.tasks.hooks().enqueued(result);
    }

    /// Fires `task_enqueued` for the tasks that were stored (not for duplicates of a unique
    /// key, which come back as the task holding the key) and returns the results.
    #[cfg(any(
        feature = "sqlite",
        feature = "postgres",
        feature = "mysql",
        feature = "redis"
    ))]
    pub(crate) fn announce(&self, stored: Vec<(TaskResult, bool)>) -> Vec<TaskResult> {
        stored
            .into_iter()
            .map(|(result, new)| {
                if new {
                    self.task_enqueued(&result);
                }
                result
            })
            .collect()
    }

    /// Fires `task_finished` for a task that reached `SUCCESSFUL` or `FAILED`.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, NewTask, Result,
    ///     TaskResult, TaskResultStatus, Tasks};
    ///
    /// /// Runs each task at enqueue time.
    /// #[derive(Debug, Default)]
    /// struct Store(Mutex<Vec<TaskResult>>);
    ///
    /// impl Backend for Store {
    ///     fn name(&self) -> &'static str { "Store" }
    ///     fn capabilities(&self) -> Capabilities { Capabilities::none().with_async_task() }
    ///     fn enqueue<'a>(&'a self, ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
    ///         Box::pin(async move {
    ///             let mut result = task.into_ready_result();
    ///             result.worker_ids.push("here".into());
    ///             match ctx.run(&mut result).await {
    ///                 Ok(value) => result.mark_successful(value, ctx.now()),
    ///                 Err(error) => result.mark_failed(error, ctx.now()),
    ///             }
    ///             ctx.task_finished(&result); // once the outcome is recorded
    ///             Ok(result)
    ///         })
    ///     }
    /// # fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
    /// #     Box::pin(async move { Err(djrs_tasks::Error::TaskResultDoesNotExist(id.to_owned())) })
    /// # }
    /// }
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// let finished = Arc::new(Mutex::new(Vec::new()));
    /// let seen = Arc::clone(&finished);
    /// let tasks = Tasks::builder()
    ///     .backend("default", Store::default())
    ///     .on_task_finished(move |result| seen.lock().unwrap().push(result.status))
    ///     .build()?;
    /// ping.enqueue(&tasks).await?;
    /// assert_eq!(*finished.lock().unwrap(), [TaskResultStatus::Successful]);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn task_finished(&self, result: &TaskResult) {
        self.tasks.hooks().finished(result);
    }

    /// Runs one attempt of `running` in this process (firing `task_started`), returning its
    /// JSON value or its error; what the task records in its metadata is written into
    /// `running.metadata`. Never panics.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, NewTask, Result,
    ///     TaskResult, TaskResultStatus, Tasks};
    ///
    /// /// Runs each task at enqueue time.
    /// #[derive(Debug, Default)]
    /// struct Store(Mutex<Vec<TaskResult>>);
    ///
    /// impl Backend for Store {
    ///     fn name(&self) -> &'static str { "Store" }
    ///     fn capabilities(&self) -> Capabilities { Capabilities::none().with_async_task() }
    ///     fn enqueue<'a>(&'a self, ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
    ///         Box::pin(async move {
    ///             let mut result = task.into_ready_result();
    ///             result.worker_ids.push("here".into());
    ///             match ctx.run(&mut result).await {
    ///                 Ok(value) => result.mark_successful(value, ctx.now()),
    ///                 Err(error) => result.mark_failed(error, ctx.now()),
    ///             }
    ///             Ok(result)
    ///         })
    ///     }
    /// # fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
    /// #     Box::pin(async move { Err(djrs_tasks::Error::TaskResultDoesNotExist(id.to_owned())) })
    /// # }
    /// }
    ///
    /// #[task]
    /// async fn add(a: i64, b: i64) -> i64 { a + b }
    ///
    /// #[task]
    /// async fn boom() { panic!("boom") }
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::builder().backend("default", Store::default()).build()?;
    /// assert_eq!(add.enqueue(&tasks, 2, 3).await?.return_value::<i64>()?, 5);
    /// // A panic comes back as the attempt's error.
    /// let failed = boom.enqueue(&tasks).await?;
    /// assert_eq!(failed.status, TaskResultStatus::Failed);
    /// assert_eq!(failed.errors[0].exception_class_path, "panic");
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use = "the attempt runs only when awaited"]
    pub fn run<'b>(
        &'b self,
        running: &'b mut TaskResult,
    ) -> BoxFuture<'b, std::result::Result<serde_json::Value, TaskError>> {
        let shared = std::sync::Arc::new(running.clone());
        Box::pin(async move {
            let metadata = crate::context::Metadata::new(running.metadata.clone());
            let cancel = crate::task::Cancel::default();
            let outcome =
                crate::runner::run_attempt(self.tasks, &shared, cancel, metadata.clone()).await;
            running.metadata = metadata.snapshot();
            outcome
        })
    }

    /// The current time.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// use djrs_tasks::{task, Backend, BackendContext, BoxFuture, Capabilities, NewTask, Result,
    ///     TaskResult, TaskResultStatus, Tasks};
    ///
    /// /// Stores tasks, stamped with the context's clock.
    /// #[derive(Debug, Default)]
    /// struct Store(Mutex<Vec<TaskResult>>);
    ///
    /// impl Backend for Store {
    ///     fn name(&self) -> &'static str { "Store" }
    ///     fn capabilities(&self) -> Capabilities { Capabilities::none().with_async_task() }
    ///     fn enqueue<'a>(&'a self, ctx: &'a BackendContext<'a>, task: NewTask) -> BoxFuture<'a, Result<TaskResult>> {
    ///         Box::pin(async move {
    ///             let mut result = task.into_ready_result();
    ///             result.run_after = Some(ctx.now());
    ///             self.0.lock().unwrap().push(result.clone());
    ///             Ok(result)
    ///         })
    ///     }
    /// # fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
    /// #     Box::pin(async move { Err(djrs_tasks::Error::TaskResultDoesNotExist(id.to_owned())) })
    /// # }
    /// }
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::builder().backend("default", Store::default()).build()?;
    /// let before = chrono::Utc::now();
    /// let result = ping.enqueue(&tasks).await?;
    /// assert!(result.run_after.unwrap() >= before);
    /// assert!(result.run_after.unwrap() <= chrono::Utc::now());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
