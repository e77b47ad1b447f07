//! `TaskResult`, its status and its errors: what a backend records about one enqueued task.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Error, Result, Tasks};

/// Where a task is in its life (Django's `TaskResultStatus`).
///
/// ```
/// use djrs_tasks::TaskResultStatus;
///
/// assert_eq!(TaskResultStatus::Successful.as_str(), "SUCCESSFUL");
/// assert_eq!("READY".parse::<TaskResultStatus>().unwrap(), TaskResultStatus::Ready);
/// assert!(TaskResultStatus::Failed.is_finished());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TaskResultStatus {
    /// Waiting to run (possibly not before `run_after`, possibly for a retry).
    Ready,
    /// A worker is running it.
    Running,
    /// It failed and will not run again.
    Failed,
    /// It ran to completion.
    Successful,
}

impl TaskResultStatus {
    /// Every status, in life order.
    pub const ALL: [TaskResultStatus; 4] = [
        TaskResultStatus::Ready,
        TaskResultStatus::Running,
        TaskResultStatus::Failed,
        TaskResultStatus::Successful,
    ];

    /// Django's value: `READY`, `RUNNING`, `FAILED`, `SUCCESSFUL`.
    ///
    /// ```
    /// use djrs_tasks::TaskResultStatus;
    ///
    /// let names: Vec<&str> = TaskResultStatus::ALL.iter().map(|s| s.as_str()).collect();
    /// assert_eq!(names, ["READY", "RUNNING", "FAILED", "SUCCESSFUL"]);
    /// assert_eq!(TaskResultStatus::Running.to_string(), "RUNNING");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TaskResultStatus::Ready => "READY",
            TaskResultStatus::Running => "RUNNING",
            TaskResultStatus::Failed => "FAILED",
            TaskResultStatus::Successful => "SUCCESSFUL",
        }
    }

    /// True for `FAILED` and `SUCCESSFUL`.
    ///
    /// ```
    /// use djrs_tasks::TaskResultStatus;
    ///
    /// assert!(TaskResultStatus::Successful.is_finished());
    /// assert!(TaskResultStatus::Failed.is_finished());
    /// assert!(!TaskResultStatus::Ready.is_finished());
    /// assert!(!TaskResultStatus::Running.is_finished());
    /// ```
    #[must_use]
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TaskResultStatus::Failed | TaskResultStatus::Successful
        )
    }
}

impl std::fmt::Display for TaskResultStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TaskResultStatus {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        TaskResultStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| Error::InvalidTask(format!("unknown task status {s:?}")))
    }
}

/// One failed attempt (Django's `TaskError`).
///
/// ```
/// use djrs_tasks::TaskError;
///
/// let err = TaskError::new("std::io::Error", "disk full");
/// assert_eq!(err.exception_class_path, "std::io::Error");
/// assert_eq!(err.message, "disk full");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskError {
    /// The error's type name (Django's `exception_class_path`), e.g. `anyhow::Error`, or
    /// `panic` for a task that panicked.
    pub exception_class_path: String,
    /// The error's message (`Display`).
    pub message: String,
    /// The error with its chain of sources (`Debug`), Django's `traceback`.
    pub traceback: String,
    /// What the worker does next: retry as usual, or what the task asked for with a
    /// [`Flow`](crate::Flow). Not stored.
    #[serde(skip)]
    pub(crate) next: Next,
}

/// What a worker does after a failed attempt, as the task asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Next {
    /// Retry while attempts remain (with the worker's backoff).
    #[default]
    Retry,
    /// Run again after the delay; the attempt does not count.
    Snooze(std::time::Duration),
    /// Fail now, whatever attempts remain.
    Discard,
}

impl TaskError {
    /// An error with a type name and a message; the traceback repeats the message.
    ///
    /// ```
    /// use djrs_tasks::TaskError;
    ///
    /// let err = TaskError::new("myapp::PaymentDeclined", "card expired");
    /// assert_eq!(err.message, "card expired");
    /// assert_eq!(err.traceback, "card expired");
    /// assert_eq!(err.to_string(), "myapp::PaymentDeclined: card expired");
    /// ```
    #[must_use]
    pub fn new(exception_class_path: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        TaskError {
            exception_class_path: exception_class_path.into(),
            traceback: message.clone(),
            message,
            next: Next::Retry,
        }
    }

