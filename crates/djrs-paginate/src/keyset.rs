//! Keyset ("seek") pagination for deep pages: `WHERE (key) > (last seen) ORDER BY key LIMIT n`.
//!
//! `OFFSET n` makes the database read and throw away `n` rows, so page 50,000 costs fifty
//! thousand times page 1. A keyset page starts from the key of the last row shown, through an
//! index, so every page costs the same, and rows inserted meanwhile never shift a page.
//! Cursors are opaque tokens signed with HMAC-SHA-256: a malformed or tampered token is
//! [`Error::InvalidCursor`], never a panic and never a wrong page.

use std::fmt;
use std::marker::PhantomData;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sea_query::{ColumnRef, Cond, Expr, ExprTrait, IntoColumnRef, Order, SelectStatement};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::sql::SqlDialect;
use crate::{Error, Result};

/// One value of a row's key, as carried in a cursor.
///
/// ```
/// use djrs_paginate::KeyValue;
///
/// assert_eq!(KeyValue::from(7_i64), KeyValue::Int(7));
/// assert_eq!(KeyValue::from("2026-11-25"), KeyValue::Text("2026-11-25".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyValue {
    /// An integer column (ids, counters, Unix timestamps).
    Int(i64),
    /// A text column (slugs, ISO dates that sort as text).
    Text(String),
    /// A boolean column.
    Bool(bool),
}

impl From<i64> for KeyValue {
    fn from(v: i64) -> Self {
        KeyValue::Int(v)
    }
}

impl From<i32> for KeyValue {
    fn from(v: i32) -> Self {
        KeyValue::Int(i64::from(v))
    }
}

impl From<String> for KeyValue {
    fn from(v: String) -> Self {
        KeyValue::Text(v)
    }
}

impl From<&str> for KeyValue {
    fn from(v: &str) -> Self {
        KeyValue::Text(v.to_owned())
    }
}

impl From<bool> for KeyValue {
    fn from(v: bool) -> Self {
        KeyValue::Bool(v)
    }
}

impl KeyValue {
    fn to_expr(&self) -> Expr {
        match self {
            KeyValue::Int(v) => Expr::val(*v),
            KeyValue::Text(v) => Expr::val(v.clone()),
            KeyValue::Bool(v) => Expr::val(*v),
        }
    }
}

/// A row type whose key columns the keyset paginator can read back, in the order the columns
/// were given to [`KeysetPaginator::key`].
///
/// ```
/// use djrs_paginate::{KeyValue, KeysetRow};
///
/// struct Article { id: i64, published: String }
///
/// impl KeysetRow for Article {
///     fn key_values(&self) -> Vec<KeyValue> {
///         vec![self.published.clone().into(), self.id.into()]
///     }
/// }
/// ```
pub trait KeysetRow {
    /// The values of the key columns of this row.
    fn key_values(&self) -> Vec<KeyValue>;
}

mod cursor;

pub use cursor::CursorKey;
use cursor::{CursorPayload, Direction, decode_cursor_for, encode_cursor, now_unix};

mod page;

pub use page::KeysetPage;

/// One column of a paginator's key and its direction.
#[derive(Debug, Clone)]
struct KeyColumn {
    column: ColumnRef,
    order: Order,
}

/// Keyset pagination of a sea-query `SELECT` over an ordered unique key of one or more columns.
///
/// The paginator owns the `ORDER BY` (the key columns, in the order given) and the `LIMIT`;
/// the statement brings the columns, joins and filters. An index on the key columns makes
/// every page an index seek.
///
/// ```no_run
/// use djrs_paginate::{CursorKey, KeyValue, KeysetPaginator, KeysetRow};
/// use sea_query::{Order, Query};
///
/// #[derive(sqlx::FromRow)]
/// struct Article { id: i64, title: String }
/// impl KeysetRow for Article {
///     fn key_values(&self) -> Vec<KeyValue> { vec![self.id.into()] }
/// }
///
/// # async fn demo(pool: sqlx::PgPool, cursor: Option<String>) -> djrs_paginate::Result<()> {
/// let query = Query::select().columns(["id", "title"]).from("article").to_owned();
/// let paginator = KeysetPaginator::<sqlx::Postgres, Article>::new(pool, query, 20)
///     .key("id", Order::Desc)
///     .cursor_key(CursorKey::new(b"secret from configuration, 32+ bytes"));
/// let page = paginator.page(cursor.as_deref()).await?;
/// if let Some(next) = page.next_cursor() {
///     println!("<a href=\"?cursor={next}\">next</a>");
/// }
/// # Ok(()) }
/// ```
#[must_use]
pub struct KeysetPaginator<DB: sqlx::Database, T> {
    pool: sqlx::Pool<DB>,
    query: SelectStatement,
    keys: Vec<KeyColumn>,
    per_page: u64,
    cursor_key: CursorKey,
    name: Option<String>,
    max_age: Option<std::time::Duration>,
    _row: PhantomData<fn() -> T>,
}

