//! The operator's console: an overview of the queues, task lists (filtered, searched, keyset
//! pages), a task's page, and the actions, each a confirmed `POST` from this site only.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, FromRequestParts, NestedPath, Path, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};
use chrono::{DateTime, NaiveDateTime, Utc};

use super::actions::{Action, act};
use super::guard::{Access, same_origin};
use super::html::{Page, Section, esc};
use super::pages::{list, overview, task_page};
use crate::{Error, Queue, ResultFilter, TaskId, TaskResult, Tasks};

/// How far back the overview's throughput and failure rate look.
pub(super) const WINDOW_MINUTES: i64 = 5;
/// Tasks on one list page, unless `per_page` says otherwise (at most [`MAX_PER_PAGE`]).
pub(super) const PER_PAGE: u32 = 50;
pub(super) const MAX_PER_PAGE: u32 = 200;
/// The most tasks one action takes.
pub(super) const MAX_IDS: usize = 500;
/// The longest task id, queue or task name a request may carry.
pub(super) const MAX_TEXT: usize = 255;

/// Which backend the console shows.
#[derive(Debug)]
pub(super) struct Settings {
    pub(super) alias: String,
}

/// The operator's console for the default backend's queue, to mount with `nest` anywhere:
/// an overview of every queue (counts, throughput and failure rate over the last five
/// minutes, the oldest waiting task, paused or not, the limit, the workers alive), task lists
/// filtered by status, queue, task name and time, searchable by id, newest first in keyset
/// pages; a task's page (arguments, attempts and workers, errors with tracebacks, metadata,
/// timing); and the actions — retry, cancel, delete, run now (one task or many), pause,
/// resume and limit a queue — each a `POST` that is confirmed first and refused when another
/// site sends it. Every request must pass `authorize`, which sees the request and whether it
/// reads or acts (`403` otherwise). Pages carry a strict Content Security Policy with a nonce
/// (the one djrs-csp's middleware made, with the `csp` feature), need no external asset, work
/// without JavaScript and refresh themselves with htmx where it runs. JSON under `api/`.
///
/// ```
/// use axum::Router;
/// use djrs_tasks::Tasks;
/// use djrs_tasks::axum::Access;
///
/// let tasks = Tasks::default();
/// // Staff may look; only admins may act. A real app checks its session here.
/// let console = djrs_tasks::axum::console(|parts, access| {
///     let role = parts.headers.get("x-role").and_then(|v| v.to_str().ok());
///     match access {
///         Access::Read => matches!(role, Some("staff" | "admin")),
///         _ => role == Some("admin"),
///     }
/// });
/// let app: Router = Router::new().nest("/admin/tasks", console).with_state(tasks);
/// # let _ = app;
/// ```
pub fn console<S>(
    authorize: impl Fn(&Parts, Access) -> bool + Clone + Send + Sync + 'static,
) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tasks: FromRef<S>,
{
    console_of(crate::DEFAULT_TASK_BACKEND_ALIAS, authorize)
}

/// As [`console`], for the backend `alias`.
///
/// ```
/// use axum::Router;
/// use djrs_tasks::Tasks;
///
/// let console = djrs_tasks::axum::console_of("reports", |_parts, _access| true);
/// let app: Router = Router::new().nest("/reports/tasks", console).with_state(Tasks::default());
/// # let _ = app;
/// ```
pub fn console_of<S>(
    alias: &str,
    authorize: impl Fn(&Parts, Access) -> bool + Clone + Send + Sync + 'static,
) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Tasks: FromRef<S>,
{
    Router::new()
        .route("/", get(overview))
        .route("/list", get(list))
        .route("/task/{id}", get(task_page))
        .route("/actions", post(act))
        .route("/static/console.css", get(stylesheet))
        .route("/static/htmx.min.js", get(htmx))
        .route("/static/console.js", get(script))
        .route("/api/counts", get(api_counts))
        .route("/api/activity", get(api_activity))
        .route("/api/results", get(api_results))
        .route("/api/results/{id}", get(api_result))
        .route_layer(axum::middleware::from_fn(
            move |request: Request, next: Next| {
                let authorize = authorize.clone();
                async move {
                    let (parts, body) = request.into_parts();
                    let access = Access::of(&parts.method);
                    if access == Access::Act && !same_origin(&parts) {
                        return (StatusCode::FORBIDDEN, "Cross-site request refused")
                            .into_response();
                    }
                    if !authorize(&parts, access) {
                        return (StatusCode::FORBIDDEN, "Forbidden").into_response();
                    }
                    next.run(Request::from_parts(parts, body)).await
                }
            },
        ))
        .layer(Extension(Arc::new(Settings {
            alias: alias.to_owned(),
        })))
}

