//! What `#[task]` generates code against: task options, the `Task` trait with Django's
//! `using()` setters, the context and the registry (return values are in `output.rs`).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) use crate::context::Cancel;
pub use crate::context::{MAX_METADATA_BYTES, TaskContext};
pub use crate::output::TaskOutput;
use crate::{Error, Result, TaskError, TaskResult, Tasks};

/// Django's `DEFAULT_TASK_BACKEND_ALIAS`.
pub const DEFAULT_TASK_BACKEND_ALIAS: &str = "default";
/// Django's `DEFAULT_TASK_QUEUE_NAME`.
pub const DEFAULT_TASK_QUEUE_NAME: &str = "default";
/// Django's `DEFAULT_TASK_PRIORITY`.
pub const DEFAULT_TASK_PRIORITY: i32 = 0;
/// Django's `TASK_MIN_PRIORITY`.
pub const TASK_MIN_PRIORITY: i32 = -100;
/// Django's `TASK_MAX_PRIORITY`.
pub const TASK_MAX_PRIORITY: i32 = 100;
/// Attempts a task gets when `#[task]` does not say `max_attempts` (Django has no retries;
/// djrs retries failed tasks with exponential backoff, as Oban and River do).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The options of a task: Django's `Task` fields other than the function.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskOptions {
    name: &'static str,
    priority: i32,
    queue_name: Cow<'static, str>,
    backend: Cow<'static, str>,
    run_after: Option<DateTime<Utc>>,
    max_attempts: u32,
    takes_context: bool,
    timeout: Option<std::time::Duration>,
    unique_key: Option<String>,
}

impl TaskOptions {
    /// The options `#[task]` writes; not for direct use.
    #[doc(hidden)]
    #[must_use]
    pub const fn from_attribute(
        name: &'static str,
        priority: i32,
        queue_name: &'static str,
        backend: &'static str,
        max_attempts: u32,
        takes_context: bool,
        timeout_secs: u64,
    ) -> Self {
        TaskOptions {
            name,
            priority,
            queue_name: Cow::Borrowed(queue_name),
            backend: Cow::Borrowed(backend),
            run_after: None,
            max_attempts: if max_attempts == 0 {
                DEFAULT_MAX_ATTEMPTS
            } else {
                max_attempts
            },
            takes_context,
            timeout: if timeout_secs == 0 {
                None
            } else {
                Some(std::time::Duration::from_secs(timeout_secs))
            },
            unique_key: None,
        }
    }

    /// The task's stable name: module path and function name.
    ///
    /// ```
    /// use djrs_tasks::{task, Task};
    ///
    /// #[task]
    /// async fn send_report() {}
    ///
    /// assert!(send_report.options().name().ends_with("::send_report"));
    /// assert_eq!(send_report.options().name(), send_report.name());
    /// ```
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The priority, −100..=100.
    ///
    /// ```
    /// use djrs_tasks::{task, Task, DEFAULT_TASK_PRIORITY};
    ///
    /// #[task(priority = 10)]
    /// async fn urgent() {}
    /// #[task]
    /// async fn routine() {}
    ///
    /// assert_eq!(urgent.options().priority(), 10);
    /// assert_eq!(routine.options().priority(), DEFAULT_TASK_PRIORITY);
    /// assert_eq!(routine.using().priority(-5).options().priority(), -5);
    /// ```
    #[must_use]
    pub fn priority(&self) -> i32 {
        self.priority
    }

    /// The queue.
    ///
    /// ```
    /// use djrs_tasks::{task, Task, DEFAULT_TASK_QUEUE_NAME};
    ///
    /// #[task(queue_name = "emails")]
    /// async fn send() {}
    /// #[task]
    /// async fn other() {}
    ///
    /// assert_eq!(send.options().queue_name(), "emails");
    /// assert_eq!(other.options().queue_name(), DEFAULT_TASK_QUEUE_NAME);
    /// ```
    #[must_use]
    pub fn queue_name(&self) -> &str {
        &self.queue_name
    }

    /// The backend alias.
    ///
    /// ```
    /// use djrs_tasks::{task, Task, DEFAULT_TASK_BACKEND_ALIAS};
    ///
    /// #[task(backend = "archive")]
    /// async fn archive() {}
    /// #[task]
    /// async fn other() {}
    ///
    /// assert_eq!(archive.options().backend(), "archive");
    /// assert_eq!(other.options().backend(), DEFAULT_TASK_BACKEND_ALIAS);
    /// ```
    #[must_use]
    pub fn backend(&self) -> &str {
        &self.backend
    }

