//! Django's task API: validation, results, hooks, inline calls, on the in-memory backends.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use djrs_tasks::{
    Backend, BackendContext, BoxFuture, Capabilities, DummyBackend, Error, NewTask, Result, Task,
    TaskContext, TaskResult, TaskResultStatus, Tasks, TasksConfig, task,
};

#[task]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[task]
async fn no_args() -> String {
    "done".into()
}

#[task]
fn blocking_sum(values: Vec<u64>) -> u64 {
    // Runs on the blocking pool.
    values.iter().sum()
}

#[task]
async fn takes_float(x: f64) -> f64 {
    x
}

#[task]
async fn boom() -> Result<(), std::io::Error> {
    Err(std::io::Error::other("disk on fire"))
}

#[task]
async fn panics(message: String) {
    panic!("{message}");
}

#[task(takes_context, priority = -5, queue_name = "reports")]
async fn with_context(ctx: TaskContext, label: String) -> String {
    format!("{label}:{}:{}", ctx.attempt(), ctx.task_result().queue_name)
}

#[task]
async fn anyhow_task(fail: bool) -> anyhow::Result<u32> {
    if fail {
        anyhow::bail!("nope: {}", 42);
    }
    Ok(7)
}

fn dummy_tasks() -> (DummyBackend, Tasks) {
    let dummy = DummyBackend::new();
    let tasks = Tasks::builder()
        .backend("default", dummy.clone())
        .queues("default", ["default", "reports"])
        .build()
        .unwrap();
    (dummy, tasks)
}

#[tokio::test]
async fn immediate_backend_runs_at_enqueue() {
    let tasks = Tasks::default();
    let result = add.enqueue(&tasks, 2, 40).await.unwrap();
    assert_eq!(result.status, TaskResultStatus::Successful);
    assert_eq!(result.return_value::<i64>().unwrap(), 42);
    assert_eq!(result.args, serde_json::json!([2, 40]));
    assert_eq!(result.attempts(), 1);
    assert!(result.started_at.is_some() && result.finished_at >= result.started_at);
    assert!(
        result.task_name.ends_with("api::add"),
        "{}",
        result.task_name
    );

    assert_eq!(
        no_args
            .enqueue(&tasks)
            .await
            .unwrap()
            .return_value::<String>()
            .unwrap(),
        "done"
    );
    assert_eq!(
        blocking_sum
            .enqueue(&tasks, vec![1, 2, 3])
            .await
            .unwrap()
            .return_value::<u64>()
            .unwrap(),
        6
    );

    // Results are not kept (Django: supports_get_result is False).
    assert!(matches!(
        tasks.get_result(&result.id).await,
        Err(Error::NotSupported { .. })
    ));
}

#[tokio::test]
async fn failures_and_panics_are_recorded() {
    let tasks = Tasks::default();
    let failed = boom.enqueue(&tasks).await.unwrap();
    assert_eq!(failed.status, TaskResultStatus::Failed);
    assert_eq!(failed.errors.len(), 1);
    assert_eq!(failed.errors[0].message, "disk on fire");
    assert!(failed.errors[0].exception_class_path.contains("io"));
    assert!(matches!(
        failed.return_value::<()>(),
        Err(Error::NoReturnValue("Task failed"))
    ));

    let panicked = panics.enqueue(&tasks, "kaboom".into()).await.unwrap();
    assert_eq!(panicked.status, TaskResultStatus::Failed);
    assert_eq!(panicked.errors[0].exception_class_path, "panic");
    assert_eq!(panicked.errors[0].message, "kaboom");

    let anyhow_failed = anyhow_task.enqueue(&tasks, true).await.unwrap();
    assert_eq!(anyhow_failed.errors[0].message, "nope: 42");
    assert_eq!(
        anyhow_failed.errors[0].exception_class_path,
        "anyhow::Error"
    );
    assert_eq!(
        anyhow_task
            .enqueue(&tasks, false)
            .await
            .unwrap()
            .return_value::<u32>()
            .unwrap(),
        7
    );
}

#[tokio::test]
async fn inline_call_runs_the_function() {
    assert_eq!(add.call(1, 2).await, 3);
    assert_eq!(blocking_sum.call(vec![4, 5]), 9);
    assert!(boom.call().await.is_err());
}

#[tokio::test]
async fn context_carries_attempt_and_result() {
    let tasks = Tasks::builder()
        .backend("default", djrs_tasks::ImmediateBackend::new())
        .queues("default", ["reports"])
        .build()
        .unwrap();
    let result = with_context.enqueue(&tasks, "x".into()).await.unwrap();
    assert_eq!(result.return_value::<String>().unwrap(), "x:1:reports");
    assert_eq!(result.priority, -5);
}