    /// An error from any Rust error value: its type name, `Display` and `Debug`.
    ///
    /// ```
    /// use djrs_tasks::TaskError;
    ///
    /// let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
    /// let err = TaskError::from_error(&io);
    /// assert_eq!(err.exception_class_path, "std::io::error::Error");
    /// assert_eq!(err.message, "no such file");
    /// assert!(err.traceback.contains("NotFound"));
    /// ```
    #[must_use]
    pub fn from_error<E: std::fmt::Display + std::fmt::Debug>(err: &E) -> Self {
        TaskError {
            exception_class_path: std::any::type_name::<E>().to_owned(),
            message: err.to_string(),
            traceback: format!("{err:?}"),
            next: Next::Retry,
        }
    }

    /// The error as stored: the traceback trimmed to the task's own frames (a backtrace's
    /// frames in the runtime, the standard library and djrs are dropped) and capped at
    /// [`TRACEBACK_LIMIT`](Self::TRACEBACK_LIMIT) bytes, and the message capped likewise, each
    /// cut marked. Workers store every error this way, so one failing task cannot bloat the
    /// table or the console.
    ///
    /// ```
    /// use djrs_tasks::TaskError;
    ///
    /// let huge = TaskError::new("E", "x".repeat(100_000)).bounded();
    /// assert!(huge.traceback.len() <= TaskError::TRACEBACK_LIMIT + 64);
    /// assert!(huge.traceback.ends_with("[… 91808 more bytes cut]"));
    /// ```
    #[must_use]
    pub fn bounded(mut self) -> Self {
        self.traceback = cap(&trim_backtrace(&self.traceback), Self::TRACEBACK_LIMIT);
        self.message = cap(&self.message, Self::TRACEBACK_LIMIT);
        self.exception_class_path = cap(&self.exception_class_path, 512);
        self
    }

    /// The most bytes of a traceback (and of a message) stored per failed attempt.
    pub const TRACEBACK_LIMIT: usize = 8 * 1024;

    /// Sets the traceback.
    ///
    /// ```
    /// use djrs_tasks::TaskError;
    ///
    /// let err = TaskError::new("E", "failed").with_traceback("E: failed\n  at export (jobs.rs:12)");
    /// assert_eq!(err.message, "failed");
    /// assert!(err.traceback.ends_with("(jobs.rs:12)"));
    /// ```
    #[must_use]
    pub fn with_traceback(mut self, traceback: impl Into<String>) -> Self {
        self.traceback = traceback.into();
        self
    }
}

/// `text` cut to at most `limit` bytes (at a character boundary), the cut marked.
fn cap(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}[… {} more bytes cut]", &text[..end], text.len() - end)
}

/// Drops the frames of a backtrace (`anyhow`'s "Stack backtrace:" or std's) that belong to the
/// runtime, the standard library or djrs, keeping the task's own; text that is not a backtrace
/// is kept as it is.
fn trim_backtrace(text: &str) -> String {
    const FOREIGN: [&str; 9] = [
        "std::",
        "core::",
        "alloc::",
        "tokio::",
        "futures_util::",
        "futures_core::",
        "anyhow::",
        "djrs_tasks::",
        "<unknown>",
    ];
    let mut out = String::with_capacity(text.len());
    let mut skipping = false;
    let mut dropped = 0usize;
    for line in text.lines() {
        let trimmed = line.trim_start();
        // A frame: "  12: path::to::fn"; its location follows on an "at …" line.
        let frame = trimmed
            .split_once(": ")
            .filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .map(|(_, name)| name);
        if let Some(name) = frame {
            let name = name.trim_start_matches('<');
            skipping = FOREIGN.iter().any(|p| name.starts_with(p));
            if skipping {
                dropped += 1;
                continue;
            }
        } else if skipping && trimmed.starts_with("at ") {
            continue;
        } else {
            skipping = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    if dropped == 0 {
        return text.to_owned();
    }
    out.push_str(&format!(
        "[{dropped} frames of the runtime, std and djrs left out]"
    ));
    out
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.exception_class_path, self.message)
    }
}

