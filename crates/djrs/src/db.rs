//! [`Db`]: one database handle for "SQLite by default, PostgreSQL or MySQL by URL".
//!
//! Every battery is generic over the sqlx driver (`SelectSource<Sqlite, T>`,
//! `KeysetPaginator<Postgres, T>`, `Record::save(&pool)`, `SqliteBackend`), which is what a
//! library should be, and what an application choosing its database by URL cannot write
//! without a `match` on every call. [`Db`] is that `match`, written once: an enum over the
//! sqlx pools of the enabled database features (`sqlite`, `postgres`, `mysql`) with the
//! batteries' database entry points on it.
//!
//! ```
//! # #[cfg(feature = "sqlite")]
//! # tokio_test::block_on(async {
//! use djrs::db::Db;
//! use djrs::sea_query::{Expr, ExprTrait, Query};
//!
//! let db = Db::connect("sqlite::memory:").await?;
//! db.query("CREATE TABLE article (id INTEGER PRIMARY KEY, title TEXT NOT NULL)").execute().await?;
//! db.query("INSERT INTO article (title) VALUES ($1), ($2)").bind("One").bind("Two").execute().await?;
//!
//! #[derive(sqlx::FromRow)]
//! struct Article { id: i64, title: String }
//!
//! // A sea-query SELECT, built for whichever database `db` is, into `FromRow` rows.
//! let select = Query::select()
//!     .columns(["id", "title"])
//!     .from("article")
//!     .and_where(Expr::col("title").ne("One"))
//!     .to_owned();
//! let rows: Vec<Article> = db.select(&select).fetch_all().await?;
//! assert_eq!((rows[0].id, rows[0].title.as_str()), (2, "Two"));
//!
//! let count: i64 = db.query("SELECT COUNT(*) FROM article").fetch_scalar().await?;
//! assert_eq!(count, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```
//!
//! Placeholders in [`Db::query`]'s SQL are the database's own: `$1` on PostgreSQL, `$1` or `?` on SQLite,
//! `?` on MySQL. Statements built with sea-query ([`Db::select`], [`Db::statement`],
//! [`Db::schema`]) are portable.

use std::borrow::Cow;
use std::fmt;

use sea_query::{QueryStatementBuilder, SchemaStatementBuilder, Value, Values};

/// Runs `$body` with `$pool` bound to the pool a [`Db`] holds: the one `match` of the module.
macro_rules! each_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite($pool) => $body,
            #[cfg(feature = "postgres")]
            Db::Postgres($pool) => $body,
            #[cfg(feature = "mysql")]
            Db::MySql($pool) => $body,
        }
    };
}

/// Runs `$body` with `$pool` bound to the pool and `$dialect` to the sea-query builder of the
/// database a [`Db`] holds.
macro_rules! each_dialect {
    ($db:expr, |$pool:ident, $dialect:ident| $body:expr) => {
        match $db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite($pool) => {
                let $dialect = sea_query::SqliteQueryBuilder;
                $body
            }
            #[cfg(feature = "postgres")]
            Db::Postgres($pool) => {
                let $dialect = sea_query::PostgresQueryBuilder;
                $body
            }
            #[cfg(feature = "mysql")]
            Db::MySql($pool) => {
                let $dialect = sea_query::MysqlQueryBuilder;
                $body
            }
        }
    };
}

/// A pool of one of the enabled databases: SQLite (feature `sqlite`), PostgreSQL (`postgres`)
/// or MySQL/MariaDB (`mysql`). Cloning is cheap (the pools are reference-counted).
///
/// ```
/// # #[cfg(feature = "sqlite")]
/// # tokio_test::block_on(async {
/// use djrs::db::{Db, Engine};
///
/// let db = Db::connect("sqlite::memory:").await?;
/// assert_eq!(db.engine(), Engine::Sqlite);
/// assert_eq!(db.engine().to_string(), "SQLite");
/// # Ok::<(), djrs::db::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum Db {
    /// A SQLite database.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    /// A MySQL or MariaDB database.
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Db").field(&self.engine()).finish()
    }
}

/// Which database a [`Db`] is.
///
/// ```
/// use djrs::db::Engine;
///
/// assert_eq!(Engine::Postgres.to_string(), "PostgreSQL");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Engine {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
            Engine::MySql => "MySQL",
        })
    }
}

impl Engine {
    /// The engine a database URL names by its scheme (`sqlite:`, `postgres:`/`postgresql:`,
    /// `mysql:`/`mariadb:`), whether or not its feature is enabled.
    ///
    /// ```
    /// use djrs::db::Engine;
    ///
    /// assert_eq!(Engine::from_url("postgresql://db/app"), Some(Engine::Postgres));
    /// assert_eq!(Engine::from_url("sqlite://app.sqlite3"), Some(Engine::Sqlite));
    /// assert_eq!(Engine::from_url("mssql://db"), None);
    /// ```
    #[must_use]
    pub fn from_url(url: &str) -> Option<Engine> {
        let scheme = url.split_once(':')?.0.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Engine::Sqlite),
            "postgres" | "postgresql" => Some(Engine::Postgres),
            "mysql" | "mariadb" => Some(Engine::MySql),
            _ => None,
        }
    }

    /// The cargo feature of djrs that enables this engine.
    #[cfg(not(all(feature = "sqlite", feature = "postgres", feature = "mysql")))]
    fn feature(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
            Engine::MySql => "mysql",
        }
    }
}

