//! [`Record`]: a struct mapped to a table, saved like a Django model instance.

use sea_query::Value;

/// A struct stored in one table, saved with Django 6.0's `Model.save()` semantics.
///
/// Implement it with `#[derive(Record)]` (feature `derive`, on by default):
///
/// | attribute                                  | Django                                     |
/// |--------------------------------------------|--------------------------------------------|
/// | `#[record(table = "article")]` on the struct | `Meta.db_table` (default: the struct name in snake_case) |
/// | a field named `id` (no attribute)          | the implicit `id = BigAutoField(primary_key=True)` |
/// | `#[record(primary_key)]`                   | `primary_key=True` on a field the application sets |
/// | `#[record(primary_key(auto))]`             | `BigAutoField(primary_key=True)` under another name |
/// | `#[record(db_default)]`                    | `db_default=…`: `None` is left to the database and read back |
/// | `#[record(generated(title, body))]`        | `GeneratedField(expression=…)` over `title` and `body` |
/// | `#[record(generated)]`                     | a generated column over unknown columns (refreshed after every update) |
/// | `#[record(column = "name")]`               | `db_column="name"`                         |
///
/// An auto key, and a `db_default` field, must be an `Option`: `None` means "not set yet". Every
/// field type converts into a sea-query [`Value`] and decodes from a sqlx row.
///
/// ```
/// use djrs_orm_ext::{ColumnKind, Record};
///
/// #[derive(Debug, Clone, Record)]
/// #[record(table = "article")]
/// struct Article {
///     id: Option<i64>,
///     title: String,
///     #[record(db_default)]
///     views: Option<i64>,
///     #[record(generated(title))]
///     title_length: Option<i64>,
/// }
///
/// assert_eq!(Article::TABLE, "article");
/// let names: Vec<&str> = Article::COLUMNS.iter().map(|c| c.name()).collect();
/// assert_eq!(names, ["id", "title", "views", "title_length"]);
/// assert_eq!(Article::COLUMNS[0].kind(), ColumnKind::PrimaryKey { auto: true });
///
/// let draft = Article { id: None, title: "Hello".into(), views: None, title_length: None };
/// assert_eq!(draft.primary_key(), None);
/// assert_eq!(draft.value("title"), Some("Hello".into()));
/// assert_eq!(draft.value("views"), None); // left to the database's default
/// ```
pub trait Record: Send {
    /// The table's name.
    const TABLE: &'static str;

    /// Every column, in field order.
    const COLUMNS: &'static [Column];

    /// The primary key's value, `None` while it is not set (a new record with an auto key).
    fn primary_key(&self) -> Option<Value>;

    /// The value to write to `column` (a column name), or `None` for a column that is not
    /// written: unknown, generated, or a `db_default` column left to the database.
    fn value(&self, column: &str) -> Option<Value>;

