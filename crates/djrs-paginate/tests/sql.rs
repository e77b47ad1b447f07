//! `SelectSource` and `KeysetPaginator` against the real PostgreSQL, MariaDB and SQLite.
//!
//! Each test makes its own schema (PostgreSQL), database (MariaDB) or file (SQLite), so tests
//! run in parallel; each is dropped when its test ends, passed or failed
//! (`djrs-test-support`). Servers: `DJRS_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and `DJRS_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306/test`); `cargo xtask ci` starts them when they are stopped.

use djrs_paginate::{
    AsyncPaginator, CursorKey, Error, KeyValue, KeysetPaginator, KeysetRow, SelectSource,
    SqlDialect,
};
use djrs_test_support::{MysqlDatabase, PgSchema, SqliteFile};
use sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};

const ROWS: i64 = 95;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Article {
    id: i64,
    title: String,
    score: i64,
}

impl KeysetRow for Article {
    fn key_values(&self) -> Vec<KeyValue> {
        vec![self.id.into()]
    }
}

/// Keyed on (score DESC, id ASC): a mixed-direction, non-unique-then-unique key.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct ByScore {
    id: i64,
    score: i64,
}

impl KeysetRow for ByScore {
    fn key_values(&self) -> Vec<KeyValue> {
        vec![self.score.into(), self.id.into()]
    }
}

fn insert_sql() -> String {
    let values: Vec<String> = (1..=ROWS)
        .map(|i| format!("({i}, 'Article {i}', {})", i % 7))
        .collect();
    format!(
        "INSERT INTO article (id, title, score) VALUES {}",
        values.join(", ")
    )
}

const CREATE: &str = "CREATE TABLE article (id BIGINT PRIMARY KEY, title VARCHAR(100) NOT NULL, score BIGINT NOT NULL)";

fn articles() -> SelectStatement {
    Query::select()
        .columns(["id", "title", "score"])
        .from("article")
        .order_by("id", Order::Asc)
        .to_owned()
}

async fn check_offset_pagination<DB: SqlDialect>(pool: sqlx::Pool<DB>)
where
    Article: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let paginator = AsyncPaginator::new(
        SelectSource::<DB, Article>::new(pool.clone(), articles()),
        10,
    );
    assert!(paginator.warnings().is_empty());
    assert_eq!(paginator.acount().await.unwrap(), ROWS as u64);
    assert_eq!(paginator.anum_pages().await.unwrap(), 10);

    let page = paginator.apage("3").await.unwrap();
    let ids: Vec<i64> = page.object_list().iter().map(|a| a.id).collect();
    assert_eq!(ids, (21..=30).collect::<Vec<_>>());
    assert_eq!(page.object_list()[0].title, "Article 21");
    assert_eq!((page.start_index(), page.end_index()), (21, 30));

    // The last page holds the remainder; get_page falls back as Django does.
    let last = paginator.aget_page(999).await.unwrap();
    assert_eq!((last.number(), last.len()), (10, 5));
    assert_eq!(paginator.aget_page("x").await.unwrap().number(), 1);
    assert!(matches!(
        paginator.apage(11).await,
        Err(Error::EmptyPage(_))
    ));

    // Orphans fold the short last page into the one before.
    let with_orphans = AsyncPaginator::new(
        SelectSource::<DB, Article>::new(pool.clone(), articles()),
        10,
    )
    .orphans(5);
    let last = with_orphans.aget_page("last").await.unwrap();
    assert_eq!(last.number(), 1);
    let last = with_orphans.apage(9).await.unwrap();
    assert_eq!(last.len(), 15);

    // Filters are kept in the count.
    let filtered = articles().and_where(Expr::col("score").eq(0)).to_owned();
    let paginator =
        AsyncPaginator::new(SelectSource::<DB, Article>::new(pool.clone(), filtered), 5);
    assert_eq!(
        paginator.acount().await.unwrap(),
        (1..=ROWS).filter(|i| i % 7 == 0).count() as u64
    );

    // No ORDER BY: Django's UnorderedObjectListWarning.
    let unordered = Query::select()
        .columns(["id", "title", "score"])
        .from("article")
        .to_owned();
    let paginator = AsyncPaginator::new(SelectSource::<DB, Article>::new(pool, unordered), 10);
    let warnings = paginator.warnings();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].category, "UnorderedObjectListWarning");
    assert!(
        warnings[0]
            .message
            .starts_with("Pagination may yield inconsistent results")
    );
}

