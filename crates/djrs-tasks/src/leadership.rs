//! [`Leadership`]: one holder at a time of a named lease in the queue's store, taken and renewed
//! every round and given up at the end; what the cron scheduler and the workers' pruner share.

use std::time::Duration;

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