    /// The primary-key column.
    ///
    /// ```
    /// use djrs_orm_ext::Record;
    ///
    /// #[derive(Record)]
    /// struct Tag {
    ///     #[record(primary_key)]
    ///     slug: String,
    /// }
    /// assert_eq!(Tag::primary_key_column().map(|c| c.name()), Some("slug"));
    /// ```
    ///
    /// `None` only for a hand-written implementation without one, which cannot be saved.
    #[must_use]
    fn primary_key_column() -> Option<&'static Column> {
        Self::COLUMNS
            .iter()
            .find(|column| matches!(column.kind(), ColumnKind::PrimaryKey { .. }))
    }

    /// Saves the record as Django's `save()` does, refreshing what the database computed.
    /// See [`Record::save_with`].
    #[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
    fn save<'c, A>(
        &mut self,
        conn: A,
    ) -> impl std::future::Future<Output = crate::Result<crate::Saved>> + Send
    where
        Self: Sized + ReturnedRow<<A::Database as sqlx::Database>::Row>,
        A: sqlx::Acquire<'c> + Send,
        A::Database: crate::OrmDatabase,
    {
        crate::save::save(self, conn, crate::Save::new())
    }

    /// Saves the record with options (`force_insert`, `force_update`, `update_fields`),
    /// following Django 6.0's `Model.save()`:
    ///
    /// - with a primary key set (and no `force_insert`), an `UPDATE` of the key's row; if it
    ///   matched no row, an `INSERT` — unless `force_update` or `update_fields` was given,
    ///   which makes it [`Error::NotUpdated`](crate::Error::NotUpdated) with Django's message;
    /// - without a key, an `INSERT`; forcing an update then is
    ///   [`Error::InvalidSave`](crate::Error::InvalidSave).
    ///
    /// After an `INSERT` the auto key, the `db_default` columns left to the database and the
    /// generated columns are read back through `RETURNING` (PostgreSQL, SQLite 3.35+,
    /// MariaDB 10.5+), or with one `SELECT` by key on MySQL. After an `UPDATE` the generated
    /// columns over the written columns are read back through `RETURNING` (PostgreSQL,
    /// SQLite), or with one `SELECT` by key on MySQL and MariaDB, which have no
    /// `UPDATE … RETURNING` (Django defers those fields instead; here they are correct as
    /// soon as `save` returns).
    ///
    /// ```no_run
    /// use djrs_orm_ext::{Error, Record, Save};
    ///
    /// #[derive(Record)]
    /// struct Article { id: Option<i64>, title: String }
    ///
    /// # async fn demo(pool: sqlx::PgPool) -> djrs_orm_ext::Result<()> {
    /// let mut article = Article { id: Some(42), title: "Edited".into() };
    /// match article.save_with(&pool, Save::new().update_fields(["title"])).await {
    ///     Err(Error::NotUpdated(err)) => println!("{err}"), // the row is gone
    ///     other => { other?; }
    /// }
    /// # Ok(()) }
    /// ```
    #[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
    fn save_with<'c, A>(
        &mut self,
        conn: A,
        options: crate::Save,
    ) -> impl std::future::Future<Output = crate::Result<crate::Saved>> + Send
    where
        Self: Sized + ReturnedRow<<A::Database as sqlx::Database>::Row>,
        A: sqlx::Acquire<'c> + Send,
        A::Database: crate::OrmDatabase,
    {
        crate::save::save(self, conn, options)
    }

    /// Reloads every column from the row of the record's primary key (Django's
    /// `refresh_from_db()`): [`Error::DoesNotExist`](crate::Error::DoesNotExist) when there is
    /// no such row, [`Error::InvalidSave`](crate::Error::InvalidSave) without a key.
    ///
    /// ```no_run
    /// use djrs_orm_ext::Record;
    ///
    /// #[derive(Record)]
    /// struct Article { id: Option<i64>, title: String }
    ///
    /// # async fn demo(pool: sqlx::MySqlPool) -> djrs_orm_ext::Result<()> {
    /// let mut article = Article { id: Some(1), title: String::new() };
    /// article.refresh_from_db(&pool).await?;
    /// println!("{}", article.title);
    /// # Ok(()) }
    /// ```
    #[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
    fn refresh_from_db<'c, A>(
        &mut self,
        conn: A,
    ) -> impl std::future::Future<Output = crate::Result<()>> + Send
    where
        Self: Sized + ReturnedRow<<A::Database as sqlx::Database>::Row>,
        A: sqlx::Acquire<'c> + Send,
        A::Database: crate::OrmDatabase,
    {
        crate::save::refresh_from_db(self, conn)
    }
}

/// Writes values read back from the database (a `RETURNING` row or a follow-up `SELECT`) into
/// a record's fields. `#[derive(Record)]` implements it for every sqlx row type whose
/// database can decode the fields.
///
/// ```
/// use djrs_orm_ext::{Record, ReturnedRow};
///
/// #[derive(Record)]
/// struct Article { id: Option<i64>, title: String }
///
/// fn assert_decodes_from_sqlite<T: ReturnedRow<sqlx::sqlite::SqliteRow>>() {}
/// assert_decodes_from_sqlite::<Article>();
/// ```
pub trait ReturnedRow<R: sqlx::Row> {
    /// Sets the fields of `columns` (column names) from `row`.
    fn set_returned(&mut self, row: &R, columns: &[&'static str]) -> Result<(), sqlx::Error>;
}

/// A column of a [`Record`]: its name, the field holding it, and its kind.
///
/// ```
/// use djrs_orm_ext::{Column, ColumnKind};
///
/// let column = Column::generated("title_length", "title_length", &["title"]);
/// assert_eq!(column.kind(), ColumnKind::Generated { depends_on: &["title"] });
/// assert!(column.is_refreshed_by(&["title"]));
/// assert!(!column.is_refreshed_by(&["body"]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    name: &'static str,
    field: &'static str,
    kind: ColumnKind,
}

/// What a [`Column`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnKind {
    /// The primary key; `auto` when the database assigns it (Django's `BigAutoField`).
    PrimaryKey {
        /// The database assigns the key on insert.
        auto: bool,
    },
    /// A column the application writes.
    Field,
    /// A column with a database default, written only when the field holds a value.
    DbDefault,
    /// A column the database computes, never written. `depends_on` lists the columns it is
    /// computed from; empty means unknown (refreshed after every update).
    Generated {
        /// Column names the expression reads.
        depends_on: &'static [&'static str],
    },
}