async fn check_keyset<DB: SqlDialect>(pool: sqlx::Pool<DB>)
where
    Article: for<'r> sqlx::FromRow<'r, DB::Row>,
    ByScore: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let key = CursorKey::new(b"test key");
    let query = Query::select()
        .columns(["id", "title", "score"])
        .from("article")
        .to_owned();
    let paginator = KeysetPaginator::<DB, Article>::new(pool.clone(), query.clone(), 10)
        .key("id", Order::Asc)
        .cursor_key(key.clone());

    // Forward through every page.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let page = paginator.page(cursor.as_deref()).await.unwrap();
        assert_eq!(page.has_previous(), cursor.is_some());
        seen.extend(page.object_list().iter().map(|a| a.id));
        pages.push(page.object_list().iter().map(|a| a.id).collect::<Vec<_>>());
        match page.next_cursor() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, (1..=ROWS).collect::<Vec<_>>());
    assert_eq!(pages.len(), 10);

    // Backward from the last page gives the same pages in reverse.
    let mut back = Vec::new();
    let mut cursor = paginator
        .page(cursor.as_deref())
        .await
        .unwrap()
        .previous_cursor()
        .map(str::to_owned);
    while let Some(token) = cursor {
        let page = paginator.page(Some(&token)).await.unwrap();
        back.push(page.object_list().iter().map(|a| a.id).collect::<Vec<_>>());
        assert!(page.has_next());
        cursor = page.previous_cursor().map(str::to_owned);
    }
    back.reverse();
    assert_eq!(back, pages[..pages.len() - 1]);

    // A cursor into the middle of the list.
    let middle = paginator.cursor_after(vec![KeyValue::Int(50)]).unwrap();
    let page = paginator.page(Some(&middle)).await.unwrap();
    assert_eq!(page.object_list()[0].id, 51);

    // Tampered, foreign and malformed cursors are typed errors.
    let mut tampered = middle.clone();
    tampered.replace_range(0..1, if middle.starts_with('A') { "B" } else { "A" });
    for bad in [tampered.as_str(), "", "not a cursor", "abc.def"] {
        assert!(
            matches!(
                paginator.page(Some(bad)).await,
                Err(Error::InvalidCursor(_))
            ),
            "{bad:?}"
        );
    }
    let other_key = KeysetPaginator::<DB, Article>::new(pool.clone(), query.clone(), 10)
        .key("id", Order::Asc)
        .cursor_key(CursorKey::new(b"another key"));
    assert!(matches!(
        other_key.page(Some(&middle)).await,
        Err(Error::InvalidCursor(_))
    ));

    // Mixed directions on a composite key: score DESC, id ASC.
    let by_score = Query::select()
        .columns(["id", "score"])
        .from("article")
        .to_owned();
    let paginator = KeysetPaginator::<DB, ByScore>::new(pool.clone(), by_score, 7)
        .key("score", Order::Desc)
        .key("id", Order::Asc)
        .cursor_key(key.clone());
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = paginator.page(cursor.as_deref()).await.unwrap();
        walked.extend(page.object_list().iter().map(|r| (r.score, r.id)));
        match page.next_cursor() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut expected: Vec<(i64, i64)> = (1..=ROWS).map(|i| (i % 7, i)).collect();
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    assert_eq!(walked, expected);

    // A cursor of the one-column list does not fit the two-column one.
    assert!(matches!(
        paginator.page(Some(&middle)).await,
        Err(Error::InvalidCursor(_))
    ));

    // Paginators built per request without a shared key use the process key, so one
    // request's cursor works in the next.
    let per_request = || {
        let query = Query::select()
            .columns(["id", "title", "score"])
            .from("article")
            .to_owned();
        KeysetPaginator::<DB, Article>::new(pool.clone(), query, 10).key("id", Order::Asc)
    };
    let first = per_request().page(None).await.unwrap();
    let second = per_request().page(first.next_cursor()).await.unwrap();
    assert_eq!(second.object_list()[0].id, 11);

    // Without a key the paginator says so.
    let keyless = KeysetPaginator::<DB, Article>::new(pool, query, 10);
    assert!(matches!(keyless.page(None).await, Err(Error::Keyset(_))));
}

