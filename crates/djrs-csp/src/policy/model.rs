//! The model: [`Policy`], its directives and their [`DirectiveValue`]s, and what a built
//! policy tells about itself.

use std::fmt;
use std::sync::Arc;

use super::PolicyBuilder;

/// The value of one directive, in the shapes of Django's `SECURE_CSP` dict.
///
/// | Django value                    | `DirectiveValue`            | renders                      |
/// |---------------------------------|-----------------------------|------------------------------|
/// | list or tuple                   | [`List`](Self::List)        | items in order, duplicates kept |
/// | a plain string                  | `List` of one item          | the string as one source     |
/// | set                             | [`Set`](Self::Set)          | items sorted by code point, de-duplicated |
/// | `True`                          | [`Valueless`](Self::Valueless) | the name alone (`upgrade-insecure-requests`) |
/// | `False`, `None`, `0`, empty list | [`Omitted`](Self::Omitted) or an empty list | nothing |
///
/// ```
/// use djrs_csp::{DirectiveValue, Policy};
///
/// let policy = Policy::builder()
///     .value("img-src", DirectiveValue::Set(vec!["https:".into(), "'self'".into(), "data:".into()]))
///     .value("upgrade-insecure-requests", DirectiveValue::Valueless)
///     .value("report-uri", DirectiveValue::Omitted)
///     .build()?;
/// assert_eq!(policy.to_string(), "img-src 'self' data: https:; upgrade-insecure-requests");
/// # Ok::<(), djrs_csp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirectiveValue {
    /// Sources in the given order (a Python list, tuple or plain string).
    List(Vec<String>),
    /// Sources sorted by code point without duplicates (a Python set).
    Set(Vec<String>),
    /// The directive without a value (Python `True`).
    Valueless,
    /// The directive is left out (Python `False` or `None`).
    Omitted,
}

impl DirectiveValue {
    /// The sources as they render, before the nonce placeholder is handled: a set sorted and
    /// de-duplicated; empty for `Valueless` and `Omitted`.
    ///
    /// ```
    /// use djrs_csp::DirectiveValue;
    ///
    /// let set = DirectiveValue::Set(vec!["b".into(), "a".into(), "b".into()]);
    /// assert_eq!(set.sources(), ["a", "b"]);
    /// ```
    #[must_use]
    pub fn sources(&self) -> Vec<&str> {
        match self {
            DirectiveValue::List(items) => items.iter().map(String::as_str).collect(),
            DirectiveValue::Set(items) => {
                let mut sorted: Vec<&str> = items.iter().map(String::as_str).collect();
                sorted.sort_unstable();
                sorted.dedup();
                sorted
            }
            DirectiveValue::Valueless | DirectiveValue::Omitted => Vec::new(),
        }
    }
    /// The sources as stored, borrowed: in a built policy a set is already sorted and
    /// de-duplicated, and the checks that read them do not depend on order.
    pub(crate) fn items(&self) -> &[String] {
        match self {
            DirectiveValue::List(items) | DirectiveValue::Set(items) => items,
            DirectiveValue::Valueless | DirectiveValue::Omitted => &[],
        }
    }
}

/// A Content Security Policy: directives in insertion order, each with a [`DirectiveValue`].
///
/// Built with [`Policy::builder`] or loaded from JSON/TOML in Django's dict shape
/// ([`Policy::from_json`], [`Policy::from_toml`], or any serde format through `Deserialize`).
/// Every name and source is checked when the policy is built; the rendered header values are
/// computed then too, so sending the policy costs a clone (and, when the nonce was used, one
/// string concatenation).
///
/// Cloning is cheap (one reference count).
///
/// ```
/// use djrs_csp::{CspSource, Policy};
///
/// let policy = Policy::builder()
///     .directive("default-src", [CspSource::SELF])
///     .directive("script-src", [CspSource::SELF, CspSource::NONCE])
///     .valueless("upgrade-insecure-requests")
///     .build()?;
/// // Django's rule: an unused nonce disappears from the header.
/// assert_eq!(policy.render(None), "default-src 'self'; script-src 'self'; upgrade-insecure-requests");
/// assert_eq!(
///     policy.render(Some("abc123")),
///     "default-src 'self'; script-src 'self' 'nonce-abc123'; upgrade-insecure-requests"
/// );
/// # Ok::<(), djrs_csp::Error>(())
/// ```
#[derive(Clone)]
pub struct Policy {
    pub(super) inner: Arc<Inner>,
}

