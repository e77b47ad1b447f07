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

#[cfg(any(
    feature = "sqlite",
    feature = "postgres",
    feature = "mysql",
    feature = "redis"
))]
/// The limits in effect: the configured ones, changed by those set at run time.
pub(crate) fn effective_limits(
    configured: &std::collections::BTreeMap<String, u32>,
    set: &std::collections::BTreeMap<String, crate::QueueLimit>,
) -> std::collections::BTreeMap<String, u32> {
    let mut limits = configured.clone();
    for (queue, limit) in set {
        match limit {
            crate::QueueLimit::Configured => {}
            crate::QueueLimit::Unlimited => {
                limits.remove(queue);
            }
            crate::QueueLimit::AtMost(n) => {
                limits.insert(queue.clone(), *n);
            }
        }
    }
    limits
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::QueueLimit;

    #[test]
    #[cfg(any(
        feature = "sqlite",
        feature = "postgres",
        feature = "mysql",
        feature = "redis"
    ))]
    fn limits_set_at_run_time_change_the_configured_ones() {
        let configured: BTreeMap<String, u32> = [("a".to_owned(), 2), ("b".to_owned(), 3)]
            .into_iter()
            .collect();
        // (what was set at run time, the limits in effect)
        type Row = (
            &'static [(&'static str, QueueLimit)],
            &'static [(&'static str, u32)],
        );
        let table: [Row; 5] = [
            (&[], &[("a", 2), ("b", 3)]),
            (&[("a", QueueLimit::Configured)], &[("a", 2), ("b", 3)]),
            (&[("a", QueueLimit::Unlimited)], &[("b", 3)]),
            (
                &[("a", QueueLimit::AtMost(0)), ("c", QueueLimit::AtMost(7))],
                &[("a", 0), ("b", 3), ("c", 7)],
            ),
            (
                &[("c", QueueLimit::Unlimited), ("b", QueueLimit::AtMost(9))],
                &[("a", 2), ("b", 9)],
            ),
        ];
        for (set, expected) in table {
            let set: BTreeMap<String, QueueLimit> =
                set.iter().map(|(q, l)| ((*q).to_owned(), *l)).collect();
            let expected: BTreeMap<String, u32> = expected
                .iter()
                .map(|(q, n)| ((*q).to_owned(), *n))
                .collect();
            assert_eq!(
                super::effective_limits(&configured, &set),
                expected,
                "{set:?}"
            );
        }
    }
}
