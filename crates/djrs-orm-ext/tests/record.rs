//! `Record::save` against the real PostgreSQL, MariaDB and SQLite: RETURNING of keys,
//! database defaults and generated columns, Django's update-then-insert, `NotUpdated`, and the
//! paths for databases without RETURNING (MySQL, old SQLite), exercised by pinning the backend.
//!
//! Each test makes its own schema (PostgreSQL), database (MariaDB) or file (SQLite).

use djrs_orm_ext::{
    DatabaseServer, Error, NotUpdatedReason, OrmDatabase, Record, ReturnedRow, Save, Saved, Vendor,
    big_auto_column,
};
use djrs_test_support::{MysqlDatabase, PgSchema, SqliteFile};
use sea_query::{
    ColumnDef, Expr, ExprTrait, MysqlQueryBuilder, PostgresQueryBuilder, SqliteQueryBuilder, Table,
    TableCreateStatement,
};

#[derive(Debug, Clone, PartialEq, Record)]
#[record(table = "article")]
struct Article {
    id: Option<i64>,
    title: String,
    #[record(db_default)]
    views: Option<i64>,
    #[record(generated(title))]
    title_length: Option<i64>,
    #[record(generated(views), column = "double_views")]
    doubled: Option<i64>,
}

impl Article {
    fn draft(title: &str) -> Self {
        Article {
            id: None,
            title: title.into(),
            views: None,
            title_length: None,
            doubled: None,
        }
    }
}

/// A table whose key the application sets.
#[derive(Debug, Clone, PartialEq, Record)]
struct Tag {
    #[record(primary_key)]
    slug: String,
    label: String,
}

/// A table of nothing but an auto key.
#[derive(Debug, Clone, PartialEq, Record)]
struct Counter {
    id: Option<i64>,
}

fn tables(backend: &DatabaseServer) -> Vec<String> {
    let length = if backend.vendor() == Vendor::Sqlite {
        "LENGTH(title)"
    } else {
        "CHAR_LENGTH(title)"
    };
    let article = Table::create()
        .table("article")
        .col(big_auto_column("id", backend))
        .col(ColumnDef::new("title").string_len(200).not_null())
        .col(ColumnDef::new("views").big_integer().not_null().default(7))
        .col(
            ColumnDef::new("title_length")
                .big_integer()
                .generated(Expr::cust(length), true),
        )
        .col(
            ColumnDef::new("double_views")
                .big_integer()
                .generated(Expr::cust("views * 2"), true),
        )
        .to_owned();
    let tag = Table::create()
        .table("tag")
        .col(
            ColumnDef::new("slug")
                .string_len(50)
                .not_null()
                .primary_key(),
        )
        .col(ColumnDef::new("label").string_len(100).not_null())
        .to_owned();
    let counter = Table::create()
        .table("counter")
        .col(big_auto_column("id", backend))
        .to_owned();
    let render = |t: &TableCreateStatement| match backend.vendor() {
        Vendor::PostgreSql => t.to_string(PostgresQueryBuilder),
        Vendor::Sqlite => t.to_string(SqliteQueryBuilder),
        _ => t.to_string(MysqlQueryBuilder),
    };
    vec![render(&article), render(&tag), render(&counter)]
}

