//! `AnyValue`, a `StringAgg` report, and MySQL's `group_concat_max_len` on the real
//! PostgreSQL, MariaDB and SQLite: the same query returns the same rows on all three.
//!
//! Each test makes its own schema (PostgreSQL), database (MariaDB) or file (SQLite).

use djrs_orm_ext::{AnyValue, DatabaseServer, Error, StringAgg, Vendor};
use djrs_test_support::{MysqlDatabase, PgSchema, SqliteFile};
use sea_query::{
    Expr, ExprTrait, MysqlQueryBuilder, Order, PostgresQueryBuilder, Query, SelectStatement,
    SqliteQueryBuilder,
};

const CREATE: &str = "CREATE TABLE book (id BIGINT PRIMARY KEY, name VARCHAR(100) NULL, \
                      author VARCHAR(100) NOT NULL, rating BIGINT NOT NULL, in_print BOOLEAN NOT NULL)";

const INSERT: &str = "INSERT INTO book (id, name, author, rating, in_print) VALUES \
    (1, 'Alpha', 'Ann', 3, TRUE), (2, 'beta', 'Bob', 5, FALSE), (3, 'Gamma', 'Ann', 4, TRUE), \
    (4, 'Delta', 'Bob', 1, TRUE), (5, 'alpha', 'Ann', 2, FALSE), (6, 'Alpha', 'Cid', 5, TRUE), \
    (7, 'Omega', 'Cid', 4, TRUE), (8, '', 'Dee', 3, TRUE), (9, NULL, 'Dee', 2, FALSE)";

/// Per author: any value of the author (functionally dependent, so the author itself), any
/// rating of 5 (or -1), and the names of the books in print, by id.
fn report(backend: &DatabaseServer) -> Result<SelectStatement, Error> {
    Ok(Query::select()
        .column("author")
        .expr_as(AnyValue::new(Expr::col("author")).to_expr(backend)?, "same")
        .expr_as(
            AnyValue::new(Expr::col("rating"))
                .filter(Expr::col("rating").gte(5))
                .default(-1)
                .to_expr(backend)?,
            "top",
        )
        .expr_as(
            StringAgg::new(Expr::col("name"))
                .delimiter(" | ")
                .filter(Expr::col("in_print").eq(true))
                .order_by(Expr::col("id"), Order::Asc)
                .default("-")
                .to_expr(backend)?,
            "names",
        )
        .from("book")
        .group_by_col("author")
        .order_by("author", Order::Asc)
        .to_owned())
}

type Row = (String, String, i64, String);

fn expected() -> Vec<Row> {
    vec![
        ("Ann".into(), "Ann".into(), -1, "Alpha | Gamma".into()),
        ("Bob".into(), "Bob".into(), 5, "Delta".into()),
        ("Cid".into(), "Cid".into(), 5, "Alpha | Omega".into()),
        ("Dee".into(), "Dee".into(), -1, "".into()),
    ]
}

/// A schema of its own with the books, dropped with the first value (also when the test fails).
async fn postgres_books() -> (PgSchema, sqlx::PgPool) {
    let schema = PgSchema::create("djrs_orm_expr")
        .await
        .expect("PostgreSQL is reachable");
    let pool = schema.pool(1).unwrap();
    sqlx::query(CREATE).execute(&pool).await.unwrap();
    sqlx::query(INSERT).execute(&pool).await.unwrap();
    (schema, pool)
}

/// A database of its own in `collation` with the books, dropped with the first value.
async fn mariadb_books(collation: &str) -> (MysqlDatabase, sqlx::MySqlPool) {
    let database = MysqlDatabase::create_with_collation("djrs_orm_expr", collation)
        .await
        .expect("MariaDB is reachable");
    let pool = database.pool(1).unwrap();
    sqlx::query(CREATE).execute(&pool).await.unwrap();
    sqlx::query(INSERT).execute(&pool).await.unwrap();
    (database, pool)
}

