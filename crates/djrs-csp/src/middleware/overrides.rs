//! `CspOverride`: per-route policies (Django's `csp_override` and `csp_report_only_override`)
//! and per-route edits of the layer's (django-csp's `csp_update` and `csp_replace`).

use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::future::OverrideFuture;
use crate::nonce::RequestScope;
use crate::{CspNonce, Policy, PolicyEdit};

/// Replaces the enforced and/or report-only policy of the routes it wraps: Django's
/// `@csp_override(config)` and `@csp_report_only_override(config)`. An empty policy
/// ([`Policy::empty`]) removes that header from the route, like Django's `{}`.
///
/// It works with a [`CspLayer`](super::CspLayer) further out: the override travels on the
/// response and the layer applies it. When an override is nested in another (a route inside an
/// overridden router), the inner one wins.
///
/// ```
/// use axum::{Router, routing::get};
/// use djrs_csp::{CspLayer, CspOverride, CspSource, Policy};
///
/// let site = Policy::builder().directive("default-src", [CspSource::SELF]).build()?;
/// let images = Policy::builder().directive("img-src", ["*"]).build()?;
/// let app: Router = Router::new()
///     .route("/gallery", get(|| async { "gallery" }).layer(CspOverride::enforce(images)))
///     // No report-only header on the health check.
///     .route("/health", get(|| async { "ok" }).layer(CspOverride::report_only(Policy::empty())))
///     .layer(CspLayer::new().enforce(site));
/// # let _ = app;
/// # Ok::<(), djrs_csp::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct CspOverride {
    enforce: Option<RouteChange>,
    report_only: Option<RouteChange>,
}

/// What a route does to one of the layer's headers: its own policy, or an edit of the layer's.
#[derive(Debug, Clone)]
pub(crate) enum RouteChange {
    Replace(Policy),
    Edit(PolicyEdit),
}

impl RouteChange {
    fn uses_nonce(&self) -> bool {
        match self {
            RouteChange::Replace(policy) => policy.uses_nonce(),
            RouteChange::Edit(edit) => edit.uses_nonce(),
        }
    }
}

impl CspOverride {
    /// Replaces the enforced policy (`csp_override`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), djrs_csp::Error> {
    /// use std::convert::Infallible;
    ///
    /// use djrs_csp::{CspLayer, CspOverride, CspSource, Policy};
    /// use http::{Request, Response};
    /// use tower::{Layer as _, ServiceExt as _};
    ///
    /// let site = Policy::builder().directive("default-src", [CspSource::SELF]).build()?;
    /// let images = Policy::builder().directive("img-src", ["*"]).build()?;
    /// let handler = tower::service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new("gallery")) });
    /// let route = CspOverride::enforce(images).layer(handler);
    /// let service = CspLayer::new().enforce(site).layer(route);
    /// let response = service.oneshot(Request::new(())).await.unwrap();
    /// assert_eq!(response.headers()[CspSource::HEADER_ENFORCE], "img-src *");
    /// # Ok(())
    /// # }
    /// ```
    pub fn enforce(policy: Policy) -> Self {
        CspOverride {
            enforce: Some(RouteChange::Replace(policy)),
            report_only: None,
        }
    }

    /// Replaces the report-only policy (`csp_report_only_override`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), djrs_csp::Error> {
    /// use std::convert::Infallible;
    ///
    /// use djrs_csp::{CspLayer, CspOverride, CspSource, Policy};
    /// use http::{Request, Response};
    /// use tower::{Layer as _, ServiceExt as _};
    ///
    /// let site = Policy::builder().directive("default-src", [CspSource::SELF]).build()?;
    /// let handler = tower::service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new("ok")) });
    /// // An empty policy removes the report-only header from this route; the enforced one stays.
    /// let route = CspOverride::report_only(Policy::empty()).layer(handler);
    /// let service = CspLayer::new().enforce(site.clone()).report_only(site).layer(route);
    /// let response = service.oneshot(Request::new(())).await.unwrap();
    /// assert!(response.headers().get(CspSource::HEADER_REPORT_ONLY).is_none());
    /// assert_eq!(response.headers()[CspSource::HEADER_ENFORCE], "default-src 'self'");
    /// # Ok(())
    /// # }
    /// ```
    pub fn report_only(policy: Policy) -> Self {
        CspOverride {
            enforce: None,
            report_only: Some(RouteChange::Replace(policy)),
        }
    }

    /// Also replaces the enforced policy.
    ///
    /// ```
    /// use djrs_csp::{CspOverride, Policy};
    ///
    /// // Neither header on this route.
    /// let layer = CspOverride::report_only(Policy::empty()).with_enforce(Policy::empty());
    /// # let _ = layer;
    /// ```
    pub fn with_enforce(mut self, policy: Policy) -> Self {
        self.enforce = Some(RouteChange::Replace(policy));
        self
    }

    /// Also replaces the report-only policy.
    ///
    /// ```
    /// use djrs_csp::{CspOverride, CspSource, Policy};
    ///
    /// let enforce = Policy::builder().directive("default-src", [CspSource::SELF]).build()?;
    /// let trial = Policy::builder().directive("default-src", [CspSource::NONE]).build()?;
    /// let layer = CspOverride::enforce(enforce).with_report_only(trial);
    /// # let _ = layer;
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn with_report_only(mut self, policy: Policy) -> Self {
        self.report_only = Some(RouteChange::Replace(policy));
        self
    }

