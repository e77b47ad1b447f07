//! axum integration (feature `axum`): the [`Template`] response, htmx's request headers and
//! its response headers ([`HxTrigger`], [`HxPushUrl`], [`HxLocation`], …).
//!
//! One handler serves the whole page to a browser and only the fragment to htmx:
//!
//! ```
//! use std::sync::Arc;
//! use axum::{Router, routing::get, extract::State};
//! use djrs_partials::Templates;
//! use djrs_partials::axum::{Htmx, Template};
//!
//! async fn articles(State(t): State<Arc<Templates>>, htmx: Htmx) -> Template {
//!     let mut ctx = tera::Context::new();
//!     ctx.insert("articles", &["a", "b"]);
//!     // htmx (neither boosted nor a history restore) gets `articles.html#list`, everyone else
//!     // the page; the response says `Vary: HX-Request, HX-Boosted, …` either way.
//!     Template::page_or_fragment(t, &htmx, "articles.html", "list", ctx)
//! }
//!
//! let mut templates = Templates::new();
//! templates.add_raw_template(
//!     "articles.html",
//!     "<h1>Articles</h1>{% partialdef list inline %}<ul>{% for a in articles %}<li>{{ a }}</li>{% endfor %}</ul>{% endpartialdef %}",
//! )?;
//! let app: Router = Router::new().route("/articles", get(articles)).with_state(Arc::new(templates));
//! # let _ = app;
//! # Ok::<(), djrs_partials::Error>(())
//! ```

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};

use crate::Templates;

mod respond;
pub use respond::{
    HxLocation, HxPushUrl, HxRedirect, HxRefresh, HxReplaceUrl, HxReselect, HxReswap, HxRetarget,
    HxStopPolling, HxTrigger, STOP_POLLING, TriggerTiming, response_headers,
};

/// htmx's request header names (htmx 2).
pub mod headers {
    /// `HX-Request: true` on every htmx request.
    pub const HX_REQUEST: &str = "hx-request";
    /// The `id` of the target element.
    pub const HX_TARGET: &str = "hx-target";
    /// The `id` of the triggered element.
    pub const HX_TRIGGER: &str = "hx-trigger";
    /// The `name` of the triggered element.
    pub const HX_TRIGGER_NAME: &str = "hx-trigger-name";
    /// `true` when the request comes from an element using `hx-boost`.
    pub const HX_BOOSTED: &str = "hx-boosted";
    /// The browser's current URL.
    pub const HX_CURRENT_URL: &str = "hx-current-url";
    /// `true` when htmx restores history after a cache miss: answer with the full page.
    pub const HX_HISTORY_RESTORE_REQUEST: &str = "hx-history-restore-request";
    /// The user's answer to `hx-prompt`.
    pub const HX_PROMPT: &str = "hx-prompt";
}

fn header_str(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn header_true(parts: &Parts, name: &str) -> bool {
    parts
        .headers
        .get(name)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
}

/// `HX-Request: true`: the request was made by htmx (django-htmx's `request.htmx`).
///
/// To choose between a page and a fragment, use [`Htmx::wants_fragment`] (or
/// [`Template::page_or_fragment`]) instead: boosted requests and history restores also carry
/// `HX-Request: true` and need the full page.
///
/// ```
/// use axum::extract::FromRequestParts;
/// use djrs_partials::axum::HxRequest;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let (mut parts, ()) = http::Request::builder().header("HX-Request", "true").body(()).unwrap().into_parts();
/// let HxRequest(htmx) = HxRequest::from_request_parts(&mut parts, &()).await.unwrap();
/// assert!(htmx);
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HxRequest(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for HxRequest {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(header_true(parts, headers::HX_REQUEST)))
    }
}

