//! The tower middleware (feature `tower`): [`CspLayer`] sets the headers, [`CspOverride`]
//! changes the policies of a route or router.
//!
//! The layer is Django's `ContentSecurityPolicyMiddleware`: for each of the two headers it
//! takes the route's override if there is one, otherwise its own policy, and sets the header
//! unless the handler already did. When a policy holds [`CspSource::NONCE`](crate::CspSource::NONCE) it
//! runs the handler inside the request's nonce scope, where the extractor,
//! [`CspNonce::current`] and templates find a lazy [`CspNonce`], and
//! puts `'nonce-…'` in the header only when the handler or template used it.
//!
//! ```
//! use axum::{Router, routing::get};
//! use djrs_csp::{CspLayer, CspOverride, CspSource, Policy};
//!
//! let strict = Policy::builder()
//!     .directive("default-src", [CspSource::SELF])
//!     .directive("script-src", [CspSource::SELF, CspSource::NONCE])
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

use http::header::{CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_REPORT_ONLY};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

pub use self::future::ResponseFuture;
pub use self::overrides::{CspOverride, CspOverrideService};
pub(crate) use self::overrides::{Overrides, RouteChange};
use crate::nonce::RequestScope;
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
/// use djrs_csp::{CspLayer, CspNonce, CspSource, Policy};
///
/// async fn page(nonce: CspNonce) -> Html<String> {
///     Html(format!("<script nonce=\"{nonce}\">console.log('allowed')</script>"))
/// }
///
/// let enforce = Policy::builder()
///     .directive("default-src", [CspSource::SELF])
///     .directive("script-src", [CspSource::NONCE, CspSource::STRICT_DYNAMIC])
///     .build()?;
/// let report_only = Policy::builder()
///     .directive("default-src", [CspSource::NONE])
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
    enforce: Layered,
    report_only: Layered,
    /// The policies as given, for the routes that edit them.
    enforce_policy: Option<Policy>,
    report_only_policy: Option<Policy>,
    reporting_endpoints: Option<HeaderValue>,
    /// Path prefixes that get no header from this layer.
    exempt: Vec<String>,
}

/// One of the layer's two headers, in the form cheapest to send.
#[derive(Debug, Clone, Default)]
pub(crate) enum Layered {
    /// No policy, or one that renders to nothing.
    #[default]
    Nothing,
    /// A policy without the nonce: its value, computed once.
    Value(HeaderValue),
    /// A policy with the nonce: rendered per response.
    Policy(Policy),
}

impl Layered {
    fn new(policy: Policy) -> Self {
        if policy.uses_nonce() {
            Layered::Policy(policy)
        } else {
            policy
                .header_value(None)
                .map_or(Layered::Nothing, Layered::Value)
        }
    }

    fn needs_nonce(&self) -> bool {
        matches!(self, Layered::Policy(_))
    }

    fn value(&self, nonce: Option<&[u8]>) -> Option<HeaderValue> {
        match self {
            Layered::Nothing => None,
            Layered::Value(value) => Some(value.clone()),
            Layered::Policy(policy) => policy.header_value_bytes(nonce),
        }
    }
}

impl CspLayer {
    /// A layer that sends nothing until given a policy.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::convert::Infallible;
    ///
    /// use djrs_csp::CspLayer;
    /// use http::{Request, Response};
    /// use tower::{Layer as _, ServiceExt as _};
    ///
    /// let handler = tower::service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new("ok")) });
    /// let response = CspLayer::new().layer(handler).oneshot(Request::new(())).await.unwrap();
    /// assert!(response.headers().get("content-security-policy").is_none());
    /// assert!(response.headers().get("content-security-policy-report-only").is_none());
    /// # }
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The enforced policy (`Content-Security-Policy`, Django's `SECURE_CSP`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), djrs_csp::Error> {
    /// use std::convert::Infallible;
    ///
    /// use djrs_csp::{CspLayer, CspSource, Policy};
    /// use http::{Request, Response};
    /// use tower::{Layer as _, ServiceExt as _};
    ///
    /// let policy = Policy::builder()
    ///     .directive("default-src", [CspSource::SELF])
    ///     .directive("object-src", [CspSource::NONE])
    ///     .build()?;
    /// let handler = tower::service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new("ok")) });
    /// let service = CspLayer::new().enforce(policy).layer(handler);
    /// let response = service.oneshot(Request::new(())).await.unwrap();
    /// assert_eq!(
    ///     response.headers()[CspSource::HEADER_ENFORCE],
    ///     "default-src 'self'; object-src 'none'"
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn enforce(mut self, policy: Policy) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.enforce_policy = Some(policy.clone());
        config.enforce = Layered::new(policy);
        self
    }

