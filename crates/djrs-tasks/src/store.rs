//! Small helpers the backends share.

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
#[cfg(any(
    feature = "sqlite",
    feature = "postgres",
    feature = "mysql",
    feature = "redis"
))]
pub(crate) fn wake_up<'a>(
    notify: &'a tokio::sync::Notify,
    listening: impl std::future::Future<Output = ()> + Send + 'a,
) -> crate::task::BoxFuture<'a, ()> {
    let notified = notify.notified();
    Box::pin(async move {
        listening.await;
        notified.await;
    })
}
