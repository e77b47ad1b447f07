//! The operator's console: an overview of the queues, task lists (filtered, searched, keyset
//! pages), a task's page, and the actions, each a confirmed `POST` from this site only.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequestParts, NestedPath, Path, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};
use chrono::{DateTime, NaiveDateTime, Utc};

use super::guard::{Access, same_origin};
use super::html::{Page, Section, badge, enc, esc, span, time};
use crate::{Error, Queue, QueueLimit, ResultFilter, TaskId, TaskResult, TaskResultStatus, Tasks};

/// How far back the overview's throughput and failure rate look.
const WINDOW_MINUTES: i64 = 5;
/// Tasks on one list page, unless `per_page` says otherwise (at most [`MAX_PER_PAGE`]).
const PER_PAGE: u32 = 50;
const MAX_PER_PAGE: u32 = 200;
/// The most tasks one action takes.
const MAX_IDS: usize = 500;
/// The longest task id, queue or task name a request may carry.
const MAX_TEXT: usize = 255;

/// Which backend the console shows.
#[derive(Debug)]
struct Settings {
    alias: String,
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
enum ConsoleError {
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

type Result<T> = std::result::Result<T, ConsoleError>;

/// What every page needs: where the console is mounted, this response's nonce, the query.
struct Ctx {
    base: String,
    nonce: String,
    query: Vec<(String, String)>,
}

impl Ctx {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    fn page(&self, title: String, section: Option<Section>, live: bool, body: String) -> Response {
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
    fn notice(&self) -> String {
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
            nonce: nonce(parts),
            query,
        })
    }
}

/// This response's script nonce: the one djrs-csp's middleware made for the request (so the
/// application's own policy allows the console's script too), or a fresh random one.
fn nonce(parts: &Parts) -> String {
    #[cfg(feature = "csp")]
    if let Some(nonce) = parts.extensions.get::<djrs_csp::CspNonce>() {
        return nonce.as_str().to_owned();
    }
    let _ = parts;
    uuid::Uuid::new_v4().simple().to_string()
}

fn queue_of<'a>(tasks: &'a Tasks, alias: &str) -> std::result::Result<&'a dyn Queue, Error> {
    let backend = tasks.backend(alias)?;
    backend.queue().ok_or(Error::NotSupported {
        backend: backend.name(),
        operation: "the console (it keeps no queue)",
    })
}

/// A name or id from a request: at most [`MAX_TEXT`] characters, no NUL.
fn text_param(name: &str, value: &str) -> Result<String> {
    if value.chars().count() > MAX_TEXT || value.contains('\0') {
        return Err(ConsoleError::BadRequest(format!(
            "The {name} must be at most {MAX_TEXT} characters, without NUL."
        )));
    }
    Ok(value.to_owned())
}

