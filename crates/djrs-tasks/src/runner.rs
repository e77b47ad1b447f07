//! Running one attempt of a task: find it by name, give it its context, bound its run time,
//! catch its panics, and keep what it records storable.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use futures_util::FutureExt as _;

use crate::context::Metadata;
use crate::task::{Cancel, find_registration};
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

/// A panic of a blocking task as a task error.
pub(crate) fn join_error(join: tokio::task::JoinError) -> TaskError {
    if join.is_cancelled() {
        return TaskError::new("djrs_tasks::Cancelled", "the attempt was cancelled");
    }
    panic_error(&*join.into_panic())
}

/// A panic as a task error, with the panic message.
pub(crate) fn panic_error(payload: &(dyn std::any::Any + Send)) -> TaskError {
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
    running: &Arc<TaskResult>,
    cancel: Cancel,
    metadata: Metadata,
) -> Result<serde_json::Value, TaskError> {
    let outcome = attempt(tasks, running, cancel, metadata).await;
    match outcome {
        Ok(value) => match crate::tasks::check_storable(&value, "return value") {
            Ok(()) => Ok(value),
            Err(err) => Err(TaskError::new("djrs_tasks::InvalidTask", err.to_string()).bounded()),
        },
        Err(error) => Err(error.bounded()),
    }
}

async fn attempt(
    tasks: &Tasks,
    running: &Arc<TaskResult>,
    cancel: Cancel,
    metadata: Metadata,
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
    #[cfg(feature = "otel")]
    crate::otel::continue_trace(&span, &running.metadata);
    tracing::debug!(target: "djrs_tasks", id = %running.id, name = %running.task_name, attempt = running.attempts(), "task started");
    let ctx = TaskContext::new(Arc::clone(running), tasks.clone(), cancel, metadata);
    let blocking = Arc::new(AtomicBool::new(false));
    // A panic in the task is caught where the attempt is polled; dropping this future (a
    // worker shutting down past its grace period, a lost lease) stops the attempt.
    let attempt = BLOCKING.scope(
        Arc::clone(&blocking),
        tracing::Instrument::instrument(
            std::panic::AssertUnwindSafe((registration.run)(ctx, running.args.clone()))
                .catch_unwind(),
            span,
        ),
    );
    let mut attempt = std::pin::pin!(attempt);
    let deadline = async {
        match running.timeout {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        caught = &mut attempt => caught.unwrap_or_else(|panic| Err(panic_error(&*panic))),
        () = deadline => {
            let limit = running.timeout.unwrap_or_default();
            if blocking.load(Ordering::SeqCst) {
                tracing::warn!(target: "djrs_tasks", id = %running.id, name = %running.task_name, ?limit, "a blocking task ran past its timeout; waiting for it to return before it is retried");
                let _ = (&mut attempt).await;
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
