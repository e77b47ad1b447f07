//! The `?page=` and `?cursor=` extractors through a real axum router.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use djrs_paginate::axum::{CursorParam, PageParam, PaginationRejection};
use djrs_paginate::{AsyncPaginator, Paginator};
use tower::ServiceExt;

async fn forgiving(page: PageParam) -> String {
    let paginator = Paginator::new(0..95_u64, 10);
    let page = page.get_page(&paginator).unwrap();
    page.to_string()
}

async fn strict(page: PageParam) -> Result<String, PaginationRejection> {
    let paginator = AsyncPaginator::new((0..95_u64).collect::<Vec<_>>(), 10);
    let page = page.apage(&paginator).await?;
    Ok(format!("{:?}", page.object_list()))
}

async fn cursor(cursor: CursorParam) -> String {
    cursor.token().unwrap_or("first").to_owned()
}

async fn get_text(app: &Router, uri: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// Django's list-view text for a page that is neither an integer nor `last`.
const NOT_LAST: &str = "Page is not “last”, nor can it be converted to an int.";

#[tokio::test]
async fn page_param_follows_django() {
    let app = Router::new()
        .route("/forgiving", get(forgiving))
        .route("/strict", get(strict))
        .route("/cursor", get(cursor));

    let cases = [
        ("/forgiving", StatusCode::OK, "<Page 1 of 10>"),
        ("/forgiving?page=3", StatusCode::OK, "<Page 3 of 10>"),
        ("/forgiving?page=%203%20", StatusCode::OK, "<Page 3 of 10>"),
        ("/forgiving?page=x", StatusCode::OK, "<Page 1 of 10>"),
        ("/forgiving?page=999", StatusCode::OK, "<Page 10 of 10>"),
        ("/forgiving?page=1&page=2", StatusCode::OK, "<Page 2 of 10>"),
        ("/forgiving?page=%FF", StatusCode::OK, "<Page 1 of 10>"),
        ("/strict?page=10", StatusCode::OK, "[90, 91, 92, 93, 94]"),
        (
            "/strict?page=11",
            StatusCode::NOT_FOUND,
            "Invalid page (11): That page contains no results",
        ),
        ("/strict?page=x", StatusCode::NOT_FOUND, NOT_LAST),
        ("/strict?page=1.0", StatusCode::NOT_FOUND, NOT_LAST),
        ("/strict?page=last", StatusCode::OK, "[90, 91, 92, 93, 94]"),
        (
            "/strict?page=",
            StatusCode::OK,
            "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]",
        ),
        ("/strict", StatusCode::OK, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"),
        (
            "/strict?page=%2B17%20",
            StatusCode::NOT_FOUND,
            "Invalid page (17): That page contains no results",
        ),
        (
            "/strict?page=-1",
            StatusCode::NOT_FOUND,
            "Invalid page (-1): That page number is less than 1",
        ),
        (
            "/strict?page=0",
            StatusCode::NOT_FOUND,
            "Invalid page (0): That page number is less than 1",
        ),
        ("/cursor", StatusCode::OK, "first"),
        ("/cursor?cursor=abc.def", StatusCode::OK, "abc.def"),
    ];
    for (uri, status, body) in cases {
        assert_eq!(
            get_text(&app, uri).await,
            (status, body.to_owned()),
            "{uri}"
        );
    }
}