    /// Not before this time.
    ///
    /// ```
    /// use chrono::{Duration, Utc};
    /// use djrs_tasks::{task, Task};
    ///
    /// #[task]
    /// async fn remind() {}
    ///
    /// assert_eq!(remind.options().run_after(), None);
    /// let when = Utc::now() + Duration::hours(1);
    /// assert_eq!(remind.using().run_after(when).options().run_after(), Some(when));
    /// ```
    #[must_use]
    pub fn run_after(&self) -> Option<DateTime<Utc>> {
        self.run_after
    }

    /// Attempts before the task fails for good.
    ///
    /// ```
    /// use djrs_tasks::{task, Task, DEFAULT_MAX_ATTEMPTS};
    ///
    /// #[task(max_attempts = 5)]
    /// async fn flaky() {}
    /// #[task]
    /// async fn steady() {}
    ///
    /// assert_eq!(flaky.options().max_attempts(), 5);
    /// assert_eq!(steady.options().max_attempts(), DEFAULT_MAX_ATTEMPTS);
    /// // At least one attempt.
    /// assert_eq!(steady.using().max_attempts(0).options().max_attempts(), 1);
    /// ```
    #[must_use]
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Whether the function's first argument is a [`TaskContext`].
    ///
    /// ```
    /// use djrs_tasks::{task, Task, TaskContext};
    ///
    /// #[task(takes_context)]
    /// async fn with_context(ctx: TaskContext) -> u32 { ctx.attempt() }
    /// #[task]
    /// async fn without() {}
    ///
    /// assert!(with_context.options().takes_context());
    /// assert!(!without.options().takes_context());
    /// ```
    #[must_use]
    pub fn takes_context(&self) -> bool {
        self.takes_context
    }

    /// How long one attempt may run before the worker stops it and counts it as failed.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, Task};
    ///
    /// #[task(timeout_secs = 30)]
    /// async fn bounded() {}
    ///
    /// assert_eq!(bounded.options().timeout(), Some(Duration::from_secs(30)));
    /// let shorter = bounded.using().timeout(Duration::from_secs(5));
    /// assert_eq!(shorter.options().timeout(), Some(Duration::from_secs(5)));
    /// ```
    #[must_use]
    pub fn timeout(&self) -> Option<std::time::Duration> {
        self.timeout
    }

    /// The uniqueness key: while a task with this key is `READY` or `RUNNING`, enqueueing
    /// another returns the existing one.
    ///
    /// ```
    /// use djrs_tasks::{task, Task};
    ///
    /// #[task]
    /// async fn rebuild_index(site: u32) {}
    ///
    /// assert_eq!(rebuild_index.options().unique_key(), None);
    /// let once = rebuild_index.using().unique_key("rebuild-index:7");
    /// assert_eq!(once.options().unique_key(), Some("rebuild-index:7"));
    /// ```
    #[must_use]
    pub fn unique_key(&self) -> Option<&str> {
        self.unique_key.as_deref()
    }
}

/// A task defined with `#[task]`. Its default methods are Django's `Task.using()` setters; each
/// returns a modified copy, validated when it is enqueued.
///
/// ```
/// use djrs_tasks::{task, Task, Tasks};
///
/// #[task(queue_name = "emails", priority = 5)]
/// async fn send(to: String) {}
///
/// assert_eq!(send.options().queue_name(), "emails");
/// let urgent = send.using().priority(50).queue_name("urgent");
/// assert_eq!((urgent.options().priority(), urgent.options().queue_name()), (50, "urgent"));
/// assert_eq!(send.options().priority(), 5); // the original is unchanged
/// assert!(send.name().ends_with("::send"));
/// ```
pub trait Task: Clone + Send + Sync + 'static {
    /// The options.
    fn options(&self) -> &TaskOptions;

    /// The options, mutably (for the setters).
    fn options_mut(&mut self) -> &mut TaskOptions;

    /// The stable name a worker finds the task by.
    fn name(&self) -> &'static str {
        self.options().name
    }

    /// A copy to modify with the setters below (Django's `using()`).
    #[must_use]
    fn using(&self) -> Self {
        self.clone()
    }

    /// Sets the priority (−100..=100, higher runs first).
    #[must_use]
    fn priority(mut self, priority: i32) -> Self {
        self.options_mut().priority = priority;
        self
    }

    /// Sets the queue.
    #[must_use]
    fn queue_name(mut self, queue_name: impl Into<Cow<'static, str>>) -> Self {
        self.options_mut().queue_name = queue_name.into();
        self
    }

    /// Sets the backend alias.
    #[must_use]
    fn backend(mut self, backend: impl Into<Cow<'static, str>>) -> Self {
        self.options_mut().backend = backend.into();
        self
    }

    /// Runs the task not before `when` (needs a backend that defers).
    #[must_use]
    fn run_after(mut self, when: DateTime<Utc>) -> Self {
        self.options_mut().run_after = Some(when);
        self
    }

    /// Stops an attempt that runs longer than `timeout`; it counts as failed (and is retried
    /// while attempts remain). Also `#[task(timeout_secs = N)]`.
    #[must_use]
    fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.options_mut().timeout = Some(timeout);
        self
    }

    /// Makes the task unique by `key`: while a task with the same key is `READY` or `RUNNING`
    /// on the backend, enqueueing returns that task instead of adding one (race-free on
    /// PostgreSQL and SQLite, through a unique index).
    #[must_use]
    fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.options_mut().unique_key = Some(key.into());
        self
    }

    /// Sets how many attempts the task gets (at least 1).
    #[must_use]
    fn max_attempts(mut self, attempts: u32) -> Self {
        self.options_mut().max_attempts = attempts.max(1);
        self
    }

    /// Reads a result and checks it belongs to this task (Django's `Task.get_result`).
    ///
    /// # Errors
    /// `TaskResultDoesNotExist`, `TaskResultMismatch`, or the backend's error.
    fn get_result<'a>(
        &'a self,
        tasks: &'a Tasks,
        id: &'a str,
    ) -> BoxFuture<'a, Result<TaskResult>> {
        Box::pin(async move {
            let result = tasks.get_result_from(self.options().backend(), id).await?;
            if result.task_name != self.name() {
                return Err(Error::TaskResultMismatch {
                    received: result.task_name,
                    expected: self.name().to_owned(),
                });
            }
            Ok(result)
        })
    }
}

