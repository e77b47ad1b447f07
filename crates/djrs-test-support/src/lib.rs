//! The workspace's test databases, one per test, so tests run in parallel and leave nothing
//! behind: a PostgreSQL schema ([`PgSchema`]) or database ([`PgDatabase`]), a MariaDB/MySQL
//! database ([`MysqlDatabase`]) and a SQLite file ([`SqliteFile`]).
//!
//! Each is created on the real server named by `DJRS_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) or `DJRS_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306/test`), and dropped when the value is dropped: at the end of
//! the test, and also when the test panics, since `Drop` runs while a panic unwinds. The drop
//! runs on a thread of its own with its own runtime, so it works from inside a Tokio test and
//! after the test's runtime has gone; it waits at most [`DROP_TIMEOUT`] for locks, so a test
//! that left a transaction open cannot hang the run.
//!
//! ```
//! # fn main() -> Result<(), djrs_test_support::Error> {
//! use djrs_test_support::SqliteFile;
//!
//! let file = SqliteFile::new()?;
//! let path = file.path().to_owned();
//! assert!(file.url().starts_with("sqlite://"));
//! drop(file);
//! assert!(!path.parent().unwrap().exists());
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{AssertSqlSafe, Connection};

/// The longest a drop waits for the locks it needs.
pub const DROP_TIMEOUT: Duration = Duration::from_secs(10);

/// What setting up a test database can fail with.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The PostgreSQL server of the tests: `DJRS_TEST_POSTGRES_URL`, or the machine's default.
///
/// ```
/// assert!(djrs_test_support::postgres_url().starts_with("postgres://"));
/// ```
#[must_use]
pub fn postgres_url() -> String {
    std::env::var("DJRS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The MariaDB/MySQL server of the tests: `DJRS_TEST_MYSQL_URL`, or the machine's default.
///
/// ```
/// assert!(djrs_test_support::mysql_url().starts_with("mysql://"));
/// ```
#[must_use]
pub fn mysql_url() -> String {
    std::env::var("DJRS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// A name no other test of any process uses: `prefix`, the process id, a counter and the
/// clock's nanoseconds, in lower case (a valid unquoted SQL identifier when `prefix` is one).
///
/// ```
/// let (a, b) = (djrs_test_support::unique_name("t"), djrs_test_support::unique_name("t"));
/// assert_ne!(a, b);
/// assert!(a.starts_with(&format!("t_{}_", std::process::id())));
/// ```
#[must_use]
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}_{}_{n}_{nanos}", std::process::id()).to_lowercase()
}

/// `url` with its database (the path) replaced by `database`.
fn with_database(url: &str, database: &str) -> Result<String, Error> {
    let (server, rest) = url
        .rsplit_once('/')
        .filter(|(server, _)| server.contains("://"))
        .ok_or_else(|| format!("`{url}` names no database (it must end in /DATABASE)"))?;
    let query = rest.split_once('?').map(|(_, query)| query);
    Ok(match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    })
}

/// Runs `statements` on a connection of its own to `url`.
async fn admin<C>(url: &str, statements: &[String]) -> Result<(), sqlx::Error>
where
    C: Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    let mut conn = C::connect(url).await?;
    for sql in statements {
        sqlx::raw_sql(AssertSqlSafe(sql.clone()))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await
}

/// Runs `statements` as [`admin`] does, on a thread of its own with its own runtime, and waits
/// for it: usable in `Drop`, inside a Tokio test or after its runtime has gone. A failure is
/// reported on stderr (a drop cannot fail the test that is already over or failing).
fn admin_blocking<C>(what: &str, url: &str, statements: Vec<String>)
where
    C: Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    let url = url.to_owned();
    let outcome = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| err.to_string())?;
        runtime
            .block_on(admin::<C>(&url, &statements))
            .map_err(|err| err.to_string())
    })
    .join();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(err)) => eprintln!("could not drop {what}: {err}"),
        Err(_) => eprintln!("could not drop {what}: the dropping thread panicked"),
    }
}

/// A database or schema made for one test on one server: what [`PgSchema`], [`PgDatabase`]
/// and [`MysqlDatabase`] dereference to.
#[derive(Debug)]
pub struct Created {
    admin_url: String,
    name: String,
    url: String,
}

impl Created {
    /// Makes a name after `prefix` ([`unique_name`]) and runs the statements `create` makes of
    /// it on the server at `admin_url` over a `C` connection; `own_database` says whether the
    /// result has a URL of its own (a database) or shares the server's (a schema).
    async fn create<C>(
        admin_url: String,
        prefix: &str,
        create: impl FnOnce(&str) -> Vec<String>,
        own_database: bool,
    ) -> Result<Self, Error>
    where
        C: Connection,
        for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    {
        let name = unique_name(prefix);
        let url = if own_database {
            with_database(&admin_url, &name)?
        } else {
            admin_url.clone()
        };
        admin::<C>(&admin_url, &create(&name)).await?;
        Ok(Self {
            admin_url,
            name,
            url,
        })
    }

