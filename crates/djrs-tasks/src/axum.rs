//! axum integration: `Tasks` as state through `FromRef`, and a read-only dashboard (HTML and
//! JSON) to mount under any path.

use axum::Json;
use axum::Router;
use axum::extract::{FromRef, NestedPath, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::{Error, QueueCounts, ResultFilter, TaskResult, Tasks};

/// Which backend a dashboard request looks at (`?backend=`, default `default`).
#[derive(Debug, Deserialize)]
struct BackendParam {
    backend: Option<String>,
}

/// The list filters; spelled out rather than flattened, since flattening breaks numbers in
/// query strings.
#[derive(Debug, Deserialize)]
struct ListParams {
    backend: Option<String>,
    status: Option<crate::TaskResultStatus>,
    queue_name: Option<String>,
    task_name: Option<String>,
    limit: Option<u32>,
}

impl ListParams {
    fn filter(&self) -> ResultFilter {
        ResultFilter {
            status: self.status,
            queue_name: self.queue_name.clone(),
            task_name: self.task_name.clone(),
            limit: self.limit,
        }
    }
}

/// A dashboard error as a response: 404 for an unknown result, 400 for a bad parameter, 500
/// (logged, not shown) for a storage failure.
struct DashboardError(Error);

impl IntoResponse for DashboardError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            Error::TaskResultDoesNotExist(_) => StatusCode::NOT_FOUND,
            Error::InvalidTaskBackend(_) | Error::NotSupported { .. } => StatusCode::BAD_REQUEST,
            _ => {
                tracing::error!(target: "djrs_tasks", error = %self.0, "dashboard query failed");
                return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
                    .into_response();
            }
        };
        (status, self.0.to_string()).into_response()
    }
}

impl From<Error> for DashboardError {
    fn from(err: Error) -> Self {
        DashboardError(err)
    }
}

fn queue_of<'a>(tasks: &'a Tasks, backend: Option<&str>) -> Result<&'a dyn crate::Queue, Error> {
    let backend = tasks.backend(backend.unwrap_or(crate::DEFAULT_TASK_BACKEND_ALIAS))?;
    backend.queue().ok_or(Error::NotSupported {
        backend: backend.name(),
        operation: "the dashboard (it keeps no queue)",
    })
}

/// A read-only dashboard of a queueing backend: counts by queue and status, recent results with
/// filters (`?status=FAILED&queue_name=emails&task_name=…&limit=…`), one result with its
/// errors. JSON under `api/`. Every request must pass `authorize` (403 otherwise).
///
/// ```
/// use axum::Router;
/// use djrs_tasks::Tasks;
///
/// let tasks = Tasks::default();
/// // Let only requests carrying the staff header in; a real app checks its session.
/// let dashboard = djrs_tasks::axum::dashboard(|parts| parts.headers.contains_key("x-staff"));
/// let app: Router = Router::new().nest("/tasks", dashboard).with_state(tasks);
/// # let _ = app;
/// ```
pub fn dashboard<S>(authorize: impl Fn(&Parts) -> bool + Clone + Send + Sync + 'static) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tasks: FromRef<S>,
{
    Router::new()
        .route("/", get(index))
        .route("/results/{id}", get(detail))
        .route("/api/counts", get(api_counts))
        .route("/api/results", get(api_results))
        .route("/api/results/{id}", get(api_result))
        .route_layer(axum::middleware::from_fn(
            move |request: Request, next: Next| {
                let authorize = authorize.clone();
                async move {
                    let (parts, body) = request.into_parts();
                    if !authorize(&parts) {
                        return (StatusCode::FORBIDDEN, "Forbidden").into_response();
                    }
                    next.run(Request::from_parts(parts, body)).await
                }
            },
        ))
}

async fn api_counts(
    State(tasks): State<Tasks>,
    Query(q): Query<BackendParam>,
) -> Result<Json<QueueCounts>, DashboardError> {
    Ok(Json(
        queue_of(&tasks, q.backend.as_deref())?.counts().await?,
    ))
}

async fn api_results(
    State(tasks): State<Tasks>,
    Query(q): Query<ListParams>,
) -> Result<Json<Vec<TaskResult>>, DashboardError> {
    Ok(Json(
        queue_of(&tasks, q.backend.as_deref())?
            .list_results(&q.filter())
            .await?,
    ))
}

async fn api_result(
    State(tasks): State<Tasks>,
    Path(id): Path<String>,
    Query(q): Query<BackendParam>,
) -> Result<Json<TaskResult>, DashboardError> {
    let alias = q
        .backend
        .as_deref()
        .unwrap_or(crate::DEFAULT_TASK_BACKEND_ALIAS);
    Ok(Json(tasks.get_result_from(alias, &id).await?))
}

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    ))
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(
        || "—".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
    )
}

