//! The showcase's JSON pages agree with `djrs::paginate` used directly on the same rows.

use axum::body::Body;
use axum::http::Request;
use djrs::paginate::CursorKey;
use djrs::prelude::*;
use djrs_demo::{AppState, Article, Db, PER_PAGE, SEED_ARTICLES};
use tower::ServiceExt;

async fn json(app: &axum::Router, uri: &str) -> (u16, serde_json::Value) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn api_pages_match_the_paginator() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("e2e.sqlite3").display());
    let db = Db::connect(&url).await.unwrap();
    let Db::Sqlite(pool) = &db else {
        unreachable!("a sqlite URL gives a SQLite database")
    };
    let rows: Vec<Article> =
        sqlx::query_as("SELECT id, title, published_at FROM article ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(rows.len() as i64, SEED_ARTICLES);

    let app = djrs_demo::app(AppState::new(db, CursorKey::new(b"e2e")).unwrap());
    let paginator = Paginator::new(&rows[..], PER_PAGE);
    for number in paginator.page_range() {
        let expected = serde_json::to_value(paginator.page(number).unwrap()).unwrap();
        let (status, got) = json(&app, &format!("/api/articles?page={number}")).await;
        assert_eq!(status, 200);
        assert_eq!(got, expected, "page {number}");
    }
    let (status, _) = json(
        &app,
        &format!("/api/articles?page={}", paginator.num_pages() + 1),
    )
    .await;
    assert_eq!(status, 404);
}
