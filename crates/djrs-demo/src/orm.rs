//! Django 6.0's ORM additions in the showcase, through djrs-orm-ext.
//!
//! - `GET /api/articles/tags?limit=N`: each article with its tags in one column, joined by
//!   `StringAgg` (`STRING_AGG` on PostgreSQL and SQLite, as Django 6.0 renders it).
//! - `POST /api/articles/{id}/tags` with `{"name": "…"}`: saves a [`Tag`] record; its 64-bit
//!   auto key and its generated `slug` column come back from the database through `RETURNING`.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query as QueryParams, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use djrs::orm_ext::{DatabaseServer, Record, StringAgg, big_auto_column};
use djrs::sea_query::{
    ColumnDef, Expr, ExprTrait, Index, InsertStatement, OnConflict, Order, Query, SelectStatement,
    Table,
};
use serde::{Deserialize, Serialize};

use crate::{AppState, Db};

/// A tag of an article. `slug` is a generated column (`lower(replace(name, ' ', '-'))`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Record)]
#[record(table = "tag")]
pub struct Tag {
    /// The 64-bit auto key (Django's `BigAutoField`), `None` until saved.
    pub id: Option<i64>,
    /// The tagged article.
    pub article_id: i64,
    /// The tag as written.
    pub name: String,
    /// Computed by the database from `name`.
    #[record(generated(name))]
    pub slug: Option<String>,
}

/// An article with its tags joined into one string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ArticleTags {
    /// The article's key.
    pub id: i64,
    /// Its headline.
    pub title: String,
    /// Its tags, alphabetical, joined by ", " (empty when it has none).
    pub tags: String,
}

/// Errors of the ORM endpoints, answered as JSON `{"error": …}`.
#[derive(Debug, thiserror::Error)]
pub enum OrmError {
    /// The request is invalid.
    #[error("{0}")]
    BadRequest(String),
    /// The article does not exist.
    #[error("no article has this id")]
    NotFound,
    /// The article already has this tag.
    #[error("the article already has this tag")]
    Conflict,
    /// The database failed. Holds the database's message, which is logged and never sent.
    #[error("database error: {0}")]
    Database(String),
}

impl From<djrs::orm_ext::Error> for OrmError {
    fn from(err: djrs::orm_ext::Error) -> Self {
        if err.is_unique_violation() {
            OrmError::Conflict
        } else {
            OrmError::Database(err.to_string())
        }
    }
}

impl From<sqlx::Error> for OrmError {
    fn from(err: sqlx::Error) -> Self {
        OrmError::Database(err.to_string())
    }
}

impl IntoResponse for OrmError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            OrmError::BadRequest(_) => (StatusCode::BAD_REQUEST, self.to_string()),
            OrmError::NotFound => (StatusCode::NOT_FOUND, self.to_string()),
            OrmError::Conflict => (StatusCode::CONFLICT, self.to_string()),
            OrmError::Database(detail) => {
                // The database's words stay in the log (escaped: they may quote the input).
                tracing::error!(error = ?detail, "ORM request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the request could not be completed; the error was logged".to_owned(),
                )
            }
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}

/// Creates the `tag` table and tags the seed articles, on first start.
///
/// # Errors
/// Any database failure.
pub async fn migrate_and_seed(db: &Db) -> Result<(), crate::Error> {
    let db = db.pool();
    let server = db.server().await?;
    let create = Table::create()
        .table("tag")
        .if_not_exists()
        .col(big_auto_column("id", &server))
        .col(ColumnDef::new("article_id").big_integer().not_null())
        .col(ColumnDef::new("name").text().not_null())
        .col(
            ColumnDef::new("slug")
                .text()
                .generated(Expr::cust("lower(replace(name, ' ', '-'))"), true),
        )
        .to_owned();
    db.schema(&create).execute().await?;
    let unique = Index::create()
        .if_not_exists()
        .unique()
        .name("tag_article_name")
        .table("tag")
        .col("article_id")
        .col("name")
        .to_owned();
    db.schema(&unique).execute().await?;
    let count: i64 = db.query("SELECT COUNT(*) FROM tag").fetch_scalar().await?;
    if count == 0 {
        db.statement(&seed_statement()).execute().await?;
    }
    Ok(())
}

/// Two tags for each seed article: one for its topic, one for its angle.
fn seed_statement() -> InsertStatement {
    const TOPIC_TAGS: [&str; 10] = [
        "Tasks",
        "CSP",
        "Templates",
        "Pagination",
        "Mail",
        "ORM",
        "ORM",
        "ORM",
        "ORM",
        "Templates",
    ];
    const ANGLE_TAGS: [&str; 6] = [
        "Practice",
        "Tutorial",
        "Performance",
        "Explainer",
        "Axum",
        "Deep Dive",
    ];
    let mut insert = Query::insert();
    insert
        .into_table("tag")
        .columns(["article_id", "name"])
        // Two processes starting at once may both seed: the unique index makes it idempotent.
        .on_conflict(OnConflict::new().do_nothing().to_owned());
    for i in 1..=crate::SEED_ARTICLES {
        let topic = TOPIC_TAGS[(i as usize) % TOPIC_TAGS.len()];
        let angle = ANGLE_TAGS[(i as usize / TOPIC_TAGS.len()) % ANGLE_TAGS.len()];
        insert.values_panic([i.into(), topic.into()]);
        insert.values_panic([i.into(), angle.into()]);
    }
    insert
}

