//! The showcase's answers to hostile requests, on a real PostgreSQL database of its own: NUL
//! characters are refused with our own 400, no database text ever reaches a response body,
//! every response carries Django's default security headers, and cross-site state-changing
//! requests are refused with a 403.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use djrs::paginate::CursorKey;
use djrs_demo::{AppState, Db};
use djrs_test_support::PgDatabase;
use tower::ServiceExt as _;

/// A PostgreSQL database of its own, dropped at the end of the test.
async fn call(app: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn form(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn json(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// Words of PostgreSQL's error messages that must never be sent.
const DATABASE_WORDS: [&str; 6] = [
    "invalid byte sequence",
    "0x00",
    "relation",
    "does not exist",
    "SQLSTATE",
    "error returned from database",
];

fn assert_no_database_text(body: &str) {
    for word in DATABASE_WORDS {
        assert!(!body.contains(word), "database text {word:?} in {body:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_nul_input_is_a_400_and_database_errors_stay_in_the_log() {
    let database = PgDatabase::create("djrs_demo_nul")
        .await
        .expect("PostgreSQL is reachable");
    let db = Db::connect(database.url()).await.unwrap();
    let app = djrs_demo::app(AppState::new(db.clone(), CursorKey::random()).unwrap());

    for (request, field) in [
        (
            form("/welcome", "name=A%00da&email=ada%40example.com"),
            "name",
        ),
        (
            form("/welcome", "name=Ada&email=ada%00%40example.com"),
            "email",
        ),
    ] {
        let (status, body) = call(&app, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body.contains(&format!("The {field} contains a NUL character")),
            "{body}"
        );
        assert_no_database_text(&body);
    }
    let (status, body) = call(
        &app,
        json("/api/articles/1/tags", r#"{"name": "a\u0000b"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("NUL character"), "{body}");
    assert_no_database_text(&body);

    // A database failure: the tag table is gone. The body says so in our words only.
    db.pool().query("DROP TABLE tag").execute().await.unwrap();
    let (status, body) = call(
        &app,
        Request::get("/api/articles/tags")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_no_database_text(&body);
    let (status, body) = call(&app, json("/api/articles/1/tags", r#"{"name": "x"}"#)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_no_database_text(&body);
    db.pool()
        .query("DROP TABLE outbox")
        .execute()
        .await
        .unwrap();
    let (status, body) = call(&app, Request::get("/outbox").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_no_database_text(&body);

    db.pool().close().await;
}

async fn sqlite_app() -> (axum::Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("headers.sqlite3").display());
    let db = Db::connect(&url).await.unwrap();
    (
        djrs_demo::app(AppState::new(db, CursorKey::random()).unwrap()),
        dir,
    )
}

#[tokio::test]
async fn every_response_carries_djangos_default_security_headers() {
    let (app, _dir) = sqlite_app().await;
    for request in [
        Request::get("/").body(Body::empty()).unwrap(),
        Request::get("/articles?page=2")
            .body(Body::empty())
            .unwrap(),
        Request::get("/api/articles?page=99")
            .body(Body::empty())
            .unwrap(),
        Request::get("/no/such/page").body(Body::empty()).unwrap(),
        Request::get("/static/htmx.min.js")
            .body(Body::empty())
            .unwrap(),
        Request::get("/tasks").body(Body::empty()).unwrap(),
        form("/welcome", "name=&email="),
    ] {
        let uri = request.uri().clone();
        let response = app.clone().oneshot(request).await.unwrap();
        let headers = response.headers();
        for (name, value) in djrs_demo::security::SECURITY_HEADERS {
            assert_eq!(headers[name], value, "{uri}: {name}");
        }
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "same-origin");
        assert_eq!(headers["cross-origin-opener-policy"], "same-origin");
        assert_eq!(headers["x-frame-options"], "DENY");
    }
}

#[tokio::test]
async fn cross_site_state_changing_requests_are_refused() {
    let (app, _dir) = sqlite_app().await;
    let welcome = "name=Ada&email=ada%40example.com";
    let with = |path: &str, body: &str, headers: &[(&'static str, &str)]| {
        let mut request = form(path, body);
        request
            .headers_mut()
            .insert("host", "127.0.0.1:8000".parse().unwrap());
        for (k, v) in headers {
            request.headers_mut().insert(*k, v.parse().unwrap());
        }
        request
    };
    for headers in [
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "http://evil.example")],
        &[("origin", "null")],
    ] {
        for path in ["/welcome", "/api/articles/1/tags"] {
            let (status, body) = call(&app, with(path, welcome, headers)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path} {headers:?}");
            assert_eq!(body, djrs_demo::security::CROSS_SITE_REFUSED);
        }
    }
    // The task console's actions are behind the same check.
    let (status, _) = call(
        &app,
        with(
            "/tasks/actions",
            "action=pause&queue=default&confirm=yes",
            &[("sec-fetch-site", "cross-site")],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The same form from the site's own page, and from a client that is not a browser.
    for headers in [
        &[
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://127.0.0.1:8000"),
        ][..],
        &[("origin", "http://127.0.0.1:8000")],
        &[],
    ] {
        let (status, body) = call(&app, with("/welcome", welcome, headers)).await;
        assert_eq!(status, StatusCode::OK, "{headers:?}: {body}");
    }
    // Browsers post CSP reports from any page: the report endpoint stays open.
    let mut report = Request::post("/csp/report")
        .header("content-type", "application/csp-report")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(
            r#"{"csp-report": {"document-uri": "http://x/", "violated-directive": "img-src"}}"#,
        ))
        .unwrap();
    report
        .headers_mut()
        .insert("host", "127.0.0.1:8000".parse().unwrap());
    assert_eq!(call(&app, report).await.0, StatusCode::NO_CONTENT);
}
