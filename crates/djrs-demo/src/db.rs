//! The showcase's database: the embedded SQLite file or a PostgreSQL server, its schema and seed
//! data, and the article rows the pages list.

use std::sync::Arc;

use djrs::orm_ext::big_auto_column;
use djrs::paginate::{KeyValue, KeysetRow};
use djrs::sea_query::{
    ColumnDef, Expr, ExprTrait, InsertStatement, OnConflict, Query, SelectStatement, Table,
};
use serde::Serialize;

use crate::{Error, SEED_ARTICLES, jobs, orm, security};

/// The showcase's database: the embedded SQLite file or a PostgreSQL server, through
/// [`djrs::db::Db`], which does the per-database dispatch once for every battery.
#[derive(Debug, Clone)]
pub struct Db(djrs::db::Db);

impl Db {
    /// Connects to `url` (`sqlite://FILE` creates the file), creates the schema and seeds it
    /// on first start.
    ///
    /// # Errors
    /// An unsupported URL, or any database failure.
    pub async fn connect(url: &str) -> Result<Db, Error> {
        if !url.starts_with("sqlite:") && !url.starts_with("postgres") {
            // The showcase's SQL is written for these two.
            return Err(Error::UnsupportedDatabase(security::redact_url(url)));
        }
        let db = Db(djrs::db::Db::connect(url).await?);
        db.migrate_and_seed().await?;
        orm::migrate_and_seed(&db).await?;
        Ok(db)
    }

    /// The pool, for the batteries' entry points ([`djrs::db::Db::paginator`], `keyset`,
    /// `save`, `select`, `tasks_backend`).
    #[must_use]
    pub fn pool(&self) -> &djrs::db::Db {
        &self.0
    }

    /// The engine's name, for the pages.
    #[must_use]
    pub fn engine(&self) -> String {
        self.0.engine().to_string()
    }

    /// Where the task queue lives: in the data's own database, the SQLite file or PostgreSQL
    /// (where several `djrs-demo worker` processes on several machines share it).
    #[must_use]
    pub fn tasks_backend(&self) -> Arc<dyn djrs::tasks::Backend> {
        self.0.tasks_backend()
    }

    /// Writes an outbox message, returning its key. The task id makes the write idempotent: a
    /// retried task writes one row. (Sending the mail once is [`Db::begin_delivery`]'s part.)
    ///
    /// # Errors
    /// When the database write fails.
    pub async fn insert_outbox(
        &self,
        recipient: &str,
        subject: &str,
        body: &str,
        task_id: &str,
    ) -> Result<i64, sqlx::Error> {
        const INSERT: &str = "INSERT INTO outbox (recipient, subject, body, task_id) VALUES ($1, $2, $3, $4) \
            ON CONFLICT (task_id) DO UPDATE SET subject = excluded.subject RETURNING id";
        self.0
            .query(INSERT)
            .bind(recipient)
            .bind(subject)
            .bind(body)
            .bind(task_id)
            .fetch_scalar()
            .await
    }

    /// Records the intent to send the mail of task `task_id` with `message_id`, before it is
    /// sent, and says whether an earlier attempt already sent it (then skip the send).
    ///
    /// # Errors
    /// When the database write fails.
    pub async fn begin_delivery(
        &self,
        task_id: &str,
        message_id: &str,
    ) -> Result<bool, sqlx::Error> {
        const INSERT: &str = "INSERT INTO delivery (task_id, message_id, sent) VALUES ($1, $2, 0) \
            ON CONFLICT (task_id) DO NOTHING";
        const SENT: &str = "SELECT sent FROM delivery WHERE task_id = $1";
        self.0
            .query(INSERT)
            .bind(task_id)
            .bind(message_id)
            .execute()
            .await?;
        let sent: i64 = self.0.query(SENT).bind(task_id).fetch_scalar().await?;
        Ok(sent != 0)
    }

    /// Marks the mail of task `task_id` sent: later attempts skip the send.
    ///
    /// # Errors
    /// When the database write fails.
    pub async fn finish_delivery(&self, task_id: &str) -> Result<(), sqlx::Error> {
        const UPDATE: &str = "UPDATE delivery SET sent = 1 WHERE task_id = $1";
        self.0.query(UPDATE).bind(task_id).execute().await?;
        Ok(())
    }

