//! `ImmediateBackend` and `DummyBackend`: Django's two built-in backends.

use std::sync::{Arc, Mutex, PoisonError};

use crate::backend::{Backend, BackendContext, Capabilities, NewTask};
use crate::task::BoxFuture;
use crate::{Error, Result, TaskResult, TaskResultStatus, WorkerId};

/// Runs each task at enqueue time, in the enqueuing task (Django's `ImmediateBackend`, the
/// default). Keeps no results.
///
/// ```
/// use djrs_tasks::{task, Tasks, TaskResultStatus};
///
/// #[task]
/// async fn fail() -> Result<(), std::io::Error> { Err(std::io::Error::other("boom")) }
///
/// # tokio_test::block_on(async {
/// let result = fail.enqueue(&Tasks::default()).await?;
/// assert_eq!(result.status, TaskResultStatus::Failed);
/// assert_eq!(result.errors[0].message, "boom");
/// assert_eq!(result.errors[0].exception_class_path, "std::io::error::Error");
/// # Ok::<(), djrs_tasks::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct ImmediateBackend {
    _private: (),
}

impl ImmediateBackend {
    /// The backend.
    ///
    /// ```
    /// use djrs_tasks::{task, Backend, ImmediateBackend, Tasks, TaskResultStatus};
    ///
    /// #[task]
    /// async fn ping() -> String { "pong".into() }
    ///
    /// # tokio_test::block_on(async {
    /// let backend = ImmediateBackend::new();
    /// assert!(!backend.capabilities().supports_defer);
    /// let tasks = Tasks::builder().backend("default", backend).build()?;
    /// let result = ping.enqueue(&tasks).await?;
    /// assert_eq!(result.status, TaskResultStatus::Successful);
    /// assert_eq!(result.return_value::<String>()?, "pong");
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        ImmediateBackend::default()
    }
}

impl Backend for ImmediateBackend {
    fn name(&self) -> &'static str {
        "ImmediateBackend"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::none().with_async_task().with_priority()
    }

    fn enqueue<'a>(
        &'a self,
        ctx: &'a BackendContext<'a>,
        task: NewTask,
    ) -> BoxFuture<'a, Result<TaskResult>> {
        Box::pin(async move {
            let mut result = task.into_ready_result();
            ctx.task_enqueued(&result);
            let now = ctx.now();
            result.status = TaskResultStatus::Running;
            result.started_at = Some(now);
            result.last_attempted_at = Some(now);
            result.worker_ids.push(WorkerId::from(format!(
                "immediate-{}",
                uuid::Uuid::new_v4().simple()
            )));
            match ctx.run(&mut result).await {
                Ok(value) => result.mark_successful(value, ctx.now()),
                Err(error) => result.mark_failed(error, ctx.now()),
            }
            ctx.task_finished(&result);
            Ok(result)
        })
    }

    fn get_result<'a>(&'a self, _id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
        Box::pin(async {
            Err(Error::NotSupported {
                backend: "ImmediateBackend",
                operation: "get_result",
            })
        })
    }
}

/// Stores tasks and never runs them, for tests (Django's `DummyBackend`). Clones share the
/// stored results.
///
/// ```
/// use djrs_tasks::{task, DummyBackend, Tasks};
///
/// #[task]
/// async fn send(to: String) {}
///
/// # tokio_test::block_on(async {
/// let dummy = DummyBackend::new();
/// let tasks = Tasks::builder().backend("default", dummy.clone()).build()?;
/// let result = send.enqueue(&tasks, "ada@example.com".into()).await?;
/// assert_eq!(tasks.get_result(&result.id).await?, result);
/// assert_eq!(dummy.results()[0].args, serde_json::json!(["ada@example.com"]));
/// dummy.clear();
/// assert!(dummy.results().is_empty());
/// # Ok::<(), djrs_tasks::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct DummyBackend {
    results: Arc<Mutex<Vec<TaskResult>>>,
}

impl DummyBackend {
    /// An empty backend.
    ///
    /// ```
    /// use djrs_tasks::{task, DummyBackend, Tasks, TaskResultStatus};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// let dummy = DummyBackend::new();
    /// assert!(dummy.results().is_empty());
    /// let tasks = Tasks::builder().backend("default", dummy.clone()).build()?;
    /// let result = ping.enqueue(&tasks).await?;
    /// assert_eq!(result.status, TaskResultStatus::Ready); // stored, never run
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        DummyBackend::default()
    }

    /// Every result enqueued so far, oldest first.
    ///
    /// ```
    /// use djrs_tasks::{task, DummyBackend, Tasks};
    ///
    /// #[task]
    /// async fn send(to: String) {}
    ///
    /// # tokio_test::block_on(async {
    /// let dummy = DummyBackend::new();
    /// let tasks = Tasks::builder().backend("default", dummy.clone()).build()?;
    /// send.enqueue(&tasks, "ada@example.com".into()).await?;
    /// send.enqueue(&tasks, "grace@example.com".into()).await?;
    /// let recipients: Vec<_> = dummy.results().iter().map(|r| r.args[0].clone()).collect();
    /// assert_eq!(recipients, ["ada@example.com", "grace@example.com"]);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn results(&self) -> Vec<TaskResult> {
        self.results
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets every result.
    ///
    /// ```
    /// use djrs_tasks::{task, DummyBackend, Tasks};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// let dummy = DummyBackend::new();
    /// let tasks = Tasks::builder().backend("default", dummy.clone()).build()?;
    /// let result = ping.enqueue(&tasks).await?;
    /// dummy.clear();
    /// assert!(dummy.results().is_empty());
    /// assert!(tasks.get_result(&result.id).await.is_err());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn clear(&self) {
        self.results
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Backend for DummyBackend {
    fn name(&self) -> &'static str {
        "DummyBackend"
    }

    fn capabilities(&self) -> Capabilities {
        // As Django: results live in this process only, so `supports_get_result` is false,
        // though `get_result` works.
        Capabilities::none()
            .with_defer()
            .with_async_task()
            .with_priority()
    }

    fn enqueue<'a>(
        &'a self,
        ctx: &'a BackendContext<'a>,
        task: NewTask,
    ) -> BoxFuture<'a, Result<TaskResult>> {
        Box::pin(async move {
            let result = task.into_ready_result();
            self.results
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(result.clone());
            ctx.task_enqueued(&result);
            Ok(result)
        })
    }

    fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
        Box::pin(async move {
            self.results
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .find(|r| r.id == id)
                .cloned()
                .ok_or_else(|| Error::TaskResultDoesNotExist(id.to_owned()))
        })
    }
}
