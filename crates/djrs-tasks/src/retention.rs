//! [`Retention`]: how long finished results are kept, and the worker's pruner that deletes
//! the older ones (one worker at a time, by leadership).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;

use crate::leadership::Rounds;
use crate::{Backend, TaskResultStatus, WorkerId};

/// The leadership the pruners of all workers share: one prunes at a time.
const LEADERSHIP: &str = "djrs_tasks.pruner";

/// The lease a compaction takes for [`Retention::compact_every`] and never gives back, so the
/// next one, by any worker of any process, comes when it has expired.
const COMPACTION: &str = "djrs_tasks.compaction";

/// How long a worker's pruner keeps finished results (River's and Oban's job cleaners): a
/// `SUCCESSFUL` result for a day and a `FAILED` one for a week by default, checked every
/// minute by one worker at a time, deleting in bounded batches; and once a day that worker
/// gives the deleted rows' space back where the store keeps it
/// ([`Queue::compact`](crate::Queue::compact): PostgreSQL's bloat, as Oban's reindexer).
///
/// ```
/// use std::time::Duration;
///
/// use djrs_tasks::{Retention, Tasks, Worker};
///
/// let tasks = Tasks::default();
/// let keep = Retention::default()
///     .successful(Some(Duration::from_secs(3600)))
///     .failed(None); // failures are kept until deleted by hand
/// assert_eq!(keep.kept(djrs_tasks::TaskResultStatus::Failed), None);
/// let worker = Worker::new(&tasks).retention(keep);
/// # let _ = worker;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Retention {
    successful: Option<Duration>,
    failed: Option<Duration>,
    every: Duration,
    compact_every: Option<Duration>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            successful: Some(Duration::from_secs(86_400)),
            failed: Some(Duration::from_secs(7 * 86_400)),
            every: Duration::from_secs(60),
            compact_every: Some(Duration::from_secs(86_400)),
        }
    }
}

impl Retention {
    /// Keeps every result: no pruner runs, and nothing is compacted.
    ///
    /// ```
    /// use djrs_tasks::{Retention, TaskResultStatus};
    ///
    /// let forever = Retention::forever();
    /// assert_eq!(forever.kept(TaskResultStatus::Successful), None);
    /// assert_eq!(forever.kept(TaskResultStatus::Failed), None);
    /// ```
    pub fn forever() -> Self {
        Retention {
            successful: None,
            failed: None,
            compact_every: None,
            ..Retention::default()
        }
    }

    /// How long `SUCCESSFUL` results are kept after they finished (`None`: until deleted by
    /// hand).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{Retention, TaskResultStatus};
    ///
    /// let short = Retention::default().successful(Some(Duration::from_secs(600)));
    /// assert_eq!(short.kept(TaskResultStatus::Successful), Some(Duration::from_secs(600)));
    /// ```
    pub fn successful(mut self, keep: Option<Duration>) -> Self {
        self.successful = keep;
        self
    }

    /// How long `FAILED` results are kept after they finished (`None`: until deleted by hand).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{Retention, TaskResultStatus};
    ///
    /// let long = Retention::default().failed(Some(Duration::from_secs(30 * 86_400)));
    /// assert_eq!(long.kept(TaskResultStatus::Failed), Some(Duration::from_secs(30 * 86_400)));
    /// ```
    pub fn failed(mut self, keep: Option<Duration>) -> Self {
        self.failed = keep;
        self
    }

    /// How often the store is compacted ([`Queue::compact`](crate::Queue::compact)), by one
    /// worker of all, counted across restarts and processes (default a day; `None`: never, for
    /// an operator who runs `PostgresBackend::compact` from a
    /// schedule of their own). The pruner's leader looks each time it prunes.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::Retention;
    ///
    /// assert_eq!(Retention::default().compaction(), Some(Duration::from_secs(86_400)));
    /// let weekly = Retention::default().compact_every(Some(Duration::from_secs(7 * 86_400)));
    /// assert_eq!(weekly.compaction(), Some(Duration::from_secs(7 * 86_400)));
    /// assert_eq!(Retention::forever().compaction(), None);
    /// ```
    pub fn compact_every(mut self, interval: Option<Duration>) -> Self {
        self.compact_every = interval;
        self
    }

    /// How often the store is compacted; `None` for never.
    ///
    /// ```
    /// assert!(djrs_tasks::Retention::default().compaction().is_some());
    /// ```
    #[must_use]
    pub fn compaction(&self) -> Option<Duration> {
        self.compact_every
    }

    /// How often the pruner looks (default a minute; at least 10 ms).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let hourly = djrs_tasks::Retention::default().every(Duration::from_secs(3600));
    /// assert_eq!(hourly.interval(), Duration::from_secs(3600));
    /// assert_eq!(hourly.every(Duration::ZERO).interval(), Duration::from_millis(10));
    /// ```
    pub fn every(mut self, interval: Duration) -> Self {
        self.every = interval.max(Duration::from_millis(10));
        self
    }

    /// How long results of `status` are kept (`None` for unfinished statuses and for results
    /// kept until deleted by hand).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{Retention, TaskResultStatus};
    ///
    /// let default = Retention::default();
    /// assert_eq!(default.kept(TaskResultStatus::Successful), Some(Duration::from_secs(86_400)));
    /// assert_eq!(default.kept(TaskResultStatus::Failed), Some(Duration::from_secs(604_800)));
    /// assert_eq!(default.kept(TaskResultStatus::Ready), None);
    /// ```
    #[must_use]
    pub fn kept(&self, status: TaskResultStatus) -> Option<Duration> {
        match status {
            TaskResultStatus::Successful => self.successful,
            TaskResultStatus::Failed => self.failed,
            TaskResultStatus::Ready | TaskResultStatus::Running => None,
        }
    }

