//! Django's paginator (`django.core.paginator`, Django 6.0) for Rust: [`Paginator`] over
//! slices and anything that counts and slices, [`AsyncPaginator`] over database queries,
//! elided page ranges, and [`KeysetPaginator`] for deep pages.
//!
//! Results match Django's exactly, including its parsing of raw page numbers, its error
//! messages and its float arithmetic for page counts: the crate's tests run every case Django
//! 6.0 recorded through both paginators.
//!
//! ```
//! use djrs_paginate::{Paginator, PageLink};
//!
//! let articles: Vec<String> = (1..=230).map(|i| format!("Article {i}")).collect();
//! let paginator = Paginator::new(&articles[..], 10);
//!
//! // A raw `?page=` value, parsed as Django does; garbage falls back to page 1.
//! let page = paginator.get_page(" 7 ")?;
//! assert_eq!(page.number(), 7);
//! assert_eq!(page.object_list()[0], "Article 61");
//! assert_eq!((page.start_index(), page.end_index()), (61, 70));
//!
//! // Page links for a navigation bar.
//! let links = paginator.get_elided_page_range(page.number(), 3, 2)?;
//! let shown: Vec<String> = links.iter().map(PageLink::to_string).collect();
//! assert_eq!(shown, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "…", "22", "23"]);
//! # Ok::<(), djrs_paginate::Error>(())
//! ```
//!
//! # Features
//!
//! | feature    | adds                                                                     | default |
//! |------------|--------------------------------------------------------------------------|---------|
//! | `postgres` | [`SelectSource`] and [`KeysetPaginator`] on PostgreSQL through sqlx      | no      |
//! | `mysql`    | the same on MySQL and MariaDB                                            | no      |
//! | `sqlite`   | the same on SQLite                                                       | no      |
//! | `axum`     | [`axum::PageParam`] / [`axum::CursorParam`] extractors, 404 rejections   | no      |
//!
//! Pages implement `serde::Serialize`, so they drop into Tera (or any template engine) and
//! JSON responses without a feature.
//!
//! # Coming from Django
//!
//! | Django                                   | djrs-paginate                                  |
//! |------------------------------------------|------------------------------------------------|
//! | `Paginator(objects, per_page, orphans=…, allow_empty_first_page=…, error_messages=…)` | `Paginator::new(objects, per_page).orphans(…).allow_empty_first_page(…).error_messages(…)` |
//! | `AsyncPaginator`, `AsyncPage`            | [`AsyncPaginator`], [`AsyncPage`]              |
//! | `InvalidPage`, `PageNotAnInteger`, `EmptyPage` | [`Error::is_invalid_page`], [`Error::PageNotAnInteger`], [`Error::EmptyPage`] |
//! | `Paginator.ELLIPSIS`                     | [`ELLIPSIS`], [`PageLink::Ellipsis`]           |
//! | `UnorderedObjectListWarning`             | a `tracing` warning and [`AsyncPaginator::warnings`] |

#[cfg(feature = "axum")]
pub mod axum;

mod asynchronous;
mod error;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod keyset;
mod layout;
mod links;
mod number;
mod page;
mod paginator;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod sql;

pub use asynchronous::{AsyncObjectList, AsyncPage, AsyncPaginator};
pub use error::{Error, ErrorMessages, Result};
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
pub use keyset::{CursorKey, KeyValue, KeysetPage, KeysetPaginator, KeysetRow};
pub use layout::{ELLIPSIS, PageLink};
pub use links::{CursorEnvelope, NavLinks, PageEnvelope, PageSize, QueryString};
pub use number::{PageNumber, parse_python_int};
pub use page::Page;
pub use paginator::{DEFAULT_ON_EACH_SIDE, DEFAULT_ON_ENDS, ObjectList, Paginator, Warning};
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
pub use sql::{SelectSource, SqlDialect};