/// A time filter: `2026-12-01T09:30` (what a date-time field sends, read as UTC), with seconds,
/// or RFC 3339 with an offset.
fn time_param(name: &str, value: &str) -> Result<DateTime<Utc>> {
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
fn filter_of(ctx: &Ctx) -> Result<ResultFilter> {
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

async fn overview(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
    ctx: Ctx,
) -> Result<Response> {
    // A list's filters given to the console's own address (`/tasks?status=FAILED`) are the
    // list's.
    if ["status", "queue_name", "task_name", "q"]
        .iter()
        .any(|name| ctx.param(name).is_some())
    {
        let query: Vec<String> = ctx
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        return Ok(Redirect::to(&format!("{}/list?{}", ctx.base, query.join("&"))).into_response());
    }
    let queue = queue_of(&tasks, &settings.alias)?;
    let now = Utc::now();
    let counts = queue.counts().await?;
    let activity = queue
        .activity(now - chrono::Duration::minutes(WINDOW_MINUTES))
        .await?;
    let paused: BTreeSet<String> = queue.paused().await?.into_iter().collect();
    let limits = queue.queue_limits().await?;

    let mut by_queue: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
    for (name, status, n) in &counts.rows {
        let slot = TaskResultStatus::ALL
            .iter()
            .position(|s| s == status)
            .unwrap_or(0);
        by_queue.entry(name).or_default()[slot] += n;
    }
    let mut names: BTreeSet<&str> = by_queue.keys().copied().collect();
    names.extend(activity.queues.iter().map(|q| q.queue_name.as_str()));
    names.extend(paused.iter().map(String::as_str));
    names.extend(limits.keys().map(String::as_str));

    let b = &ctx.base;
    let mut totals = [0u64; 4];
    let mut rows = String::new();
    for name in &names {
        let counts = by_queue.get(name).copied().unwrap_or_default();
        for (total, n) in totals.iter_mut().zip(counts) {
            *total += n;
        }
        let recent = activity.queues.iter().find(|q| q.queue_name == *name);
        let (succeeded, failed) = recent.map_or((0, 0), |q| (q.succeeded, q.failed));
        let finished = succeeded + failed;
        let rate = if finished == 0 {
            "—".to_owned()
        } else {
            format!("{:.1} %", failed as f64 * 100.0 / finished as f64)
        };
        let waiting = recent
            .and_then(|q| q.oldest_due)
            .map_or_else(|| "—".to_owned(), |t| span(now - t));
        let q = enc(name);
        let mut cells = String::new();
        for (status, n) in TaskResultStatus::ALL.iter().zip(counts) {
            let _ = write!(
                cells,
                "<td class=\"num\"><a href=\"{b}/list?queue_name={q}&amp;status={status}\">{n}</a></td>"
            );
        }
        let is_paused = paused.contains(*name);
        let state = if is_paused {
            "<span class=\"paused\">paused</span>"
        } else {
            "running"
        };
        let limit = limits
            .get(*name)
            .map_or_else(|| "none".to_owned(), ToString::to_string);
        let (toggle, label) = if is_paused {
            ("resume", "Resume")
        } else {
            ("pause", "Pause")
        };
        let _ = write!(
            rows,
            "<tr><td><a href=\"{b}/list?queue_name={q}\">{name}</a></td><td>{state}</td><td class=\"num\">{limit}</td>{cells}\
             <td class=\"num\">{per_min:.1}</td><td class=\"num\">{rate}</td><td>{waiting}</td><td>\
             <form class=\"inline\" method=\"post\" action=\"{b}/actions\"><input type=\"hidden\" name=\"action\" value=\"{toggle}\">\
             <input type=\"hidden\" name=\"queue\" value=\"{qn}\"><input type=\"hidden\" name=\"back\" value=\"{back}\"><button>{label}</button></form> \
             <form class=\"inline\" method=\"post\" action=\"{b}/actions\"><input type=\"hidden\" name=\"action\" value=\"limit\">\
             <input type=\"hidden\" name=\"queue\" value=\"{qn}\"><input type=\"hidden\" name=\"back\" value=\"{back}\">\
             <input name=\"limit\" size=\"5\" placeholder=\"limit\" aria-label=\"limit of {qn}\"><button>Set limit</button></form></td></tr>",
            name = esc(name),
            qn = esc(name),
            per_min = finished as f64 / WINDOW_MINUTES as f64,
            back = esc(&home(b)),
        );
    }
    let mut workers = String::new();
    for worker in &activity.workers {
        let _ = write!(
            workers,
            "<tr><td class=\"mono\">{}</td><td>{}</td></tr>",
            esc(&worker.worker_id),
            time(Some(worker.until))
        );
    }
    if workers.is_empty() {
        workers.push_str("<tr><td colspan=\"2\" class=\"muted\">No worker was seen in the last minute.</td></tr>");
    }
    let finished_recently: u64 = activity.queues.iter().map(|q| q.succeeded + q.failed).sum();
    let mut cards = String::new();
    for (status, n) in TaskResultStatus::ALL.iter().zip(totals) {
        let _ = write!(
            cards,
            "<a class=\"card\" href=\"{b}/list?status={status}\"><b>{n}</b>{status}</a>"
        );
    }
    let _ = write!(
        cards,
        "<div class=\"card\"><b>{:.1}</b>finished per minute</div><div class=\"card\"><b>{}</b>workers</div>",
        finished_recently as f64 / WINDOW_MINUTES as f64,
        activity.workers.len()
    );
    let body = format!(
        "<h1>Overview</h1>{notice}<div class=\"cards\">{cards}</div>\
         <h2>Queues</h2><table><thead><tr><th>queue</th><th>state</th><th class=\"num\">limit</th>\
         <th class=\"num\">ready</th><th class=\"num\">running</th><th class=\"num\">failed</th><th class=\"num\">successful</th>\
         <th class=\"num\">done / min ({WINDOW_MINUTES} min)</th><th class=\"num\">failure rate</th><th>oldest waiting</th><th>actions</th></tr></thead>\
         <tbody>{rows}</tbody></table>\
         <h2>Workers alive</h2><table><thead><tr><th>worker</th><th>alive until</th></tr></thead><tbody>{workers}</tbody></table>",
        notice = ctx.notice(),
    );
    Ok(ctx.page("Overview".to_owned(), Some(Section::Overview), true, body))
}

/// The console's own address: the mount point (`/` at the root).
fn home(base: &str) -> String {
    if base.is_empty() {
        "/".to_owned()
    } else {
        base.to_owned()
    }
}

async fn list(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
    ctx: Ctx,
) -> Result<Response> {
    let b = &ctx.base;
    let mut notice = ctx.notice();
    if let Some(id) = ctx.param("q") {
        let id = text_param("task id", id)?;
        match tasks.get_result_from(&settings.alias, &id).await {
            Ok(found) => {
                return Ok(
                    Redirect::to(&format!("{b}/task/{}", path_segment(&found.id))).into_response(),
                );
            }
            Err(Error::TaskResultDoesNotExist(_)) => {
                notice = format!(
                    "<p class=\"error\" role=\"status\">No task has the id <code>{}</code>.</p>",
                    esc(&id)
                );
            }
            Err(err) => return Err(err.into()),
        }
    }
    let queue = queue_of(&tasks, &settings.alias)?;
    let mut filter = filter_of(&ctx)?;
    let per_page = filter.limit.unwrap_or(PER_PAGE);
    // One more than shown says whether an older page exists.
    filter.limit = Some(per_page + 1);
    let mut results = queue.list_results(&filter).await?;
    let older = results.len() > per_page as usize;
    results.truncate(per_page as usize);

    // The filters again, for the form and the pager's links.
    let kept: Vec<(&str, &str)> = [
        "status",
        "queue_name",
        "task_name",
        "since",
        "until",
        "per_page",
    ]
    .into_iter()
    .filter_map(|k| ctx.param(k).map(|v| (k, v)))
    .collect();
    let query = |extra: &[(&str, &str)]| {
        let pairs: Vec<String> = kept
            .iter()
            .chain(extra)
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect();
        if pairs.is_empty() {
            format!("{b}/list")
        } else {
            format!("{b}/list?{}", pairs.join("&"))
        }
    };
    let here = match ctx.param("before") {
        Some(before) => query(&[("before", before)]),
        None => query(&[]),
    };
    let value = |k: &str| esc(ctx.param(k).unwrap_or(""));
    let mut status_options = String::from("<option value=\"\">any</option>");
    for status in TaskResultStatus::ALL {
        let selected = if filter.status == Some(status) {
            " selected"
        } else {
            ""
        };
        let _ = write!(status_options, "<option{selected}>{status}</option>");
    }
    let mut rows = String::new();
    for r in &results {
        let id = esc(&r.id);
        let _ = write!(
            rows,
            "<tr><td><input type=\"checkbox\" name=\"ids\" value=\"{id}\" aria-label=\"select {id}\"></td>\
             <td class=\"mono\"><a href=\"{b}/task/{seg}\">{id}</a></td><td>{task}</td><td>{queue}</td><td>{status}</td>\
             <td class=\"num\">{attempts}/{max}</td><td>{enqueued}</td><td>{finished}</td></tr>",
            seg = esc(&path_segment(&r.id)),
            task = esc(&r.task_name),
            queue = esc(&r.queue_name),
            status = badge(r.status),
            attempts = r.attempts(),
            max = r.max_attempts,
            enqueued = time(Some(r.enqueued_at)),
            finished = time(r.finished_at),
        );
        let _ = write!(rows, "<input type=\"hidden\" name=\"page\" value=\"{id}\">");
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"8\" class=\"muted\">No task matches.</td></tr>");
    }
    let mut pager = String::new();
    if ctx.param("before").is_some() {
        let _ = write!(pager, "<a href=\"{}\">« Newest</a>", esc(&query(&[])));
    }
    if older && let Some(last) = results.last() {
        let _ = write!(
            pager,
            "<a href=\"{}\" rel=\"next\">Older »</a>",
            esc(&query(&[("before", &last.id)]))
        );
    }
    let title = match filter.status {
        Some(status) => format!("{} tasks", status.as_str().to_lowercase()),
        None => "All tasks".to_owned(),
    };
    let body = format!(
        "<h1>{title_h}</h1>{notice}\
         <form class=\"filters\" method=\"get\" action=\"{b}/list\">\
         <label>status<select name=\"status\">{status_options}</select></label>\
         <label>queue<input name=\"queue_name\" value=\"{queue_name}\"></label>\
         <label>task<input name=\"task_name\" value=\"{task_name}\"></label>\
         <label>enqueued since (UTC)<input type=\"datetime-local\" name=\"since\" value=\"{since}\"></label>\
         <label>until<input type=\"datetime-local\" name=\"until\" value=\"{until}\"></label>\
         <button class=\"primary\">Filter</button></form>\
         <form class=\"filters\" method=\"get\" action=\"{b}/list\"><label>task id<input name=\"q\" size=\"40\"></label><button>Find</button></form>\
         <form method=\"post\" action=\"{b}/actions\"><input type=\"hidden\" name=\"back\" value=\"{back}\">\
         <div class=\"bar\"><label><input type=\"radio\" name=\"scope\" value=\"selected\" checked> selected</label>\
         <label><input type=\"radio\" name=\"scope\" value=\"page\"> all on this page</label>\
         <button name=\"action\" value=\"retry\">Retry</button><button name=\"action\" value=\"run_now\">Run now</button>\
         <button name=\"action\" value=\"cancel\">Cancel</button><button class=\"danger\" name=\"action\" value=\"delete\">Delete</button>\
         <a href=\"{here_link}\">Refresh</a></div>\
         <table><thead><tr><th></th><th>id</th><th>task</th><th>queue</th><th>status</th><th class=\"num\">attempts</th><th>enqueued</th><th>finished</th></tr></thead>\
         <tbody>{rows}</tbody></table></form><nav class=\"pager\">{pager}</nav>",
        title_h = esc(&title),
        queue_name = value("queue_name"),
        task_name = value("task_name"),
        since = value("since"),
        until = value("until"),
        back = esc(&here),
        here_link = esc(&here),
    );
    Ok(ctx.page(title, Some(Section::Tasks), false, body))
}

/// A task id as one path segment.
fn path_segment(id: &str) -> String {
    // Ids are UUIDs (and, on Redis, a dot and an escaped queue name); anything else is
    // percent-encoded so it stays one segment.
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Pretty JSON for the task page.
fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

async fn task_page(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let id = text_param("task id", &id)?;
    let r = tasks.get_result_from(&settings.alias, &id).await?;
    let b = &ctx.base;
    let now = Utc::now();
    let here = format!("{b}/task/{}", path_segment(&r.id));
    let button = |action: Action| {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"{b}/actions\"><input type=\"hidden\" name=\"action\" value=\"{}\">\
             <input type=\"hidden\" name=\"ids\" value=\"{}\"><input type=\"hidden\" name=\"back\" value=\"{}\">\
             <button{}>{}</button></form> ",
            action.name(),
            esc(&r.id),
            esc(&here),
            if action == Action::Delete {
                " class=\"danger\""
            } else {
                ""
            },
            action.label(),
        )
    };
    let mut actions = String::new();
    let deferred = r.run_after.is_some_and(|t| t > now);
    let available: &[Action] = match r.status {
        TaskResultStatus::Ready if deferred => &[Action::RunNow, Action::Cancel, Action::Delete],
        TaskResultStatus::Ready => &[Action::Cancel, Action::Delete],
        TaskResultStatus::Running => &[Action::Cancel],
        TaskResultStatus::Failed => &[Action::Retry, Action::Delete],
        TaskResultStatus::Successful => &[Action::Delete],
    };
    for action in available {
        actions.push_str(&button(*action));
    }
    let waited = r
        .started_at
        .map(|s| span(s - r.run_after.unwrap_or(r.enqueued_at).max(r.enqueued_at)));
    let ran = match (r.last_attempted_at, r.finished_at) {
        (Some(start), Some(end)) => Some(span(end - start)),
        (Some(start), None) if r.status == TaskResultStatus::Running => {
            Some(format!("{} so far", span(now - start)))
        }
        _ => None,
    };
    let mut attempts = String::new();
    for (n, worker) in r.worker_ids.iter().enumerate() {
        let _ = write!(
            attempts,
            "<tr><td class=\"num\">{}</td><td class=\"mono\">{}</td></tr>",
            n + 1,
            esc(worker)
        );
    }
    if attempts.is_empty() {
        attempts.push_str("<tr><td colspan=\"2\" class=\"muted\">Not attempted yet.</td></tr>");
    }
    let mut errors = String::new();
    for (n, e) in r.errors.iter().enumerate() {
        let _ = write!(
            errors,
            "<h3>{}. <code>{}</code></h3><p>{}</p><pre>{}</pre>",
            n + 1,
            esc(&e.exception_class_path),
            esc(&e.message),
            esc(&e.traceback)
        );
    }
    if errors.is_empty() {
        errors.push_str("<p class=\"muted\">None.</p>");
    }
    let metadata = if r.metadata.is_empty() {
        "<p class=\"muted\">None recorded.</p>".to_owned()
    } else {
        format!(
            "<pre>{}</pre>",
            esc(&pretty(&serde_json::Value::Object(r.metadata.clone())))
        )
    };
    let return_value = r.return_value.as_ref().map_or_else(
        || "—".to_owned(),
        |v| format!("<pre>{}</pre>", esc(&pretty(v))),
    );
    let body = format!(
        "<h1>{task} {status}</h1>{notice}<div class=\"bar\">{actions}</div>\
         <dl class=\"facts\"><dt>id</dt><dd class=\"mono\">{id}</dd><dt>queue</dt><dd><a href=\"{b}/list?queue_name={q}\">{queue}</a></dd>\
         <dt>priority</dt><dd>{priority}</dd><dt>attempts</dt><dd>{attempts_n} of {max}</dd>\
         <dt>enqueued</dt><dd>{enqueued}</dd><dt>run after</dt><dd>{run_after}</dd><dt>started</dt><dd>{started}</dd>\
         <dt>last attempted</dt><dd>{last}</dd><dt>finished</dt><dd>{finished}</dd>\
         <dt>waited</dt><dd>{waited}</dd><dt>ran</dt><dd>{ran}</dd><dt>unique key</dt><dd>{unique}</dd></dl>\
         <h2>Arguments</h2><pre>{args}</pre><h2>Return value</h2>{return_value}\
         <h2>Metadata</h2>{metadata}\
         <h2>Attempts</h2><table><thead><tr><th class=\"num\">#</th><th>worker</th></tr></thead><tbody>{attempts}</tbody></table>\
         <h2>Errors</h2>{errors}",
        task = esc(&r.task_name),
        status = badge(r.status),
        notice = ctx.notice(),
        id = esc(&r.id),
        q = enc(&r.queue_name),
        queue = esc(&r.queue_name),
        priority = r.priority,
        attempts_n = r.attempts(),
        max = r.max_attempts,
        enqueued = time(Some(r.enqueued_at)),
        run_after = time(r.run_after),
        started = time(r.started_at),
        last = time(r.last_attempted_at),
        finished = time(r.finished_at),
        waited = waited.unwrap_or_else(|| "—".to_owned()),
        ran = ran.unwrap_or_else(|| "—".to_owned()),
        unique = esc(r.unique_key.as_deref().unwrap_or("—")),
        args = esc(&pretty(&r.args)),
    );
    Ok(ctx.page(format!("Task {}", r.id), Some(Section::Tasks), true, body))
}

/// What an operator can do from the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Retry,
    Cancel,
    Delete,
    RunNow,
    Pause,
    Resume,
    Limit,
}