#[tokio::test]
async fn dummy_backend_stores_and_validates() {
    let (dummy, tasks) = dummy_tasks();
    let result = add
        .using()
        .priority(100)
        .enqueue(&tasks, 1, 1)
        .await
        .unwrap();
    assert_eq!(result.status, TaskResultStatus::Ready);
    assert_eq!(result.priority, 100);
    assert!(matches!(
        result.return_value::<i64>(),
        Err(Error::NoReturnValue("Task has not finished yet"))
    ));
    assert_eq!(tasks.get_result(&result.id).await.unwrap(), result);
    assert_eq!(
        add.get_result(&tasks, &result.id).await.unwrap().id,
        result.id
    );
    assert!(matches!(
        no_args.get_result(&tasks, &result.id).await,
        Err(Error::TaskResultMismatch { .. })
    ));
    assert!(matches!(
        tasks.get_result("missing").await,
        Err(Error::TaskResultDoesNotExist(_))
    ));

    let cases: Vec<(Result<TaskResult>, &str)> = vec![
        (
            add.using().priority(101).enqueue(&tasks, 1, 1).await,
            "priority must be a whole number between -100 and 100.",
        ),
        (
            add.using().priority(-101).enqueue(&tasks, 1, 1).await,
            "priority must be a whole number between -100 and 100.",
        ),
        (
            add.using().queue_name("emails").enqueue(&tasks, 1, 1).await,
            "Queue 'emails' is not valid for backend.",
        ),
        (
            add.using().backend("other").enqueue(&tasks, 1, 1).await,
            "The connection 'other' doesn't exist.",
        ),
    ];
    for (got, message) in cases {
        assert_eq!(got.unwrap_err().to_string(), message);
    }
    // Deferring needs a backend that defers: DummyBackend does, ImmediateBackend does not.
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    assert!(
        add.using()
            .run_after(later)
            .enqueue(&tasks, 1, 1)
            .await
            .is_ok()
    );
    let err = add
        .using()
        .run_after(later)
        .enqueue(&Tasks::default(), 1, 1)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Backend does not support run_after.");
    assert_eq!(dummy.results().len(), 2);
}

#[tokio::test]
async fn arguments_must_round_trip_through_json() {
    let (_, tasks) = dummy_tasks();
    let err = takes_float.enqueue(&tasks, f64::NAN).await.unwrap_err();
    assert!(matches!(err, Error::InvalidTask(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("Task arguments must round-trip through JSON")
    );
    assert!(takes_float.enqueue(&tasks, 1.5).await.is_ok());
}

/// A backend without priorities, as Django's RQ backend.
#[derive(Debug)]
struct NoPriorities(DummyBackend);

impl Backend for NoPriorities {
    fn name(&self) -> &'static str {
        "NoPriorities"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::none().with_async_task()
    }
    fn enqueue<'a>(
        &'a self,
        ctx: &'a BackendContext<'a>,
        task: NewTask,
    ) -> BoxFuture<'a, Result<TaskResult>> {
        self.0.enqueue(ctx, task)
    }
    fn get_result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<TaskResult>> {
        self.0.get_result(id)
    }
}

#[tokio::test]
async fn priority_needs_a_backend_with_priorities() {
    let tasks = Tasks::builder()
        .backend("default", NoPriorities(DummyBackend::new()))
        .build()
        .unwrap();
    assert!(add.enqueue(&tasks, 1, 2).await.is_ok());
    let err = add
        .using()
        .priority(1)
        .enqueue(&tasks, 1, 2)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Backend does not support setting priority of tasks."
    );
}

#[tokio::test]
async fn hooks_fire_for_each_signal() {
    let counts: Arc<[AtomicU32; 3]> = Arc::default();
    let (a, b, c) = (
        Arc::clone(&counts),
        Arc::clone(&counts),
        Arc::clone(&counts),
    );
    let tasks = Tasks::builder()
        .backend("default", djrs_tasks::ImmediateBackend::new())
        .on_task_enqueued(move |r| {
            assert_eq!(r.status, TaskResultStatus::Ready);
            a[0].fetch_add(1, Ordering::SeqCst);
        })
        .on_task_started(move |r| {
            assert_eq!(r.status, TaskResultStatus::Running);
            b[1].fetch_add(1, Ordering::SeqCst);
        })
        .on_task_finished(move |r| {
            assert!(r.is_finished());
            c[2].fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    add.enqueue(&tasks, 1, 1).await.unwrap();
    boom.enqueue(&tasks).await.unwrap();
    let seen: Vec<u32> = counts.iter().map(|c| c.load(Ordering::SeqCst)).collect();
    assert_eq!(seen, [2, 2, 2]);
}

#[test]
fn config_is_validated() {
    let parse = |json: &str| -> Result<Tasks> {
        Tasks::from_config(serde_json::from_str::<TasksConfig>(json).unwrap())
    };
    assert!(
        parse(r#"{"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}"#)
            .is_ok()
    );
    let unknown = parse(r#"{"default": {"BACKEND": "celery.Backend"}}"#).unwrap_err();
    assert!(matches!(unknown, Error::InvalidTaskBackend(_)));
    assert!(
        unknown
            .to_string()
            .contains("Could not find backend 'celery.Backend'")
    );
    let bad_option =
        parse(r#"{"default": {"BACKEND": "DummyBackend", "OPTIONS": {"X": 1}}}"#).unwrap_err();
    assert!(matches!(bad_option, Error::InvalidTaskBackend(_)));
    assert!(
        serde_json::from_str::<TasksConfig>(
            r#"{"default": {"BACKEND": "DummyBackend", "TYPO": 1}}"#
        )
        .is_err()
    );
    let tasks = parse(r#"{"default": {"BACKEND": "DummyBackend", "QUEUES": []}}"#).unwrap();
    assert_eq!(tasks.aliases(), ["default"]);
}

#[test]
fn tasks_register_by_stable_name() {
    let names = djrs_tasks::registered_task_names();
    for task in [
        "api::add",
        "api::no_args",
        "api::blocking_sum",
        "api::with_context",
    ] {
        assert!(
            names.iter().any(|n| n.ends_with(task)),
            "{task} missing from {names:?}"
        );
    }
    assert_eq!(add.name(), concat!(module_path!(), "::add"));
}