impl<DB: sqlx::Database, T> fmt::Debug for KeysetPaginator<DB, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeysetPaginator")
            .field("database", &DB::NAME)
            .field("keys", &self.keys)
            .field("per_page", &self.per_page)
            .field("name", &self.name)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl<DB, T> KeysetPaginator<DB, T>
where
    DB: SqlDialect,
    T: for<'r> sqlx::FromRow<'r, DB::Row> + KeysetRow + Send + Unpin + 'static,
{
    /// A paginator over `query` showing `per_page` rows a page. Add the key with
    /// [`key`](Self::key); cursors are signed with [`CursorKey::process`] unless
    /// [`cursor_key`](Self::cursor_key) gives a key shared across processes.
    ///
    /// ```
    /// use djrs_paginate::{KeyValue, KeysetPaginator, KeysetRow};
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
    /// impl KeysetRow for Article {
    ///     fn key_values(&self) -> Vec<KeyValue> {
    ///         vec![self.id.into()]
    ///     }
    /// }
    ///
    /// let query = Query::select().columns(["id", "title"]).from("article").to_owned();
    /// let paginator = KeysetPaginator::<Sqlite, Article>::new(pool, query, 2).key("id", Order::Asc);
    /// let page = paginator.page(None).await?;
    /// assert_eq!(page.object_list()[0].title, "a");
    /// assert!(page.has_next());
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn new(pool: sqlx::Pool<DB>, query: SelectStatement, per_page: u64) -> Self {
        KeysetPaginator {
            pool,
            query,
            keys: Vec::new(),
            per_page,
            cursor_key: CursorKey::process(),
            name: None,
            max_age: None,
            _row: PhantomData,
        }
    }

    /// Names the list. Cursors carry the list they came from, signed: by default a fingerprint
    /// of the statement (its SQL with values) and the key columns, so a cursor of one list is
    /// refused by a list with another query. A name binds cursors to it instead, and keeps them
    /// valid when the statement changes shape between releases.
    ///
    /// ```
    /// # fn demo(pool: sqlx::PgPool) {
    /// use djrs_paginate::{KeyValue, KeysetPaginator, KeysetRow};
    /// # #[derive(sqlx::FromRow)] struct Article { id: i64 }
    /// # impl KeysetRow for Article { fn key_values(&self) -> Vec<KeyValue> { vec![self.id.into()] } }
    /// let query = sea_query::Query::select().column("id").from("article").to_owned();
    /// let paginator = KeysetPaginator::<sqlx::Postgres, Article>::new(pool, query, 20)
    ///     .key("id", sea_query::Order::Desc)
    ///     .name("articles-newest-first");
    /// # let _ = paginator; }
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Refuses cursors signed longer than `max_age` ago ([`Error::InvalidCursor`]). Cursors do
    /// not expire by default.
    ///
    /// ```
    /// # fn demo(pool: sqlx::PgPool) {
    /// use std::time::Duration;
    /// use djrs_paginate::{KeyValue, KeysetPaginator, KeysetRow};
    /// # #[derive(sqlx::FromRow)] struct Article { id: i64 }
    /// # impl KeysetRow for Article { fn key_values(&self) -> Vec<KeyValue> { vec![self.id.into()] } }
    /// let query = sea_query::Query::select().column("id").from("article").to_owned();
    /// let paginator = KeysetPaginator::<sqlx::Postgres, Article>::new(pool, query, 20)
    ///     .key("id", sea_query::Order::Desc)
    ///     .max_age(Duration::from_secs(3600));
    /// # let _ = paginator; }
    /// ```
    pub fn max_age(mut self, max_age: std::time::Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// The list cursors are bound to: the name, or a fingerprint of the statement and the key.
    fn list_id(&self) -> String {
        use sha2::Digest as _;
        if let Some(name) = &self.name {
            return format!("n:{name}");
        }
        let mut hash = Sha256::new();
        hash.update(DB::to_sql(&self.query).as_bytes());
        for key in &self.keys {
            hash.update(format!("\0{:?}\0{:?}", key.column, key.order).as_bytes());
        }
        let digest = hash.finalize();
        URL_SAFE_NO_PAD.encode(&digest[..12])
    }

    fn encode(&self, list: &str, d: Direction, k: Vec<KeyValue>) -> String {
        encode_cursor(
            &self.cursor_key,
            &CursorPayload {
                d,
                k,
                l: list.to_owned(),
                t: now_unix(),
            },
        )
    }

    /// Appends a key column and its direction. The columns together must be unique (end with
    /// the primary key).
    ///
    /// ```
    /// use djrs_paginate::{KeyValue, KeysetPaginator, KeysetRow};
    /// use sea_query::{Order, Query};
    /// use sqlx::Sqlite;
    /// # #[derive(Debug, sqlx::FromRow)]
    /// # struct Article { id: i64, title: String }
    /// # impl KeysetRow for Article {
    /// #     fn key_values(&self) -> Vec<KeyValue> { vec![self.id.into()] }
    /// # }
    /// # fn articles() -> sea_query::SelectStatement {
    /// #     Query::select().columns(["id", "title"]).from("article").to_owned()
    /// # }
    ///
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// # let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    /// # sqlx::query("CREATE TABLE article (id INTEGER PRIMARY KEY, title TEXT NOT NULL)")
    /// #     .execute(&pool).await.unwrap();
    /// # sqlx::query("INSERT INTO article (title) VALUES ('a'), ('b'), ('c'), ('d'), ('e')")
    /// #     .execute(&pool).await.unwrap();
    /// // Newest first: the key decides the order of the pages.
    /// let paginator = KeysetPaginator::<Sqlite, Article>::new(pool, articles(), 2).key("id", Order::Desc);
    /// let ids: Vec<i64> = paginator.page(None).await?.object_list().iter().map(|a| a.id).collect();
    /// assert_eq!(ids, [5, 4]);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn key(mut self, column: impl IntoColumnRef, order: Order) -> Self {
        self.keys.push(KeyColumn {
            column: column.into_column_ref(),
            order,
        });
        self
    }

    /// The secret that signs and checks cursors.
    ///
    /// ```
    /// use djrs_paginate::{CursorKey, KeyValue, KeysetPaginator, KeysetRow};
    /// use sea_query::{Order, Query};
    /// use sqlx::Sqlite;
    /// # #[derive(Debug, sqlx::FromRow)]
    /// # struct Article { id: i64, title: String }
    /// # impl KeysetRow for Article {
    /// #     fn key_values(&self) -> Vec<KeyValue> { vec![self.id.into()] }
    /// # }
    /// # fn articles() -> sea_query::SelectStatement {
    /// #     Query::select().columns(["id", "title"]).from("article").to_owned()
    /// # }
    ///
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// # let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    /// # sqlx::query("CREATE TABLE article (id INTEGER PRIMARY KEY, title TEXT NOT NULL)")
    /// #     .execute(&pool).await.unwrap();
    /// # sqlx::query("INSERT INTO article (title) VALUES ('a'), ('b'), ('c'), ('d'), ('e')")
    /// #     .execute(&pool).await.unwrap();
    /// // A secret from configuration, shared by every process serving the list.
    /// let secret = b"a secret of at least 32 bytes, from configuration";
    /// let web = KeysetPaginator::<Sqlite, Article>::new(pool.clone(), articles(), 2)
    ///     .key("id", Order::Asc)
    ///     .cursor_key(CursorKey::try_new(secret)?);
    /// let api = KeysetPaginator::<Sqlite, Article>::new(pool, articles(), 2)
    ///     .key("id", Order::Asc)
    ///     .cursor_key(CursorKey::try_new(secret)?);
    ///
    /// let next = web.page(None).await?.next_cursor().unwrap().to_owned();
    /// assert_eq!(api.page(Some(&next)).await?.object_list()[0].id, 3);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn cursor_key(mut self, key: CursorKey) -> Self {
        self.cursor_key = key;
        self
    }

    /// A cursor for the page that starts right after the row with these key values, e.g. to
    /// link into the middle of a list.
    ///
    /// ```
    /// use djrs_paginate::{Error, KeyValue, KeysetPaginator, KeysetRow};
    /// use sea_query::{Order, Query};
    /// use sqlx::Sqlite;
    /// # #[derive(Debug, sqlx::FromRow)]
    /// # struct Article { id: i64, title: String }
    /// # impl KeysetRow for Article {
    /// #     fn key_values(&self) -> Vec<KeyValue> { vec![self.id.into()] }
    /// # }
    /// # fn articles() -> sea_query::SelectStatement {
    /// #     Query::select().columns(["id", "title"]).from("article").to_owned()
    /// # }
    ///
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// # let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    /// # sqlx::query("CREATE TABLE article (id INTEGER PRIMARY KEY, title TEXT NOT NULL)")
    /// #     .execute(&pool).await.unwrap();
    /// # sqlx::query("INSERT INTO article (title) VALUES ('a'), ('b'), ('c'), ('d'), ('e')")
    /// #     .execute(&pool).await.unwrap();
    /// let paginator = KeysetPaginator::<Sqlite, Article>::new(pool, articles(), 2).key("id", Order::Asc);
    /// let cursor = paginator.cursor_after(vec![KeyValue::Int(2)])?;
    /// let page = paginator.page(Some(&cursor)).await?;
    /// assert_eq!(page.object_list()[0].id, 3);
    ///
    /// // One value per key column.
    /// assert!(matches!(paginator.cursor_after(vec![]), Err(Error::Keyset(_))));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`Error::Keyset`] when the number of values differs from the number of key columns.
    pub fn cursor_after(&self, values: Vec<KeyValue>) -> Result<String> {
        self.check_arity(values.len())?;
        Ok(self.encode(&self.list_id(), Direction::After, values))
    }

    fn check_arity(&self, n: usize) -> Result<()> {
        if self.keys.is_empty() {
            return Err(Error::Keyset(
                "no key columns: call .key(column, order) first".into(),
            ));
        }
        if n != self.keys.len() {
            return Err(Error::Keyset(
                format!(
                    "{n} key values for {} key columns; the cursor does not belong to this list",
                    self.keys.len()
                )
                .into(),
            ));
        }
        Ok(())
    }

    /// The page a cursor points to; `None` for the first page.
    ///
    /// ```
    /// use djrs_paginate::{Error, KeyValue, KeysetPaginator, KeysetRow};
    /// use sea_query::{Order, Query};
    /// use sqlx::Sqlite;
    /// # #[derive(Debug, sqlx::FromRow)]
    /// # struct Article { id: i64, title: String }
    /// # impl KeysetRow for Article {
    /// #     fn key_values(&self) -> Vec<KeyValue> { vec![self.id.into()] }
    /// # }
    /// # fn articles() -> sea_query::SelectStatement {
    /// #     Query::select().columns(["id", "title"]).from("article").to_owned()
    /// # }
    ///
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// # let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    /// # sqlx::query("CREATE TABLE article (id INTEGER PRIMARY KEY, title TEXT NOT NULL)")
    /// #     .execute(&pool).await.unwrap();
    /// # sqlx::query("INSERT INTO article (title) VALUES ('a'), ('b'), ('c'), ('d'), ('e')")
    /// #     .execute(&pool).await.unwrap();
    /// let paginator = KeysetPaginator::<Sqlite, Article>::new(pool, articles(), 2).key("id", Order::Asc);
    /// let first = paginator.page(None).await?;
    /// assert_eq!(first.object_list().len(), 2);
    /// let second = paginator.page(first.next_cursor()).await?;
    /// assert_eq!(second.object_list()[0].id, 3);
    ///
    /// // A tampered or foreign token is refused, never a wrong page.
    /// assert!(matches!(paginator.page(Some("garbage")).await, Err(Error::InvalidCursor(_))));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidCursor`] for a malformed, tampered, expired or foreign cursor (one of
    /// another list), [`Error::Keyset`] for a paginator without key columns or over a
    /// statement with its own `LIMIT`/`OFFSET`, [`Error::Source`] when the query fails.
    pub async fn page(&self, cursor: Option<&str>) -> Result<KeysetPage<T>> {
        let mut unsliced = self.query.clone();
        unsliced.reset_limit().reset_offset();
        if unsliced != self.query {
            // The paginator owns LIMIT; an OFFSET would skip rows on every page.
            return Err(Error::Keyset(
                "the statement has its own LIMIT or OFFSET; keyset pagination sets the limit \
                 itself: filter the statement with a WHERE instead"
                    .into(),
            ));
        }
        let list = self.list_id();
        let payload = match cursor {
            Some(token) => {
                let payload = decode_cursor_for(&self.cursor_key, token, &list, self.max_age)?;
                if payload.k.len() != self.keys.len() {
                    return Err(Error::InvalidCursor(
                        "the cursor does not match this list's key columns",
                    ));
                }
                Some(payload)
            }
            None => {
                self.check_arity(self.keys.len())?;
                None
            }
        };
        let backward = payload.as_ref().is_some_and(|p| p.d == Direction::Before);
        let stmt = self.statement(payload.as_ref().map(|p| &p.k[..]), backward);
        let mut rows: Vec<T> = DB::fetch_rows(&self.pool, &stmt).await?;
        let more = rows.len() as u64 > self.per_page;
        rows.truncate(self.per_page as usize);
        if backward {
            rows.reverse();
        }
        let first = rows.first().map(KeysetRow::key_values);
        let last = rows.last().map(KeysetRow::key_values);
        let cursor = |d: Direction, k: Option<Vec<KeyValue>>| k.map(|k| self.encode(&list, d, k));
        let (has_next, has_previous) = if backward {
            (true, more)
        } else {
            (more, payload.is_some())
        };
        Ok(KeysetPage {
            next_cursor: if has_next {
                cursor(Direction::After, last)
            } else {
                None
            },
            previous_cursor: if has_previous {
                cursor(Direction::Before, first)
            } else {
                None
            },
            object_list: rows,
        })
    }

    /// The page's statement: the query, the seek condition, the key order and `LIMIT n + 1`
    /// (one extra row tells whether another page follows).
    fn statement(&self, after: Option<&[KeyValue]>, backward: bool) -> SelectStatement {
        let mut stmt = self.query.clone();
        stmt.clear_order_by();
        let scan = |order: &Order| match (order, backward) {
            (Order::Desc, false) | (Order::Asc, true) => Order::Desc,
            _ => Order::Asc,
        };
        if let Some(values) = after {
            stmt.cond_where(self.seek_condition(values, &scan));
        }
        for key in &self.keys {
            stmt.order_by(key.column.clone(), scan(&key.order));
        }
        stmt.limit(self.per_page.saturating_add(1));
        stmt
    }

    /// Rows strictly after `values` in scan order. One row-value comparison when every key
    /// runs the same way (index friendly), otherwise the expanded OR of prefixes.
    fn seek_condition(&self, values: &[KeyValue], scan: &dyn Fn(&Order) -> Order) -> Cond {
        let past = |column: &ColumnRef, order: Order, value: Expr| match order {
            Order::Desc => Expr::col(column.clone()).lt(value),
            _ => Expr::col(column.clone()).gt(value),
        };
        let first = scan(&self.keys[0].order);
        let uniform = self.keys.iter().all(|k| scan(&k.order) == first);
        if uniform && self.keys.len() > 1 {
            let columns = Expr::tuple(self.keys.iter().map(|k| Expr::col(k.column.clone())));
            let bound = Expr::tuple(values.iter().map(KeyValue::to_expr));
            return Cond::all().add(match first {
                Order::Desc => columns.lt(bound),
                _ => columns.gt(bound),
            });
        }
        let mut any = Cond::any();
        for i in 0..self.keys.len() {
            let mut all = Cond::all();
            for (key, value) in self.keys[..i].iter().zip(values) {
                all = all.add(Expr::col(key.column.clone()).eq(value.to_expr()));
            }
            let key = &self.keys[i];
            all = all.add(past(&key.column, scan(&key.order), values[i].to_expr()));
            any = any.add(all);
        }
        any
    }
}

#[cfg(test)]
mod tests;