/// Every htmx request header of one request.
///
/// ```
/// use axum::extract::FromRequestParts;
/// use djrs_partials::axum::Htmx;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let (mut parts, ()) = http::Request::builder()
///     .header("HX-Request", "true")
///     .header("HX-Target", "articles")
///     .header("HX-History-Restore-Request", "true")
///     .body(()).unwrap().into_parts();
/// let htmx = Htmx::from_request_parts(&mut parts, &()).await.unwrap();
/// assert!(htmx.request);
/// assert_eq!(htmx.target.as_deref(), Some("articles"));
/// assert!(!htmx.wants_fragment(), "a history restore needs the full page");
/// # });
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Htmx {
    /// `HX-Request: true`.
    pub request: bool,
    /// `HX-Target`.
    pub target: Option<String>,
    /// `HX-Trigger`.
    pub trigger: Option<String>,
    /// `HX-Trigger-Name`.
    pub trigger_name: Option<String>,
    /// `HX-Boosted: true`.
    pub boosted: bool,
    /// `HX-Current-URL`.
    pub current_url: Option<String>,
    /// `HX-History-Restore-Request: true`.
    pub history_restore_request: bool,
    /// `HX-Prompt`.
    pub prompt: Option<String>,
    #[cfg(feature = "csp")]
    nonce: Option<djrs_csp::CspNonce>,
}

impl Htmx {
    /// Whether to answer with a fragment: an htmx request that is neither boosted nor a history
    /// restore. htmx swaps a boosted request's response into `<body>` and a history restore's
    /// into the whole page, so both need the full page; a fragment would drop the page's
    /// navigation.
    ///
    /// ```
    /// let mut htmx = djrs_partials::axum::Htmx::default();
    /// assert!(!htmx.wants_fragment());
    /// htmx.request = true;
    /// assert!(htmx.wants_fragment());
    /// htmx.boosted = true;
    /// assert!(!htmx.wants_fragment(), "a boosted link or form gets the full page");
    /// ```
    #[must_use]
    pub fn wants_fragment(&self) -> bool {
        self.request && !self.boosted && !self.history_restore_request
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Htmx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            request: header_true(parts, headers::HX_REQUEST),
            target: header_str(parts, headers::HX_TARGET),
            trigger: header_str(parts, headers::HX_TRIGGER),
            trigger_name: header_str(parts, headers::HX_TRIGGER_NAME),
            boosted: header_true(parts, headers::HX_BOOSTED),
            current_url: header_str(parts, headers::HX_CURRENT_URL),
            history_restore_request: header_true(parts, headers::HX_HISTORY_RESTORE_REQUEST),
            prompt: header_str(parts, headers::HX_PROMPT),
            #[cfg(feature = "csp")]
            nonce: djrs_csp::CspNonce::current(),
        })
    }
}

/// The request headers [`Template::page_or_fragment`] chooses by, named in its `Vary`.
const VARY_HTMX: &str = "HX-Request, HX-Boosted, HX-History-Restore-Request";

/// A response rendering templates: `200` with a content type from the first name's suffix
/// (`text/html; charset=utf-8` unless it ends in `.txt`, `.xml`, `.json`, `.css` or `.js`). A
/// render error becomes a bare `500 Internal Server Error`; the detail is logged with
/// `tracing::error!`, never sent.
///
/// With the `csp` feature, templates see the request's nonce as `{{ csp_nonce() }}` when the
/// response is made while `djrs_csp::CspLayer` handles the request (it runs the handler inside
/// the request's nonce scope), and wherever it is made with [`Template::nonce`] or through
/// [`Template::page_or_fragment`].
///
/// ```
/// use std::sync::Arc;
/// use axum::response::IntoResponse;
/// use djrs_partials::{Templates, axum::Template};
///
/// let mut templates = Templates::new();
/// templates.add_raw_template("hi.html", "{% partialdef p %}Hi {{ who }}{% endpartialdef %}")?;
/// let templates = Arc::new(templates);
/// let mut ctx = tera::Context::new();
/// ctx.insert("who", "you");
/// let res = Template::new(templates.clone(), "hi.html#p", ctx).into_response();
/// assert_eq!(res.status(), 200);
/// assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
///
/// let res = Template::new(templates, "hi.html#nope", tera::Context::new()).into_response();
/// assert_eq!(res.status(), 500);
/// # Ok::<(), djrs_partials::Error>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct Template {
    templates: Arc<Templates>,
    names: Vec<String>,
    oob: Vec<(String, String)>,
    /// The context, or why the value given could not be one (reported when rendering).
    context: Result<tera::Context, crate::Error>,
    vary: bool,
    #[cfg(feature = "csp")]
    nonce: Option<djrs_csp::CspNonce>,
}

