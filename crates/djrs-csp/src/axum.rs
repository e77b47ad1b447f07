//! axum integration (feature `axum`): the [`CspNonce`] extractor and the report endpoint.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};

use crate::{CspNonce, CspReport, Error, LogReports, ReportSink};

/// `request.csp_nonce`: the request's nonce, set by a [`CspLayer`](crate::CspLayer) (or a
/// [`CspOverride`](crate::CspOverride)) whose policy holds [`Csp::NONCE`](crate::Csp::NONCE).
/// Taking it does not generate it; using it (`as_str`, `Display`) does, and only then does the
/// header carry `'nonce-…'`.
///
/// ```
/// use axum::{Router, routing::get, response::Html};
/// use djrs_csp::{Csp, CspLayer, CspNonce, Policy};
///
/// async fn page(nonce: CspNonce) -> Html<String> {
///     Html(format!(r#"<script nonce="{nonce}">document.title = "ok"</script>"#))
/// }
///
/// let policy = Policy::builder().directive("script-src", [Csp::NONCE]).build()?;
/// let app: Router = Router::new().route("/", get(page)).layer(CspLayer::new().enforce(policy));
/// # let _ = app;
/// # Ok::<(), djrs_csp::Error>(())
/// ```
///
/// Like Django's `request.csp_nonce`, the extractor never fails: when no policy of the route
/// holds the nonce (or there is no layer at all) it hands out a fresh nonce that no header
/// carries, so templates keep rendering when CSP is switched off. `tracing` logs that at
/// debug level.
impl<S: Send + Sync> FromRequestParts<S> for CspNonce {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(nonce) = parts.extensions.get::<CspNonce>() {
            return Ok(nonce.clone());
        }
        tracing::debug!(
            path = parts.uri.path(),
            "no CSP policy of this route holds Csp::NONCE; the nonce goes in no header"
        );
        // Kept on the request so that every extractor of this request sees the same nonce.
        let nonce = CspNonce::new();
        parts.extensions.insert(nonce.clone());
        Ok(nonce)
    }
}

/// The default body limit of the report endpoint: 64 KiB.
pub const DEFAULT_REPORT_BODY_LIMIT: usize = 64 * 1024;

/// A report endpoint: a `POST` route that reads `application/csp-report` and
/// `application/reports+json` bodies and hands each CSP violation to a [`ReportSink`].
///
/// Answers 204 when the body was read, 400 for a malformed body, 413 past the body limit and
/// 415 for another media type. Django has no such endpoint; point `report-uri` (and, through
/// [`ReportingEndpoints`](crate::ReportingEndpoints), `report-to`) at it.
///
/// ```
/// use axum::Router;
/// use djrs_csp::{CspReport, axum::ReportEndpoint};
///
/// let endpoint = ReportEndpoint::new()
///     .sink(|report: CspReport| eprintln!("CSP: {} blocked {:?}", report.effective_directive, report.blocked_uri))
///     .body_limit(16 * 1024);
/// let app: Router = Router::new().route("/csp/report", endpoint.into_method_router());
/// # let _ = app;
/// ```
#[derive(Clone)]
#[must_use]
pub struct ReportEndpoint {
    sink: Arc<dyn ReportSink>,
    limit: usize,
}

impl std::fmt::Debug for ReportEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportEndpoint")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl Default for ReportEndpoint {
    fn default() -> Self {
        ReportEndpoint {
            sink: Arc::new(LogReports),
            limit: DEFAULT_REPORT_BODY_LIMIT,
        }
    }
}

impl ReportEndpoint {
    /// An endpoint logging reports through `tracing` ([`LogReports`]) with a 64 KiB limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where reports go.
    pub fn sink(mut self, sink: impl ReportSink) -> Self {
        self.sink = Arc::new(sink);
        self
    }

    /// The largest body read, in bytes; larger bodies are answered 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// The endpoint as a `POST` method router, for `Router::route`.
    pub fn into_method_router<S>(self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        post(move |headers: HeaderMap, body: Body| async move {
            match self.receive(&headers, body).await {
                Ok(()) => StatusCode::NO_CONTENT.into_response(),
                Err(rejection) => rejection.into_response(),
            }
        })
    }

    /// Reads one request's body and hands its reports to the sink.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use axum::body::Body;
    /// use axum::http::{HeaderMap, HeaderValue, header::CONTENT_TYPE};
    /// use djrs_csp::{CspReport, axum::ReportEndpoint};
    ///
    /// let endpoint = ReportEndpoint::new().sink(|r: CspReport| assert_eq!(r.effective_directive, "img-src"));
    /// let mut headers = HeaderMap::new();
    /// headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/csp-report"));
    /// let body = r#"{"csp-report": {"document-uri": "https://a.example/", "violated-directive": "img-src"}}"#;
    /// endpoint.receive(&headers, Body::from(body)).await.unwrap();
    /// let err = endpoint.receive(&headers, Body::from("{")).await.unwrap_err();
    /// assert_eq!(err.status(), 400);
    /// # }
    /// ```
    ///
    /// # Errors
    /// A [`ReportRejection`] for a body that is too large, malformed or of another media type.
    pub async fn receive(&self, headers: &HeaderMap, body: Body) -> Result<(), ReportRejection> {
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let too_large = ReportRejection(Error::ReportTooLarge { limit: self.limit });
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.limit as u64) {
            return Err(too_large);
        }
        let bytes = match Limited::new(body, self.limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large),
            Err(err) => {
                return Err(ReportRejection(Error::MalformedReport(format!(
                    "the body could not be read: {err}"
                ))));
            }
        };
        let reports = CspReport::parse(content_type, &bytes).map_err(ReportRejection)?;
        for report in reports {
            self.sink.report(report);
        }
        Ok(())
    }
}

/// Why the report endpoint refused a body; answers with its [`status`](Self::status) and the
/// error's message.
///
/// ```
/// use axum::response::IntoResponse;
/// use djrs_csp::{Error, axum::ReportRejection};
///
/// let rejection = ReportRejection::from(Error::ReportTooLarge { limit: 10 });
/// assert_eq!(rejection.status(), 413);
/// assert_eq!(rejection.into_response().status(), 413);
/// ```
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ReportRejection(#[from] Error);

impl ReportRejection {
    /// 413 for a body past the limit, 415 for another media type, 400 otherwise.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self.0 {
            Error::ReportTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The error behind the rejection.
    ///
    /// ```
    /// use djrs_csp::{Error, axum::ReportRejection};
    ///
    /// let rejection = ReportRejection::from(Error::UnsupportedMediaType("text/plain".into()));
    /// assert!(matches!(rejection.error(), Error::UnsupportedMediaType(_)));
    /// ```
    #[must_use]
    pub fn error(&self) -> &Error {
        &self.0
    }
}

impl IntoResponse for ReportRejection {
    fn into_response(self) -> Response {
        tracing::debug!(error = %self.0, "CSP report refused");
        (self.status(), self.0.to_string()).into_response()
    }
}