/// Why [`Db::connect`] failed. Its text never holds the URL's password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL names no database djrs knows.
    #[error("unsupported database URL {0}: use sqlite://FILE, postgres://… or mysql://…")]
    UnsupportedUrl(String),
    /// The URL names a database whose cargo feature is not enabled.
    #[error("{engine} URL {url}, but djrs is built without its `{feature}` feature")]
    EngineDisabled {
        /// The engine the URL names.
        engine: Engine,
        /// The URL, password replaced by `***`.
        url: String,
        /// The feature to enable.
        feature: &'static str,
    },
    /// The database refused the connection or the URL's options.
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The URL, password replaced by `***`.
        url: String,
        /// sqlx's reason, password replaced by `***`.
        reason: String,
    },
}

/// `url` with the password of its user info replaced by `***`.
///
/// ```
/// use djrs::db::redact_url;
///
/// assert_eq!(redact_url("postgres://ann:s3cret@db/app"), "postgres://ann:***@db/app");
/// assert_eq!(redact_url("sqlite://demo.sqlite3"), "sqlite://demo.sqlite3");
/// ```
#[must_use]
pub fn redact_url(url: &str) -> String {
    match password_of(url) {
        Some(password) => {
            let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(authority_end);
            let (userinfo, host) = authority.rsplit_once('@').unwrap_or(("", authority));
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            debug_assert!(!password.is_empty());
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// The password in the user info of `url`, if it has one.
fn password_of(url: &str) -> Option<&str> {
    url.split_once("://")
        .map(|(_, rest)| &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())])
        .and_then(|authority| authority.rsplit_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, password)| password)
        .filter(|password| !password.is_empty())
}

impl Error {
    #[cfg(not(all(feature = "sqlite", feature = "postgres", feature = "mysql")))]
    fn disabled(engine: Engine, url: &str) -> Error {
        Error::EngineDisabled {
            engine,
            url: redact_url(url),
            feature: engine.feature(),
        }
    }

    fn connect(url: &str, err: &sqlx::Error) -> Error {
        let reason = err.to_string();
        Error::Connect {
            url: redact_url(url),
            reason: match password_of(url) {
                Some(password) => reason.replace(password, "***"),
                None => reason,
            },
        }
    }
}

impl Db {
    /// Connects to the database `url` names: `sqlite://FILE` (the file created when missing,
    /// in WAL mode with `synchronous = NORMAL`, foreign keys on and a 30 s busy timeout, so
    /// that the task queue and the application share it), `sqlite::memory:`,
    /// `postgres://…` or `mysql://…`.
    ///
    /// ```
    /// # tokio_test::block_on(async {
    /// use djrs::db::{Db, Error};
    ///
    /// let err = Db::connect("oracle://scott:tiger@db").await.unwrap_err();
    /// assert!(matches!(err, Error::UnsupportedUrl(_)));
    /// assert!(!err.to_string().contains("tiger"));
    /// # });
    /// ```
    ///
    /// # Errors
    /// [`Error::UnsupportedUrl`], [`Error::EngineDisabled`], or [`Error::Connect`] when the
    /// database cannot be reached.
    pub async fn connect(url: &str) -> Result<Db, Error> {
        let engine = Engine::from_url(url).ok_or_else(|| Error::UnsupportedUrl(redact_url(url)))?;
        match engine {
            Engine::Sqlite => {
                #[cfg(feature = "sqlite")]
                {
                    Db::connect_sqlite(url).await
                }
                #[cfg(not(feature = "sqlite"))]
                Err(Error::disabled(engine, url))
            }
            Engine::Postgres => {
                #[cfg(feature = "postgres")]
                {
                    sqlx::PgPool::connect(url)
                        .await
                        .map(Db::Postgres)
                        .map_err(|err| Error::connect(url, &err))
                }
                #[cfg(not(feature = "postgres"))]
                Err(Error::disabled(engine, url))
            }
            Engine::MySql => {
                #[cfg(feature = "mysql")]
                {
                    // sqlx takes `mariadb://` as well as `mysql://`.
                    sqlx::MySqlPool::connect(url)
                        .await
                        .map(Db::MySql)
                        .map_err(|err| Error::connect(url, &err))
                }
                #[cfg(not(feature = "mysql"))]
                Err(Error::disabled(engine, url))
            }
        }
    }

