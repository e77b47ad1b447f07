//! [`OrmDatabase`]: the sqlx databases records save to, and [`DatabaseServer::detect`].

use std::future::Future;

use sea_query::{QueryStatementBuilder, Values};

use crate::error::Result;
use crate::server::DatabaseServer;

mod sealed {
    pub trait Sealed {}
}

/// A sqlx database this crate saves records to and detects: PostgreSQL (feature `postgres`),
/// MySQL/MariaDB (`mysql`) and SQLite (`sqlite`). Sealed; its methods are internal.
pub trait OrmDatabase: sqlx::Database + sealed::Sealed {
    #[doc(hidden)]
    fn detect_backend(
        conn: &mut Self::Connection,
    ) -> impl Future<Output = Result<DatabaseServer>> + Send;

    #[doc(hidden)]
    fn build<S: QueryStatementBuilder>(stmt: &S) -> (String, Values);

    /// Runs a statement; returns the rows affected and, on MySQL, the last insert id.
    #[doc(hidden)]
    fn run(
        conn: &mut Self::Connection,
        sql: String,
        values: Values,
    ) -> impl Future<Output = Result<(u64, Option<i64>)>> + Send;

    #[doc(hidden)]
    fn fetch_optional(
        conn: &mut Self::Connection,
        sql: String,
        values: Values,
    ) -> impl Future<Output = Result<Option<Self::Row>>> + Send;
}

impl DatabaseServer {
    /// Asks the connection which database and version it is: free on PostgreSQL (the server
    /// reports it at connect), `SELECT VERSION()` on MySQL/MariaDB (which tells them apart),
    /// `sqlite_version()` once per process on SQLite.
    ///
    /// ```no_run
    /// use djrs_orm_ext::{DatabaseServer, Vendor};
    ///
    /// # #[cfg(feature = "mysql")]
    /// # async fn demo(pool: sqlx::MySqlPool) -> djrs_orm_ext::Result<()> {
    /// let backend = DatabaseServer::detect(&pool).await?;
    /// if backend.vendor() == Vendor::MariaDb {
    ///     println!("MariaDB {}", backend.version());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn detect<'c, A>(conn: A) -> Result<DatabaseServer>
    where
        A: sqlx::Acquire<'c> + Send,
        A::Database: OrmDatabase,
    {
        let mut conn = conn.acquire().await?;
        <A::Database as OrmDatabase>::detect_backend(&mut conn).await
    }
}

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
macro_rules! statements {
    () => {
        async fn run(
            conn: &mut Self::Connection,
            sql: String,
            values: Values,
        ) -> Result<(u64, Option<i64>)> {
            let done =
                sqlx::query_with(sqlx::AssertSqlSafe(sql), sea_query_sqlx::SqlxValues(values))
                    .execute(&mut *conn)
                    .await?;
            Ok((done.rows_affected(), last_insert_id(&done)))
        }

        async fn fetch_optional(
            conn: &mut Self::Connection,
            sql: String,
            values: Values,
        ) -> Result<Option<Self::Row>> {
            Ok(
                sqlx::query_with(sqlx::AssertSqlSafe(sql), sea_query_sqlx::SqlxValues(values))
                    .fetch_optional(&mut *conn)
                    .await?,
            )
        }
    };
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;

    impl sealed::Sealed for sqlx::Postgres {}

    fn last_insert_id(_: &sqlx::postgres::PgQueryResult) -> Option<i64> {
        None
    }

    impl OrmDatabase for sqlx::Postgres {
        async fn detect_backend(conn: &mut sqlx::PgConnection) -> Result<DatabaseServer> {
            let num = match conn.server_version_num() {
                Some(num) => num,
                None => {
                    let text: String = sqlx::query_scalar("SHOW server_version_num")
                        .fetch_one(&mut *conn)
                        .await?;
                    text.trim().parse().unwrap_or(0)
                }
            };
            // libpq format since PostgreSQL 10: major * 10000 + minor.
            Ok(DatabaseServer::postgres(num / 10000, num % 10000))
        }

        fn build<S: QueryStatementBuilder>(stmt: &S) -> (String, Values) {
            stmt.build_any(&sea_query::PostgresQueryBuilder)
        }

        statements!();
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use crate::server::{Vendor, Version};

    impl sealed::Sealed for sqlx::MySql {}

    fn last_insert_id(done: &sqlx::mysql::MySqlQueryResult) -> Option<i64> {
        i64::try_from(done.last_insert_id())
            .ok()
            .filter(|id| *id > 0)
    }

    impl OrmDatabase for sqlx::MySql {
        async fn detect_backend(conn: &mut sqlx::MySqlConnection) -> Result<DatabaseServer> {
            let text: String = sqlx::query_scalar("SELECT VERSION()")
                .fetch_one(&mut *conn)
                .await?;
            Ok(parse_mysql_version(&text))
        }

        fn build<S: QueryStatementBuilder>(stmt: &S) -> (String, Values) {
            stmt.build_any(&sea_query::MysqlQueryBuilder)
        }

        statements!();
    }

    /// `VERSION()` of MySQL (`8.0.40`) or MariaDB (`10.11.19-MariaDB-0+deb12u1`).
    pub(super) fn parse_mysql_version(text: &str) -> DatabaseServer {
        let vendor = if text.to_ascii_lowercase().contains("mariadb") {
            Vendor::MariaDb
        } else {
            Vendor::MySql
        };
        DatabaseServer::new(
            vendor,
            Version::parse(text).unwrap_or(Version::new(0, 0, 0)),
        )
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn tells_mariadb_from_mysql() {
            assert_eq!(
                parse_mysql_version("10.11.19-MariaDB-0+deb12u1"),
                DatabaseServer::mariadb(10, 11, 19)
            );
            assert_eq!(
                parse_mysql_version("8.0.40"),
                DatabaseServer::mysql(8, 0, 40)
            );
        }
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::sync::OnceLock;

    use super::*;
    use crate::server::Version;

    impl sealed::Sealed for sqlx::Sqlite {}

    fn last_insert_id(done: &sqlx::sqlite::SqliteQueryResult) -> Option<i64> {
        Some(done.last_insert_rowid())
    }

    /// The SQLite library is linked once per process, so its version is read once.
    static VERSION: OnceLock<Version> = OnceLock::new();

    impl OrmDatabase for sqlx::Sqlite {
        async fn detect_backend(conn: &mut sqlx::SqliteConnection) -> Result<DatabaseServer> {
            if let Some(version) = VERSION.get() {
                return Ok(DatabaseServer::new(crate::Vendor::Sqlite, *version));
            }
            let text: String = sqlx::query_scalar("SELECT sqlite_version()")
                .fetch_one(&mut *conn)
                .await?;
            let version =
                *VERSION.get_or_init(|| Version::parse(&text).unwrap_or(Version::new(3, 0, 0)));
            Ok(DatabaseServer::new(crate::Vendor::Sqlite, version))
        }

        fn build<S: QueryStatementBuilder>(stmt: &S) -> (String, Values) {
            stmt.build_any(&sea_query::SqliteQueryBuilder)
        }

        statements!();
    }
}
