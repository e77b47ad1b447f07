//! Django 6.0's cross-database aggregates for sea-query: [`StringAgg`] and [`AnyValue`].
//!
//! Both are builders that render, for a given [`DatabaseServer`], a sea-query [`Expr`] to put in a
//! `SELECT` (`.expr_as(agg.to_expr(&backend)?, "alias")`). The SQL is the SQL Django 6.0.10
//! generates on each database; the crate's conformance test compares it case by case.
//!
//! Why about 750 lines: the two aggregates share their rendering per database (ordering, filter
//! emulation, defaults), and a third of the file is their runnable examples; the unit tables
//! are in `expr/tests.rs`.

use std::borrow::Cow;

use sea_query::{Expr, Func, NullOrdering, Order};

use crate::error::{Error, Result};
use crate::server::{DatabaseServer, Vendor};

/// One term of an aggregate's `ORDER BY`: an expression, its direction and, optionally, where
/// NULLs go.
///
/// ```
/// use djrs_orm_ext::OrderBy;
/// use sea_query::{Expr, Func, NullOrdering, Order};
///
/// let newest_first = OrderBy::new(Expr::col("published"), Order::Desc).nulls(NullOrdering::Last);
/// assert_eq!(newest_first.order(), &Order::Desc);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct OrderBy {
    expr: Expr,
    order: Order,
    nulls: Option<NullOrdering>,
}

impl OrderBy {
    /// `expr` in `order` (`Order::Asc` renders as the bare expression, like Django's
    /// `order_by="name"`; `Order::Desc` adds `DESC`).
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, OrderBy, StringAgg};
    /// use sea_query::{Expr, Order, PostgresQueryBuilder, Query};
    ///
    /// let names = StringAgg::new(Expr::col("name"))
    ///     .delimiter(", ")
    ///     .order_by_term(OrderBy::new(Expr::col("name"), Order::Desc));
    /// let query = Query::select().expr(names.to_expr(&DatabaseServer::postgres(16, 0))?).to_owned();
    /// assert_eq!(query.to_string(PostgresQueryBuilder), r#"SELECT STRING_AGG("name", ', ' ORDER BY "name" DESC)"#);
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn new(expr: impl Into<Expr>, order: Order) -> Self {
        OrderBy {
            expr: expr.into(),
            order,
            nulls: None,
        }
    }

    /// Puts NULLs first or last (Django's `nulls_first=True` / `nulls_last=True`). On MySQL
    /// and MariaDB, which lack the modifier, it becomes `x IS NULL, x` where needed.
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, OrderBy, StringAgg};
    /// use sea_query::{Expr, MysqlQueryBuilder, NullOrdering, Order, PostgresQueryBuilder, Query};
    ///
    /// let titles = StringAgg::new(Expr::col("title"))
    ///     .delimiter(", ")
    ///     .order_by_term(OrderBy::new(Expr::col("published"), Order::Asc).nulls(NullOrdering::Last));
    ///
    /// let pg = Query::select().expr(titles.to_expr(&DatabaseServer::postgres(16, 0))?).to_owned();
    /// assert_eq!(
    ///     pg.to_string(PostgresQueryBuilder),
    ///     r#"SELECT STRING_AGG("title", ', ' ORDER BY "published" NULLS LAST)"#
    /// );
    /// // MySQL has no NULLS LAST: NULLs are sorted by a leading key, as Django does.
    /// let my = Query::select().expr(titles.to_expr(&DatabaseServer::mysql(8, 0, 40))?).to_owned();
    /// assert_eq!(
    ///     my.to_string(MysqlQueryBuilder),
    ///     "SELECT GROUP_CONCAT(`title` ORDER BY `published` IS NULL, `published` SEPARATOR ', ')"
    /// );
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn nulls(mut self, nulls: NullOrdering) -> Self {
        self.nulls = Some(nulls);
        self
    }

    /// The direction.
    ///
    /// ```
    /// use djrs_orm_ext::OrderBy;
    /// use sea_query::{Expr, Order};
    ///
    /// let term = OrderBy::new(Expr::col("name"), Order::Asc);
    /// assert_eq!(term.order(), &Order::Asc);
    /// ```
    #[must_use]
    pub fn order(&self) -> &Order {
        &self.order
    }

    fn render(&self, sql: &mut Template, backend: &DatabaseServer) {
        let desc = matches!(self.order, Order::Desc);
        let direction = if desc { " DESC" } else { "" };
        if backend.supports_order_by_nulls_modifier() {
            sql.expr(self.expr.clone());
            sql.push(direction);
            match self.nulls {
                Some(NullOrdering::First) => sql.push(" NULLS FIRST"),
                Some(NullOrdering::Last) => sql.push(" NULLS LAST"),
                None => {}
            }
            return;
        }
        // MySQL sorts NULLs first ascending, last descending (Django's
        // `order_by_nulls_first`); the other two combinations need a leading key.
        match (self.nulls, desc) {
            (Some(NullOrdering::Last), false) => {
                sql.expr(self.expr.clone());
                sql.push(" IS NULL, ");
            }
            (Some(NullOrdering::First), true) => {
                sql.expr(self.expr.clone());
                sql.push(" IS NOT NULL, ");
            }
            _ => {}
        }
        sql.expr(self.expr.clone());
        sql.push(direction);
    }
}