    /// The report-only policy (`Content-Security-Policy-Report-Only`, Django's
    /// `SECURE_CSP_REPORT_ONLY`): browsers report violations without blocking anything.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), djrs_csp::Error> {
    /// use std::convert::Infallible;
    ///
    /// use djrs_csp::{CspLayer, CspSource, Policy};
    /// use http::{Request, Response};
    /// use tower::{Layer as _, ServiceExt as _};
    ///
    /// let trial = Policy::builder()
    ///     .directive("default-src", [CspSource::NONE])
    ///     .directive("report-uri", ["/csp/report"])
    ///     .build()?;
    /// let handler = tower::service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new("ok")) });
    /// let service = CspLayer::new().report_only(trial).layer(handler);
    /// let response = service.oneshot(Request::new(())).await.unwrap();
    /// assert_eq!(
    ///     response.headers()[CspSource::HEADER_REPORT_ONLY],
    ///     "default-src 'none'; report-uri /csp/report"
    /// );
    /// assert!(response.headers().get(CspSource::HEADER_ENFORCE).is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn report_only(mut self, policy: Policy) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.report_only_policy = Some(policy.clone());
        config.report_only = Layered::new(policy);
        self
    }

    /// Sends `Reporting-Endpoints` with every response that gets a CSP header, for the
    /// `report-to` directive (the Reporting API).
    ///
    /// ```
    /// use djrs_csp::{CspLayer, CspSource, Policy, ReportingEndpoints};
    ///
    /// let policy = Policy::builder()
    ///     .directive("default-src", [CspSource::SELF])
    ///     .directive("report-to", ["csp-endpoint"])
    ///     .build()?;
    /// let layer = CspLayer::new()
    ///     .enforce(policy)
    ///     .reporting_endpoints(&ReportingEndpoints::new([("csp-endpoint", "/csp/report")])?);
    /// # let _ = layer;
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn reporting_endpoints(mut self, endpoints: &ReportingEndpoints) -> Self {
        Arc::make_mut(&mut self.config).reporting_endpoints =
            HeaderValue::from_str(&endpoints.to_string()).ok();
        self
    }

    /// Sends no header for requests under `prefix` (a path: `/admin` covers `/admin` and
    /// `/admin/…`, not `/administrator`), as django-csp's `EXCLUDE_URL_PREFIXES` does.
    /// A route's own [`CspOverride`] does not reach past this either.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), djrs_csp::Error> {
    /// use std::convert::Infallible;
    ///
    /// use djrs_csp::{CspLayer, CspSource, Policy};
    /// use http::{Request, Response};
    /// use tower::{Layer as _, ServiceExt as _};
    ///
    /// let site = Policy::builder().directive("default-src", [CspSource::SELF]).build()?;
    /// let handler = tower::service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new("")) });
    /// let service = CspLayer::new().enforce(site).exempt("/legacy").layer(handler);
    /// for (path, sent) in [("/legacy", false), ("/legacy/app", false), ("/legacy-new", true), ("/", true)] {
    ///     let request = Request::get(path).body(()).unwrap();
    ///     let response = service.clone().oneshot(request).await.unwrap();
    ///     assert_eq!(response.headers().contains_key(CspSource::HEADER_ENFORCE), sent, "{path}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn exempt(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        let prefix = prefix.trim_end_matches('/');
        Arc::make_mut(&mut self.config)
            .exempt
            .push(prefix.to_owned());
        self
    }
}

impl<S> Layer<S> for CspLayer {
    type Service = Csp<S>;

