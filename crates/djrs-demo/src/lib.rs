//! The djrs showcase application.
//!
//! `cargo run -p djrs-demo` serves it on <http://127.0.0.1:8000> with embedded defaults: a
//! SQLite file in the working directory, seeded with a few hundred articles on first start.
//! `--database-url postgres://…` runs the same pages on PostgreSQL.
//!
//! The library half exists so tests can build the router in-process ([`app`]) or serve it on a
//! chosen address ([`serve`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use djrs::paginate::axum::{CursorParam, PageParam, Paginated, PaginationRejection, RequestUrl};
use djrs::paginate::{AsyncPage, CursorEnvelope, CursorKey, KeysetPage, PageEnvelope, PageSize};
use djrs::partials::axum::{Htmx, HxTrigger, Template};
use djrs::sea_query::Order;
use serde::Serialize;
use tokio::net::TcpListener;

pub mod csp;
mod db;
pub mod jobs;
pub mod metrics;
pub mod operator;
pub mod orm;
pub mod security;
pub mod server;

use db::article_columns;
pub use db::{Article, Db};
use djrs::tasks::{Tasks, Worker};

/// Articles on a page of the offset-paginated list.
pub const PER_PAGE: u64 = 10;
/// Articles the database is seeded with on first start.
pub const SEED_ARTICLES: i64 = 300;
/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://djrs-demo.sqlite3";

