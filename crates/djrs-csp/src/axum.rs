//! axum integration (feature `axum`): the [`CspNonce`] extractor and the report endpoint.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};

use crate::{CspNonce, CspReport, Error, LogReports, ReportSink};

/// `request.csp_nonce`: the request's nonce, from the scope of a [`CspLayer`](crate::CspLayer)
/// (or a [`CspOverride`](crate::CspOverride)) whose policy holds
/// [`CspSource::NONCE`](crate::CspSource::NONCE); the same one [`CspNonce::current`] and the
/// templates' `csp_nonce()` give while the request is handled. Taking it does not generate it;
/// using it (`as_str`, `Display`) does, and only then does the header carry `'nonce-…'`.
///
/// ```
/// use axum::{Router, routing::get, response::Html};
/// use djrs_csp::{CspLayer, CspNonce, CspSource, Policy};
///
/// async fn page(nonce: CspNonce) -> Html<String> {
///     Html(format!(r#"<script nonce="{nonce}">document.title = "ok"</script>"#))
/// }
///
/// let policy = Policy::builder().directive("script-src", [CspSource::NONCE]).build()?;
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
        if let Some(nonce) = CspNonce::current() {
            return Ok(nonce);
        }
        if let Some(nonce) = parts.extensions.get::<CspNonce>() {
            return Ok(nonce.clone());
        }
        tracing::debug!(
            path = parts.uri.path(),
            "no CSP policy of this route holds CspSource::NONCE; the nonce goes in no header"
        );
        // Kept on the request so that every extractor of this request sees the same nonce.
        let nonce = CspNonce::new();
        parts.extensions.insert(nonce.clone());
        Ok(nonce)
    }
}

/// The default body limit of the report endpoint: 64 KiB.
pub const DEFAULT_REPORT_BODY_LIMIT: usize = 64 * 1024;

/// The default number of reports taken from one request: a `reports+json` batch can hold
/// hundreds of small reports; the rest of the batch is dropped.
pub const DEFAULT_MAX_REPORTS_PER_REQUEST: usize = 10;

/// A token bucket: `reports` per `per`, refilled continuously.
#[derive(Debug)]
struct RateLimit {
    reports: u32,
    per: Duration,
    state: Mutex<(f64, Instant)>,
}

impl RateLimit {
    /// Takes up to `wanted` tokens, returning how many were available.
    fn take(&self, wanted: usize) -> usize {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let tokens = self.refill(&mut state);
        // Whole tokens only; `tokens` is within 0..=reports.
        let granted = (tokens.floor() as usize).min(wanted);
        state.0 -= granted as f64;
        granted
    }

    /// True when at least one token is left.
    fn has_tokens(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        self.refill(&mut state) >= 1.0
    }

    fn refill(&self, state: &mut (f64, Instant)) -> f64 {
        let now = Instant::now();
        let rate = f64::from(self.reports) / self.per.as_secs_f64().max(f64::MIN_POSITIVE);
        state.0 = (state.0 + now.duration_since(state.1).as_secs_f64() * rate)
            .min(f64::from(self.reports));
        state.1 = now;
        state.0
    }

    fn rejection(&self) -> ReportRejection {
        ReportRejection(Error::ReportRateLimited {
            reports: self.reports,
            seconds: self.per.as_secs_f64(),
        })
    }
}

/// A report endpoint: a `POST` route that reads `application/csp-report` and
/// `application/reports+json` bodies and hands each CSP violation to a [`ReportSink`].
///
/// Answers 204 when the body was read, 400 for a malformed body, 413 past the body limit,
/// 415 for another media type and 429 when its rate limit is spent.
///
/// The endpoint is open to anyone, so it bounds what one client can make it do: at most
/// [`DEFAULT_MAX_REPORTS_PER_REQUEST`] reports of one request reach the sink (see
/// [`max_reports_per_request`](Self::max_reports_per_request)), and
/// [`rate_limit`](Self::rate_limit) bounds the reports taken across all requests. Django has no such endpoint; point `report-uri` (and, through
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
    max_reports: usize,
    rate_limit: Option<Arc<RateLimit>>,
}

