//! What the showcase does against untrusted requests beyond its Content Security Policy:
//! Django's default security headers, a refusal of cross-site state-changing requests, a
//! refusal of NUL characters in text input, and passwords kept out of messages.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

/// The headers Django's `SecurityMiddleware` and `XFrameOptionsMiddleware` send by default,
/// each set only when the handler did not set it.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    ("x-frame-options", "DENY"),
];

/// Adds [`SECURITY_HEADERS`] to every response of `router` (with tower-http's
/// `SetResponseHeaderLayer::if_not_present`).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use tower::ServiceExt as _;
/// let app = djrs_demo::security::with_security_headers(
///     axum::Router::new().route("/", axum::routing::get(|| async { "hi" })),
/// );
/// let res = app.oneshot(axum::http::Request::get("/").body(axum::body::Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(res.headers()["x-frame-options"], "DENY");
/// # });
/// ```
pub fn with_security_headers(mut router: Router) -> Router {
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    router
}

/// The body of the 403 answered to a cross-site request.
pub const CROSS_SITE_REFUSED: &str = "Forbidden: this site accepts forms and actions only from its own pages (cross-site request refused).";

/// Whether a request with `method` and these headers may change state: safe methods always;
/// unsafe ones unless the browser says they come from another origin.
///
/// The rule of Go's `net/http.CrossOriginProtection` and of recent Django's origin checks:
/// `Sec-Fetch-Site: same-origin` or `none` (typed by the user) passes, any other value is
/// refused; without it, an `Origin` header must name this host (`Host`); without either, the
/// request is not from a browser that could be tricked into sending it, and passes.
///
/// ```
/// use axum::http::{HeaderMap, Method};
/// use djrs_demo::security::is_same_origin_request;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("host", "127.0.0.1:8000".parse().unwrap());
/// headers.insert("sec-fetch-site", "cross-site".parse().unwrap());
/// assert!(!is_same_origin_request(&Method::POST, &headers));
/// assert!(is_same_origin_request(&Method::GET, &headers));
/// ```
#[must_use]
pub fn is_same_origin_request(method: &Method, headers: &axum::http::HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).map(HeaderValue::as_bytes);
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, authority)| authority.as_bytes());
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// Middleware refusing cross-site state-changing requests with a 403
/// ([`is_same_origin_request`]). Paths in `exempt` pass (the CSP report endpoint, which
/// browsers post to from any page).
pub(crate) async fn refuse_cross_site(request: Request, next: Next) -> Response {
    let exempt = request.uri().path() == crate::csp::REPORT_PATH;
    if !exempt && !is_same_origin_request(request.method(), request.headers()) {
        tracing::warn!(
            method = %request.method(),
            path = ?request.uri().path(),
            origin = ?request.headers().get(header::ORIGIN),
            "cross-site request refused"
        );
        return (StatusCode::FORBIDDEN, CROSS_SITE_REFUSED).into_response();
    }
    next.run(request).await
}

/// Text input holding a NUL character (U+0000), which no database text column takes: a 400
/// with this message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("The {field} contains a NUL character (U+0000), which cannot be stored.")]
pub struct NulInput {
    /// The name of the field, as the form shows it.
    pub field: &'static str,
}

impl IntoResponse for NulInput {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, self.to_string()).into_response()
    }
}

/// Refuses text input holding U+0000.
///
/// ```
/// use djrs_demo::security::{NulInput, refuse_nul};
/// assert!(refuse_nul("name", "Ann").is_ok());
/// assert_eq!(refuse_nul("name", "A\0nn"), Err(NulInput { field: "name" }));
/// ```
///
/// # Errors
/// [`NulInput`] naming the field when `value` holds U+0000.
pub fn refuse_nul(field: &'static str, value: &str) -> Result<(), NulInput> {
    if value.contains('\0') {
        return Err(NulInput { field });
    }
    Ok(())
}

/// `url` with the password of its user info replaced by `***`, for messages and logs.
///
/// ```
/// use djrs_demo::security::redact_url;
/// assert_eq!(redact_url("smtp://ann:pw@mail:bad"), "smtp://ann:***@mail:bad");
/// ```
pub use djrs::db::redact_url;

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn cross_site_rule() {
        let host = ("host", "127.0.0.1:8000");
        for (pairs, ok) in [
            (vec![host, ("sec-fetch-site", "same-origin")], true),
            (vec![host, ("sec-fetch-site", "none")], true),
            (vec![host, ("sec-fetch-site", "same-site")], false),
            (vec![host, ("sec-fetch-site", "cross-site")], false),
            (vec![host, ("origin", "http://127.0.0.1:8000")], true),
            (vec![host, ("origin", "http://localhost:8000")], false),
            (vec![host, ("origin", "null")], false),
            (vec![("origin", "http://127.0.0.1:8000")], false),
            (vec![host], true),
        ] {
            assert_eq!(
                is_same_origin_request(&Method::POST, &headers(&pairs)),
                ok,
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn passwords_are_redacted() {
        let url = "smtp://user:pa55word@host:bad";
        assert_eq!(redact_url(url), "smtp://user:***@host:bad");
        assert_eq!(redact_url("smtp://user@host"), "smtp://user@host");
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