    #[cfg(feature = "sqlite")]
    async fn connect_sqlite(url: &str) -> Result<Db, Error> {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
        let options: SqliteConnectOptions = url.parse().map_err(|err| Error::connect(url, &err))?;
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(30));
        // An in-memory database is one per connection: keep it to one, never closed.
        let pool = if url.contains(":memory:") || url.contains("mode=memory") {
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
        } else {
            sqlx::SqlitePool::connect_with(options).await
        };
        pool.map(Db::Sqlite)
            .map_err(|err| Error::connect(url, &err))
    }

    /// Which database this is.
    ///
    /// ```
    /// # #[cfg(feature = "postgres")]
    /// # tokio_test::block_on(async {
    /// use djrs::db::{Db, Engine};
    ///
    /// let pool = sqlx::PgPool::connect_lazy("postgres://localhost/app").unwrap();
    /// assert_eq!(Db::from(pool).engine(), Engine::Postgres);
    /// # });
    /// ```
    #[must_use]
    pub fn engine(&self) -> Engine {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(_) => Engine::Sqlite,
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => Engine::Postgres,
            #[cfg(feature = "mysql")]
            Db::MySql(_) => Engine::MySql,
        }
    }

    /// Closes every connection of the pool, waiting for those in use to be given back.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// db.close().await;
    /// assert!(db.query("SELECT 1").execute().await.is_err());
    /// # Ok::<(), djrs::db::Error>(()) }).unwrap();
    /// ```
    pub async fn close(&self) {
        each_pool!(self, |pool| pool.close().await);
    }

    /// A statement in SQL text, with `$1`… placeholders on PostgreSQL and SQLite, `?` on
    /// MySQL, bound with [`DbQuery::bind`]. The text is a `&'static str`: values go in
    /// bindings, never into the SQL (use [`Db::statement`] for SQL built at run time).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// let answer: i64 = db.query("SELECT $1 + 1").bind(41).fetch_scalar().await?;
    /// assert_eq!(answer, 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn query(&self, sql: &'static str) -> DbQuery<'_> {
        DbQuery {
            db: self,
            sql: Cow::Borrowed(sql),
            values: Values(Vec::new()),
        }
    }

    /// A sea-query `SELECT`, built for this database, to fetch rows from.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::sea_query::{Expr, ExprTrait, Query};
    ///
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// let select = Query::select().expr(Expr::val(7).add(1)).to_owned();
    /// let (eight,): (i64,) = db.select(&select).fetch_one().await?;
    /// assert_eq!(eight, 8);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn select(&self, select: &sea_query::SelectStatement) -> DbQuery<'_> {
        self.statement(select)
    }

    /// Any sea-query statement (`INSERT`, `UPDATE`, `DELETE`, `SELECT`), built for this
    /// database with its values bound, never inlined.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::sea_query::Query;
    ///
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// db.query("CREATE TABLE tag (name TEXT)").execute().await?;
    /// let insert = Query::insert()
    ///     .into_table("tag")
    ///     .columns(["name"])
    ///     .values_panic(["Robert'); DROP TABLE tag; --".into()])
    ///     .to_owned();
    /// assert_eq!(db.statement(&insert).execute().await?, 1);
    /// let count: i64 = db.query("SELECT COUNT(*) FROM tag").fetch_scalar().await?;
    /// assert_eq!(count, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn statement<S: QueryStatementBuilder>(&self, statement: &S) -> DbQuery<'_> {
        let (sql, values) = each_dialect!(self, |_pool, dialect| statement.build_any(&dialect));
        DbQuery {
            db: self,
            sql: Cow::Owned(sql),
            values,
        }
    }

    /// A sea-query schema statement (`CREATE TABLE`, `CREATE INDEX`, …) in this database's
    /// dialect.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::sea_query::{ColumnDef, Table};
    ///
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// let create = Table::create()
    ///     .table("tag")
    ///     .if_not_exists()
    ///     .col(ColumnDef::new("name").text().not_null())
    ///     .to_owned();
    /// db.schema(&create).execute().await?;
    /// db.schema(&create).execute().await?; // IF NOT EXISTS
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn schema<S: SchemaStatementBuilder>(&self, statement: &S) -> DbQuery<'_> {
        let sql = each_dialect!(self, |_pool, dialect| statement.build(dialect));
        DbQuery {
            db: self,
            sql: Cow::Owned(sql),
            values: Values(Vec::new()),
        }
    }
}

#[cfg(feature = "sqlite")]
impl From<sqlx::SqlitePool> for Db {
    fn from(pool: sqlx::SqlitePool) -> Self {
        Db::Sqlite(pool)
    }
}

#[cfg(feature = "postgres")]
impl From<sqlx::PgPool> for Db {
    fn from(pool: sqlx::PgPool) -> Self {
        Db::Postgres(pool)
    }
}

#[cfg(feature = "mysql")]
impl From<sqlx::MySqlPool> for Db {
    fn from(pool: sqlx::MySqlPool) -> Self {
        Db::MySql(pool)
    }
}

/// A statement on a [`Db`] with its bound values, made by [`Db::query`], [`Db::select`],
/// [`Db::statement`] or [`Db::schema`], and run by one of its methods.
#[must_use = "a query does nothing until it is executed or fetched"]
pub struct DbQuery<'a> {
    db: &'a Db,
    sql: Cow<'static, str>,
    values: Values,
}

impl fmt::Debug for DbQuery<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The values may be the request's input: only their number is shown.
        f.debug_struct("DbQuery")
            .field("engine", &self.db.engine())
            .field("sql", &self.sql)
            .field("values", &self.values.0.len())
            .finish()
    }
}

