//! Small helpers the backends share.

use std::future::Future;

use tokio::sync::Notify;

use crate::task::BoxFuture;
use crate::{Error, Result, TaskResult};

/// The one result of a one-task batch.
pub(crate) fn single(results: Result<Vec<TaskResult>>) -> Result<TaskResult> {
    results?
        .pop()
        .ok_or_else(|| Error::InvalidTask("the backend returned no result".into()))
}

/// A worker's wake-up: registered with `notify` now, not when first polled, so a notification
/// that arrives while the worker is still claiming is not missed; `listening` (which starts the
/// store's listener if it is not running) is awaited first.
pub(crate) fn wake_up<'a>(
    notify: &'a Notify,
    listening: impl Future<Output = ()> + Send + 'a,
) -> BoxFuture<'a, ()> {
    let notified = notify.notified();
    Box::pin(async move {
        listening.await;
        notified.await;
    })
}
