//! Running one attempt of a task: find it by name, give it its context, catch its panics.

use chrono::Utc;

use crate::task::find_registration;
use crate::{TaskContext, TaskError, TaskResult, Tasks};

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
/// panics: a task that panics is an error; an unknown task name is an error.
pub(crate) async fn run_attempt(
    tasks: &Tasks,
    running: &TaskResult,
) -> Result<serde_json::Value, TaskError> {
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
    let future =
        tracing::Instrument::instrument((registration.run)(ctx, running.args.clone()), span);
    // The attempt runs in its own tokio task so a panic is caught; the guard aborts it when
    // this future is dropped (a worker shutting down past its grace period).
    let mut handle = AbortOnDrop(tokio::spawn(future));
    let outcome = match (&mut handle.0).await {
        Ok(outcome) => outcome,
        Err(join) => Err(panic_error(join)),
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