impl DbQuery<'_> {
    /// Binds the next placeholder's value.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// let greeting: String = db.query("SELECT $1 || ', ' || $2").bind("Hello").bind("world").fetch_scalar().await?;
    /// assert_eq!(greeting, "Hello, world");
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.values.0.push(value.into());
        self
    }

    /// The SQL text that will run.
    ///
    /// ```
    /// # #[cfg(feature = "postgres")]
    /// # tokio_test::block_on(async {
    /// use djrs::sea_query::{Expr, ExprTrait, Query};
    ///
    /// let db = djrs::db::Db::from(sqlx::PgPool::connect_lazy("postgres://localhost/app").unwrap());
    /// let select = Query::select().column("id").from("article").and_where(Expr::col("id").eq(7)).to_owned();
    /// assert_eq!(db.select(&select).sql(), r#"SELECT "id" FROM "article" WHERE "id" = $1"#);
    /// # });
    /// ```
    #[must_use]
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// Runs the statement; returns the number of rows it changed.
    ///
    /// # Errors
    /// The database's error.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// db.query("CREATE TABLE t (n INTEGER)").execute().await?;
    /// assert_eq!(db.query("INSERT INTO t VALUES (1), (2)").execute().await?, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn execute(self) -> Result<u64, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(self.sql.into_owned());
        let values = sea_query_sqlx::SqlxValues(self.values);
        each_pool!(self.db, |pool| Ok(sqlx::query_with(sql, values)
            .execute(pool)
            .await?
            .rows_affected()))
    }

    /// Every row, decoded with `FromRow`.
    ///
    /// # Errors
    /// The database's error, or a row that does not decode into `T`.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// let rows: Vec<(i64, String)> = db.query("SELECT 1, 'one' UNION ALL SELECT 2, 'two'").fetch_all().await?;
    /// assert_eq!(rows, [(1, "one".to_owned()), (2, "two".to_owned())]);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn fetch_all<T: FromDbRow>(self) -> Result<Vec<T>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(self.sql.into_owned());
        let values = sea_query_sqlx::SqlxValues(self.values);
        each_pool!(self.db, |pool| sqlx::query_as_with(sql, values)
            .fetch_all(pool)
            .await)
    }

    /// The first row; [`sqlx::Error::RowNotFound`] when there is none.
    ///
    /// # Errors
    /// The database's error, no row, or a row that does not decode into `T`.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// let none = db.query("SELECT 1 WHERE 1 = 0").fetch_one::<(i64,)>().await;
    /// assert!(matches!(none, Err(sqlx::Error::RowNotFound)));
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn fetch_one<T: FromDbRow>(self) -> Result<T, sqlx::Error> {
        self.fetch_optional().await?.ok_or(sqlx::Error::RowNotFound)
    }

    /// The first row, if there is one.
    ///
    /// # Errors
    /// The database's error, or a row that does not decode into `T`.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// let row: Option<(String,)> = db.query("SELECT 'x' WHERE $1").bind(false).fetch_optional().await?;
    /// assert_eq!(row, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn fetch_optional<T: FromDbRow>(self) -> Result<Option<T>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(self.sql.into_owned());
        let values = sea_query_sqlx::SqlxValues(self.values);
        each_pool!(self.db, |pool| sqlx::query_as_with(sql, values)
            .fetch_optional(pool)
            .await)
    }

    /// The first column of the first row (a `COUNT(*)`, a `RETURNING id`).
    ///
    /// # Errors
    /// The database's error, no row, or a value that does not decode into `T`.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// let n: i64 = db.query("SELECT COUNT(*) FROM (SELECT 1 UNION ALL SELECT 2)").fetch_scalar().await?;
    /// assert_eq!(n, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn fetch_scalar<T>(self) -> Result<T, sqlx::Error>
    where
        (T,): FromDbRow,
    {
        let (value,) = self.fetch_one::<(T,)>().await?;
        Ok(value)
    }
}

pub use rows::FromDbRow;

/// The `FromRow` bound of every enabled database, as one trait ([`FromDbRow`]), made of one
/// trait per database that is empty when its feature is off.
pub mod rows {
    /// A row type sqlx decodes from the rows of every enabled database: implemented for each
    /// type with `FromRow` for the SQLite, PostgreSQL and MySQL rows the features enable (what
    /// `#[derive(sqlx::FromRow)]` and tuples of decodable values give).
    pub trait FromDbRow: FromSqliteRow + FromPgRow + FromMySqlRow + Send + Unpin + 'static {}

    impl<T: FromSqliteRow + FromPgRow + FromMySqlRow + Send + Unpin + 'static> FromDbRow for T {}

    /// `FromRow` for SQLite rows, when the `sqlite` feature is on.
    #[cfg(feature = "sqlite")]
    pub trait FromSqliteRow: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> {}
    #[cfg(feature = "sqlite")]
    impl<T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>> FromSqliteRow for T {}
    /// `FromRow` for SQLite rows, when the `sqlite` feature is on.
    #[cfg(not(feature = "sqlite"))]
    pub trait FromSqliteRow {}
    #[cfg(not(feature = "sqlite"))]
    impl<T> FromSqliteRow for T {}

    /// `FromRow` for PostgreSQL rows, when the `postgres` feature is on.
    #[cfg(feature = "postgres")]
    pub trait FromPgRow: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> {}
    #[cfg(feature = "postgres")]
    impl<T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>> FromPgRow for T {}
    /// `FromRow` for PostgreSQL rows, when the `postgres` feature is on.
    #[cfg(not(feature = "postgres"))]
    pub trait FromPgRow {}
    #[cfg(not(feature = "postgres"))]
    impl<T> FromPgRow for T {}

    /// `FromRow` for MySQL rows, when the `mysql` feature is on.
    #[cfg(feature = "mysql")]
    pub trait FromMySqlRow: for<'r> sqlx::FromRow<'r, sqlx::mysql::MySqlRow> {}
    #[cfg(feature = "mysql")]
    impl<T: for<'r> sqlx::FromRow<'r, sqlx::mysql::MySqlRow>> FromMySqlRow for T {}
    /// `FromRow` for MySQL rows, when the `mysql` feature is on.
    #[cfg(not(feature = "mysql"))]
    pub trait FromMySqlRow {}
    #[cfg(not(feature = "mysql"))]
    impl<T> FromMySqlRow for T {}
}

