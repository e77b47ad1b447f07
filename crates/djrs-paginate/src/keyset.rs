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

/// The secret that signs cursors. Share one across processes that serve the same lists.
///
/// ```
/// use djrs_paginate::CursorKey;
///
/// let key = CursorKey::try_new(b"a secret of at least 32 bytes, from config")?;
/// let random = CursorKey::random(); // valid only for paginators given this key
/// let process = CursorKey::process(); // shared by every paginator of this process
/// assert!(CursorKey::try_new(b"short").is_err());
/// # let _ = (key, random);
/// # Ok::<(), djrs_paginate::Error>(())
/// ```
#[derive(Clone)]
pub struct CursorKey(Vec<u8>);

impl CursorKey {
    /// The shortest secret [`CursorKey::try_new`] accepts: 32 bytes, the size of the HMAC-SHA-256
    /// output.
    pub const MIN_LEN: usize = 32;

    /// A key from secret bytes. Use at least [`CursorKey::MIN_LEN`] random bytes: a shorter
    /// secret is accepted (for tests) but logged as an error, since anyone who guesses it can
    /// forge cursors. [`CursorKey::try_new`] refuses it instead.
    ///
    /// ```
    /// let key = djrs_paginate::CursorKey::new([7u8; 32]);
    /// # let _ = key;
    /// ```
    #[must_use]
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        let secret = secret.as_ref();
        if secret.len() < Self::MIN_LEN {
            tracing::error!(
                len = secret.len(),
                min = Self::MIN_LEN,
                "a cursor key shorter than 32 bytes can be guessed and cursors forged; use 32 random bytes"
            );
        }
        CursorKey(secret.to_vec())
    }

    /// A key from secret bytes, refusing secrets shorter than [`CursorKey::MIN_LEN`].
    ///
    /// # Errors
    /// [`Error::WeakCursorKey`] for a secret under 32 bytes.
    ///
    /// ```
    /// use djrs_paginate::{CursorKey, Error};
    ///
    /// assert!(matches!(CursorKey::try_new("a"), Err(Error::WeakCursorKey { len: 1, .. })));
    /// assert!(CursorKey::try_new("x".repeat(32)).is_ok());
    /// ```
    pub fn try_new(secret: impl AsRef<[u8]>) -> Result<Self> {
        let secret = secret.as_ref();
        if secret.len() < Self::MIN_LEN {
            return Err(Error::WeakCursorKey {
                len: secret.len(),
                min: Self::MIN_LEN,
            });
        }
        Ok(CursorKey(secret.to_vec()))
    }

    /// A fresh random key: cursors it signs are valid only for paginators that share it.
    ///
    /// ```
    /// use djrs_paginate::{CursorKey, Error, KeyValue, KeysetPaginator, KeysetRow};
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
    /// let one = KeysetPaginator::<Sqlite, Article>::new(pool.clone(), articles(), 2)
    ///     .key("id", Order::Asc)
    ///     .cursor_key(CursorKey::random());
    /// let other = KeysetPaginator::<Sqlite, Article>::new(pool, articles(), 2)
    ///     .key("id", Order::Asc)
    ///     .cursor_key(CursorKey::random());
    ///
    /// let next = one.page(None).await?.next_cursor().unwrap().to_owned();
    /// assert_eq!(one.page(Some(&next)).await?.object_list()[0].id, 3);
    /// assert!(matches!(other.page(Some(&next)).await, Err(Error::InvalidCursor(_))));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn random() -> Self {
        let mut bytes = vec![0u8; 32];
        rand::fill(&mut bytes[..]);
        CursorKey(bytes)
    }

    /// This process's random key, made on first use: every paginator built without
    /// [`KeysetPaginator::cursor_key`] uses it, so cursors stay valid across requests until the
    /// process restarts. Give several processes one [`CursorKey::new`] instead.
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
    /// // Without `.cursor_key(…)`, a paginator signs with the process key.
    /// let default = KeysetPaginator::<Sqlite, Article>::new(pool.clone(), articles(), 2)
    ///     .key("id", Order::Asc);
    /// let explicit = KeysetPaginator::<Sqlite, Article>::new(pool, articles(), 2)
    ///     .key("id", Order::Asc)
    ///     .cursor_key(CursorKey::process());
    ///
    /// let next = default.page(None).await?.next_cursor().unwrap().to_owned();
    /// assert_eq!(explicit.page(Some(&next)).await?.object_list()[0].id, 3);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn process() -> Self {
        static PROCESS_KEY: std::sync::OnceLock<CursorKey> = std::sync::OnceLock::new();
        PROCESS_KEY.get_or_init(CursorKey::random).clone()
    }

    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(payload);
        mac
    }
}