/// Where the dashboard is mounted, for absolute links ("" at the root).
fn base(nested: Option<&NestedPath>) -> String {
    nested
        .map(|n| n.as_str().trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

async fn index(
    State(tasks): State<Tasks>,
    nested: Result<NestedPath, axum::extract::rejection::NestedPathRejection>,
    Query(q): Query<ListParams>,
) -> Result<Html<String>, DashboardError> {
    let base = base(nested.as_ref().ok());
    // The list is the mount point itself: under `nest("/tasks", …)` axum serves `/tasks`, not
    // `/tasks/`.
    let list = if base.is_empty() { "/" } else { base.as_str() };
    let queue = queue_of(&tasks, q.backend.as_deref())?;
    let counts = queue.counts().await?;
    let results = queue.list_results(&q.filter()).await?;
    let mut body =
        String::from("<h2>Counts</h2><table><tr><th>queue</th><th>status</th><th>count</th></tr>");
    for (queue_name, status, n) in &counts.rows {
        body.push_str(&format!(
            "<tr><td>{}</td><td><a href=\"{list}?status={status}\">{status}</a></td><td>{n}</td></tr>",
            esc(queue_name)
        ));
    }
    body.push_str("</table><h2>Recent results</h2><table><tr><th>id</th><th>task</th><th>queue</th><th>status</th><th>attempts</th><th>enqueued</th><th>finished</th></tr>");
    for r in &results {
        body.push_str(&format!(
            "<tr><td><a href=\"{base}/results/{id}\">{id}</a></td><td>{task}</td><td>{queue}</td><td>{status}</td><td>{attempts}</td><td>{enq}</td><td>{fin}</td></tr>",
            id = esc(&r.id),
            task = esc(&r.task_name),
            queue = esc(&r.queue_name),
            status = r.status,
            attempts = r.attempts(),
            enq = time(Some(r.enqueued_at)),
            fin = time(r.finished_at),
        ));
    }
    body.push_str("</table>");
    Ok(page("Tasks", &body))
}

async fn detail(
    State(tasks): State<Tasks>,
    Path(id): Path<String>,
    Query(q): Query<BackendParam>,
) -> Result<Html<String>, DashboardError> {
    let alias = q
        .backend
        .as_deref()
        .unwrap_or(crate::DEFAULT_TASK_BACKEND_ALIAS);
    let r = tasks.get_result_from(alias, &id).await?;
    let mut body = format!(
        "<dl><dt>task</dt><dd>{}</dd><dt>status</dt><dd>{}</dd><dt>queue</dt><dd>{}</dd><dt>priority</dt><dd>{}</dd>\
         <dt>args</dt><dd><code>{}</code></dd><dt>return value</dt><dd><code>{}</code></dd>\
         <dt>metadata</dt><dd><code>{}</code></dd><dt>attempts</dt><dd>{} of {}</dd><dt>workers</dt><dd>{}</dd>\
         <dt>enqueued</dt><dd>{}</dd><dt>started</dt><dd>{}</dd><dt>last attempted</dt><dd>{}</dd><dt>finished</dt><dd>{}</dd></dl>",
        esc(&r.task_name),
        r.status,
        esc(&r.queue_name),
        r.priority,
        esc(&r.args.to_string()),
        esc(&r
            .return_value
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()),
        esc(&serde_json::Value::Object(r.metadata.clone()).to_string()),
        r.attempts(),
        r.max_attempts,
        esc(&r.worker_ids.join(", ")),
        time(Some(r.enqueued_at)),
        time(r.started_at),
        time(r.last_attempted_at),
        time(r.finished_at),
    );
    body.push_str("<h2>Errors</h2><ol>");
    for e in &r.errors {
        body.push_str(&format!(
            "<li><strong>{}</strong>: {}<pre>{}</pre></li>",
            esc(&e.exception_class_path),
            esc(&e.message),
            esc(&e.traceback)
        ));
    }
    body.push_str("</ol>");
    Ok(page(&format!("Task {}", r.id), &body))
}