/// Everything that can stop the showcase from starting or answering.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database URL names a scheme the showcase does not support. Holds the URL without
    /// its password.
    #[error("unsupported database URL {0:?}: use sqlite://FILE or postgres://USER@HOST/DB")]
    UnsupportedDatabase(String),
    /// `--tasks-url` names no queue the showcase knows (shown without its password).
    #[error(
        "unsupported tasks URL {0:?}: use redis://HOST[:PORT][/DB] or rediss://…, or leave it out to keep the queue in the database"
    )]
    UnsupportedTasksUrl(String),
    /// The database could not be reached or opened (its text holds no password).
    #[error(transparent)]
    Connect(#[from] djrs::db::Error),
    /// The database server could not be asked its version.
    #[error("database error: {0}")]
    Orm(#[from] djrs::orm_ext::Error),
    /// The cursor secret (`--secret`) is too short to sign cursors safely.
    #[error("the --secret is too weak: {0}")]
    WeakSecret(#[source] djrs::paginate::Error),
    /// Connecting to, creating or seeding the database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A template failed to load or render.
    #[error("template error: {0}")]
    Template(#[from] djrs::tera::Error),
    /// A template with partials failed to load or render (`djrs-partials`).
    #[error("template error: {0}")]
    Partials(#[from] djrs::partials::Error),
    /// The task system refused a task or its queue failed.
    #[error("task error: {0}")]
    Tasks(#[from] djrs::tasks::Error),
    /// Pagination failed (an invalid page or cursor is answered as a 404).
    #[error(transparent)]
    Pagination(#[from] PaginationRejection),
    /// The mail configuration (`--smtp-url`) is unusable.
    #[error("mail error: {0}")]
    Mail(#[from] djrs::mail::Error),
    /// Binding or serving the HTTP listener failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    /// The console's operator account (`--operator`) is unusable.
    #[error("operator account: {0}")]
    Operator(String),
}

impl From<djrs::paginate::Error> for Error {
    fn from(err: djrs::paginate::Error) -> Self {
        Error::Pagination(err.into())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Pagination(rejection) => rejection.into_response(),
            other => {
                // Never the error's text in the body: it may hold the database's words. In the
                // log, escaped, since it may quote the request's input.
                tracing::error!(error = ?other.to_string(), "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
            }
        }
    }
}

/// Shared state of the showcase's handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    db: Db,
    templates: Arc<djrs::partials::Templates>,
    cursor_key: CursorKey,
    tasks: Tasks,
    operator: Arc<operator::Operator>,
    /// The articles starred on the list page (kept in memory: the showcase's htmx example).
    starred: Arc<std::sync::Mutex<std::collections::BTreeSet<i64>>>,
}

impl axum::extract::FromRef<AppState> for Tasks {
    fn from_ref(state: &AppState) -> Tasks {
        state.tasks.clone()
    }
}

/// The showcase's task system: its queue ([`Db::tasks_backend`]) and the database as state
/// for the tasks; mail goes to an in-memory outbox (the binary uses [`tasks_with_mailer`]).
///
/// # Errors
/// When the queue cannot be opened.
pub fn tasks_for(db: &Db) -> Result<Tasks, Error> {
    tasks_with_mailer(
        db,
        djrs::mail::Mailer::new(djrs::mail::LocmemBackend::new()),
    )
}

/// The task system with the mailer the welcome task sends through (see [`jobs::mailer`]).
///
/// # Errors
/// When the queue cannot be opened.
pub fn tasks_with_mailer(db: &Db, mailer: djrs::mail::Mailer) -> Result<Tasks, Error> {
    tasks_on(db, db.tasks_backend(), mailer)
}

/// The task system on `queue`, with the database and `mailer` as the tasks' state.
///
/// # Errors
/// When the task system cannot be built.
pub fn tasks_on(
    db: &Db,
    queue: Arc<dyn djrs::tasks::Backend>,
    mailer: djrs::mail::Mailer,
) -> Result<Tasks, Error> {
    Ok(Tasks::builder()
        .backend_arc("default", queue)
        .state(db.clone())
        .state(mailer)
        .build()?)
}

/// The queue `--tasks-url` names: Redis (`redis://…`, `rediss://…`) with keys under `prefix`,
/// or, without a URL, the database's own ([`Db::tasks_backend`]).
///
/// # Errors
/// A URL of another kind (shown without its password), or a prefix Redis keys cannot start
/// with.
pub fn queue_for(
    db: &Db,
    tasks_url: Option<&str>,
    prefix: &str,
) -> Result<Arc<dyn djrs::tasks::Backend>, Error> {
    match tasks_url {
        None => Ok(db.tasks_backend()),
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => Ok(Arc::new(
            djrs::tasks::RedisBackend::open(url)?.prefix(prefix)?,
        )),
        Some(url) => Err(Error::UnsupportedTasksUrl(security::redact_url(url))),
    }
}

impl AppState {
    /// State over a connected database, with the embedded templates.
    ///
    /// # Errors
    /// When an embedded template does not parse.
    pub fn new(db: Db, cursor_key: CursorKey) -> Result<Self, Error> {
        Self::with_mailer(
            db,
            cursor_key,
            djrs::mail::Mailer::new(djrs::mail::LocmemBackend::new()),
        )
    }

    /// State whose tasks send mail through `mailer` (the binary: console or `--smtp-url`).
    ///
    /// # Errors
    /// When an embedded template does not parse.
    pub fn with_mailer(
        db: Db,
        cursor_key: CursorKey,
        mailer: djrs::mail::Mailer,
    ) -> Result<Self, Error> {
        let tasks = tasks_with_mailer(&db, mailer)?;
        Self::with_tasks(db, cursor_key, tasks)
    }

    /// State whose handlers enqueue on `tasks` (the binary: the queue `--tasks-url` names).
    ///
    /// # Errors
    /// When an embedded template does not parse.
    pub fn with_tasks(db: Db, cursor_key: CursorKey, tasks: Tasks) -> Result<Self, Error> {
        // `djrs-partials` (feature `csp`) registers `csp_nonce()` in every template.
        let mut templates = djrs::partials::Templates::new();
        templates.add_raw_templates(vec![
            ("csp.html", include_str!("../templates/csp.html")),
            ("base.html", include_str!("../templates/base.html")),
            ("home.html", include_str!("../templates/home.html")),
            ("articles.html", include_str!("../templates/articles.html")),
            ("keyset.html", include_str!("../templates/keyset.html")),
            ("welcome.html", include_str!("../templates/welcome.html")),
            ("outbox.html", include_str!("../templates/outbox.html")),
            ("login.html", include_str!("../templates/login.html")),
        ])?;
        Ok(AppState {
            db,
            templates: Arc::new(templates),
            cursor_key,
            tasks,
            operator: Arc::new(operator::Operator::random()),
            starred: Arc::default(),
        })
    }

    /// The same state with `operator` as the console's account (the default is `operator`
    /// with a random password: [`AppState::operator`] says which).
    #[must_use]
    pub fn with_operator(mut self, operator: operator::Operator) -> Self {
        self.operator = Arc::new(operator);
        self
    }

    /// The account that may use the task console.
    #[must_use]
    pub fn operator(&self) -> &operator::Operator {
        &self.operator
    }

    /// The task system the handlers enqueue on.
    #[must_use]
    pub fn tasks(&self) -> &Tasks {
        &self.tasks
    }

    fn render(
        &self,
        template: &str,
        title: &str,
        page: &impl Serialize,
    ) -> Result<Html<String>, Error> {
        let context = self.context(title, page);
        Ok(Html(self.templates.render(template, &context)?))
    }

    fn context(&self, title: &str, page: &impl Serialize) -> djrs::tera::Context {
        let mut context = djrs::tera::Context::new();
        context.insert("title", title);
        context.insert("database", &self.db.engine());
        context.insert("page", page);
        context
    }

    /// The starred articles' ids, in order.
    fn starred_ids(&self) -> Vec<i64> {
        let starred = self
            .starred
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        starred.iter().copied().collect()
    }

    /// Stars `id`, or takes its star away; whether it is starred now.
    fn toggle_star(&self, id: i64) -> bool {
        let mut starred = self
            .starred
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if starred.remove(&id) {
            false
        } else {
            starred.insert(id);
            true
        }
    }

    async fn article_page(
        &self,
        page: &PageParam,
        strict: bool,
    ) -> Result<AsyncPage<Article>, Error> {
        let query = article_columns().order_by("id", Order::Asc).to_owned();
        let paginator = self.db.pool().paginator::<Article>(query, PER_PAGE);
        Ok(if strict {
            page.apage(&paginator).await?
        } else {
            page.aget_page(&paginator).await?
        })
    }

    async fn keyset_page(&self, cursor: &CursorParam) -> Result<KeysetPage<Article>, Error> {
        Ok(self
            .db
            .pool()
            .keyset::<Article>(article_columns(), PER_PAGE)
            .key("id", Order::Desc)
            .cursor_key(self.cursor_key.clone())
            .page(cursor.token())
            .await?)
    }
}

async fn home(State(state): State<AppState>) -> Result<Html<String>, Error> {
    state.render("home.html", "djrs showcase", &())
}

/// `/articles?page=N`: Django's `get_page`, so a bad number shows a valid page. htmx asks for
/// the next page and gets only `articles.html#list` (`djrs-partials`), which it swaps in.
async fn articles(
    State(state): State<AppState>,
    htmx: Htmx,
    page: PageParam,
) -> Result<Template, Error> {
    let page = state.article_page(&page, false).await?;
    let mut context = state.context("Articles", &page);
    // Only the article pages show stars.
    context.insert("starred", &state.starred_ids());
    Ok(Template::page_or_fragment(
        state.templates.clone(),
        &htmx,
        "articles.html",
        "list",
        context,
    ))
}

/// `/articles/{id}/card`: one article's card, the partial the list renders in its loop,
/// loaded alone.
async fn article_card(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Response, Error> {
    let Some(article) = state.db.article(id).await? else {
        return Ok((StatusCode::NOT_FOUND, "No such article.").into_response());
    };
    let mut context = djrs::tera::Context::new();
    context.insert("article", &article);
    context.insert("starred", &state.starred_ids());
    Ok(Template::new(state.templates.clone(), "articles.html#card", context).into_response())
}

/// `POST /articles/{id}/star`: stars the article or takes its star away. htmx gets the card
/// (swapped where it was) with the count of starred articles out of band, and a `starred`
/// event with the article and its state; without JavaScript the browser goes back to the list.
async fn star_article(
    State(state): State<AppState>,
    htmx: Htmx,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Response, Error> {
    let Some(article) = state.db.article(id).await? else {
        return Ok((StatusCode::NOT_FOUND, "No such article.").into_response());
    };
    let starred = state.toggle_star(id);
    if !htmx.request {
        return Ok(axum::response::Redirect::to("/articles").into_response());
    }
    let mut context = djrs::tera::Context::new();
    context.insert("article", &article);
    context.insert("starred", &state.starred_ids());
    Ok((
        HxTrigger::event("starred").detail("starred", serde_json::json!({"id": id, "on": starred})),
        Template::new(state.templates.clone(), "articles.html#card", context)
            .oob("articles.html#starred_count", "true"),
    )
        .into_response())
}

/// `/static/htmx.min.js`: htmx 2.0.11 (npm `htmx.org`, 0BSD), served by the showcase itself so
/// that the policy's `'self'`-free `script-src` only has to trust the page's nonce.
async fn htmx_js() -> impl IntoResponse {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/htmx.min.js"),
    )
}

/// `/articles/keyset?cursor=…`: newest first, by signed cursor.
async fn articles_keyset(
    State(state): State<AppState>,
    cursor: CursorParam,
) -> Result<Html<String>, Error> {
    let page = state.keyset_page(&cursor).await?;
    state.render("keyset.html", "Articles, newest first", &page)
}

/// `/api/articles?page=N`: Django's `page`, so a bad number is a 404.
async fn api_articles(
    State(state): State<AppState>,
    page: PageParam,
) -> Result<Json<AsyncPage<Article>>, Error> {
    Ok(Json(state.article_page(&page, true).await?))
}

/// The page size the API pages take from `?page_size=` (DRF's `page_size_query_param`).
fn api_page_size() -> PageSize {
    PageSize::new(PER_PAGE).param("page_size").max(100)
}

/// `/api/v1/articles?page=N&page_size=M`: DRF's page-number shape (`count`, `next`,
/// `previous`, `results`) with a `Link` header; a bad page number is a 404.
async fn api_v1_articles(
    State(state): State<AppState>,
    url: RequestUrl,
    page: PageParam,
) -> Result<Paginated<PageEnvelope<Vec<Article>>>, Error> {
    let per_page = url.page_size(&api_page_size());
    let query = article_columns().order_by("id", Order::Asc).to_owned();
    let paginator = state.db.pool().paginator::<Article>(query, per_page);
    let page = page.apage(&paginator).await?;
    Ok(Paginated::page(&url, page, "page"))
}

/// `/api/v1/articles/cursor?cursor=…&page_size=M`: DRF's cursor shape (`next`, `previous`,
/// `results`, no count), newest first, with a `Link` header; a tampered cursor is a 404.
async fn api_v1_articles_cursor(
    State(state): State<AppState>,
    url: RequestUrl,
    cursor: CursorParam,
) -> Result<Paginated<CursorEnvelope<Vec<Article>>>, Error> {
    let per_page = url.page_size(&api_page_size());
    let page = state
        .db
        .pool()
        .keyset::<Article>(article_columns(), per_page)
        .key("id", Order::Desc)
        .cursor_key(state.cursor_key.clone())
        .page(cursor.token())
        .await?;
    Ok(Paginated::keyset(&url, page, "cursor"))
}

/// The welcome form.
#[derive(Debug, serde::Deserialize)]
struct WelcomeForm {
    name: String,
    email: String,
}

/// `GET /welcome`: the form.
async fn welcome_form(State(state): State<AppState>) -> Result<Html<String>, Error> {
    state.render(
        "welcome.html",
        "Welcome a new user",
        &serde_json::json!({"queued": null}),
    )
}

/// `POST /welcome`: enqueues the welcome message; the worker writes it to the outbox.
async fn welcome_submit(
    State(state): State<AppState>,
    axum::Form(form): axum::Form<WelcomeForm>,
) -> Result<Response, Error> {
    let (name, email) = (form.name.trim(), form.email.trim());
    if let Err(refused) =
        security::refuse_nul("name", name).and_then(|()| security::refuse_nul("email", email))
    {
        return Ok(refused.into_response());
    }
    if name.is_empty() || name.len() > 100 || email.len() > 200 || !email.contains('@') {
        return Ok((
            StatusCode::BAD_REQUEST,
            "A name (up to 100 characters) and an email address are required.",
        )
            .into_response());
    }
    if let Err(err) = jobs::welcome_email(name, email, 1).and_then(|msg| msg.validate()) {
        // A line break in the name or a malformed address: refused here, never enqueued.
        return Ok((
            StatusCode::BAD_REQUEST,
            format!("This name or address cannot be used in an email: {err}"),
        )
            .into_response());
    }
    let result = jobs::send_welcome_message
        .enqueue(&state.tasks, name.to_owned(), email.to_owned())
        .await?;
    Ok(state
        .render(
            "welcome.html",
            "Welcome a new user",
            &serde_json::json!({"queued": result}),
        )?
        .into_response())
}

/// `GET /outbox`: what the welcome tasks wrote.
async fn outbox(State(state): State<AppState>) -> Result<Html<String>, Error> {
    let messages = state.db.outbox(50).await?;
    state.render("outbox.html", "Outbox", &messages)
}

/// The showcase's router: the pages, the task dashboard and the APIs, behind the CSP layer,
/// Django's default security headers ([`security::SECURITY_HEADERS`]) and a refusal of
/// cross-site state-changing requests ([`security::is_same_origin_request`]).
pub fn app(state: AppState) -> Router {
    let router = Router::new()
        .route("/", get(home))
        .route("/welcome", get(welcome_form).post(welcome_submit))
        .route("/outbox", get(outbox))
        // The task console, for the signed-in operator only (`/tasks/` leads there too).
        .merge(operator::console(&state.operator))
        .route("/login", get(operator::login_form).post(operator::login))
        .route("/logout", axum::routing::post(operator::logout))
        .route("/articles", get(articles))
        .route("/articles/{id}/card", get(article_card))
        .route("/articles/{id}/star", axum::routing::post(star_article))
        .route("/static/htmx.min.js", get(htmx_js))
        .route("/articles/keyset", get(articles_keyset))
        .route("/api/articles", get(api_articles))
        .route("/api/v1/articles", get(api_v1_articles))
        .route("/api/v1/articles/cursor", get(api_v1_articles_cursor))
        .merge(orm::routes())
        .merge(csp::routes())
        .merge(metrics::routes())
        .with_state(state)
        .layer(axum::middleware::from_fn(security::refuse_cross_site))
        .layer(csp::layer());
    security::with_security_headers(router)
}

/// Serves the showcase on `listener` until `shutdown` resolves, with the default
/// [`server::ServerLimits`].
///
/// # Errors
/// When serving fails.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    serve_with_limits(listener, state, server::ServerLimits::default(), shutdown).await
}

/// Serves the showcase on `listener` with `limits` (timeouts and the connection bound) until
/// `shutdown` resolves; the in-process worker stops with it.
///
/// # Errors
/// When serving fails.
pub async fn serve_with_limits(
    listener: TcpListener,
    state: AppState,
    limits: server::ServerLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    // Before the worker starts: it registers its metrics with the recorder installed then.
    metrics::install();
    // One shutdown signal for the server and the in-process worker.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let until = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let worker = tokio::spawn(
        Worker::new(state.tasks())
            .concurrency(4)
            .run_until(until(stopped.clone())),
    );
    server::serve_router(listener, app(state), limits, until(stopped)).await?;
    match worker.await {
        Ok(Ok(stats)) => tracing::info!(?stats, "in-process worker stopped"),
        Ok(Err(err)) => tracing::error!(error = %err, "in-process worker failed"),
        Err(err) => tracing::error!(error = %err, "in-process worker panicked"),
    }
    Ok(())
}

/// Binds `addr`, printing the URL it serves on (port 0 picks a free port).
///
/// # Errors
/// When the address cannot be bound.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    let listener = TcpListener::bind(addr).await?;
    println!("djrs-demo listening on http://{}", listener.local_addr()?);
    Ok(listener)
}
