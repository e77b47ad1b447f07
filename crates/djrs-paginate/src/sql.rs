//! [`SelectSource`]: a sea-query `SelectStatement` run through sqlx, as an
//! [`AsyncObjectList`](crate::AsyncObjectList).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use sea_query::{Asterisk, Expr, Func, Query, SelectStatement};

/// A `SELECT` to paginate: counted with one `COUNT(*)` over the statement, fetched a page at a
/// time with `LIMIT`/`OFFSET`. Rows decode into `T` through `sqlx::FromRow`.
///
/// The statement should have an `ORDER BY` on a unique key; without one Django's
/// `UnorderedObjectListWarning` is logged, since rows may then repeat or go missing between
/// pages. A statement with its own `LIMIT`/`OFFSET` is a slice of its rows, as
/// `Paginator(qs[5:30], 10)` is in Django: the count and every page stay inside it.
///
/// ```no_run
/// use djrs_paginate::{AsyncPaginator, SelectSource};
/// use sea_query::{Order, Query};
///
/// #[derive(sqlx::FromRow)]
/// struct Article { id: i64, title: String }
///
/// # async fn demo(pool: sqlx::PgPool) -> djrs_paginate::Result<()> {
/// let query = Query::select()
///     .columns(["id", "title"])
///     .from("article")
///     .order_by("id", Order::Asc)
///     .to_owned();
/// let paginator = AsyncPaginator::new(SelectSource::<sqlx::Postgres, Article>::new(pool, query), 20);
/// let page = paginator.aget_page("3").await?;
/// for article in page.object_list() {
///     println!("{} {}", article.id, article.title);
/// }
/// # Ok(()) }
/// ```
pub struct SelectSource<DB: sqlx::Database, T> {
    pool: sqlx::Pool<DB>,
    query: SelectStatement,
    _row: PhantomData<fn() -> T>,
}

impl<DB: sqlx::Database, T> SelectSource<DB, T> {
    /// A source running `query` on `pool`.
    ///
    /// ```
    /// use djrs_paginate::{AsyncPaginator, SelectSource};
    /// use sea_query::{Order, Query};
    /// use sqlx::Sqlite;
    ///
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// # let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    /// # sqlx::query("CREATE TABLE article (id INTEGER PRIMARY KEY, title TEXT NOT NULL)")
    /// #     .execute(&pool).await.unwrap();
    /// # sqlx::query("INSERT INTO article (title) VALUES ('a'), ('b'), ('c'), ('d'), ('e')")
    /// #     .execute(&pool).await.unwrap();
    /// #[derive(sqlx::FromRow)]
    /// struct Article {
    ///     id: i64,
    ///     title: String,
    /// }
    ///
    /// let query = Query::select()
    ///     .columns(["id", "title"])
    ///     .from("article")
    ///     .order_by("id", Order::Asc)
    ///     .to_owned();
    /// let paginator = AsyncPaginator::new(SelectSource::<Sqlite, Article>::new(pool, query), 2);
    /// assert_eq!(paginator.acount().await?, 5);
    /// let last = paginator.apage(3).await?;
    /// assert_eq!((last.object_list()[0].id, last.object_list()[0].title.as_str()), (5, "e"));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn new(pool: sqlx::Pool<DB>, query: SelectStatement) -> Self {
        SelectSource {
            pool,
            query,
            _row: PhantomData,
        }
    }

    /// The statement being paginated.
    ///
    /// ```
    /// use djrs_paginate::SelectSource;
    /// use sea_query::{Order, Query, SqliteQueryBuilder};
    /// use sqlx::Sqlite;
    ///
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// # let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    /// # sqlx::query("CREATE TABLE article (id INTEGER PRIMARY KEY, title TEXT NOT NULL)")
    /// #     .execute(&pool).await.unwrap();
    /// # sqlx::query("INSERT INTO article (title) VALUES ('a'), ('b'), ('c'), ('d'), ('e')")
    /// #     .execute(&pool).await.unwrap();
    /// let query = Query::select().column("id").from("article").order_by("id", Order::Asc).to_owned();
    /// let source = SelectSource::<Sqlite, (i64,)>::new(pool, query);
    /// assert_eq!(
    ///     source.query().to_string(SqliteQueryBuilder),
    ///     r#"SELECT "id" FROM "article" ORDER BY "id" ASC"#
    /// );
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn query(&self) -> &SelectStatement {
        &self.query
    }

    /// The pool queries run on.
    ///
    /// ```
    /// use djrs_paginate::{Error, SelectSource};
    /// use sea_query::{Order, Query};
    /// use sqlx::Sqlite;
    ///
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// # let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    /// # sqlx::query("CREATE TABLE article (id INTEGER PRIMARY KEY, title TEXT NOT NULL)")
    /// #     .execute(&pool).await.unwrap();
    /// # sqlx::query("INSERT INTO article (title) VALUES ('a'), ('b'), ('c'), ('d'), ('e')")
    /// #     .execute(&pool).await.unwrap();
    /// let query = Query::select().column("id").from("article").order_by("id", Order::Asc).to_owned();
    /// let source = SelectSource::<Sqlite, (i64,)>::new(pool, query);
    /// // Other queries can run on the paginated source's pool.
    /// let titles: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT title) FROM article")
    ///     .fetch_one(source.pool())
    ///     .await
    ///     .map_err(Error::source)?;
    /// assert_eq!(titles, 5);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }

    /// True when the statement has its own `LIMIT` or `OFFSET`.
    pub(crate) fn is_sliced(&self) -> bool {
        let mut unsliced = self.query.clone();
        unsliced.reset_limit().reset_offset();
        unsliced != self.query
    }

    pub(crate) fn has_order(&self) -> bool {
        let mut unordered = self.query.clone();
        unordered.clear_order_by();
        unordered != self.query
    }
}

