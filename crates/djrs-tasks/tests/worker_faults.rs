//! The worker against a store that fails or stalls where it is told to: how outcomes are
//! batched, how a failed recording is retried, and what happens when it keeps failing. The
//! store is the real SQLite queue behind a wrapper that delegates every call and injects the
//! faults into `complete_many`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use djrs_tasks::{
    Backend, BackendContext, BoxFuture, Capabilities, Completion, Error, Lease, NewTask, Queue,
    QueueCounts, Renewal, Result, ResultFilter, SqliteBackend, TaskResult, TaskResultStatus, Tasks,
    Worker, WorkerId, task,
};
use djrs_test_support::SqliteFile;

#[task]
fn noop(n: u32) -> u32 {
    n
}

#[task]
async fn sleepy(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

/// How many `lingering` tasks ran to their end (only the lease test runs them).
static LINGERED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[task]
async fn lingering(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    LINGERED.fetch_add(1, Ordering::SeqCst);
}

/// What the wrapper does to `complete_many` and what it saw.
#[derive(Debug, Default)]
struct Faults {
    /// The first this many calls fail (without writing).
    failures: AtomicUsize,
    /// The next this many calls (after the failures) refuse every outcome, as a store does
    /// for a worker that lost its leases.
    refusals: AtomicUsize,
    /// Each call sleeps this long first (milliseconds).
    delay_ms: AtomicUsize,
    /// Every call: when it came and how many outcomes it carried.
    calls: Mutex<Vec<(Instant, usize)>>,
    /// Every call: how many recordings were on their way with it, and its size.
    overlaps: Mutex<Vec<(usize, usize)>>,
    /// Every recording: when it began, when it ended, and the tasks it carried.
    recordings: Mutex<Vec<(Instant, Instant, Vec<String>)>>,
    /// Every heartbeat: when it came and the tasks whose leases it renewed.
    heartbeats: Mutex<Vec<(Instant, Vec<String>)>>,
    /// How many more tasks the faulty worker may claim (`None`: no limit).
    claims_left: Mutex<Option<usize>>,
    /// Every claim: the number asked for and the number claimed.
    claims: Mutex<Vec<(usize, usize)>>,
    /// Heartbeats renew nothing, as for a worker whose leases another took over.
    leases_lost: std::sync::atomic::AtomicBool,
    /// Each claim sleeps this long first (milliseconds).
    claim_delay_ms: AtomicUsize,
    /// Claims on their way now, and the most there ever were at once.
    claiming: InFlight,
    /// Recordings (`complete_many`) on their way now, and the most there ever were at once.
    recording: InFlight,
}

/// Calls on their way at once: now, and the most seen.
#[derive(Debug, Default)]
struct InFlight {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl InFlight {
    /// Counts a call until the guard is dropped; with how many are on their way, this one
    /// included.
    fn enter(&self) -> (impl Drop + '_, usize) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        struct Leave<'a>(&'a AtomicUsize);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        (Leave(&self.now), now)
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

/// The SQLite queue with [`Faults`] injected into `complete_many`.
#[derive(Debug)]
struct Faulty {
    inner: SqliteBackend,
    faults: Arc<Faults>,
}

impl Backend for Faulty {
    fn name(&self) -> &'static str {
        "Faulty"
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn enqueue<'a>(
        &'a self,
        ctx: &'a BackendContext<'a>,
        task: NewTask,
    ) -> BoxFuture<'a, Result<TaskResult>> {
        self.inner.enqueue(ctx, task)
    }

    fn enqueue_many<'a>(
        &'a self,
        ctx: &'a BackendContext<'a>,
        batch: Vec<NewTask>,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        self.inner.enqueue_many(ctx, batch)
    }

    fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
        self.inner.get_result(id)
    }

    fn queue(&self) -> Option<&dyn Queue> {
        Some(self)
    }
}

impl Faulty {
    fn q(&self) -> &dyn Queue {
        self.inner.queue().expect("SQLite keeps a queue")
    }
}

impl Queue for Faulty {
    fn claim<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        queues: &'a [String],
        limit: usize,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let _claiming = self.faults.claiming.enter();
            let delay = self.faults.claim_delay_ms.load(Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(delay as u64)).await;
            let allowed = match *self.faults.claims_left.lock().unwrap() {
                Some(left) => limit.min(left),
                None => limit,
            };
            if allowed == 0 {
                return Ok(Vec::new());
            }
            let claimed = self.q().claim(worker_id, queues, allowed, lease).await?;
            self.faults
                .claims
                .lock()
                .unwrap()
                .push((limit, claimed.len()));
            if let Some(left) = self.faults.claims_left.lock().unwrap().as_mut() {
                *left -= claimed.len();
            }
            Ok(claimed)
        })
    }

    fn complete_many<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        completions: &'a [Completion],
    ) -> BoxFuture<'a, Result<Vec<bool>>> {
        Box::pin(async move {
            let (_recording, together) = self.faults.recording.enter();
            self.faults
                .overlaps
                .lock()
                .unwrap()
                .push((together, completions.len()));
            self.faults
                .calls
                .lock()
                .unwrap()
                .push((Instant::now(), completions.len()));
            let delay = self.faults.delay_ms.load(Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(delay as u64)).await;
            let failing = self
                .faults
                .failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if failing {
                return Err(Error::storage(std::io::Error::other("injected failure")));
            }
            let refusing = self
                .faults
                .refusals
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if refusing {
                return Ok(vec![false; completions.len()]);
            }
            let began = Instant::now() - Duration::from_millis(delay as u64);
            let recorded = self.q().complete_many(worker_id, completions).await;
            self.faults.recordings.lock().unwrap().push((
                began,
                Instant::now(),
                completions.iter().map(|c| c.id.to_string()).collect(),
            ));
            recorded
        })
    }

    fn heartbeat<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        leases: &'a [Lease],
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<Renewal>>> {
        self.faults.heartbeats.lock().unwrap().push((
            Instant::now(),
            leases.iter().map(|(id, _)| id.to_string()).collect(),
        ));
        if self.faults.leases_lost.load(Ordering::SeqCst) {
            return Box::pin(async { Ok(Vec::new()) });
        }
        self.q().heartbeat(worker_id, leases, lease)
    }

    fn request_cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool>> {
        self.q().request_cancel(id)
    }

    fn set_paused<'a>(&'a self, queue: &'a str, paused: bool) -> BoxFuture<'a, Result<()>> {
        self.q().set_paused(queue, paused)
    }

    fn paused(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        self.q().paused()
    }

    fn save_metadata<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        lease: &'a Lease,
        metadata: &'a serde_json::Map<String, serde_json::Value>,
    ) -> BoxFuture<'a, Result<bool>> {
        self.q().save_metadata(worker_id, lease, metadata)
    }

    fn set_queue_limit<'a>(
        &'a self,
        queue: &'a str,
        limit: djrs_tasks::QueueLimit,
    ) -> BoxFuture<'a, Result<()>> {
        self.q().set_queue_limit(queue, limit)
    }

    fn queue_limits(&self) -> BoxFuture<'_, Result<std::collections::BTreeMap<String, u32>>> {
        self.q().queue_limits()
    }

    fn rescue_expired(&self) -> BoxFuture<'_, Result<Vec<TaskResult>>> {
        self.q().rescue_expired()
    }

    fn notified(&self) -> BoxFuture<'_, ()> {
        self.q().notified()
    }

    fn poll_interval(&self) -> Option<Duration> {
        self.q().poll_interval()
    }

    fn prune_results<'a>(
        &'a self,
        older_than: DateTime<Utc>,
        statuses: &'a [TaskResultStatus],
    ) -> BoxFuture<'a, Result<u64>> {
        self.q().prune_results(older_than, statuses)
    }

    fn list_results<'a>(
        &'a self,
        filter: &'a ResultFilter,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        self.q().list_results(filter)
    }

    fn counts(&self) -> BoxFuture<'_, Result<QueueCounts>> {
        self.q().counts()
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskResult>>> {
        self.q().cancel(id)
    }

    fn lead<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool>> {
        self.q().lead(name, holder, ttl)
    }

    fn resign<'a>(&'a self, name: &'a str, holder: &'a str) -> BoxFuture<'a, Result<()>> {
        self.q().resign(name, holder)
    }

    fn enqueue_occurrence<'a>(
        &'a self,
        schedule: &'a str,
        occurrence: DateTime<Utc>,
        task: NewTask,
    ) -> BoxFuture<'a, Result<Option<TaskResult>>> {
        self.q().enqueue_occurrence(schedule, occurrence, task)
    }

    fn prune_occurrences(&self, older_than: DateTime<Utc>) -> BoxFuture<'_, Result<u64>> {
        self.q().prune_occurrences(older_than)
    }
}

