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
            Outcome::Snooze { run_after } => Transition {
                run_after: Some(*run_after),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaskError;

    fn worker() -> WorkerId {
        WorkerId::from("w")
    }

    #[test]
    fn guards_ask_for_their_status_worker_attempt_and_expiry() {
        let running = Guard::Running {
            worker_id: worker(),
            attempt: 2,
        };
        let expired = Guard::Expired {
            worker_id: worker(),
            attempt: 3,
        };
        assert_eq!(running.parts(), ("RUNNING", Some("w"), Some(2), false));
        assert_eq!(expired.parts(), ("RUNNING", Some("w"), Some(3), true));
        assert_eq!(Guard::Ready.parts(), ("READY", None, None, false));
    }

    #[test]
    fn each_outcome_becomes_its_transition() {
        let error = TaskError::new("x.Boom", "boom");
        let when = Utc::now();
        // (outcome, status, return value, error recorded, run_after, refund)
        let table = [
            (
                Outcome::Succeeded(serde_json::json!({"n": 1})),
                TaskResultStatus::Successful,
                Some(r#"{"n":1}"#.to_owned()),
                false,
                None,
                false,
            ),
            (
                Outcome::Failed(error.clone()),
                TaskResultStatus::Failed,
                None,
                true,
                None,
                false,
            ),
            (
                Outcome::Retry {
                    error: error.clone(),
                    run_after: when,
                },
                TaskResultStatus::Ready,
                None,
                true,
                Some(when),
                false,
            ),
            (
                Outcome::Interrupted(error.clone()),
                TaskResultStatus::Ready,
                None,
                true,
                None,
                true,
            ),
            (
                Outcome::Snooze { run_after: when },
                TaskResultStatus::Ready,
                None,
                false,
                Some(when),
                true,
            ),
        ];
        for (outcome, status, return_value, has_error, run_after, refund) in table {
            let completion = Completion::new(TaskId::from("t"), 2, outcome.clone());
            let t = Transition::completion(&worker(), &completion);
            assert_eq!(t.id, "t");
            assert_eq!(
                t.guard,
                Guard::Running {
                    worker_id: worker(),
                    attempt: 2
                }
            );
            assert_eq!(t.status, status, "{outcome:?}");
            assert_eq!(t.return_value, return_value, "{outcome:?}");
            assert_eq!(
                t.error,
                has_error.then(|| error_json(&error)),
                "{outcome:?}"
            );
            assert_eq!(t.run_after, run_after, "{outcome:?}");
            assert_eq!(t.refund, refund, "{outcome:?}");
        }
    }

    fn running(worker_ids: &[&str], max_attempts: u32) -> TaskResult {
        serde_json::from_value(serde_json::json!({
            "id": "t", "task_name": "n", "status": "RUNNING", "enqueued_at": "2026-01-01T00:00:00Z",
            "started_at": null, "finished_at": null, "last_attempted_at": null, "run_after": null,
            "args": [], "backend": "default", "queue_name": "default", "priority": 0, "errors": [],
            "worker_ids": worker_ids, "max_attempts": max_attempts, "return_value": null,
            "timeout": null, "unique_key": null
        }))
        .unwrap()
    }

    #[test]
    fn a_rescued_task_runs_again_until_its_last_attempt() {
        for (workers, max_attempts, status) in [
            (&["a"][..], 3, TaskResultStatus::Ready),
            (&["a", "b"], 3, TaskResultStatus::Ready),
            (&["a", "b", "c"], 3, TaskResultStatus::Failed),
            (&["a", "b", "c", "d"], 3, TaskResultStatus::Failed),
            (&["a"], 1, TaskResultStatus::Failed),
        ] {
            let t = Transition::rescue(&running(workers, max_attempts)).unwrap();
            assert_eq!(t.status, status, "{workers:?} of {max_attempts}");
            let last = workers[workers.len() - 1];
            assert_eq!(
                t.guard,
                Guard::Expired {
                    worker_id: WorkerId::from(last),
                    attempt: u32::try_from(workers.len()).unwrap(),
                }
            );
            assert_eq!(
                t.error,
                Some(error_json(&crate::backend::stored::worker_lost()))
            );
            assert_eq!((t.return_value, t.run_after, t.refund), (None, None, false));
        }
        // A task no worker ever claimed has no lease to rescue.
        assert_eq!(Transition::rescue(&running(&[], 3)), None);
    }

    #[test]
    fn cancelling_fails_a_ready_task() {
        let t = Transition::cancel("t");
        assert_eq!(t.id, "t");
        assert_eq!(t.guard, Guard::Ready);
        assert_eq!(t.status, TaskResultStatus::Failed);
        assert_eq!(
            t.error,
            Some(error_json(
                &crate::backend::stored::cancelled_before_it_ran()
            ))
        );
        assert_eq!((t.return_value, t.run_after, t.refund), (None, None, false));
    }
}