/// Django 6.0's `StringAgg`: the values of a group joined into one string, on PostgreSQL,
/// MySQL/MariaDB and SQLite.
///
/// | database              | SQL                                                                 |
/// |-----------------------|---------------------------------------------------------------------|
/// | PostgreSQL            | `STRING_AGG([DISTINCT] x, $1 [ORDER BY …]) [FILTER (WHERE …)]`      |
/// | MySQL, MariaDB        | `GROUP_CONCAT([DISTINCT] x [ORDER BY …] SEPARATOR '…')`, the filter as `CASE WHEN … THEN x ELSE NULL END` |
/// | SQLite 3.44+          | `STRING_AGG(x, ? [ORDER BY …]) [FILTER (WHERE …)]`                  |
/// | SQLite before 3.44    | `GROUP_CONCAT(x, ?) [FILTER (WHERE …)]`; `order_by` is an error     |
///
/// `default` wraps the aggregate in `COALESCE(…, default)`. `distinct` is an error on SQLite
/// (it forbids `DISTINCT` with a second argument), exactly as in Django.
///
/// The delimiter is a bound parameter, except on MySQL/MariaDB: their grammar only takes a
/// string literal after `SEPARATOR`, so it is written as one, quoted so that it reads the same
/// with and without `NO_BACKSLASH_ESCAPES`. MySQL cuts the result at `group_concat_max_len`
/// bytes (1,024 by default; 1 MiB on MariaDB): see [`mysql::set_group_concat_max_len`](crate::mysql).
///
/// ```
/// use djrs_orm_ext::{DatabaseServer, StringAgg};
/// use sea_query::{Expr, ExprTrait, Order, PostgresQueryBuilder, MysqlQueryBuilder, Query};
///
/// let tags = StringAgg::new(Expr::col(("tag", "name")))
///     .delimiter(", ")
///     .order_by(Expr::col(("tag", "name")), Order::Asc)
///     .filter(Expr::col(("tag", "hidden")).eq(false))
///     .default("");
///
/// let pg = DatabaseServer::postgres(15, 0);
/// let query = Query::select()
///     .column(("tag", "article_id"))
///     .expr_as(tags.to_expr(&pg)?, "tags")
///     .from("tag")
///     .group_by_col(("tag", "article_id"))
///     .to_owned();
/// assert_eq!(
///     query.build(PostgresQueryBuilder).0,
///     r#"SELECT "tag"."article_id", COALESCE(STRING_AGG("tag"."name", $1 ORDER BY "tag"."name") FILTER (WHERE "tag"."hidden" = $2), $3) AS "tags" FROM "tag" GROUP BY "tag"."article_id""#
/// );
///
/// let my = DatabaseServer::mariadb(10, 11, 6);
/// let query = Query::select().expr_as(tags.to_expr(&my)?, "tags").from("tag").to_owned();
/// assert_eq!(
///     query.build(MysqlQueryBuilder).0,
///     "SELECT COALESCE(GROUP_CONCAT(CASE WHEN `tag`.`hidden` = ? THEN `tag`.`name` ELSE NULL END ORDER BY `tag`.`name` SEPARATOR ', '), ?) AS `tags` FROM `tag`"
/// );
/// # Ok::<(), djrs_orm_ext::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct StringAgg {
    expr: Expr,
    delimiter: Option<Delimiter>,
    distinct: bool,
    order_by: Vec<OrderBy>,
    filter: Option<Expr>,
    default: Option<Expr>,
}