/// What a built policy holds: its directives and their renderings, computed once.
pub(super) struct Inner {
    pub(super) directives: Vec<(String, DirectiveValue)>,
    /// The rendering without a nonce.
    pub(super) plain: String,
    /// The rendering with a nonce, split where the nonce's value goes (each segment before a
    /// value ends with `'nonce-`, each after one starts with `'`); `None` when the nonce does
    /// not change the rendering.
    pub(super) nonce_segments: Option<Vec<String>>,
    /// The length of the rendering with a nonce, without the nonce values.
    pub(super) segments_len: usize,
    /// `plain` as a header value, `None` when it is empty.
    #[cfg(feature = "tower")]
    pub(super) header: Option<http::HeaderValue>,
}

impl Policy {
    /// A builder for a policy.
    ///
    /// ```
    /// use djrs_csp::{CspSource, Policy};
    ///
    /// let policy = Policy::builder().directive("default-src", [CspSource::NONE]).build()?;
    /// assert_eq!(policy.to_string(), "default-src 'none'");
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }

    /// The empty policy (Django's `{}`): no header is sent for it. As an override it removes
    /// that header from the route.
    ///
    /// ```
    /// use djrs_csp::Policy;
    ///
    /// assert!(Policy::empty().is_empty());
    /// assert_eq!(Policy::empty().render(None), "");
    /// ```
    #[must_use]
    pub fn empty() -> Self {
        Policy::from_directives(Vec::new())
    }

    /// A builder holding this policy's directives, to derive a policy from it.
    ///
    /// ```
    /// use djrs_csp::{CspSource, Policy};
    ///
    /// let base = Policy::builder().directive("default-src", [CspSource::SELF]).build()?;
    /// let embed = base.to_builder().directive("frame-ancestors", ["https://partner.example"]).build()?;
    /// assert_eq!(embed.to_string(), "default-src 'self'; frame-ancestors https://partner.example");
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn to_builder(&self) -> PolicyBuilder {
        PolicyBuilder {
            directives: self.inner.directives.clone(),
        }
    }

    /// Whether the policy has no directive at all (Django's `{}`): no header is sent.
    ///
    /// ```
    /// use djrs_csp::{CspSource, Policy};
    ///
    /// assert!(Policy::empty().is_empty());
    /// let policy = Policy::builder().directive("default-src", [CspSource::SELF]).build()?;
    /// assert!(!policy.is_empty());
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.inner.directives.is_empty()
    }

    /// Whether rendering depends on the request's nonce (some rendered directive holds
    /// [`CspSource::NONCE`](crate::CspSource::NONCE)).
    ///
    /// ```
    /// use djrs_csp::{CspSource, Policy};
    ///
    /// let policy = Policy::builder().directive("script-src", [CspSource::SELF, CspSource::NONCE]).build()?;
    /// assert!(policy.uses_nonce());
    /// assert!(!Policy::empty().uses_nonce());
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    #[must_use]
    pub fn uses_nonce(&self) -> bool {
        self.inner.nonce_segments.is_some()
    }

    /// The directives in order, with their values as given (sets sorted and de-duplicated).
    ///
    /// ```
    /// use djrs_csp::{CspSource, DirectiveValue, Policy};
    ///
    /// let policy = Policy::builder().directive("default-src", [CspSource::SELF]).build()?;
    /// let names: Vec<&str> = policy.directives().map(|(name, _)| name).collect();
    /// assert_eq!(names, ["default-src"]);
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    #[must_use]
    pub fn directives(&self) -> impl ExactSizeIterator<Item = (&str, &DirectiveValue)> {
        self.inner
            .directives
            .iter()
            .map(|(name, value)| (name.as_str(), value))
    }

    /// The value of a directive, looked up without regard to case.
    ///
    /// ```
    /// use djrs_csp::{CspSource, DirectiveValue, Policy};
    ///
    /// let policy = Policy::builder().directive("default-src", [CspSource::SELF]).build()?;
    /// assert_eq!(policy.get("Default-Src"), Some(&DirectiveValue::List(vec!["'self'".into()])));
    /// assert_eq!(policy.get("script-src"), None);
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&DirectiveValue> {
        self.inner
            .directives
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }
}

impl fmt::Display for Policy {
    /// The policy without a nonce.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.plain)
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("directives", &self.inner.directives)
            .finish()
    }
}

impl PartialEq for Policy {
    fn eq(&self, other: &Self) -> bool {
        self.inner.directives == other.inner.directives
    }
}

impl Eq for Policy {}

impl Default for Policy {
    fn default() -> Self {
        Policy::empty()
    }
}