/// Mounts `console` on `router` at `prefix` (no trailing slash, e.g. `/admin/tasks`) with
/// `nest`, and answers `prefix/` too by sending the browser on to `prefix` (axum's `nest`
/// serves only the prefix itself). The query string goes along.
///
/// ```
/// use axum::Router;
/// use djrs_tasks::Tasks;
///
/// let console = djrs_tasks::axum::console(|_parts, _access| true);
/// let app: Router = djrs_tasks::axum::mount(Router::new(), "/admin/tasks", console)
///     .with_state(Tasks::default());
/// # let _ = app;
/// ```
pub fn mount<S>(router: Router<S>, prefix: &str, console: Router<S>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let prefix = prefix.trim_end_matches('/').to_owned();
    if prefix.is_empty() {
        return router.merge(console);
    }
    let target = prefix.clone();
    router.nest(&prefix, console).route(
        &format!("{prefix}/"),
        get(move |RawQuery(query): RawQuery| async move {
            match query {
                Some(query) => Redirect::permanent(&format!("{target}?{query}")),
                None => Redirect::permanent(&target),
            }
        }),
    )
}

/// A console error as a response: 404 for an unknown task, 400 (with what was wrong, escaped)
/// for a bad parameter, 500 (logged, not shown) for a storage failure.
pub(super) enum ConsoleError {
    Store(Error),
    BadRequest(String),
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ConsoleError::BadRequest(message) => (StatusCode::BAD_REQUEST, message),
            ConsoleError::Store(Error::TaskResultDoesNotExist(id)) => {
                (StatusCode::NOT_FOUND, format!("No task has the id {id:?}."))
            }
            ConsoleError::Store(
                err @ (Error::InvalidTaskBackend(_) | Error::NotSupported { .. }),
            ) => (StatusCode::BAD_REQUEST, err.to_string()),
            ConsoleError::Store(err) => {
                tracing::error!(target: "djrs_tasks", error = %err, "console query failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The task store could not be read; the server log says why.".to_owned(),
                )
            }
        };
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{code}</title></head>\
             <body><h1>{code}</h1><p>{}</p></body></html>",
            esc(&message),
            code = status.as_u16(),
        );
        let mut response = (status, axum::response::Html(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'"),
        );
        response
    }
}

impl From<Error> for ConsoleError {
    fn from(err: Error) -> Self {
        ConsoleError::Store(err)
    }
}

pub(super) type Result<T> = std::result::Result<T, ConsoleError>;

/// What every page needs: where the console is mounted, this response's nonce, the query.
pub(super) struct Ctx {
    pub(super) base: String,
    pub(super) nonce: String,
    pub(super) query: Vec<(String, String)>,
}

impl Ctx {
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    pub(super) fn page(
        &self,
        title: String,
        section: Option<Section>,
        live: bool,
        body: String,
    ) -> Response {
        Page {
            base: &self.base,
            nonce: &self.nonce,
            title,
            section,
            live,
            body,
        }
        .render()
    }

