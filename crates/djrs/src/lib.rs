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
//! | `tera`     | the Tera integrations of every enabled battery (the CSP nonce)  | no      |
//! | `axum`     | the axum extractors of every enabled battery                   | no      |
//! | `postgres` | PostgreSQL support of every enabled battery                    | no      |
//! | `mysql`    | MySQL/MariaDB support of every enabled battery                 | no      |
//! | `sqlite`   | SQLite support of every enabled battery                        | no      |
//! | `tasks-metrics` | the tasks' counters, histograms and queue gauges through the `metrics` facade | no |
//! | `tasks-otel` | OpenTelemetry trace context carried from enqueue to the worker's attempt | no |
//!
//! With both `partials` and `csp`, templates see the request's nonce as `csp_nonce()`; with both
//! `mail` and `tasks`, messages can be sent in the background (`send_later`).
//!
//! `#[djrs::tasks::task]` and `#[derive(djrs::orm_ext::Record)]` work through the umbrella: they
//! find `djrs::tasks` and `djrs::orm_ext` when the crates are not direct dependencies.

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
