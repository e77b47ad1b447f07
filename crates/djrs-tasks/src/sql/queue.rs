//! The worker-facing `Queue` of the SQL engine: every operation decided here, once, for every
//! dialect.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Dialect, SqlBackend, Transition, storable};
use crate::backend::{Completion, Lease, NewTask, QueueCounts, Renewal, ResultFilter};
use crate::task::BoxFuture;
use crate::{Error, Queue, QueueLimit, Result, TaskId, TaskResult, TaskResultStatus, WorkerId};

impl<D: Dialect> Queue for SqlBackend<D> {
    fn claim<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        queues: &'a [String],
        limit: usize,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(self.claim_tasks(worker_id, queues, limit, lease))
    }

    fn complete_many<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        completions: &'a [Completion],
    ) -> BoxFuture<'a, Result<Vec<bool>>> {
        Box::pin(async move {
            if completions.is_empty() {
                return Ok(Vec::new());
            }
            let transitions: Vec<Transition> = completions
                .iter()
                .map(|c| Transition::completion(worker_id, c))
                .collect();
            let applied: HashSet<TaskId> = self
                .dialect
                .apply_ids(&transitions, Utc::now())
                .await?
                .into_iter()
                .collect();
            if transitions
                .iter()
                .any(|t| t.status == TaskResultStatus::Ready && applied.contains(&t.id))
            {
                self.notify.notify_waiters();
            }
            Ok(transitions
                .iter()
                .map(|t| applied.contains(&t.id))
                .collect())
        })
    }

    fn heartbeat<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        leases: &'a [Lease],
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<Renewal>>> {
        Box::pin(async move {
            if leases.is_empty() {
                return Ok(Vec::new());
            }
            let renewed = self
                .dialect
                .renew(worker_id, leases, lease, Utc::now())
                .await?;
            let cancel: HashSet<TaskId> = if renewed.is_empty() {
                HashSet::new()
            } else {
                self.dialect
                    .cancel_requests(&renewed)
                    .await?
                    .into_iter()
                    .collect()
            };
            Ok(renewed
                .into_iter()
                .map(|id| {
                    let requested = cancel.contains(&id);
                    Renewal::new(id, requested)
                })
                .collect())
        })
    }

    fn request_cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            if !storable(id) {
                return Ok(false);
            }
            self.migrate().await?;
            let asked = self.dialect.request_cancel(id).await?;
            if asked {
                // This process's workers look at once; others when the database announces it
                // (PostgreSQL) or at their next heartbeat.
                self.cancels.notify_waiters();
            }
            Ok(asked)
        })
    }

    fn cancellations(&self) -> BoxFuture<'_, ()> {
        crate::store::wake_up(&self.cancels, self.ensure_listener())
    }

    fn set_paused<'a>(&'a self, queue: &'a str, paused: bool) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            crate::tasks::check_storable(&serde_json::Value::from(queue), "queue name")?;
            self.migrate().await?;
            self.dialect.set_paused(queue, paused).await?;
            if !paused {
                self.notify.notify_waiters();
            }
            Ok(())
        })
    }

    fn paused(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            self.migrate().await?;
            Ok(self.dialect.queue_states().await?.paused)
        })
    }

    fn save_metadata<'a>(
        &'a self,
        worker_id: &'a WorkerId,
        lease: &'a Lease,
        metadata: &'a serde_json::Map<String, serde_json::Value>,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            self.migrate().await?;
            let text = serde_json::to_string(metadata).map_err(Error::Decode)?;
            self.dialect.save_metadata(worker_id, lease, &text).await
        })
    }

    fn set_queue_limit<'a>(
        &'a self,
        queue: &'a str,
        limit: QueueLimit,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            crate::tasks::check_storable(&serde_json::Value::from(queue), "queue name")?;
            self.migrate().await?;
            self.dialect.set_limit(queue, limit).await?;
            // A raised limit has room for more now.
            self.notify.notify_waiters();
            Ok(())
        })
    }

    fn queue_limits(&self) -> BoxFuture<'_, Result<BTreeMap<String, u32>>> {
        Box::pin(async move {
            self.migrate().await?;
            let states = self.dialect.queue_states().await?;
            Ok(crate::store::effective_limits(
                &self.queue_limits,
                &states.limits,
            ))
        })
    }

    fn rescue_expired(&self) -> BoxFuture<'_, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            self.migrate().await?;
            let mut rescued: Vec<TaskResult> = Vec::new();
            // Bounded batches, as many as it takes.
            loop {
                let expired = self.dialect.expired(Utc::now(), RESCUE_BATCH).await?;
                let transitions: Vec<Transition> =
                    expired.iter().filter_map(Transition::rescue).collect();
                let before = rescued.len();
                rescued.extend(self.apply(transitions).await?.into_iter().flatten());
                // A full batch may have more behind it; one that changed nothing would repeat.
                if i64::try_from(expired.len()).unwrap_or(0) < RESCUE_BATCH
                    || rescued.len() == before
                {
                    break;
                }
            }
            if !rescued.is_empty() {
                tracing::warn!(target: "djrs_tasks", rescued = rescued.len(), "rescued tasks of workers that stopped renewing their leases");
            }
            Ok(rescued)
        })
    }

    fn notified(&self) -> BoxFuture<'_, ()> {
        crate::store::wake_up(&self.notify, self.ensure_listener())
    }

    fn poll_interval(&self) -> Option<Duration> {
        self.dialect.poll_interval()
    }

    fn compact(&self) -> BoxFuture<'_, Result<bool>> {
        Box::pin(async move {
            self.migrate().await?;
            self.dialect.compact().await
        })
    }

    fn prune_results<'a>(
        &'a self,
        older_than: DateTime<Utc>,
        statuses: &'a [TaskResultStatus],
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            self.migrate().await?;
            let finished: Vec<&'static str> = statuses
                .iter()
                .filter(|s| s.is_finished())
                .map(|s| s.as_str())
                .collect();
            if finished.is_empty() {
                return Ok(0);
            }
            // Bounded batches: a large backlog never holds one long write.
            let mut deleted = 0;
            loop {
                let n = self
                    .dialect
                    .delete_finished(older_than, &finished, PRUNE_BATCH)
                    .await?;
                deleted += n;
                if n < u64::try_from(PRUNE_BATCH).unwrap_or(u64::MAX) {
                    return Ok(deleted);
                }
            }
        })
    }

    fn list_results<'a>(
        &'a self,
        filter: &'a ResultFilter,
    ) -> BoxFuture<'a, Result<Vec<TaskResult>>> {
        Box::pin(async move {
            let texts = [
                filter.queue_name.as_deref(),
                filter.task_name.as_deref(),
                filter.before.as_deref(),
            ];
            if !texts.into_iter().flatten().all(storable) {
                return Ok(Vec::new());
            }
            self.migrate().await?;
            self.dialect.list(filter).await
        })
    }

    fn counts(&self) -> BoxFuture<'_, Result<QueueCounts>> {
        Box::pin(async move {
            self.migrate().await?;
            let mut counts = QueueCounts::default();
            for (queue, status, n) in self.dialect.counts().await? {
                counts
                    .rows
                    .push((queue, status.parse()?, u64::try_from(n).unwrap_or(0)));
            }
            Ok(counts)
        })
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskResult>>> {
        Box::pin(async move {
            if !storable(id) {
                return Ok(None);
            }
            self.migrate().await?;
            Ok(self
                .apply(vec![Transition::cancel(id)])
                .await?
                .pop()
                .flatten())
        })
    }

    fn retry<'a>(&'a self, ids: &'a [TaskId]) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(async move {
            self.migrate().await?;
            let now = Utc::now();
            let retried = each_changed(ids, |id| self.dialect.retry_one(id, now)).await?;
            if !retried.is_empty() {
                self.notify.notify_waiters();
            }
            Ok(retried)
        })
    }

    fn run_now<'a>(&'a self, ids: &'a [TaskId]) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(async move {
            self.migrate().await?;
            let now = Utc::now();
            let hastened = each_changed(ids, |id| self.dialect.run_now_one(id, now)).await?;
            if !hastened.is_empty() {
                self.notify.notify_waiters();
            }
            Ok(hastened)
        })
    }

    fn delete<'a>(&'a self, ids: &'a [TaskId]) -> BoxFuture<'a, Result<Vec<TaskId>>> {
        Box::pin(async move {
            self.migrate().await?;
            each_changed(ids, |id| self.dialect.delete_one(id)).await
        })
    }

    fn activity(&self, since: DateTime<Utc>) -> BoxFuture<'_, Result<crate::Activity>> {
        Box::pin(async move {
            self.migrate().await?;
            let rows = self.dialect.activity_rows(since, Utc::now()).await?;
            Ok(super::activity_from(rows))
        })
    }

    fn lead<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            self.migrate().await?;
            self.dialect.lead(name, holder, ttl, Utc::now()).await
        })
    }

    fn resign<'a>(&'a self, name: &'a str, holder: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.migrate().await?;
            self.dialect.resign(name, holder).await
        })
    }

    fn enqueue_occurrence<'a>(
        &'a self,
        schedule: &'a str,
        occurrence: DateTime<Utc>,
        task: NewTask,
    ) -> BoxFuture<'a, Result<Option<TaskResult>>> {
        Box::pin(async move {
            self.migrate().await?;
            let mut tx = self.dialect.begin().await?;
            let id = task.id.clone();
            if !self
                .dialect
                .record_occurrence(&mut tx, schedule, occurrence, &id)
                .await?
            {
                return Ok(None);
            }
            let (result, _) = self
                .insert_on(&mut tx, vec![task])
                .await?
                .pop()
                .ok_or_else(|| Error::InvalidTask("the backend returned no result".into()))?;
            tx.commit().await?;
            self.notify.notify_waiters();
            Ok(Some(result))
        })
    }

    fn prune_occurrences(&self, older_than: DateTime<Utc>) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            self.migrate().await?;
            self.dialect.delete_occurrences(older_than).await
        })
    }
}

/// Expired leases one rescue statement handles at most.
const RESCUE_BATCH: i64 = 1_000;

/// Rows one pruning statement deletes at most.
const PRUNE_BATCH: i64 = 5_000;

/// The ids among `ids` that `change` changed, in order; ids the store cannot hold change nothing.
async fn each_changed<'a, F, Fut>(ids: &'a [TaskId], mut change: F) -> Result<Vec<TaskId>>
where
    F: FnMut(&'a str) -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let mut changed = Vec::new();
    for id in ids.iter().filter(|id| storable(id)) {
        if change(id.as_str()).await? {
            changed.push(id.clone());
        }
    }
    Ok(changed)
}
