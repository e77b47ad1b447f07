//! Unit tables of `worker.rs`.

use super::*;

fn failed(name: &str, attempts: usize) -> TaskResult {
    serde_json::from_value(serde_json::json!({
        "id": "t", "task_name": name, "status": "RUNNING", "enqueued_at": "2026-01-01T00:00:00Z",
        "started_at": null, "finished_at": null, "last_attempted_at": null, "run_after": null,
        "args": [], "backend": "default", "queue_name": "default", "priority": 0, "errors": [],
        "worker_ids": vec!["w"; attempts], "max_attempts": 9, "return_value": null,
        "timeout": null, "unique_key": null
    }))
    .unwrap()
}

#[test]
fn tasks_without_a_policy_of_their_own_get_the_workers() {
    let tasks = Tasks::default();
    let worker =
        Worker::new(&tasks).retry_backoff(Duration::from_millis(100), Duration::from_millis(1_000));
    for (attempts, nominal) in [(1, 100), (3, 400), (9, 1_000)] {
        let delay = worker.retry_delay(&failed("unregistered::task", attempts));
        let nominal = Duration::from_millis(nominal);
        assert!(
            delay >= nominal.mul_f64(0.75) && delay < nominal.mul_f64(1.25),
            "{attempts}: {delay:?}"
        );
    }
    let fixed =
        Worker::new(&tasks).retry_policy(Backoff::fixed(Duration::from_secs(7)).without_jitter());
    assert_eq!(
        fixed.retry_delay(&failed("unregistered::task", 4)),
        Duration::from_secs(7)
    );
}

#[test]
fn delays_past_the_calendar_end_at_its_last_day() {
    let soon = after(Duration::from_secs(60)) - Utc::now();
    assert!(
        soon > chrono::Duration::seconds(59) && soon <= chrono::Duration::seconds(60),
        "{soon:?}"
    );
    assert_eq!(after(Duration::MAX), chrono::DateTime::<Utc>::MAX_UTC);
    // 300,000 years: a chrono duration, but past the calendar's end.
    assert_eq!(
        after(Duration::from_secs(300_000 * 365 * 86_400)),
        chrono::DateTime::<Utc>::MAX_UTC
    );
}

#[test]
fn outcomes_leave_their_final_status() {
    let error = || TaskError::new("x.Y", "z");
    for (outcome, status) in [
        (
            Outcome::Succeeded(serde_json::Value::Null),
            Some(TaskResultStatus::Successful),
        ),
        (Outcome::Failed(error()), Some(TaskResultStatus::Failed)),
        (
            Outcome::Retry {
                error: error(),
                run_after: Utc::now(),
            },
            None,
        ),
        (Outcome::Interrupted(error()), None),
        (
            Outcome::Snooze {
                run_after: Utc::now(),
            },
            None,
        ),
    ] {
        assert_eq!(final_status(&outcome), status, "{outcome:?}");
    }
}