/// A task with its arguments encoded, ready for [`Tasks::enqueue_many`] (built by the
/// generated `prepare(args…)`).
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedTask {
    options: TaskOptions,
    args: serde_json::Value,
}

impl PreparedTask {
    /// A prepared task; `args` must be the JSON array of the arguments.
    #[doc(hidden)]
    #[must_use]
    pub fn new(options: TaskOptions, args: serde_json::Value) -> Self {
        PreparedTask { options, args }
    }

    /// The options.
    ///
    /// ```
    /// use djrs_tasks::{task, Task};
    ///
    /// #[task(queue_name = "search")]
    /// async fn index(doc: u32) {}
    ///
    /// let prepared = index.using().priority(20).prepare(7)?;
    /// assert_eq!(prepared.options().queue_name(), "search");
    /// assert_eq!(prepared.options().priority(), 20);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    #[must_use]
    pub fn options(&self) -> &TaskOptions {
        &self.options
    }

    /// The encoded arguments.
    ///
    /// ```
    /// use djrs_tasks::task;
    ///
    /// #[task]
    /// async fn index(doc: u32, lang: String) {}
    ///
    /// let prepared = index.prepare(7, "fr".into())?;
    /// assert_eq!(prepared.args(), &serde_json::json!([7, "fr"]));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    #[must_use]
    pub fn args(&self) -> &serde_json::Value {
        &self.args
    }

    pub(crate) fn into_parts(self) -> (TaskOptions, serde_json::Value) {
        (self.options, self.args)
    }
}

/// The function a worker runs for a task name.
pub(crate) type RunFn = fn(
    TaskContext,
    serde_json::Value,
)
    -> BoxFuture<'static, std::result::Result<serde_json::Value, TaskError>>;

/// A task in the link-time registry; `#[task]` submits one per task.
#[doc(hidden)]
#[derive(Debug)]
pub struct Registration {
    pub(crate) name: &'static str,
    pub(crate) run: RunFn,
    /// The task's own retry delays (`#[task(backoff = …)]`).
    pub(crate) backoff: Option<crate::Backoff>,
}

impl Registration {
    /// Used by `#[task]`.
    #[must_use]
    pub const fn new(name: &'static str, run: RunFn) -> Self {
        Registration {
            name,
            run,
            backoff: None,
        }
    }

    /// Used by `#[task(backoff = …)]`.
    #[must_use]
    pub const fn with_backoff(self, backoff: crate::Backoff) -> Self {
        Registration {
            name: self.name,
            run: self.run,
            backoff: Some(backoff),
        }
    }
}

inventory::collect!(Registration);

/// The registered task with this name.
pub(crate) fn find_registration(name: &str) -> Option<&'static Registration> {
    static INDEX: std::sync::OnceLock<
        std::collections::HashMap<&'static str, &'static Registration>,
    > = std::sync::OnceLock::new();
    INDEX
        .get_or_init(|| {
            inventory::iter::<Registration>
                .into_iter()
                .map(|r| (r.name, r))
                .collect()
        })
        .get(name)
        .copied()
}

/// Every registered task name, sorted.
///
/// ```
/// #[djrs_tasks::task]
/// async fn listed() {}
///
/// assert!(djrs_tasks::registered_task_names().iter().any(|n| n.ends_with("::listed")));
/// ```
#[must_use]
pub fn registered_task_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = inventory::iter::<Registration>
        .into_iter()
        .map(|r| r.name)
        .collect();
    names.sort_unstable();
    names
}

