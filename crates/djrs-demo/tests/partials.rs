//! The article list through `djrs-partials`: the page for a browser, `articles.html#list` for
//! htmx, the card partial alone, and htmx served by the showcase under its policy.

use axum::body::Body;
use axum::http::Request;
use djrs::paginate::CursorKey;
use djrs_demo::{AppState, Db};
use tower::ServiceExt as _;

async fn get(app: &axum::Router, uri: &str, htmx: bool) -> (u16, axum::http::HeaderMap, String) {
    call(app, Request::get(uri), htmx).await
}

async fn post(app: &axum::Router, uri: &str, htmx: bool) -> (u16, axum::http::HeaderMap, String) {
    call(
        app,
        Request::post(uri).header("Sec-Fetch-Site", "same-origin"),
        htmx,
    )
    .await
}

async fn call(
    app: &axum::Router,
    mut request: axum::http::request::Builder,
    htmx: bool,
) -> (u16, axum::http::HeaderMap, String) {
    if htmx {
        request = request.header("HX-Request", "true");
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn the_list_is_a_page_for_browsers_and_a_fragment_for_htmx() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("partials.sqlite3").display());
    let state = AppState::new(Db::connect(&url).await.unwrap(), CursorKey::new(b"p")).unwrap();
    let app = djrs_demo::app(state);

    let (status, headers, page) = get(&app, "/articles?page=2", false).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["vary"],
        "HX-Request, HX-Boosted, HX-History-Restore-Request"
    );
    let nonce = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap()
        .to_owned();
    assert!(page.starts_with("<!doctype html>"), "{page}");
    assert!(
        page.contains(&format!(
            r#"<script src="/static/htmx.min.js" nonce="{nonce}"></script>"#
        )),
        "{page}"
    );
    assert!(
        page.contains(r#"<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>"#)
    );

    let (status, headers, fragment) = get(&app, "/articles?page=2", true).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["vary"],
        "HX-Request, HX-Boosted, HX-History-Restore-Request"
    );
    assert!(
        fragment.starts_with(r#"<section id="articles">"#),
        "{fragment}"
    );
    assert!(fragment.ends_with("</section>"), "{fragment}");
    assert!(!fragment.contains("<html"), "{fragment}");
    // The fragment is the page's own list, byte for byte.
    assert!(page.contains(&fragment));
    assert_eq!(fragment.matches("<li id=\"article-").count(), 10);
    assert!(fragment.contains(r#"<li id="article-11">"#), "{fragment}");
    assert!(
        fragment.contains(r#"<a rel="next" href="?page=3" hx-get="?page=3">next ›</a>"#),
        "{fragment}"
    );
    assert!(fragment.contains(r##"hx-target="#articles" hx-swap="outerHTML" hx-push-url="true""##));

    let (status, _, card) = get(&app, "/articles/11/card", false).await;
    assert_eq!(status, 200);
    assert!(
        card.starts_with(r#"<li id="article-11"><strong>"#),
        "{card}"
    );
    assert!(
        fragment.contains(&card),
        "the card alone is the card in the loop"
    );
    assert_eq!(get(&app, "/articles/100000/card", false).await.0, 404);

    let (status, headers, js) = get(&app, "/static/htmx.min.js", false).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert!(js.starts_with("var htmx=function()"));
}

#[tokio::test]
async fn starring_answers_htmx_with_the_card_the_count_out_of_band_and_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("stars.sqlite3").display());
    let state = AppState::new(Db::connect(&url).await.unwrap(), CursorKey::new(b"p")).unwrap();
    let app = djrs_demo::app(state);

    let (status, headers, body) = post(&app, "/articles/3/star", true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["hx-trigger"], r#"{"starred":{"id":3,"on":true}}"#);
    assert!(
        body.starts_with(r#"<li id="article-3">"#) && body.contains("★ starred"),
        "{body}"
    );
    assert!(
        body.ends_with(r#"<p hx-swap-oob="true" id="starred-count" class="meta">Starred: 1</p>"#),
        "{body}"
    );

    // Without JavaScript: the star goes, and the browser is sent back to the list, which shows it.
    let (status, headers, _) = post(&app, "/articles/3/star", false).await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/articles");
    let (_, _, page) = get(&app, "/articles", false).await;
    assert!(page.contains("Starred: 0") && !page.contains("★ starred"));

    // Unknown and malformed ids; a cross-site form is refused before anything is starred.
    assert_eq!(post(&app, "/articles/99999/star", true).await.0, 404);
    assert_eq!(post(&app, "/articles/x%0a/star", true).await.0, 400);
    let response = app
        .clone()
        .oneshot(
            Request::post("/articles/4/star")
                .header("Sec-Fetch-Site", "cross-site")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let (_, _, page) = get(&app, "/articles", false).await;
    assert!(page.contains("Starred: 0"), "nothing was starred");
}
