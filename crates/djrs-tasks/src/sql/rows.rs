//! Rows as every dialect selects them, and the units the engine stores times and durations in.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::{Error, QueueLimit, Result, TaskId, TaskResult};

/// Microseconds since the epoch.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A time from microseconds since the epoch.
pub(crate) fn from_micros(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.and_then(|m| Utc.timestamp_micros(m).single())
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The columns every dialect selects (19), in this order, with these types: text, text, text, text,
/// integer (priority), text (status), text (args JSON), text or NULL (return value JSON), text
/// (errors JSON), text (worker ids JSON), integer (max attempts), then five times as integer
/// microseconds or NULL (enqueued, run after, started, finished, last attempted), integer or
/// NULL (timeout in ms), text or NULL (unique key), text or NULL (metadata JSON object).
/// Decodes a row of those columns into a result.
pub(crate) fn decode<R>(row: &R) -> Result<TaskResult>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let json = |text: String| -> Result<serde_json::Value> {
        serde_json::from_str(&text).map_err(Error::Decode)
    };
    let status: String = row.try_get(5)?;
    let return_value: Option<String> = row.try_get(7)?;
    let errors: String = row.try_get(8)?;
    let worker_ids: String = row.try_get(9)?;
    Ok(TaskResult {
        id: TaskId::from(row.try_get::<String, _>(0)?),
        task_name: row.try_get(1)?,
        backend: row.try_get(2)?,
        queue_name: row.try_get(3)?,
        priority: i32::try_from(row.try_get::<i64, _>(4)?).unwrap_or_default(),
        status: status.parse()?,
        args: json(row.try_get(6)?)?,
        return_value: return_value.map(json).transpose()?,
        errors: serde_json::from_str(&errors).map_err(Error::Decode)?,
        worker_ids: serde_json::from_str(&worker_ids).map_err(Error::Decode)?,
        max_attempts: u32::try_from(row.try_get::<i64, _>(10)?).unwrap_or(1),
        enqueued_at: from_micros(Some(row.try_get(11)?)).unwrap_or_default(),
        run_after: from_micros(row.try_get(12)?),
        started_at: from_micros(row.try_get(13)?),
        finished_at: from_micros(row.try_get(14)?),
        last_attempted_at: from_micros(row.try_get(15)?),
        timeout: row
            .try_get::<Option<i64>, _>(16)?
            .map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0))),
        unique_key: row.try_get(17)?,
        metadata: match row.try_get::<Option<String>, _>(18)? {
            Some(text) => serde_json::from_str(&text).map_err(Error::Decode)?,
            None => serde_json::Map::new(),
        },
    })
}

/// Decodes `(queue, status, count)` rows.
pub(crate) fn decode_counts<R>(rows: &[R]) -> Result<Vec<(String, String, i64)>>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .collect()
}

/// Decodes `(name, microseconds)` rows; a row whose time is NULL is left out.
pub(crate) fn decode_timed<R>(rows: &[R]) -> Result<Vec<(String, i64)>>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(micros) = row.try_get::<Option<i64>, _>(1)? {
            found.push((row.try_get(0)?, micros));
        }
    }
    Ok(found)
}

/// Paused queues and run-time limits from rows of (queue, `'paused'` or `'limit'`, limit).
pub(crate) fn decode_queue_states<R>(rows: &[R]) -> Result<QueueStates>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i32: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut states = QueueStates::default();
    for row in rows {
        let queue: String = row.try_get(0)?;
        let kind: String = row.try_get(1)?;
        if kind == "paused" {
            states.paused.push(queue);
        } else {
            let limit: Option<i32> = row.try_get(2)?;
            let limit = match limit {
                Some(n) => QueueLimit::AtMost(u32::try_from(n).unwrap_or(0)),
                None => QueueLimit::Unlimited,
            };
            states.limits.insert(queue, limit);
        }
    }
    states.paused.sort();
    Ok(states)
}

/// What the store says of its queues, read before each claim.
#[derive(Debug, Default)]
#[doc(hidden)]
// Named in the sealed `Dialect`'s hidden methods; not reachable from outside the crate.
#[allow(unreachable_pub)]
pub struct QueueStates {
    /// Paused queues, sorted.
    pub(crate) paused: Vec<String>,
    /// Limits set at run time, overriding the configured ones.
    pub(crate) limits: std::collections::BTreeMap<String, QueueLimit>,
}

/// Placeholders `?, ?, …` for `n` values.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}
