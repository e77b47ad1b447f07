//! Django 6.0's template partials on Tera 2.
//!
//! Django 6.0 lets one template file hold named fragments — `{% partialdef card %}…{% endpartialdef %}`
//! — used in place with `{% partial card %}` and loaded alone as `"page.html#card"`, which is what
//! htmx swaps in. Tera 2 has no custom tags; [`Templates`] wraps a [`tera::Tera`] and rewrites
//! each file before Tera sees it, so the partial renders in the context where it is used (loop
//! item, `loop.*`, `set` values), exactly as Django's does.
//!
//! ```
//! use djrs_partials::Templates;
//!
//! let mut templates = Templates::new();
//! templates.add_raw_template(
//!     "articles.html",
//!     r#"{% partialdef card %}<article>{{ article.title }} ({{ loop.index }} of {{ loop.length }})</article>{% endpartialdef %}
//! <main>{% for article in articles %}{% partial card %}{% endfor %}</main>"#,
//! )?;
//! let ctx = tera::Context::from_serialize(&serde_json::json!({
//!     "articles": [{"title": "Partials"}, {"title": "Tasks & CSP"}],
//! }))?;
//! assert_eq!(
//!     templates.render("articles.html", &ctx)?,
//!     "\n<main><article>Partials (1 of 2)</article><article>Tasks &amp; CSP (2 of 2)</article></main>"
//! );
//!
//! // The same card alone, as htmx would ask for it, with only the context given:
//! let ctx = tera::Context::from_serialize(&serde_json::json!({"article": {"title": "Alone"}}))?;
//! let err = templates.render("articles.html#card", &ctx).unwrap_err();
//! assert!(err.to_string().contains("is not defined"), "`loop` only exists inside a loop");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Tags
//!
//! | Django 6.0 | here |
//! |---|---|
//! | `{% partialdef NAME %}…{% endpartialdef %}` | same; renders nothing where defined |
//! | `{% partialdef NAME inline %}` | same; also renders where defined |
//! | `{% endpartialdef NAME %}` | same |
//! | `{% partial NAME %}` | same, anywhere in the file, before or after the definition |
//! | `get_template("page.html#NAME")` | [`Templates::render`]`("page.html#NAME", ctx)` |
//! | `{% include "page.html#NAME" %}` | same |
//! | `forloop.length` | `loop.length` (also inside partials used in a loop) |
//!
//! Errors carry Django's wording plus the template name and line (see [`Error`]). The
//! differences from Django, each forced by Tera, are listed in `docs/partials.md`.
//!
//! # Features
//!
//! | Feature | Adds | Default |
//! |---|---|---|
//! | `axum` | [`Template`](axum::Template) response, htmx extractors ([`HxRequest`](axum::HxRequest), [`Htmx`](axum::Htmx)), full page or fragment from one handler ([`Template::page_or_fragment`](axum::Template::page_or_fragment)), out-of-band fragments ([`Template::oob`](axum::Template::oob)), htmx's response headers ([`HxTrigger`](axum::HxTrigger), [`HxPushUrl`](axum::HxPushUrl), …) | no |
//! | `csp` | `csp_nonce()` in every template, with the request's `djrs_csp::CspNonce` (implies `axum`) | no |

mod context;
mod error;
mod escape;
mod loader;
mod oob;
mod preprocess;
mod templates;

#[cfg(feature = "axum")]
pub mod axum;

pub use context::IntoContext;
pub use error::{Error, Result};
pub use escape::escape_html;
pub use oob::out_of_band;
pub use templates::Templates;

/// The README's example, compiled and run as a doc-test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
