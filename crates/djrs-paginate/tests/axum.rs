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

/// An API over 0..95 in DRF's page-number shape, its page size from `?size=` up to 20.
async fn api(
    url: djrs_paginate::axum::RequestUrl,
    page: PageParam,
) -> Result<
    djrs_paginate::axum::Paginated<djrs_paginate::PageEnvelope<Vec<u64>>>,
    PaginationRejection,
> {
    let size = url.page_size(&djrs_paginate::PageSize::new(10).param("size").max(20));
    let paginator = AsyncPaginator::new((0..95_u64).collect::<Vec<_>>(), size);
    let page = page.apage(&paginator).await?;
    Ok(djrs_paginate::axum::Paginated::page(&url, page, "page"))
}

async fn get_api(
    app: &Router,
    uri: &str,
    host: &str,
) -> (StatusCode, Option<String>, serde_json::Value) {
    let response = app
        .clone()
        .oneshot(
            Request::get(uri)
                .header("host", host)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let link = response
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        link,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn api_pages_link_to_each_other_under_a_prefix_whatever_the_host_says() {
    let app = Router::new().nest("/v1", Router::new().route("/items", get(api)));

    let (status, link, body) =
        get_api(&app, "/v1/items?q=%C3%A9+x&page=2&size=30", "evil.example").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::json!({
            "count": 95,
            "next": "/v1/items?q=%C3%A9+x&page=3&size=30",
            "previous": "/v1/items?q=%C3%A9+x&size=30",
            "results": (20..40).collect::<Vec<u64>>(),
        })
    );
    assert_eq!(
        link.as_deref(),
        Some(
            "</v1/items?q=%C3%A9+x&size=30>; rel=\"first\", \
             </v1/items?q=%C3%A9+x&size=30>; rel=\"prev\", \
             </v1/items?q=%C3%A9+x&page=3&size=30>; rel=\"next\", \
             </v1/items?q=%C3%A9+x&page=5&size=30>; rel=\"last\""
        )
    );

    // Following `next` from the first page reaches every object once, and the last page has
    // no next link.
    let mut uri = Some("/v1/items?size=7".to_owned());
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(next) = uri {
        let (status, link, body) = get_api(&app, &next, "localhost").await;
        assert_eq!(status, StatusCode::OK, "{next}");
        seen.extend(
            body["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap()),
        );
        uri = body["next"].as_str().map(str::to_owned);
        assert_eq!(
            link.as_deref().is_some_and(|l| l.contains("rel=\"next\"")),
            uri.is_some()
        );
        pages += 1;
    }
    assert_eq!(seen, (0..95).collect::<Vec<u64>>());
    assert_eq!(pages, 14);

    // A page past the end is Django's 404; a bad size is the default.
    let (status, _, _) = get_api(&app, "/v1/items?page=11", "localhost").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, body) = get_api(&app, "/v1/items?size=-4", "localhost").await;
    assert_eq!(body["results"].as_array().unwrap().len(), 10);
}
