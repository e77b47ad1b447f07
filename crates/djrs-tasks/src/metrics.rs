//! The tasks' metrics through the [`metrics`] facade (feature `metrics`): counters and
//! histograms labelled by `queue` and `task`, emitted by enqueue and by the worker, and the
//! queue gauges one worker at a time samples. Whatever recorder the application installs
//! (Prometheus, StatsD, OpenTelemetry) receives them; without one they cost next to nothing.
//!
//! Handles are registered once per `(queue, task)` pair and kept (`ByTask`), so the hot path
//! builds no label set and looks nothing up in the recorder: one read-locked map lookup, then
//! atomic adds. Install the recorder before building `Tasks` and starting workers: handles
//! registered before it stay with the no-op recorder.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use metrics::{Counter, Histogram, Unit};
use tokio::sync::Notify;

use crate::leadership::Rounds;
use crate::{Backend, Queue, TaskResult, TaskResultStatus, WorkerId};

/// Tasks stored by an enqueue (counter).
pub(crate) const ENQUEUED: &str = "djrs_tasks_enqueued_total";
/// Attempts a worker started (counter).
pub(crate) const STARTED: &str = "djrs_tasks_started_total";
/// Attempts that succeeded (counter).
pub(crate) const SUCCEEDED: &str = "djrs_tasks_succeeded_total";
/// Tasks that failed for good (counter).
pub(crate) const FAILED: &str = "djrs_tasks_failed_total";
/// Failed attempts whose retry was scheduled (counter).
pub(crate) const RETRIED: &str = "djrs_tasks_retried_total";
/// Attempts whose task asked to run again later (counter).
pub(crate) const SNOOZED: &str = "djrs_tasks_snoozed_total";
/// How long an attempt ran (histogram, seconds).
pub(crate) const RUN_SECONDS: &str = "djrs_tasks_run_seconds";
/// How long a task waited from when it was due to its attempt's start (histogram, seconds).
pub(crate) const WAIT_SECONDS: &str = "djrs_tasks_wait_seconds";
/// `READY` tasks per queue (gauge).
pub(crate) const QUEUE_DEPTH: &str = "djrs_tasks_queue_depth";
/// Gauge: seconds the queue's longest-waiting due task has waited.
pub(crate) const OLDEST_READY_AGE: &str = "djrs_tasks_oldest_ready_age_seconds";

/// The leadership the workers' samplers share: one samples the queue gauges at a time.
const LEADERSHIP: &str = "djrs_tasks.metrics";

/// Describes the metrics to the installed recorder (their help text and units).
fn describe() {
    metrics::describe_counter!(ENQUEUED, "Tasks stored by an enqueue.");
    metrics::describe_counter!(STARTED, "Attempts a worker started.");
    metrics::describe_counter!(SUCCEEDED, "Attempts that succeeded.");
    metrics::describe_counter!(FAILED, "Tasks that failed for good.");
    metrics::describe_counter!(RETRIED, "Failed attempts whose retry was scheduled.");
    metrics::describe_counter!(SNOOZED, "Attempts whose task asked to run again later.");
    metrics::describe_histogram!(RUN_SECONDS, Unit::Seconds, "How long an attempt ran.");
    metrics::describe_histogram!(
        WAIT_SECONDS,
        Unit::Seconds,
        "How long a task waited from when it was due (run_after, else enqueued_at) to its start."
    );
    metrics::describe_gauge!(QUEUE_DEPTH, "READY tasks in the queue.");
    metrics::describe_gauge!(
        OLDEST_READY_AGE,
        metrics::Unit::Seconds,
        "How long the queue's longest-waiting due task has waited."
    );
}

/// Metrics registered for one `(queue, task)` pair.
pub(crate) trait Register {
    fn register(queue: &str, task: &str) -> Self;
}

