//! [`TasksBuilder`]: a [`Tasks`] put together in code.

use super::*;

/// Builds a [`Tasks`].
#[derive(Default)]
#[must_use]
pub struct TasksBuilder {
    backends: Vec<(String, Arc<dyn Backend>)>,
    queues: HashMap<String, Vec<String>>,
    hooks: Hooks,
    state: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl fmt::Debug for TasksBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TasksBuilder").finish_non_exhaustive()
    }
}

impl TasksBuilder {
    /// Adds a backend under an alias.
    ///
    /// ```
    /// use djrs_tasks::{DummyBackend, Tasks};
    ///
    /// let tasks = Tasks::builder().backend("default", DummyBackend::new()).build()?;
    /// assert_eq!(tasks.backend("default")?.name(), "DummyBackend");
    /// // An alias given twice is an error.
    /// let twice = Tasks::builder()
    ///     .backend("default", DummyBackend::new())
    ///     .backend("default", DummyBackend::new())
    ///     .build();
    /// assert!(twice.is_err());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    pub fn backend(self, alias: impl Into<String>, backend: impl Backend) -> Self {
        self.backend_arc(alias, Arc::new(backend))
    }

    /// Adds a shared backend under an alias.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use djrs_tasks::{Backend, DummyBackend, Tasks};
    ///
    /// let shared: Arc<dyn Backend> = Arc::new(DummyBackend::new());
    /// let tasks = Tasks::builder().backend_arc("default", Arc::clone(&shared)).build()?;
    /// assert!(Arc::ptr_eq(tasks.backend("default")?, &shared));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    pub fn backend_arc(mut self, alias: impl Into<String>, backend: Arc<dyn Backend>) -> Self {
        self.backends.push((alias.into(), backend));
        self
    }

    /// Restricts a backend's queues (Django's `QUEUES`; default `["default"]`, empty = any).
    ///
    /// ```
    /// use djrs_tasks::{task, DummyBackend, Task, Tasks};
    ///
    /// #[task]
    /// async fn send() {}
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::builder()
    ///     .backend("default", DummyBackend::new())
    ///     .queues("default", ["default", "emails"])
    ///     .build()?;
    /// assert!(send.using().queue_name("emails").enqueue(&tasks).await.is_ok());
    /// assert!(send.using().queue_name("reports").enqueue(&tasks).await.is_err());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn queues<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        alias: impl Into<String>,
        queues: I,
    ) -> Self {
        self.queues
            .insert(alias.into(), queues.into_iter().map(Into::into).collect());
        self
    }

    /// Calls `hook` after every enqueue (Django's `task_enqueued` signal).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// use djrs_tasks::{task, DummyBackend, Tasks};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let hook_seen = Arc::clone(&seen);
    /// let tasks = Tasks::builder()
    ///     .backend("default", DummyBackend::new())
    ///     .on_task_enqueued(move |result| hook_seen.lock().unwrap().push(result.id.clone()))
    ///     .build()?;
    /// let result = ping.enqueue(&tasks).await?;
    /// assert_eq!(*seen.lock().unwrap(), [result.id]);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn on_task_enqueued(mut self, hook: impl Fn(&TaskResult) + Send + Sync + 'static) -> Self {
        self.hooks.enqueued.push(Arc::new(hook));
        self
    }

    /// Calls `hook` when an attempt starts (Django's `task_started` signal).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// use djrs_tasks::{task, TaskResultStatus};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{SqliteBackend, Tasks, Worker};
    ///
    /// let statuses = Arc::new(Mutex::new(Vec::new()));
    /// let hook_statuses = Arc::clone(&statuses);
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("t.sqlite3"))?)
    ///     .on_task_started(move |result| hook_statuses.lock().unwrap().push(result.status))
    ///     .build()?;
    /// ping.enqueue(&tasks).await?;
    /// assert!(statuses.lock().unwrap().is_empty()); // enqueued, not started
    /// Worker::new(&tasks).run_until_idle().await?;
    /// assert_eq!(*statuses.lock().unwrap(), [TaskResultStatus::Running]);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn on_task_started(mut self, hook: impl Fn(&TaskResult) + Send + Sync + 'static) -> Self {
        self.hooks.started.push(Arc::new(hook));
        self
    }

    /// Calls `hook` when an attempt ends, with the updated result (Django's `task_finished`).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// use djrs_tasks::{task, Tasks, TaskResultStatus};
    ///
    /// #[task]
    /// async fn add(a: i64, b: i64) -> i64 { a + b }
    ///
    /// # tokio_test::block_on(async {
    /// let finished = Arc::new(Mutex::new(Vec::new()));
    /// let hook_finished = Arc::clone(&finished);
    /// let tasks = Tasks::builder()
    ///     .on_task_finished(move |result| hook_finished.lock().unwrap().push(result.status))
    ///     .build()?; // the immediate backend runs the task at enqueue time
    /// add.enqueue(&tasks, 1, 2).await?;
    /// assert_eq!(*finished.lock().unwrap(), [TaskResultStatus::Successful]);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn on_task_finished(mut self, hook: impl Fn(&TaskResult) + Send + Sync + 'static) -> Self {
        self.hooks.finished.push(Arc::new(hook));
        self
    }

    /// Registers a value task contexts can read with [`TaskContext::state`](crate::TaskContext::state).
    ///
    /// ```
    /// use djrs_tasks::{task, TaskContext, Tasks};
    ///
    /// struct Config {
    ///     site_name: String,
    /// }
    ///
    /// #[task(takes_context)]
    /// async fn site_name(ctx: TaskContext) -> String {
    ///     ctx.state::<Config>().map(|c| c.site_name.clone()).unwrap_or_default()
    /// }
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::builder().state(Config { site_name: "example.com".into() }).build()?;
    /// let result = site_name.enqueue(&tasks).await?;
    /// assert_eq!(result.return_value::<String>()?, "example.com");
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(TypeId::of::<T>(), Arc::new(value));
        self
    }

    /// Builds the task system. Without any backend, it has Django's default: an
    /// `ImmediateBackend` named `default`.
    ///
    /// ```
    /// use djrs_tasks::{DummyBackend, Tasks};
    ///
    /// // Without backends: Django's default, one ImmediateBackend called "default".
    /// let tasks = Tasks::builder().build()?;
    /// assert_eq!(tasks.backend("default")?.name(), "ImmediateBackend");
    ///
    /// // Queues for an alias that has no backend are refused.
    /// let err = Tasks::builder()
    ///     .backend("default", DummyBackend::new())
    ///     .queues("other", ["default"])
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "The connection 'other' doesn't exist.");
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    ///
    /// # Errors
    /// `InvalidTaskBackend` when an alias is used twice or queues name an unknown alias.
    pub fn build(mut self) -> Result<Tasks> {
        if self.backends.is_empty() {
            self.backends.push((
                DEFAULT_TASK_BACKEND_ALIAS.to_owned(),
                Arc::new(ImmediateBackend::new()),
            ));
        }
        let mut backends = HashMap::new();
        let mut queues = self.queues;
        for (alias, backend) in self.backends {
            let alias_queues = queues
                .remove(&alias)
                .or_else(|| Some(vec![crate::DEFAULT_TASK_QUEUE_NAME.to_owned()]));
            if backends
                .insert(
                    alias.clone(),
                    Configured {
                        backend,
                        queues: alias_queues,
                    },
                )
                .is_some()
            {
                return Err(Error::InvalidTaskBackend(format!(
                    "The backend alias '{alias}' is configured twice."
                )));
            }
        }
        if let Some(alias) = queues.keys().next() {
            return Err(Error::InvalidTaskBackend(format!(
                "The connection '{alias}' doesn't exist."
            )));
        }
        Ok(Tasks {
            inner: Arc::new(Inner {
                backends,
                hooks: self.hooks,
                state: Arc::new(self.state),
            }),
        })
    }
}