/// What separates the values of a [`StringAgg`].
#[derive(Debug, Clone, PartialEq)]
enum Delimiter {
    /// A string, Django's `delimiter=Value(", ")`.
    Value(String),
    /// An expression, Django's `delimiter=F("field")` (PostgreSQL and SQLite only).
    Expr(Expr),
}

impl StringAgg {
    /// Aggregates `expr` (a column or any expression yielding text). Give it a delimiter
    /// with [`StringAgg::delimiter`]: like Django, rendering without one is an error.
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, Error, StringAgg};
    /// use sea_query::{Expr, Query, SqliteQueryBuilder};
    ///
    /// let backend = DatabaseServer::sqlite(3, 51, 0);
    /// let names = StringAgg::new(Expr::col("name")).delimiter(", ");
    /// let query = Query::select().expr(names.to_expr(&backend)?).to_owned();
    /// assert_eq!(query.to_string(SqliteQueryBuilder), r#"SELECT STRING_AGG("name", ', ')"#);
    ///
    /// // Without a delimiter, rendering fails as Django's constructor does.
    /// let bare = StringAgg::new(Expr::col("name"));
    /// assert!(matches!(bare.to_expr(&backend), Err(Error::InvalidExpression(_))));
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn new(expr: impl Into<Expr>) -> Self {
        StringAgg {
            expr: expr.into(),
            delimiter: None,
            distinct: false,
            order_by: Vec::new(),
            filter: None,
            default: None,
        }
    }

    /// The string put between values (Django's `delimiter=Value(…)`). Any text is safe: it is
    /// bound as a parameter, or quoted on MySQL/MariaDB.
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, StringAgg};
    /// use sea_query::{Expr, MysqlQueryBuilder, PostgresQueryBuilder, Query};
    ///
    /// let names = StringAgg::new(Expr::col("name")).delimiter(" / ");
    ///
    /// // Bound as a parameter on PostgreSQL…
    /// let pg = Query::select().expr(names.to_expr(&DatabaseServer::postgres(16, 0))?).to_owned();
    /// assert_eq!(pg.build(PostgresQueryBuilder).0, r#"SELECT STRING_AGG("name", $1)"#);
    /// // …and written as a quoted literal after MySQL's SEPARATOR.
    /// let my = Query::select().expr(names.to_expr(&DatabaseServer::mysql(8, 0, 40))?).to_owned();
    /// assert_eq!(my.build(MysqlQueryBuilder).0, "SELECT GROUP_CONCAT(`name` SEPARATOR ' / ')");
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(Delimiter::Value(delimiter.into()));
        self
    }

    /// A delimiter computed per row (Django's `delimiter=F("field")`). PostgreSQL and SQLite
    /// only: MySQL's `SEPARATOR` takes a literal, so rendering for MySQL/MariaDB is an error.
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, Error, StringAgg};
    /// use sea_query::{Expr, PostgresQueryBuilder, Query};
    ///
    /// let names = StringAgg::new(Expr::col("name")).delimiter_expr(Expr::col("separator"));
    /// let pg = Query::select().expr(names.to_expr(&DatabaseServer::postgres(16, 0))?).to_owned();
    /// assert_eq!(pg.to_string(PostgresQueryBuilder), r#"SELECT STRING_AGG("name", "separator")"#);
    ///
    /// // MySQL's SEPARATOR only takes a literal.
    /// let mysql = DatabaseServer::mysql(8, 0, 40);
    /// assert!(matches!(names.to_expr(&mysql), Err(Error::NotSupported(_))));
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn delimiter_expr(mut self, delimiter: impl Into<Expr>) -> Self {
        self.delimiter = Some(Delimiter::Expr(delimiter.into()));
        self
    }

    /// Joins only distinct values (Django's `distinct=True`). Not supported on SQLite.
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, Error, StringAgg};
    /// use sea_query::{Expr, PostgresQueryBuilder, Query};
    ///
    /// let cities = StringAgg::new(Expr::col("city")).delimiter(", ").distinct();
    /// let pg = Query::select().expr(cities.to_expr(&DatabaseServer::postgres(16, 0))?).to_owned();
    /// assert_eq!(pg.to_string(PostgresQueryBuilder), r#"SELECT STRING_AGG(DISTINCT "city", ', ')"#);
    ///
    /// let sqlite = DatabaseServer::sqlite(3, 51, 0);
    /// assert!(matches!(cities.to_expr(&sqlite), Err(Error::NotSupported(_))));
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }

    /// Adds a term to the aggregate's `ORDER BY` (Django's `order_by=`); call it again for
    /// further terms.
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, StringAgg};
    /// use sea_query::{Expr, Order, Query, SqliteQueryBuilder};
    ///
    /// let authors = StringAgg::new(Expr::col("first_name"))
    ///     .delimiter(", ")
    ///     .order_by(Expr::col("last_name"), Order::Asc)
    ///     .order_by(Expr::col("first_name"), Order::Desc);
    /// let query = Query::select().expr(authors.to_expr(&DatabaseServer::sqlite(3, 51, 0))?).to_owned();
    /// assert_eq!(
    ///     query.to_string(SqliteQueryBuilder),
    ///     r#"SELECT STRING_AGG("first_name", ', ' ORDER BY "last_name", "first_name" DESC)"#
    /// );
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn order_by(self, expr: impl Into<Expr>, order: Order) -> Self {
        self.order_by_term(OrderBy::new(expr, order))
    }

    /// Adds a prepared [`OrderBy`] term, for `NULLS FIRST`/`NULLS LAST`.
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, OrderBy, StringAgg};
    /// use sea_query::{Expr, NullOrdering, Order, PostgresQueryBuilder, Query};
    ///
    /// let titles = StringAgg::new(Expr::col("title"))
    ///     .delimiter(", ")
    ///     .order_by_term(OrderBy::new(Expr::col("published"), Order::Desc).nulls(NullOrdering::First));
    /// let query = Query::select().expr(titles.to_expr(&DatabaseServer::postgres(16, 0))?).to_owned();
    /// assert_eq!(
    ///     query.to_string(PostgresQueryBuilder),
    ///     r#"SELECT STRING_AGG("title", ', ' ORDER BY "published" DESC NULLS FIRST)"#
    /// );
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn order_by_term(mut self, term: OrderBy) -> Self {
        self.order_by.push(term);
        self
    }

    /// Only rows where `condition` holds are aggregated (Django's `filter=Q(…)`).
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, StringAgg};
    /// use sea_query::{Expr, ExprTrait, MysqlQueryBuilder, PostgresQueryBuilder, Query};
    ///
    /// let visible = StringAgg::new(Expr::col("name"))
    ///     .delimiter(", ")
    ///     .filter(Expr::col("hidden").eq(false));
    ///
    /// let pg = Query::select().expr(visible.to_expr(&DatabaseServer::postgres(16, 0))?).to_owned();
    /// assert_eq!(
    ///     pg.to_string(PostgresQueryBuilder),
    ///     r#"SELECT STRING_AGG("name", ', ') FILTER (WHERE "hidden" = FALSE)"#
    /// );
    /// // MySQL has no FILTER clause: the condition moves into a CASE.
    /// let my = Query::select().expr(visible.to_expr(&DatabaseServer::mysql(8, 0, 40))?).to_owned();
    /// assert_eq!(
    ///     my.to_string(MysqlQueryBuilder),
    ///     "SELECT GROUP_CONCAT(CASE WHEN `hidden` = FALSE THEN `name` ELSE NULL END SEPARATOR ', ')"
    /// );
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn filter(mut self, condition: impl Into<Expr>) -> Self {
        self.filter = Some(condition.into());
        self
    }

    /// The result when no row is aggregated, instead of NULL (Django's `default=`), through
    /// `COALESCE`.
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, StringAgg};
    /// use sea_query::{Expr, PostgresQueryBuilder, Query};
    ///
    /// let names = StringAgg::new(Expr::col("name")).delimiter(", ").default("");
    /// let query = Query::select().expr(names.to_expr(&DatabaseServer::postgres(16, 0))?).to_owned();
    /// assert_eq!(
    ///     query.to_string(PostgresQueryBuilder),
    ///     r#"SELECT COALESCE(STRING_AGG("name", ', '), '')"#
    /// );
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn default(mut self, default: impl Into<Expr>) -> Self {
        self.default = Some(default.into());
        self
    }

    /// The expression for `backend`, or [`Error::NotSupported`] when that database cannot do
    /// what was asked (with Django's message), or [`Error::InvalidExpression`] without a
    /// delimiter.
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, Error, StringAgg};
    /// use sea_query::{Expr, Order, Query, SqliteQueryBuilder};
    ///
    /// let tags = StringAgg::new(Expr::col("name"))
    ///     .delimiter(", ")
    ///     .order_by(Expr::col("name"), Order::Asc);
    /// let query = Query::select()
    ///     .column("article_id")
    ///     .expr_as(tags.to_expr(&DatabaseServer::sqlite(3, 51, 0))?, "tags")
    ///     .from("tag")
    ///     .group_by_col("article_id")
    ///     .to_owned();
    /// assert_eq!(
    ///     query.to_string(SqliteQueryBuilder),
    ///     r#"SELECT "article_id", STRING_AGG("name", ', ' ORDER BY "name") AS "tags" FROM "tag" GROUP BY "article_id""#
    /// );
    ///
    /// // SQLite before 3.44 cannot order inside an aggregate.
    /// let old = DatabaseServer::sqlite(3, 40, 1);
    /// assert!(matches!(tags.to_expr(&old), Err(Error::NotSupported(_))));
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn to_expr(&self, backend: &DatabaseServer) -> Result<Expr> {
        let Some(delimiter) = &self.delimiter else {
            return Err(Error::InvalidExpression(Cow::Borrowed(
                "StringAgg needs a delimiter (Django: missing 1 required positional argument: \
                 'delimiter'); call .delimiter(\", \") before rendering",
            )));
        };
        if self.distinct && !backend.supports_aggregate_distinct_multiple_argument() {
            return Err(Error::not_supported(format!(
                "StringAgg does not support distinct with multiple expressions on this database \
                 backend. ({backend} treats the delimiter as a second argument and forbids \
                 DISTINCT with it; remove .distinct() or de-duplicate in a subquery)"
            )));
        }
        if !self.order_by.is_empty() && !backend.supports_aggregate_order_by_clause() {
            return Err(order_not_supported(backend));
        }
        let mut sql = Template::new(backend);
        match backend.vendor() {
            Vendor::MySql | Vendor::MariaDb => {
                let Delimiter::Value(separator) = delimiter else {
                    return Err(Error::not_supported(format!(
                        "{backend} cannot use an expression as the StringAgg delimiter: \
                         GROUP_CONCAT's SEPARATOR takes a string literal; pass a string to \
                         .delimiter()"
                    )));
                };
                sql.push("GROUP_CONCAT(");
                if self.distinct {
                    sql.push("DISTINCT ");
                }
                sql.expr(self.filtered_for_case(backend));
                self.render_order_by(&mut sql, backend);
                sql.push(" SEPARATOR ");
                sql.expr(Expr::cust(mysql_string_literal(separator)));
                sql.push(")");
            }
            Vendor::PostgreSql | Vendor::Sqlite => {
                let native = backend.vendor() == Vendor::PostgreSql
                    || backend.supports_aggregate_order_by_clause();
                sql.push(if native {
                    "STRING_AGG("
                } else {
                    "GROUP_CONCAT("
                });
                if self.distinct {
                    sql.push("DISTINCT ");
                }
                sql.expr(self.expr.clone());
                sql.push(", ");
                sql.expr(match delimiter {
                    Delimiter::Value(text) => Expr::val(text.as_str()),
                    Delimiter::Expr(expr) => expr.clone(),
                });
                self.render_order_by(&mut sql, backend);
                sql.push(")");
                render_filter_clause(&mut sql, self.filter.as_ref());
            }
        }
        Ok(with_default(sql.finish(), self.default.as_ref()))
    }

    fn filtered_for_case(&self, backend: &DatabaseServer) -> Expr {
        filtered_for_case(&self.expr, self.filter.as_ref(), backend)
    }

    fn render_order_by(&self, sql: &mut Template, backend: &DatabaseServer) {
        for (i, term) in self.order_by.iter().enumerate() {
            sql.push(if i == 0 { " ORDER BY " } else { ", " });
            term.render(sql, backend);
        }
    }
}