impl Template {
    /// Renders `name` (a file or `"file#partial"`) with `context`: a `tera::Context`, or a
    /// reference to any `Serialize` struct or map ([`IntoContext`](crate::IntoContext)). A
    /// context that cannot be made is a 500 when the response is made, logged with the reason.
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// use djrs_partials::{Templates, axum::Template};
    ///
    /// #[derive(serde::Serialize)]
    /// struct Greeting<'a> { name: &'a str }
    ///
    /// let mut templates = Templates::new();
    /// templates.add_raw_template("hi.html", "Hello, {{ name }}!")?;
    /// let templates = std::sync::Arc::new(templates);
    /// let res = Template::new(templates.clone(), "hi.html", &Greeting { name: "<Ann>" }).into_response();
    /// # tokio_test::block_on(async {
    /// let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
    /// assert_eq!(body, "Hello, &lt;Ann&gt;!");
    /// # });
    /// // A tera::Context works as before; a value without fields is a 500.
    /// assert_eq!(Template::new(templates.clone(), "hi.html", tera::Context::new()).into_response().status(), 500);
    /// assert_eq!(Template::new(templates, "hi.html", &"just a string").into_response().status(), 500);
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    pub fn new(
        templates: Arc<Templates>,
        name: impl Into<String>,
        context: impl crate::IntoContext,
    ) -> Self {
        Self {
            templates,
            names: vec![name.into()],
            oob: Vec::new(),
            context: context.into_context(),
            vary: false,
            #[cfg(feature = "csp")]
            nonce: None,
        }
    }

