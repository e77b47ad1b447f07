//! Django 6.0's Content Security Policy (`django.middleware.csp`, `django.utils.csp`) for
//! axum and any tower stack: [`Policy`] with Django's value shapes, the [`CspSource`] source
//! constants, a lazy per-request [`CspNonce`], the [`CspLayer`] middleware sending the enforced
//! and report-only headers, per-route [`CspOverride`]s, and a report endpoint.
//!
//! Header values are byte for byte those of Django's `build_policy` for the same policy and
//! nonce (the crate's tests run every case Django 6.0 recorded), and stricter where Django is
//! loose: a name or source that would break the header, or a keyword without its quotes, is an
//! error when the policy is built, never a broken header.
//!
//! ```
//! use djrs_csp::{CspSource, Policy};
//!
//! let policy = Policy::builder()
//!     .directive("default-src", [CspSource::SELF])
//!     .directive("script-src", [CspSource::SELF, CspSource::NONCE, CspSource::STRICT_DYNAMIC])
//!     .directive("style-src", [CspSource::SELF, &CspSource::sha256("body { margin: 0 }")])
//!     .directive("object-src", [CspSource::NONE])
//!     .valueless("upgrade-insecure-requests")
//!     .build()?;
//!
//! // The request's nonce goes in only when the request used it (Django's rule).
//! assert_eq!(
//!     policy.render(None),
//!     "default-src 'self'; script-src 'self' 'strict-dynamic'; \
//!      style-src 'self' 'sha256-mX+s7KJgWpgxJola85xdpAFPBQaV091gzM2oPjgTW2w='; \
//!      object-src 'none'; upgrade-insecure-requests"
//! );
//! assert!(policy.render(Some("r4nd0m")).contains("script-src 'self' 'nonce-r4nd0m' 'strict-dynamic'"));
//!
//! // Mistakes are caught when the policy is built.
//! assert!(Policy::builder().directive("script-src", ["self"]).build().is_err());
//! assert!(Policy::builder().directive("script-src", ["'self'\r\nX-Evil: 1"]).build().is_err());
//! # Ok::<(), djrs_csp::Error>(())
//! ```
//!
//! With axum (feature `axum`):
//!
#![cfg_attr(feature = "axum", doc = "```")]
#![cfg_attr(not(feature = "axum"), doc = "```ignore")]
//! use axum::{Router, response::Html, routing::get};
//! use djrs_csp::{CspLayer, CspNonce, CspOverride, CspSource, Policy, axum::ReportEndpoint};
//!
//! async fn page(nonce: CspNonce) -> Html<String> {
//!     Html(format!(r#"<script nonce="{nonce}">console.log("runs")</script>"#))
//! }
//!
//! let policy = Policy::builder()
//!     .directive("default-src", [CspSource::SELF])
//!     .directive("script-src", [CspSource::NONCE, CspSource::STRICT_DYNAMIC])
//!     .directive("report-uri", ["/csp/report"])
//!     .build()?;
//! let app: Router = Router::new()
//!     .route("/", get(page))
//!     .route("/legacy", get(|| async { "no CSP here" }).layer(CspOverride::enforce(Policy::empty())))
//!     .route("/csp/report", ReportEndpoint::new().into_method_router())
//!     .layer(CspLayer::new().enforce(policy));
//! # let _ = app;
//! # Ok::<(), djrs_csp::Error>(())
//! ```
//!
//! # Features
//!
//! | feature | adds                                                                              | default |
//! |---------|-----------------------------------------------------------------------------------|---------|
//! | `tower` | [`CspLayer`], [`CspOverride`] and their services ([`middleware`]), [`Policy::header_value`] | no |
//! | `axum`  | `tower`, the [`CspNonce`] extractor and the report endpoint ([`axum`](crate::axum))  | no      |
//! | `tera`  | the `csp_nonce()` template function ([`tera`](crate::tera))                      | no      |
//! | `toml`  | [`Policy::from_toml`]                                                             | no      |
//!
//! Without features the crate builds and renders policies, makes nonces and parses violation
//! reports. `Policy` implements `serde::Deserialize`, so policies load from any serde format.
//!
//! # Coming from Django
//!
//! | Django                                           | djrs-csp                                            |
//! |--------------------------------------------------|-----------------------------------------------------|
//! | `ContentSecurityPolicyMiddleware`                | [`CspLayer`]                                        |
//! | `SECURE_CSP = {…}` / `SECURE_CSP_REPORT_ONLY = {…}` | `CspLayer::new().enforce(policy).report_only(policy)` |
//! | a policy dict                                    | [`Policy::builder`], [`Policy::from_json`], [`Policy::from_toml`] |
//! | `CSP.SELF`, `CSP.NONCE`, `CSP.HEADER_ENFORCE`, … | [`CspSource::SELF`], [`CspSource::NONCE`], [`CspSource::HEADER_ENFORCE`], … |
//! | `build_policy(config, nonce)`                    | [`Policy::render`]                                  |
//! | `@csp_override(cfg)`, `@csp_report_only_override(cfg)` | [`CspOverride::enforce`], [`CspOverride::report_only`] |
//! | `request.csp_nonce`, `LazyNonce`                 | [`CspNonce`] (an axum extractor)                    |
//! | `{{ csp_nonce }}` (context processor `csp`)      | `{{ csp_nonce() }}` ([`tera`](crate::tera))         |
//! | (none)                                           | [`axum::ReportEndpoint`], [`ReportingEndpoints`], [`CspSource::sha256`] |

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "tower")]
pub mod middleware;
#[cfg(feature = "tera")]
pub mod tera;

mod error;
mod nonce;
mod policy;
mod report;
mod sources;

pub use error::{Error, Result};
#[cfg(feature = "tower")]
pub use middleware::{CspLayer, CspOverride};
pub use nonce::{CspNonce, NONCE_LEN, Scoped};
pub use policy::{DirectiveValue, Policy, PolicyBuilder, PolicyEdit};
pub use report::{
    CSP_REPORT_MEDIA_TYPE, CspReport, Disposition, LogReports, REPORTS_JSON_MEDIA_TYPE,
    ReportFormat, ReportSink, ReportingEndpoints,
};
pub use sources::CspSource;