/// Support code for `#[task]`; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
    pub use serde_json::Value;

    pub use super::{BoxFuture, Registration};
    use super::{DeserializeOwned, Error, Serialize, TaskError};

    /// Encodes arguments and checks that they round-trip through JSON unchanged (Django's
    /// rule for task arguments).
    ///
    /// # Errors
    /// `InvalidTask` when they do not.
    pub fn encode_args<T: Serialize + DeserializeOwned>(args: &T) -> Result<Value, Error> {
        let invalid = |detail: String| {
            Error::InvalidTask(format!(
                "Task arguments must round-trip through JSON: {detail}"
            ))
        };
        let value = serde_json::to_value(args).map_err(|e| invalid(e.to_string()))?;
        let back: T = serde_json::from_value(value.clone()).map_err(|e| invalid(e.to_string()))?;
        let again = serde_json::to_value(&back).map_err(|e| invalid(e.to_string()))?;
        if again != value {
            return Err(invalid(format!("{value} came back as {again}")));
        }
        if has_object(&value)
            && let Some(kind) = non_string_key(args)
        {
            return Err(invalid(format!(
                "a map has {kind} keys, which JSON turns into strings (use string keys)"
            )));
        }
        Ok(value)
    }

    /// Whether `value` holds a JSON object anywhere (only maps can have non-string keys).
    fn has_object(value: &Value) -> bool {
        match value {
            Value::Object(_) => true,
            Value::Array(items) => items.iter().any(has_object),
            _ => false,
        }
    }

    /// The kind of the first map key that is not a string, if any: serde_json writes number
    /// and bool keys as strings, so such a map does not truly round-trip (Django refuses it).
    fn non_string_key<T: Serialize>(value: &T) -> Option<&'static str> {
        let mut formatter = KeyCheck::default();
        let mut serializer =
            serde_json::Serializer::with_formatter(std::io::sink(), &mut formatter);
        value.serialize(&mut serializer).ok()?;
        formatter.found
    }

    /// A JSON formatter that notes a number or bool written as an object key.
    #[derive(Default)]
    struct KeyCheck {
        in_key: bool,
        found: Option<&'static str>,
    }

    impl KeyCheck {
        fn note(&mut self, kind: &'static str) {
            if self.in_key && self.found.is_none() {
                self.found = Some(kind);
            }
        }
    }

    macro_rules! noting {
        ($($method:ident($t:ty) => $kind:literal),* $(,)?) => {$(
            fn $method<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, value: $t) -> std::io::Result<()> {
                self.note($kind);
                serde_json::ser::CompactFormatter.$method(writer, value)
            }
        )*};
    }

    impl serde_json::ser::Formatter for &mut KeyCheck {
        fn begin_object_key<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            self.in_key = true;
            serde_json::ser::CompactFormatter.begin_object_key(writer, first)
        }

        fn end_object_key<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
        ) -> std::io::Result<()> {
            self.in_key = false;
            serde_json::ser::CompactFormatter.end_object_key(writer)
        }

        noting! {
            write_bool(bool) => "bool",
            write_i8(i8) => "integer",
            write_i16(i16) => "integer",
            write_i32(i32) => "integer",
            write_i64(i64) => "integer",
            write_i128(i128) => "integer",
            write_u8(u8) => "integer",
            write_u16(u16) => "integer",
            write_u32(u32) => "integer",
            write_u64(u64) => "integer",
            write_u128(u128) => "integer",
            write_f32(f32) => "float",
            write_f64(f64) => "float",
        }
    }

    /// Decodes the stored arguments for a run.
    ///
    /// # Errors
    /// A task error naming the mismatch (a task whose signature changed since it was enqueued).
    pub fn decode_args<T: DeserializeOwned>(args: Value) -> Result<T, TaskError> {
        serde_json::from_value(args).map_err(|err| {
            TaskError::new(
                "djrs_tasks::InvalidTask",
                format!("the stored arguments do not match the task's signature: {err}"),
            )
        })
    }

    /// Runs a synchronous task on the blocking pool.
    ///
    /// # Errors
    /// The task's error, or a panic turned into a task error.
    pub async fn run_blocking<F>(f: F) -> Result<Value, TaskError>
    where
        F: FnOnce() -> Result<Value, TaskError> + Send + 'static,
    {
        crate::runner::mark_blocking();
        match tokio::task::spawn_blocking(f).await {
            Ok(outcome) => outcome,
            Err(join) => Err(crate::runner::join_error(join)),
        }
    }
}

/// Shared handle to registered state, keyed by type.
pub(crate) type StateMap =
    Arc<std::collections::HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>>;