async fn check_records<DB>(pool: &sqlx::Pool<DB>, pin: Option<DatabaseServer>)
where
    DB: OrmDatabase,
    Article: ReturnedRow<DB::Row>,
    Tag: ReturnedRow<DB::Row>,
    Counter: ReturnedRow<DB::Row>,
{
    let opts = || match pin {
        Some(backend) => Save::new().server(backend),
        None => Save::new(),
    };

    // INSERT: the key, the database default and both generated columns come back.
    let mut first = Article::draft("Hello");
    assert_eq!(
        first.save_with(pool, opts()).await.unwrap(),
        Saved::Inserted
    );
    let id = first.id.expect("the auto key is read back");
    assert!(id >= 1);
    assert_eq!(first.views, Some(7));
    assert_eq!(first.title_length, Some(5));
    assert_eq!(first.doubled, Some(14));

    let mut second = Article::draft("Ωmega");
    second.views = Some(10);
    second.save_with(pool, opts()).await.unwrap();
    assert_eq!(second.id, Some(id + 1), "64-bit auto keys count up");
    assert_eq!(
        (second.views, second.title_length, second.doubled),
        (Some(10), Some(5), Some(20))
    );

    // UPDATE: the generated column over the written one is refreshed.
    first.title = "Hello, world".into();
    assert_eq!(first.save_with(pool, opts()).await.unwrap(), Saved::Updated);
    assert_eq!(first.title_length, Some(12));
    assert_eq!(first.doubled, Some(14));

    // update_fields writes only those fields, and refreshes only what depends on them.
    first.views = Some(50);
    first.title = "not written".into();
    assert_eq!(
        first
            .save_with(pool, opts().update_fields(["views"]))
            .await
            .unwrap(),
        Saved::Updated
    );
    assert_eq!(first.doubled, Some(100));
    assert_eq!(first.title_length, Some(12), "title was not written");
    let mut reloaded = Article::draft("");
    reloaded.id = Some(id);
    reloaded.refresh_from_db(pool).await.unwrap();
    assert_eq!(reloaded.title, "Hello, world");
    assert_eq!(
        (reloaded.views, reloaded.title_length, reloaded.doubled),
        (Some(50), Some(12), Some(100))
    );

    // Expression-valued fields: computed by the database and read back (Django's F()).
    first.views = Some(-1); // ignored: the expression wins
    assert_eq!(
        first
            .save_with(
                pool,
                opts()
                    .update_fields(["views"])
                    .expression("views", Expr::col("views").add(1)),
            )
            .await
            .unwrap(),
        Saved::Updated
    );
    assert_eq!((first.views, first.doubled), (Some(51), Some(102)));
    let mut computed = Article::draft("Computed");
    computed
        .save_with(pool, opts().expression("views", Expr::cust("3 * 4")))
        .await
        .unwrap();
    assert_eq!((computed.views, computed.doubled), (Some(12), Some(24)));
    let err = computed
        .save_with(pool, opts().expression("title_length", Expr::val(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidSave(_)), "{err}");
    let err = computed
        .save_with(
            pool,
            opts()
                .update_fields(["title"])
                .expression("views", Expr::val(1)),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not in update_fields"), "{err}");

    // NotUpdated, with Django's messages, when the row is gone.
    let mut ghost = Article::draft("ghost");
    ghost.id = Some(999_999);
    let err = ghost
        .save_with(pool, opts().force_update())
        .await
        .unwrap_err();
    match &err {
        Error::NotUpdated(e) => {
            assert_eq!(e.reason(), NotUpdatedReason::ForceUpdate);
            assert_eq!(e.table(), "article");
        }
        other => panic!("expected NotUpdated, got {other:?}"),
    }
    assert_eq!(err.to_string(), "Forced update did not affect any rows.");
    let err = ghost
        .save_with(pool, opts().update_fields(["title"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Save with update_fields did not affect any rows."
    );

    // Without force, a key that matches no row is inserted (Django's update-then-insert).
    assert_eq!(
        ghost.save_with(pool, opts()).await.unwrap(),
        Saved::Inserted
    );
    assert_eq!(ghost.id, Some(999_999));
    assert_eq!(ghost.title_length, Some(5));
    assert_eq!(ghost.views, Some(7));

    // Forcing an insert of an existing key is the database's unique violation.
    let mut dup = ghost.clone();
    let err = dup
        .save_with(pool, opts().force_insert())
        .await
        .unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");

    // Django's ValueErrors, before any query.
    let mut fresh = Article::draft("x");
    let err = fresh
        .save_with(pool, opts().force_update())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot force an update in save() with no primary key."
    );
    let err = fresh
        .save_with(pool, opts().force_insert().force_update())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot force both insert and updating in model saving."
    );
    let err = first
        .save_with(pool, opts().update_fields(["title_length", "nope"]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidSave(_)));
    assert!(err.to_string().starts_with(
        "The following fields do not exist in this model, are m2m fields, primary keys, or \
         are non-concrete fields: title_length, nope"
    ));
    assert_eq!(
        first
            .save_with(pool, opts().update_fields(Vec::<String>::new()))
            .await
            .unwrap(),
        Saved::Skipped
    );
    assert!(fresh.id.is_none(), "nothing was saved");

    // An application-set key: insert, update, and an error when it is missing.
    let mut tag = Tag {
        slug: "rust".into(),
        label: "Rust".into(),
    };
    assert_eq!(tag.save_with(pool, opts()).await.unwrap(), Saved::Inserted);
    tag.label = "Rust!".into();
    assert_eq!(tag.save_with(pool, opts()).await.unwrap(), Saved::Updated);
    let mut copy = Tag {
        slug: "rust".into(),
        label: String::new(),
    };
    copy.refresh_from_db(pool).await.unwrap();
    assert_eq!(copy.label, "Rust!");
    let mut missing = Tag {
        slug: "gone".into(),
        label: String::new(),
    };
    assert!(matches!(
        missing.refresh_from_db(pool).await,
        Err(Error::DoesNotExist("tag"))
    ));

    // A table of only a key: DEFAULT VALUES, then an existence check on save.
    let mut counter = Counter { id: None };
    assert_eq!(
        counter.save_with(pool, opts()).await.unwrap(),
        Saved::Inserted
    );
    assert!(counter.id.is_some());
    assert_eq!(
        counter.save_with(pool, opts()).await.unwrap(),
        Saved::Updated
    );
    let mut lost = Counter { id: Some(424_242) };
    assert!(matches!(
        lost.save_with(pool, opts().force_update()).await,
        Err(Error::NotUpdated(_))
    ));
}

/// A schema of its own with the tables, dropped with the first value (also when the test fails).
async fn postgres_pool() -> (PgSchema, sqlx::PgPool) {
    let schema = PgSchema::create("djrs_orm_record")
        .await
        .expect("PostgreSQL is reachable");
    let pool = schema.pool(2).unwrap();
    for ddl in tables(&DatabaseServer::postgres(15, 0)) {
        sqlx::query(sqlx::AssertSqlSafe(ddl))
            .execute(&pool)
            .await
            .unwrap();
    }
    (schema, pool)
}

#[tokio::test]
async fn postgres() {
    let (_schema, pool) = postgres_pool().await;
    check_records(&pool, None).await;

    // Inside a transaction: the save sees and is rolled back with it.
    let mut tx = pool.begin().await.unwrap();
    let mut article = Article::draft("in a transaction");
    article.save(&mut *tx).await.unwrap();
    let id = article.id.unwrap();
    tx.rollback().await.unwrap();
    let mut gone = Article::draft("");
    gone.id = Some(id);
    assert!(matches!(
        gone.refresh_from_db(&pool).await,
        Err(Error::DoesNotExist(_))
    ));
}

/// A database of its own with the tables, dropped with the first value.
async fn mariadb_pool() -> (MysqlDatabase, sqlx::MySqlPool) {
    let database = MysqlDatabase::create("djrs_orm_record")
        .await
        .expect("MariaDB is reachable");
    let pool = database.pool(2).unwrap();
    for ddl in tables(&DatabaseServer::mariadb(10, 11, 0)) {
        sqlx::query(sqlx::AssertSqlSafe(ddl))
            .execute(&pool)
            .await
            .unwrap();
    }
    (database, pool)
}

#[tokio::test]
async fn mariadb() {
    let (_database, pool) = mariadb_pool().await;
    let backend = DatabaseServer::detect(&pool).await.unwrap();
    assert_eq!(backend.vendor(), Vendor::MariaDb);
    assert!(backend.can_return_columns_from_insert());
    // INSERT … RETURNING written by hand; UPDATE followed by a SELECT of generated columns.
    check_records(&pool, None).await;
}

#[tokio::test]
async fn mysql_path_without_returning() {
    // Pinned to MySQL 8: no RETURNING at all, so LAST_INSERT_ID() and a SELECT by key.
    let (_database, pool) = mariadb_pool().await;
    check_records(&pool, Some(DatabaseServer::mysql(8, 0, 40))).await;
}

/// A SQLite file of its own with the tables, removed with the first value.
async fn sqlite_pool() -> (SqliteFile, sqlx::SqlitePool) {
    let file = SqliteFile::new().unwrap();
    let pool = sqlx::SqlitePool::connect_with(file.connect_options())
        .await
        .unwrap();
    for ddl in tables(&DatabaseServer::sqlite(3, 51, 0)) {
        sqlx::query(sqlx::AssertSqlSafe(ddl))
            .execute(&pool)
            .await
            .unwrap();
    }
    (file, pool)
}

#[tokio::test]
async fn sqlite() {
    let (_file, pool) = sqlite_pool().await;
    let backend = DatabaseServer::detect(&pool).await.unwrap();
    assert!(backend.can_return_rows_from_update(), "{backend}");
    check_records(&pool, None).await;
}

#[tokio::test]
async fn sqlite_before_returning() {
    // SQLite before 3.35 has no RETURNING: last_insert_rowid() and SELECTs by key.
    let (_file, pool) = sqlite_pool().await;
    check_records(&pool, Some(DatabaseServer::sqlite(3, 34, 0))).await;
}