/// Django 6.0's `AnyValue`: an arbitrary non-NULL value of the group, for columns that
/// depend on the `GROUP BY` key but are not in it.
///
/// | database            | SQL                                                          |
/// |---------------------|--------------------------------------------------------------|
/// | PostgreSQL 16+      | `ANY_VALUE(x) [FILTER (WHERE …)]`                            |
/// | MySQL               | `ANY_VALUE(x)`, the filter as `CASE WHEN … THEN x ELSE NULL END` |
/// | SQLite              | `MIN(x) [FILTER (WHERE …)]` (SQLite's `MIN` takes every type) |
/// | PostgreSQL ≤ 15     | emulated: `(ARRAY_AGG(x) FILTER (WHERE x IS NOT NULL [AND …]))[1]` |
/// | MariaDB             | emulated: `MIN(x)`, the filter as `CASE`                     |
///
/// The two emulations return one of the group's values, as `ANY_VALUE` promises. Django raises
/// `NotSupportedError` on those two databases instead; ask for that with
/// [`AnyValue::native_only`].
///
/// ```
/// use djrs_orm_ext::{AnyValue, DatabaseServer};
/// use sea_query::{Expr, PostgresQueryBuilder, Query};
///
/// let title = AnyValue::new(Expr::col("title"));
/// let sql = |backend: DatabaseServer| -> djrs_orm_ext::Result<String> {
///     let query = Query::select().expr_as(title.to_expr(&backend)?, "t").from("book").to_owned();
///     Ok(query.to_string(PostgresQueryBuilder))
/// };
/// assert_eq!(sql(DatabaseServer::postgres(16, 0))?, r#"SELECT ANY_VALUE("title") AS "t" FROM "book""#);
/// assert_eq!(
///     sql(DatabaseServer::postgres(15, 4))?,
///     r#"SELECT (ARRAY_AGG("title") FILTER (WHERE "title" IS NOT NULL))[1] AS "t" FROM "book""#
/// );
/// assert!(title.clone().native_only().to_expr(&DatabaseServer::mariadb(10, 11, 6)).is_err());
/// # Ok::<(), djrs_orm_ext::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct AnyValue {
    expr: Expr,
    filter: Option<Expr>,
    default: Option<Expr>,
    emulate: bool,
}

