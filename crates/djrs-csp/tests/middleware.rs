//! `CspLayer` and `CspOverride` beyond Django's recorded cases: both headers with one nonce,
//! nested overrides, overrides that bring the nonce, `Reporting-Endpoints`, the empty-header
//! choice, and tower stacks without axum's router.

use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, Response};
use axum::response::Html;
use axum::routing::get;
use djrs_csp::{CspLayer, CspNonce, CspOverride, CspSource, Policy, ReportingEndpoints};
use tower::{Layer, ServiceExt as _};

fn policy(json: &str) -> Policy {
    Policy::from_json(json).unwrap()
}

async fn headers(app: Router, path: &str) -> HeaderMap {
    fetch(app, path).await.0
}

/// The headers and body of the response to `GET path`.
async fn fetch(app: Router, path: &str) -> (HeaderMap, String) {
    let response = app
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    (headers, String::from_utf8(body.to_vec()).unwrap())
}

/// The nonce of a body that [`uses_nonce`] wrote.
fn script_nonce(body: &str) -> &str {
    body.strip_prefix("<script nonce=\"")
        .and_then(|rest| rest.strip_suffix("\"></script>"))
        .unwrap_or_else(|| panic!("not a script: {body}"))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

async fn uses_nonce(nonce: CspNonce) -> Html<String> {
    Html(format!("<script nonce=\"{nonce}\"></script>"))
}

#[tokio::test]
async fn one_nonce_in_both_headers_and_only_when_used() {
    let layer = CspLayer::new()
        .enforce(policy(
            r#"{"script-src": ["<CSP_NONCE_SENTINEL>", "'strict-dynamic'"]}"#,
        ))
        .report_only(policy(
            r#"{"style-src": ["'self'", "<CSP_NONCE_SENTINEL>"]}"#,
        ));
    let app = Router::new()
        .route("/used", get(uses_nonce))
        .route("/unused", get(|_nonce: CspNonce| async { "no nonce" }))
        .layer(layer);

    let used = headers(app.clone(), "/used").await;
    let enforce = header(&used, CspSource::HEADER_ENFORCE).unwrap();
    let nonce = enforce
        .strip_prefix("script-src 'nonce-")
        .and_then(|rest| rest.strip_suffix("' 'strict-dynamic'"))
        .expect(enforce);
    assert_eq!(nonce.len(), 22);
    assert_eq!(
        header(&used, CspSource::HEADER_REPORT_ONLY),
        Some(format!("style-src 'self' 'nonce-{nonce}'").as_str())
    );

    let unused = headers(app.clone(), "/unused").await;
    assert_eq!(
        header(&unused, CspSource::HEADER_ENFORCE),
        Some("script-src 'strict-dynamic'")
    );
    assert_eq!(
        header(&unused, CspSource::HEADER_REPORT_ONLY),
        Some("style-src 'self'")
    );

    // A new nonce per request.
    let again = headers(app, "/used").await;
    assert_ne!(header(&again, CspSource::HEADER_ENFORCE), Some(enforce));
}

#[tokio::test]
async fn a_policy_rendering_to_nothing_sends_no_header() {
    // Django sends `Content-Security-Policy: ` (empty) here; no header is the same policy and
    // does not look like a misconfigured one.
    let app = Router::new()
        .route("/", get(|| async { "x" }))
        .route("/nonce", get(uses_nonce))
        .layer(CspLayer::new().enforce(policy(r#"{"script-src": ["<CSP_NONCE_SENTINEL>"]}"#)));
    assert!(header(&headers(app.clone(), "/").await, CspSource::HEADER_ENFORCE).is_none());
    assert!(
        header(&headers(app, "/nonce").await, CspSource::HEADER_ENFORCE)
            .unwrap()
            .starts_with("script-src 'nonce-")
    );
}

#[tokio::test]
async fn overrides_nest_and_the_inner_one_wins() {
    let site = policy(r#"{"default-src": ["'self'"]}"#);
    let section = policy(r#"{"default-src": ["'none'"]}"#);
    let page = policy(r#"{"img-src": ["*"]}"#);
    let app = Router::new()
        .nest(
            "/section",
            Router::new()
                .route("/plain", get(|| async { "x" }))
                .route(
                    "/page",
                    get(|| async { "x" }).layer(CspOverride::enforce(page)),
                )
                .layer(CspOverride::enforce(section).with_report_only(Policy::empty())),
        )
        .route("/", get(|| async { "x" }))
        .layer(CspLayer::new().enforce(site).report_only(policy(
            r#"{"default-src": ["'none'"], "report-uri": ["/r"]}"#,
        )));
    let root = headers(app.clone(), "/").await;
    assert_eq!(
        header(&root, CspSource::HEADER_ENFORCE),
        Some("default-src 'self'")
    );
    assert_eq!(
        header(&root, CspSource::HEADER_REPORT_ONLY),
        Some("default-src 'none'; report-uri /r")
    );
    let plain = headers(app.clone(), "/section/plain").await;
    assert_eq!(
        header(&plain, CspSource::HEADER_ENFORCE),
        Some("default-src 'none'")
    );
    assert_eq!(header(&plain, CspSource::HEADER_REPORT_ONLY), None);
    let page = headers(app, "/section/page").await;
    assert_eq!(header(&page, CspSource::HEADER_ENFORCE), Some("img-src *"));
    assert_eq!(header(&page, CspSource::HEADER_REPORT_ONLY), None);
}

#[tokio::test]
async fn an_override_brings_the_nonce_when_the_layer_has_none() {
    let app = Router::new()
        .route(
            "/",
            get(uses_nonce).layer(CspOverride::enforce(policy(
                r#"{"script-src": ["'self'", "<CSP_NONCE_SENTINEL>"]}"#,
            ))),
        )
        .layer(CspLayer::new().enforce(policy(r#"{"default-src": ["'self'"]}"#)));
    let (headers, body) = fetch(app, "/").await;
    let nonce = script_nonce(&body);
    assert_eq!(
        header(&headers, CspSource::HEADER_ENFORCE),
        Some(format!("script-src 'self' 'nonce-{nonce}'").as_str())
    );
}

#[tokio::test]
async fn the_extractor_works_without_a_nonce_policy() {
    // Like Django, where `request.csp_nonce` exists whatever the policy: the page still
    // renders, and no header carries the nonce.
    let app = Router::new()
        .route("/", get(uses_nonce))
        .layer(CspLayer::new().enforce(policy(r#"{"default-src": ["'self'"]}"#)));
    let response = app
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(response.headers(), CspSource::HEADER_ENFORCE),
        Some("default-src 'self'")
    );
}

#[tokio::test]
async fn reporting_endpoints_go_with_the_csp_headers() {
    let endpoints = ReportingEndpoints::new([("csp-endpoint", "/csp/report")]).unwrap();
    let app = Router::new()
        .route("/", get(|| async { "x" }))
        .route(
            "/off",
            get(|| async { "x" }).layer(CspOverride::enforce(Policy::empty())),
        )
        .route(
            "/own",
            get(|| async { ([("reporting-endpoints", "mine=\"/m\"")], "x") }),
        )
        .layer(
            CspLayer::new()
                .enforce(policy(
                    r#"{"default-src": ["'self'"], "report-to": "csp-endpoint"}"#,
                ))
                .reporting_endpoints(&endpoints),
        );
    let root = headers(app.clone(), "/").await;
    assert_eq!(
        header(&root, CspSource::HEADER_ENFORCE),
        Some("default-src 'self'; report-to csp-endpoint")
    );
    assert_eq!(
        header(&root, "reporting-endpoints"),
        Some("csp-endpoint=\"/csp/report\"")
    );
    let off = headers(app.clone(), "/off").await;
    assert!(header(&off, CspSource::HEADER_ENFORCE).is_none());
    assert!(header(&off, "reporting-endpoints").is_none());
    let own = headers(app, "/own").await;
    assert_eq!(header(&own, "reporting-endpoints"), Some("mine=\"/m\""));
}

/// With both headers, `Reporting-Endpoints` goes out when either is sent (both, only the
/// report-only one on a route that drops the enforced one), on the layer's nonce path and on
/// overridden routes; a route's override never replaces a header its handler set.
#[tokio::test]
async fn reporting_endpoints_follow_either_header_and_handlers_keep_their_own() {
    let endpoints = ReportingEndpoints::new([("csp-endpoint", "/csp/report")]).unwrap();
    let app = Router::new()
        .route("/", get(uses_nonce))
        .route(
            "/images",
            get(uses_nonce).layer(CspOverride::enforce(policy(r#"{"img-src": ["*"]}"#))),
        )
        .route(
            "/trial-only",
            get(uses_nonce).layer(CspOverride::enforce(Policy::empty())),
        )
        .route(
            "/own",
            get(|| async { ([(CspSource::HEADER_ENFORCE, "default-src 'none'")], "x") })
                .layer(CspOverride::enforce(policy(r#"{"img-src": ["*"]}"#))),
        )
        .layer(
            CspLayer::new()
                .enforce(policy(
                    r#"{"script-src": ["<CSP_NONCE_SENTINEL>"], "report-to": "csp-endpoint"}"#,
                ))
                .report_only(policy(
                    r#"{"default-src": ["'self'"], "report-to": "csp-endpoint"}"#,
                ))
                .reporting_endpoints(&endpoints),
        );
    let expected = Some("csp-endpoint=\"/csp/report\"");
    for (path, enforce) in [
        ("/", true),
        ("/images", true),
        ("/trial-only", false),
        ("/own", true),
    ] {
        let sent = headers(app.clone(), path).await;
        assert_eq!(
            header(&sent, CspSource::HEADER_ENFORCE).is_some(),
            enforce,
            "{path}"
        );
        assert_eq!(
            header(&sent, CspSource::HEADER_REPORT_ONLY),
            Some("default-src 'self'; report-to csp-endpoint"),
            "{path}"
        );
        assert_eq!(header(&sent, "reporting-endpoints"), expected, "{path}");
    }
    let own = headers(app.clone(), "/own").await;
    assert_eq!(
        header(&own, CspSource::HEADER_ENFORCE),
        Some("default-src 'none'")
    );
    let images = headers(app, "/images").await;
    assert_eq!(
        header(&images, CspSource::HEADER_ENFORCE),
        Some("img-src *")
    );
}

#[tokio::test]
async fn works_on_a_plain_tower_service() {
    let service = tower::service_fn(|request: Request<()>| async move {
        // Not on the request: in the scope the layer runs the service in.
        assert!(request.extensions().get::<CspNonce>().is_none());
        let nonce = CspNonce::current().unwrap();
        Ok::<_, Infallible>(Response::new(nonce.to_string()))
    });
    let service = CspLayer::new()
        .enforce(policy(r#"{"script-src": ["<CSP_NONCE_SENTINEL>"]}"#))
        .layer(service);
    let response = service.oneshot(Request::new(())).await.unwrap();
    let nonce = response.body().clone();
    assert_eq!(
        header(response.headers(), CspSource::HEADER_ENFORCE),
        Some(format!("script-src 'nonce-{nonce}'").as_str())
    );
}

/// The layer runs every poll of the handler inside the request's nonce scope: across awaits
/// on a multi-threaded runtime, for the extractor, `CspNonce::current` and a Tera template
/// without any other middleware; a route's override inside it shares the nonce; nothing is left
/// on the thread afterwards, nor after a panic; a spawned task is outside the scope unless
/// handed the nonce.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_scope_covers_the_handler_and_nothing_else() {
    let mut tera = tera::Tera::default();
    djrs_csp::tera::register(&mut tera);
    tera.add_raw_template("page", r#"<script nonce="{{ csp_nonce() }}"></script>"#)
        .unwrap();
    let tera = std::sync::Arc::new(tera);
    let page = move |nonce: CspNonce| {
        let tera = std::sync::Arc::clone(&tera);
        async move {
            for _ in 0..10 {
                tokio::task::yield_now().await;
                assert_eq!(CspNonce::current().unwrap().as_str(), nonce.as_str());
            }
            let spawned = tokio::spawn(async { CspNonce::current().is_none() });
            assert!(
                spawned.await.unwrap(),
                "a spawned task is outside the scope"
            );
            let handed = nonce
                .clone()
                .scoped(async { CspNonce::current().unwrap().to_string() });
            assert_eq!(tokio::spawn(handed).await.unwrap(), nonce.as_str());
            let html = tera.render("page", &tera::Context::new()).unwrap();
            assert_eq!(html, format!(r#"<script nonce="{nonce}"></script>"#));
            Html(html)
        }
    };
    let app = Router::new()
        .route("/", get(page.clone()))
        .route(
            "/override",
            get(page).layer(CspOverride::enforce(policy(
                r#"{"script-src": ["<CSP_NONCE_SENTINEL>"]}"#,
            ))),
        )
        .route(
            "/panics",
            get(|| async {
                let nonce = CspNonce::current().unwrap();
                assert!(nonce.as_str().is_empty(), "the handler fails");
                "never sent"
            }),
        )
        .layer(
            CspLayer::new()
                .enforce(policy(r#"{"default-src": ["'self'"]}"#))
                .report_only(policy(r#"{"script-src": ["<CSP_NONCE_SENTINEL>"]}"#)),
        );
    for path in ["/", "/override"] {
        let (headers, body) = fetch(app.clone(), path).await;
        let report_only = header(&headers, CspSource::HEADER_REPORT_ONLY).unwrap();
        let enforce = header(&headers, CspSource::HEADER_ENFORCE).unwrap();
        let nonce = script_nonce(&body);
        assert_eq!(nonce.len(), 22, "{path}");
        assert_eq!(report_only, format!("script-src 'nonce-{nonce}'"), "{path}");
        let expected = if path == "/" {
            "default-src 'self'".to_owned()
        } else {
            format!("script-src 'nonce-{nonce}'")
        };
        assert_eq!(enforce, expected, "{path}");
        assert!(CspNonce::current().is_none());
    }
    // Polled on this thread, so that a scope left behind would show here.
    let service = app.clone();
    let caught = std::panic::AssertUnwindSafe(
        service.oneshot(Request::get("/panics").body(Body::empty()).unwrap()),
    );
    let caught = futures_util::FutureExt::catch_unwind(caught).await;
    assert!(caught.is_err());
    assert!(
        CspNonce::current().is_none(),
        "the scope ended with the panic"
    );
}

/// `PolicyEdit` through `CspOverride::edit`: routes add to and replace directives of whatever
/// policy the layer sends (static, shared or with the nonce), bring the nonce when the edit
/// adds it, nest with replacements (the inner one wins) and stop at exempt prefixes.
#[tokio::test]
async fn routes_edit_the_layers_policies_and_exempt_prefixes_get_none() {
    use djrs_csp::PolicyEdit;

    let images = PolicyEdit::new()
        .add("img-src", ["https://img.example"])
        .remove("upgrade-insecure-requests")
        .build()
        .unwrap();
    let scripts = PolicyEdit::new()
        .add("script-src", [CspSource::NONCE])
        .replace("frame-src", ["https://video.example"])
        .build()
        .unwrap();
    let site = policy(
        r#"{"default-src": ["'self'"], "img-src": ["'self'"], "frame-src": ["'none'"], "upgrade-insecure-requests": true}"#,
    );
    let routes = || {
        Router::new()
            .route("/", get(|| async { "plain" }))
            .route(
                "/images",
                get(|| async { "images" }).layer(CspOverride::edit(images.clone())),
            )
            .route(
                "/scripts",
                get(uses_nonce).layer(CspOverride::edit(scripts.clone())),
            )
            .route(
                "/trial",
                get(|| async { "trial" }).layer(CspOverride::edit_report_only(images.clone())),
            )
            .merge(
                Router::new()
                    .route(
                        "/inner-wins",
                        get(|| async { "inner" }).layer(CspOverride::enforce(policy(
                            r#"{"default-src": ["'none'"]}"#,
                        ))),
                    )
                    .layer(CspOverride::edit(images.clone())),
            )
            .nest(
                "/legacy",
                Router::new().route(
                    "/page",
                    get(|| async { "legacy" }).layer(CspOverride::edit(images.clone())),
                ),
            )
    };
    // Static plan (no nonce, no endpoints), shared plan (endpoints) and nonce plan.
    let endpoints = ReportingEndpoints::new([("csp", "/csp/reports")]).unwrap();
    let nonce_site = site
        .to_builder()
        .directive("style-src", [CspSource::NONCE])
        .build()
        .unwrap();
    let layers = [
        CspLayer::new().enforce(site.clone()),
        CspLayer::new()
            .enforce(site.clone())
            .reporting_endpoints(&endpoints),
        CspLayer::new().enforce(nonce_site.clone()),
    ];
    for (i, layer) in layers.into_iter().enumerate() {
        let app = routes().layer(layer.report_only(site.clone()).exempt("/legacy/"));
        let plain = headers(app.clone(), "/").await;
        let enforce = header(&plain, CspSource::HEADER_ENFORCE).unwrap();
        assert!(
            enforce.starts_with(
                "default-src 'self'; img-src 'self'; frame-src 'none'; upgrade-insecure-requests"
            ),
            "{i}: {enforce}"
        );

        let edited = headers(app.clone(), "/images").await;
        let enforce = header(&edited, CspSource::HEADER_ENFORCE).unwrap();
        assert!(
            enforce.starts_with(
                "default-src 'self'; img-src 'self' https://img.example; frame-src 'none'"
            ) && !enforce.contains("upgrade-insecure-requests"),
            "{i}: {enforce}"
        );
        // Only the enforced policy was edited.
        assert_eq!(
            header(&edited, CspSource::HEADER_REPORT_ONLY),
            Some("default-src 'self'; img-src 'self'; frame-src 'none'; upgrade-insecure-requests")
        );

        let trial = headers(app.clone(), "/trial").await;
        assert_eq!(
            header(&trial, CspSource::HEADER_REPORT_ONLY),
            Some("default-src 'self'; img-src 'self' https://img.example; frame-src 'none'")
        );

        // The edit brings the nonce: the header names the one the handler printed.
        let response = app
            .clone()
            .oneshot(Request::get("/scripts").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let enforce = header(response.headers(), CspSource::HEADER_ENFORCE)
            .unwrap()
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        let nonce = body
            .strip_prefix("<script nonce=\"")
            .and_then(|rest| rest.strip_suffix("\"></script>"))
            .unwrap();
        assert!(
            enforce.contains("frame-src https://video.example")
                && enforce.ends_with(&format!("script-src 'nonce-{nonce}'")),
            "{i}: {enforce}"
        );
        // The layer's own nonce directive, where it has one, names the same nonce.
        assert_eq!(
            enforce.contains(&format!("style-src 'nonce-{nonce}'")),
            i == 2,
            "{i}: {enforce}"
        );

        let inner = headers(app.clone(), "/inner-wins").await;
        assert_eq!(
            header(&inner, CspSource::HEADER_ENFORCE),
            Some("default-src 'none'")
        );

        let legacy = headers(app.clone(), "/legacy/page").await;
        assert_eq!(header(&legacy, CspSource::HEADER_ENFORCE), None, "{i}");
        assert_eq!(header(&legacy, CspSource::HEADER_REPORT_ONLY), None, "{i}");
    }

    // An edit of a header the layer does not send sends nothing.
    let app = Router::new()
        .route(
            "/",
            get(|| async { "x" }).layer(CspOverride::edit_report_only(images)),
        )
        .layer(CspLayer::new().enforce(site));
    assert_eq!(
        header(&headers(app, "/").await, CspSource::HEADER_REPORT_ONLY),
        None
    );
}