/// The labels of one pair.
fn labels(queue: &str, task: &str) -> [(&'static str, String); 2] {
    [("queue", queue.to_owned()), ("task", task.to_owned())]
}

impl Register for Counter {
    /// The enqueue counter: what `Tasks` keeps.
    fn register(queue: &str, task: &str) -> Self {
        describe();
        metrics::counter!(ENQUEUED, &labels(queue, task))
    }
}

/// What a worker emits for one pair.
#[derive(Debug)]
pub(crate) struct WorkerMetrics {
    started: Counter,
    succeeded: Counter,
    failed: Counter,
    retried: Counter,
    snoozed: Counter,
    run: Histogram,
    wait: Histogram,
}

impl Register for WorkerMetrics {
    fn register(queue: &str, task: &str) -> Self {
        describe();
        let labels = labels(queue, task);
        WorkerMetrics {
            started: metrics::counter!(STARTED, &labels),
            succeeded: metrics::counter!(SUCCEEDED, &labels),
            failed: metrics::counter!(FAILED, &labels),
            retried: metrics::counter!(RETRIED, &labels),
            snoozed: metrics::counter!(SNOOZED, &labels),
            run: metrics::histogram!(RUN_SECONDS, &labels),
            wait: metrics::histogram!(WAIT_SECONDS, &labels),
        }
    }
}

/// Handles by queue, then task name, registered on first use.
#[derive(Debug)]
pub(crate) struct ByTask<T>(RwLock<HashMap<String, HashMap<String, T>>>);

impl<T> Default for ByTask<T> {
    fn default() -> Self {
        ByTask(RwLock::new(HashMap::new()))
    }
}

impl<T: Register> ByTask<T> {
    /// Calls `f` with the handles of `task`'s pair, registering them the first time.
    pub(crate) fn with<R>(&self, task: &TaskResult, f: impl FnOnce(&T) -> R) -> R {
        let (queue, name) = (task.queue_name.as_str(), task.task_name.as_str());
        {
            let map = self.0.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(found) = map.get(queue).and_then(|tasks| tasks.get(name)) {
                return f(found);
            }
        }
        let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let found = map
            .entry(queue.to_owned())
            .or_default()
            .entry(name.to_owned())
            .or_insert_with(|| T::register(queue, name));
        f(found)
    }
}

impl ByTask<Counter> {
    /// Counts `task` as enqueued.
    pub(crate) fn enqueued(&self, task: &TaskResult) {
        self.with(task, |counter| counter.increment(1));
    }
}

/// Seconds from `since` to `until`, 0 when `until` comes first.
fn seconds_between(since: DateTime<Utc>, until: DateTime<Utc>) -> f64 {
    (until - since)
        .to_std()
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

impl ByTask<WorkerMetrics> {
    /// Counts the start of an attempt of `task` and how long it waited since it was due.
    pub(crate) fn started(&self, task: &TaskResult) {
        let due = task.run_after.unwrap_or(task.enqueued_at);
        let waited = seconds_between(due, Utc::now());
        self.with(task, |m| {
            m.started.increment(1);
            m.wait.record(waited);
        });
    }

    /// Records how long an attempt of `task` ran.
    pub(crate) fn ran(&self, task: &TaskResult, elapsed: Duration) {
        self.with(task, |m| m.run.record(elapsed.as_secs_f64()));
    }

    /// Counts an outcome the store recorded for `task`.
    pub(crate) fn recorded(&self, task: &TaskResult, outcome: &crate::Outcome) {
        use crate::Outcome;
        self.with(task, |m| match outcome {
            Outcome::Succeeded(_) => m.succeeded.increment(1),
            Outcome::Failed(_) => m.failed.increment(1),
            Outcome::Retry { .. } => m.retried.increment(1),
            Outcome::Snooze { .. } => m.snoozed.increment(1),
            // Not an outcome of the task: the attempt is given back.
            Outcome::Interrupted(_) => {}
        });
    }

    /// Counts a task the worker's rescue found out of attempts: failed for good.
    pub(crate) fn rescued(&self, task: &TaskResult) {
        if task.status == TaskResultStatus::Failed {
            self.with(task, |m| m.failed.increment(1));
        }
    }
}

/// Samples the queue gauges every `every` while this worker leads the samplers, until `stop`
/// is notified; then gives the leadership up.
pub(crate) async fn sample(
    backend: Arc<dyn Backend>,
    holder: WorkerId,
    every: Duration,
    stop: Arc<Notify>,
) {
    let Some(queue) = backend.queue() else { return };
    // The queues a gauge was set for, so one that empties is set to 0 rather than left stale.
    let mut reported = BTreeSet::new();
    let leadership = (LEADERSHIP, holder.as_str(), "metrics sampler");
    let mut rounds = Rounds::new(queue, leadership, every, &stop);
    while rounds.next().await {
        if let Err(err) = sample_queue_gauges(queue, &mut reported).await {
            tracing::warn!(target: "djrs_tasks", error = %err, "could not sample the queue gauges; trying again at the next interval");
        }
    }
    rounds.end().await;
}

/// Sets the per-queue gauges from the store: `djrs_tasks_queue_depth`, the `READY` count of
/// every queue the store holds tasks of, and `djrs_tasks_oldest_ready_age_seconds`, how long
/// its longest-waiting due task has waited (0 for a queue reported before and empty now).
async fn sample_queue_gauges(
    queue: &dyn Queue,
    reported: &mut BTreeSet<String>,
) -> crate::Result<()> {
    let counts = queue.counts().await?;
    let mut depth: HashMap<&str, u64> = HashMap::new();
    for (name, status, count) in &counts.rows {
        let ready = depth.entry(name.as_str()).or_default();
        if *status == TaskResultStatus::Ready {
            *ready += count;
        }
    }
    for name in reported.iter() {
        depth.entry(name.as_str()).or_default();
    }
    for (name, ready) in &depth {
        // Counts are far below 2^53: exact as f64.
        metrics::gauge!(QUEUE_DEPTH, "queue" => (*name).to_owned()).set(*ready as f64);
    }
    // Only the oldest due task matters here, not what finished: ask about the last instant.
    let now = Utc::now();
    let activity = queue.activity(now).await?;
    for name in depth.keys() {
        let age = activity
            .queues
            .iter()
            .find(|q| q.queue_name == *name)
            .and_then(|q| q.oldest_due)
            .map_or(0.0, |since| seconds_between(since, now));
        metrics::gauge!(OLDEST_READY_AGE, "queue" => (*name).to_owned()).set(age);
    }
    let seen: Vec<String> = depth.keys().map(|name| (*name).to_owned()).collect();
    reported.extend(seen);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_never_negative() {
        let now = Utc::now();
        let table = [
            (now - chrono::Duration::milliseconds(1_500), now, 1.5),
            (now, now, 0.0),
            // Due in the future (a clock ahead of the store's): no wait, not a negative one.
            (now + chrono::Duration::seconds(3), now, 0.0),
        ];
        for (since, until, seconds) in table {
            assert!(
                (seconds_between(since, until) - seconds).abs() < 1e-9,
                "{since} → {until}"
            );
        }
    }
}
