//! Tera integration (feature `tera`): the `csp_nonce()` template function.
//!
//! Tera functions cannot see the request, so the nonce reaches them through a scope: the one
//! `CspLayer` runs each request's handler in, or [`CspNonce::scope`] elsewhere. There
//! `{{ csp_nonce() }}` prints the request's nonce and marks it used. A template that never calls it leaves the nonce unused,
//! and the header without `'nonce-…'` (Django's `{% if csp_nonce %}` does not evaluate it
//! either). `djrs-partials` registers the same function through its `csp` feature.
//!
//! ```
//! use djrs_csp::CspNonce;
//!
//! let mut tera = tera::Tera::default();
//! djrs_csp::tera::register(&mut tera);
//! tera.add_raw_template("page.html", r#"<script nonce="{{ csp_nonce() }}">go()</script>"#)?;
//!
//! let nonce = CspNonce::new(); // in a handler: the `CspNonce` extractor
//! let html = nonce.scope(|| tera.render("page.html", &tera::Context::new()))?;
//! assert_eq!(html, format!(r#"<script nonce="{}">go()</script>"#, nonce.as_str()));
//! # Ok::<(), tera::Error>(())
//! ```

use tera::{Kwargs, State, TeraResult};

use crate::CspNonce;

/// The name the function is registered under.
pub const FUNCTION_NAME: &str = "csp_nonce";

/// Registers [`csp_nonce`] as `csp_nonce()` on a Tera instance.
///
/// ```
/// let mut tera = tera::Tera::default();
/// djrs_csp::tera::register(&mut tera);
/// tera.add_raw_template("t", "{{ csp_nonce() }}")?;
/// // Outside a nonce scope the function fails with a message saying so.
/// let err = tera.render("t", &tera::Context::new()).unwrap_err();
/// assert!(format!("{err:?}").contains("CspNonce::scope"));
/// # Ok::<(), tera::Error>(())
/// ```
pub fn register(tera: &mut tera::Tera) {
    tera.register_function(FUNCTION_NAME, csp_nonce);
}

/// The template function: the nonce of the current [`CspNonce::scope`], generated on first
/// use.
///
/// # Errors
/// When called outside a scope, since a page rendered without the request's nonce would have
/// its scripts blocked.
///
/// ```
/// use djrs_csp::CspNonce;
///
/// // `register` uses this name; the function can be registered under another one.
/// let mut tera = tera::Tera::default();
/// tera.register_function("nonce", djrs_csp::tera::csp_nonce);
/// tera.add_raw_template("t", "{{ nonce() }}")?;
///
/// let nonce = CspNonce::new();
/// let html = nonce.scope(|| tera.render("t", &tera::Context::new()))?;
/// assert_eq!(html, nonce.as_str());
/// assert!(tera.render("t", &tera::Context::new()).is_err());
/// # Ok::<(), tera::Error>(())
/// ```
pub fn csp_nonce(_: Kwargs, _: &State<'_>) -> TeraResult<String> {
    CspNonce::current()
        .map(|nonce| nonce.as_str().to_owned())
        .ok_or_else(|| {
            tera::Error::message(
                "csp_nonce() was called outside CspNonce::scope: render the template inside \
                 nonce.scope(|| tera.render(...)) with the request's CspNonce",
            )
        })
}