    /// Renders several templates or partials with one context, one after the other: the main
    /// fragment then out-of-band ones (`hx-swap-oob`).
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.add_raw_template("p.html", r#"{% partialdef a %}A{% endpartialdef %}{% partialdef b %}<i id="b" hx-swap-oob="true">B</i>{% endpartialdef %}"#)?;
    /// let t = djrs_partials::axum::Template::fragments(
    ///     std::sync::Arc::new(templates), ["p.html#a", "p.html#b"], tera::Context::new());
    /// assert_eq!(t.into_response().status(), 200);
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    pub fn fragments<I, N>(
        templates: Arc<Templates>,
        names: I,
        context: impl crate::IntoContext,
    ) -> Self
    where
        I: IntoIterator<Item = N>,
        N: Into<String>,
    {
        Self {
            names: names.into_iter().map(Into::into).collect(),
            ..Self::new(templates, String::new(), context)
        }
    }

    /// Adds `name` (a partial) after the rendered content, out of band: its first element is
    /// marked `hx-swap-oob="{swap}"` ([`out_of_band`](crate::out_of_band)), so htmx swaps it
    /// where its target is while the main content goes to the request's target. `"true"`
    /// replaces the element with the same `id`.
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// use djrs_partials::axum::Template;
    ///
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.add_raw_template(
    ///     "a.html",
    ///     r#"{% partialdef star %}<button id="star">★</button>{% endpartialdef %}{% partialdef count %}<b id="count">{{ n }}</b>{% endpartialdef %}"#,
    /// )?;
    /// let mut ctx = tera::Context::new();
    /// ctx.insert("n", &3);
    /// let res = Template::new(std::sync::Arc::new(templates), "a.html#star", ctx)
    ///     .oob("a.html#count", "true")
    ///     .into_response();
    /// # tokio_test::block_on(async {
    /// let body = axum::body::to_bytes(res.into_body(), 1 << 16).await.unwrap();
    /// assert_eq!(body, r#"<button id="star">★</button><b hx-swap-oob="true" id="count">3</b>"#);
    /// # });
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    pub fn oob(mut self, name: impl Into<String>, swap: impl Into<String>) -> Self {
        self.oob.push((name.into(), swap.into()));
        self
    }

    /// The whole `page`, or only `page#fragment` when [`Htmx::wants_fragment`]; adds
    /// `Vary: HX-Request, HX-Boosted, HX-History-Restore-Request` so caches keep them apart.
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// use djrs_partials::axum::{Htmx, Template};
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.add_raw_template("p.html", "<h1>{% partialdef f inline %}F{% endpartialdef %}</h1>")?;
    /// let res = Template::page_or_fragment(std::sync::Arc::new(templates), &Htmx::default(), "p.html", "f", tera::Context::new())
    ///     .into_response();
    /// assert_eq!(res.headers()["vary"], "HX-Request, HX-Boosted, HX-History-Restore-Request");
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    pub fn page_or_fragment(
        templates: Arc<Templates>,
        htmx: &Htmx,
        page: &str,
        fragment: &str,
        context: impl crate::IntoContext,
    ) -> Self {
        let name = if htmx.wants_fragment() {
            format!("{page}#{fragment}")
        } else {
            page.to_owned()
        };
        let template = Self {
            vary: true,
            ..Self::new(templates, name, context)
        };
        #[cfg(feature = "csp")]
        let template = match &htmx.nonce {
            Some(nonce) => template.nonce(nonce.clone()),
            None => template,
        };
        template
    }

    /// Renders inside the request's nonce scope, so `{{ csp_nonce() }}` prints it (feature
    /// `csp`; [`Templates::new`] registers `csp_nonce` with that feature).
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// use djrs_csp::CspNonce;
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.add_raw_template("p.html", r#"<script nonce="{{ csp_nonce() }}"></script>"#)?;
    /// let nonce = CspNonce::new();
    /// let res = djrs_partials::axum::Template::new(std::sync::Arc::new(templates), "p.html", tera::Context::new())
    ///     .nonce(nonce.clone())
    ///     .into_response();
    /// assert_eq!(res.status(), 200);
    /// assert!(nonce.is_generated());
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    #[cfg(feature = "csp")]
    pub fn nonce(mut self, nonce: djrs_csp::CspNonce) -> Self {
        self.nonce = Some(nonce);
        self
    }

    fn render(&self) -> crate::Result<String> {
        #[cfg(feature = "csp")]
        if let Some(nonce) = &self.nonce {
            return nonce.scope(|| self.render_all());
        }
        self.render_all()
    }

    fn render_all(&self) -> crate::Result<String> {
        let names = self.names.iter().map(String::as_str);
        let context = self.context.as_ref().map_err(|err| crate::Error::Context {
            message: match err {
                crate::Error::Context { message } => message.clone(),
                other => other.to_string(),
            },
        })?;
        let mut out = self.templates.render_many(names, context)?;
        for (name, swap) in &self.oob {
            let fragment = self.templates.render(name, context)?;
            out.push_str(&crate::out_of_band(&fragment, swap)?);
        }
        Ok(out)
    }
}

fn content_type(name: &str) -> &'static str {
    let file = name.split('#').next().unwrap_or(name);
    let ext = file.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "json" => "application/json",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        _ => "text/html; charset=utf-8",
    }
}

impl IntoResponse for Template {
    fn into_response(self) -> Response {
        let mut response = match self.render() {
            Ok(body) => {
                let ct = content_type(self.names.first().map_or("", String::as_str));
                ([(header::CONTENT_TYPE, HeaderValue::from_static(ct))], body).into_response()
            }
            Err(err) => {
                tracing::error!(templates = ?self.names, out_of_band = ?self.oob, error = ?err.to_string(), "template render failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
            }
        };
        if self.vary {
            response
                .headers_mut()
                .append(header::VARY, HeaderValue::from_static(VARY_HTMX));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(content_type("a.txt#p"), "text/plain; charset=utf-8");
        assert_eq!(content_type("a.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("feed.xml"), "application/xml");
    }
}
