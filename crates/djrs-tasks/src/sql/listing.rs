//! What the console and operators read: a listing's clauses (keyset pages, newest first) and
//! the activity of the queues, as every dialect selects them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::from_micros;
use crate::backend::ResultFilter;
use crate::{TaskResultStatus, WorkerId};

/// A value the listing binds.
pub(crate) enum ListArg<'a> {
    Text(&'a str),
    Time(DateTime<Utc>),
}

/// The `WHERE … ORDER BY … LIMIT …` of a listing, newest (highest id) first, with only the
/// conditions the filter sets (so the database can use the index a status has), and the values
/// to bind; `mark(n)` writes the `n`th placeholder.
pub(crate) fn list_clauses<'a>(
    filter: &'a ResultFilter,
    mark: impl Fn(usize) -> String,
) -> (String, Vec<ListArg<'a>>) {
    let mut conditions = Vec::new();
    let mut args = Vec::new();
    if let Some(status) = filter.status {
        // One of four fixed words: written into the statement, so a partial index on the
        // status applies.
        conditions.push(format!("status = '{}'", status.as_str()));
    }
    let texts = [
        ("queue_name =", filter.queue_name.as_deref()),
        ("task_name =", filter.task_name.as_deref()),
        ("id <", filter.before.as_deref()),
    ];
    for (test, value) in texts {
        if let Some(value) = value {
            args.push(ListArg::Text(value));
            conditions.push(format!("{test} {}", mark(args.len())));
        }
    }
    let times = [
        ("enqueued_at >=", filter.enqueued_since),
        ("enqueued_at <", filter.enqueued_until),
    ];
    for (test, value) in times {
        if let Some(value) = value {
            args.push(ListArg::Time(value));
            conditions.push(format!("{test} {}", mark(args.len())));
        }
    }
    let mut clauses = String::new();
    if !conditions.is_empty() {
        clauses.push_str(" WHERE ");
        clauses.push_str(&conditions.join(" AND "));
    }
    let limit = filter.limit.unwrap_or(50).clamp(1, 500);
    clauses.push_str(&format!(" ORDER BY id DESC LIMIT {limit}"));
    (clauses, args)
}

/// What [`Queue::activity`] reads, as the dialect selects it.
#[doc(hidden)]
// Named in the sealed `Dialect`'s hidden methods; not reachable from outside the crate.
#[allow(unreachable_pub)]
#[derive(Debug, Default)]
pub struct ActivityRows {
    /// `(queue, status, count)` of tasks finished since the time asked.
    pub(crate) finished: Vec<(String, String, i64)>,
    /// `(queue, microseconds)`: since when its oldest due task waits.
    pub(crate) oldest_due: Vec<(String, i64)>,
    /// `(worker id, microseconds)`: alive until then.
    pub(crate) workers: Vec<(String, i64)>,
}

/// An [`Activity`](crate::Activity) from what the dialect read: queues sorted by name, workers by id.
pub(crate) fn activity_from(rows: ActivityRows) -> crate::Activity {
    let mut queues: BTreeMap<String, crate::QueueActivity> = BTreeMap::new();
    for (queue, status, count) in rows.finished {
        let activity = queues
            .entry(queue.clone())
            .or_insert_with(|| crate::QueueActivity::new(queue));
        let count = u64::try_from(count).unwrap_or(0);
        if status == TaskResultStatus::Successful.as_str() {
            activity.succeeded += count;
        } else {
            activity.failed += count;
        }
    }
    for (queue, micros) in rows.oldest_due {
        queues
            .entry(queue.clone())
            .or_insert_with(|| crate::QueueActivity::new(queue))
            .oldest_due = from_micros(Some(micros));
    }
    let mut workers: Vec<crate::WorkerSeen> = rows
        .workers
        .into_iter()
        .filter_map(|(id, micros)| {
            Some(crate::WorkerSeen::new(
                WorkerId::from(id),
                from_micros(Some(micros))?,
            ))
        })
        .collect();
    workers.sort_by(|a, b| a.worker_id.cmp(&b.worker_id));
    crate::Activity {
        queues: queues.into_values().collect(),
        workers,
    }
}
