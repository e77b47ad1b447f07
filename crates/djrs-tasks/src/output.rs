//! [`TaskOutput`]: what a task function may return, turned into the JSON its result records or
//! the error its attempt records.

use serde::Serialize;

use crate::TaskError;

/// What a task function may return: a `Result` whose `Ok` serializes to JSON (its error is
/// recorded in [`TaskResult::errors`](crate::TaskResult::errors) and retried), or a plain JSON-serializable value.
///
/// Implemented for `Result<T, E>` (any `E: Display + Debug`, `anyhow::Error` included), for
/// `Result<T, Flow>` (a task deciding to snooze or to fail for good, see [`Flow`](crate::Flow)) and for
/// `()`, `bool`, numbers, `String`, `Option`, `Vec`, maps and `serde_json::Value`.
pub trait TaskOutput: Send {
    /// The outcome as JSON or a task error.
    ///
    /// # Errors
    /// The task's own error, or a value that is not JSON.
    fn into_task_output(self) -> std::result::Result<serde_json::Value, TaskError>;
}

fn to_json<T: Serialize>(value: &T) -> std::result::Result<serde_json::Value, TaskError> {
    serde_json::to_value(value).map_err(|err| {
        TaskError::new(
            "djrs_tasks::InvalidTask",
            format!("the return value is not JSON-serializable: {err}"),
        )
    })
}

impl<T: Serialize + Send, E: std::fmt::Display + std::fmt::Debug + Send> TaskOutput
    for std::result::Result<T, E>
{
    fn into_task_output(self) -> std::result::Result<serde_json::Value, TaskError> {
        match self {
            Ok(value) => to_json(&value),
            Err(err) => Err(TaskError::from_error(&err)),
        }
    }
}

impl<T: Serialize + Send> TaskOutput for std::result::Result<T, crate::Flow> {
    fn into_task_output(self) -> std::result::Result<serde_json::Value, TaskError> {
        match self {
            Ok(value) => to_json(&value),
            Err(flow) => Err(flow.into_error()),
        }
    }
}

macro_rules! plain_output {
    ($($t:ty),*) => {$(
        impl TaskOutput for $t {
            fn into_task_output(self) -> std::result::Result<serde_json::Value, TaskError> {
                to_json(&self)
            }
        }
    )*};
}
plain_output!(
    (),
    bool,
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    usize,
    isize,
    f32,
    f64,
    String,
    serde_json::Value
);

impl<T: Serialize + Send> TaskOutput for Option<T> {
    fn into_task_output(self) -> std::result::Result<serde_json::Value, TaskError> {
        to_json(&self)
    }
}

impl<T: Serialize + Send> TaskOutput for Vec<T> {
    fn into_task_output(self) -> std::result::Result<serde_json::Value, TaskError> {
        to_json(&self)
    }
}

impl<K: Serialize + Send, V: Serialize + Send> TaskOutput for std::collections::BTreeMap<K, V> {
    fn into_task_output(self) -> std::result::Result<serde_json::Value, TaskError> {
        to_json(&self)
    }
}

impl<K: Serialize + Send, V: Serialize + Send, S: Send> TaskOutput
    for std::collections::HashMap<K, V, S>
{
    fn into_task_output(self) -> std::result::Result<serde_json::Value, TaskError> {
        to_json(&self)
    }
}
