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

/// A new task's metadata as the JSON the stores write with it; `None` (SQL `NULL`, no Redis
/// field) when it is empty, as it is unless djrs recorded something under a reserved key.
pub(crate) fn metadata_json(
    metadata: &serde_json::Map<String, serde_json::Value>,
) -> crate::Result<Option<String>> {
    if metadata.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(metadata)
        .map(Some)
        .map_err(crate::Error::Decode)
}