    /// How often the pruner looks.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// assert_eq!(djrs_tasks::Retention::default().interval(), Duration::from_secs(60));
    /// ```
    #[must_use]
    pub fn interval(&self) -> Duration {
        self.every
    }

    /// Whether anything is ever pruned.
    /// Whether workers run a pruner at all.
    pub(crate) fn prunes(&self) -> bool {
        self.successful.is_some() || self.failed.is_some() || self.compact_every.is_some()
    }

    /// Prunes on `backend` every interval while this worker leads the pruners, until `stop`
    /// is notified; then gives the leadership up.
    pub(crate) async fn run(self, backend: Arc<dyn Backend>, holder: WorkerId, stop: Arc<Notify>) {
        let Some(queue) = backend.queue() else { return };
        let leadership = (LEADERSHIP, holder.as_str(), "pruner");
        let mut rounds = Rounds::new(queue, leadership, self.every, &stop);
        while rounds.next().await {
            for status in [TaskResultStatus::Successful, TaskResultStatus::Failed] {
                let Some(keep) = self.kept(status) else {
                    continue;
                };
                let older_than = chrono::Duration::from_std(keep)
                    .ok()
                    .and_then(|keep| Utc::now().checked_sub_signed(keep))
                    .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
                match queue.prune_results(older_than, &[status]).await {
                    Ok(0) => {}
                    Ok(deleted) => {
                        tracing::info!(target: "djrs_tasks", deleted, %status, "pruned finished results");
                    }
                    Err(err) => {
                        tracing::warn!(target: "djrs_tasks", error = %err, %status, "pruning failed; retrying at the next interval");
                    }
                }
            }
            if let Some(every) = self.compact_every {
                compact_if_due(queue, &holder, every).await;
            }
        }
        rounds.end().await;
    }
}

/// Compacts the store if no worker did within `every`: the compaction lease is taken by a
/// holder of this attempt alone, so it is granted only once the last one's has expired.
async fn compact_if_due(queue: &dyn crate::Queue, holder: &WorkerId, every: Duration) {
    let attempt = format!("{holder}@{}", Utc::now().timestamp_micros());
    match queue.lead(COMPACTION, &attempt, every).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(err) => {
            tracing::warn!(target: "djrs_tasks", error = %err, "could not tell whether compaction is due; looking again at the next interval");
            return;
        }
    }
    let started = std::time::Instant::now();
    match queue.compact().await {
        Ok(true) => {
            tracing::info!(target: "djrs_tasks", elapsed_ms = started.elapsed().as_millis(), "compacted the task store");
        }
        // Nothing to compact on this store: nothing to remember either.
        Ok(false) => {
            if let Err(err) = queue.resign(COMPACTION, &attempt).await {
                tracing::warn!(target: "djrs_tasks", error = %err, "could not give back the compaction lease");
            }
        }
        Err(err) => {
            tracing::warn!(target: "djrs_tasks", error = %err, "compaction failed; the next is due after the compaction interval");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_keeps_what_it_is_told_and_prunes_only_then() {
        let day = Duration::from_secs(86_400);
        // (retention, kept successful, kept failed, prunes)
        let table = [
            (Retention::default(), Some(day), Some(day * 7), true),
            (Retention::forever(), None, None, false),
            (
                Retention::forever().successful(Some(Duration::ZERO)),
                Some(Duration::ZERO),
                None,
                true,
            ),
            (
                Retention::default().successful(None),
                None,
                Some(day * 7),
                true,
            ),
            (Retention::default().failed(None), Some(day), None, true),
        ];
        for (retention, successful, failed, prunes) in table {
            assert_eq!(retention.kept(TaskResultStatus::Successful), successful);
            assert_eq!(retention.kept(TaskResultStatus::Failed), failed);
            assert_eq!(retention.kept(TaskResultStatus::Ready), None);
            assert_eq!(retention.kept(TaskResultStatus::Running), None);
            assert_eq!(retention.prunes(), prunes, "{retention:?}");
        }
    }

    #[test]
    fn compaction_is_daily_unless_set_and_alone_is_reason_enough_for_a_pruner() {
        let day = Duration::from_secs(86_400);
        assert_eq!(Retention::default().compaction(), Some(day));
        assert_eq!(Retention::forever().compaction(), None);
        let hourly = Retention::forever().compact_every(Some(Duration::from_secs(3_600)));
        assert_eq!(hourly.compaction(), Some(Duration::from_secs(3_600)));
        // Nothing is pruned, but the store is compacted: a pruner runs.
        assert!(hourly.prunes());
        assert!(!hourly.compact_every(None).prunes());
        assert_eq!(Retention::default().compact_every(None).compaction(), None);
    }

    #[test]
    fn the_interval_is_a_minute_unless_set_and_never_below_ten_milliseconds() {
        assert_eq!(Retention::default().interval(), Duration::from_secs(60));
        assert_eq!(Retention::forever().interval(), Duration::from_secs(60));
        for (set, got) in [(0, 10), (5, 10), (10, 10), (250, 250)] {
            let retention = Retention::default().every(Duration::from_millis(set));
            assert_eq!(retention.interval(), Duration::from_millis(got));
        }
    }
}