/// A task system on a faulty SQLite queue in `file`, and a plain one on the same file.
fn systems(file: &SqliteFile, faults: &Arc<Faults>) -> (Tasks, Tasks) {
    systems_with(file, faults, |backend| backend)
}

/// As [`systems`], with the faulty system's SQLite backend configured by `configure`.
fn systems_with(
    file: &SqliteFile,
    faults: &Arc<Faults>,
    configure: impl FnOnce(SqliteBackend) -> SqliteBackend,
) -> (Tasks, Tasks) {
    let faulty = Faulty {
        inner: configure(SqliteBackend::open(file.path()).unwrap()),
        faults: Arc::clone(faults),
    };
    let faulty = Tasks::builder().backend("default", faulty).build().unwrap();
    let plain = Tasks::builder()
        .backend("default", SqliteBackend::open(file.path()).unwrap())
        .build()
        .unwrap();
    (faulty, plain)
}

/// Waits until every task of `ids` has finished, for at most `limit`.
async fn wait_finished(tasks: &Tasks, ids: &[String], limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let mut done = true;
        for id in ids {
            done &= tasks.get_result(id).await.unwrap().status.is_finished();
        }
        if done || Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outcomes_waiting_together_are_recorded_together_at_most_256_at_a_time() {
    let file = SqliteFile::new().unwrap();
    let faults = Arc::new(Faults::default());
    // Every recording stalls, so outcomes wait for the completer together: the first two
    // batches are on their way (the first with the first outcome, the second with at most 256)
    // while more than 256 others wait for the next.
    faults.delay_ms.store(300, Ordering::SeqCst);
    let (faulty, plain) = systems(&file, &faults);
    // Two batches take at most 512; of the 1,000, more than 256 are left for the third.
    let batch: Vec<_> = (0..1_000).map(|n| noop.prepare(n).unwrap()).collect();
    plain.enqueue_many(batch).await.unwrap();
    let stats = Worker::new(&faulty)
        .concurrency(1_000)
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.succeeded, 1_000);
    let sizes: Vec<usize> = faults
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 1_000, "{sizes:?}");
    assert_eq!(sizes.iter().max(), Some(&256), "{sizes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_busy_worker_has_two_claims_and_two_recordings_on_their_way_never_more() {
    let file = SqliteFile::new().unwrap();
    let faults = Arc::new(Faults::default());
    // Slow claims and slower recordings: a worker that waited for each before the next would
    // have one of each on its way at a time; outcomes pile up behind the recordings.
    faults.claim_delay_ms.store(50, Ordering::SeqCst);
    faults.delay_ms.store(300, Ordering::SeqCst);
    let (faulty, plain) = systems(&file, &faults);
    let batch: Vec<_> = (0..600).map(|n| noop.prepare(n).unwrap()).collect();
    plain.enqueue_many(batch).await.unwrap();
    let stats = Worker::new(&faulty)
        .concurrency(32)
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.succeeded, 600);
    assert_eq!(faults.claiming.most(), 2);
    assert_eq!(faults.recording.most(), 2);
    // A second batch goes only once enough outcomes wait for it.
    let overlaps = faults.overlaps.lock().unwrap().clone();
    assert!(
        overlaps.iter().any(|(together, _)| *together == 2),
        "{overlaps:?}"
    );
    for (together, size) in &overlaps {
        if *together == 2 {
            assert!(*size >= 32, "{overlaps:?}");
        }
    }
    let claimed: usize = faults.claims.lock().unwrap().iter().map(|(_, n)| n).sum();
    assert_eq!(claimed, 600);
}

