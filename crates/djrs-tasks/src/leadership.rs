//! [`Leadership`]: one holder at a time of a named lease in the queue's store, taken and renewed
//! every round and given up at the end; what the cron scheduler and the workers' pruner share.

use std::time::Duration;

use tokio::sync::Notify;

use crate::Queue;

/// What a round of [`Leadership::renew`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lead {
    /// This holder took the leadership this round.
    Taken,
    /// This holder still leads.
    Kept,
    /// Another holder leads, or the store could not be asked.
    Not,
}

/// A named leadership held by `holder` for `lease` at a time; `role` names who leads in logs
/// ("scheduler", "pruner").
#[derive(Debug)]
pub(crate) struct Leadership<'a> {
    name: &'static str,
    holder: &'a str,
    lease: Duration,
    role: &'static str,
    leading: bool,
}

impl<'a> Leadership<'a> {
    pub(crate) fn new(
        name: &'static str,
        holder: &'a str,
        lease: Duration,
        role: &'static str,
    ) -> Self {
        Leadership {
            name,
            holder,
            lease,
            role,
            leading: false,
        }
    }

    /// Takes or renews the leadership for another lease.
    pub(crate) async fn renew(&mut self, queue: &dyn Queue) -> Lead {
        let (role, holder) = (self.role, self.holder);
        match queue.lead(self.name, holder, self.lease).await {
            Ok(true) if !self.leading => {
                tracing::info!(target: "djrs_tasks", holder, "this {role} leads");
                self.leading = true;
                Lead::Taken
            }
            Ok(true) => Lead::Kept,
            Ok(false) => {
                if self.leading {
                    tracing::warn!(target: "djrs_tasks", holder, "lost the {role} leadership");
                }
                self.leading = false;
                Lead::Not
            }
            Err(err) => {
                tracing::warn!(target: "djrs_tasks", error = %err, "could not renew or take the {role} leadership");
                self.leading = false;
                Lead::Not
            }
        }
    }

    /// Gives the leadership up, if held, so another holder takes it at once.
    pub(crate) async fn resign(self, queue: &dyn Queue) {
        if self.leading
            && let Err(err) = queue.resign(self.name, self.holder).await
        {
            let role = self.role;
            tracing::warn!(target: "djrs_tasks", error = %err, "could not give up the {role} leadership; it passes on when its lease expires");
        }
    }
}

/// The rounds of work a worker does every interval while it leads a named leadership (a lease
/// of three intervals), until a stop is notified: `while rounds.next().await { … }`, then
/// [`Rounds::end`]. A round that overran delays the next one rather than bunching them.
pub(crate) struct Rounds<'a> {
    queue: &'a dyn Queue,
    leadership: Leadership<'a>,
    tick: tokio::time::Interval,
    stop: &'a Notify,
}

impl<'a> Rounds<'a> {
    /// Rounds every `every` for `holder` of the leadership `name`, whose leader logs as `role`.
    pub(crate) fn new(
        queue: &'a dyn Queue,
        (name, holder, role): (&'static str, &'a str, &'static str),
        every: Duration,
        stop: &'a Notify,
    ) -> Self {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Rounds {
            queue,
            leadership: Leadership::new(name, holder, every.saturating_mul(3), role),
            tick,
            stop,
        }
    }

    /// Waits for the next round this holder leads: `true` then, `false` once stopped.
    pub(crate) async fn next(&mut self) -> bool {
        loop {
            tokio::select! {
                () = self.stop.notified() => return false,
                _ = self.tick.tick() => {}
            }
            if self.leadership.renew(self.queue).await != Lead::Not {
                return true;
            }
        }
    }

    /// Gives the leadership up, if held.
    pub(crate) async fn end(self) {
        self.leadership.resign(self.queue).await;
    }
}