    fn layer(&self, inner: S) -> Self::Service {
        let config = &self.config;
        let plan = if config.enforce.needs_nonce() || config.report_only.needs_nonce() {
            Plan::Nonce
        } else if config.reporting_endpoints.is_none() {
            let value = |layered: &Layered| match layered {
                Layered::Value(value) => Some(value.clone()),
                Layered::Nothing | Layered::Policy(_) => None,
            };
            Plan::Static {
                enforce: value(&config.enforce),
                report_only: value(&config.report_only),
            }
        } else {
            Plan::Shared
        };
        Csp {
            inner,
            config: Arc::clone(config),
            plan,
        }
    }
}

/// How a [`Csp`] service prepares each response, chosen once from its policies.
#[derive(Debug, Clone)]
enum Plan {
    /// Only values computed when the policies were built: the future carries clones of them.
    Static {
        enforce: Option<HeaderValue>,
        report_only: Option<HeaderValue>,
    },
    /// No nonce, but more than the two values: the future shares the configuration.
    Shared,
    /// A policy holds the nonce: each request gets a nonce scope.
    Nonce,
}

/// What one response still needs: the layer's headers and the request's nonce.
#[derive(Debug)]
pub(crate) enum Pending {
    /// The two header values, cloned when the request came in (and the configuration, for a
    /// route that edits the policies).
    Static {
        enforce: Option<HeaderValue>,
        report_only: Option<HeaderValue>,
        config: Arc<Config>,
    },
    /// The layer's configuration (the nonce's scope, if its policies use one, is the
    /// future's).
    Shared { config: Arc<Config> },
}

impl Pending {
    /// Sets the headers on a response (Django's `process_response`).
    #[inline]
    pub(crate) fn apply<B>(self, response: &mut Response<B>, scope: Option<&RequestScope>) {
        let overrides = response.extensions_mut().remove::<Overrides>();
        match self {
            // The common cases: no override on the route.
            Pending::Static {
                enforce,
                report_only,
                ..
            } if overrides.is_none() => {
                let headers = response.headers_mut();
                insert_vacant(headers, CONTENT_SECURITY_POLICY, enforce);
                insert_vacant(headers, CONTENT_SECURITY_POLICY_REPORT_ONLY, report_only);
            }
            Pending::Shared { config } if overrides.is_none() => {
                let nonce = scope.and_then(RequestScope::nonce);
                config.send(response.headers_mut(), nonce.and_then(CspNonce::bytes));
            }
            pending => {
                pending.apply_overrides(response, overrides.unwrap_or_default(), scope);
            }
        }
    }

    /// Sets the headers on the response of a route with a [`CspOverride`].
    fn apply_overrides<B>(
        self,
        response: &mut Response<B>,
        overrides: Overrides,
        scope: Option<&RequestScope>,
    ) {
        let Overrides {
            enforce,
            report_only,
            nonce: override_nonce,
        } = overrides;
        let headers = response.headers_mut();
        match self {
            Pending::Static {
                enforce: enforce_value,
                report_only: report_only_value,
                config,
            } => {
                let nonce = override_nonce.as_ref().and_then(CspNonce::bytes);
                let layered =
                    |value: Option<HeaderValue>| value.map_or(Layered::Nothing, Layered::Value);
                set(
                    headers,
                    CONTENT_SECURITY_POLICY,
                    enforce,
                    (&layered(enforce_value), config.enforce_policy.as_ref()),
                    nonce,
                );
                set(
                    headers,
                    CONTENT_SECURITY_POLICY_REPORT_ONLY,
                    report_only,
                    (
                        &layered(report_only_value),
                        config.report_only_policy.as_ref(),
                    ),
                    nonce,
                );
            }
            Pending::Shared { config } => {
                let nonce = scope.and_then(RequestScope::nonce);
                let nonce = nonce.or(override_nonce.as_ref());
                let nonce = nonce.and_then(CspNonce::bytes);
                let sent = set(
                    headers,
                    CONTENT_SECURITY_POLICY,
                    enforce,
                    (&config.enforce, config.enforce_policy.as_ref()),
                    nonce,
                ) | set(
                    headers,
                    CONTENT_SECURITY_POLICY_REPORT_ONLY,
                    report_only,
                    (&config.report_only, config.report_only_policy.as_ref()),
                    nonce,
                );
                config.send_endpoints(headers, sent);
            }
        }
    }
}