    /// The database's or schema's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL to connect with: the database's own, or the server's for a schema (see
    /// [`PgSchema::url`] for one that selects the schema).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// A PostgreSQL schema of its own on the tests' database, dropped with everything in it.
#[derive(Debug)]
pub struct PgSchema(Created);

impl std::ops::Deref for PgSchema {
    type Target = Created;

    fn deref(&self) -> &Created {
        &self.0
    }
}

impl PgSchema {
    /// Creates a schema named after `prefix` ([`unique_name`]).
    ///
    /// # Errors
    /// When the server cannot be reached or refuses.
    pub async fn create(prefix: &str) -> Result<Self, Error> {
        let create = |name: &str| vec![format!("CREATE SCHEMA {name}")];
        Ok(Self(
            Created::create::<sqlx::PgConnection>(postgres_url(), prefix, create, false).await?,
        ))
    }

    /// Options for connections whose `search_path` is this schema.
    ///
    /// # Errors
    /// When the server URL is not a PostgreSQL URL.
    pub fn connect_options(&self) -> Result<PgConnectOptions, Error> {
        Ok(PgConnectOptions::from_str(&self.0.admin_url)?
            .options([("search_path", self.0.name.as_str())]))
    }

    /// A pool of at most `max_connections` in this schema, connecting on first use.
    ///
    /// # Errors
    /// As [`connect_options`](Self::connect_options).
    pub fn pool(&self, max_connections: u32) -> Result<PgPool, Error> {
        Ok(PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_lazy_with(self.connect_options()?))
    }

    /// A URL for connections in this schema (PostgreSQL's `options` parameter), for code that
    /// takes a URL, such as a child process.
    #[must_use]
    pub fn url(&self) -> String {
        let separator = if self.0.admin_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.0.admin_url, self.0.name
        )
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let name = &self.0.name;
        admin_blocking::<sqlx::PgConnection>(
            &format!("schema {name}"),
            &self.0.admin_url,
            vec![
                format!("SET lock_timeout = {}", DROP_TIMEOUT.as_millis()),
                format!("DROP SCHEMA IF EXISTS {name} CASCADE"),
            ],
        );
    }
}

/// A PostgreSQL database of its own, for tests that hand a URL to other processes; dropped
/// with `WITH (FORCE)`, which ends the connections still open to it.
#[derive(Debug)]
pub struct PgDatabase(Created);

impl std::ops::Deref for PgDatabase {
    type Target = Created;

    fn deref(&self) -> &Created {
        &self.0
    }
}

impl PgDatabase {
    /// Creates a database named after `prefix` ([`unique_name`]).
    ///
    /// # Errors
    /// When the server cannot be reached or refuses, or its URL names no database.
    pub async fn create(prefix: &str) -> Result<Self, Error> {
        let create = |name: &str| vec![format!("CREATE DATABASE {name}")];
        Ok(Self(
            Created::create::<sqlx::PgConnection>(postgres_url(), prefix, create, true).await?,
        ))
    }

    /// A pool of at most `max_connections` on this database, connecting on first use.
    ///
    /// # Errors
    /// When the URL is not a PostgreSQL URL.
    pub fn pool(&self, max_connections: u32) -> Result<PgPool, Error> {
        Ok(PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_lazy_with(PgConnectOptions::from_str(&self.0.url)?))
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = &self.0.name;
        admin_blocking::<sqlx::PgConnection>(
            &format!("database {name}"),
            &self.0.admin_url,
            vec![format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")],
        );
    }
}

/// A MariaDB/MySQL database of its own (`utf8mb4`), dropped when the value is.
#[derive(Debug)]
pub struct MysqlDatabase(Created);

impl std::ops::Deref for MysqlDatabase {
    type Target = Created;

    fn deref(&self) -> &Created {
        &self.0
    }
}

impl MysqlDatabase {
    /// Creates a database named after `prefix` ([`unique_name`]).
    ///
    /// # Errors
    /// When the server cannot be reached or refuses, or its URL names no database.
    pub async fn create(prefix: &str) -> Result<Self, Error> {
        Self::create_with_collation(prefix, "utf8mb4_general_ci").await
    }

    /// Creates a database named after `prefix` whose default collation is `collation` (a
    /// `utf8mb4` one, such as `utf8mb4_bin`).
    ///
    /// # Errors
    /// As [`create`](Self::create), and when `collation` is not a collation's name.
    pub async fn create_with_collation(prefix: &str, collation: &str) -> Result<Self, Error> {
        if collation.is_empty()
            || !collation
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(format!("`{collation}` is not a collation's name").into());
        }
        let create = |name: &str| {
            vec![format!(
                "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE {collation}"
            )]
        };
        Ok(Self(
            Created::create::<sqlx::MySqlConnection>(mysql_url(), prefix, create, true).await?,
        ))
    }

    /// Options for connections to this database.
    ///
    /// # Errors
    /// When the URL is not a MySQL URL.
    pub fn connect_options(&self) -> Result<MySqlConnectOptions, Error> {
        Ok(MySqlConnectOptions::from_str(&self.0.url)?)
    }

