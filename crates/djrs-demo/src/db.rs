//! The showcase's database: the embedded SQLite file or a PostgreSQL server, its schema and seed
//! data, and the article rows the pages list.

use std::sync::Arc;

use djrs::paginate::{KeyValue, KeysetRow};
use djrs::sea_query::{Query, SelectStatement};
use djrs::tasks::SqliteBackend;
use serde::Serialize;

use crate::{Error, SEED_ARTICLES, jobs, orm, security};

/// Runs `body` on whichever pool a [`Db`] holds, the same code for both dialects:
/// `on_pool!(db, |pool| sqlx::query(SQL).execute(pool).await)`.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// The showcase's database: the embedded SQLite file or a PostgreSQL server.
#[derive(Debug, Clone)]
pub enum Db {
    /// A SQLite file.
    Sqlite(sqlx::SqlitePool),
    /// A PostgreSQL database.
    Postgres(sqlx::PgPool),
}

impl Db {
    /// Connects to `url` (`sqlite://FILE` creates the file), creates the schema and seeds it
    /// on first start.
    ///
    /// # Errors
    /// An unsupported URL, or any database failure.
    pub async fn connect(url: &str) -> Result<Db, Error> {
        Self::open(url).await.map_err(|err| match err {
            Error::Database(err) => Error::Connect {
                url: security::redact_url(url),
                reason: security::redact_password_in(&err.to_string(), url),
            },
            other => other,
        })
    }

    async fn open(url: &str) -> Result<Db, Error> {
        let db = if url.starts_with("sqlite:") {
            let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
            let options = options
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                // The task queue shares the file: writers wait for each other.
                .busy_timeout(std::time::Duration::from_secs(30));
            Db::Sqlite(sqlx::SqlitePool::connect_with(options).await?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Db::Postgres(sqlx::PgPool::connect(url).await?)
        } else {
            return Err(Error::UnsupportedDatabase(security::redact_url(url)));
        };
        db.migrate_and_seed().await?;
        orm::migrate_and_seed(&db).await?;
        Ok(db)
    }

    /// The engine's name, for the pages.
    #[must_use]
    pub fn engine(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "SQLite",
            Db::Postgres(_) => "PostgreSQL",
        }
    }

    /// Where the task queue lives: in the data's own database, the SQLite file or PostgreSQL
    /// (where several `djrs-demo worker` processes on several machines share it).
    #[must_use]
    pub fn tasks_backend(&self) -> Arc<dyn djrs::tasks::Backend> {
        match self {
            Db::Sqlite(pool) => Arc::new(SqliteBackend::from_pool(pool.clone())),
            Db::Postgres(pool) => Arc::new(djrs::tasks::PostgresBackend::from_pool(pool.clone())),
        }
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
        on_pool!(self, |pool| {
            sqlx::query_scalar(INSERT)
                .bind(recipient)
                .bind(subject)
                .bind(body)
                .bind(task_id)
                .fetch_one(pool)
                .await
        })
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
        let sent: i64 = on_pool!(self, |pool| {
            sqlx::query(INSERT)
                .bind(task_id)
                .bind(message_id)
                .execute(pool)
                .await?;
            sqlx::query_scalar(SENT)
                .bind(task_id)
                .fetch_one(pool)
                .await?
        });
        Ok(sent != 0)
    }

    /// Marks the mail of task `task_id` sent: later attempts skip the send.
    ///
    /// # Errors
    /// When the database write fails.
    pub async fn finish_delivery(&self, task_id: &str) -> Result<(), sqlx::Error> {
        const UPDATE: &str = "UPDATE delivery SET sent = 1 WHERE task_id = $1";
        on_pool!(self, |pool| {
            sqlx::query(UPDATE).bind(task_id).execute(pool).await?;
        });
        Ok(())
    }

    /// One article by key.
    ///
    /// # Errors
    /// When the database read fails.
    pub async fn article(&self, id: i64) -> Result<Option<Article>, sqlx::Error> {
        const SELECT: &str = "SELECT id, title, published_at FROM article WHERE id = $1";
        on_pool!(self, |pool| sqlx::query_as(SELECT)
            .bind(id)
            .fetch_optional(pool)
            .await)
    }

    /// The newest outbox messages.
    ///
    /// # Errors
    /// When the database read fails.
    pub async fn outbox(&self, limit: i64) -> Result<Vec<jobs::OutboxMessage>, sqlx::Error> {
        const SELECT: &str =
            "SELECT id, recipient, subject, body, task_id FROM outbox ORDER BY id DESC LIMIT $1";
        on_pool!(self, |pool| sqlx::query_as(SELECT)
            .bind(limit)
            .fetch_all(pool)
            .await)
    }

    async fn migrate_and_seed(&self) -> Result<(), Error> {
        const CREATE: &str = "CREATE TABLE IF NOT EXISTS article (\
            id BIGINT PRIMARY KEY, title TEXT NOT NULL, published_at TEXT NOT NULL)";
        const COUNT: &str = "SELECT COUNT(*) FROM article";
        // One row per welcome task, written before its mail is sent (see `jobs`).
        const DELIVERY: &str = "CREATE TABLE IF NOT EXISTS delivery (task_id TEXT PRIMARY KEY, \
            message_id TEXT NOT NULL, sent BIGINT NOT NULL DEFAULT 0)";
        let insert = seed_sql();
        match self {
            Db::Sqlite(pool) => {
                sqlx::query(CREATE).execute(pool).await?;
                sqlx::query(DELIVERY).execute(pool).await?;
                sqlx::query(
                    "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, recipient TEXT NOT NULL, \
                     subject TEXT NOT NULL, body TEXT NOT NULL, task_id TEXT NOT NULL UNIQUE)",
                )
                .execute(pool)
                .await?;
                let n: i64 = sqlx::query_scalar(COUNT).fetch_one(pool).await?;
                if n == 0 {
                    sqlx::query(sqlx::AssertSqlSafe(insert))
                        .execute(pool)
                        .await?;
                }
            }
            Db::Postgres(pool) => {
                sqlx::query(CREATE).execute(pool).await?;
                sqlx::query(DELIVERY).execute(pool).await?;
                sqlx::query(
                    "CREATE TABLE IF NOT EXISTS outbox (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \
                     recipient TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, task_id TEXT NOT NULL UNIQUE)",
                )
                .execute(pool)
                .await?;
                let n: i64 = sqlx::query_scalar(COUNT).fetch_one(pool).await?;
                if n == 0 {
                    // Seeding twice from two processes starting at once would fail on the key;
                    // ON CONFLICT makes it idempotent.
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "{insert} ON CONFLICT (id) DO NOTHING"
                    )))
                    .execute(pool)
                    .await?;
                }
            }
        }
        Ok(())
    }
}

/// The seed articles: deterministic titles and dates.
fn seed_sql() -> String {
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
    let rows: Vec<String> = (1..=SEED_ARTICLES)
        .map(|i| {
            let topic = TOPICS[(i as usize) % TOPICS.len()];
            let angle = ANGLES[(i as usize / TOPICS.len()) % ANGLES.len()];
            let (month, day) = (1 + (i - 1) / 28 % 12, 1 + (i - 1) % 28);
            format!("({i}, '{topic} {angle} (#{i})', '2026-{month:02}-{day:02}')")
        })
        .collect();
    format!(
        "INSERT INTO article (id, title, published_at) VALUES {}",
        rows.join(", ")
    )
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
