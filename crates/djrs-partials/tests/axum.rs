//! The axum adapter through a real `Router`: page or fragment by htmx headers, `Vary`,
//! out-of-band fragments, 500 without detail, and (feature `csp`) the request's nonce.
#![cfg(feature = "axum")]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::routing::get;
use djrs_partials::Templates;
use djrs_partials::axum::{Htmx, HxRequest, Template};
use http::Request;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

const PAGE: &str = r#"<html>{% partialdef list inline %}<ul id="list">{% for a in articles %}<li>{{ a }}</li>{% endfor %}</ul>{% endpartialdef %}{% partialdef count %}<span id="count" hx-swap-oob="true">{{ articles | length }}</span>{% endpartialdef %}</html>"#;

fn app() -> Router {
    let mut templates = Templates::new();
    templates.add_raw_template("page.html", PAGE).unwrap();
    templates
        .add_raw_template("broken.html", "{{ missing_secret_variable }}")
        .unwrap();
    let templates = Arc::new(templates);
    let ctx = || {
        let mut c = tera::Context::new();
        c.insert("articles", &["a", "<b>"]);
        c
    };
    Router::new()
        .route(
            "/",
            get(
                move |State(t): State<Arc<Templates>>, htmx: Htmx| async move {
                    Template::page_or_fragment(t, &htmx, "page.html", "list", ctx())
                },
            ),
        )
        .route(
            "/oob",
            get(move |State(t): State<Arc<Templates>>| async move {
                Template::fragments(t, ["page.html#list", "page.html#count"], ctx())
            }),
        )
        .route(
            "/hx",
            get(|HxRequest(hx): HxRequest| async move { if hx { "htmx" } else { "browser" } }),
        )
        .route(
            "/broken",
            get(|State(t): State<Arc<Templates>>| async move {
                Template::new(t, "broken.html", tera::Context::new())
            }),
        )
        .with_state(templates)
}

async fn call(app: &Router, uri: &str, headers: &[(&str, &str)]) -> (u16, http::HeaderMap, String) {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

const LIST: &str = r#"<ul id="list"><li>a</li><li>&lt;b&gt;</li></ul>"#;

#[tokio::test]
async fn one_handler_serves_the_page_or_the_fragment() {
    let app = app();
    let (status, headers, body) = call(&app, "/", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body, format!("<html>{LIST}</html>"));
    assert_eq!(
        headers["vary"],
        "HX-Request, HX-Boosted, HX-History-Restore-Request"
    );
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");

    let (_, headers, body) = call(&app, "/", &[("HX-Request", "true")]).await;
    assert_eq!(body, LIST);
    assert_eq!(
        headers["vary"],
        "HX-Request, HX-Boosted, HX-History-Restore-Request"
    );

    // A history restore needs the whole page.
    let (_, _, body) = call(
        &app,
        "/",
        &[
            ("HX-Request", "true"),
            ("HX-History-Restore-Request", "true"),
        ],
    )
    .await;
    assert_eq!(body, format!("<html>{LIST}</html>"));
}

/// htmx swaps a boosted response into `<body>`: a fragment would drop the page around it.
#[tokio::test]
async fn a_boosted_request_gets_the_full_page() {
    let app = app();
    let (_, headers, body) =
        call(&app, "/", &[("HX-Request", "true"), ("HX-Boosted", "true")]).await;
    assert_eq!(body, format!("<html>{LIST}</html>"));
    assert!(headers["vary"].to_str().unwrap().contains("HX-Boosted"));
    // `HX-Boosted: false` is not boosted.
    let (_, _, body) = call(
        &app,
        "/",
        &[("HX-Request", "true"), ("HX-Boosted", "false")],
    )
    .await;
    assert_eq!(body, LIST);
}

#[tokio::test]
async fn out_of_band_fragments_in_one_response() {
    let (_, headers, body) = call(&app(), "/oob", &[]).await;
    assert_eq!(
        body,
        format!(r#"{LIST}<span id="count" hx-swap-oob="true">2</span>"#)
    );
    assert!(headers.get("vary").is_none());
}

#[tokio::test]
async fn hx_request_extractor() {
    let app = app();
    assert_eq!(call(&app, "/hx", &[]).await.2, "browser");
    assert_eq!(call(&app, "/hx", &[("HX-Request", "true")]).await.2, "htmx");
    assert_eq!(
        call(&app, "/hx", &[("HX-Request", "false")]).await.2,
        "browser"
    );
}

#[tokio::test]
async fn a_render_error_is_a_500_without_detail() {
    let (status, _, body) = call(&app(), "/broken", &[]).await;
    assert_eq!(status, 500);
    assert_eq!(body, "Internal Server Error");
    assert!(!body.contains("missing_secret_variable"));
}

#[cfg(feature = "csp")]
#[tokio::test]
async fn the_requests_nonce_is_in_every_template() {
    use djrs_csp::{CspLayer, CspSource, Policy};

    let mut templates = Templates::new();
    templates
        .add_raw_template(
            "p.html",
            r#"<script nonce="{{ csp_nonce() }}"></script>{% partialdef f %}<i nonce="{{ csp_nonce() }}"></i>{% endpartialdef %}"#,
        )
        .unwrap();
    let policy = Policy::builder()
        .directive("script-src", [CspSource::NONCE])
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/",
            get(|State(t): State<Arc<Templates>>, htmx: Htmx| async move {
                Template::page_or_fragment(t, &htmx, "p.html", "f", tera::Context::new())
            }),
        )
        .with_state(Arc::new(templates))
        .layer(CspLayer::new().enforce(policy));
    for (headers, prefix) in [
        (&[][..], "<script nonce=\""),
        (&[("HX-Request", "true")][..], "<i nonce=\""),
    ] {
        let (status, h, body) = call(&app, "/", headers).await;
        assert_eq!(status, 200, "{body}");
        let nonce = body
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(nonce.len(), 22);
        assert_eq!(
            h["content-security-policy"],
            format!("script-src 'nonce-{nonce}'").as_str()
        );
    }
}

#[cfg(feature = "csp")]
#[tokio::test]
async fn the_csp_layer_gives_every_template_the_nonce() {
    use djrs_csp::{CspLayer, CspSource, Policy};

    let mut templates = Templates::new();
    templates
        .add_raw_template("p.html", r#"<script nonce="{{ csp_nonce() }}"></script>"#)
        .unwrap();
    let policy = Policy::builder()
        .directive("script-src", [CspSource::NONCE])
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/template",
            get(|State(t): State<Arc<Templates>>| async move {
                Template::new(t, "p.html", tera::Context::new())
            }),
        )
        .route(
            "/direct",
            get(|State(t): State<Arc<Templates>>| async move {
                axum::response::Html(t.render("p.html", &tera::Context::new()).unwrap())
            }),
        )
        .with_state(Arc::new(templates))
        .layer(CspLayer::new().enforce(policy));
    for path in ["/template", "/direct"] {
        let (status, h, body) = call(&app, path, &[]).await;
        assert_eq!(status, 200, "{path}: {body}");
        let nonce = body
            .strip_prefix("<script nonce=\"")
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(
            h["content-security-policy"],
            format!("script-src 'nonce-{nonce}'").as_str(),
            "{path}"
        );
    }
}
