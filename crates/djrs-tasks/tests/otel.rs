//! Trace propagation (feature `otel`): a task enqueued inside a span carries its OpenTelemetry
//! context, and the worker's attempt span continues that trace as the enqueuing span's child,
//! on every store (SQLite always; PostgreSQL, MariaDB and Redis with their features), with the
//! spans caught by an in-memory exporter.

use djrs_tasks::{Error, SqliteBackend, TaskContext, Tasks, Worker, task};
use djrs_test_support::SqliteFile;
use opentelemetry::trace::{SpanId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt as _;

/// Records progress and saves it: the stored metadata must keep the trace beside it.
#[task(takes_context)]
async fn step(ctx: TaskContext) -> Result<(), Error> {
    ctx.set_metadata("done", 1)?;
    ctx.save_metadata().await
}

/// Enqueues a `step` inside a span and one outside any, works both, and checks that the first
/// attempt's span continues the enqueuing trace and that the stored metadata keeps it.
async fn the_attempt_continues_the_enqueuing_trace_on(tasks: &Tasks) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("djrs-tasks-test"));
    // Current-thread runtime: the worker's tasks run on this thread, under this subscriber.
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));

    let traced = async { step.enqueue(tasks).await.unwrap() }
        .instrument(tracing::info_span!("request"))
        .await;
    let traceparent = traced.metadata["_traceparent"].as_str().unwrap().to_owned();
    // The store wrote it with the task.
    let stored = tasks.get_result(&traced.id).await.unwrap();
    assert_eq!(stored.metadata["_traceparent"], traceparent.as_str());
    // Outside any span there is no trace to carry.
    let untraced = step.enqueue(tasks).await.unwrap();
    assert!(untraced.metadata.is_empty(), "{:?}", untraced.metadata);

    let stats = Worker::new(tasks).run_until_idle().await.unwrap();
    assert_eq!(stats.succeeded, 2);
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let request = spans
        .iter()
        .find(|s| s.name == "request")
        .expect("the request span");
    let attempts: Vec<_> = spans.iter().filter(|s| s.name == "task").collect();
    assert_eq!(attempts.len(), 2, "{spans:#?}");
    let trace_id = request.span_context.trace_id();
    assert_eq!(
        traceparent,
        format!("00-{trace_id}-{}-01", request.span_context.span_id())
    );
    let (continued, other): (Vec<_>, Vec<_>) = attempts
        .into_iter()
        .partition(|s| s.span_context.trace_id() == trace_id);
    assert_eq!(
        continued.len(),
        1,
        "one attempt continues the request's trace"
    );
    assert_eq!(continued[0].parent_span_id, request.span_context.span_id());
    assert!(continued[0].parent_span_is_remote);
    // The untraced task's attempt starts a trace of its own.
    assert_eq!(other[0].parent_span_id, SpanId::INVALID);

    // What the task saved kept the reserved key beside its own.
    let stored = tasks.get_result(&traced.id).await.unwrap();
    assert_eq!(stored.metadata["_traceparent"], traceparent.as_str());
    assert_eq!(stored.metadata["done"], 1);
    assert_eq!(
        tasks.get_result(&untraced.id).await.unwrap().metadata["done"],
        1
    );
}

#[tokio::test]
async fn the_attempt_continues_the_enqueuing_trace_on_sqlite() {
    let file = SqliteFile::new().unwrap();
    let tasks = Tasks::builder()
        .backend("default", SqliteBackend::open(file.path()).unwrap())
        .build()
        .unwrap();
    the_attempt_continues_the_enqueuing_trace_on(&tasks).await;
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn the_attempt_continues_the_enqueuing_trace_on_postgres() {
    let schema = djrs_test_support::PgSchema::create("djrs_tasks_otel")
        .await
        .expect("PostgreSQL is reachable");
    let tasks = Tasks::builder()
        .backend(
            "default",
            djrs_tasks::PostgresBackend::from_pool(schema.pool(4).unwrap()),
        )
        .build()
        .unwrap();
    the_attempt_continues_the_enqueuing_trace_on(&tasks).await;
}

#[cfg(feature = "mysql")]
#[tokio::test]
async fn the_attempt_continues_the_enqueuing_trace_on_mysql() {
    let database = djrs_test_support::MysqlDatabase::create("djrs_tasks_otel")
        .await
        .expect("MariaDB is reachable");
    let tasks = Tasks::builder()
        .backend(
            "default",
            djrs_tasks::MysqlBackend::from_pool(database.pool(4).unwrap()),
        )
        .build()
        .unwrap();
    the_attempt_continues_the_enqueuing_trace_on(&tasks).await;
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn the_attempt_continues_the_enqueuing_trace_on_redis() {
    let url =
        std::env::var("DJRS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let prefix = djrs_test_support::unique_name("djrs-test-otel");
    let backend = djrs_tasks::RedisBackend::open(&url)
        .unwrap()
        .prefix(&prefix)
        .unwrap();
    let tasks = Tasks::builder()
        .backend("default", backend)
        .build()
        .unwrap();
    the_attempt_continues_the_enqueuing_trace_on(&tasks).await;
    // Remove what the test stored.
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    if !keys.is_empty() {
        redis::cmd("DEL")
            .arg(&keys)
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
    }
}