impl Action {
    const ALL: [Action; 7] = [
        Action::Retry,
        Action::Cancel,
        Action::Delete,
        Action::RunNow,
        Action::Pause,
        Action::Resume,
        Action::Limit,
    ];

    fn name(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::Cancel => "cancel",
            Action::Delete => "delete",
            Action::RunNow => "run_now",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Limit => "limit",
        }
    }

    fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    fn label(self) -> &'static str {
        match self {
            Action::Retry => "Retry",
            Action::Cancel => "Cancel",
            Action::Delete => "Delete",
            Action::RunNow => "Run now",
            Action::Pause => "Pause",
            Action::Resume => "Resume",
            Action::Limit => "Set limit",
        }
    }

    fn on_queue(self) -> bool {
        matches!(self, Action::Pause | Action::Resume | Action::Limit)
    }

    /// What the confirmation asks.
    fn question(self, n: usize, queue: &str, limit: &str) -> String {
        let tasks = if n == 1 { "task" } else { "tasks" };
        let queue = esc(queue);
        match self {
            Action::Retry => format!("Retry {n} failed {tasks}?"),
            Action::Cancel => format!("Cancel {n} {tasks}? Running tasks are asked to stop."),
            Action::Delete => format!("Delete {n} {tasks} for good?"),
            Action::RunNow => format!("Run {n} deferred {tasks} now?"),
            Action::Pause => {
                format!("Pause the queue {queue}? No new task of it starts on any worker.")
            }
            Action::Resume => format!("Resume the queue {queue}?"),
            Action::Limit => format!("Set the limit of the queue {queue} to {}?", esc(limit)),
        }
    }

    /// What the notice says once done.
    fn done(self, n: u64, of: u64) -> String {
        match self {
            Action::Retry => format!("Retried {n} of {of} tasks."),
            Action::Cancel => {
                format!("Cancelled {n} of {of} tasks (running ones stop at their next await).")
            }
            Action::Delete => format!("Deleted {n} of {of} tasks."),
            Action::RunNow => format!("{n} of {of} tasks run now."),
            Action::Pause => "The queue is paused.".to_owned(),
            Action::Resume => "The queue runs again.".to_owned(),
            Action::Limit => "The queue's limit is set.".to_owned(),
        }
    }
}

