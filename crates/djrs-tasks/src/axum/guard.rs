//! Who may use the console: the application's authorization hook, which sees each request and
//! whether it reads or acts, and the refusal of cross-site requests that act.

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};

/// What a console request does, for the authorization hook.
///
/// ```
/// use djrs_tasks::axum::Access;
///
/// // A hook that lets every staff member look and only admins act.
/// let authorize = |parts: &axum::http::request::Parts, access: Access| {
///     let role = parts.headers.get("x-role").and_then(|v| v.to_str().ok());
///     match access {
///         Access::Read => matches!(role, Some("staff" | "admin")),
///         // `Access` may grow: anything but reading is acting.
///         _ => role == Some("admin"),
///     }
/// };
/// let (parts, ()) = axum::http::Request::post("/tasks/actions")
///     .header("x-role", "staff")
///     .body(())
///     .unwrap()
///     .into_parts();
/// assert!(authorize(&parts, Access::Read));
/// assert!(!authorize(&parts, Access::Act));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// Looking: the overview, lists, a task's page, the JSON API (task arguments, errors and
    /// metadata included).
    Read,
    /// Acting: retry, cancel, delete, run now, pause, resume, limits.
    Act,
}

impl Access {
    /// What a request with this method does: `GET` and `HEAD` read, everything else acts.
    pub(super) fn of(method: &Method) -> Access {
        if method == Method::GET || method == Method::HEAD {
            Access::Read
        } else {
            Access::Act
        }
    }
}

/// Whether a request that acts comes from a page of this site. Browsers say where a request
/// comes from: `Sec-Fetch-Site` (every current browser) must be `same-origin` or `none` (typed
/// by the user); without it, an `Origin` header must name this host. A request with neither
/// header was not sent by a browser on behalf of another site and is let through (as
/// `net/http`'s `CrossOriginProtection` and Rails' origin check do), so scripts and tests can
/// act with their own credentials.
pub(super) fn same_origin(parts: &Parts) -> bool {
    let headers = &parts.headers;
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    match headers.get(header::ORIGIN) {
        None => true,
        Some(origin) => origin
            .to_str()
            .ok()
            .and_then(host_of_origin)
            .zip(request_host(parts, headers))
            // Host names are case-insensitive.
            .is_some_and(|(origin, host)| origin.eq_ignore_ascii_case(&host)),
    }
}

/// The `host[:port]` of an origin (`scheme://host[:port]`); `None` for `null` or anything else.
fn host_of_origin(origin: &str) -> Option<&str> {
    let (scheme, rest) = origin.split_once("://")?;
    if !matches!(scheme, "http" | "https") || rest.is_empty() || rest.contains('/') {
        return None;
    }
    Some(rest)
}

/// The host the request was sent to: its `Host` header, or the authority of its URI (HTTP/2).
fn request_host(parts: &Parts, headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut request = axum::http::Request::post("/tasks/actions");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn only_requests_from_this_site_may_act() {
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[], true),
            (&[("sec-fetch-site", "same-origin")], true),
            (&[("sec-fetch-site", "none")], true),
            (&[("sec-fetch-site", "same-site")], false),
            (&[("sec-fetch-site", "cross-site")], false),
            // Sec-Fetch-Site decides when both are sent.
            (
                &[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "http://app.test"),
                    ("host", "app.test"),
                ],
                false,
            ),
            (&[("origin", "http://app.test"), ("host", "app.test")], true),
            (&[("origin", "http://App.Test"), ("host", "app.test")], true),
            (
                &[
                    ("origin", "https://app.test:8443"),
                    ("host", "app.test:8443"),
                ],
                true,
            ),
            (
                &[("origin", "http://evil.test"), ("host", "app.test")],
                false,
            ),
            (
                &[("origin", "http://app.test:81"), ("host", "app.test")],
                false,
            ),
            (&[("origin", "null"), ("host", "app.test")], false),
            (
                &[("origin", "http://app.test/x"), ("host", "app.test")],
                false,
            ),
            (&[("origin", "ftp://app.test"), ("host", "app.test")], false),
            (&[("origin", "http://app.test")], false),
        ];
        for (headers, expected) in cases {
            assert_eq!(same_origin(&parts(headers)), *expected, "{headers:?}");
        }
    }

    #[test]
    fn an_origin_is_a_scheme_and_a_host_only() {
        let cases = [
            ("http://app.test", Some("app.test")),
            ("https://app.test:8443", Some("app.test:8443")),
            ("http://", None),
            ("http://app.test/", None),
            ("http://app.test/x", None),
            ("ftp://app.test", None),
            ("app.test", None),
            ("null", None),
        ];
        for (origin, host) in cases {
            assert_eq!(host_of_origin(origin), host, "{origin}");
        }
    }

    #[test]
    fn reading_is_get_and_head() {
        assert_eq!(Access::of(&Method::GET), Access::Read);
        assert_eq!(Access::of(&Method::HEAD), Access::Read);
        assert_eq!(Access::of(&Method::POST), Access::Act);
        assert_eq!(Access::of(&Method::DELETE), Access::Act);
    }
}
