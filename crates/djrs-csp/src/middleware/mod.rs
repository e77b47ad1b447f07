//! The tower middleware (feature `tower`): [`CspLayer`] sets the headers, [`CspOverride`]
//! changes the policies of a route or router.
//!
//! The layer is Django's `ContentSecurityPolicyMiddleware`: for each of the two headers it
//! takes the route's override if there is one, otherwise its own policy, and sets the header
//! unless the handler already did. When a policy holds [`Csp::NONCE`](crate::Csp::NONCE) it
//! gives each request a lazy [`CspNonce`] in the request extensions, and puts `'nonce-…'` in
//! the header only when the handler or template used it.
//!
//! ```
//! use axum::{Router, routing::get};
//! use djrs_csp::{Csp, CspLayer, CspOverride, Policy};
//!
//! let strict = Policy::builder()
//!     .directive("default-src", [Csp::SELF])
//!     .directive("script-src", [Csp::SELF, Csp::NONCE])
//!     .build()?;
//! let embeddable = strict.to_builder().directive("frame-ancestors", ["https://partner.example"]).build()?;
//!
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "home" }))
//!     .route("/embed", get(|| async { "embed" }).layer(CspOverride::enforce(embeddable)))
//!     .route("/legacy", get(|| async { "legacy" }).layer(CspOverride::enforce(Policy::empty())))
//!     .layer(CspLayer::new().enforce(strict));
//! # let _ = app;
//! # Ok::<(), djrs_csp::Error>(())
//! ```

pub mod future;
mod overrides;

use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_REPORT_ONLY, Entry};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

pub use self::future::ResponseFuture;
pub(crate) use self::overrides::Overrides;
pub use self::overrides::{CspOverride, CspOverrideService};
use crate::{CspNonce, Policy, ReportingEndpoints};

/// The `Reporting-Endpoints` header name.
pub(crate) const REPORTING_ENDPOINTS: HeaderName = HeaderName::from_static("reporting-endpoints");

/// Sets `Content-Security-Policy` and `Content-Security-Policy-Report-Only` on every response
/// (Django's `SECURE_CSP` and `SECURE_CSP_REPORT_ONLY`).
///
/// - Both headers can be sent together; a header the handler set itself is left alone.
/// - A route's [`CspOverride`] replaces the policy for that route; an empty override policy
///   removes the header.
/// - Header values that do not depend on the nonce are computed once, when the policy is built.
/// - A policy that renders to nothing sends no header (Django sends an empty one).
///
/// ```
/// use axum::{Router, routing::get, response::Html};
/// use djrs_csp::{Csp, CspLayer, CspNonce, Policy};
///
/// async fn page(nonce: CspNonce) -> Html<String> {
///     Html(format!("<script nonce=\"{nonce}\">console.log('allowed')</script>"))
/// }
///
/// let enforce = Policy::builder()
///     .directive("default-src", [Csp::SELF])
///     .directive("script-src", [Csp::NONCE, Csp::STRICT_DYNAMIC])
///     .build()?;
/// let report_only = Policy::builder()
///     .directive("default-src", [Csp::NONE])
///     .directive("report-uri", ["/csp/report"])
///     .build()?;
/// let app: Router = Router::new()
///     .route("/", get(page))
///     .layer(CspLayer::new().enforce(enforce).report_only(report_only));
/// # let _ = app;
/// # Ok::<(), djrs_csp::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct CspLayer {
    config: Arc<Config>,
}

/// What a [`CspLayer`] sends.
#[derive(Debug, Clone, Default)]
pub(crate) struct Config {
    enforce: Option<Policy>,
    report_only: Option<Policy>,
    reporting_endpoints: Option<HeaderValue>,
    /// Whether a policy of the layer holds the nonce, so requests need a [`CspNonce`].
    needs_nonce: bool,
}