/// A limit as an operator types it: empty or `configured` (back to the configuration),
/// `none` or `unlimited`, or a number.
fn limit_param(value: &str) -> Result<QueueLimit> {
    match value.trim() {
        "" | "configured" => Ok(QueueLimit::Configured),
        "none" | "unlimited" => Ok(QueueLimit::Unlimited),
        n => n.parse().map(QueueLimit::AtMost).map_err(|_| {
            ConsoleError::BadRequest(
                "A limit is a number, \"unlimited\", or empty for the configured one.".to_owned(),
            )
        }),
    }
}

/// Where to go after an action: a console address the form named, or the overview.
fn back_to(base: &str, back: Option<&str>) -> String {
    match back {
        Some(back)
            if (back == home(base) || back.starts_with(&format!("{base}/")))
                && !back.starts_with("//")
                && !back.contains(['\\', '\r', '\n']) =>
        {
            back.to_owned()
        }
        _ => home(base),
    }
}

async fn act(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
    ctx: Ctx,
    body: Bytes,
) -> Result<Response> {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let action = field("action")
        .and_then(Action::parse)
        .ok_or_else(|| ConsoleError::BadRequest("Unknown or missing action.".to_owned()))?;
    let b = &ctx.base;
    let back = back_to(b, field("back"));
    let queue_name = match action.on_queue() {
        true => {
            let name = field("queue").unwrap_or("").trim();
            if name.is_empty() {
                return Err(ConsoleError::BadRequest("Which queue?".to_owned()));
            }
            text_param("queue name", name)?
        }
        false => String::new(),
    };
    let limit_text = field("limit").unwrap_or("").trim().to_owned();
    let limit = limit_param(&limit_text)?;
    let source = if field("scope") == Some("page") {
        "page"
    } else {
        "ids"
    };
    let mut ids: Vec<TaskId> = Vec::new();
    if !action.on_queue() {
        for (k, v) in &form {
            if k == source && !ids.iter().any(|id| id.as_str() == v) {
                ids.push(TaskId::from(text_param("task id", v)?));
            }
        }
        if ids.is_empty() {
            return Err(ConsoleError::BadRequest("No task was selected.".to_owned()));
        }
        if ids.len() > MAX_IDS {
            return Err(ConsoleError::BadRequest(format!(
                "At most {MAX_IDS} tasks at once."
            )));
        }
    }

    if field("confirm") != Some("yes") {
        let mut hidden = String::new();
        for (k, v) in [
            ("action", action.name()),
            ("back", &back),
            ("queue", &queue_name),
            ("limit", &limit_text),
        ] {
            let _ = write!(
                hidden,
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                esc(v)
            );
        }
        let mut listed = String::new();
        for id in &ids {
            let _ = write!(
                hidden,
                "<input type=\"hidden\" name=\"ids\" value=\"{}\">",
                esc(id)
            );
            let _ = write!(
                listed,
                "<li><a class=\"mono\" href=\"{b}/task/{}\">{}</a></li>",
                esc(&path_segment(id)),
                esc(id)
            );
        }
        let body = format!(
            "<h1>Confirm</h1><p>{question}</p><form method=\"post\" action=\"{b}/actions\">{hidden}\
             <input type=\"hidden\" name=\"confirm\" value=\"yes\">\
             <div class=\"bar\"><button class=\"primary\">Yes, {label}</button><a href=\"{back}\">No, go back</a></div></form>\
             <ul>{listed}</ul>",
            question = action.question(ids.len(), &queue_name, &limit_text),
            label = action.label().to_lowercase(),
            back = esc(&back),
        );
        return Ok(ctx.page("Confirm".to_owned(), None, false, body));
    }

    let queue = queue_of(&tasks, &settings.alias)?;
    let done = match action {
        Action::Retry => queue.retry(&ids).await?.len(),
        Action::RunNow => queue.run_now(&ids).await?.len(),
        Action::Delete => queue.delete(&ids).await?.len(),
        Action::Cancel => {
            let mut done = 0;
            for id in &ids {
                if let Some(result) = queue.cancel(id).await? {
                    tasks.hooks().finished(&result);
                    done += 1;
                } else if queue.request_cancel(id).await? {
                    done += 1;
                }
            }
            done
        }
        Action::Pause | Action::Resume => {
            queue
                .set_paused(&queue_name, action == Action::Pause)
                .await?;
            1
        }
        Action::Limit => {
            queue.set_queue_limit(&queue_name, limit).await?;
            1
        }
    };
    tracing::info!(target: "djrs_tasks", action = action.name(), asked = ids.len(), done, queue = %queue_name, "console action");
    let of = if action.on_queue() { 1 } else { ids.len() };
    let separator = if back.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!(
        "{back}{separator}done={}&n={done}&of={of}",
        action.name()
    ))
    .into_response())
}

