//! The crate's one error type.

/// Everything that can go wrong defining, enqueueing, running or reading tasks.
///
/// The first variants are Django's `django.tasks.exceptions`, with Django's messages.
///
/// ```
/// use djrs_tasks::{Error, Tasks};
///
/// let tasks = Tasks::default();
/// let err = tasks.backend("missing").unwrap_err();
/// assert!(matches!(err, Error::InvalidTaskBackend(_)));
/// assert_eq!(err.to_string(), "The connection 'missing' doesn't exist.");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The task or one of its options is not valid for its backend (Django's `InvalidTask`):
    /// priority out of range, a queue the backend does not have, `run_after` on a backend that
    /// cannot defer, arguments that do not round-trip through JSON.
    #[error("{0}")]
    InvalidTask(String),
    /// The backend alias is not configured, or its configuration is wrong (Django's
    /// `InvalidTaskBackend`).
    #[error("{0}")]
    InvalidTaskBackend(String),
    /// No result has this id (Django's `TaskResultDoesNotExist`).
    #[error("Task result {0:?} does not exist")]
    TaskResultDoesNotExist(String),
    /// A result was read through a task it does not belong to (Django's `TaskResultMismatch`).
    #[error("Task does not match (received {received:?}, expected {expected:?})")]
    TaskResultMismatch {
        /// The task name stored with the result.
        received: String,
        /// The task name asked for.
        expected: String,
    },
    /// The return value was read before the task succeeded (Django's `ValueError` from
    /// `TaskResult.return_value`): "Task failed" or "Task has not finished yet".
    #[error("{0}")]
    NoReturnValue(&'static str),
    /// A stored value (arguments, return value) could not be decoded into the requested type.
    #[error("could not decode the task's JSON into the requested type: {0}")]
    Decode(#[source] serde_json::Error),
    /// The backend does not offer this operation (e.g. `get_result` on `ImmediateBackend`, a
    /// worker on a backend that runs tasks at enqueue time).
    #[error("the {backend} backend does not support {operation}")]
    NotSupported {
        /// The backend's type.
        backend: &'static str,
        /// What was asked.
        operation: &'static str,
    },
    /// The worker no longer holds the task's lease: it stalled past it and another worker runs
    /// the task now, so what this attempt tried to write was refused.
    #[error("this worker no longer holds the lease of task {0}; another worker runs it now")]
    LeaseLost(crate::TaskId),
    /// The backend's storage failed (for SQL backends: the database). The source says why.
    #[error("task backend storage failed: {0}")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// Wraps a storage error, for backend implementors.
    ///
    /// ```
    /// use std::error::Error as _;
    ///
    /// use djrs_tasks::Error;
    ///
    /// let err = Error::storage(std::io::Error::other("disk full"));
    /// assert!(matches!(err, Error::Storage(_)));
    /// assert_eq!(err.to_string(), "task backend storage failed: disk full");
    /// assert_eq!(err.source().unwrap().to_string(), "disk full");
    /// ```
    pub fn storage(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Storage(Box::new(err))
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Error::storage(err)
    }
}

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