    /// One article by key.
    ///
    /// # Errors
    /// When the database read fails.
    pub async fn article(&self, id: i64) -> Result<Option<Article>, sqlx::Error> {
        let select = article_columns()
            .and_where(Expr::col("id").eq(id))
            .to_owned();
        self.0.select(&select).fetch_optional().await
    }

    /// The newest outbox messages.
    ///
    /// # Errors
    /// When the database read fails.
    pub async fn outbox(&self, limit: i64) -> Result<Vec<jobs::OutboxMessage>, sqlx::Error> {
        const SELECT: &str =
            "SELECT id, recipient, subject, body, task_id FROM outbox ORDER BY id DESC LIMIT $1";
        self.0.query(SELECT).bind(limit).fetch_all().await
    }

    async fn migrate_and_seed(&self) -> Result<(), Error> {
        let article = Table::create()
            .table("article")
            .if_not_exists()
            .col(ColumnDef::new("id").big_integer().primary_key())
            .col(ColumnDef::new("title").text().not_null())
            .col(ColumnDef::new("published_at").text().not_null())
            .to_owned();
        // One row per welcome task, written before its mail is sent (see `jobs`).
        let delivery = Table::create()
            .table("delivery")
            .if_not_exists()
            .col(ColumnDef::new("task_id").text().primary_key())
            .col(ColumnDef::new("message_id").text().not_null())
            .col(ColumnDef::new("sent").big_integer().not_null().default(0))
            .to_owned();
        let server = self.0.server().await?;
        let outbox = Table::create()
            .table("outbox")
            .if_not_exists()
            .col(big_auto_column("id", &server))
            .col(ColumnDef::new("recipient").text().not_null())
            .col(ColumnDef::new("subject").text().not_null())
            .col(ColumnDef::new("body").text().not_null())
            .col(ColumnDef::new("task_id").text().not_null().unique_key())
            .to_owned();
        for table in [article, delivery, outbox] {
            self.0.schema(&table).execute().await?;
        }
        let count: i64 = self
            .0
            .query("SELECT COUNT(*) FROM article")
            .fetch_scalar()
            .await?;
        if count == 0 {
            // Two processes starting at once may both seed: ON CONFLICT makes it idempotent.
            self.0.statement(&seed_statement()).execute().await?;
        }
        Ok(())
    }
}

/// The seed articles: deterministic titles and dates.
fn seed_statement() -> InsertStatement {
    const TOPICS: [&str; 10] = [
        "Background tasks",
        "Content Security Policy",
        "Template partials",
        "Async pagination",
        "The modern email API",
        "StringAgg everywhere",
        "Generated fields",
        "NotUpdated",
        "64-bit keys",
        "forloop.length",
    ];
    const ANGLES: [&str; 6] = [
        "in practice",
        "from scratch",
        "under load",
        "explained",
        "on axum",
        "the hard parts",
    ];
    let mut insert = Query::insert();
    insert
        .into_table("article")
        .columns(["id", "title", "published_at"])
        .on_conflict(OnConflict::column("id").do_nothing().to_owned());
    for i in 1..=SEED_ARTICLES {
        let topic = TOPICS[(i as usize) % TOPICS.len()];
        let angle = ANGLES[(i as usize / TOPICS.len()) % ANGLES.len()];
        let (month, day) = (1 + (i - 1) / 28 % 12, 1 + (i - 1) % 28);
        insert.values_panic([
            i.into(),
            format!("{topic} {angle} (#{i})").into(),
            format!("2026-{month:02}-{day:02}").into(),
        ]);
    }
    insert
}

/// One article row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Article {
    /// The 64-bit key.
    pub id: i64,
    /// The headline.
    pub title: String,
    /// The publication date, ISO 8601.
    pub published_at: String,
}

impl KeysetRow for Article {
    fn key_values(&self) -> Vec<KeyValue> {
        vec![self.id.into()]
    }
}

pub(crate) fn article_columns() -> SelectStatement {
    Query::select()
        .columns(["id", "title", "published_at"])
        .from("article")
        .to_owned()
}