/// `Paginator(qs[:25], 10)` in Django counts 25 rows and 3 pages: a statement's own
/// `LIMIT`/`OFFSET` bound the count and the pages. Keyset pagination refuses such a statement.
async fn check_own_limit_and_offset<DB: SqlDialect>(pool: sqlx::Pool<DB>)
where
    Article: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let top = articles()
        .clear_order_by()
        .order_by("score", Order::Desc)
        .order_by("id", Order::Asc)
        .limit(25)
        .to_owned();
    let paginator = AsyncPaginator::new(SelectSource::<DB, Article>::new(pool.clone(), top), 10);
    assert_eq!(paginator.acount().await.unwrap(), 25);
    assert_eq!(paginator.anum_pages().await.unwrap(), 3);
    let last = paginator.apage(3).await.unwrap();
    assert_eq!(last.len(), 5);
    assert!(matches!(paginator.apage(4).await, Err(Error::EmptyPage(_))));
    let mut expected: Vec<(i64, i64)> = (1..=ROWS).map(|i| (i % 7, i)).collect();
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut seen = Vec::new();
    for number in 1..=3 {
        let page = paginator.apage(number).await.unwrap();
        seen.extend(page.object_list().iter().map(|a| (a.score, a.id)));
    }
    assert_eq!(seen, expected[..25]);

    // LIMIT and OFFSET: rows 31..=55 by id.
    let window = articles().limit(25).offset(30).to_owned();
    let paginator = AsyncPaginator::new(
        SelectSource::<DB, Article>::new(pool.clone(), window.clone()),
        10,
    );
    assert_eq!(paginator.acount().await.unwrap(), 25);
    let ids = |page: &djrs_paginate::AsyncPage<Article>| -> Vec<i64> {
        page.object_list().iter().map(|a| a.id).collect()
    };
    assert_eq!(
        ids(&paginator.apage(1).await.unwrap()),
        (31..=40).collect::<Vec<_>>()
    );
    assert_eq!(
        ids(&paginator.apage(3).await.unwrap()),
        (51..=55).collect::<Vec<_>>()
    );

    // A LIMIT past the end of the rows, and an OFFSET alone.
    for tail in [
        articles().limit(1000).offset(90).to_owned(),
        articles().offset(90).to_owned(),
    ] {
        let paginator =
            AsyncPaginator::new(SelectSource::<DB, Article>::new(pool.clone(), tail), 10);
        assert_eq!(paginator.acount().await.unwrap(), 5);
        assert_eq!(
            ids(&paginator.apage(1).await.unwrap()),
            (91..=95).collect::<Vec<_>>()
        );
        assert!(matches!(paginator.apage(2).await, Err(Error::EmptyPage(_))));
    }

    let keyset = KeysetPaginator::<DB, Article>::new(pool, window, 10)
        .key("id", Order::Asc)
        .cursor_key(CursorKey::new(b"test key"));
    assert!(matches!(keyset.page(None).await, Err(Error::Keyset(_))));
}

/// A cursor belongs to the list that signed it (its statement and key, or its name) and may
/// be given a maximum age.
async fn check_cursor_binding<DB: SqlDialect>(pool: sqlx::Pool<DB>)
where
    Article: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let key = CursorKey::new(b"test key");
    let all = Query::select()
        .columns(["id", "title", "score"])
        .from("article")
        .to_owned();
    let low = all.clone().and_where(Expr::col("score").lt(3)).to_owned();
    let list = |query: SelectStatement| {
        KeysetPaginator::<DB, Article>::new(pool.clone(), query, 10)
            .key("id", Order::Asc)
            .cursor_key(key.clone())
    };
    let next = list(all.clone()).page(None).await.unwrap();
    let token = next.next_cursor().unwrap().to_owned();
    assert_eq!(
        list(all.clone())
            .page(Some(&token))
            .await
            .unwrap()
            .object_list()[0]
            .id,
        11
    );
    // Same key column, same secret, another list: refused.
    assert!(matches!(
        list(low.clone()).page(Some(&token)).await,
        Err(Error::InvalidCursor("the cursor belongs to another list"))
    ));
    // The same key column in the other direction is another list too.
    let descending = KeysetPaginator::<DB, Article>::new(pool.clone(), all.clone(), 10)
        .key("id", Order::Desc)
        .cursor_key(key.clone());
    assert!(matches!(
        descending.page(Some(&token)).await,
        Err(Error::InvalidCursor(_))
    ));
    // Named lists: the name decides, not the statement.
    let named = list(all.clone()).name("articles");
    let token = named
        .page(None)
        .await
        .unwrap()
        .next_cursor()
        .unwrap()
        .to_owned();
    assert!(
        list(low.clone())
            .name("articles")
            .page(Some(&token))
            .await
            .is_ok()
    );
    assert!(matches!(
        list(all.clone()).name("other").page(Some(&token)).await,
        Err(Error::InvalidCursor(_))
    ));
    assert!(matches!(
        list(all.clone()).page(Some(&token)).await,
        Err(Error::InvalidCursor(_))
    ));
    // A maximum age: fresh cursors pass, old ones are refused.
    let token = list(all.clone())
        .page(None)
        .await
        .unwrap()
        .next_cursor()
        .unwrap()
        .to_owned();
    let aging = list(all.clone()).max_age(std::time::Duration::from_secs(3600));
    assert!(aging.page(Some(&token)).await.is_ok());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let strict = list(all).max_age(std::time::Duration::ZERO);
    assert!(matches!(
        strict.page(Some(&token)).await,
        Err(Error::InvalidCursor("the cursor has expired"))
    ));
}