impl<DB: SqlDialect, T> SelectSource<DB, T> {
    pub(crate) fn count_statement(&self) -> SelectStatement {
        let mut inner = self.query.clone();
        if !self.is_sliced() {
            // The order only matters to which rows a LIMIT/OFFSET keeps.
            inner.clear_order_by();
        } else if Slice::of::<DB>(&self.query).limit.is_none() {
            // An OFFSET alone is not valid SQL on SQLite and MySQL: give it the largest LIMIT
            // all three take.
            inner.limit(i64::MAX.unsigned_abs());
        }
        Query::select()
            .expr_as(Func::count(Expr::col(Asterisk)), "djrs_count")
            .from_subquery(inner, "djrs_counted")
            .to_owned()
    }

    /// The statement for `limit` rows from `offset` within the statement's own slice, or `None`
    /// when the slice ends before `offset`.
    pub(crate) fn page_statement(&self, offset: u64, limit: u64) -> Option<SelectStatement> {
        let own = Slice::of::<DB>(&self.query);
        let start = own.offset.saturating_add(offset);
        let limit = match own.limit {
            Some(own_limit) => limit.min(own_limit.checked_sub(offset).filter(|n| *n > 0)?),
            None => limit,
        };
        let mut page = self.query.clone();
        page.limit(limit).offset(start);
        Some(page)
    }
}

impl<DB: sqlx::Database, T> Clone for SelectSource<DB, T> {
    fn clone(&self) -> Self {
        SelectSource::new(self.pool.clone(), self.query.clone())
    }
}

impl<DB: sqlx::Database, T> fmt::Debug for SelectSource<DB, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectSource")
            .field("database", &DB::NAME)
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl<DB, T> crate::AsyncObjectList for SelectSource<DB, T>
where
    DB: SqlDialect,
    T: for<'r> sqlx::FromRow<'r, DB::Row> + Send + Unpin + 'static,
{
    type Item = T;

    async fn count(&self) -> crate::Result<u64> {
        let count = DB::fetch_count(&self.pool, &self.count_statement()).await?;
        // COUNT(*) is never negative.
        Ok(count.max(0) as u64)
    }

    async fn fetch(&self, offset: u64, limit: u64) -> crate::Result<Vec<T>> {
        match self.page_statement(offset, limit) {
            Some(stmt) => DB::fetch_rows(&self.pool, &stmt).await,
            None => Ok(Vec::new()),
        }
    }

    fn is_ordered(&self) -> Option<bool> {
        Some(self.has_order())
    }

    fn describe(&self) -> String {
        DB::to_sql(&self.query)
    }
}

/// A statement's own `LIMIT` and `OFFSET`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slice {
    pub(crate) limit: Option<u64>,
    pub(crate) offset: u64,
}

