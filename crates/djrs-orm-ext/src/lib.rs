//! Django 6.0's ORM additions for [sea-query] and [sqlx]: [`StringAgg`] and [`AnyValue`]
//! that render correct SQL on PostgreSQL, MySQL/MariaDB and SQLite, and a [`Record`] trait
//! (with a derive) whose `save()` refreshes the key, database defaults and generated columns
//! through `RETURNING`, raises [`NotUpdated`] like Django, and uses 64-bit auto keys by
//! default.
//!
//! The SQL is the SQL Django 6.0.10 generates: the crate's conformance test compares every
//! case Django recorded, and runs each expression on real PostgreSQL, MariaDB and SQLite.
//!
//! ```
//! use djrs_orm_ext::{DatabaseServer, StringAgg};
//! use sea_query::{Expr, Order, Query, SqliteQueryBuilder};
//!
//! // The tags of each article in one column.
//! let tags = StringAgg::new(Expr::col(("tag", "name")))
//!     .delimiter(", ")
//!     .order_by(Expr::col(("tag", "name")), Order::Asc);
//! let backend = DatabaseServer::sqlite(3, 51, 0); // or DatabaseServer::detect(&pool).await?
//! let query = Query::select()
//!     .column(("tag", "article_id"))
//!     .expr_as(tags.to_expr(&backend)?, "tags")
//!     .from("tag")
//!     .group_by_col(("tag", "article_id"))
//!     .to_owned();
//! assert_eq!(
//!     query.to_string(SqliteQueryBuilder),
//!     r#"SELECT "tag"."article_id", STRING_AGG("tag"."name", ', ' ORDER BY "tag"."name") AS "tags" FROM "tag" GROUP BY "tag"."article_id""#
//! );
//!
//! // SQLite before 3.44 cannot order inside an aggregate: a typed error, as in Django.
//! assert!(tags.to_expr(&DatabaseServer::sqlite(3, 40, 1)).is_err());
//! # Ok::<(), djrs_orm_ext::Error>(())
//! ```
//!
//! Saving a record (here on SQLite; the same code runs on PostgreSQL and MySQL/MariaDB):
//!
//! ```no_run
//! use djrs_orm_ext::{Record, Save};
//!
//! #[derive(Debug, Record)]
//! #[record(table = "article")]
//! struct Article {
//!     id: Option<i64>,                 // BigAutoField: assigned by the database
//!     title: String,
//!     #[record(db_default)]
//!     views: Option<i64>,              // db_default: read back after INSERT
//!     #[record(generated(title))]
//!     title_length: Option<i64>,       // GeneratedField: read back after INSERT and UPDATE
//! }
//!
//! # #[cfg(feature = "sqlite")]
//! # async fn demo(pool: sqlx::SqlitePool) -> djrs_orm_ext::Result<()> {
//! let mut article = Article { id: None, title: "Hello".into(), views: None, title_length: None };
//! article.save(&pool).await?;                 // INSERT … RETURNING "id", "views", "title_length"
//! assert_eq!(article.title_length, Some(5));
//!
//! article.title = "Hello, world".into();
//! article.save_with(&pool, Save::new().update_fields(["title"])).await?; // UPDATE … RETURNING "title_length"
//! assert_eq!(article.title_length, Some(12));
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! | feature    | adds                                                                       | default |
//! |------------|----------------------------------------------------------------------------|---------|
//! | `derive`   | `#[derive(Record)]`                                                        | yes     |
//! | `postgres` | `Record::save` and `DatabaseServer::detect` on PostgreSQL                          | no      |
//! | `mysql`    | the same on MySQL and MariaDB, and the [`mysql`] `group_concat_max_len` helpers | no |
//! | `sqlite`   | the same on SQLite                                                         | no      |
//!
//! The expressions and [`big_auto_column`] need no feature: they produce sea-query values
//! that any sea-query user renders with the builder of their database.
//!
//! # Coming from Django
//!
//! | Django 6.0                                            | djrs-orm-ext                                        |
//! |-------------------------------------------------------|-----------------------------------------------------|
//! | `StringAgg(expr, delimiter=Value(", "), distinct=, filter=, order_by=, default=)` | `StringAgg::new(expr).delimiter(", ").distinct().filter(…).order_by(…, Order::Asc).default(…)` |
//! | `AnyValue(expr, filter=, default=)`                   | [`AnyValue::new`]`(expr).filter(…).default(…)`      |
//! | `connection.vendor`, `connection.features.*`          | [`DatabaseServer`], [`DatabaseServer::detect`]                    |
//! | `NotSupportedError`                                   | [`Error::NotSupported`]                             |
//! | a model class                                         | `#[derive(Record)]`                                 |
//! | `obj.save()`, `save(force_insert=, force_update=, update_fields=)` | [`Record::save`], [`Record::save_with`] with [`Save`] |
//! | `obj.views = F("views") + 1; obj.save()`             | [`Save::expression`]                                |
//! | `Model.NotUpdated`                                    | [`Error::NotUpdated`] holding [`NotUpdated`]         |
//! | `BigAutoField` (the `DEFAULT_AUTO_FIELD` default)     | an `id: Option<i64>` field; [`big_auto_column`] for the DDL |
//! | `GeneratedField`, `db_default`                        | `#[record(generated(…))]`, `#[record(db_default)]`  |
//!
//! [sea-query]: https://docs.rs/sea-query
//! [sqlx]: https://docs.rs/sqlx

// The docs link items of every feature; they resolve in a build with all features (docs.rs).
#![cfg_attr(
    not(all(
        feature = "derive",
        feature = "postgres",
        feature = "mysql",
        feature = "sqlite"
    )),
    allow(rustdoc::broken_intra_doc_links)
)]

mod db;
mod error;
mod expr;
#[cfg(feature = "mysql")]
pub mod mysql;
mod record;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod save;
mod schema;
mod server;

pub use db::OrmDatabase;
/// Derives [`Record`] and [`ReturnedRow`] (feature `derive`); see [`Record`] for the
/// attributes.
#[cfg(feature = "derive")]
pub use djrs_orm_ext_macros::Record;
pub use error::{Error, NotUpdated, NotUpdatedReason, Result};
pub use expr::{AnyValue, OrderBy, StringAgg};
pub use record::{Column, ColumnKind, Record, ReturnedRow, Save, Saved};
pub use schema::big_auto_column;
pub use server::{DatabaseServer, Vendor, Version};

#[doc(hidden)]
pub mod __private {
    pub use sea_query;
    pub use sqlx;
}
