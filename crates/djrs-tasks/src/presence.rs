//! A worker's presence: it tells the store it is alive while it runs, so the console can show
//! the workers of a queue, and that it stopped when it stops.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::{Backend, WorkerId};

/// How often a worker says it is alive; it counts as alive for three times as long.
pub(crate) const EVERY: Duration = Duration::from_secs(15);

/// Says `worker` is alive every [`EVERY`] until `stop` is notified, then that it stopped.
pub(crate) async fn announce(backend: Arc<dyn Backend>, worker: WorkerId, stop: Arc<Notify>) {
    let Some(queue) = backend.queue() else { return };
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.notified() => break,
            _ = tick.tick() => {}
        }
        if let Err(err) = queue.worker_seen(&worker, EVERY.saturating_mul(3)).await {
            tracing::warn!(target: "djrs_tasks", error = %err, "could not say this worker is alive; trying again");
        }
    }
    if let Err(err) = queue.worker_gone(&worker).await {
        tracing::warn!(target: "djrs_tasks", error = %err, "could not say this worker stopped; it will drop out of the list by itself");
    }
}