/// What a backend knows about one enqueued task (Django's `TaskResult`).
///
/// ```
/// use djrs_tasks::{task, Tasks, TaskResultStatus};
///
/// #[task]
/// async fn add(a: i64, b: i64) -> i64 { a + b }
///
/// # tokio_test::block_on(async {
/// let tasks = Tasks::default(); // ImmediateBackend: runs at enqueue time
/// let result = add.enqueue(&tasks, 2, 3).await?;
/// assert_eq!(result.status, TaskResultStatus::Successful);
/// assert_eq!(result.return_value::<i64>()?, 5);
/// assert_eq!(result.attempts(), 1);
/// assert_eq!(result.args, serde_json::json!([2, 3]));
/// # Ok::<(), djrs_tasks::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskResult {
    /// The result's id (a UUIDv7 string).
    pub id: crate::TaskId,
    /// The task's stable name: module path and function name.
    pub task_name: String,
    /// Where the task is in its life.
    pub status: TaskResultStatus,
    /// When it was enqueued.
    pub enqueued_at: DateTime<Utc>,
    /// When a worker first started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished (succeeded or failed for good).
    pub finished_at: Option<DateTime<Utc>>,
    /// When its latest attempt started.
    pub last_attempted_at: Option<DateTime<Utc>>,
    /// Not before this time (deferred tasks, and retries after a backoff).
    pub run_after: Option<DateTime<Utc>>,
    /// The arguments, as the JSON array they travel as.
    pub args: serde_json::Value,
    /// The backend alias.
    pub backend: String,
    /// The queue.
    pub queue_name: String,
    /// The priority, −100..=100, higher first.
    pub priority: i32,
    /// One entry per failed attempt.
    pub errors: Vec<TaskError>,
    /// The workers of each attempt, in order; its length is the number of attempts.
    pub worker_ids: Vec<crate::WorkerId>,
    /// How many attempts the task gets before it is `FAILED` for good.
    pub max_attempts: u32,
    /// The return value as JSON, once the task succeeded.
    pub return_value: Option<serde_json::Value>,
    /// How long one attempt may run.
    pub timeout: Option<std::time::Duration>,
    /// The uniqueness key, if the task has one.
    pub unique_key: Option<String>,
    /// What the task recorded of itself while it ran (Django 6.1's `TaskResult.metadata`):
    /// progress, counts, a checkpoint; see [`TaskContext::set_metadata`](crate::TaskContext::set_metadata).
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

