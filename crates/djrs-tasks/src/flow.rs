//! [`Flow`]: the error a task returns to decide what happens next, instead of a plain error
//! that is retried.

use std::time::Duration;

use crate::TaskError;
use crate::result::Next;

/// What a task returns as its error to say what happens next (Oban's `{:snooze, seconds}` and
/// `{:cancel, reason}`, River's `JobSnooze` and `JobCancel`, Celery's `retry(countdown=…)` and
/// `Reject`). Any error converts into [`Flow::Retry`] with `?`, so a task returning
/// `Result<T, Flow>` keeps the usual retries for what it does not decide itself.
///
/// ```
/// use std::time::Duration;
///
/// use djrs_tasks::{Flow, TaskResultStatus, Tasks, task};
///
/// #[task]
/// async fn charge(amount: i64) -> Result<i64, Flow> {
///     if amount <= 0 {
///         // No retry can fix bad input: fail now.
///         return Err(Flow::discard(format!("cannot charge {amount}")));
///     }
///     // An I/O error (any `std::error::Error`) is retried as usual.
///     let parsed: i64 = "12".parse()?;
///     Ok(amount + parsed)
/// }
///
/// # tokio_test::block_on(async {
/// let tasks = Tasks::default();
/// assert_eq!(charge.enqueue(&tasks, 30).await?.return_value::<i64>()?, 42);
/// let bad = charge.enqueue(&tasks, -5).await?;
/// assert_eq!(bad.status, TaskResultStatus::Failed);
/// assert_eq!(bad.errors[0].exception_class_path, "djrs_tasks::Discarded");
/// assert_eq!(bad.errors[0].message, "cannot charge -5");
/// # Ok::<(), djrs_tasks::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Flow {
    /// Run the task again after this delay. The attempt does not count against
    /// `max_attempts` and records no error: for a rate limit, or something not ready yet.
    Snooze(Duration),
    /// Fail now, whatever attempts remain, recording this reason (`djrs_tasks::Discarded`):
    /// for input no retry can fix.
    Discard(String),
    /// An error, retried while attempts remain (what `?` makes of any error).
    Retry(TaskError),
}

impl Flow {
    /// Run again after `delay`, without using an attempt.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::Flow;
    ///
    /// assert!(matches!(Flow::snooze(Duration::from_secs(30)), Flow::Snooze(d) if d.as_secs() == 30));
    /// ```
    #[must_use]
    pub fn snooze(delay: Duration) -> Self {
        Flow::Snooze(delay)
    }

    /// Fail now for good, recording `reason`.
    ///
    /// ```
    /// use djrs_tasks::Flow;
    ///
    /// assert!(matches!(Flow::discard("unknown customer 7"), Flow::Discard(r) if r == "unknown customer 7"));
    /// ```
    #[must_use]
    pub fn discard(reason: impl std::fmt::Display) -> Self {
        Flow::Discard(reason.to_string())
    }

    /// The task error the worker sees, carrying the decision.
    pub(crate) fn into_error(self) -> TaskError {
        match self {
            Flow::Snooze(delay) => {
                let mut error =
                    TaskError::new("djrs_tasks::Snoozed", format!("snoozed for {delay:?}"));
                error.next = Next::Snooze(delay);
                error
            }
            Flow::Discard(reason) => {
                let mut error = TaskError::new("djrs_tasks::Discarded", reason);
                error.next = Next::Discard;
                error
            }
            Flow::Retry(error) => error,
        }
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Flow {
    fn from(err: E) -> Self {
        Flow::Retry(TaskError::from_error(&err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_flow_becomes_an_error_carrying_its_decision() {
        let snoozed = Flow::snooze(Duration::from_millis(1500)).into_error();
        assert_eq!(
            (
                snoozed.exception_class_path.as_str(),
                snoozed.message.as_str()
            ),
            ("djrs_tasks::Snoozed", "snoozed for 1.5s")
        );
        assert_eq!(snoozed.next, Next::Snooze(Duration::from_millis(1500)));
        let discarded = Flow::discard(7).into_error();
        assert_eq!(
            (
                discarded.exception_class_path.as_str(),
                discarded.message.as_str()
            ),
            ("djrs_tasks::Discarded", "7")
        );
        assert_eq!(discarded.next, Next::Discard);
        let io: Flow = std::io::Error::other("disk full").into();
        let retried = io.into_error();
        assert_eq!(retried.exception_class_path, "std::io::error::Error");
        assert_eq!(retried.message, "disk full");
        assert_eq!(retried.next, Next::Retry);
    }
}
