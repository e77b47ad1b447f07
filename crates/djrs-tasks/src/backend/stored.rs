//! What the queueing backends write into a result's `errors`.

use crate::TaskError;

/// An error as the JSON stored in a result's `errors`.
pub(crate) fn error_json(error: &TaskError) -> String {
    serde_json::to_string(error).unwrap_or_else(|_| "{}".to_owned())
}

/// The error a rescued attempt records: its worker stopped renewing the lease.
pub(crate) fn worker_lost() -> TaskError {
    TaskError::new(
        "djrs_tasks::WorkerLost",
        "the worker running this attempt stopped renewing its lease (it crashed, was killed or stalled)",
    )
}

/// The error a task cancelled while `READY` records.
pub(crate) fn cancelled_before_it_ran() -> TaskError {
    TaskError::new(
        "djrs_tasks::Cancelled",
        "the task was cancelled before it ran",
    )
}