#[tokio::test]
async fn own_limit_and_offset_bound_the_count_and_pages() {
    let (_schema, pool) = postgres_pool().await;
    check_own_limit_and_offset(pool).await;
    let (_database, pool) = mariadb_pool().await;
    check_own_limit_and_offset(pool).await;
    let (_file, pool) = sqlite_pool().await;
    check_own_limit_and_offset(pool).await;
}

#[tokio::test]
async fn cursors_are_bound_to_their_list_and_may_expire() {
    let (_schema, pool) = postgres_pool().await;
    check_cursor_binding(pool).await;
    let (_database, pool) = mariadb_pool().await;
    check_cursor_binding(pool).await;
    let (_file, pool) = sqlite_pool().await;
    check_cursor_binding(pool).await;
}

#[test]
fn cursor_keys_under_32_bytes_are_refused() {
    for short in [&b""[..], b"a", &[0u8; 31]] {
        assert!(matches!(
            CursorKey::try_new(short),
            Err(Error::WeakCursorKey { min: 32, .. })
        ));
    }
    assert!(CursorKey::try_new([0u8; 32]).is_ok());
}

/// A database of its own with the rows, dropped with the first value (also when the test fails).
async fn mariadb_pool() -> (MysqlDatabase, sqlx::MySqlPool) {
    let database = MysqlDatabase::create("djrs_paginate")
        .await
        .expect("MariaDB is reachable");
    let pool = database.pool(4).unwrap();
    sqlx::query(CREATE).execute(&pool).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(insert_sql()))
        .execute(&pool)
        .await
        .unwrap();
    (database, pool)
}

/// A SQLite file of its own with the rows, removed with the first value.
async fn sqlite_pool() -> (SqliteFile, sqlx::SqlitePool) {
    let file = SqliteFile::new().unwrap();
    let pool = sqlx::SqlitePool::connect_with(file.connect_options())
        .await
        .unwrap();
    sqlx::query(CREATE).execute(&pool).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(insert_sql()))
        .execute(&pool)
        .await
        .unwrap();
    (file, pool)
}

/// A schema of its own with the rows, dropped with the first value (also when the test fails).
async fn postgres_pool() -> (PgSchema, sqlx::PgPool) {
    let schema = PgSchema::create("djrs_paginate")
        .await
        .expect("PostgreSQL is reachable");
    let pool = schema.pool(4).unwrap();
    sqlx::query(CREATE).execute(&pool).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(insert_sql()))
        .execute(&pool)
        .await
        .unwrap();
    (schema, pool)
}

#[tokio::test]
async fn postgres() {
    let (_schema, pool) = postgres_pool().await;
    check_offset_pagination(pool.clone()).await;
    check_keyset(pool).await;
}

#[tokio::test]
async fn mariadb() {
    let (_database, pool) = mariadb_pool().await;
    check_offset_pagination(pool.clone()).await;
    check_keyset(pool).await;
}

#[tokio::test]
async fn sqlite() {
    let (_file, pool) = sqlite_pool().await;
    check_offset_pagination(pool.clone()).await;
    check_keyset(pool).await;
}