async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("static/console.css"),
    )
}

async fn htmx() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("static/htmx.min.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
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

async fn api_counts(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
) -> Result<Json<crate::QueueCounts>> {
    Ok(Json(queue_of(&tasks, &settings.alias)?.counts().await?))
}

async fn api_activity(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
) -> Result<Json<crate::Activity>> {
    let since = Utc::now() - chrono::Duration::minutes(WINDOW_MINUTES);
    Ok(Json(
        queue_of(&tasks, &settings.alias)?.activity(since).await?,
    ))
}

async fn api_results(
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

async fn api_result(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
    Path(id): Path<String>,
    RawQuery(_): RawQuery,
) -> Result<Json<TaskResult>> {
    let id = text_param("task id", &id)?;
    Ok(Json(tasks.get_result_from(&settings.alias, &id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_go_back_only_into_the_console() {
        let cases = [
            (
                "/admin/tasks",
                Some("/admin/tasks/list?status=FAILED"),
                "/admin/tasks/list?status=FAILED",
            ),
            ("/admin/tasks", Some("/admin/tasks"), "/admin/tasks"),
            ("/admin/tasks", Some("https://evil.test/"), "/admin/tasks"),
            (
                "/admin/tasks",
                Some("//evil.test/admin/tasks/"),
                "/admin/tasks",
            ),
            ("/admin/tasks", Some("/admin/tasksx"), "/admin/tasks"),
            ("/admin/tasks", Some("/admin/tasks/\\evil"), "/admin/tasks"),
            (
                "/admin/tasks",
                Some("/admin/tasks/x\r\nSet-Cookie: a=b"),
                "/admin/tasks",
            ),
            ("/admin/tasks", None, "/admin/tasks"),
            ("", Some("/tasks/1"), "/tasks/1"),
            ("", Some("//evil.test"), "/"),
            ("", None, "/"),
        ];
        for (base, back, expected) in cases {
            assert_eq!(back_to(base, back), expected, "{base} {back:?}");
        }
    }

    #[test]
    fn limits_read_as_an_operator_types_them() {
        assert_eq!(limit_param("").ok(), Some(QueueLimit::Configured));
        assert_eq!(limit_param("configured").ok(), Some(QueueLimit::Configured));
        assert_eq!(limit_param(" unlimited ").ok(), Some(QueueLimit::Unlimited));
        assert_eq!(limit_param("none").ok(), Some(QueueLimit::Unlimited));
        assert_eq!(limit_param("0").ok(), Some(QueueLimit::AtMost(0)));
        assert_eq!(limit_param("12").ok(), Some(QueueLimit::AtMost(12)));
        assert!(limit_param("-1").is_err());
        assert!(limit_param("1e3").is_err());
    }

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

    #[test]
    fn ids_stay_one_path_segment() {
        assert_eq!(
            path_segment("0190d1c4-7f3a-7cc0-9a55-1d0c2b1b7a10.emails_2f"),
            "0190d1c4-7f3a-7cc0-9a55-1d0c2b1b7a10.emails_2f"
        );
        assert_eq!(path_segment("a/b c?"), "a%2Fb%20c%3F");
    }

    #[test]
    fn every_action_has_one_name() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.name()), Some(action));
        }
        assert_eq!(Action::parse("drop"), None);
    }
}