impl fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

const TAG_LEN: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Direction {
    #[serde(rename = "a")]
    After,
    #[serde(rename = "b")]
    Before,
}

#[derive(Debug, Serialize, Deserialize)]
struct CursorPayload {
    /// Which way from the key.
    d: Direction,
    /// The key values.
    k: Vec<KeyValue>,
    /// The list the cursor belongs to: its name or a fingerprint of its query and key.
    l: String,
    /// When it was signed, in seconds since the Unix epoch.
    t: u64,
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn encode_cursor(key: &CursorKey, payload: &CursorPayload) -> String {
    let json = serde_json::to_vec(payload).unwrap_or_default();
    let tag = key.mac(&json).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&json),
        URL_SAFE_NO_PAD.encode(&tag[..TAG_LEN])
    )
}

fn decode_cursor(key: &CursorKey, token: &str) -> Result<CursorPayload> {
    if token.len() > 4096 {
        return Err(Error::InvalidCursor("the cursor is too long"));
    }
    let (body, tag) = token
        .split_once('.')
        .ok_or(Error::InvalidCursor("the cursor has no signature"))?;
    let json = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| Error::InvalidCursor("the cursor is not base64url"))?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| Error::InvalidCursor("the cursor signature is not base64url"))?;
    if tag.len() != TAG_LEN {
        return Err(Error::InvalidCursor(
            "the cursor signature has the wrong length",
        ));
    }
    key.mac(&json)
        .verify_truncated_left(&tag)
        .map_err(|_| Error::InvalidCursor("the cursor signature does not match"))?;
    serde_json::from_slice(&json)
        .map_err(|_| Error::InvalidCursor("the cursor payload is malformed"))
}

/// Decodes `token` and checks that it belongs to `list` and is not older than `max_age`.
fn decode_cursor_for(
    key: &CursorKey,
    token: &str,
    list: &str,
    max_age: Option<std::time::Duration>,
) -> Result<CursorPayload> {
    let payload = decode_cursor(key, token)?;
    if payload.l != list {
        return Err(Error::InvalidCursor("the cursor belongs to another list"));
    }
    if let Some(max_age) = max_age {
        let age = now_unix().saturating_sub(payload.t);
        if age > max_age.as_secs() {
            return Err(Error::InvalidCursor("the cursor has expired"));
        }
    }
    Ok(payload)
}

/// One keyset page: its rows and the cursors to the pages around it.
///
/// ```
/// use djrs_paginate::KeysetPage;
///
/// fn links<T>(page: &KeysetPage<T>) -> (Option<String>, Option<String>) {
///     let next = page.next_cursor().map(|c| format!("?cursor={c}"));
///     let previous = page.previous_cursor().map(|c| format!("?cursor={c}"));
///     (previous, next)
/// }
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct KeysetPage<T> {
    object_list: Vec<T>,
    next_cursor: Option<String>,
    previous_cursor: Option<String>,
}

