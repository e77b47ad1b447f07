//! djrs: the batteries Django 6.0 added, for Rust web applications on axum, tokio and tower.
//!
//! Each battery is its own crate, usable alone; this umbrella re-exports them as modules behind
//! one feature each, plus a small [`prelude`].
//!
//! ```
//! use djrs::prelude::*;
//!
//! let paginator = Paginator::new(0..95_u64, 10);
//! let page = paginator.get_page("10")?;
//! assert_eq!(page.object_list(), &(90..95));
//! # Ok::<(), djrs::paginate::Error>(())
//! ```
//!
//! # Features
//!
//! | feature    | adds                                                            | default |
//! |------------|-----------------------------------------------------------------|---------|
//! | `paginate` | [`paginate`]: Django's `Paginator`/`AsyncPaginator`, keyset pages | yes     |
//! | `tasks`    | [`tasks`]: Django's `django.tasks`, one queue engine on SQLite, PostgreSQL and MySQL/MariaDB, a worker, cron | yes |
//! | `csp`      | [`csp`]: Content Security Policy with nonces, a tower layer       | yes     |
//! | `orm-ext`  | [`orm_ext`]: `StringAgg`, `AnyValue`, `Record` saves with `RETURNING` | yes  |
//! | `partials` | [`partials`]: Django's template partials on Tera 2, htmx helpers  | yes     |
//! | `mail`     | [`mail`]: Django's email API, console/file/locmem/dummy backends  | yes     |
//! | `smtp`     | the SMTP mail backend (lettre, rustls, a capped pool)             | no      |
//! | `dkim`     | DKIM signing of mail                                              | no      |
//! | `tera`     | `djrs::csp::tera::register`, for a plain `tera::Tera` of the application's own (djrs-partials' templates have `csp_nonce()` without it) | no |
//! | `axum`     | the axum extractors of every enabled battery                   | no      |
//! | `postgres` | PostgreSQL support of every enabled battery                    | no      |
//! | `mysql`    | MySQL/MariaDB support of every enabled battery                 | no      |
//! | `sqlite`   | SQLite support of every enabled battery                        | no      |
//! | `tasks-metrics` | the tasks' counters, histograms and queue gauges through the `metrics` facade | no |
//! | `tasks-otel` | OpenTelemetry trace context carried from enqueue to the worker's attempt | no |
//!
//! With both `partials` and `csp`, templates rendered while a `CspLayer` whose policy holds the
//! nonce handles the request see its nonce as `csp_nonce()`; with both `mail` and
//! `tasks`, messages can be sent in the background (`send_later`); with both `mail` and
//! `partials`, a message's subject, text and HTML come from one template's partials
//! (`EmailMessage::from_template`).
//!
//! # One database type
//!
//! With a database feature (`sqlite`, `postgres`, `mysql`), [`db::Db`] holds the pool of
//! whichever database a URL names and offers every battery's database entry point on it, so an
//! application that takes "SQLite by default, PostgreSQL by URL" writes no `match`:
//! `Db::connect(url)`, `db.select(&select).fetch_all::<T>()`, `db.save(&mut record)`,
//! `db.paginator::<T>(select, 10)`, `db.keyset::<T>(select, 10)`, `db.tasks_backend()`.
//!
//! `#[djrs::tasks::task]` and `#[derive(djrs::orm_ext::Record)]` work through the umbrella: they
//! find `djrs::tasks` and `djrs::orm_ext` when the crates are not direct dependencies.
//!
//! # Integration crates
//!
//! The crates djrs's API exposes are re-exported in the versions djrs is built with, so that an
//! application names them through djrs instead of keeping their versions in step by hand:
//! `djrs::sqlx` (with `orm-ext` or a database feature), `djrs::sea_query`,
//! `djrs::sea_query_sqlx`, `djrs::tera` (with `partials` or `tera`) and `djrs::axum` (with
//! `axum`).
//!
//! ```
//! # #[cfg(all(feature = "sqlite", feature = "partials"))]
//! # {
//! let options = djrs::sqlx::sqlite::SqliteConnectOptions::new().filename("app.sqlite3");
//! let select = djrs::sea_query::Query::select().column("id").from("article").to_owned();
//! let mut context = djrs::tera::Context::new();
//! context.insert("title", "Articles");
//! # let _ = (options, select);
//! # }
//! ```
//!
//! Derive macros are the exception: `#[derive(sqlx::FromRow)]` and sea-query's derives expand to
//! paths that start at `::sqlx` and `::sea_query`, so an application that uses them also
//! declares the crate itself, with the same minor version (`sqlx = "0.9"`, `sea-query = "1"`).
//! Cargo then unifies it with djrs's: one copy, one version.

#[cfg(feature = "paginate")]
#[doc(inline)]
pub use djrs_paginate as paginate;

#[cfg(feature = "tasks")]
#[doc(inline)]
pub use djrs_tasks as tasks;

#[cfg(feature = "csp")]
#[doc(inline)]
pub use djrs_csp as csp;

#[cfg(feature = "orm-ext")]
#[doc(inline)]
pub use djrs_orm_ext as orm_ext;

#[cfg(feature = "partials")]
#[doc(inline)]
pub use djrs_partials as partials;

#[cfg(feature = "mail")]
#[doc(inline)]
pub use djrs_mail as mail;

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
pub mod db;

/// sqlx, in the version djrs is built with (see [Integration crates](crate#integration-crates)).
#[cfg(any(
    feature = "orm-ext",
    feature = "postgres",
    feature = "mysql",
    feature = "sqlite"
))]
pub use sqlx;

/// sea-query, in the version djrs is built with.
#[cfg(any(
    feature = "orm-ext",
    feature = "postgres",
    feature = "mysql",
    feature = "sqlite"
))]
pub use sea_query;

/// sea-query's sqlx binding, in the version djrs is built with.
#[cfg(any(
    feature = "orm-ext",
    feature = "postgres",
    feature = "mysql",
    feature = "sqlite"
))]
pub use sea_query_sqlx;

/// Tera, in the version djrs is built with.
#[cfg(any(feature = "partials", feature = "tera"))]
pub use tera;

/// axum, in the version djrs is built with.
#[cfg(feature = "axum")]
pub use axum;

/// The names most applications use, for a glob import.
pub mod prelude {
    #[cfg(feature = "csp")]
    #[doc(no_inline)]
    pub use djrs_csp::{CspSource, Policy};
    #[cfg(feature = "mail")]
    #[doc(no_inline)]
    pub use djrs_mail::{EmailMessage, Mailer, send_mail};
    #[cfg(feature = "orm-ext")]
    #[doc(no_inline)]
    pub use djrs_orm_ext::{AnyValue, Record, StringAgg};
    #[cfg(feature = "paginate")]
    #[doc(no_inline)]
    pub use djrs_paginate::{AsyncPaginator, Page, PageLink, Paginator};
    #[cfg(feature = "partials")]
    #[doc(no_inline)]
    pub use djrs_partials::Templates;
    #[cfg(feature = "tasks")]
    #[doc(no_inline)]
    pub use djrs_tasks::{Task, TaskContext, TaskResult, TaskResultStatus, Tasks, Worker, task};
}
