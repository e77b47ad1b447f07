//! Periodic (cron) tasks, with exactly one enqueue per occurrence however many schedulers run
//! on however many machines, on every queueing backend.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};

use crate::leadership::{Lead, Leadership};
use crate::{Error, PreparedTask, Result, Tasks};

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    cron: Cron,
    zone: Tz,
    task: PreparedTask,
}

impl Entry {
    /// The first occurrence after `since`, in UTC.
    fn next_after(&self, since: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&since.with_timezone(&self.zone), false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// What a scheduler did before it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchedulerStats {
    /// Occurrences this scheduler enqueued.
    pub enqueued: u64,
    /// Whether it led at some point.
    pub led: bool,
}

/// Enqueues tasks on cron schedules (Oban's Cron plugin, River's periodic jobs), on any
/// queueing backend.
///
/// Run one in every process that may schedule: they elect a leader through a lease in the
/// store, and only the leader enqueues. Each occurrence is recorded with its task in one write,
/// so even two leaders (a leader that stalled past its lease) cannot enqueue one occurrence
/// twice. A new leader also looks back over the lease's length, so the occurrences of a
/// hand-over are not lost; older missed occurrences are not back-filled.
///
/// Patterns have five fields (minute granularity) or six (seconds first), and aliases such as
/// `@hourly`. Times are UTC, or the IANA time zone given to
/// [`add_in_zone`](Self::add_in_zone); across daylight-saving changes a schedule behaves as
/// cron users expect: a time that does not exist (the spring-forward gap) runs once at the
/// first minute after the gap, and a time that happens twice (the fall-back overlap) runs once,
/// at its first occurrence, while interval patterns (`*/15 * * * *`) run in both halves.
///
/// ```
/// use std::time::Duration;
/// use djrs_tasks::{task, Scheduler, SqliteBackend, Tasks};
///
/// #[task]
/// async fn tick() {}
///
/// # tokio_test::block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let tasks = Tasks::builder()
///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
///     .build()?;
/// let stats = Scheduler::new(&tasks)
///     .add("every-second", "* * * * * *", tick.prepare()?)?
///     .add_in_zone("paris-morning", "0 8 * * *", "Europe/Paris", tick.prepare()?)?
///     .tick(Duration::from_millis(50))
///     .run_until(tokio::time::sleep(Duration::from_millis(2100)))
///     .await?;
/// assert!(stats.led && stats.enqueued >= 1);
/// # Ok::<(), djrs_tasks::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Scheduler {
    tasks: Tasks,
    backend: String,
    entries: Vec<Entry>,
    tick: Duration,
    lease: Duration,
    holder: String,
}

/// The leadership the schedulers of one store share.
const LEADERSHIP: &str = "scheduler";