impl AnyValue {
    /// Any value of `expr` in the group.
    ///
    /// ```
    /// use djrs_orm_ext::{AnyValue, DatabaseServer};
    /// use sea_query::{Expr, PostgresQueryBuilder, Query};
    ///
    /// let title = AnyValue::new(Expr::col("title"));
    /// let query = Query::select().expr(title.to_expr(&DatabaseServer::postgres(16, 0))?).to_owned();
    /// assert_eq!(query.to_string(PostgresQueryBuilder), r#"SELECT ANY_VALUE("title")"#);
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn new(expr: impl Into<Expr>) -> Self {
        AnyValue {
            expr: expr.into(),
            filter: None,
            default: None,
            emulate: true,
        }
    }

    /// Only rows where `condition` holds are considered (Django's `filter=`).
    ///
    /// ```
    /// use djrs_orm_ext::{AnyValue, DatabaseServer};
    /// use sea_query::{Expr, ExprTrait, Query, SqliteQueryBuilder};
    ///
    /// let long_title = AnyValue::new(Expr::col("title")).filter(Expr::col("pages").gt(100));
    /// let query = Query::select().expr(long_title.to_expr(&DatabaseServer::sqlite(3, 51, 0))?).to_owned();
    /// assert_eq!(
    ///     query.to_string(SqliteQueryBuilder),
    ///     r#"SELECT MIN("title") FILTER (WHERE "pages" > 100)"#
    /// );
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn filter(mut self, condition: impl Into<Expr>) -> Self {
        self.filter = Some(condition.into());
        self
    }