/// Articles by id with their tags in one column.
fn article_tags_query(
    backend: &DatabaseServer,
    limit: u64,
) -> Result<SelectStatement, djrs::orm_ext::Error> {
    let tags = StringAgg::new(Expr::col(("tag", "name")))
        .delimiter(", ")
        .order_by(Expr::col(("tag", "name")), Order::Asc)
        .default("");
    Ok(Query::select()
        .column(("article", "id"))
        .column(("article", "title"))
        .expr_as(tags.to_expr(backend)?, "tags")
        .from("article")
        .left_join(
            "tag",
            Expr::col(("tag", "article_id")).equals(("article", "id")),
        )
        .group_by_col(("article", "id"))
        .group_by_col(("article", "title"))
        .order_by(("article", "id"), Order::Asc)
        .limit(limit)
        .to_owned())
}

/// The first `limit` articles with their tags.
///
/// # Errors
/// A database failure.
pub async fn article_tags(db: &Db, limit: u64) -> Result<Vec<ArticleTags>, OrmError> {
    let db = db.pool();
    let query = article_tags_query(&db.server().await?, limit)?;
    Ok(db.select(&query).fetch_all().await?)
}

/// Tags article `article_id` with `name`, returning the saved tag (key and slug filled in).
///
/// # Errors
/// [`OrmError::BadRequest`] for an empty or over-long name, [`OrmError::NotFound`] for an
/// unknown article, or a database failure.
pub async fn add_tag(db: &Db, article_id: i64, name: &str) -> Result<Tag, OrmError> {
    let name = name.trim();
    if name.contains('\0') {
        return Err(OrmError::BadRequest(
            "a tag name cannot contain a NUL character (U+0000)".into(),
        ));
    }
    if name.is_empty() || name.chars().count() > 50 {
        return Err(OrmError::BadRequest(
            "a tag name of 1 to 50 characters is required".into(),
        ));
    }
    const EXISTS: &str = "SELECT COUNT(*) FROM article WHERE id = $1";
    let db = db.pool();
    let found: i64 = db.query(EXISTS).bind(article_id).fetch_scalar().await?;
    if found == 0 {
        return Err(OrmError::NotFound);
    }
    let mut tag = Tag {
        id: None,
        article_id,
        name: name.to_owned(),
        slug: None,
    };
    db.save(&mut tag).await?;
    Ok(tag)
}

#[derive(Debug, Deserialize)]
struct Limit {
    limit: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct NewTag {
    name: String,
}

/// `GET /api/articles/tags?limit=N` (default 20, at most 100).
async fn list(
    State(state): State<AppState>,
    QueryParams(limit): QueryParams<Limit>,
) -> Result<Json<Vec<ArticleTags>>, OrmError> {
    let limit = limit.limit.unwrap_or(20).clamp(1, 100);
    Ok(Json(article_tags(&state.db, limit).await?))
}

/// `POST /api/articles/{id}/tags` with `{"name": "…"}`: 201 and the saved tag.
async fn create(
    State(state): State<AppState>,
    Path(article_id): Path<i64>,
    Json(new): Json<NewTag>,
) -> Result<(StatusCode, Json<Tag>), OrmError> {
    Ok((
        StatusCode::CREATED,
        Json(add_tag(&state.db, article_id, &new.name).await?),
    ))
}

/// The ORM endpoints, merged into the showcase's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/articles/tags", get(list))
        .route("/api/articles/{id}/tags", post(create))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn tags_in_one_column_and_generated_slug() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("orm.sqlite3").display());
        let db = Db::connect(&url).await.unwrap();
        let state = AppState::new(db, djrs::paginate::CursorKey::new(b"test")).unwrap();
        let app = crate::app(state);

        let response = app
            .clone()
            .oneshot(
                Request::get("/api/articles/tags?limit=3")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let rows: Vec<ArticleTags> = serde_json::from_value(body_json(response).await).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].id, 1);
        assert_eq!(rows[0].tags, "CSP, Practice");

        let response = app
            .clone()
            .oneshot(
                Request::post("/api/articles/1/tags")
                    .header("content-type", "application/json")
                    .body(Body::from(r#"{"name": "Big Auto Field"}"#))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let tag = body_json(response).await;
        assert_eq!(tag["slug"], "big-auto-field");
        assert_eq!(tag["id"], 601);

        let response = app
            .clone()
            .oneshot(
                Request::get("/api/articles/tags?limit=1")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let rows: Vec<ArticleTags> = serde_json::from_value(body_json(response).await).unwrap();
        assert_eq!(rows[0].tags, "Big Auto Field, CSP, Practice");

        for (path, body, status) in [
            (
                "/api/articles/1/tags",
                r#"{"name": "CSP"}"#,
                StatusCode::CONFLICT,
            ),
            (
                "/api/articles/1/tags",
                r#"{"name": "  "}"#,
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/articles/99999/tags",
                r#"{"name": "x"}"#,
                StatusCode::NOT_FOUND,
            ),
        ] {
            let response = app
                .clone()
                .oneshot(
                    Request::post(path)
                        .header("content-type", "application/json")
                        .body(Body::from(body))
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(response.status(), status, "{path} {body}");
        }
    }
}
