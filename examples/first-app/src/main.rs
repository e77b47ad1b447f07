//! A product catalogue on djrs: SQLite by default, PostgreSQL by URL; Record saves with a
//! generated column; StringAgg; paginated partials with htmx; a strict CSP with nonces; a
//! task that sends mail, run by a worker in the same process; the task console; a keyset API.
//!
//! Settings come from the environment: `DATABASE_URL` (default `sqlite://catalogue.sqlite3`),
//! `BIND` (default `127.0.0.1:8000`), `MAIL_DIR` (mail written to files there; the console
//! otherwise), `CONSOLE_TOKEN` (the task console's bearer token; no console without it).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, FromRef, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use djrs::csp::{CspLayer, CspSource, Policy};
use djrs::db::Db;
use djrs::mail::{EmailMessage, Mailer};
use djrs::orm_ext::{Record, StringAgg, big_auto_column};
use djrs::paginate::axum::{CursorParam, PageParam, Paginated, RequestUrl};
use djrs::paginate::{CursorEnvelope, CursorKey, KeyValue, KeysetRow, PageSize};
use djrs::partials::Templates;
use djrs::partials::axum::{Htmx, Template};
use djrs::sea_query::{ColumnDef, Expr, ExprTrait, Order, Query, Table};
use djrs::tasks::{Tasks, Worker};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// A product. The database computes `slug` from `name`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, Record)]
#[record(table = "product")]
struct Product {
    id: Option<i64>,
    name: String,
    price_cents: i64,
    #[record(generated(name))]
    slug: Option<String>,
}

impl KeysetRow for Product {
    fn key_values(&self) -> Vec<KeyValue> {
        vec![self.id.unwrap_or_default().into()]
    }
}

/// Everything the handlers share; each part is its own extractor through `FromRef`.
#[derive(Clone, FromRef)]
struct AppState {
    db: Db,
    templates: Arc<Templates>,
    tasks: Tasks,
    cursor_key: CursorKey,
}

/// The application's error: each battery's error keeps its status (an invalid page or cursor
/// is a 404), everything else is a 500 whose detail is logged and never shown.
#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error(transparent)]
    Page(#[from] djrs::paginate::axum::PaginationRejection),
    #[error(transparent)]
    Paginate(#[from] djrs::paginate::Error),
    #[error("no such product")]
    NotFound,
    #[error("{0}")]
    BadInput(&'static str),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("orm: {0}")]
    Orm(#[from] djrs::orm_ext::Error),
    #[error("mail: {0}")]
    Mail(#[from] djrs::mail::Error),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Page(rejection) => rejection.into_response(),
            AppError::Paginate(err) => err.into_response(),
            AppError::NotFound => (StatusCode::NOT_FOUND, "Not Found").into_response(),
            AppError::BadInput(why) => (StatusCode::BAD_REQUEST, why).into_response(),
            other => {
                tracing::error!(error = ?other.to_string(), "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
            }
        }
    }
}

const TEMPLATES: &str = r##"<!doctype html>
<html><head><title>Catalogue</title>
<script nonce="{{ csp_nonce() }}" src="https://unpkg.com/htmx.org@2.0.4"></script></head>
<body>
<h1>Catalogue</h1>
<p id="names">{{ names }}</p>
{% partialdef list inline %}
<ul id="list">
{% for p in page.object_list %}<li>{{ p.name }} ({{ p.slug }}): {{ p.price_cents }} cents</li>{% endfor %}
</ul>
{% if page.has_next %}<a hx-get="/?page={{ page.next_page_number }}" hx-target="#list" hx-swap="outerHTML" href="/?page={{ page.next_page_number }}">Next</a>{% endif %}
{% endpartialdef %}
<form method="post" action="/products">
<input name="name" required> <input name="price_cents" type="number" required> <button>Add</button>
</form>
</body></html>"##;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://catalogue.sqlite3".into());
    let bind: SocketAddr = std::env::var("BIND")
        .unwrap_or_else(|_| "127.0.0.1:8000".into())
        .parse()?;

    // SQLite files are opened in WAL mode with a busy timeout: the queue shares the file.
    let db = Db::connect(&url).await?;
    migrate(&db).await?;

    let mailer = match std::env::var("MAIL_DIR") {
        Ok(dir) => Mailer::new(djrs::mail::FileBackend::new(dir)?),
        Err(_) => Mailer::new(djrs::mail::ConsoleBackend::stdout()),
    };
    // The queue lives in the same database; the mailer is the send task's state.
    let tasks = Tasks::builder()
        .backend_arc("default", db.tasks_backend())
        .state(mailer)
        .build()?;

    let mut templates = Templates::new();
    templates.add_raw_template("catalogue.html", TEMPLATES)?;
    let state = AppState {
        db,
        templates: Arc::new(templates),
        tasks: tasks.clone(),
        cursor_key: CursorKey::random(),
    };

    // One shutdown for the server and the worker: SIGTERM or Ctrl-C.
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        djrs::tasks::shutdown_signal().await;
        let _ = stop.send(true);
    });
    let worker = Worker::new(&tasks).concurrency(4);
    let worker = tokio::spawn(worker.run_until(wait(stopped.clone())));

    let listener = tokio::net::TcpListener::bind(bind).await?;
    println!("listening on http://{}", listener.local_addr()?);
    serve(listener, app(state), stopped).await;
    worker.await??;
    Ok(())
}