    /// The result when the group has no value, through `COALESCE` (Django's `default=`).
    ///
    /// ```
    /// use djrs_orm_ext::{AnyValue, DatabaseServer};
    /// use sea_query::{Expr, Query, SqliteQueryBuilder};
    ///
    /// let title = AnyValue::new(Expr::col("title")).default("untitled");
    /// let query = Query::select().expr(title.to_expr(&DatabaseServer::sqlite(3, 51, 0))?).to_owned();
    /// assert_eq!(
    ///     query.to_string(SqliteQueryBuilder),
    ///     r#"SELECT COALESCE(MIN("title"), 'untitled')"#
    /// );
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn default(mut self, default: impl Into<Expr>) -> Self {
        self.default = Some(default.into());
        self
    }

    /// Refuses to emulate `ANY_VALUE` on MariaDB and PostgreSQL before 16: rendering for them
    /// is then [`Error::NotSupported`] with Django's message.
    ///
    /// ```
    /// use djrs_orm_ext::{AnyValue, DatabaseServer, Error};
    /// use sea_query::{Expr, MysqlQueryBuilder, Query};
    ///
    /// let mariadb = DatabaseServer::mariadb(10, 11, 6);
    /// let title = AnyValue::new(Expr::col("title"));
    /// let emulated = Query::select().expr(title.to_expr(&mariadb)?).to_owned();
    /// assert_eq!(emulated.to_string(MysqlQueryBuilder), "SELECT MIN(`title`)");
    ///
    /// let strict = title.native_only();
    /// assert!(matches!(strict.to_expr(&mariadb), Err(Error::NotSupported(_))));
    /// assert!(strict.to_expr(&DatabaseServer::mysql(8, 0, 40)).is_ok());
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn native_only(mut self) -> Self {
        self.emulate = false;
        self
    }

