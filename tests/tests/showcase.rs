//! The showcase's JSON pages agree with `djrs::paginate` used directly on the same rows.

use axum::body::Body;
use axum::http::Request;
use djrs::paginate::CursorKey;
use djrs::prelude::*;
use djrs_demo::{AppState, Article, Db, PER_PAGE, SEED_ARTICLES};
use tower::ServiceExt;

async fn json(app: &axum::Router, uri: &str) -> (u16, serde_json::Value) {
    let (status, _, body) = json_and_link(app, uri).await;
    (status, body)
}

#[tokio::test]
async fn api_pages_match_the_paginator() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("e2e.sqlite3").display());
    let db = Db::connect(&url).await.unwrap();
    let rows: Vec<Article> = db
        .pool()
        .query("SELECT id, title, published_at FROM article ORDER BY id")
        .fetch_all()
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

async fn json_and_link(app: &axum::Router, uri: &str) -> (u16, Option<String>, serde_json::Value) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let link = response
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    (
        status,
        link,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// The ids of a page's results.
fn ids(body: &serde_json::Value) -> Vec<i64> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn drf_shaped_pages_and_cursors_walk_every_article_by_their_links() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("v1.sqlite3").display());
    let app = djrs_demo::app(
        AppState::new(Db::connect(&url).await.unwrap(), CursorKey::new(b"v1")).unwrap(),
    );

    // Numbered pages: DRF's envelope, the client's page size up to 100, Link headers.
    let (status, link, body) = json_and_link(&app, "/api/v1/articles?page_size=25&page=2").await;
    assert_eq!(status, 200);
    assert_eq!(body["count"], SEED_ARTICLES);
    assert_eq!(ids(&body), (26..=50).collect::<Vec<i64>>());
    assert_eq!(body["next"], "/api/v1/articles?page_size=25&page=3");
    assert_eq!(body["previous"], "/api/v1/articles?page_size=25");
    assert_eq!(
        link.as_deref(),
        Some(
            "</api/v1/articles?page_size=25>; rel=\"first\", \
             </api/v1/articles?page_size=25>; rel=\"prev\", \
             </api/v1/articles?page_size=25&page=3>; rel=\"next\", \
             </api/v1/articles?page_size=25&page=12>; rel=\"last\""
        )
    );
    let (_, _, body) = json_and_link(&app, "/api/v1/articles?page_size=100000").await;
    assert_eq!(ids(&body).len(), 100);
    assert_eq!(json_and_link(&app, "/api/v1/articles?page=31").await.0, 404);

    // Cursors: newest first, `next` to the end, then `previous` back to the start.
    let mut uri = Some("/api/v1/articles/cursor?page_size=40".to_owned());
    let mut seen = Vec::new();
    let mut last = serde_json::Value::Null;
    while let Some(next) = uri {
        let (status, link, body) = json_and_link(&app, &next).await;
        assert_eq!(status, 200, "{next}");
        assert!(body.get("count").is_none(), "no count on cursor pages");
        seen.extend(ids(&body));
        uri = body["next"].as_str().map(str::to_owned);
        if let Some(next) = &uri {
            assert!(
                link.as_deref()
                    .unwrap()
                    .contains(&format!("<{next}>; rel=\"next\""))
            );
        }
        last = body;
    }
    assert_eq!(seen, (1..=SEED_ARTICLES).rev().collect::<Vec<i64>>());
    let mut back = Vec::new();
    let mut uri = last["previous"].as_str().map(str::to_owned);
    while let Some(previous) = uri {
        let (_, _, body) = json_and_link(&app, &previous).await;
        back.push(ids(&body));
        uri = body["previous"].as_str().map(str::to_owned);
    }
    let back: Vec<i64> = back.into_iter().rev().flatten().collect();
    assert_eq!(back, (21..=SEED_ARTICLES).rev().collect::<Vec<i64>>());

    // A tampered cursor is a 404 with a plain message.
    let (status, _, _) = json_and_link(&app, "/api/v1/articles/cursor?cursor=abc.def").await;
    assert_eq!(status, 404);
}
