//! `GET /metrics`: the process's metrics in Prometheus' text format, among them the task
//! counters, histograms and queue gauges `djrs-tasks` emits (feature `tasks-metrics`).
//!
//! [`install`] makes `metrics-exporter-prometheus`'s recorder the process's recorder; it must
//! run before the first task is enqueued or worked, since `djrs-tasks` registers its metrics
//! once per queue and task. [`serve_with_limits`](crate::serve_with_limits) calls it first.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// How often histograms are folded into their summaries when nobody scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder as the process's metrics recorder, once; later calls
/// return the same handle. Inside a tokio runtime it also starts the recorder's upkeep.
///
/// If another recorder was installed first, that one keeps the metrics and this handle
/// renders nothing (logged once).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handle = djrs_demo::metrics::install();
/// metrics::counter!("demo_doc_total").increment(1);
/// assert!(handle.render().contains("demo_doc_total 1"));
/// assert!(std::ptr::eq(handle, djrs_demo::metrics::install()));
/// # }
/// ```
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        if let Err(err) = metrics::set_global_recorder(recorder) {
            tracing::warn!(error = %err, "another metrics recorder is installed; /metrics stays empty");
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let upkeep = handle.clone();
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(UPKEEP);
                loop {
                    tick.tick().await;
                    upkeep.run_upkeep();
                }
            });
        }
        handle
    })
}

/// The `/metrics` route, rendering what the recorder [`install`] set up has gathered.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use tower::ServiceExt as _;
///
/// let app: axum::Router = djrs_demo::metrics::routes();
/// let request = axum::http::Request::get("/metrics").body(axum::body::Body::empty()).unwrap();
/// let response = app.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), 200);
/// assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
/// # }
/// ```
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/metrics", get(render))
}

async fn render() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        install().render(),
    )
}
