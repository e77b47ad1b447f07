//! Running one attempt of a task: find it by name, give it its context, bound its run time,
//! catch its panics, and keep what it records storable.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;

use crate::task::find_registration;
use crate::{TaskContext, TaskError, TaskResult, Tasks};

tokio::task_local! {
    /// Set by `run_blocking` when the attempt hands its work to a blocking thread, which no
    /// timeout can stop.
    static BLOCKING: Arc<AtomicBool>;
}

/// Marks the current attempt as running a blocking call (see [`run_attempt`]).
pub(crate) fn mark_blocking() {
    let _ = BLOCKING.try_with(|flag| flag.store(true, Ordering::SeqCst));
}

/// A panic as a task error, with the panic message.
pub(crate) fn panic_error(join: tokio::task::JoinError) -> TaskError {
    if join.is_cancelled() {
        return TaskError::new("djrs_tasks::Cancelled", "the attempt was cancelled");
    }
    let payload = join.into_panic();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_owned());
    TaskError::new("panic", message)
}

/// Runs one attempt of a `RUNNING` task and returns its JSON value or its error. Never
/// panics: a task that panics is an error; an unknown task name is an error; a return value a
/// database cannot store is an error; errors are bounded in size.
///
/// An attempt past the task's timeout is stopped at its next await. A synchronous task
/// (running on the blocking pool) cannot be stopped: the attempt then waits for the blocking
/// call to return before it reports the timeout, so the task's lease is held, and its retry
/// never overlaps it.
pub(crate) async fn run_attempt(
    tasks: &Tasks,
    running: &TaskResult,
) -> Result<serde_json::Value, TaskError> {
    let outcome = attempt(tasks, running).await;
    match outcome {
        Ok(value) => match crate::tasks::check_storable(&value, "return value") {
            Ok(()) => Ok(value),
            Err(err) => Err(TaskError::new("djrs_tasks::InvalidTask", err.to_string()).bounded()),
        },
        Err(error) => Err(error.bounded()),
    }
}

async fn attempt(tasks: &Tasks, running: &TaskResult) -> Result<serde_json::Value, TaskError> {
    let Some(registration) = find_registration(&running.task_name) else {
        return Err(TaskError::new(
            "djrs_tasks::TaskDoesNotExist",
            format!(
                "no task named {:?} is registered in this program (was it renamed or removed?)",
                running.task_name
            ),
        ));
    };
    tasks.hooks().started(running);
    let started = Utc::now();
    let span = tracing::info_span!("task", id = %running.id, name = %running.task_name, attempt = running.attempts());
    tracing::debug!(target: "djrs_tasks", id = %running.id, name = %running.task_name, attempt = running.attempts(), "task started");
    let ctx = TaskContext::new(running.clone(), tasks.clone());
    let blocking = Arc::new(AtomicBool::new(false));
    let future = BLOCKING.scope(
        Arc::clone(&blocking),
        tracing::Instrument::instrument((registration.run)(ctx, running.args.clone()), span),
    );
    // The attempt runs in its own tokio task so a panic is caught; the guard aborts it when
    // this future is dropped (a worker shutting down past its grace period, a lost lease).
    let mut handle = AbortOnDrop(tokio::spawn(future));
    let deadline = async {
        match running.timeout {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        joined = &mut handle.0 => joined.unwrap_or_else(|join| Err(panic_error(join))),
        () = deadline => {
            let limit = running.timeout.unwrap_or_default();
            if blocking.load(Ordering::SeqCst) {
                tracing::warn!(target: "djrs_tasks", id = %running.id, name = %running.task_name, ?limit, "a blocking task ran past its timeout; waiting for it to return before it is retried");
                let _ = (&mut handle.0).await;
                Err(TaskError::new(
                    "djrs_tasks::Timeout",
                    format!("the attempt ran longer than its timeout of {limit:?}; it was a blocking call, so it ran to its end before the task was retried"),
                ))
            } else {
                Err(TaskError::new(
                    "djrs_tasks::Timeout",
                    format!("the attempt ran longer than its timeout of {limit:?} and was stopped"),
                ))
            }
        }
    };
    let elapsed_ms = (Utc::now() - started).num_milliseconds();
    match &outcome {
        Ok(_) => {
            tracing::debug!(target: "djrs_tasks", id = %running.id, name = %running.task_name, elapsed_ms, "task succeeded")
        }
        Err(err) => {
            tracing::warn!(target: "djrs_tasks", id = %running.id, name = %running.task_name, elapsed_ms, error = %err, "task attempt failed")
        }
    }
    outcome
}

/// Aborts a spawned attempt when dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