/// A SQLite file of its own with the books, removed with the first value.
async fn sqlite_books() -> (SqliteFile, sqlx::SqlitePool) {
    let file = SqliteFile::new().unwrap();
    let pool = sqlx::SqlitePool::connect_with(file.connect_options())
        .await
        .unwrap();
    sqlx::query(CREATE).execute(&pool).await.unwrap();
    sqlx::query(INSERT).execute(&pool).await.unwrap();
    (file, pool)
}

#[tokio::test]
async fn postgres() {
    let (_schema, pool) = postgres_books().await;

    let backend = DatabaseServer::detect(&pool).await.unwrap();
    assert_eq!(backend.vendor(), Vendor::PostgreSql);
    let (sql, values) = report(&backend).unwrap().build(PostgresQueryBuilder);
    let rows: Vec<Row> =
        sqlx::query_as_with(sqlx::AssertSqlSafe(sql), sea_query_sqlx::SqlxValues(values))
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows, expected());
    // Django refuses ANY_VALUE before PostgreSQL 16; so does native_only().
    let strict = AnyValue::new(Expr::col("author")).native_only();
    assert_eq!(
        strict.to_expr(&backend).is_ok(),
        backend.version().major >= 16
    );
}

#[tokio::test]
async fn mariadb() {
    let (database, pool) = mariadb_books("utf8mb4_general_ci").await;

    let backend = DatabaseServer::detect(&pool).await.unwrap();
    assert_eq!(backend.vendor(), Vendor::MariaDb);
    let (sql, values) = report(&backend).unwrap().build(MysqlQueryBuilder);
    let rows: Vec<Row> =
        sqlx::query_as_with(sqlx::AssertSqlSafe(sql), sea_query_sqlx::SqlxValues(values))
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows, expected());
    // MariaDB has no ANY_VALUE: native_only() gives Django's error.
    let err = AnyValue::new(Expr::col("author"))
        .native_only()
        .to_expr(&backend)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("ANY_VALUE is not supported on this database backend.")
    );

    // group_concat_max_len: MySQL's default of 1,024 bytes cuts the result (MariaDB's default
    // is 1 MiB, so set MySQL's first); raised per connection or per pool.
    let long = "x".repeat(100);
    for i in 0..30 {
        sqlx::query(
            "INSERT INTO book (id, name, author, rating, in_print) VALUES (?, ?, 'Long', 1, TRUE)",
        )
        .bind(100 + i)
        .bind(&long)
        .execute(&pool)
        .await
        .unwrap();
    }
    let all = Query::select()
        .expr_as(
            StringAgg::new(Expr::col("name"))
                .delimiter(",")
                .filter(Expr::col("author").eq("Long"))
                .to_expr(&backend)
                .unwrap(),
            "joined",
        )
        .from("book")
        .to_owned();
    let (sql, values) = all.build(MysqlQueryBuilder);
    let full_len = 30 * 100 + 29;
    let mut conn = pool.acquire().await.unwrap();
    djrs_orm_ext::mysql::set_group_concat_max_len(&mut conn, 1024)
        .await
        .unwrap();
    let cut: String = sqlx::query_scalar_with(
        sqlx::AssertSqlSafe(sql.clone()),
        sea_query_sqlx::SqlxValues(values.clone()),
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(cut.len(), 1024, "MySQL's default cuts the result");
    djrs_orm_ext::mysql::set_group_concat_max_len(&mut conn, 1 << 20)
        .await
        .unwrap();
    let whole: String = sqlx::query_scalar_with(
        sqlx::AssertSqlSafe(sql.clone()),
        sea_query_sqlx::SqlxValues(values.clone()),
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(whole.len(), full_len);
    drop(conn);

    let raised = djrs_orm_ext::mysql::with_group_concat_max_len(
        sqlx::mysql::MySqlPoolOptions::new().max_connections(1),
        djrs_orm_ext::mysql::MAX_GROUP_CONCAT_LEN,
    )
    .connect_with(database.connect_options().unwrap())
    .await
    .unwrap();
    let whole: String =
        sqlx::query_scalar_with(sqlx::AssertSqlSafe(sql), sea_query_sqlx::SqlxValues(values))
            .fetch_one(&raised)
            .await
            .unwrap();
    assert_eq!(whole.len(), full_len);
    raised.close().await;
}

#[tokio::test]
async fn sqlite() {
    let (_file, pool) = sqlite_books().await;

    let backend = DatabaseServer::detect(&pool).await.unwrap();
    assert_eq!(backend.vendor(), Vendor::Sqlite);
    let (sql, values) = report(&backend).unwrap().build(SqliteQueryBuilder);
    let rows: Vec<Row> =
        sqlx::query_as_with(sqlx::AssertSqlSafe(sql), sea_query_sqlx::SqlxValues(values))
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows, expected());

    // The same report on an old SQLite: ordered aggregates are refused, as in Django.
    assert!(matches!(
        report(&DatabaseServer::sqlite(3, 40, 1)),
        Err(Error::NotSupported(_))
    ));
}

