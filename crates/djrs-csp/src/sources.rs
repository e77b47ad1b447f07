//! `CspSource`: Django's `CSP` enum as constants, plus the sources users ask Django for.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// Source keywords and header names, spelled as Django's `django.utils.csp.CSP` enum, plus
/// hash sources and the keywords Django does not name.
///
/// Every keyword constant carries its single quotes, so it can go straight into a policy.
/// [`CspSource::NONCE`] is a placeholder with Django's exact spelling: the middleware replaces it with
/// `'nonce-…'` when the request used its nonce, and removes it otherwise.
///
/// ```
/// use djrs_csp::{CspSource, Policy};
///
/// let policy = Policy::builder()
///     .directive("default-src", [CspSource::SELF])
///     .directive("script-src", [CspSource::SELF, CspSource::NONCE, CspSource::STRICT_DYNAMIC])
///     .directive("object-src", [CspSource::NONE])
///     .build()?;
/// assert_eq!(
///     policy.render(Some("abc123")),
///     "default-src 'self'; script-src 'self' 'nonce-abc123' 'strict-dynamic'; object-src 'none'"
/// );
/// # Ok::<(), djrs_csp::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CspSource;

impl CspSource {
    /// `Content-Security-Policy`, the enforcing header (Django's `CSP.HEADER_ENFORCE`).
    pub const HEADER_ENFORCE: &'static str = "Content-Security-Policy";
    /// `Content-Security-Policy-Report-Only` (Django's `CSP.HEADER_REPORT_ONLY`).
    pub const HEADER_REPORT_ONLY: &'static str = "Content-Security-Policy-Report-Only";
    /// `'none'`: nothing is allowed.
    pub const NONE: &'static str = "'none'";
    /// `'report-sample'`: violation reports carry the first 40 characters of the blocked code.
    pub const REPORT_SAMPLE: &'static str = "'report-sample'";
    /// `'self'`: the document's own origin.
    pub const SELF: &'static str = "'self'";
    /// `'strict-dynamic'`: trust scripts loaded by nonce- or hash-trusted scripts.
    pub const STRICT_DYNAMIC: &'static str = "'strict-dynamic'";
    /// `'unsafe-eval'`: allow `eval()` and friends.
    pub const UNSAFE_EVAL: &'static str = "'unsafe-eval'";
    /// `'unsafe-hashes'`: let hash sources match event handler attributes.
    pub const UNSAFE_HASHES: &'static str = "'unsafe-hashes'";
    /// `'unsafe-inline'`: allow every inline script or style (ignored by browsers when a nonce
    /// or hash is present).
    pub const UNSAFE_INLINE: &'static str = "'unsafe-inline'";
    /// `'wasm-unsafe-eval'`: allow WebAssembly compilation.
    pub const WASM_UNSAFE_EVAL: &'static str = "'wasm-unsafe-eval'";
    /// The per-request nonce placeholder, Django's `CSP.NONCE` with the same spelling. Becomes
    /// `'nonce-…'` when the request's nonce was used, and disappears otherwise.
    pub const NONCE: &'static str = "<CSP_NONCE_SENTINEL>";
    /// `'inline-speculation-rules'`: allow inline `<script type="speculationrules">`.
    pub const INLINE_SPECULATION_RULES: &'static str = "'inline-speculation-rules'";
    /// `'trusted-types-eval'`: allow `eval()` when Trusted Types are enforced.
    pub const TRUSTED_TYPES_EVAL: &'static str = "'trusted-types-eval'";
    /// `'report-sha256'`: violation reports for external scripts carry their SHA-256 hash.
    pub const REPORT_SHA256: &'static str = "'report-sha256'";

    /// The `'sha256-…'` hash source allowing one inline script or style with exactly this
    /// content (the text between the tags, byte for byte).
    ///
    /// ```
    /// use djrs_csp::CspSource;
    ///
    /// assert_eq!(
    ///     CspSource::sha256("alert(1)"),
    ///     "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
    /// );
    /// ```
    #[must_use]
    pub fn sha256(content: impl AsRef<[u8]>) -> String {
        hash_source("sha256", &Sha256::digest(content.as_ref()))
    }

    /// The `'sha384-…'` hash source of an inline script or style.
    ///
    /// ```
    /// use djrs_csp::CspSource;
    ///
    /// assert!(CspSource::sha384("alert(1)").starts_with("'sha384-"));
    /// ```
    #[must_use]
    pub fn sha384(content: impl AsRef<[u8]>) -> String {
        hash_source("sha384", &Sha384::digest(content.as_ref()))
    }