impl std::fmt::Debug for ReportEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportEndpoint")
            .field("limit", &self.limit)
            .field("max_reports", &self.max_reports)
            .field(
                "rate_limit",
                &self.rate_limit.as_ref().map(|r| (r.reports, r.per)),
            )
            .finish_non_exhaustive()
    }
}

impl Default for ReportEndpoint {
    fn default() -> Self {
        ReportEndpoint {
            sink: Arc::new(LogReports),
            limit: DEFAULT_REPORT_BODY_LIMIT,
            max_reports: DEFAULT_MAX_REPORTS_PER_REQUEST,
            rate_limit: None,
        }
    }
}

impl ReportEndpoint {
    /// An endpoint logging reports through `tracing` ([`LogReports`]) with a 64 KiB limit.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use axum::body::Body;
    /// use axum::http::{HeaderMap, HeaderValue, header::CONTENT_TYPE};
    /// use djrs_csp::axum::{DEFAULT_REPORT_BODY_LIMIT, ReportEndpoint};
    ///
    /// let endpoint = ReportEndpoint::new();
    /// let mut headers = HeaderMap::new();
    /// headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/csp-report"));
    /// let report = r#"{"csp-report": {"document-uri": "https://a.example/", "violated-directive": "img-src"}}"#;
    /// assert!(endpoint.receive(&headers, Body::from(report)).await.is_ok());
    /// // A body past 64 KiB is refused.
    /// let too_large = vec![b' '; DEFAULT_REPORT_BODY_LIMIT + 1];
    /// let err = endpoint.receive(&headers, Body::from(too_large)).await.unwrap_err();
    /// assert_eq!(err.status(), 413);
    /// # }
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Where reports go: a [`ReportSink`], such as a closure taking a [`CspReport`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::sync::{Arc, Mutex};
    ///
    /// use axum::body::Body;
    /// use axum::http::{HeaderMap, HeaderValue, header::CONTENT_TYPE};
    /// use djrs_csp::{CspReport, axum::ReportEndpoint};
    ///
    /// let received = Arc::new(Mutex::new(Vec::new()));
    /// let sink = Arc::clone(&received);
    /// let endpoint = ReportEndpoint::new()
    ///     .sink(move |report: CspReport| sink.lock().unwrap().push(report.effective_directive));
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/csp-report"));
    /// let body = r#"{"csp-report": {"document-uri": "https://a.example/", "violated-directive": "script-src-elem"}}"#;
    /// endpoint.receive(&headers, Body::from(body)).await.unwrap();
    /// assert_eq!(*received.lock().unwrap(), ["script-src-elem"]);
    /// # }
    /// ```
    pub fn sink(mut self, sink: impl ReportSink) -> Self {
        self.sink = Arc::new(sink);
        self
    }

    /// The largest body read, in bytes; larger bodies are answered 413.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use axum::body::Body;
    /// use axum::http::{HeaderMap, HeaderValue, header::CONTENT_TYPE};
    /// use djrs_csp::axum::ReportEndpoint;
    ///
    /// let endpoint = ReportEndpoint::new().body_limit(32);
    /// let mut headers = HeaderMap::new();
    /// headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/csp-report"));
    /// let body = r#"{"csp-report": {"document-uri": "https://a.example/", "violated-directive": "img-src"}}"#;
    /// assert!(body.len() > 32);
    /// let err = endpoint.receive(&headers, Body::from(body)).await.unwrap_err();
    /// assert_eq!(err.status(), 413);
    /// # }
    /// ```
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// The most reports of one request handed to the sink (default
    /// [`DEFAULT_MAX_REPORTS_PER_REQUEST`]); the rest of a batch is dropped.
    ///
    /// ```
    /// let endpoint = djrs_csp::axum::ReportEndpoint::new().max_reports_per_request(3);
    /// # let _ = endpoint;
    /// ```
    pub fn max_reports_per_request(mut self, reports: usize) -> Self {
        self.max_reports = reports;
        self
    }

    /// Takes at most `reports` reports per `per` across all requests (a token bucket that
    /// refills continuously and holds at most `reports`). A request that finds the bucket
    /// empty is answered 429 before its body is read; reports of a batch beyond what is left
    /// are dropped. Off by default.
    ///
    /// ```
    /// use std::time::Duration;
    /// let endpoint = djrs_csp::axum::ReportEndpoint::new().rate_limit(60, Duration::from_secs(60));
    /// # let _ = endpoint;
    /// ```
    pub fn rate_limit(mut self, reports: u32, per: Duration) -> Self {
        self.rate_limit = Some(Arc::new(RateLimit {
            reports,
            per,
            state: Mutex::new((f64::from(reports), Instant::now())),
        }));
        self
    }

    /// The endpoint as a `POST` method router, for `Router::route`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use axum::body::Body;
    /// use axum::http::{Request, StatusCode, header::CONTENT_TYPE};
    /// use axum::Router;
    /// use djrs_csp::axum::ReportEndpoint;
    /// use tower::ServiceExt as _;
    ///
    /// let app: Router = Router::new().route("/csp/report", ReportEndpoint::new().into_method_router());
    ///
    /// let body = r#"{"csp-report": {"document-uri": "https://a.example/", "violated-directive": "img-src"}}"#;
    /// let request = Request::post("/csp/report")
    ///     .header(CONTENT_TYPE, "application/csp-report")
    ///     .body(Body::from(body))
    ///     .unwrap();
    /// let response = app.clone().oneshot(request).await.unwrap();
    /// assert_eq!(response.status(), StatusCode::NO_CONTENT);
    ///
    /// let request = Request::get("/csp/report").body(Body::empty()).unwrap();
    /// let response = app.oneshot(request).await.unwrap();
    /// assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    /// # }
    /// ```
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
    /// A [`ReportRejection`] for a body that is too large, malformed or of another media type,
    /// or when the rate limit is spent.
    pub async fn receive(&self, headers: &HeaderMap, body: Body) -> Result<(), ReportRejection> {
        if let Some(limit) = &self.rate_limit
            && !limit.has_tokens()
        {
            return Err(limit.rejection());
        }
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
        let mut reports = CspReport::parse(content_type, &bytes).map_err(ReportRejection)?;
        let received = reports.len();
        reports.truncate(self.max_reports);
        if let Some(limit) = &self.rate_limit {
            let granted = limit.take(reports.len());
            if granted == 0 && !reports.is_empty() {
                return Err(limit.rejection());
            }
            reports.truncate(granted);
        }
        if reports.len() < received {
            tracing::debug!(
                received,
                taken = reports.len(),
                "CSP reports beyond the endpoint's limits were dropped"
            );
        }
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
    /// 413 for a body past the limit, 415 for another media type, 429 when the rate limit is
    /// spent, 400 otherwise.
    ///
    /// ```
    /// use axum::http::StatusCode;
    /// use djrs_csp::{Error, axum::ReportRejection};
    ///
    /// let status = |error: Error| ReportRejection::from(error).status();
    /// assert_eq!(status(Error::ReportTooLarge { limit: 10 }), StatusCode::PAYLOAD_TOO_LARGE);
    /// assert_eq!(status(Error::UnsupportedMediaType("text/plain".into())), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    /// assert_eq!(status(Error::MalformedReport("not JSON".into())), StatusCode::BAD_REQUEST);
    /// ```
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self.0 {
            Error::ReportTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::ReportRateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
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
        // The message may quote the body: recorded escaped.
        tracing::debug!(error = ?self.0.to_string(), "CSP report refused");
        (self.status(), self.0.to_string()).into_response()
    }
}