/// Delimiters an application might take from its users: quotes, backslashes, control
/// characters, placeholders and SQL.
fn hostile_delimiters() -> Vec<String> {
    let pieces = [
        "'",
        "''",
        "\\",
        "\\'",
        "\"",
        "`",
        "%s",
        "?",
        "$1",
        "\0",
        "\n",
        "\r\n",
        "\u{1a}",
        "\t",
        "; DROP TABLE book; --",
        "X'41'",
        "Ω",
        "🦀",
        " ",
        "",
    ];
    let mut out: Vec<String> = pieces.iter().map(|p| (*p).to_owned()).collect();
    for a in pieces {
        for b in ["'", "\\", "x"] {
            out.push(format!("{a}{b}{a}"));
        }
    }
    out
}

/// Joins the names of Ann's books (ids 1, 3, 5) with `delimiter` and checks the database
/// returns exactly that.
macro_rules! check_delimiters {
    ($conn:expr, $backend:expr, $builder:expr) => {{
        // PostgreSQL text cannot hold NUL at all.
        let delimiters = hostile_delimiters()
            .into_iter()
            .filter(|d| $backend.vendor() != Vendor::PostgreSql || !d.contains('\0'));
        for delimiter in delimiters {
            let query = Query::select()
                .expr_as(
                    StringAgg::new(Expr::col("name"))
                        .delimiter(delimiter.as_str())
                        .filter(Expr::col("author").eq("Ann"))
                        .order_by(Expr::col("id"), Order::Asc)
                        .to_expr(&$backend)
                        .unwrap(),
                    "joined",
                )
                .from("book")
                .to_owned();
            let (sql, values) = query.build($builder);
            let joined: String = sqlx::query_scalar_with(
                sqlx::AssertSqlSafe(sql.clone()),
                sea_query_sqlx::SqlxValues(values),
            )
            .fetch_one(&mut *$conn)
            .await
            .unwrap_or_else(|err| panic!("{delimiter:?}: {sql}: {err}"));
            assert_eq!(
                joined,
                ["Alpha", "Gamma", "alpha"].join(&delimiter),
                "{delimiter:?}: {sql}"
            );
        }
    }};
}

#[tokio::test]
async fn hostile_delimiters_are_data_on_every_database() {
    // MariaDB, where the separator is a literal: in the default mode and with
    // NO_BACKSLASH_ESCAPES, which changes what a backslash in a literal means.
    let (_database, pool) = mariadb_books("utf8mb4_bin").await;
    let backend = DatabaseServer::detect(&pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    check_delimiters!(conn, backend, MysqlQueryBuilder);
    sqlx::query("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
        .execute(&mut *conn)
        .await
        .unwrap();
    check_delimiters!(conn, backend, MysqlQueryBuilder);
    drop(conn);

    // PostgreSQL and SQLite bind the delimiter.
    let (_schema, pool) = postgres_books().await;
    let backend = DatabaseServer::detect(&pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    check_delimiters!(conn, backend, PostgresQueryBuilder);
    drop(conn);

    let (_file, pool) = sqlite_books().await;
    let backend = DatabaseServer::detect(&pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    check_delimiters!(conn, backend, SqliteQueryBuilder);
}