impl CspLayer {
    /// A layer that sends nothing until given a policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// The enforced policy (`Content-Security-Policy`, Django's `SECURE_CSP`).
    pub fn enforce(mut self, policy: Policy) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.enforce = Some(policy);
        config.update_needs_nonce();
        self
    }

    /// The report-only policy (`Content-Security-Policy-Report-Only`, Django's
    /// `SECURE_CSP_REPORT_ONLY`): browsers report violations without blocking anything.
    pub fn report_only(mut self, policy: Policy) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.report_only = Some(policy);
        config.update_needs_nonce();
        self
    }

    /// Sends `Reporting-Endpoints` with every response that gets a CSP header, for the
    /// `report-to` directive (the Reporting API).
    ///
    /// ```
    /// use djrs_csp::{Csp, CspLayer, Policy, ReportingEndpoints};
    ///
    /// let policy = Policy::builder()
    ///     .directive("default-src", [Csp::SELF])
    ///     .directive("report-to", ["csp-endpoint"])
    ///     .build()?;
    /// let layer = CspLayer::new()
    ///     .enforce(policy)
    ///     .reporting_endpoints(&ReportingEndpoints::new([("csp-endpoint", "/csp/report")])?);
    /// # let _ = layer;
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn reporting_endpoints(mut self, endpoints: &ReportingEndpoints) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.reporting_endpoints = HeaderValue::from_str(&endpoints.to_string()).ok();
        self
    }
}

impl<S> Layer<S> for CspLayer {
    type Service = Csp<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Csp {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

impl Config {
    fn update_needs_nonce(&mut self) {
        self.needs_nonce = [&self.enforce, &self.report_only]
            .into_iter()
            .flatten()
            .any(Policy::uses_nonce);
    }

    /// Sets the headers on a response (Django's `process_response`).
    pub(crate) fn apply<B>(&self, response: &mut Response<B>, nonce: Option<&CspNonce>) {
        let overrides = response.extensions_mut().remove::<Overrides>();
        let overrides = overrides.as_ref();
        let nonce = nonce
            .or_else(|| overrides.and_then(|o| o.nonce.as_ref()))
            .and_then(CspNonce::get);
        let enforce = overrides
            .and_then(|o| o.enforce.as_ref())
            .or(self.enforce.as_ref());
        let report_only = overrides
            .and_then(|o| o.report_only.as_ref())
            .or(self.report_only.as_ref());
        let headers = response.headers_mut();
        let mut sent = set_policy(headers, CONTENT_SECURITY_POLICY, enforce, nonce);
        sent |= set_policy(
            headers,
            CONTENT_SECURITY_POLICY_REPORT_ONLY,
            report_only,
            nonce,
        );
        if sent
            && let Some(endpoints) = &self.reporting_endpoints
            && let Entry::Vacant(entry) = headers.entry(REPORTING_ENDPOINTS)
        {
            entry.insert(endpoints.clone());
        }
    }
}

/// Sets one CSP header unless it is present or the policy renders to nothing; returns whether
/// a header was set.
fn set_policy(
    headers: &mut HeaderMap,
    name: HeaderName,
    policy: Option<&Policy>,
    nonce: Option<&str>,
) -> bool {
    let Some(policy) = policy else {
        return false;
    };
    match headers.entry(name) {
        Entry::Occupied(_) => false,
        Entry::Vacant(entry) => match policy.header_value(nonce) {
            Some(value) => {
                entry.insert(value);
                true
            }
            None => false,
        },
    }
}

/// The service made by [`CspLayer`]; see there.
#[derive(Debug, Clone)]
pub struct Csp<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Csp<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let nonce = self
            .config
            .needs_nonce
            .then(|| request_nonce(request.extensions_mut()));
        ResponseFuture {
            inner: self.inner.call(request),
            config: Arc::clone(&self.config),
            nonce,
        }
    }
}

/// The request's nonce, created and stored in its extensions when it has none yet.
pub(crate) fn request_nonce(extensions: &mut http::Extensions) -> CspNonce {
    if let Some(nonce) = extensions.get::<CspNonce>() {
        return nonce.clone();
    }
    let nonce = CspNonce::new();
    extensions.insert(nonce.clone());
    nonce
}