impl Config {
    /// Sets the layer's own headers, with the request's nonce if it used one.
    fn send(&self, headers: &mut HeaderMap, nonce: Option<&[u8]>) {
        let sent = set_layered(headers, CONTENT_SECURITY_POLICY, &self.enforce, nonce)
            | set_layered(
                headers,
                CONTENT_SECURITY_POLICY_REPORT_ONLY,
                &self.report_only,
                nonce,
            );
        self.send_endpoints(headers, sent);
    }

    /// Sets `Reporting-Endpoints` when a CSP header was `sent` and the handler did not set it.
    fn send_endpoints(&self, headers: &mut HeaderMap, sent: bool) {
        if sent
            && let Some(endpoints) = &self.reporting_endpoints
            && !headers.contains_key(REPORTING_ENDPOINTS)
        {
            headers.insert(REPORTING_ENDPOINTS, endpoints.clone());
        }
    }
}

/// Inserts a header value unless the header is present.
#[inline]
fn insert_vacant(headers: &mut HeaderMap, name: HeaderName, value: Option<HeaderValue>) {
    // `contains_key` then `insert` measured about 15 ns faster than the entry API.
    if let Some(value) = value
        && !headers.contains_key(&name)
    {
        headers.insert(name, value);
    }
}

/// Sets one CSP header from the layer's policy, unless the header is present or the policy
/// renders to nothing; returns whether a header was set.
#[inline]
fn set_layered(
    headers: &mut HeaderMap,
    name: HeaderName,
    layered: &Layered,
    nonce: Option<&[u8]>,
) -> bool {
    if matches!(layered, Layered::Nothing) || headers.contains_key(&name) {
        return false;
    }
    match layered.value(nonce) {
        Some(value) => {
            headers.insert(name, value);
            true
        }
        None => false,
    }
}

/// Sets one CSP header, from the route's override or edit or else the layer's policy
/// (`layered`, with the policy it came from), unless the header is present or the policy
/// renders to nothing; returns whether a header was set. An edit of a policy the layer does
/// not send sends nothing.
fn set(
    headers: &mut HeaderMap,
    name: HeaderName,
    overridden: Option<RouteChange>,
    (layered, base): (&Layered, Option<&Policy>),
    nonce: Option<&[u8]>,
) -> bool {
    let value = match overridden {
        None => return set_layered(headers, name, layered, nonce),
        Some(_) if headers.contains_key(&name) => return false,
        Some(RouteChange::Replace(policy)) => policy.header_value_bytes(nonce),
        Some(RouteChange::Edit(edit)) => {
            base.and_then(|base| edit.apply(base).header_value_bytes(nonce))
        }
    };
    match value {
        Some(value) => {
            headers.insert(name, value);
            true
        }
        None => false,
    }
}

/// The service made by [`CspLayer`]; see there.
#[derive(Debug, Clone)]
pub struct Csp<S> {
    inner: S,
    config: Arc<Config>,
    plan: Plan,
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

    #[inline]
    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if !self.config.exempt.is_empty() && is_exempt(&self.config.exempt, request.uri().path()) {
            return ResponseFuture {
                inner: self.inner.call(request),
                pending: None,
                scope: None,
            };
        }
        let pending = match &self.plan {
            Plan::Static {
                enforce,
                report_only,
            } => Pending::Static {
                enforce: enforce.clone(),
                report_only: report_only.clone(),
                config: Arc::clone(&self.config),
            },
            Plan::Shared => Pending::Shared {
                config: Arc::clone(&self.config),
            },
            Plan::Nonce => {
                // The inner service's `call` runs in the request's scope too, like each poll
                // of its future. Only this plan has a scope, so the others call the inner
                // service directly, with nothing to check on the common path.
                let mut scope = RequestScope::new();
                let inner = &mut self.inner;
                let future = scope.enter(|| inner.call(request));
                return ResponseFuture {
                    inner: future,
                    pending: Some(Pending::Shared {
                        config: Arc::clone(&self.config),
                    }),
                    scope: Some(scope),
                };
            }
        };
        ResponseFuture {
            inner: self.inner.call(request),
            pending: Some(pending),
            scope: None,
        }
    }
}

/// Whether `path` is one of the `prefixes` or below one (by whole segments).
fn is_exempt(prefixes: &[String], path: &str) -> bool {
    prefixes.iter().any(|prefix| {
        path.strip_prefix(prefix.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || prefix.is_empty())
    })
}