    /// The expression for `backend`.
    ///
    /// ```
    /// use djrs_orm_ext::{AnyValue, DatabaseServer};
    /// use sea_query::{Expr, MysqlQueryBuilder, Query};
    ///
    /// let author_name = AnyValue::new(Expr::col(("author", "name")));
    /// let query = Query::select()
    ///     .column(("book", "author_id"))
    ///     .expr_as(author_name.to_expr(&DatabaseServer::mysql(8, 0, 40))?, "author_name")
    ///     .from("book")
    ///     .group_by_col(("book", "author_id"))
    ///     .to_owned();
    /// assert_eq!(
    ///     query.to_string(MysqlQueryBuilder),
    ///     "SELECT `book`.`author_id`, ANY_VALUE(`author`.`name`) AS `author_name` FROM `book` GROUP BY `book`.`author_id`"
    /// );
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// ```
    pub fn to_expr(&self, backend: &DatabaseServer) -> Result<Expr> {
        if !backend.supports_any_value() && !self.emulate {
            return Err(Error::not_supported(format!(
                "ANY_VALUE is not supported on this database backend. ({backend} has no \
                 ANY_VALUE; drop .native_only() to use the emulation, or aggregate with MIN)"
            )));
        }
        let mut sql = Template::new(backend);
        match backend.vendor() {
            Vendor::PostgreSql if !backend.supports_any_value() => {
                sql.push("(ARRAY_AGG(");
                sql.expr(self.expr.clone());
                sql.push(") FILTER (WHERE ");
                sql.expr(self.expr.clone());
                sql.push(" IS NOT NULL");
                if let Some(filter) = &self.filter {
                    sql.push(" AND (");
                    sql.expr(filter.clone());
                    sql.push(")");
                }
                sql.push("))[1]");
            }
            Vendor::PostgreSql => {
                sql.push("ANY_VALUE(");
                sql.expr(self.expr.clone());
                sql.push(")");
                render_filter_clause(&mut sql, self.filter.as_ref());
            }
            Vendor::Sqlite => {
                sql.push("MIN(");
                sql.expr(self.expr.clone());
                sql.push(")");
                render_filter_clause(&mut sql, self.filter.as_ref());
            }
            Vendor::MySql | Vendor::MariaDb => {
                sql.push(if backend.supports_any_value() {
                    "ANY_VALUE("
                } else {
                    "MIN("
                });
                sql.expr(filtered_for_case(&self.expr, self.filter.as_ref(), backend));
                sql.push(")");
            }
        }
        Ok(with_default(sql.finish(), self.default.as_ref()))
    }
}

