//! The worker-facing `Queue` of the Redis backend: each operation one script per queue.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::{Script, Value};

use super::keys::{self, base, decode, integer, items, micros, queue_of, text, time_of};
use super::{
    ACTIVITY, CANCEL, CANCEL_RUNNING, COMPLETE, DELETE, LEAD, LIST, METADATA, PRUNE, RENEW, RESCUE,
    RESIGN, RETRY, RUN_NOW, RedisBackend, SCRIPT_BATCH, SEEN, STATUSES, WORKERS, storage,
};
use crate::backend::stored::{cancelled_before_it_ran, error_json, worker_lost};
use crate::backend::{Completion, Lease, NewTask, Outcome, QueueCounts, Renewal, ResultFilter};
use crate::task::BoxFuture;
use crate::{
    Activity, Queue, QueueActivity, QueueLimit, Result, TaskId, TaskResult, TaskResultStatus,
    WorkerId, WorkerSeen,
};

/// The longest a worker counts as alive from one [`Queue::worker_seen`] (a hundred years): a
/// longer time would not fit the workers' set's scores (microseconds, exact in a double).
const LONGEST_PRESENCE_MS: u64 = 100 * 365 * 24 * 60 * 60 * 1000;

impl Queue for RedisBackend {
    fn claim<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        queues: &'a [String],
        limit: usize,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let mut claimed = Vec::new();
            for queue in self.claim_order(&mut conn, queues).await? {
                let want = limit.saturating_sub(claimed.len());
                if want == 0 {
                    break;
                }
                claimed.extend(
                    self.claim_from(&mut conn, worker_id, &queue, want, lease)
                        .await?,
                );
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
            let mut recorded = vec![false; completions.len()];
            // One script per queue; an id this backend never made names no task.
            let mut by_queue: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for (i, completion) in completions.iter().enumerate() {
                if let Some(queue) = queue_of(completion.id.as_str()) {
                    by_queue.entry(queue).or_default().push(i);
                }
            }
            if by_queue.is_empty() {
                return Ok(recorded);
            }
            let mut conn = self.conn().await?;
            let now = Utc::now();
            for (queue, indexes) in by_queue {
                let base = base(&self.prefix, &queue);
                let mut call = COMPLETE.prepare_invoke();
                call.key(format!("{base}ready"))
                    .arg(&base)
                    .arg(self.ttl_ms())
                    .arg(self.channel())
                    .arg(worker_id.as_str());
                for &i in &indexes {
                    let completion = &completions[i];
                    let (kind, payload, delay) = match &completion.outcome {
                        Outcome::Succeeded(value) => ("S", value.to_string(), 0),
                        Outcome::Failed(error) => ("F", error_json(error), 0),
                        // The delay, not the time: the server's clock decides when it is due.
                        Outcome::Retry { error, run_after } => {
                            ("R", error_json(error), ceil_millis(*run_after - now))
                        }
                        Outcome::Interrupted(error) => ("I", error_json(error), 0),
                        Outcome::Snooze { run_after } => {
                            ("Z", String::new(), ceil_millis(*run_after - now))
                        }
                    };
                    call.arg(completion.id.as_str())
                        .arg(completion.attempt)
                        .arg(kind)
                        .arg(payload)
                        .arg(delay);
                }
                let answers = items(call.invoke_async(&mut conn).await.map_err(storage)?)?;
                if answers.len() != indexes.len() {
                    return Err(keys::unexpected(&Value::Array(answers)));
                }
                for (i, answer) in indexes.into_iter().zip(answers) {
                    recorded[i] = integer(&answer)? == 1;
                }
            }
            if recorded.iter().any(|r| *r) {
                self.notify.notify_waiters();
            }
            Ok(recorded)
        })
    }

    fn heartbeat<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        leases: &'a [Lease],
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<Renewal>>> {
        Box::pin(async move {
            let mut by_queue: BTreeMap<String, Vec<&Lease>> = BTreeMap::new();
            for held in leases {
                if let Some(queue) = queue_of(held.0.as_str()) {
                    by_queue.entry(queue).or_default().push(held);
                }
            }
            if by_queue.is_empty() {
                return Ok(Vec::new());
            }
            let mut conn = self.conn().await?;
            let mut still = Vec::new();
            for (queue, held) in by_queue {
                let base = base(&self.prefix, &queue);
                let mut call = RENEW.prepare_invoke();
                call.key(format!("{base}ready"))
                    .arg(&base)
                    .arg(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX))
                    .arg(worker_id.as_str());
                for (id, attempt) in held {
                    call.arg(id.as_str()).arg(*attempt);
                }
                let answer = items(call.invoke_async(&mut conn).await.map_err(storage)?)?;
                for pair in answer.chunks(2) {
                    if let [id, cancel] = pair
                        && let Some(id) = text(id)
                    {
                        let requested = text(cancel).as_deref() == Some("1");
                        still.push(Renewal::new(TaskId::from(id), requested));
                    }
                }
            }
            Ok(still)
        })
    }

    fn rescue_expired(&self) -> BoxFuture<'_, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let error = error_json(&worker_lost());
            let mut rescued = Vec::new();
            for queue in self.known_queues(&mut conn).await? {
                let base = base(&self.prefix, &queue);
                // Bounded scripts, as many as it takes.
                loop {
                    let reply: Value = RESCUE
                        .key(format!("{base}ready"))
                        .arg(&base)
                        .arg(self.ttl_ms())
                        .arg(&error)
                        .arg(self.channel())
                        .arg(SCRIPT_BATCH)
                        .invoke_async(&mut conn)
                        .await
                        .map_err(storage)?;
                    let mut batch = items(reply)?.into_iter();
                    // First whether expired results are left to sweep, then the rows.
                    let unswept = batch.next().as_ref().map(integer).transpose()? == Some(1);
                    let full = u32::try_from(batch.len()).unwrap_or(u32::MAX) >= SCRIPT_BATCH;
                    for row in batch {
                        rescued.extend(decode(row)?);
                    }
                    if !full && !unswept {
                        break;
                    }
                }
            }
            if !rescued.is_empty() {
                tracing::warn!(target: "djrs_tasks", rescued = rescued.len(), "rescued tasks of workers that stopped renewing their leases");
                self.notify.notify_waiters();
            }
            Ok(rescued)
        })
    }

    fn request_cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let Some(queue) = queue_of(id) else {
                return Ok(false);
            };
            let mut conn = self.conn().await?;
            let base = base(&self.prefix, &queue);
            let reply: Value = CANCEL_RUNNING
                .key(format!("{base}ready"))
                .arg(&base)
                .arg(id)
                .invoke_async(&mut conn)
                .await
                .map_err(storage)?;
            let asked = integer(&reply)? == 1;
            if asked {
                // This process's workers look at once; others at their next heartbeat.
                self.cancels.notify_waiters();
            }
            Ok(asked)
        })
    }

    fn cancellations(&self) -> BoxFuture<'_, ()> {
        crate::store::wake_up(&self.cancels, std::future::ready(()))
    }

    fn set_paused<'a>(&'a self, queue: &'a str, paused: bool) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.set_queue_key(queue, "paused", paused.then_some("1"))
                .await?;
            if !paused {
                self.notify.notify_waiters();
            }
            Ok(())
        })
    }

    fn paused(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let mut paused = Vec::new();
            for queue in self.known_queues(&mut conn).await? {
                let exists: bool = redis::cmd("EXISTS")
                    .arg(format!("{}paused", base(&self.prefix, &queue)))
                    .query_async(&mut conn)
                    .await
                    .map_err(storage)?;
                if exists {
                    paused.push(queue);
                }
            }
            Ok(paused)
        })
    }

    fn save_metadata<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        lease: &'a Lease,
        metadata: &'a serde_json::Map<String, serde_json::Value>,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let Some(queue) = queue_of(lease.0.as_str()) else {
                return Ok(false);
            };
            let mut conn = self.conn().await?;
            let base = base(&self.prefix, &queue);
            let reply: Value = METADATA
                .key(format!("{base}ready"))
                .arg(&base)
                .arg(lease.0.as_str())
                .arg(worker_id.as_str())
                .arg(lease.1)
                .arg(serde_json::to_string(metadata).map_err(crate::Error::Decode)?)
                .invoke_async(&mut conn)
                .await
                .map_err(storage)?;
            Ok(integer(&reply)? == 1)
        })
    }

    fn set_queue_limit<'a>(
        &'a self,
        queue: &'a str,
        limit: QueueLimit,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let value = match limit {
                QueueLimit::Configured => None,
                QueueLimit::Unlimited => Some("u".to_owned()),
                QueueLimit::AtMost(n) => Some(n.to_string()),
            };
            self.set_queue_key(queue, "limit", value.as_deref()).await?;
            // A raised limit has room for more now.
            self.notify.notify_waiters();
            Ok(())
        })
    }

    fn queue_limits(&self) -> BoxFuture<'_, Result<BTreeMap<String, u32>>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let mut set = BTreeMap::new();
            for queue in self.known_queues(&mut conn).await? {
                let stored: Option<String> = redis::cmd("GET")
                    .arg(format!("{}limit", base(&self.prefix, &queue)))
                    .query_async(&mut conn)
                    .await
                    .map_err(storage)?;
                let limit = match stored.as_deref() {
                    None => continue,
                    Some("u") => QueueLimit::Unlimited,
                    Some(n) => QueueLimit::AtMost(n.parse().unwrap_or(0)),
                };
                set.insert(queue, limit);
            }
            Ok(crate::store::effective_limits(&self.queue_limits, &set))
        })
    }

    fn notified(&self) -> BoxFuture<'_, ()> {
        crate::store::wake_up(&self.notify, self.ensure_listener())
    }

    fn prune_results<'a>(
        &'a self,
        older_than: DateTime<Utc>,
        statuses: &'a [TaskResultStatus],
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let mut deleted = 0;
            for queue in self.known_queues(&mut conn).await? {
                let base = base(&self.prefix, &queue);
                for status in statuses.iter().filter(|s| s.is_finished()) {
                    loop {
                        let reply: Value = PRUNE
                            .key(format!("{base}ready"))
                            .arg(&base)
                            .arg(status.as_str())
                            .arg(older_than.timestamp_micros())
                            .arg(SCRIPT_BATCH)
                            .invoke_async(&mut conn)
                            .await
                            .map_err(storage)?;
                        let n = u64::try_from(integer(&reply)?).unwrap_or(0);
                        deleted += n;
                        if n < u64::from(SCRIPT_BATCH) {
                            break;
                        }
                    }
                }
            }
            Ok(deleted)
        })
    }

    /// Newest (highest id) first. Per queue and status, the id-ordered index set is read from
    /// the filter's upper bound down (`ZRANGE … BYLEX REV`, O(log n) to find the start) by a
    /// script that keeps what matches the name and enqueue times and sends only those: with no
    /// name or time filter it examines exactly `limit` ids; with them, ids until `limit` match,
    /// in scripts of at most 1,000 ids each, within the ids made no more than five minutes
    /// away from the filter's times (the clocks' slack). Then the pages of every queue and
    /// status are merged, so a listing of every queue and status reads up to four times
    /// `limit` per queue.
    fn list_results<'a>(
        &'a self,
        filter: &'a ResultFilter,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let limit = usize::try_from(filter.limit.unwrap_or(50).clamp(1, 500)).unwrap_or(500);
            let mut conn = self.conn().await?;
            let queues = match &filter.queue_name {
                Some(queue) => vec![queue.clone()],
                None => self.known_queues(&mut conn).await?,
            };
            let statuses: Vec<TaskResultStatus> = match filter.status {
                Some(status) => vec![status],
                None => STATUSES.to_vec(),
            };
            let (upper, lower) = keys::lex_bounds(
                filter.before.as_deref(),
                filter.enqueued_since,
                filter.enqueued_until,
            );
            let name = match &filter.task_name {
                Some(name) => keys::name_prefix(name)?,
                None => String::new(),
            };
            let since = filter.enqueued_since.map(micros).unwrap_or_default();
            let until = filter.enqueued_until.map(micros).unwrap_or_default();
            let mut found = Vec::new();
            for queue in &queues {
                let base = base(&self.prefix, queue);
                for status in &statuses {
                    let mut from = upper.clone();
                    let mut wanted = limit;
                    loop {
                        let reply: Value = LIST
                            .key(format!("{base}ready"))
                            .arg(&base)
                            .arg(status.as_str())
                            .arg(&from)
                            .arg(&lower)
                            .arg(&name)
                            .arg(&since)
                            .arg(&until)
                            .arg(wanted)
                            .arg(SCRIPT_BATCH)
                            .invoke_async(&mut conn)
                            .await
                            .map_err(storage)?;
                        let mut reply = items(reply)?.into_iter();
                        let cursor = reply.next().as_ref().and_then(text).unwrap_or_default();
                        for row in reply {
                            if let Some(task) = decode(row)? {
                                found.push(task);
                                wanted = wanted.saturating_sub(1);
                            }
                        }
                        if cursor.is_empty() || wanted == 0 {
                            break;
                        }
                        from = format!("({cursor}");
                    }
                }
            }
            found.sort_by(|a, b| b.id.cmp(&a.id));
            found.truncate(limit);
            Ok(found)
        })
    }

    fn counts(&self) -> BoxFuture<'_, Result<QueueCounts>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let queues = self.known_queues(&mut conn).await?;
            let mut rows = Vec::new();
            // One pipeline per queue: a queue's keys share a slot, different queues may not.
            for queue in &queues {
                let base = base(&self.prefix, queue);
                let mut pipe = redis::pipe();
                for status in STATUSES {
                    pipe.cmd("ZCARD")
                        .arg(format!("{base}s:{}", status.as_str()));
                }
                let counts: Vec<u64> = pipe.query_async(&mut conn).await.map_err(storage)?;
                let mut by_status: Vec<(TaskResultStatus, u64)> =
                    STATUSES.iter().copied().zip(counts).collect();
                by_status.sort_by_key(|(status, _)| status.as_str());
                rows.extend(
                    by_status
                        .into_iter()
                        .filter(|(_, n)| *n > 0)
                        .map(|(status, n)| (queue.clone(), status, n)),
                );
            }
            Ok(QueueCounts { rows })
        })
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskResult>>> {
        Box::pin(async move {
            let Some(queue) = queue_of(id) else {
                return Ok(None);
            };
            let mut conn = self.conn().await?;
            let base = base(&self.prefix, &queue);
            let reply: Value = CANCEL
                .key(format!("{base}ready"))
                .arg(&base)
                .arg(self.ttl_ms())
                .arg(id)
                .arg(error_json(&cancelled_before_it_ran()))
                .invoke_async(&mut conn)
                .await
                .map_err(storage)?;
            match reply {
                Value::Array(row) if !row.is_empty() => decode(Value::Array(row)),
                _ => Ok(None),
            }
        })
    }

    fn retry<'a>(&'a self, ids: &'a [TaskId]) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(self.operate(&RETRY, ids, true))
    }

    fn run_now<'a>(&'a self, ids: &'a [TaskId]) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(self.operate(&RUN_NOW, ids, true))
    }

    fn delete<'a>(&'a self, ids: &'a [TaskId]) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(self.operate(&DELETE, ids, false))
    }

    /// One script per queue (finished counts from the finish-time sets, the oldest due task
    /// from the first of each priority's band of the ready set and the first due deferred
    /// task), then one read of the workers' set.
    fn activity(&self, since: DateTime<Utc>) -> BoxFuture<'_, Result<Activity>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let mut queues = Vec::new();
            for queue in self.known_queues(&mut conn).await? {
                let base = base(&self.prefix, &queue);
                let reply: Value = ACTIVITY
                    .key(format!("{base}ready"))
                    .arg(&base)
                    .arg(since.timestamp_micros())
                    .arg(self.ttl_ms())
                    .invoke_async(&mut conn)
                    .await
                    .map_err(storage)?;
                let reply = items(reply)?;
                let [succeeded, failed, oldest] = reply.as_slice() else {
                    return Err(keys::unexpected(&Value::Array(reply)));
                };
                let mut activity = QueueActivity::new(queue);
                activity.succeeded = u64::try_from(integer(succeeded)?).unwrap_or(0);
                activity.failed = u64::try_from(integer(failed)?).unwrap_or(0);
                activity.oldest_due = time_of(oldest);
                if activity.succeeded > 0 || activity.failed > 0 || activity.oldest_due.is_some() {
                    queues.push(activity);
                }
            }
            let reply: Value = WORKERS
                .key(self.workers_key())
                .invoke_async(&mut conn)
                .await
                .map_err(storage)?;
            let mut workers: Vec<WorkerSeen> = items(reply)?
                .chunks(2)
                .filter_map(|pair| match pair {
                    [id, until] => {
                        Some(WorkerSeen::new(WorkerId::from(text(id)?), time_of(until)?))
                    }
                    _ => None,
                })
                .collect();
            workers.sort_by(|a, b| a.worker_id.cmp(&b.worker_id));
            Ok(Activity { queues, workers })
        })
    }

    /// A sorted set of workers scored by the time they stop counting as alive, so `activity`
    /// lists them with one read; each call also forgets the workers whose time ran out.
    fn worker_seen<'a>(&'a self, worker: &'a WorkerId, ttl: Duration) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let ttl_ms = u64::try_from(ttl.as_millis())
                .unwrap_or(u64::MAX)
                .min(LONGEST_PRESENCE_MS);
            SEEN.key(self.workers_key())
                .arg(worker.as_str())
                .arg(ttl_ms)
                .invoke_async::<Value>(&mut conn)
                .await
                .map_err(storage)?;
            Ok(())
        })
    }

    fn worker_gone<'a>(&'a self, worker: &'a WorkerId) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            redis::cmd("ZREM")
                .arg(self.workers_key())
                .arg(worker.as_str())
                .query_async::<()>(&mut conn)
                .await
                .map_err(storage)
        })
    }

    fn lead<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let reply: Value = LEAD
                .key(format!("{}:lead:{name}", self.prefix))
                .arg(holder)
                .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1))
                .invoke_async(&mut conn)
                .await
                .map_err(storage)?;
            Ok(integer(&reply)? == 1)
        })
    }

    fn resign<'a>(&'a self, name: &'a str, holder: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            RESIGN
                .key(format!("{}:lead:{name}", self.prefix))
                .arg(holder)
                .invoke_async::<Value>(&mut conn)
                .await
                .map_err(storage)?;
            Ok(())
        })
    }

    fn enqueue_occurrence<'a>(
        &'a self,
        schedule: &'a str,
        occurrence: DateTime<Utc>,
        task: NewTask,
    ) -> BoxFuture<'a, Result<Option<TaskResult>>> {
        Box::pin(async move {
            let stored = self
                .store(self.with_ids(vec![task]), Some((schedule, occurrence)))
                .await?;
            Ok(stored.into_iter().next().map(|(result, _)| result))
        })
    }

    fn prune_occurrences(&self, older_than: DateTime<Utc>) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let mut deleted = 0;
            for queue in self.known_queues(&mut conn).await? {
                let n: u64 = redis::cmd("ZREMRANGEBYSCORE")
                    .arg(format!("{}occ", base(&self.prefix, &queue)))
                    .arg("-inf")
                    .arg(format!("({}", older_than.timestamp_millis()))
                    .query_async(&mut conn)
                    .await
                    .map_err(storage)?;
                deleted += n;
            }
            Ok(deleted)
        })
    }
}

