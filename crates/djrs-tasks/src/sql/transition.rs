//! What the engine asks of a dialect for completions, rescue and cancel alike: one guarded change
//! of one task.

use chrono::{DateTime, Utc};

use crate::backend::stored::error_json;
use crate::backend::{Completion, Outcome};
use crate::{TaskId, TaskResult, TaskResultStatus, WorkerId};

/// What must still hold for a transition to apply.
#[derive(Debug, Clone, PartialEq)]
#[doc(hidden)]
// Named in the sealed `Dialect`'s hidden methods; not reachable from outside the crate.
#[allow(unreachable_pub)]
pub enum Guard {
    /// The task is `RUNNING` this attempt for this worker.
    Running { worker_id: WorkerId, attempt: u32 },
    /// As `Running`, and its lease expired.
    Expired { worker_id: WorkerId, attempt: u32 },
    /// The task is `READY`.
    Ready,
}

impl Guard {
    /// The status, worker, attempt and "lease expired" the guard asks for.
    pub(crate) fn parts(&self) -> (&'static str, Option<&str>, Option<i64>, bool) {
        match self {
            Guard::Running { worker_id, attempt } => (
                "RUNNING",
                Some(worker_id.as_str()),
                Some(i64::from(*attempt)),
                false,
            ),
            Guard::Expired { worker_id, attempt } => (
                "RUNNING",
                Some(worker_id.as_str()),
                Some(i64::from(*attempt)),
                true,
            ),
            Guard::Ready => ("READY", None, None, false),
        }
    }
}

/// One change of one task: to `status`, recording a return value or appending an error, with
/// its lease cleared. `run_after` applies to `READY`; `finished_at` is set for finished
/// statuses; `refund` takes the attempt's worker id back off `worker_ids`.
#[derive(Debug, Clone, PartialEq)]
#[doc(hidden)]
// Named in the sealed `Dialect`'s hidden methods; not reachable from outside the crate.
#[allow(unreachable_pub)]
pub struct Transition {
    pub(crate) id: TaskId,
    pub(crate) guard: Guard,
    pub(crate) status: TaskResultStatus,
    pub(crate) return_value: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) run_after: Option<DateTime<Utc>>,
    pub(crate) refund: bool,
}

impl Transition {
    /// What a worker's completion does.
    pub(crate) fn completion(worker_id: &WorkerId, completion: &Completion) -> Transition {
        let guard = Guard::Running {
            worker_id: worker_id.clone(),
            attempt: completion.attempt,
        };
        let id = &completion.id;
        let base = |status| Transition {
            id: id.clone(),
            guard: guard.clone(),
            status,
            return_value: None,
            error: None,
            run_after: None,
            refund: false,
        };
        match &completion.outcome {
            Outcome::Succeeded(value) => Transition {
                return_value: Some(value.to_string()),
                ..base(TaskResultStatus::Successful)
            },
            Outcome::Failed(error) => Transition {
                error: Some(error_json(error)),
                ..base(TaskResultStatus::Failed)
            },
            Outcome::Retry { error, run_after } => Transition {
                error: Some(error_json(error)),
                run_after: Some(*run_after),
                ..base(TaskResultStatus::Ready)
            },
            Outcome::Interrupted(error) => Transition {
                error: Some(error_json(error)),
                refund: true,
                ..base(TaskResultStatus::Ready)
            },
        }
    }

    /// What the rescuer does to a task whose lease expired: run it again, or fail it when that
    /// was its last attempt.
    pub(crate) fn rescue(task: &TaskResult) -> Option<Transition> {
        let worker_id = task.worker_ids.last()?.clone();
        let attempt = task.attempts();
        let status = if attempt >= task.max_attempts {
            TaskResultStatus::Failed
        } else {
            TaskResultStatus::Ready
        };
        Some(Transition {
            id: task.id.clone(),
            guard: Guard::Expired { worker_id, attempt },
            status,
            return_value: None,
            error: Some(error_json(&crate::backend::stored::worker_lost())),
            run_after: None,
            refund: false,
        })
    }

    /// Cancelling a `READY` task.
    pub(crate) fn cancel(id: &str) -> Transition {
        Transition {
            id: TaskId::from(id),
            guard: Guard::Ready,
            status: TaskResultStatus::Failed,
            return_value: None,
            error: Some(error_json(
                &crate::backend::stored::cancelled_before_it_ran(),
            )),
            run_after: None,
            refund: false,
        }
    }
}