impl TaskResult {
    /// Records a success at `now`: status `SUCCESSFUL`, the return value, `finished_at`.
    ///
    /// ```
    /// use djrs_tasks::{TaskResult, TaskResultStatus};
    /// # let mut result: TaskResult = serde_json::from_value(serde_json::json!({
    /// #   "id": "t", "task_name": "n", "status": "RUNNING", "enqueued_at": "2026-01-01T00:00:00Z",
    /// #   "started_at": null, "finished_at": null, "last_attempted_at": null, "run_after": null,
    /// #   "args": [], "backend": "default", "queue_name": "default", "priority": 0, "errors": [],
    /// #   "worker_ids": ["w"], "max_attempts": 1, "return_value": null, "timeout": null,
    /// #   "unique_key": null})).unwrap();
    /// result.mark_successful(serde_json::json!(7), chrono::Utc::now());
    /// assert_eq!(result.status, TaskResultStatus::Successful);
    /// assert_eq!(result.return_value::<i32>()?, 7);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    pub fn mark_successful(&mut self, value: serde_json::Value, now: DateTime<Utc>) {
        self.status = TaskResultStatus::Successful;
        self.return_value = Some(value);
        self.finished_at = Some(now);
    }

    /// Records a failure for good at `now`: status `FAILED`, the error appended, `finished_at`.
    ///
    /// ```
    /// use djrs_tasks::{TaskError, TaskResult, TaskResultStatus};
    /// # let mut result: TaskResult = serde_json::from_value(serde_json::json!({
    /// #   "id": "t", "task_name": "n", "status": "RUNNING", "enqueued_at": "2026-01-01T00:00:00Z",
    /// #   "started_at": null, "finished_at": null, "last_attempted_at": null, "run_after": null,
    /// #   "args": [], "backend": "default", "queue_name": "default", "priority": 0, "errors": [],
    /// #   "worker_ids": ["w"], "max_attempts": 1, "return_value": null, "timeout": null,
    /// #   "unique_key": null})).unwrap();
    /// result.mark_failed(TaskError::new("E", "no"), chrono::Utc::now());
    /// assert_eq!(result.status, TaskResultStatus::Failed);
    /// assert_eq!(result.errors.len(), 1);
    /// ```
    pub fn mark_failed(&mut self, error: TaskError, now: DateTime<Utc>) {
        self.status = TaskResultStatus::Failed;
        self.errors.push(error);
        self.finished_at = Some(now);
    }

    /// The number of attempts so far (Django: `len(worker_ids)`).
    ///
    /// ```
    /// use djrs_tasks::{task, Tasks};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// let result = ping.enqueue(&Tasks::default()).await?; // run once, at enqueue time
    /// assert_eq!(result.attempts(), 1);
    /// assert_eq!(result.attempts() as usize, result.worker_ids.len());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.worker_ids.len() as u32
    }

    /// True once the task succeeded or failed for good.
    ///
    /// ```
    /// use djrs_tasks::{task, DummyBackend, Tasks};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// # tokio_test::block_on(async {
    /// assert!(ping.enqueue(&Tasks::default()).await?.is_finished()); // ran at enqueue time
    /// let stored = Tasks::builder().backend("default", DummyBackend::new()).build()?;
    /// assert!(!ping.enqueue(&stored).await?.is_finished()); // stored, never run
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.status.is_finished()
    }

    /// The return value decoded as `T`.
    ///
    /// ```
    /// use djrs_tasks::{task, DummyBackend, Error, Tasks};
    ///
    /// #[task]
    /// async fn add(a: i64, b: i64) -> i64 { a + b }
    /// #[task]
    /// async fn fail() -> Result<i64, String> { Err("no".into()) }
    ///
    /// # tokio_test::block_on(async {
    /// let tasks = Tasks::default();
    /// assert_eq!(add.enqueue(&tasks, 2, 3).await?.return_value::<i64>()?, 5);
    ///
    /// let failed = fail.enqueue(&tasks).await?;
    /// let err = failed.return_value::<i64>().unwrap_err();
    /// assert_eq!(err.to_string(), "Task failed");
    ///
    /// let pending = add.enqueue(&Tasks::builder().backend("default", DummyBackend::new()).build()?, 1, 1).await?;
    /// assert!(matches!(pending.return_value::<i64>(), Err(Error::NoReturnValue("Task has not finished yet"))));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// Django's messages: `Task failed`, `Task has not finished yet`; or a decoding error.
    pub fn return_value<T: DeserializeOwned>(&self) -> Result<T> {
        match self.status {
            TaskResultStatus::Successful => {
                serde_json::from_value(self.return_value.clone().unwrap_or_default())
                    .map_err(Error::Decode)
            }
            TaskResultStatus::Failed => Err(Error::NoReturnValue("Task failed")),
            TaskResultStatus::Ready | TaskResultStatus::Running => {
                Err(Error::NoReturnValue("Task has not finished yet"))
            }
        }
    }

    /// Re-reads this result from its backend, in place (Django's `refresh()`).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{task, SqliteBackend, Tasks, TaskResultStatus, Worker};
    ///
    /// #[task]
    /// async fn ping() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// let mut result = ping.enqueue(&tasks).await?;
    /// assert_eq!(result.status, TaskResultStatus::Ready);
    /// Worker::new(&tasks).run_until_idle().await?;
    /// result.refresh(&tasks).await?;
    /// assert_eq!(result.status, TaskResultStatus::Successful);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// When the backend cannot read results or no longer has this one.
    pub async fn refresh(&mut self, tasks: &Tasks) -> Result<()> {
        *self = tasks.get_result_from(&self.backend, &self.id).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backtraces_keep_the_tasks_own_frames() {
        let traceback = "Error: disk full\n\nStack backtrace:\n   0: anyhow::error::<impl anyhow::Error>::msg\n             at /cargo/anyhow/src/error.rs:83:36\n   1: my_app::jobs::export\n             at ./src/jobs.rs:12:9\n   2: <core::pin::Pin<P> as core::future::future::Future>::poll\n             at /rustc/library/core/src/future/future.rs:124:9\n   3: tokio::runtime::task::core::Core<T,S>::poll\n   4: djrs_tasks::runner::attempt\n   5: my_app::jobs::run\n   6: std::rt::lang_start\n";
        let trimmed = trim_backtrace(traceback);
        assert_eq!(
            trimmed,
            "Error: disk full\n\nStack backtrace:\n   1: my_app::jobs::export\n             at ./src/jobs.rs:12:9\n   5: my_app::jobs::run\n[5 frames of the runtime, std and djrs left out]"
        );
        // Text without frames is kept as it is, also lines that only look like frames.
        for text in [
            "plain: message\n  12 apples",
            ": std::looks_like_a_frame",
            "1x: std::no",
        ] {
            assert_eq!(trim_backtrace(text), text);
        }
    }

    fn running() -> TaskResult {
        serde_json::from_value(serde_json::json!({
            "id": "t", "task_name": "n", "status": "RUNNING", "enqueued_at": "2026-01-01T00:00:00Z",
            "started_at": null, "finished_at": null, "last_attempted_at": null, "run_after": null,
            "args": [], "backend": "default", "queue_name": "default", "priority": 0, "errors": [],
            "worker_ids": ["w1", "w2"], "max_attempts": 3, "return_value": null, "timeout": null,
            "unique_key": null
        }))
        .unwrap()
    }

    #[test]
    fn statuses_have_djangos_names_and_know_when_they_are_final() {
        let table = [
            (TaskResultStatus::Ready, "READY", false),
            (TaskResultStatus::Running, "RUNNING", false),
            (TaskResultStatus::Failed, "FAILED", true),
            (TaskResultStatus::Successful, "SUCCESSFUL", true),
        ];
        for (status, name, finished) in table {
            assert_eq!(status.as_str(), name);
            assert_eq!(status.to_string(), name);
            assert_eq!(name.parse::<TaskResultStatus>().unwrap(), status);
            assert_eq!(status.is_finished(), finished, "{name}");
        }
        assert!("ready".parse::<TaskResultStatus>().is_err());
        assert!("".parse::<TaskResultStatus>().is_err());
    }

    #[test]
    fn results_record_how_a_task_ends() {
        let now = Utc::now();
        let mut ok = running();
        assert_eq!(ok.attempts(), 2);
        assert!(!ok.is_finished());
        ok.mark_successful(serde_json::json!(7), now);
        assert_eq!(
            (ok.status, ok.return_value.clone(), ok.finished_at),
            (
                TaskResultStatus::Successful,
                Some(serde_json::json!(7)),
                Some(now)
            )
        );
        assert!(ok.is_finished());
        let mut failed = running();
        failed.mark_failed(TaskError::new("E", "bad"), now);
        assert_eq!(
            (failed.status, failed.errors.len(), failed.finished_at),
            (TaskResultStatus::Failed, 1, Some(now))
        );
        assert!(failed.is_finished());
        assert_eq!(failed.errors[0].to_string(), "E: bad");
    }

    #[test]
    fn caps_cut_at_a_character_boundary_and_say_so() {
        assert_eq!(TaskError::TRACEBACK_LIMIT, 8192);
        assert_eq!(cap("short", 5), "short");
        assert_eq!(cap("abcdef", 5), "abcde[… 1 more bytes cut]");
        // "é" is two bytes: a cut inside it moves back to the boundary.
        assert_eq!(cap("aaaaé", 5), "aaaa[… 2 more bytes cut]");
        let error = TaskError::new("x".repeat(600), "m").bounded();
        assert!(error.exception_class_path.starts_with(&"x".repeat(512)));
        assert!(
            error
                .exception_class_path
                .ends_with("[… 88 more bytes cut]")
        );
    }
}
