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

#[cfg(test)]
mod tests {
    use super::*;

    fn clauses(filter: &ResultFilter) -> (String, Vec<String>) {
        let (sql, args) = list_clauses(filter, |n| format!("${n}"));
        let args = args
            .into_iter()
            .map(|arg| match arg {
                ListArg::Text(text) => format!("text {text}"),
                ListArg::Time(time) => format!("time {}", time.timestamp()),
            })
            .collect();
        (sql, args)
    }

    #[test]
    fn a_listing_carries_only_the_conditions_its_filter_sets() {
        let (sql, args) = clauses(&ResultFilter::default());
        assert_eq!(sql, " ORDER BY id DESC LIMIT 50");
        assert!(args.is_empty());

        let filter = ResultFilter {
            status: Some(TaskResultStatus::Failed),
            queue_name: Some("emails".into()),
            task_name: Some("app::send".into()),
            before: Some("0190".into()),
            enqueued_since: DateTime::from_timestamp(100, 0),
            enqueued_until: DateTime::from_timestamp(200, 0),
            limit: Some(7),
        };
        let (sql, args) = clauses(&filter);
        assert_eq!(
            sql,
            " WHERE status = 'FAILED' AND queue_name = $1 AND task_name = $2 AND id < $3 \
             AND enqueued_at >= $4 AND enqueued_at < $5 ORDER BY id DESC LIMIT 7"
        );
        assert_eq!(
            args,
            [
                "text emails",
                "text app::send",
                "text 0190",
                "time 100",
                "time 200"
            ]
        );

        // One condition: its placeholder is the first.
        let filter = ResultFilter {
            enqueued_until: DateTime::from_timestamp(5, 0),
            ..ResultFilter::default()
        };
        assert_eq!(
            clauses(&filter),
            (
                " WHERE enqueued_at < $1 ORDER BY id DESC LIMIT 50".to_owned(),
                vec!["time 5".to_owned()]
            )
        );
        // Limits are kept between 1 and 500.
        for (asked, used) in [(0, 1), (1, 1), (500, 500), (501, 500), (u32::MAX, 500)] {
            let filter = ResultFilter {
                limit: Some(asked),
                ..ResultFilter::default()
            };
            assert!(
                clauses(&filter).0.ends_with(&format!("LIMIT {used}")),
                "{asked}"
            );
        }
    }

    #[test]
    fn activity_is_per_queue_sorted_with_live_workers_sorted() {
        let rows = ActivityRows {
            finished: vec![
                ("emails".into(), "SUCCESSFUL".into(), 5),
                ("default".into(), "FAILED".into(), 2),
                ("emails".into(), "FAILED".into(), 1),
                ("default".into(), "SUCCESSFUL".into(), 3),
            ],
            oldest_due: vec![("reports".into(), 1_000_000), ("emails".into(), 2_500_000)],
            workers: vec![("w-2".into(), 9_000_000), ("w-1".into(), 8_000_000)],
        };
        let activity = activity_from(rows);
        let summary: Vec<(&str, u64, u64, Option<i64>)> = activity
            .queues
            .iter()
            .map(|q| {
                (
                    q.queue_name.as_str(),
                    q.succeeded,
                    q.failed,
                    q.oldest_due.map(|t| t.timestamp_micros()),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("default", 3, 2, None),
                ("emails", 5, 1, Some(2_500_000)),
                ("reports", 0, 0, Some(1_000_000)),
            ]
        );
        let workers: Vec<(&str, i64)> = activity
            .workers
            .iter()
            .map(|w| (w.worker_id.as_str(), w.until.timestamp_micros()))
            .collect();
        assert_eq!(workers, [("w-1", 8_000_000), ("w-2", 9_000_000)]);
    }
}