impl RedisBackend {
    /// Runs an operator's script (`retry.lua`, `run_now.lua`, `delete.lua`) on `ids`: one call
    /// per queue and [`SCRIPT_BATCH`] ids, each atomic; ids this backend never made name no
    /// task. `announce` passes the wake-up channel, for scripts that make tasks due. Returns
    /// the ids changed, in the order given, and wakes this process's workers if any changed.
    async fn operate(
        &self,
        script: &Script,
        ids: &[TaskId],
        announce: bool,
    ) -> Result<Vec<TaskId>> {
        let mut by_queue: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, id) in ids.iter().enumerate() {
            if let Some(queue) = queue_of(id.as_str()) {
                by_queue.entry(queue).or_default().push(i);
            }
        }
        if by_queue.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn().await?;
        let mut changed = vec![false; ids.len()];
        let batch = usize::try_from(SCRIPT_BATCH).unwrap_or(usize::MAX);
        for (queue, indexes) in by_queue {
            let base = base(&self.prefix, &queue);
            for chunk in indexes.chunks(batch) {
                let mut call = script.prepare_invoke();
                call.key(format!("{base}ready")).arg(&base);
                if announce {
                    call.arg(self.channel());
                }
                for &i in chunk {
                    call.arg(ids[i].as_str());
                }
                let answers = items(call.invoke_async(&mut conn).await.map_err(storage)?)?;
                if answers.len() != chunk.len() {
                    return Err(keys::unexpected(&Value::Array(answers)));
                }
                for (&i, answer) in chunk.iter().zip(answers) {
                    changed[i] = integer(&answer)? == 1;
                }
            }
        }
        let changed: Vec<TaskId> = ids
            .iter()
            .zip(changed)
            .filter(|(_, changed)| *changed)
            .map(|(id, _)| id.clone())
            .collect();
        if !changed.is_empty() {
            self.notify.notify_waiters();
        }
        Ok(changed)
    }
}

/// A delay in whole milliseconds (the scripts' unit), rounded up so that a retry or a snooze
/// never comes early; zero for a time already past.
fn ceil_millis(delay: chrono::TimeDelta) -> i64 {
    delay
        .num_microseconds()
        .map_or(i64::MAX / 1000, |us| us.saturating_add(999) / 1000)
        .max(0)
}
