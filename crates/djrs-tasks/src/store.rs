//! Small helpers the backends share.

use crate::{Error, Result, TaskResult};

/// The one result of a one-task batch.
pub(crate) fn single(results: Result<Vec<TaskResult>>) -> Result<TaskResult> {
    results?
        .pop()
        .ok_or_else(|| Error::InvalidTask("the backend returned no result".into()))
}
