//! What the SQL queues share: claim order, error encoding, and announcing enqueued tasks.

use crate::{Error, Result, TaskError, TaskResult, Tasks};

/// An error as the JSON stored in a result's `errors`.
pub(crate) fn error_json(error: &TaskError) -> String {
    serde_json::to_string(error).unwrap_or_else(|_| "{}".to_owned())
}

/// Claim order, as SQL returns the rows of `UPDATE … RETURNING` in no particular order:
/// priority DESC, then `run_after` ASC with undeferred tasks last (as Django's database
/// backend), then FIFO.
pub(crate) fn claim_order(a: &TaskResult, b: &TaskResult) -> std::cmp::Ordering {
    b.priority
        .cmp(&a.priority)
        .then_with(|| match (a.run_after, b.run_after) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        })
        .then_with(|| a.enqueued_at.cmp(&b.enqueued_at))
}

/// Fires `task_enqueued` for the tasks that were inserted (not for duplicates of a unique key,
/// which come back as the existing task) and returns the results.
pub(crate) fn announce(tasks: &Tasks, inserted: Vec<(TaskResult, bool)>) -> Vec<TaskResult> {
    inserted
        .into_iter()
        .map(|(result, new)| {
            if new {
                tasks.hooks().enqueued(&result);
            }
            result
        })
        .collect()
}

/// The one result of a one-task batch.
pub(crate) fn single(results: Result<Vec<TaskResult>>) -> Result<TaskResult> {
    results?
        .pop()
        .ok_or_else(|| Error::InvalidTask("the backend returned no result".into()))
}
