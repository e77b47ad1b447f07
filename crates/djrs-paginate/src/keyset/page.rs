//! [`KeysetPage`]: one page's rows and the cursors to the pages around it.

use super::*;

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
    pub(super) object_list: Vec<T>,
    pub(super) next_cursor: Option<String>,
    pub(super) previous_cursor: Option<String>,
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