impl Slice {
    /// Reads the statement's `LIMIT` and `OFFSET`. sea-query keeps them private, so each is
    /// found as the one value its removal takes out of the statement's bound values.
    pub(crate) fn of<DB: SqlDialect>(stmt: &SelectStatement) -> Slice {
        let mut bare = stmt.clone();
        bare.reset_limit().reset_offset();
        let bare_values = DB::values(&bare);
        let only = |keep_limit: bool| {
            let mut one = stmt.clone();
            if keep_limit {
                one.reset_offset();
            } else {
                one.reset_limit();
            }
            if one == bare {
                return None;
            }
            let values = DB::values(&one);
            // One value was inserted into `bare_values`: the first place they differ holds it
            // (when it equals its neighbours, any of them is the same value).
            let at = bare_values
                .iter()
                .zip(&values)
                .position(|(a, b)| a != b)
                .unwrap_or(bare_values.len());
            values.get(at).and_then(value_as_u64)
        };
        Slice {
            limit: only(true),
            offset: only(false).unwrap_or(0),
        }
    }
}

fn value_as_u64(value: &sea_query::Value) -> Option<u64> {
    use sea_query::Value;
    match value {
        Value::BigUnsigned(Some(n)) => Some(*n),
        Value::Unsigned(Some(n)) => Some(u64::from(*n)),
        Value::BigInt(Some(n)) => u64::try_from(*n).ok(),
        Value::Int(Some(n)) => u64::try_from(*n).ok(),
        _ => None,
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A sqlx database djrs can paginate on, with its sea-query dialect: PostgreSQL (feature
/// `postgres`), MySQL/MariaDB (`mysql`) and SQLite (`sqlite`). Sealed.
pub trait SqlDialect: sqlx::Database + sealed::Sealed {
    /// The statement as SQL text for this database, values inlined (for logs and warnings).
    fn to_sql(stmt: &SelectStatement) -> String;

    /// Runs a `SELECT` and decodes every row.
    fn fetch_rows<T>(
        pool: &sqlx::Pool<Self>,
        stmt: &SelectStatement,
    ) -> impl Future<Output = crate::Result<Vec<T>>> + Send
    where
        T: for<'r> sqlx::FromRow<'r, Self::Row> + Send + Unpin + 'static;

    /// The values the statement binds, in order.
    #[doc(hidden)]
    fn values(stmt: &SelectStatement) -> Vec<sea_query::Value>;

    /// Runs a `SELECT` of one integer (a count).
    fn fetch_count(
        pool: &sqlx::Pool<Self>,
        stmt: &SelectStatement,
    ) -> impl Future<Output = crate::Result<i64>> + Send;
}

macro_rules! dialect {
    ($feature:literal, $db:ty, $builder:expr) => {
        #[cfg(feature = $feature)]
        impl sealed::Sealed for $db {}

        #[cfg(feature = $feature)]
        impl SqlDialect for $db {
            fn to_sql(stmt: &SelectStatement) -> String {
                stmt.to_string($builder)
            }

            fn values(stmt: &SelectStatement) -> Vec<sea_query::Value> {
                stmt.build($builder).1.into_iter().collect()
            }

            async fn fetch_rows<T>(
                pool: &sqlx::Pool<Self>,
                stmt: &SelectStatement,
            ) -> crate::Result<Vec<T>>
            where
                T: for<'r> sqlx::FromRow<'r, Self::Row> + Send + Unpin + 'static,
            {
                use sea_query_sqlx::SqlxBinder;
                let (sql, values) = stmt.build_sqlx($builder);
                sqlx::query_as_with(sqlx::AssertSqlSafe(sql), values)
                    .fetch_all(pool)
                    .await
                    .map_err(crate::Error::source)
            }

            async fn fetch_count(
                pool: &sqlx::Pool<Self>,
                stmt: &SelectStatement,
            ) -> crate::Result<i64> {
                use sea_query_sqlx::SqlxBinder;
                let (sql, values) = stmt.build_sqlx($builder);
                sqlx::query_scalar_with(sqlx::AssertSqlSafe(sql), values)
                    .fetch_one(pool)
                    .await
                    .map_err(crate::Error::source)
            }
        }
    };
}

dialect!("postgres", sqlx::Postgres, sea_query::PostgresQueryBuilder);
dialect!("mysql", sqlx::MySql, sea_query::MysqlQueryBuilder);
dialect!("sqlite", sqlx::Sqlite, sea_query::SqliteQueryBuilder);