/// A quick task and a slow one (2.5 s) through a worker whose recordings take `recording` and
/// whose lease is `lease`: the worker's stats, the quick task's and the slow task's ids, and
/// the heartbeats (the tasks each renewed) that came from `after` into the recording of the
/// quick task's outcome until it ended.
async fn heartbeats_while_recording(
    recording: Duration,
    lease: Duration,
    after: Duration,
) -> (djrs_tasks::WorkerStats, String, String, Vec<Vec<String>>) {
    let file = SqliteFile::new().unwrap();
    let faults = Arc::new(Faults::default());
    faults.delay_ms.store(
        usize::try_from(recording.as_millis()).unwrap(),
        Ordering::SeqCst,
    );
    let (faulty, plain) = systems(&file, &faults);
    let quick = noop.enqueue(&plain, 1).await.unwrap().id.to_string();
    let slow = sleepy.enqueue(&plain, 2_500).await.unwrap().id.to_string();
    let stats = Worker::new(&faulty)
        .concurrency(2)
        .lease(lease)
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(plain.get_result(&quick).await.unwrap().attempts(), 1);
    let recordings = faults.recordings.lock().unwrap().clone();
    let (began, ended, _) = recordings
        .iter()
        .find(|(_, _, ids)| ids.contains(&quick))
        .expect("the quick task's outcome was recorded")
        .clone();
    let during = faults
        .heartbeats
        .lock()
        .unwrap()
        .iter()
        .filter(|(at, _)| (began + after..ended).contains(at))
        .map(|(_, ids)| ids.clone())
        .collect();
    (stats, quick, slow, during)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heartbeats_leave_an_outcome_being_recorded_to_the_completer() {
    // Recording takes 600 ms; heartbeats come every 500 ms (a third of the lease), so at
    // least one comes while the quick task's outcome is being recorded.
    let (stats, _, slow, during) = heartbeats_while_recording(
        Duration::from_millis(600),
        Duration::from_millis(1_500),
        Duration::ZERO,
    )
    .await;
    assert_eq!(stats.succeeded, 2);
    // The slow task still runs, so heartbeats go on; they renew its lease, not the quick one's.
    assert!(!during.is_empty());
    for ids in &during {
        assert_eq!(ids, std::slice::from_ref(&slow), "{during:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tasks_claimed_while_the_worker_stops_go_back_without_using_an_attempt() {
    let file = SqliteFile::new().unwrap();
    let faults = Arc::new(Faults::default());
    faults.claim_delay_ms.store(400, Ordering::SeqCst);
    let (faulty, plain) = systems(&file, &faults);
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(noop.enqueue(&plain, n).await.unwrap().id);
    }
    // Told to stop while its first claim is on its way: it takes the claim's tasks and puts
    // them back instead of starting them.
    let stats = Worker::new(&faulty)
        .worker_id("stopping")
        .run_until(tokio::time::sleep(Duration::from_millis(100)))
        .await
        .unwrap();
    assert_eq!(stats, djrs_tasks::WorkerStats::default());
    // One claim, for the default eight slots.
    assert_eq!(faults.claims.lock().unwrap().clone(), [(8, 5)]);
    for id in &ids {
        let back = plain.get_result(id).await.unwrap();
        assert_eq!(back.status, TaskResultStatus::Ready, "{back:?}");
        assert_eq!(back.attempts(), 0, "{back:?}");
    }
    let stats = Worker::new(&plain).run_until_idle().await.unwrap();
    assert_eq!(stats.succeeded, 5);
    for id in &ids {
        assert_eq!(plain.get_result(id).await.unwrap().attempts(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_recording_is_retried_with_a_doubling_delay() {
    let file = SqliteFile::new().unwrap();
    let faults = Arc::new(Faults::default());
    faults.failures.store(4, Ordering::SeqCst);
    let (faulty, plain) = systems(&file, &faults);
    let task = noop.enqueue(&plain, 7).await.unwrap();
    let stats = Worker::new(&faulty).run_until_idle().await.unwrap();
    // The fifth try recorded it.
    assert_eq!(stats.succeeded, 1);
    let done = plain.get_result(&task.id).await.unwrap();
    assert_eq!(done.status, TaskResultStatus::Successful);
    assert_eq!(done.attempts(), 1);
    let calls = faults.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 5);
    // 50, 100, 200, 400 ms between the tries.
    for (i, pair) in calls.windows(2).enumerate() {
        let gap = pair[1].0 - pair[0].0;
        let nominal = Duration::from_millis(50 << i);
        assert!(gap >= nominal, "gap {i}: {gap:?}, expected {nominal:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outcomes_that_cannot_be_recorded_are_given_up_and_their_tasks_rescued() {
    let file = SqliteFile::new().unwrap();
    let faults = Arc::new(Faults::default());
    faults.failures.store(usize::MAX, Ordering::SeqCst);
    *faults.claims_left.lock().unwrap() = Some(1);
    let (faulty, plain) = systems(&file, &faults);
    let task = noop.enqueue(&plain, 7).await.unwrap();
    // The faulty worker runs the task (and claims nothing more) but can never record it:
    // after five tries it stops renewing the lease, so the task expires and another worker
    // runs it again.
    let stuck = tokio::spawn(
        Worker::new(&faulty)
            .worker_id("cannot-record")
            .lease(Duration::from_millis(600))
            .poll_interval(Duration::from_millis(20))
            .run_until(tokio::time::sleep(Duration::from_secs(15))),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        plain.get_result(&task.id).await.unwrap().status,
        TaskResultStatus::Running
    );
    let rescuer = Worker::new(&plain)
        .worker_id("rescuer")
        .lease(Duration::from_millis(600))
        .poll_interval(Duration::from_millis(20))
        .run_until(async {
            wait_finished(&plain, &[task.id.to_string()], Duration::from_secs(10)).await;
        });
    rescuer.await.unwrap();
    stuck.abort();
    let done = plain.get_result(&task.id).await.unwrap();
    assert_eq!(done.status, TaskResultStatus::Successful, "{done:?}");
    assert_eq!(done.attempts(), 2);
    assert_eq!(done.worker_ids, ["cannot-record", "rescuer"]);
    assert_eq!(faults.calls.lock().unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_busy_worker_claims_once_half_its_slots_are_free() {
    let file = SqliteFile::new().unwrap();
    let faults = Arc::new(Faults::default());
    let (faulty, plain) = systems(&file, &faults);
    // Claimed first, all four slots: two long tasks and two short ones; then three more.
    let mut ids = Vec::new();
    for ms in [2_000, 2_000, 10, 10, 10, 10, 10] {
        ids.push(sleepy.enqueue(&plain, ms).await.unwrap().id);
    }
    Worker::new(&faulty)
        .concurrency(4)
        .poll_interval(Duration::from_millis(20))
        .run_until_idle()
        .await
        .unwrap();
    for id in &ids {
        let done = plain.get_result(id).await.unwrap();
        assert_eq!(done.status, TaskResultStatus::Successful);
    }
    let claims = faults.claims.lock().unwrap().clone();
    // One short task done leaves one slot free: not worth a claim while the others run.
    assert!(claims.iter().all(|(asked, _)| *asked >= 2), "{claims:?}");
    // Both short tasks done: two slots, claimed while the long ones still run.
    assert!(claims.contains(&(2, 2)), "{claims:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn draining_waits_for_outcomes_still_being_recorded() {
    let file = SqliteFile::new().unwrap();
    let faults = Arc::new(Faults::default());
    // Each recording takes a while; with a queue limit of one, the next task can be claimed
    // only once the last outcome is recorded, so the worker sees an empty claim with nothing
    // running between tasks and must not take that for the end of the work.
    faults.delay_ms.store(100, Ordering::SeqCst);
    let (faulty, plain) = systems_with(&file, &faults, |backend| backend.queue_limit("default", 1));
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(noop.enqueue(&plain, n).await.unwrap().id);
    }
    let stats = Worker::new(&faulty)
        .concurrency(2)
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.succeeded, 3);
    for id in &ids {
        let done = plain.get_result(id).await.unwrap();
        assert_eq!(done.status, TaskResultStatus::Successful);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_outcome_counts_as_lost_and_the_task_runs_again() {
    let file = SqliteFile::new().unwrap();
    let faults = Arc::new(Faults::default());
    faults.refusals.store(1, Ordering::SeqCst);
    let (faulty, plain) = systems(&file, &faults);
    let task = noop.enqueue(&plain, 3).await.unwrap();
    let worker = || {
        Worker::new(&faulty)
            .lease(Duration::from_millis(300))
            .poll_interval(Duration::from_millis(20))
    };
    // The store refused the outcome: the worker counts it lost and forgets the task, whose
    // lease then expires; the next run finds it again.
    let first = worker().run_until_idle().await.unwrap();
    assert_eq!((first.succeeded, first.lost), (0, 1));
    assert_eq!(
        plain.get_result(&task.id).await.unwrap().status,
        TaskResultStatus::Running
    );
    let second = worker()
        .run_until(async {
            wait_finished(&plain, &[task.id.to_string()], Duration::from_secs(10)).await;
        })
        .await
        .unwrap();
    assert_eq!((second.succeeded, second.lost), (1, 0));
    assert_eq!(plain.get_result(&task.id).await.unwrap().attempts(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_attempt_whose_lease_is_lost_stops_and_counts_as_lost() {
    let file = SqliteFile::new().unwrap();
    let faults = Arc::new(Faults::default());
    faults.leases_lost.store(true, Ordering::SeqCst);
    // Claimed once: the store re-queues the task when its lease expires, and this worker
    // would lose it again.
    *faults.claims_left.lock().unwrap() = Some(1);
    let (faulty, plain) = systems(&file, &faults);
    lingering.enqueue(&plain, 20_000).await.unwrap();
    let started = Instant::now();
    // The first heartbeat (after a third of the lease) renews nothing: the attempt stops at
    // its next await instead of running its 20 s beside the task's next owner.
    let stats = Worker::new(&faulty)
        .lease(Duration::from_millis(300))
        .grace_period(Duration::from_secs(30))
        .run_until(tokio::time::sleep(Duration::from_millis(1_500)))
        .await
        .unwrap();
    assert_eq!((stats.lost, stats.succeeded), (1, 0), "{stats:?}");
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(LINGERED.load(Ordering::SeqCst), 0);
}
