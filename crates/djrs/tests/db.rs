//! `djrs::db::Db` on the real SQLite, PostgreSQL and MariaDB: the same code for each.

use djrs::db::{Db, Engine, Error};
use djrs::orm_ext::{Record, Saved, big_auto_column};
use djrs::paginate::{AsyncObjectList as _, KeyValue, KeysetRow};
use djrs::sea_query::{ColumnDef, Expr, ExprTrait, Order, Query, Table};
use djrs::tasks::{TaskResultStatus, Tasks};
use djrs_test_support::{MysqlDatabase, PgDatabase, SqliteFile};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Article {
    id: i64,
    title: String,
}

impl KeysetRow for Article {
    fn key_values(&self) -> Vec<KeyValue> {
        vec![self.id.into()]
    }
}

/// A record whose key and generated column come back from the database.
#[derive(Debug, Clone, PartialEq, Eq, Record)]
#[record(table = "tag")]
struct Tag {
    id: Option<i64>,
    name: String,
    #[record(generated(name))]
    slug: Option<String>,
}

#[djrs::tasks::task]
async fn note(text: String) -> Result<usize, std::convert::Infallible> {
    Ok(text.len())
}

const HOSTILE: &str = "Robert'); DROP TABLE article; -- \u{1F980} $1 ?";

/// Everything an application does through `Db`, identical for every engine.
async fn exercise(db: &Db) {
    let server = db.server().await.unwrap();
    let article = Table::create()
        .table("article")
        .col(big_auto_column("id", &server))
        .col(ColumnDef::new("title").text().not_null())
        .to_owned();
    db.schema(&article).execute().await.unwrap();
    let tag = Table::create()
        .table("tag")
        .col(big_auto_column("id", &server))
        .col(ColumnDef::new("name").string_len(100).not_null())
        .col(
            ColumnDef::new("slug")
                .string_len(100)
                .generated(Expr::cust("lower(replace(name, ' ', '-'))"), true),
        )
        .to_owned();
    db.schema(&tag).execute().await.unwrap();

    // Built statements bind their values: hostile text is stored as given.
    let mut insert = Query::insert();
    insert.into_table("article").columns(["title"]);
    for i in 1..=24 {
        insert.values_panic([format!("Article {i:02}").into()]);
    }
    insert.values_panic([HOSTILE.into()]);
    assert_eq!(db.statement(&insert).execute().await.unwrap(), 25);

    let count: i64 = db
        .query("SELECT COUNT(*) FROM article")
        .fetch_scalar()
        .await
        .unwrap();
    assert_eq!(count, 25);

    let hostile = Query::select()
        .columns(["id", "title"])
        .from("article")
        .and_where(Expr::col("title").eq(HOSTILE))
        .to_owned();
    let placeholder = if db.engine() == Engine::Postgres {
        "= $1"
    } else {
        "= ?"
    };
    assert!(
        db.select(&hostile).sql().ends_with(placeholder),
        "{}",
        db.select(&hostile).sql()
    );
    let found: Article = db.select(&hostile).fetch_one().await.unwrap();
    assert_eq!((found.id, found.title.as_str()), (25, HOSTILE));

    let none = Query::select()
        .columns(["id", "title"])
        .from("article")
        .and_where(Expr::col("id").eq(999))
        .to_owned();
    assert_eq!(
        db.select(&none).fetch_optional::<Article>().await.unwrap(),
        None
    );
    assert!(matches!(
        db.select(&none).fetch_one::<Article>().await,
        Err(sqlx::Error::RowNotFound)
    ));

    // Raw SQL takes the engine's own placeholders.
    let plus_one = match db.engine() {
        Engine::MySql => "SELECT CAST(? + 1 AS SIGNED)",
        _ => "SELECT CAST($1 + 1 AS BIGINT)",
    };
    let n: i64 = db
        .query(plus_one)
        .bind(41_i64)
        .fetch_scalar()
        .await
        .unwrap();
    assert_eq!(n, 42);

    // Record saves: the key and the generated column come back.
    let mut tag = Tag {
        id: None,
        name: "Deep Dive".into(),
        slug: None,
    };
    assert_eq!(db.save(&mut tag).await.unwrap(), Saved::Inserted);
    assert_eq!(tag.id, Some(1));
    assert_eq!(tag.slug.as_deref(), Some("deep-dive"));
    tag.name = "Quick Look".into();
    assert_eq!(db.save(&mut tag).await.unwrap(), Saved::Updated);
    assert_eq!(tag.slug.as_deref(), Some("quick-look"));

    // Offset pages.
    let ordered = Query::select()
        .columns(["id", "title"])
        .from("article")
        .order_by("id", Order::Asc)
        .to_owned();
    let source = db.select_source::<Article>(ordered.clone());
    assert_eq!(source.is_ordered(), Some(true));
    assert!(
        source.describe().starts_with("SELECT"),
        "{}",
        source.describe()
    );
    let unordered = Query::select().column("id").from("article").to_owned();
    assert_eq!(
        db.select_source::<Article>(unordered).is_ordered(),
        Some(false)
    );
    let paginator = db.paginator::<Article>(ordered, 10);
    assert_eq!(paginator.anum_pages().await.unwrap(), 3);
    let last = paginator.apage(3).await.unwrap();
    let ids: Vec<i64> = last.object_list().iter().map(|a| a.id).collect();
    assert_eq!(ids, [21, 22, 23, 24, 25]);
    assert!(matches!(
        paginator.apage(4).await,
        Err(djrs::paginate::Error::EmptyPage(_))
    ));

    // Keyset pages, newest first, walk every row once.
    let keyset = db
        .keyset::<Article>(
            Query::select()
                .columns(["id", "title"])
                .from("article")
                .to_owned(),
            7,
        )
        .key("id", Order::Desc);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = keyset.page(cursor.as_deref()).await.unwrap();
        seen.extend(page.object_list().iter().map(|a| a.id));
        match page.next_cursor() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, (1..=25).rev().collect::<Vec<i64>>());
    assert!(matches!(
        keyset.page(Some("forged")).await,
        Err(djrs::paginate::Error::InvalidCursor(_))
    ));

    // The task queue lives in the same database.
    let tasks = Tasks::builder()
        .backend_arc("default", db.tasks_backend())
        .build()
        .unwrap();
    let queued = note.enqueue(&tasks, HOSTILE.to_owned()).await.unwrap();
    assert_eq!(queued.status, TaskResultStatus::Ready);
    let in_queue: i64 = db
        .query("SELECT COUNT(*) FROM djrs_task")
        .fetch_scalar()
        .await
        .unwrap();
    assert_eq!(in_queue, 1);
}