/// `djrs-orm-ext` on a [`Db`]: the server's version, and [`Record`](djrs_orm_ext::Record)
/// saves.
#[cfg(feature = "orm-ext")]
impl Db {
    /// Which database server and version this is ([`DatabaseServer::detect`](djrs_orm_ext::DatabaseServer::detect)),
    /// what [`StringAgg`](djrs_orm_ext::StringAgg) and the schema helpers take.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::orm_ext::Vendor;
    ///
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// assert_eq!(db.server().await?.vendor(), Vendor::Sqlite);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// The database's error.
    pub async fn server(&self) -> djrs_orm_ext::Result<djrs_orm_ext::DatabaseServer> {
        each_pool!(self, |pool| djrs_orm_ext::DatabaseServer::detect(pool)
            .await)
    }

    /// Saves `record` like Django's `Model.save()` ([`Record::save`](djrs_orm_ext::Record::save)).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::orm_ext::{Record, Saved};
    ///
    /// #[derive(Debug, djrs::orm_ext::Record)]
    /// struct Tag { id: Option<i64>, name: String }
    ///
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// db.query("CREATE TABLE tag (id INTEGER PRIMARY KEY, name TEXT NOT NULL)").execute().await?;
    /// let mut tag = Tag { id: None, name: "ORM".into() };
    /// assert_eq!(db.save(&mut tag).await?, Saved::Inserted);
    /// assert_eq!(tag.id, Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`Record::save`](djrs_orm_ext::Record::save).
    pub fn save<'a, R: SavesTo>(
        &'a self,
        record: &'a mut R,
    ) -> impl Future<Output = djrs_orm_ext::Result<djrs_orm_ext::Saved>> + Send + 'a {
        self.save_with(record, djrs_orm_ext::Save::new())
    }

    /// Saves `record` with options ([`Record::save_with`](djrs_orm_ext::Record::save_with)).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::orm_ext::{Error, Save};
    ///
    /// #[derive(Debug, djrs::orm_ext::Record)]
    /// struct Tag { id: Option<i64>, name: String }
    ///
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// db.query("CREATE TABLE tag (id INTEGER PRIMARY KEY, name TEXT NOT NULL)").execute().await?;
    /// let mut gone = Tag { id: Some(9), name: "gone".into() };
    /// let err = db.save_with(&mut gone, Save::new().force_update()).await.unwrap_err();
    /// assert!(matches!(err, Error::NotUpdated(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`Record::save_with`](djrs_orm_ext::Record::save_with).
    pub fn save_with<'a, R: SavesTo>(
        &'a self,
        record: &'a mut R,
        options: djrs_orm_ext::Save,
    ) -> impl Future<Output = djrs_orm_ext::Result<djrs_orm_ext::Saved>> + Send + 'a {
        // Boxed: the save futures of the databases are one type, and a handler's future
        // stays provably `Send` (an `async fn` here trips rust-lang/rust#100013).
        let future: std::pin::Pin<Box<dyn Future<Output = _> + Send + 'a>> =
            each_pool!(self, |pool| Box::pin(record.save_with(pool, options)));
        future
    }
}

#[cfg(feature = "orm-ext")]
pub use records::SavesTo;

/// The [`ReturnedRow`](djrs_orm_ext::ReturnedRow) bound of every enabled database, as one
/// trait ([`SavesTo`]).
#[cfg(feature = "orm-ext")]
pub mod records {
    /// A [`Record`](djrs_orm_ext::Record) that reads `RETURNING` rows of every enabled
    /// database: every `#[derive(Record)]` type.
    pub trait SavesTo:
        djrs_orm_ext::Record + SqliteReturns + PgReturns + MySqlReturns + Sized
    {
    }

    impl<R: djrs_orm_ext::Record + SqliteReturns + PgReturns + MySqlReturns> SavesTo for R {}

    /// `ReturnedRow` for SQLite rows, when the `sqlite` feature is on.
    #[cfg(feature = "sqlite")]
    pub trait SqliteReturns: djrs_orm_ext::ReturnedRow<sqlx::sqlite::SqliteRow> {}
    #[cfg(feature = "sqlite")]
    impl<T: djrs_orm_ext::ReturnedRow<sqlx::sqlite::SqliteRow>> SqliteReturns for T {}
    /// `ReturnedRow` for SQLite rows, when the `sqlite` feature is on.
    #[cfg(not(feature = "sqlite"))]
    pub trait SqliteReturns {}
    #[cfg(not(feature = "sqlite"))]
    impl<T> SqliteReturns for T {}

    /// `ReturnedRow` for PostgreSQL rows, when the `postgres` feature is on.
    #[cfg(feature = "postgres")]
    pub trait PgReturns: djrs_orm_ext::ReturnedRow<sqlx::postgres::PgRow> {}
    #[cfg(feature = "postgres")]
    impl<T: djrs_orm_ext::ReturnedRow<sqlx::postgres::PgRow>> PgReturns for T {}
    /// `ReturnedRow` for PostgreSQL rows, when the `postgres` feature is on.
    #[cfg(not(feature = "postgres"))]
    pub trait PgReturns {}
    #[cfg(not(feature = "postgres"))]
    impl<T> PgReturns for T {}