impl Column {
    /// A primary-key column (`auto` when the database assigns it).
    ///
    /// ```
    /// use djrs_orm_ext::{Column, ColumnKind, Record};
    ///
    /// #[derive(Record)]
    /// struct Tag {
    ///     #[record(primary_key)]
    ///     slug: String,
    /// }
    ///
    /// let slug = Column::primary_key("slug", "slug", false);
    /// assert_eq!(Tag::COLUMNS[0], slug);
    /// assert_eq!(slug.kind(), ColumnKind::PrimaryKey { auto: false });
    /// ```
    #[must_use]
    pub const fn primary_key(name: &'static str, field: &'static str, auto: bool) -> Self {
        Column {
            name,
            field,
            kind: ColumnKind::PrimaryKey { auto },
        }
    }

    /// A column the application writes.
    ///
    /// ```
    /// use djrs_orm_ext::{Column, ColumnKind, Record};
    ///
    /// #[derive(Record)]
    /// struct Article {
    ///     id: Option<i64>,
    ///     #[record(column = "headline")]
    ///     title: String,
    /// }
    ///
    /// let title = Column::field("headline", "title");
    /// assert_eq!(Article::COLUMNS[1], title);
    /// assert_eq!(title.kind(), ColumnKind::Field);
    /// ```
    #[must_use]
    pub const fn field(name: &'static str, field: &'static str) -> Self {
        Column {
            name,
            field,
            kind: ColumnKind::Field,
        }
    }

    /// A column with a database default.
    ///
    /// ```
    /// use djrs_orm_ext::{Column, ColumnKind};
    ///
    /// let views = Column::db_default("views", "views");
    /// assert_eq!(views.kind(), ColumnKind::DbDefault);
    /// assert!(!views.is_refreshed_by(&["views"])); // read back after INSERT only
    /// ```
    #[must_use]
    pub const fn db_default(name: &'static str, field: &'static str) -> Self {
        Column {
            name,
            field,
            kind: ColumnKind::DbDefault,
        }
    }