impl Scheduler {
    /// A scheduler for the `default` backend, which must keep a queue.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{Error, Scheduler, SqliteBackend, Tasks};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// let stats = Scheduler::new(&tasks).run_until(std::future::ready(())).await?;
    /// assert_eq!(stats.enqueued, 0); // no schedule added
    ///
    /// // The immediate backend keeps no queue to schedule on.
    /// let err = Scheduler::new(&Tasks::default()).run_until(std::future::ready(())).await.unwrap_err();
    /// assert!(matches!(err, Error::NotSupported { .. }));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn new(tasks: &Tasks) -> Self {
        Scheduler {
            tasks: tasks.clone(),
            backend: crate::DEFAULT_TASK_BACKEND_ALIAS.to_owned(),
            entries: Vec::new(),
            tick: Duration::from_millis(500),
            lease: Duration::from_secs(10),
            holder: crate::WorkerId::generate().into_string(),
        }
    }

    /// Adds a schedule in UTC: `task` (with its arguments, from the generated `prepare`) is
    /// enqueued at every occurrence of `pattern`. `name` identifies the schedule across
    /// processes.
    ///
    /// ```
    /// use djrs_tasks::{task, Scheduler, Tasks};
    ///
    /// #[task]
    /// async fn nightly_report(kind: String) {}
    ///
    /// let tasks = Tasks::default();
    /// let scheduler = Scheduler::new(&tasks)
    ///     .add("nightly", "30 2 * * *", nightly_report.prepare("sales".into())?)?
    ///     .add("hourly", "@hourly", nightly_report.prepare("health".into())?)?;
    ///
    /// // A pattern that does not parse, or a name used twice, is refused.
    /// let bad = Scheduler::new(&tasks).add("bad", "every day", nightly_report.prepare("x".into())?);
    /// assert!(bad.is_err());
    /// let twice = scheduler.add("nightly", "0 3 * * *", nightly_report.prepare("x".into())?);
    /// assert!(twice.unwrap_err().to_string().contains("added twice"));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    ///
    /// # Errors
    /// `InvalidTask` for a pattern that does not parse or a name used twice.
    pub fn add(self, name: impl Into<String>, pattern: &str, task: PreparedTask) -> Result<Self> {
        self.add_in_zone(name, pattern, "UTC", task)
    }

    /// Adds a schedule whose pattern is read in the IANA time zone `zone` (`Europe/Paris`,
    /// `America/New_York`).
    ///
    /// ```
    /// use djrs_tasks::{task, Scheduler, Tasks};
    ///
    /// #[task]
    /// async fn open_shop() {}
    ///
    /// let tasks = Tasks::default();
    /// let scheduler = Scheduler::new(&tasks)
    ///     .add_in_zone("open-paris", "0 9 * * 1-5", "Europe/Paris", open_shop.prepare()?)?;
    /// # let _ = scheduler;
    /// let err = Scheduler::new(&tasks)
    ///     .add_in_zone("open-mars", "0 9 * * *", "Mars/Olympus_Mons", open_shop.prepare()?)
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("unknown time zone"));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// ```
    ///
    /// # Errors
    /// `InvalidTask` for a pattern that does not parse, an unknown zone or a name used twice.
    pub fn add_in_zone(
        mut self,
        name: impl Into<String>,
        pattern: &str,
        zone: &str,
        task: PreparedTask,
    ) -> Result<Self> {
        let name = name.into();
        if self.entries.iter().any(|e| e.name == name) {
            return Err(Error::InvalidTask(format!(
                "the schedule {name:?} is added twice"
            )));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .build()
            .parse(pattern)
            .map_err(|err| {
                Error::InvalidTask(format!(
                    "invalid cron pattern {pattern:?} for {name:?}: {err}"
                ))
            })?;
        let zone: Tz = zone.parse().map_err(|_| {
            Error::InvalidTask(format!(
                "unknown time zone {zone:?} for {name:?}: use an IANA name such as \"Europe/Paris\""
            ))
        })?;
        self.entries.push(Entry {
            name,
            cron,
            zone,
            task,
        });
        Ok(self)
    }

    /// The backend alias (default `default`).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs_tasks::{ImmediateBackend, Scheduler, SqliteBackend, Tasks};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", ImmediateBackend::new())
    ///     .backend("jobs", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// let stop = || std::future::ready(());
    /// assert!(Scheduler::new(&tasks).backend("jobs").run_until(stop()).await.is_ok());
    /// // The default backend here keeps no queue.
    /// assert!(Scheduler::new(&tasks).run_until(stop()).await.is_err());
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn backend(mut self, alias: impl Into<String>) -> Self {
        self.backend = alias.into();
        self
    }

    /// How often the scheduler looks at the clock and renews or tries to take the leadership
    /// (default 500 ms).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, Scheduler, SqliteBackend, Tasks};
    ///
    /// #[task]
    /// async fn heartbeat() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// // Six fields: every second. Looking at the clock every 20 ms catches each one.
    /// let stats = Scheduler::new(&tasks)
    ///     .add("beat", "* * * * * *", heartbeat.prepare()?)?
    ///     .tick(Duration::from_millis(20))
    ///     .run_until(tokio::time::sleep(Duration::from_millis(1100)))
    ///     .await?;
    /// assert!(stats.led);
    /// assert!(stats.enqueued >= 1);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn tick(mut self, every: Duration) -> Self {
        self.tick = every.max(Duration::from_millis(10));
        self
    }

    /// How long a leader stays leader without renewing (default 10 s): after a leader dies,
    /// another takes over within this time.
    ///
    /// A new leader also enqueues the occurrences of the last lease that no scheduler
    /// enqueued, so none is lost when the leadership passes on.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, Scheduler, SqliteBackend, Tasks};
    ///
    /// #[task]
    /// async fn beat() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// let scheduler = Scheduler::new(&tasks)
    ///     .add("beat", "* * * * * *", beat.prepare()?)?
    ///     .leadership_lease(Duration::from_secs(3));
    /// // Stopped at once: it took the leadership and enqueued the last 3 s's occurrences.
    /// let stats = scheduler.run_until(std::future::ready(())).await?;
    /// assert!(stats.led);
    /// assert!((3..=4).contains(&stats.enqueued));
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn leadership_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }

    /// Schedules until `shutdown` resolves, then gives up the leadership.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use std::time::Duration;
    ///
    /// use djrs_tasks::{task, Scheduler, SqliteBackend, Tasks, Worker};
    ///
    /// #[task]
    /// async fn sweep() {}
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let tasks = Tasks::builder()
    ///     .backend("default", SqliteBackend::open(dir.path().join("q.sqlite3"))?)
    ///     .build()?;
    /// let scheduler = Scheduler::new(&tasks)
    ///     .add("sweep", "* * * * * *", sweep.prepare()?)?
    ///     .tick(Duration::from_millis(20));
    /// // In an application: `run_until(djrs_tasks::shutdown_signal())`, next to the workers.
    /// let stats = scheduler.run_until(tokio::time::sleep(Duration::from_millis(1100))).await?;
    /// assert!(stats.enqueued >= 1);
    /// assert_eq!(Worker::new(&tasks).run_until_idle().await?.succeeded, stats.enqueued);
    /// # Ok::<(), djrs_tasks::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `NotSupported` when the backend keeps no queue. Storage errors while running are logged
    /// and retried, never returned.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<SchedulerStats> {
        let backend = std::sync::Arc::clone(self.tasks.backend(&self.backend)?);
        let Some(queue) = backend.queue() else {
            return Err(Error::NotSupported {
                backend: backend.name(),
                operation: "cron schedules",
            });
        };
        let lease = self.lease.max(self.tick * 3);
        let mut stats = SchedulerStats::default();
        let mut leadership = Leadership::new(LEADERSHIP, &self.holder, lease, "scheduler");
        let mut last: Vec<DateTime<Utc>> = Vec::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let lead = leadership.renew(queue).await;
            if lead == Lead::Taken {
                stats.led = true;
                // Look back over a hand-over: the occurrence records keep this exact.
                let since = Utc::now() - chrono::Duration::from_std(lease).unwrap_or_default();
                last = vec![since; self.entries.len()];
            }
            if lead != Lead::Not {
                let now = Utc::now();
                for (entry, since) in self.entries.iter().zip(last.iter_mut()) {
                    let mut next = entry.next_after(*since);
                    while let Some(occurrence) = next.filter(|t| *t <= now) {
                        match self.enqueue_occurrence(queue, entry, occurrence).await {
                            Ok(true) => stats.enqueued += 1,
                            Ok(false) => {}
                            Err(err) => {
                                tracing::warn!(target: "djrs_tasks", schedule = %entry.name, error = %err, "could not enqueue an occurrence; retrying");
                                break;
                            }
                        }
                        *since = occurrence;
                        next = entry.next_after(occurrence);
                    }
                }
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(self.tick) => {}
            }
        }
        leadership.resign(queue).await;
        Ok(stats)
    }

    /// Enqueues the occurrence's task with its record; `false` when another scheduler already
    /// did.
    async fn enqueue_occurrence(
        &self,
        queue: &dyn crate::Queue,
        entry: &Entry,
        occurrence: DateTime<Utc>,
    ) -> Result<bool> {
        let (options, args) = (entry.task.options().clone(), entry.task.args().clone());
        let task = self.tasks.new_task(&options, args)?;
        match queue
            .enqueue_occurrence(&entry.name, occurrence, task)
            .await?
        {
            Some(result) => {
                self.tasks.hooks().enqueued(&result);
                tracing::info!(target: "djrs_tasks", schedule = %entry.name, %occurrence, id = %result.id, "scheduled task enqueued");
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn entry(pattern: &str, zone: &str) -> Entry {
        let options = crate::TaskOptions::from_attribute("t", 0, "default", "default", 1, false, 0);
        let task = PreparedTask::new(options, serde_json::json!([]));
        let scheduler = Scheduler::new(&Tasks::default())
            .add_in_zone("e", pattern, zone, task)
            .unwrap();
        scheduler.entries[0].clone()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    /// Every occurrence in `[from, to)`, in UTC.
    fn occurrences(entry: &Entry, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut since = from;
        while let Some(next) = entry.next_after(since).filter(|t| *t < to) {
            out.push(next);
            since = next;
        }
        out
    }

    #[test]
    fn a_time_in_the_spring_forward_gap_runs_once_right_after_the_gap() {
        // New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist.
        let daily = entry("30 2 * * *", "America/New_York");
        let runs = occurrences(&daily, utc(2026, 3, 7, 0, 0), utc(2026, 3, 10, 0, 0));
        assert_eq!(
            runs,
            [
                utc(2026, 3, 7, 7, 30), // 02:30 EST
                utc(2026, 3, 8, 7, 0),  // 03:00 EDT, the first minute after the gap
                utc(2026, 3, 9, 6, 30), // 02:30 EDT
            ]
        );
    }

    #[test]
    fn a_time_in_the_fall_back_overlap_runs_once_and_intervals_run_in_both_halves() {
        // New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
        let daily = entry("30 1 * * *", "America/New_York");
        let runs = occurrences(&daily, utc(2026, 11, 1, 0, 0), utc(2026, 11, 2, 0, 0));
        assert_eq!(runs, [utc(2026, 11, 1, 5, 30)]); // 01:30 EDT only
        let every_half_hour = entry("*/30 1 * * *", "America/New_York");
        let runs = occurrences(
            &every_half_hour,
            utc(2026, 11, 1, 0, 0),
            utc(2026, 11, 2, 0, 0),
        );
        assert_eq!(
            runs,
            [
                utc(2026, 11, 1, 5, 0),
                utc(2026, 11, 1, 5, 30),
                utc(2026, 11, 1, 6, 0),
                utc(2026, 11, 1, 6, 30),
            ]
        );
    }

    #[test]
    fn patterns_are_read_in_their_zone() {
        let paris = entry("0 8 * * *", "Europe/Paris");
        // 08:00 in Paris is 07:00 UTC in winter and 06:00 UTC in summer.
        assert_eq!(
            paris.next_after(utc(2026, 1, 15, 0, 0)),
            Some(utc(2026, 1, 15, 7, 0))
        );
        assert_eq!(
            paris.next_after(utc(2026, 7, 15, 0, 0)),
            Some(utc(2026, 7, 15, 6, 0))
        );
        let plain = entry("0 8 * * *", "UTC");
        assert_eq!(
            plain.next_after(utc(2026, 7, 15, 0, 0)),
            Some(utc(2026, 7, 15, 8, 0))
        );
    }
}
