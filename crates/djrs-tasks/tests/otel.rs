//! Trace propagation (feature `otel`): a task enqueued inside a span carries its OpenTelemetry
//! context, and the worker's attempt span continues that trace as the enqueuing span's child,
//! on a real SQLite queue with the spans caught by an in-memory exporter.

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

#[tokio::test]
async fn the_attempt_continues_the_trace_of_the_span_that_enqueued_it() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("djrs-tasks-test"));
    // Current-thread runtime: the worker's tasks run on this thread, under this subscriber.
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));

    let file = SqliteFile::new().unwrap();
    let tasks = Tasks::builder()
        .backend("default", SqliteBackend::open(file.path()).unwrap())
        .build()
        .unwrap();
    let traced = async { step.enqueue(&tasks).await.unwrap() }
        .instrument(tracing::info_span!("request"))
        .await;
    let traceparent = traced.metadata["_traceparent"].as_str().unwrap().to_owned();
    // Outside any span there is no trace to carry.
    let untraced = step.enqueue(&tasks).await.unwrap();
    assert!(untraced.metadata.is_empty(), "{:?}", untraced.metadata);

    let stats = Worker::new(&tasks).run_until_idle().await.unwrap();
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