impl<T> KeysetPage<T> {
    /// The rows of this page, in the key order.
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
    /// let paginator = KeysetPaginator::<Sqlite, Article>::new(pool, articles(), 2).key("id", Order::Asc);
    /// let page = paginator.page(None).await?;
    /// let titles: Vec<&str> = page.object_list().iter().map(|a| a.title.as_str()).collect();
    /// assert_eq!(titles, ["a", "b"]);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn object_list(&self) -> &[T] {
        &self.object_list
    }

    /// Takes the rows out of the page.
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
    /// let paginator = KeysetPaginator::<Sqlite, Article>::new(pool, articles(), 2).key("id", Order::Asc);
    /// let rows: Vec<Article> = paginator.page(None).await?.into_object_list();
    /// assert_eq!(rows.len(), 2);
    /// assert_eq!(rows[1].title, "b");
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn into_object_list(self) -> Vec<T> {
        self.object_list
    }

    /// The token for the following page, if there is one.
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
    /// let paginator = KeysetPaginator::<Sqlite, Article>::new(pool, articles(), 2).key("id", Order::Asc);
    /// let first = paginator.page(None).await?;
    /// let second = paginator.page(first.next_cursor()).await?;
    /// assert_eq!(second.object_list()[0].id, 3);
    ///
    /// let last = paginator.page(second.next_cursor()).await?;
    /// assert_eq!(last.object_list().len(), 1);
    /// assert_eq!(last.next_cursor(), None);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }

    /// The token for the preceding page, if there is one.
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
    /// let paginator = KeysetPaginator::<Sqlite, Article>::new(pool, articles(), 2).key("id", Order::Asc);
    /// let first = paginator.page(None).await?;
    /// assert_eq!(first.previous_cursor(), None);
    ///
    /// let second = paginator.page(first.next_cursor()).await?;
    /// let back = paginator.page(second.previous_cursor()).await?;
    /// let ids: Vec<i64> = back.object_list().iter().map(|a| a.id).collect();
    /// assert_eq!(ids, [1, 2]);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn previous_cursor(&self) -> Option<&str> {
        self.previous_cursor.as_deref()
    }

    /// True if there is a following page.
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
    /// let paginator = KeysetPaginator::<Sqlite, Article>::new(pool, articles(), 2).key("id", Order::Asc);
    /// let first = paginator.page(None).await?;
    /// assert!(first.has_next());
    /// let last = paginator.page(Some(&paginator.cursor_after(vec![KeyValue::Int(4)])?)).await?;
    /// assert!(!last.has_next());
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn has_next(&self) -> bool {
        self.next_cursor.is_some()
    }

    /// True if there is a preceding page.
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
    /// let paginator = KeysetPaginator::<Sqlite, Article>::new(pool, articles(), 2).key("id", Order::Asc);
    /// let first = paginator.page(None).await?;
    /// assert!(!first.has_previous());
    /// let second = paginator.page(first.next_cursor()).await?;
    /// assert!(second.has_previous());
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn has_previous(&self) -> bool {
        self.previous_cursor.is_some()
    }
}

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
mod tests {
    use super::*;

    fn test_key() -> CursorKey {
        CursorKey::new([7u8; 32])
    }

    fn payload(list: &str, t: u64) -> CursorPayload {
        CursorPayload {
            d: Direction::After,
            k: vec![KeyValue::Int(5), "x".into(), true.into()],
            l: list.into(),
            t,
        }
    }

    /// The error message of an `Error::InvalidCursor`, or what came instead.
    fn cursor_error<T: fmt::Debug>(result: Result<T>) -> String {
        match result {
            Err(Error::InvalidCursor(message)) => message.to_owned(),
            other => format!("not an InvalidCursor: {other:?}"),
        }
    }

    #[test]
    fn key_values_convert_from_integers_text_and_booleans() {
        assert_eq!(KeyValue::from(-3_i64), KeyValue::Int(-3));
        assert_eq!(KeyValue::from(7_i32), KeyValue::Int(7));
        assert_eq!(KeyValue::from("a"), KeyValue::Text("a".into()));
        assert_eq!(
            KeyValue::from(String::from("b")),
            KeyValue::Text("b".into())
        );
        assert_eq!(KeyValue::from(true), KeyValue::Bool(true));
    }

    #[test]
    fn cursor_keys_shorter_than_32_bytes_are_refused() {
        for (len, accepted) in [(0, false), (1, false), (31, false), (32, true), (33, true)] {
            let result = CursorKey::try_new(vec![1u8; len]);
            match result {
                Ok(key) => {
                    assert!(accepted, "{len} bytes accepted");
                    assert_eq!(key.0, vec![1u8; len]);
                }
                Err(Error::WeakCursorKey { len: got, min }) => {
                    assert!(!accepted, "{len} bytes refused");
                    assert_eq!((got, min), (len, CursorKey::MIN_LEN));
                }
                Err(other) => panic!("{len} bytes: {other}"),
            }
        }
    }