    /// The notice an action left in the URL it sent the operator back to.
    pub(super) fn notice(&self) -> String {
        let (Some(action), Some(n), Some(of)) =
            (self.param("done"), self.param("n"), self.param("of"))
        else {
            return String::new();
        };
        let (Ok(n), Ok(of)) = (n.parse::<u64>(), of.parse::<u64>()) else {
            return String::new();
        };
        let Some(action) = Action::parse(action) else {
            return String::new();
        };
        format!(
            "<p class=\"notice\" role=\"status\">{}</p>",
            action.done(n, of)
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> std::result::Result<Self, Self::Rejection> {
        let base = NestedPath::from_request_parts(parts, state)
            .await
            .map(|n| n.as_str().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let query = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        Ok(Ctx {
            base,
            nonce: nonce(),
            query,
        })
    }
}

/// This response's script nonce: the one djrs-csp's middleware made for the request (so the
/// application's own policy allows the console's script too), or a fresh random one.
pub(super) fn nonce() -> String {
    #[cfg(feature = "csp")]
    if let Some(nonce) = djrs_csp::CspNonce::current() {
        return nonce.as_str().to_owned();
    }
    uuid::Uuid::new_v4().simple().to_string()
}

pub(super) fn queue_of<'a>(
    tasks: &'a Tasks,
    alias: &str,
) -> std::result::Result<&'a dyn Queue, Error> {
    let backend = tasks.backend(alias)?;
    backend.queue().ok_or(Error::NotSupported {
        backend: backend.name(),
        operation: "the console (it keeps no queue)",
    })
}

/// A name or id from a request: at most [`MAX_TEXT`] characters, no NUL.
pub(super) fn text_param(name: &str, value: &str) -> Result<String> {
    if value.chars().count() > MAX_TEXT || value.contains('\0') {
        return Err(ConsoleError::BadRequest(format!(
            "The {name} must be at most {MAX_TEXT} characters, without NUL."
        )));
    }
    Ok(value.to_owned())
}

/// A time filter: `2026-12-01T09:30` (what a date-time field sends, read as UTC), with seconds,
/// or RFC 3339 with an offset.
pub(super) fn time_param(name: &str, value: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(value, format) {
            return Ok(t.and_utc());
        }
    }
    Err(ConsoleError::BadRequest(format!(
        "The {name} time {value:?} is not a time like 2026-12-01T09:30 (UTC)."
    )))
}

/// The list filter a request asks for.
pub(super) fn filter_of(ctx: &Ctx) -> Result<ResultFilter> {
    let mut filter = ResultFilter::default();
    if let Some(status) = ctx.param("status") {
        filter.status = Some(status.parse().map_err(|_| {
            ConsoleError::BadRequest(format!(
                "The status {status:?} is none of READY, RUNNING, FAILED, SUCCESSFUL."
            ))
        })?);
    }
    filter.queue_name = ctx
        .param("queue_name")
        .map(|v| text_param("queue name", v))
        .transpose()?;
    filter.task_name = ctx
        .param("task_name")
        .map(|v| text_param("task name", v))
        .transpose()?;
    filter.before = ctx
        .param("before")
        .map(|v| text_param("task id", v).map(TaskId::from))
        .transpose()?;
    filter.enqueued_since = ctx
        .param("since")
        .map(|v| time_param("since", v))
        .transpose()?;
    filter.enqueued_until = ctx
        .param("until")
        .map(|v| time_param("until", v))
        .transpose()?;
    let per_page = match ctx.param("per_page") {
        None => PER_PAGE,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PER_PAGE).contains(n))
            .ok_or_else(|| {
                ConsoleError::BadRequest(format!(
                    "per_page must be a number from 1 to {MAX_PER_PAGE}."
                ))
            })?,
    };
    filter.limit = Some(per_page);
    Ok(filter)
}

pub(super) async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("static/console.css"),
    )
}

pub(super) async fn htmx() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("static/htmx.min.js"),
    )
}

pub(super) async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("static/console.js"),
    )
}

pub(super) fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

pub(super) async fn api_counts(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
) -> Result<Json<crate::QueueCounts>> {
    Ok(Json(queue_of(&tasks, &settings.alias)?.counts().await?))
}

pub(super) async fn api_activity(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
) -> Result<Json<crate::Activity>> {
    let since = Utc::now() - chrono::Duration::minutes(WINDOW_MINUTES);
    Ok(Json(
        queue_of(&tasks, &settings.alias)?.activity(since).await?,
    ))
}

pub(super) async fn api_results(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
    ctx: Ctx,
) -> Result<Json<Vec<TaskResult>>> {
    let filter = filter_of(&ctx)?;
    Ok(Json(
        queue_of(&tasks, &settings.alias)?
            .list_results(&filter)
            .await?,
    ))
}

pub(super) async fn api_result(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
    Path(id): Path<String>,
) -> Result<Json<TaskResult>> {
    let id = text_param("task id", &id)?;
    Ok(Json(tasks.get_result_from(&settings.alias, &id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_a_date_time_field_sends_them() {
        let expected = "2026-12-01T09:30:00Z".parse::<DateTime<Utc>>().unwrap();
        for text in [
            "2026-12-01T09:30",
            "2026-12-01T09:30:00",
            "2026-12-01 09:30:00",
            "2026-12-01T10:30:00+01:00",
        ] {
            assert_eq!(time_param("since", text).ok(), Some(expected), "{text}");
        }
        assert!(time_param("since", "yesterday").is_err());
    }
}