    /// `ReturnedRow` for MySQL rows, when the `mysql` feature is on.
    #[cfg(feature = "mysql")]
    pub trait MySqlReturns: djrs_orm_ext::ReturnedRow<sqlx::mysql::MySqlRow> {}
    #[cfg(feature = "mysql")]
    impl<T: djrs_orm_ext::ReturnedRow<sqlx::mysql::MySqlRow>> MySqlReturns for T {}
    /// `ReturnedRow` for MySQL rows, when the `mysql` feature is on.
    #[cfg(not(feature = "mysql"))]
    pub trait MySqlReturns {}
    #[cfg(not(feature = "mysql"))]
    impl<T> MySqlReturns for T {}
}

/// `djrs-paginate` on a [`Db`]: offset pages ([`DbSource`]) and keyset pages ([`DbKeyset`]).
#[cfg(feature = "paginate")]
impl Db {
    /// The rows of `query` as an object list for [`AsyncPaginator`](djrs_paginate::AsyncPaginator)
    /// ([`SelectSource`](djrs_paginate::SelectSource) on this database).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::paginate::AsyncPaginator;
    /// use djrs::sea_query::{Order, Query};
    ///
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// db.query("CREATE TABLE t (n INTEGER)").execute().await?;
    /// db.query("INSERT INTO t VALUES (1), (2), (3)").execute().await?;
    /// let query = Query::select().column("n").from("t").order_by("n", Order::Asc).to_owned();
    /// let paginator = AsyncPaginator::new(db.select_source::<(i64,)>(query), 2);
    /// let page = paginator.apage(2).await?;
    /// assert_eq!(page.object_list(), &[(3,)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    #[must_use]
    pub fn select_source<T>(&self, query: sea_query::SelectStatement) -> DbSource<T> {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => {
                DbSource::Sqlite(djrs_paginate::SelectSource::new(pool.clone(), query))
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                DbSource::Postgres(djrs_paginate::SelectSource::new(pool.clone(), query))
            }
            #[cfg(feature = "mysql")]
            Db::MySql(pool) => {
                DbSource::MySql(djrs_paginate::SelectSource::new(pool.clone(), query))
            }
        }
    }

    /// An offset paginator over `query`, `per_page` rows a page.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::sea_query::{Order, Query};
    ///
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// db.query("CREATE TABLE t (n INTEGER)").execute().await?;
    /// db.query("INSERT INTO t VALUES (1), (2), (3)").execute().await?;
    /// let query = Query::select().column("n").from("t").order_by("n", Order::Asc).to_owned();
    /// let paginator = db.paginator::<(i64,)>(query, 2);
    /// assert_eq!(paginator.anum_pages().await?, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn paginator<T>(
        &self,
        query: sea_query::SelectStatement,
        per_page: u64,
    ) -> djrs_paginate::AsyncPaginator<DbSource<T>>
    where
        T: FromDbRow,
    {
        djrs_paginate::AsyncPaginator::new(self.select_source(query), per_page)
    }

    /// A keyset paginator over `query`, `per_page` rows a page
    /// ([`KeysetPaginator`](djrs_paginate::KeysetPaginator) on this database).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::paginate::{KeyValue, KeysetRow};
    /// use djrs::sea_query::{Order, Query};
    ///
    /// #[derive(sqlx::FromRow)]
    /// struct Row { n: i64 }
    /// impl KeysetRow for Row {
    ///     fn key_values(&self) -> Vec<KeyValue> { vec![self.n.into()] }
    /// }
    ///
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// db.query("CREATE TABLE t (n INTEGER)").execute().await?;
    /// db.query("INSERT INTO t VALUES (1), (2), (3)").execute().await?;
    /// let keyset = db.keyset::<Row>(Query::select().column("n").from("t").to_owned(), 2).key("n", Order::Desc);
    /// let first = keyset.page(None).await?;
    /// let second = keyset.page(first.next_cursor()).await?;
    /// assert_eq!(second.object_list().iter().map(|r| r.n).collect::<Vec<_>>(), [1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn keyset<T>(&self, query: sea_query::SelectStatement, per_page: u64) -> DbKeyset<T>
    where
        T: FromDbRow + djrs_paginate::KeysetRow,
    {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => DbKeyset::Sqlite(djrs_paginate::KeysetPaginator::new(
                pool.clone(),
                query,
                per_page,
            )),
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => DbKeyset::Postgres(djrs_paginate::KeysetPaginator::new(
                pool.clone(),
                query,
                per_page,
            )),
            #[cfg(feature = "mysql")]
            Db::MySql(pool) => DbKeyset::MySql(djrs_paginate::KeysetPaginator::new(
                pool.clone(),
                query,
                per_page,
            )),
        }
    }
}

/// Runs `$body` with `$inner` bound to the database-specific value a [`DbSource`] or
/// [`DbKeyset`] wraps, rewrapping nothing.
#[cfg(feature = "paginate")]
macro_rules! each_inner {
    ($ty:ident, $value:expr, |$inner:ident| $body:expr) => {
        match $value {
            #[cfg(feature = "sqlite")]
            $ty::Sqlite($inner) => $body,
            #[cfg(feature = "postgres")]
            $ty::Postgres($inner) => $body,
            #[cfg(feature = "mysql")]
            $ty::MySql($inner) => $body,
        }
    };
}

/// Runs `$body` on the paginator a [`DbKeyset`] wraps and wraps the result again.
#[cfg(feature = "paginate")]
macro_rules! map_keyset {
    ($value:expr, |$inner:ident| $body:expr) => {
        match $value {
            #[cfg(feature = "sqlite")]
            DbKeyset::Sqlite($inner) => DbKeyset::Sqlite($body),
            #[cfg(feature = "postgres")]
            DbKeyset::Postgres($inner) => DbKeyset::Postgres($body),
            #[cfg(feature = "mysql")]
            DbKeyset::MySql($inner) => DbKeyset::MySql($body),
        }
    };
}