/// The routes and layers. Layers run outside in: the last added sees the request first.
fn app(state: AppState) -> Router {
    let policy = Policy::builder()
        .directive("default-src", [CspSource::SELF])
        .directive("script-src", [CspSource::NONCE, CspSource::STRICT_DYNAMIC])
        .build()
        .expect("a valid policy");
    let token = std::env::var("CONSOLE_TOKEN").ok();
    let console = djrs::tasks::axum::console(move |parts, _access| {
        let sent = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        matches!((&token, sent), (Some(token), Some(sent)) if sent.strip_prefix("Bearer ") == Some(token.as_str()))
    });
    let routes = Router::new()
        .route("/", get(catalogue))
        .route("/products", post(create_product))
        .route("/products/{id}", get(product_json))
        .route("/api/products", get(api_products));
    djrs::tasks::axum::mount(routes, "/tasks", console)
        .with_state(state)
        // Handlers and templates (`csp_nonce()`) see the request's nonce.
        .layer(CspLayer::new().enforce(policy))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(64 * 1024))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
}

async fn migrate(db: &Db) -> Result<(), AppError> {
    let server = db.server().await?;
    let product = Table::create()
        .table("product")
        .if_not_exists()
        .col(big_auto_column("id", &server))
        .col(ColumnDef::new("name").string_len(200).not_null())
        .col(ColumnDef::new("price_cents").big_integer().not_null())
        .col(
            ColumnDef::new("slug")
                .string_len(200)
                .generated(Expr::cust("lower(replace(name, ' ', '-'))"), true),
        )
        .to_owned();
    db.schema(&product).execute().await?;
    Ok(())
}

#[derive(Serialize)]
struct CataloguePage {
    page: djrs::paginate::AsyncPage<Product>,
    names: String,
}

/// `GET /?page=N`: the whole page, or the list alone for htmx.
async fn catalogue(
    State(db): State<Db>,
    State(templates): State<Arc<Templates>>,
    htmx: Htmx,
    page: PageParam,
) -> Result<Template, AppError> {
    let query = Query::select()
        .columns(["id", "name", "price_cents", "slug"])
        .from("product")
        .order_by("id", Order::Asc)
        .to_owned();
    let page = page.apage(&db.paginator::<Product>(query, 10)).await?;
    let names = StringAgg::new(Expr::col("name"))
        .delimiter(", ")
        .order_by(Expr::col("name"), Order::Asc)
        .default("");
    let all_names = Query::select()
        .expr(names.to_expr(&db.server().await?)?)
        .from("product")
        .to_owned();
    let (names,): (String,) = db.select(&all_names).fetch_one().await?;
    let context = CataloguePage { page, names };
    Ok(Template::page_or_fragment(
        templates,
        &htmx,
        "catalogue.html",
        "list",
        &context,
    ))
}

#[derive(Deserialize)]
struct NewProduct {
    name: String,
    price_cents: i64,
}

/// `POST /products`: saves the product and mails the team in the background.
async fn create_product(
    State(db): State<Db>,
    State(tasks): State<Tasks>,
    Form(form): Form<NewProduct>,
) -> Result<Redirect, AppError> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.contains('\0') {
        return Err(AppError::BadInput(
            "a name of 1 to 200 characters is required",
        ));
    }
    let mut product = Product {
        id: None,
        name: name.to_owned(),
        price_cents: form.price_cents,
        slug: None,
    };
    db.save(&mut product).await?;
    EmailMessage::new(
        format!("New product: {}", product.name),
        format!("{} costs {} cents.", product.name, product.price_cents),
    )
    .from_email("catalogue@example.com")?
    .to(["team@example.com"])?
    .send_later(&tasks)
    .await?;
    Ok(Redirect::to(&format!(
        "/products/{}",
        product.id.unwrap_or_default()
    )))
}

/// `GET /products/{id}`: one product as JSON.
async fn product_json(
    State(db): State<Db>,
    Path(id): Path<i64>,
) -> Result<axum::Json<Product>, AppError> {
    let query = Query::select()
        .columns(["id", "name", "price_cents", "slug"])
        .from("product")
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    let product = db.select(&query).fetch_optional().await?;
    product.map(axum::Json).ok_or(AppError::NotFound)
}

/// `GET /api/products?cursor=…&page_size=N`: newest first, in DRF's cursor shape.
async fn api_products(
    State(db): State<Db>,
    State(cursor_key): State<CursorKey>,
    url: RequestUrl,
    cursor: CursorParam,
) -> Result<Paginated<CursorEnvelope<Vec<Product>>>, AppError> {
    let query = Query::select()
        .columns(["id", "name", "price_cents", "slug"])
        .from("product")
        .to_owned();
    let page = db
        .keyset::<Product>(
            query,
            url.page_size(&PageSize::new(20).param("page_size").max(100)),
        )
        .key("id", Order::Desc)
        .cursor_key(cursor_key)
        .page(cursor.token())
        .await?;
    Ok(Paginated::keyset(&url, page, "cursor"))
}

/// Resolves when `stopped` turns true.
async fn wait(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Serves `app` with the limits an open port needs and `axum::serve` does not set: a request
/// head must arrive within 10 s (slow-header clients are cut off), at most 512 connections at
/// once, and on shutdown open connections get 30 s to finish.
async fn serve(listener: tokio::net::TcpListener, app: Router, stopped: watch::Receiver<bool>) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(512));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    let stop = wait(stopped);
    tokio::pin!(stop);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut stop => break,
        };
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 30 s; closing them");
    }
}