    #[test]
    fn random_keys_differ_and_the_process_key_stays() {
        let (a, b) = (CursorKey::random(), CursorKey::random());
        assert_eq!(a.0.len(), 32);
        assert_ne!(a.0, b.0);
        assert_eq!(CursorKey::process().0, CursorKey::process().0);
        assert_eq!(CursorKey::process().0.len(), 32);
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let key = CursorKey::new(b"0123456789abcdef0123456789abcdef");
        assert_eq!(format!("{key:?}"), "CursorKey(..)");
    }

    #[test]
    fn now_is_seconds_since_the_epoch() {
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let now = now_unix();
        assert!((before..=before + 1).contains(&now), "{before} {now}");
    }

    #[test]
    fn cursor_round_trips_and_rejects_tampering() {
        let key = CursorKey::new(b"k");
        let payload = CursorPayload {
            d: Direction::After,
            k: vec![KeyValue::Int(5), "x".into()],
            l: "list".into(),
            t: now_unix(),
        };
        let token = encode_cursor(&key, &payload);
        let back = decode_cursor(&key, &token).unwrap();
        assert_eq!(back.k, payload.k);
        assert_eq!(back.d, Direction::After);

        // Same payload, other key: rejected.
        assert!(matches!(
            decode_cursor(&CursorKey::new(b"other"), &token),
            Err(Error::InvalidCursor(_))
        ));
        // A forged body with the old signature: rejected.
        let (_, tag) = token.split_once('.').unwrap();
        let forged = format!(
            "{}.{tag}",
            URL_SAFE_NO_PAD.encode(br#"{"d":"a","k":[6,"x"],"l":"list","t":0}"#)
        );
        assert!(matches!(
            decode_cursor(&key, &forged),
            Err(Error::InvalidCursor(_))
        ));
        for garbage in [
            "",
            ".",
            "abc",
            "a.b",
            "!!!.???",
            "eyJ9.AAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(
                matches!(decode_cursor(&key, garbage), Err(Error::InvalidCursor(_))),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn each_malformed_cursor_is_refused_with_its_reason() {
        let key = test_key();
        let token = encode_cursor(&key, &payload("list", 0));
        let (body, _) = token.split_once('.').unwrap();
        // A signed body that is not a payload.
        let json = b"{}";
        let signed_junk = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(json),
            URL_SAFE_NO_PAD.encode(&key.mac(json).finalize().into_bytes()[..TAG_LEN])
        );
        let full_tag = key
            .mac(&URL_SAFE_NO_PAD.decode(body).unwrap())
            .finalize()
            .into_bytes();
        let with_tag = |bytes: &[u8]| format!("{body}.{}", URL_SAFE_NO_PAD.encode(bytes));
        let mut flipped = full_tag[..TAG_LEN].to_vec();
        flipped[0] ^= 1;
        let cases: &[(String, &str)] = &[
            ("a".repeat(5000), "the cursor is too long"),
            (format!("{}.", "a".repeat(4096)), "the cursor is too long"),
            // 4,096 characters are not too long: this one fails for what it is.
            ("a".repeat(4096), "the cursor has no signature"),
            (String::new(), "the cursor has no signature"),
            ("!!!.AAAA".into(), "the cursor is not base64url"),
            (
                format!("{body}.!!!"),
                "the cursor signature is not base64url",
            ),
            // Half a signature would be a 64-bit tag, far easier to forge.
            (
                with_tag(&full_tag[..8]),
                "the cursor signature has the wrong length",
            ),
            (
                with_tag(&full_tag),
                "the cursor signature has the wrong length",
            ),
            (with_tag(&flipped), "the cursor signature does not match"),
            (signed_junk, "the cursor payload is malformed"),
        ];
        for (token, reason) in cases {
            assert_eq!(
                cursor_error(decode_cursor(&key, token)),
                *reason,
                "{token:.40}"
            );
        }
        let back = decode_cursor(&key, &token).unwrap();
        assert_eq!(
            back.k,
            [
                KeyValue::Int(5),
                KeyValue::Text("x".into()),
                KeyValue::Bool(true)
            ]
        );
    }

    proptest::proptest! {
        /// Whatever a cursor holds, it decodes to what was signed, and changing any one
        /// character of it makes it invalid.
        #[test]
        fn any_changed_character_invalidates_a_cursor(
            ints in proptest::collection::vec(proptest::prelude::any::<i64>(), 0..4),
            text in ".{0,40}",
            list in "[a-z:]{0,20}",
            at in proptest::prelude::any::<proptest::sample::Index>(),
            with in "[A-Za-z0-9_.-]",
        ) {
            let key = test_key();
            let mut k: Vec<KeyValue> = ints.into_iter().map(KeyValue::Int).collect();
            k.push(text.into());
            let payload = CursorPayload { d: Direction::Before, k: k.clone(), l: list.clone(), t: 9 };
            let token = encode_cursor(&key, &payload);
            let back = decode_cursor(&key, &token).unwrap();
            proptest::prop_assert_eq!(
                (back.d, back.k, back.l, back.t),
                (Direction::Before, k, list, 9)
            );
            let at = at.index(token.len());
            proptest::prop_assume!(token.as_bytes()[at] != with.as_bytes()[0]);
            let mut changed = token.clone();
            changed.replace_range(at..=at, &with);
            proptest::prop_assert!(
                matches!(decode_cursor(&key, &changed), Err(Error::InvalidCursor(_))),
                "{}",
                changed
            );
        }
    }

    #[test]
    fn a_cursor_belongs_to_its_list_and_may_expire() {
        use std::time::Duration;

        let key = test_key();
        let now = now_unix();
        let hour = Some(Duration::from_secs(3600));
        let cases: &[(u64, &str, Option<Duration>, Option<&str>)] = &[
            (now, "list", None, None),
            (
                now,
                "other",
                None,
                Some("the cursor belongs to another list"),
            ),
            (0, "list", None, None),
            (0, "list", hour, Some("the cursor has expired")),
            (now - 60, "list", hour, None),
            (now - 7200, "list", hour, Some("the cursor has expired")),
            // A cursor signed later than now (clocks differ between processes) is not old.
            (now + 60, "list", Some(Duration::ZERO), None),
        ];
        for &(t, list, max_age, refused) in cases {
            let token = encode_cursor(&key, &payload("list", t));
            let result = decode_cursor_for(&key, &token, list, max_age);
            match refused {
                None => assert_eq!(result.unwrap().t, t, "{t} {list} {max_age:?}"),
                Some(reason) => {
                    assert_eq!(cursor_error(result), reason, "{t} {list} {max_age:?}");
                }
            }
        }
    }

    #[test]
    fn a_page_reports_its_rows_and_cursors() {
        let page = KeysetPage {
            object_list: vec![1, 2],
            next_cursor: Some("n".to_owned()),
            previous_cursor: None,
        };
        assert_eq!(page.object_list(), [1, 2]);
        assert_eq!(
            (page.next_cursor(), page.previous_cursor()),
            (Some("n"), None)
        );
        assert_eq!((page.has_next(), page.has_previous()), (true, false));
        assert_eq!(page.into_object_list(), [1, 2]);
        let page = KeysetPage::<i32> {
            object_list: vec![],
            next_cursor: None,
            previous_cursor: Some("p".to_owned()),
        };
        assert_eq!(
            (page.next_cursor(), page.previous_cursor()),
            (None, Some("p"))
        );
        assert_eq!((page.has_next(), page.has_previous()), (false, true));
    }

    /// Pages and statements, on an in-memory SQLite database.
    #[cfg(feature = "sqlite")]
    mod sqlite {
        use sea_query::Query;

        use super::*;

        type Sqlite = sqlx::Sqlite;

        /// A row of the `item` table: an id and a group that several rows share.
        #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
        struct Item {
            id: i64,
            grp: i64,
        }

        impl KeysetRow for Item {
            fn key_values(&self) -> Vec<KeyValue> {
                vec![self.grp.into(), self.id.into()]
            }
        }

        /// Rows keyed on `id` alone.
        #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
        struct ById {
            id: i64,
        }

        impl KeysetRow for ById {
            fn key_values(&self) -> Vec<KeyValue> {
                vec![self.id.into()]
            }
        }

        /// An in-memory SQLite database (one connection, so one database) with `item` rows
        /// `(1, 1)` to `(rows, rows % 3)`.
        async fn memory_pool(rows: i64) -> sqlx::SqlitePool {
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect("sqlite::memory:")
                .await
                .unwrap();
            sqlx::query("CREATE TABLE item (id INTEGER PRIMARY KEY, grp INTEGER NOT NULL)")
                .execute(&pool)
                .await
                .unwrap();
            for id in 1..=rows {
                sqlx::query("INSERT INTO item (id, grp) VALUES (?, ?)")
                    .bind(id)
                    .bind(id % 3)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            pool
        }

        fn items() -> SelectStatement {
            Query::select()
                .columns(["id", "grp"])
                .from("item")
                .to_owned()
        }

        /// Key columns and their directions, in `KeysetPaginator::key` order.
        type Keys<'a> = &'a [(&'static str, Order)];

        /// The SQL of a page's statement, per page of 3 rows.
        fn page_sql(keys: Keys<'_>, after: Option<&[KeyValue]>, backward: bool) -> String {
            let pool = sqlx::SqlitePool::connect_lazy("sqlite::memory:").unwrap();
            let mut query = items();
            // The paginator owns the order: one in the statement is replaced.
            query.order_by("grp", Order::Desc);
            let mut paginator = KeysetPaginator::<Sqlite, Item>::new(pool, query, 3);
            for (column, order) in keys {
                paginator = paginator.key(*column, order.clone());
            }
            Sqlite::to_sql(&paginator.statement(after, backward))
        }

        #[tokio::test]
        async fn the_seek_condition_follows_each_key_direction() {
            use KeyValue::Int;
            use Order::{Asc, Desc};

            const SELECT: &str = r#"SELECT "id", "grp" FROM "item""#;
            let cases: &[(Keys<'_>, Option<&[KeyValue]>, bool, &str)] = &[
                (&[("id", Asc)], None, false, r#"ORDER BY "id" ASC LIMIT 4"#),
                (
                    &[("id", Desc)],
                    None,
                    false,
                    r#"ORDER BY "id" DESC LIMIT 4"#,
                ),
                (
                    &[("id", Asc)],
                    Some(&[Int(5)]),
                    false,
                    r#"WHERE "id" > 5 ORDER BY "id" ASC LIMIT 4"#,
                ),
                (
                    &[("id", Asc)],
                    Some(&[Int(5)]),
                    true,
                    r#"WHERE "id" < 5 ORDER BY "id" DESC LIMIT 4"#,
                ),
                (
                    &[("id", Desc)],
                    Some(&[Int(5)]),
                    false,
                    r#"WHERE "id" < 5 ORDER BY "id" DESC LIMIT 4"#,
                ),
                (
                    &[("id", Desc)],
                    Some(&[Int(5)]),
                    true,
                    r#"WHERE "id" > 5 ORDER BY "id" ASC LIMIT 4"#,
                ),
                // Every column the same way: one row-value comparison.
                (
                    &[("grp", Asc), ("id", Asc)],
                    Some(&[Int(1), Int(5)]),
                    false,
                    r#"WHERE ("grp", "id") > (1, 5) ORDER BY "grp" ASC, "id" ASC LIMIT 4"#,
                ),
                (
                    &[("grp", Asc), ("id", Asc)],
                    Some(&[Int(1), Int(5)]),
                    true,
                    r#"WHERE ("grp", "id") < (1, 5) ORDER BY "grp" DESC, "id" DESC LIMIT 4"#,
                ),
                (
                    &[("grp", Desc), ("id", Desc)],
                    Some(&[Int(1), Int(5)]),
                    false,
                    r#"WHERE ("grp", "id") < (1, 5) ORDER BY "grp" DESC, "id" DESC LIMIT 4"#,
                ),
                (
                    &[("grp", Desc), ("id", Desc)],
                    Some(&[Int(1), Int(5)]),
                    true,
                    r#"WHERE ("grp", "id") > (1, 5) ORDER BY "grp" ASC, "id" ASC LIMIT 4"#,
                ),
                // Mixed directions: the OR of "equal on a prefix, past on the next column".
                (
                    &[("grp", Desc), ("id", Asc)],
                    Some(&[Int(1), Int(5)]),
                    false,
                    r#"WHERE "grp" < 1 OR ("grp" = 1 AND "id" > 5) ORDER BY "grp" DESC, "id" ASC LIMIT 4"#,
                ),
                (
                    &[("grp", Desc), ("id", Asc)],
                    Some(&[Int(1), Int(5)]),
                    true,
                    r#"WHERE "grp" > 1 OR ("grp" = 1 AND "id" < 5) ORDER BY "grp" ASC, "id" DESC LIMIT 4"#,
                ),
                (
                    &[("grp", Asc), ("id", Desc)],
                    Some(&[Int(1), Int(5)]),
                    false,
                    r#"WHERE "grp" > 1 OR ("grp" = 1 AND "id" < 5) ORDER BY "grp" ASC, "id" DESC LIMIT 4"#,
                ),
            ];
            for (keys, after, backward, tail) in cases {
                assert_eq!(
                    page_sql(keys, *after, *backward),
                    format!("{SELECT} {tail}"),
                    "{keys:?} {after:?} backward={backward}"
                );
            }
        }

        /// The ids of each page, walking with `next` (or `previous`) cursors from `start`, with
        /// whether each page had a next and a previous page.
        async fn walk<T>(
            paginator: &KeysetPaginator<Sqlite, T>,
            start: Option<String>,
            forward: bool,
            id: fn(&T) -> i64,
        ) -> Vec<(Vec<i64>, bool, bool)>
        where
            T: KeysetRow
                + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
                + Send
                + Unpin
                + 'static,
        {
            let mut pages = Vec::new();
            let mut cursor = start;
            loop {
                let page = paginator.page(cursor.as_deref()).await.unwrap();
                pages.push((
                    page.object_list().iter().map(id).collect(),
                    page.has_next(),
                    page.has_previous(),
                ));
                assert_eq!(page.has_next(), page.next_cursor().is_some());
                assert_eq!(page.has_previous(), page.previous_cursor().is_some());
                let next = if forward {
                    page.next_cursor()
                } else {
                    page.previous_cursor()
                };
                match next {
                    Some(next) => cursor = Some(next.to_owned()),
                    None => return pages,
                }
                assert!(pages.len() < 20, "the walk does not end");
            }
        }

        #[tokio::test]
        async fn pages_walk_forward_and_back_over_sqlite() {
            let pool = memory_pool(8).await;
            let by_id = KeysetPaginator::<Sqlite, ById>::new(pool.clone(), items(), 3)
                .key("id", Order::Asc)
                .cursor_key(test_key());
            let forward = walk(&by_id, None, true, |r| r.id).await;
            assert_eq!(
                forward,
                [
                    (vec![1, 2, 3], true, false),
                    (vec![4, 5, 6], true, true),
                    (vec![7, 8], false, true),
                ]
            );
            // Back from the last page: the same pages, each knowing both neighbours but the first.
            let last = by_id.cursor_after(vec![6.into()]).unwrap();
            let last = by_id.page(Some(&last)).await.unwrap();
            assert_eq!(last.object_list(), [ById { id: 7 }, ById { id: 8 }]);
            let back = walk(
                &by_id,
                last.previous_cursor().map(str::to_owned),
                false,
                |r| r.id,
            )
            .await;
            assert_eq!(
                back,
                [(vec![4, 5, 6], true, true), (vec![1, 2, 3], true, false)]
            );

            // Newest first, on a key of two columns running opposite ways.
            let mixed = KeysetPaginator::<Sqlite, Item>::new(pool.clone(), items(), 3)
                .key("grp", Order::Desc)
                .key("id", Order::Asc)
                .cursor_key(test_key());
            let pages = walk(&mixed, None, true, |r| r.id).await;
            let ids: Vec<Vec<i64>> = pages.into_iter().map(|(ids, ..)| ids).collect();
            assert_eq!(ids, [vec![2, 5, 8], vec![1, 4, 7], vec![3, 6]]);
            let row = mixed.page(None).await.unwrap().into_object_list().remove(1);
            assert_eq!(row, Item { id: 5, grp: 2 });
        }

        #[tokio::test]
        async fn a_page_that_holds_the_rest_exactly_is_the_last() {
            let pool = memory_pool(6).await;
            for (per_page, pages) in [
                (6, vec![(vec![1, 2, 3, 4, 5, 6], false, false)]),
                (
                    3,
                    vec![(vec![1, 2, 3], true, false), (vec![4, 5, 6], false, true)],
                ),
            ] {
                let paginator =
                    KeysetPaginator::<Sqlite, ById>::new(pool.clone(), items(), per_page)
                        .key("id", Order::Asc);
                assert_eq!(
                    walk(&paginator, None, true, |r| r.id).await,
                    pages,
                    "{per_page}"
                );
            }
        }

        #[tokio::test]
        async fn misconfigured_lists_and_foreign_cursors_are_refused() {
            let pool = memory_pool(4).await;
            let one = KeysetPaginator::<Sqlite, ById>::new(pool.clone(), items(), 2)
                .key("id", Order::Asc)
                .name("items");
            let two = KeysetPaginator::<Sqlite, Item>::new(pool.clone(), items(), 2)
                .key("grp", Order::Asc)
                .key("id", Order::Asc)
                .name("items");
            // Same list name, another number of key columns.
            let token = one.cursor_after(vec![1.into()]).unwrap();
            assert_eq!(
                cursor_error(two.page(Some(&token)).await),
                "the cursor does not match this list's key columns"
            );
            assert_eq!(one.page(Some(&token)).await.unwrap().object_list()[0].id, 2);
            assert!(matches!(
                one.cursor_after(vec![1.into(), 2.into()]),
                Err(Error::Keyset(_))
            ));
            assert!(two.cursor_after(vec![1.into(), 2.into()]).is_ok());

            let keyless = KeysetPaginator::<Sqlite, ById>::new(pool.clone(), items(), 2);
            assert!(matches!(keyless.page(None).await, Err(Error::Keyset(_))));
            assert!(matches!(
                keyless.cursor_after(vec![]),
                Err(Error::Keyset(_))
            ));

            let sliced = items().limit(2).to_owned();
            let sliced =
                KeysetPaginator::<Sqlite, ById>::new(pool, sliced, 2).key("id", Order::Asc);
            assert!(matches!(sliced.page(None).await, Err(Error::Keyset(_))));
        }

        #[tokio::test]
        async fn cursors_carry_the_list_they_came_from() {
            let pool = memory_pool(0).await;
            let list = |query: SelectStatement, order: Order| {
                KeysetPaginator::<Sqlite, ById>::new(pool.clone(), query, 2)
                    .key("id", order)
                    .cursor_key(test_key())
            };
            let filtered = items().and_where(Expr::col("grp").eq(1)).to_owned();
            let ids = [
                list(items(), Order::Asc).list_id(),
                list(items(), Order::Desc).list_id(),
                list(filtered, Order::Asc).list_id(),
            ];
            assert_eq!(ids[0], list(items(), Order::Asc).list_id());
            assert_eq!(ids[0].len(), 16, "{ids:?}");
            assert!(
                ids[0] != ids[1] && ids[0] != ids[2] && ids[1] != ids[2],
                "{ids:?}"
            );
            assert_eq!(list(items(), Order::Asc).name("a").list_id(), "n:a");

            let paginator = list(items(), Order::Asc).name("a");
            let token = paginator.cursor_after(vec![3.into()]).unwrap();
            let payload = decode_cursor_for(&test_key(), &token, "n:a", None).unwrap();
            assert_eq!(
                (payload.d, payload.k),
                (Direction::After, vec![KeyValue::Int(3)])
            );
            let token = paginator.encode("n:a", Direction::Before, vec![4.into()]);
            let payload = decode_cursor_for(&test_key(), &token, "n:a", None).unwrap();
            assert_eq!(
                (payload.d, payload.k),
                (Direction::Before, vec![KeyValue::Int(4)])
            );

            let debug = format!("{paginator:?}");
            assert!(
                debug.starts_with("KeysetPaginator { database: \"SQLite\""),
                "{debug}"
            );
            assert!(
                debug.contains("per_page: 2") && debug.contains("Some(\"a\")"),
                "{debug}"
            );
        }
    }
}