    /// A generated column computed from `depends_on`.
    ///
    /// ```
    /// use djrs_orm_ext::{Column, ColumnKind};
    ///
    /// let title_length = Column::generated("title_length", "title_length", &["title"]);
    /// assert_eq!(title_length.kind(), ColumnKind::Generated { depends_on: &["title"] });
    /// assert!(title_length.is_refreshed_by(&["title"]));
    /// ```
    #[must_use]
    pub const fn generated(
        name: &'static str,
        field: &'static str,
        depends_on: &'static [&'static str],
    ) -> Self {
        Column {
            name,
            field,
            kind: ColumnKind::Generated { depends_on },
        }
    }

    /// The column's name in the table.
    ///
    /// ```
    /// use djrs_orm_ext::Column;
    ///
    /// let column = Column::field("headline", "title");
    /// assert_eq!(column.name(), "headline");
    /// ```
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The Rust field holding it.
    ///
    /// ```
    /// use djrs_orm_ext::Column;
    ///
    /// let column = Column::field("headline", "title");
    /// assert_eq!(column.field_name(), "title");
    /// ```
    #[must_use]
    pub fn field_name(&self) -> &'static str {
        self.field
    }

    /// Its kind.
    ///
    /// ```
    /// use djrs_orm_ext::{ColumnKind, Record};
    ///
    /// #[derive(Record)]
    /// struct Article {
    ///     id: Option<i64>,
    ///     #[record(db_default)]
    ///     views: Option<i64>,
    /// }
    ///
    /// let kinds: Vec<ColumnKind> = Article::COLUMNS.iter().map(|c| c.kind()).collect();
    /// assert_eq!(kinds, [ColumnKind::PrimaryKey { auto: true }, ColumnKind::DbDefault]);
    /// ```
    #[must_use]
    pub fn kind(&self) -> ColumnKind {
        self.kind
    }

    /// True for a generated column that must be read back after `written` columns changed.
    ///
    /// ```
    /// use djrs_orm_ext::Column;
    ///
    /// let title_length = Column::generated("title_length", "title_length", &["title"]);
    /// assert!(title_length.is_refreshed_by(&["title", "body"]));
    /// assert!(!title_length.is_refreshed_by(&["body"]));
    ///
    /// // Unknown dependencies: refreshed after every update.
    /// assert!(Column::generated("checksum", "checksum", &[]).is_refreshed_by(&["body"]));
    /// ```
    #[must_use]
    pub fn is_refreshed_by(&self, written: &[&str]) -> bool {
        match self.kind {
            ColumnKind::Generated { depends_on } => {
                depends_on.is_empty() || depends_on.iter().any(|c| written.contains(c))
            }
            _ => false,
        }
    }

    /// True when `name` is the column's name or its field's name (how `update_fields`
    /// entries are matched).
    ///
    /// ```
    /// use djrs_orm_ext::Column;
    ///
    /// let column = Column::field("double_views", "doubled");
    /// assert!(column.is_named("doubled") && column.is_named("double_views"));
    /// ```
    #[must_use]
    pub fn is_named(&self, name: &str) -> bool {
        self.name == name || self.field == name
    }
}

/// Options of [`Record::save_with`], Django's `save()` keyword arguments.
///
/// ```
/// use djrs_orm_ext::Save;
///
/// let options = Save::new().update_fields(["title", "body"]);
/// assert_eq!(options.fields(), Some(&["title".to_owned(), "body".to_owned()][..]));
/// assert!(!Save::new().force_update().is_force_insert());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct Save {
    force_insert: bool,
    force_update: bool,
    update_fields: Option<Vec<String>>,
    expressions: Vec<(String, sea_query::Expr)>,
    server: Option<crate::DatabaseServer>,
}

impl Save {
    /// A plain save: update the row of the key if there is one, else insert.
    ///
    /// ```
    /// use djrs_orm_ext::Save;
    ///
    /// let options = Save::new();
    /// assert!(!options.is_force_insert() && !options.is_force_update());
    /// assert_eq!(options.fields(), None);
    /// ```
    pub fn new() -> Self {
        Save::default()
    }

    /// Always `INSERT` (Django's `force_insert=True`).
    ///
    /// ```
    /// use djrs_orm_ext::Save;
    ///
    /// let options = Save::new().force_insert();
    /// assert!(options.is_force_insert());
    /// ```
    pub fn force_insert(mut self) -> Self {
        self.force_insert = true;
        self
    }

    /// Always `UPDATE`; no matching row is [`Error::NotUpdated`](crate::Error::NotUpdated)
    /// (Django's `force_update=True`).
    ///
    /// ```
    /// use djrs_orm_ext::Save;
    ///
    /// let options = Save::new().force_update();
    /// assert!(options.is_force_update());
    /// ```
    pub fn force_update(mut self) -> Self {
        self.force_update = true;
        self
    }

    /// `UPDATE` only these fields (field or column names); no matching row is
    /// [`Error::NotUpdated`](crate::Error::NotUpdated). An empty list saves nothing, as in
    /// Django.
    ///
    /// ```
    /// use djrs_orm_ext::Save;
    ///
    /// let options = Save::new().update_fields(["title", "body"]);
    /// assert_eq!(options.fields(), Some(&["title".to_owned(), "body".to_owned()][..]));
    ///
    /// // An empty list is a save that writes nothing.
    /// assert_eq!(Save::new().update_fields(Vec::<String>::new()).fields(), Some(&[][..]));
    /// ```
    pub fn update_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.update_fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// Writes `column` (a field or column name) as a SQL expression computed by the database,
    /// and reads the result back into the field — Django 6.0's refresh of expression-valued
    /// fields (`article.views = F("views") + 1; article.save()`). The record's own value for
    /// the column is ignored. Generated columns over it are refreshed too.
    ///
    /// ```no_run
    /// use djrs_orm_ext::{Record, Save};
    /// use sea_query::{Expr, ExprTrait};
    ///
    /// #[derive(Record)]
    /// struct Article { id: Option<i64>, views: i64 }
    ///
    /// # #[cfg(feature = "postgres")]
    /// # async fn demo(pool: sqlx::PgPool, mut article: Article) -> djrs_orm_ext::Result<()> {
    /// // UPDATE "article" SET "views" = "views" + 1 WHERE "id" = $1 RETURNING "views"
    /// article
    ///     .save_with(&pool, Save::new().expression("views", Expr::col("views").add(1)))
    ///     .await?;
    /// println!("{} views", article.views);
    /// # Ok(()) }
    /// ```
    pub fn expression(
        mut self,
        column: impl Into<String>,
        expr: impl Into<sea_query::Expr>,
    ) -> Self {
        self.expressions.push((column.into(), expr.into()));
        self
    }