/// A `SELECT`'s rows on a [`Db`], for [`AsyncPaginator`](djrs_paginate::AsyncPaginator): made
/// by [`Db::select_source`].
#[cfg(feature = "paginate")]
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DbSource<T> {
    /// On SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(djrs_paginate::SelectSource<sqlx::Sqlite, T>),
    /// On PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(djrs_paginate::SelectSource<sqlx::Postgres, T>),
    /// On MySQL/MariaDB.
    #[cfg(feature = "mysql")]
    MySql(djrs_paginate::SelectSource<sqlx::MySql, T>),
}

#[cfg(feature = "paginate")]
impl<T: FromDbRow> djrs_paginate::AsyncObjectList for DbSource<T> {
    type Item = T;

    async fn count(&self) -> djrs_paginate::Result<u64> {
        each_inner!(DbSource, self, |source| source.count().await)
    }

    async fn fetch(&self, offset: u64, limit: u64) -> djrs_paginate::Result<Vec<T>> {
        each_inner!(DbSource, self, |source| source.fetch(offset, limit).await)
    }

    fn is_ordered(&self) -> Option<bool> {
        each_inner!(DbSource, self, |source| source.is_ordered())
    }

    fn describe(&self) -> String {
        each_inner!(DbSource, self, |source| source.describe())
    }
}

/// A keyset paginator on a [`Db`]: made by [`Db::keyset`], with the builder methods and
/// [`page`](DbKeyset::page) of [`KeysetPaginator`](djrs_paginate::KeysetPaginator).
#[cfg(feature = "paginate")]
#[non_exhaustive]
#[must_use]
pub enum DbKeyset<T> {
    /// On SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(djrs_paginate::KeysetPaginator<sqlx::Sqlite, T>),
    /// On PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(djrs_paginate::KeysetPaginator<sqlx::Postgres, T>),
    /// On MySQL/MariaDB.
    #[cfg(feature = "mysql")]
    MySql(djrs_paginate::KeysetPaginator<sqlx::MySql, T>),
}

#[cfg(feature = "paginate")]
impl<T> fmt::Debug for DbKeyset<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        each_inner!(DbKeyset, self, |paginator| paginator.fmt(f))
    }
}

#[cfg(feature = "paginate")]
impl<T: FromDbRow + djrs_paginate::KeysetRow> DbKeyset<T> {
    /// Adds a key column ([`KeysetPaginator::key`](djrs_paginate::KeysetPaginator::key)).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::sea_query::{Order, Query};
    ///
    /// # #[derive(sqlx::FromRow)] struct N { n: i64 }
    /// # impl djrs::paginate::KeysetRow for N {
    /// #     fn key_values(&self) -> Vec<djrs::paginate::KeyValue> { vec![self.n.into()] }
    /// # }
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// let keyset = db.keyset::<N>(Query::select().column("n").from("t").to_owned(), 10);
    /// // Without a key, the paginator says so.
    /// assert!(matches!(keyset.page(None).await, Err(djrs::paginate::Error::Keyset(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn key(self, column: impl sea_query::IntoColumnRef, order: sea_query::Order) -> Self {
        let column = column.into_column_ref();
        map_keyset!(self, |paginator| paginator.key(column, order))
    }

    /// Signs cursors with `key` ([`KeysetPaginator::cursor_key`](djrs_paginate::KeysetPaginator::cursor_key)).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::paginate::CursorKey;
    /// use djrs::sea_query::{Order, Query};
    ///
    /// # #[derive(sqlx::FromRow)] struct N { n: i64 }
    /// # impl djrs::paginate::KeysetRow for N {
    /// #     fn key_values(&self) -> Vec<djrs::paginate::KeyValue> { vec![self.n.into()] }
    /// # }
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// let key = CursorKey::try_new(vec![7; 32])?;
    /// let keyset = db.keyset::<N>(Query::select().column("n").from("t").to_owned(), 10)
    ///     .key("n", Order::Asc)
    ///     .cursor_key(key);
    /// # let _ = keyset;
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn cursor_key(self, key: djrs_paginate::CursorKey) -> Self {
        map_keyset!(self, |paginator| paginator.cursor_key(key))
    }

    /// Names the list its cursors belong to ([`KeysetPaginator::name`](djrs_paginate::KeysetPaginator::name)).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::sea_query::Query;
    ///
    /// # #[derive(sqlx::FromRow)] struct N { n: i64 }
    /// # impl djrs::paginate::KeysetRow for N {
    /// #     fn key_values(&self) -> Vec<djrs::paginate::KeyValue> { vec![self.n.into()] }
    /// # }
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// let keyset = db.keyset::<N>(Query::select().column("n").from("t").to_owned(), 10).name("articles");
    /// assert!(format!("{keyset:?}").contains("articles"));
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn name(self, name: impl Into<String>) -> Self {
        let name = name.into();
        map_keyset!(self, |paginator| paginator.name(name))
    }

    /// Refuses cursors older than `max_age` ([`KeysetPaginator::max_age`](djrs_paginate::KeysetPaginator::max_age)).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::sea_query::Query;
    ///
    /// # #[derive(sqlx::FromRow)] struct N { n: i64 }
    /// # impl djrs::paginate::KeysetRow for N {
    /// #     fn key_values(&self) -> Vec<djrs::paginate::KeyValue> { vec![self.n.into()] }
    /// # }
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// let keyset = db.keyset::<N>(Query::select().column("n").from("t").to_owned(), 10)
    ///     .max_age(std::time::Duration::from_secs(3600));
    /// # let _ = keyset;
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn max_age(self, max_age: std::time::Duration) -> Self {
        map_keyset!(self, |paginator| paginator.max_age(max_age))
    }

    /// The page after `cursor`, or the first page for `None`
    /// ([`KeysetPaginator::page`](djrs_paginate::KeysetPaginator::page)).
    ///
    /// # Errors
    /// As [`KeysetPaginator::page`](djrs_paginate::KeysetPaginator::page): a tampered cursor is
    /// [`Error::InvalidCursor`](djrs_paginate::Error::InvalidCursor).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::paginate::Error;
    /// use djrs::sea_query::{Order, Query};
    ///
    /// # #[derive(sqlx::FromRow)] struct N { n: i64 }
    /// # impl djrs::paginate::KeysetRow for N {
    /// #     fn key_values(&self) -> Vec<djrs::paginate::KeyValue> { vec![self.n.into()] }
    /// # }
    /// let db = djrs::db::Db::connect("sqlite::memory:").await?;
    /// let keyset = db.keyset::<N>(Query::select().column("n").from("t").to_owned(), 10).key("n", Order::Asc);
    /// assert!(matches!(keyset.page(Some("forged")).await, Err(Error::InvalidCursor(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn page(
        &self,
        cursor: Option<&str>,
    ) -> djrs_paginate::Result<djrs_paginate::KeysetPage<T>> {
        each_inner!(DbKeyset, self, |paginator| paginator.page(cursor).await)
    }
}

