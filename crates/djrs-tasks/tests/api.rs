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
fn blocking_panics(message: String) {
    panic!("{message}");
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
    // A synchronous task's panic, caught on the blocking pool, keeps its message too.
    let blocking = blocking_panics
        .enqueue(&tasks, "sync kaboom".into())
        .await
        .unwrap();
    assert_eq!(blocking.status, TaskResultStatus::Failed);
    assert_eq!(blocking.errors[0].exception_class_path, "panic");
    assert_eq!(blocking.errors[0].message, "sync kaboom");

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

#[task]
async fn takes_map(map: std::collections::HashMap<i64, String>) -> usize {
    map.len()
}

#[task]
async fn takes_bool_map(map: std::collections::BTreeMap<bool, u8>) -> usize {
    map.len()
}

#[task]
async fn takes_text_map(map: std::collections::BTreeMap<String, u8>) -> usize {
    map.len()
}

#[task]
async fn takes_json(value: serde_json::Value) -> serde_json::Value {
    value
}

#[tokio::test]
async fn map_arguments_need_string_keys() {
    let (dummy, tasks) = dummy_tasks();
    let numbers = std::collections::HashMap::from([(1, "one".to_owned())]);
    let err = takes_map.enqueue(&tasks, numbers).await.unwrap_err();
    assert!(matches!(err, Error::InvalidTask(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "Task arguments must round-trip through JSON: a map has integer keys, which JSON turns into strings (use string keys)"
    );
    let bools = std::collections::BTreeMap::from([(true, 1)]);
    let err = takes_bool_map.enqueue(&tasks, bools).await.unwrap_err();
    assert!(err.to_string().contains("a map has bool keys"), "{err}");
    // Nested maps are checked too; string keys are fine, even ones that look like numbers.
    let text = std::collections::BTreeMap::from([("1".to_owned(), 1)]);
    assert!(takes_text_map.enqueue(&tasks, text).await.is_ok());
    assert_eq!(dummy.results().len(), 1);
}

#[tokio::test]
async fn arguments_holding_nul_are_refused_before_any_backend_sees_them() {
    let (dummy, tasks) = dummy_tasks();
    let value = serde_json::json!({"ok": [1, "fine"], "deep": {"list": ["a", "b\u{0}c"]}});
    let err = takes_json.enqueue(&tasks, value).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Task arguments cannot hold the character U+0000 (NUL), which databases cannot store; \
         found at arguments[0][\"deep\"][\"list\"][1]"
    );
    let key = serde_json::json!({"k\u{0}": 1});
    assert!(takes_json.enqueue(&tasks, key).await.is_err());
    assert!(dummy.results().is_empty());
}

/// Any JSON value: nested arrays and objects of strings (some with U+0000), numbers, bools.
fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-z\u{0}é]{0,6}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[a-z\u{0}]{0,3}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn holds_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(holds_nul),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

proptest::proptest! {
    /// Any JSON argument is either stored or refused with `InvalidTask`, refused exactly when it
    /// holds a U+0000 somewhere; nothing panics.
    #[test]
    fn any_json_argument_is_stored_or_refused_by_the_nul_rule(value in json_value()) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (_, tasks) = dummy_tasks();
        let outcome = runtime.block_on(takes_json.enqueue(&tasks, value.clone()));
        match outcome {
            Ok(result) => {
                proptest::prop_assert!(!holds_nul(&value));
                proptest::prop_assert_eq!(&result.args, &serde_json::json!([value]));
            }
            Err(Error::InvalidTask(message)) => {
                proptest::prop_assert!(holds_nul(&value), "{}", message);
            }
            Err(other) => proptest::prop_assert!(false, "unexpected error {other:?}"),
        }
    }
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