    /// Skips asking the connection which database it is (one `SELECT VERSION()` per save on
    /// MySQL/MariaDB; free on PostgreSQL, cached on SQLite).
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, Record, Save, Saved};
    ///
    /// #[derive(Debug, Record)]
    /// struct Article {
    ///     id: Option<i64>,
    ///     title: String,
    /// }
    ///
    /// # #[cfg(feature = "sqlite")]
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// # sqlx::query("CREATE TABLE article (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL)")
    /// #     .execute(&pool).await?;
    /// // The server is known from configuration: the save does not ask the connection.
    /// let options = Save::new().server(DatabaseServer::sqlite(3, 51, 0));
    /// let mut article = Article { id: None, title: "Hello".into() };
    /// assert_eq!(article.save_with(&pool, options).await?, Saved::Inserted);
    /// assert_eq!(article.id, Some(1));
    /// # Ok::<(), djrs_orm_ext::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn server(mut self, server: crate::DatabaseServer) -> Self {
        self.server = Some(server);
        self
    }

    /// True with [`Save::force_insert`].
    ///
    /// ```
    /// use djrs_orm_ext::Save;
    ///
    /// assert!(Save::new().force_insert().is_force_insert());
    /// assert!(!Save::new().is_force_insert());
    /// ```
    #[must_use]
    pub fn is_force_insert(&self) -> bool {
        self.force_insert
    }

    /// True with [`Save::force_update`].
    ///
    /// ```
    /// use djrs_orm_ext::Save;
    ///
    /// assert!(Save::new().force_update().is_force_update());
    /// assert!(!Save::new().force_insert().is_force_update());
    /// ```
    #[must_use]
    pub fn is_force_update(&self) -> bool {
        self.force_update
    }

    /// The fields given to [`Save::update_fields`].
    ///
    /// ```
    /// use djrs_orm_ext::Save;
    ///
    /// assert_eq!(Save::new().update_fields(["title"]).fields(), Some(&["title".to_owned()][..]));
    /// assert_eq!(Save::new().fields(), None); // every field
    /// ```
    #[must_use]
    pub fn fields(&self) -> Option<&[String]> {
        self.update_fields.as_deref()
    }

    #[cfg_attr(
        not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
        allow(dead_code, reason = "read by the save of a database feature")
    )]
    pub(crate) fn pinned_server(&self) -> Option<crate::DatabaseServer> {
        self.server
    }

    #[cfg_attr(
        not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
        allow(dead_code, reason = "read by the save of a database feature")
    )]
    pub(crate) fn expression_for(&self, column: &Column) -> Option<&sea_query::Expr> {
        self.expressions
            .iter()
            .rev()
            .find(|(name, _)| column.is_named(name))
            .map(|(_, expr)| expr)
    }

    #[cfg_attr(
        not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
        allow(dead_code, reason = "read by the save of a database feature")
    )]
    pub(crate) fn expression_names(&self) -> impl Iterator<Item = &str> {
        self.expressions.iter().map(|(name, _)| name.as_str())
    }
}

/// What a save did.
///
/// ```
/// use djrs_orm_ext::Saved;
///
/// assert_ne!(Saved::Inserted, Saved::Updated);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Saved {
    /// A row was inserted.
    Inserted,
    /// The row of the key was updated.
    Updated,
    /// Nothing was written: `update_fields` was empty.
    Skipped,
}