    /// Edits the layer's enforced policy for these routes (django-csp's `csp_update` and
    /// `csp_replace`), instead of replacing it: the edit follows whatever the layer sends.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), djrs_csp::Error> {
    /// use std::convert::Infallible;
    ///
    /// use djrs_csp::{CspLayer, CspOverride, CspSource, Policy, PolicyEdit};
    /// use http::{Request, Response};
    /// use tower::{Layer as _, ServiceExt as _};
    ///
    /// let site = Policy::builder()
    ///     .directive("default-src", [CspSource::SELF])
    ///     .directive("frame-src", [CspSource::NONE])
    ///     .build()?;
    /// let video = PolicyEdit::new().replace("frame-src", ["https://www.youtube-nocookie.com"]).build()?;
    /// let handler = tower::service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new("video")) });
    /// let route = CspOverride::edit(video).layer(handler);
    /// let service = CspLayer::new().enforce(site).layer(route);
    /// let response = service.oneshot(Request::new(())).await.unwrap();
    /// assert_eq!(
    ///     response.headers()[CspSource::HEADER_ENFORCE],
    ///     "default-src 'self'; frame-src https://www.youtube-nocookie.com"
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn edit(edit: PolicyEdit) -> Self {
        CspOverride {
            enforce: Some(RouteChange::Edit(edit)),
            report_only: None,
        }
    }

    /// Edits the layer's report-only policy for these routes.
    ///
    /// ```
    /// use djrs_csp::{CspOverride, PolicyEdit};
    ///
    /// let trial = PolicyEdit::new().add("script-src", ["https://cdn.example.com"]).build()?;
    /// let layer = CspOverride::edit_report_only(trial);
    /// # let _ = layer;
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn edit_report_only(edit: PolicyEdit) -> Self {
        CspOverride {
            enforce: None,
            report_only: Some(RouteChange::Edit(edit)),
        }
    }

    /// Also edits the enforced policy.
    ///
    /// ```
    /// use djrs_csp::{CspOverride, PolicyEdit};
    ///
    /// let images = PolicyEdit::new().add("img-src", ["data:"]).build()?;
    /// let layer = CspOverride::edit_report_only(images.clone()).with_edit(images);
    /// # let _ = layer;
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn with_edit(mut self, edit: PolicyEdit) -> Self {
        self.enforce = Some(RouteChange::Edit(edit));
        self
    }

    /// Also edits the report-only policy.
    ///
    /// ```
    /// use djrs_csp::{CspOverride, PolicyEdit};
    ///
    /// let images = PolicyEdit::new().add("img-src", ["data:"]).build()?;
    /// let layer = CspOverride::edit(images.clone()).with_report_only_edit(images);
    /// # let _ = layer;
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn with_report_only_edit(mut self, edit: PolicyEdit) -> Self {
        self.report_only = Some(RouteChange::Edit(edit));
        self
    }

    fn needs_nonce(&self) -> bool {
        [&self.enforce, &self.report_only]
            .into_iter()
            .flatten()
            .any(RouteChange::uses_nonce)
    }
}

impl<S> Layer<S> for CspOverride {
    type Service = CspOverrideService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CspOverrideService {
            inner,
            needs_nonce: self.needs_nonce(),
            config: self.clone(),
        }
    }
}

/// The service made by [`CspOverride`]; see there.
#[derive(Debug, Clone)]
pub struct CspOverrideService<S> {
    inner: S,
    config: CspOverride,
    needs_nonce: bool,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CspOverrideService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = OverrideFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The outer layer may not need a nonce for its own policies; this route's does. The
        // inner service's `call` and each poll of its future run in the route's scope.
        let mut scope = self.needs_nonce.then(RequestScope::new);
        let inner = &mut self.inner;
        let future = RequestScope::enter_if(scope.as_mut(), || inner.call(request));
        OverrideFuture {
            inner: future,
            overrides: Overrides {
                enforce: self.config.enforce.clone(),
                report_only: self.config.report_only.clone(),
                nonce: None,
            },
            scope,
        }
    }
}

/// The policies of a route, carried from a [`CspOverrideService`] to the [`CspLayer`] on the
/// response's extensions.
///
/// [`CspLayer`]: super::CspLayer
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    pub(crate) enforce: Option<RouteChange>,
    pub(crate) report_only: Option<RouteChange>,
    pub(crate) nonce: Option<CspNonce>,
}

impl Overrides {
    /// Records these overrides on a response; an override recorded closer to the handler wins.
    pub(crate) fn record(&mut self, extensions: &mut http::Extensions) {
        let mut recorded = extensions.remove::<Overrides>().unwrap_or_default();
        if recorded.enforce.is_none() {
            recorded.enforce = self.enforce.take();
        }
        if recorded.report_only.is_none() {
            recorded.report_only = self.report_only.take();
        }
        if recorded.nonce.is_none() {
            recorded.nonce = self.nonce.take();
        }
        extensions.insert(recorded);
    }
}