    /// A pool of at most `max_connections` on this database, connecting on first use.
    ///
    /// # Errors
    /// As [`connect_options`](Self::connect_options).
    pub fn pool(&self, max_connections: u32) -> Result<MySqlPool, Error> {
        Ok(MySqlPoolOptions::new()
            .max_connections(max_connections)
            .connect_lazy_with(self.connect_options()?))
    }
}

impl Drop for MysqlDatabase {
    fn drop(&mut self) {
        let name = &self.0.name;
        admin_blocking::<sqlx::MySqlConnection>(
            &format!("database {name}"),
            &self.0.admin_url,
            vec![
                format!("SET SESSION lock_wait_timeout = {}", DROP_TIMEOUT.as_secs()),
                format!("DROP DATABASE IF EXISTS {name}"),
            ],
        );
    }
}

/// A SQLite file in a temporary directory of its own, removed with the directory.
#[derive(Debug)]
pub struct SqliteFile {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl SqliteFile {
    /// A path for a new database file (`test.sqlite3`, not created yet).
    ///
    /// # Errors
    /// When no temporary directory can be made.
    pub fn new() -> Result<Self, Error> {
        let dir = tempfile::Builder::new().prefix("djrs-test-").tempdir()?;
        let path = dir.path().join("test.sqlite3");
        Ok(Self { dir, path })
    }

    /// The database file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory the file lives in, for tests that keep more files beside it.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The file's `sqlite://` URL, creating the file on first connection (`?mode=rwc`).
    #[must_use]
    pub fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.path.display())
    }

    /// Options for the file: created when missing, write-ahead log, a 30-second busy
    /// timeout, as the workspace's crates recommend.
    ///
    /// ```
    /// let file = djrs_test_support::SqliteFile::new().unwrap();
    /// let options = file.connect_options();
    /// assert_eq!(options.get_filename(), file.path());
    /// ```
    #[must_use]
    pub fn connect_options(&self) -> SqliteConnectOptions {
        SqliteConnectOptions::new()
            .filename(&self.path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(30))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_keep_their_server_and_parameters() {
        for (url, expected) in [
            ("postgres://u@h:5432/test", "postgres://u@h:5432/other"),
            (
                "mysql://root@127.0.0.1:3306/test?ssl-mode=disabled",
                "mysql://root@127.0.0.1:3306/other?ssl-mode=disabled",
            ),
            ("postgres://u@h/", "postgres://u@h/other"),
        ] {
            assert_eq!(with_database(url, "other").unwrap(), expected, "{url}");
        }
        for url in ["postgres:", "no-slash", "postgres://"] {
            assert!(with_database(url, "x").is_err(), "{url}");
        }
    }

    #[tokio::test]
    async fn collations_are_names() {
        for bad in ["", "utf8mb4_bin; DROP DATABASE test", "a b"] {
            let err = MysqlDatabase::create_with_collation("x", bad)
                .await
                .unwrap_err();
            assert!(
                err.to_string().contains("is not a collation's name"),
                "{err}"
            );
        }
    }

    #[test]
    fn names_are_identifiers() {
        let name = unique_name("Djrs_T");
        assert!(name.starts_with("djrs_t_"));
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name}"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_schema_is_dropped_even_when_its_test_panics() {
        let schema = PgSchema::create("djrs_support").await.unwrap();
        let name = schema.name().to_owned();
        let pool = schema.pool(1).unwrap();
        sqlx::query("CREATE TABLE t (id INT)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let panicked = std::thread::spawn(move || {
            let _schema = schema;
            panic!("the test failed");
        })
        .join();
        assert!(panicked.is_err());
        let admin = PgPool::connect(&postgres_url()).await.unwrap();
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
        )
        .bind(&name)
        .fetch_one(&admin)
        .await
        .unwrap();
        assert_eq!(left, 0);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn databases_are_dropped_with_their_open_connections() {
        let pg = PgDatabase::create("djrs_support").await.unwrap();
        let pg_pool = pg.pool(1).unwrap();
        sqlx::query("SELECT 1").execute(&pg_pool).await.unwrap();
        let my = MysqlDatabase::create("djrs_support").await.unwrap();
        let my_pool = my.pool(1).unwrap();
        sqlx::query("CREATE TABLE t (id INT)")
            .execute(&my_pool)
            .await
            .unwrap();
        let (pg_name, my_name) = (pg.name().to_owned(), my.name().to_owned());
        drop((pg, my));
        let admin = PgPool::connect(&postgres_url()).await.unwrap();
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(&pg_name)
            .fetch_one(&admin)
            .await
            .unwrap();
        assert_eq!(left, 0);
        let admin = MySqlPool::connect(&mysql_url()).await.unwrap();
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?",
        )
        .bind(&my_name)
        .fetch_one(&admin)
        .await
        .unwrap();
        assert_eq!(left, 0);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_schema_url_connects_into_the_schema() {
        let schema = PgSchema::create("djrs_support").await.unwrap();
        let pool = PgPool::connect(&schema.url()).await.unwrap();
        let path: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(path, schema.name());
    }
}