/// `djrs-tasks` on a [`Db`]: the task queue in the same database.
#[cfg(feature = "tasks")]
impl Db {
    /// A task backend on this database's pool: the queue lives beside the application's
    /// tables (on SQLite, the same file), and several workers on several machines share it on
    /// PostgreSQL and MySQL.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// use djrs::tasks::{TaskResultStatus, Tasks};
    ///
    /// #[djrs::tasks::task]
    /// async fn add(a: i64, b: i64) -> Result<i64, std::convert::Infallible> { Ok(a + b) }
    ///
    /// let dir = tempfile::tempdir()?;
    /// let db = djrs::db::Db::connect(&format!("sqlite://{}", dir.path().join("app.sqlite3").display())).await?;
    /// let tasks = Tasks::builder().backend_arc("default", db.tasks_backend()).build()?;
    /// let queued = add.enqueue(&tasks, 1, 2).await?;
    /// assert_eq!(queued.status, TaskResultStatus::Ready);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    #[must_use]
    pub fn tasks_backend(&self) -> std::sync::Arc<dyn djrs_tasks::Backend> {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => {
                std::sync::Arc::new(djrs_tasks::SqliteBackend::from_pool(pool.clone()))
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                std::sync::Arc::new(djrs_tasks::PostgresBackend::from_pool(pool.clone()))
            }
            #[cfg(feature = "mysql")]
            Db::MySql(pool) => {
                std::sync::Arc::new(djrs_tasks::MysqlBackend::from_pool(pool.clone()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password_and_nothing_else() {
        for (url, shown) in [
            (
                "postgres://ann:s3cret@db:5432/app?sslmode=require",
                "postgres://ann:***@db:5432/app?sslmode=require",
            ),
            ("mysql://root@127.0.0.1/test", "mysql://root@127.0.0.1/test"),
            (
                "mysql://root:@127.0.0.1/test",
                "mysql://root:@127.0.0.1/test",
            ),
            ("sqlite://data/app.sqlite3", "sqlite://data/app.sqlite3"),
            ("sqlite::memory:", "sqlite::memory:"),
            ("postgres://db/app?user=a@b", "postgres://db/app?user=a@b"),
            ("postgres://a:b:c@db/app", "postgres://a:***@db/app"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn connect_errors_lose_the_password_wherever_the_driver_quoted_it() {
        let url = "postgres://ann:s3cret@db/app";
        let err = Error::connect(
            url,
            &sqlx::Error::Configuration("bad URL postgres://ann:s3cret@db/app".into()),
        );
        assert_eq!(
            err.to_string(),
            "cannot connect to postgres://ann:***@db/app: error with configuration: bad URL postgres://ann:***@db/app"
        );
        let plain = Error::connect(
            "sqlite://x",
            &sqlx::Error::Configuration("no :xyzzy here".into()),
        );
        assert!(plain.to_string().ends_with("no :xyzzy here"), "{plain}");
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn an_in_memory_database_is_one_connection_kept_open() {
        for url in ["sqlite::memory:", "sqlite://file?mode=memory"] {
            let Db::Sqlite(pool) = Db::connect(url).await.unwrap() else {
                unreachable!("a SQLite URL")
            };
            assert_eq!(pool.options().get_max_connections(), 1, "{url}");
            assert_eq!(pool.options().get_idle_timeout(), None, "{url}");
        }
        let dir = tempfile::tempdir().unwrap();
        let file = format!("sqlite://{}", dir.path().join("f.sqlite3").display());
        let Db::Sqlite(pool) = Db::connect(&file).await.unwrap() else {
            unreachable!("a SQLite URL")
        };
        assert!(pool.options().get_max_connections() > 1);
    }
}