fn order_not_supported(backend: &DatabaseServer) -> Error {
    Error::not_supported(format!(
        "This database backend does not support specifying an order on aggregates. \
         ({backend} has no ORDER BY inside aggregates before SQLite 3.44; use a newer SQLite, \
         such as the one sqlx bundles, or sort the values yourself)"
    ))
}

/// `expr`, or `CASE WHEN filter THEN expr ELSE NULL END` where the database has no `FILTER`.
fn filtered_for_case(expr: &Expr, filter: Option<&Expr>, backend: &DatabaseServer) -> Expr {
    match filter {
        Some(condition) => {
            let mut sql = Template::new(backend);
            sql.push("CASE WHEN ");
            sql.expr(condition.clone());
            sql.push(" THEN ");
            sql.expr(expr.clone());
            sql.push(" ELSE NULL END");
            sql.finish()
        }
        None => expr.clone(),
    }
}

fn render_filter_clause(sql: &mut Template, filter: Option<&Expr>) {
    if let Some(condition) = filter {
        sql.push(" FILTER (WHERE ");
        sql.expr(condition.clone());
        sql.push(")");
    }
}

fn with_default(aggregate: Expr, default: Option<&Expr>) -> Expr {
    match default {
        Some(default) => Func::coalesce([aggregate, default.clone()]).into(),
        None => aggregate,
    }
}

/// A string literal MySQL and MariaDB read the same with or without `NO_BACKSLASH_ESCAPES`:
/// quotes doubled, and a hexadecimal literal for text holding a backslash or control
/// characters (whose meaning would depend on that mode).
pub(crate) fn mysql_string_literal(text: &str) -> String {
    if text.chars().any(|c| c == '\\' || c.is_control()) {
        let hex: String = text.bytes().map(|b| format!("{b:02X}")).collect();
        if hex.is_empty() {
            return "''".to_owned();
        }
        return format!("X'{hex}'");
    }
    format!("'{}'", text.replace('\'', "''"))
}

/// A custom SQL expression assembled piece by piece, with placeholders in the style sea-query
/// expects for the backend (`$1, $2, …` on PostgreSQL, `?` elsewhere).
struct Template {
    sql: String,
    exprs: Vec<Expr>,
    numbered: bool,
}

impl Template {
    fn new(backend: &DatabaseServer) -> Self {
        Template {
            sql: String::new(),
            exprs: Vec::new(),
            numbered: backend.vendor() == Vendor::PostgreSql,
        }
    }

    fn push(&mut self, text: &str) {
        self.sql.push_str(text);
    }

    fn expr(&mut self, expr: Expr) {
        self.exprs.push(expr);
        if self.numbered {
            self.sql.push('$');
            self.sql.push_str(&self.exprs.len().to_string());
        } else {
            self.sql.push('?');
        }
    }

    fn finish(self) -> Expr {
        Expr::cust_with_exprs(self.sql, self.exprs)
    }
}

#[cfg(test)]
mod tests;