#[tokio::test]
async fn sqlite() {
    let file = SqliteFile::new().unwrap();
    let db = Db::connect(&format!("sqlite://{}", file.path().display()))
        .await
        .unwrap();
    assert_eq!(db.engine(), Engine::Sqlite);
    assert_eq!(db.engine().to_string(), "SQLite");
    exercise(&db).await;
    // The file was created, in WAL mode.
    let mode: String = db
        .query("PRAGMA journal_mode")
        .fetch_scalar()
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    db.close().await;
    assert!(db.query("SELECT 1").execute().await.is_err(), "closed");
    assert!(file.path().exists());
}

#[tokio::test]
async fn postgres() {
    let database = PgDatabase::create("djrs_db").await.unwrap();
    let db = Db::connect(database.url()).await.unwrap();
    assert_eq!(db.engine(), Engine::Postgres);
    assert_eq!(format!("{db:?}"), "Db(Postgres)");
    assert_eq!(db.engine().to_string(), "PostgreSQL");
    exercise(&db).await;
    db.close().await;
}

#[tokio::test]
async fn mariadb() {
    let database = MysqlDatabase::create("djrs_db").await.unwrap();
    // sqlx knows MariaDB's URLs as mysql://; Db takes either.
    let url = database.url().replacen("mysql:", "mariadb:", 1);
    let db = Db::connect(&url).await.unwrap();
    assert_eq!(db.engine(), Engine::MySql);
    assert_eq!(db.engine().to_string(), "MySQL");
    exercise(&db).await;
    db.close().await;
}

#[tokio::test]
async fn connection_errors_never_show_the_password() {
    // The server refuses at once: the database does not exist.
    let err = Db::connect("postgres://postgres:s3cretpw@127.0.0.1:5432/djrs_no_such_db")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("s3cretpw"), "{text}");
    assert!(
        text.contains("postgres://postgres:***@127.0.0.1:5432/djrs_no_such_db"),
        "{text}"
    );

    let err = Db::connect("mssql://sa:s3cretpw@db/app").await.unwrap_err();
    assert!(matches!(err, Error::UnsupportedUrl(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("s3cretpw"));

    // A SQLite URL sqlx cannot parse.
    let err = Db::connect("sqlite://x?mode=nonsense").await.unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
}