    /// The `'sha512-…'` hash source of an inline script or style.
    ///
    /// ```
    /// use djrs_csp::CspSource;
    ///
    /// assert!(CspSource::sha512("alert(1)").starts_with("'sha512-"));
    /// ```
    #[must_use]
    pub fn sha512(content: impl AsRef<[u8]>) -> String {
        hash_source("sha512", &Sha512::digest(content.as_ref()))
    }

    /// A fixed `'nonce-…'` source, for a nonce managed outside this crate. Per-request nonces
    /// should use [`CspSource::NONCE`] instead.
    ///
    /// ```
    /// use djrs_csp::CspSource;
    ///
    /// assert_eq!(CspSource::nonce("r4nd0m"), "'nonce-r4nd0m'");
    /// ```
    #[must_use]
    pub fn nonce(value: &str) -> String {
        format!("'nonce-{value}'")
    }
}

fn hash_source(algorithm: &str, digest: &[u8]) -> String {
    format!("'{algorithm}-{}'", STANDARD.encode(digest))
}

/// Keywords that must be single-quoted in source lists, lower-case.
const KEYWORDS: &[&str] = &[
    "self",
    "none",
    "unsafe-inline",
    "unsafe-eval",
    "unsafe-hashes",
    "wasm-unsafe-eval",
    "strict-dynamic",
    "report-sample",
    "inline-speculation-rules",
    "trusted-types-eval",
    "report-sha256",
    "unsafe-allow-redirects",
];

/// Prefixes of quoted sources with a value (`nonce-…`, `sha256-…`), lower-case.
const VALUE_KEYWORDS: &[&str] = &["nonce-", "sha256-", "sha384-", "sha512-"];

/// When `token` is a keyword written without its single quotes (or with double quotes), the
/// correctly quoted form.
pub(crate) fn unquoted_keyword(token: &str) -> Option<String> {
    let bare = token
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(token);
    let lower = bare.to_ascii_lowercase();
    let is_keyword = KEYWORDS.contains(&lower.as_str())
        || VALUE_KEYWORDS
            .iter()
            .any(|prefix| lower.len() > prefix.len() && lower.starts_with(prefix));
    is_keyword.then(|| format!("'{bare}'"))
}

/// Whether a directive's values are a source list, where unquoted keywords are mistakes.
pub(crate) fn takes_source_list(directive: &str) -> bool {
    let lower = directive.to_ascii_lowercase();
    lower.contains("-src")
        || matches!(
            lower.as_str(),
            "base-uri" | "form-action" | "frame-ancestors" | "navigate-to"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_known_values() {
        // `echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64`
        assert_eq!(
            CspSource::sha256(b"alert(1)"),
            "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
        );
        assert_eq!(CspSource::sha384("").len(), "'sha384-'".len() + 64);
        assert_eq!(CspSource::sha512("").len(), "'sha512-'".len() + 88);
        assert_eq!(CspSource::nonce("r4nd0m"), "'nonce-r4nd0m'");
    }

    #[test]
    fn finds_unquoted_keywords() {
        assert_eq!(unquoted_keyword("self").as_deref(), Some("'self'"));
        assert_eq!(unquoted_keyword("NONE").as_deref(), Some("'NONE'"));
        assert_eq!(unquoted_keyword("\"self\"").as_deref(), Some("'self'"));
        assert_eq!(
            unquoted_keyword("nonce-abc").as_deref(),
            Some("'nonce-abc'")
        );
        assert_eq!(
            unquoted_keyword("sha256-xyz=").as_deref(),
            Some("'sha256-xyz='")
        );
        assert_eq!(unquoted_keyword("'self'"), None);
        assert_eq!(unquoted_keyword("self.example.com"), None);
        assert_eq!(unquoted_keyword("nonce-"), None);
        assert_eq!(unquoted_keyword("https:"), None);
    }

    #[test]
    fn knows_source_list_directives() {
        assert!(takes_source_list("script-src"));
        assert!(takes_source_list("Script-Src-Elem"));
        assert!(takes_source_list("frame-ancestors"));
        assert!(!takes_source_list("sandbox"));
        assert!(!takes_source_list("report-to"));
    }
}
