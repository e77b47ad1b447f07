//! `Policy`: an ordered set of directives with Django's value shapes, checked once when built
//! and rendered exactly as Django's `build_policy`.

use std::fmt;
use std::sync::Arc;

use crate::sources::{takes_source_list, unquoted_keyword};
use crate::{Csp, Error, Result};

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
/// use djrs_csp::{Csp, Policy};
///
/// let policy = Policy::builder()
///     .directive("default-src", [Csp::SELF])
///     .directive("script-src", [Csp::SELF, Csp::NONCE])
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
    inner: Arc<Inner>,
}

struct Inner {
    directives: Vec<(String, DirectiveValue)>,
    /// The rendering without a nonce.
    plain: String,
    /// The rendering with a nonce, split where the nonce goes; `None` when the nonce does not
    /// change the rendering.
    nonce_segments: Option<Vec<String>>,
    /// The length of the rendering with a nonce, without the nonce sources.
    segments_len: usize,
    /// `plain` as a header value, `None` when it is empty.
    #[cfg(feature = "tower")]
    header: Option<http::HeaderValue>,
}

/// Stands for the nonce source while rendering; sources cannot hold control characters.
const PLACEHOLDER: char = '\0';

impl Policy {
    /// A builder for a policy.
    ///
    /// ```
    /// use djrs_csp::{Csp, Policy};
    ///
    /// let policy = Policy::builder().directive("default-src", [Csp::NONE]).build()?;
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

    /// Loads a policy from JSON in Django's dict shape. A set is written `{"set": [...]}`.
    ///
    /// ```
    /// use djrs_csp::Policy;
    ///
    /// let policy = Policy::from_json(r#"{
    ///     "default-src": ["'self'"],
    ///     "script-src": ["'self'", "<CSP_NONCE_SENTINEL>"],
    ///     "img-src": {"set": ["https:", "'self'"]},
    ///     "upgrade-insecure-requests": true,
    ///     "report-uri": null
    /// }"#)?;
    /// assert_eq!(
    ///     policy.render(Some("n")),
    ///     "default-src 'self'; script-src 'self' 'nonce-n'; img-src 'self' https:; upgrade-insecure-requests"
    /// );
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Parse`] for invalid JSON, [`Error::NotAMapping`] when the document is not an
    /// object, and the errors of [`PolicyBuilder::build`].
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str::<RawPolicy>(json)
            .map_err(Error::parse)?
            .into_policy()
    }

    /// Loads a policy from TOML in Django's dict shape (feature `toml`). TOML has no null:
    /// leave a directive out, or write `false`.
    ///
    /// ```
    /// use djrs_csp::Policy;
    ///
    /// let policy = Policy::from_toml(r#"
    ///     default-src = ["'self'"]
    ///     script-src = ["'self'", "<CSP_NONCE_SENTINEL>"]
    ///     img-src = { set = ["https:", "'self'"] }
    ///     upgrade-insecure-requests = true
    /// "#)?;
    /// assert_eq!(
    ///     policy.render(None),
    ///     "default-src 'self'; script-src 'self'; img-src 'self' https:; upgrade-insecure-requests"
    /// );
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Parse`] for invalid TOML, and the errors of [`PolicyBuilder::build`].
    #[cfg(feature = "toml")]
    pub fn from_toml(toml: &str) -> Result<Self> {
        toml::from_str::<RawPolicy>(toml)
            .map_err(Error::parse)?
            .into_policy()
    }

    /// A builder holding this policy's directives, to derive a policy from it.
    ///
    /// ```
    /// use djrs_csp::{Csp, Policy};
    ///
    /// let base = Policy::builder().directive("default-src", [Csp::SELF]).build()?;
    /// let embed = base.to_builder().directive("frame-ancestors", ["https://partner.example"]).build()?;
    /// assert_eq!(embed.to_string(), "default-src 'self'; frame-ancestors https://partner.example");
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn to_builder(&self) -> PolicyBuilder {
        PolicyBuilder {
            directives: self.inner.directives.clone(),
        }
    }

    /// The header value for this policy and nonce, Django's `build_policy(config, nonce)`:
    /// [`Csp::NONCE`] becomes `'nonce-…'` when `nonce` is given and not empty, and is removed
    /// otherwise (a directive left without sources is then left out). Returns `""` when no
    /// directive renders.
    ///
    /// ```
    /// use djrs_csp::{Csp, Policy};
    ///
    /// let policy = Policy::builder().directive("script-src", [Csp::NONCE]).build()?;
    /// assert_eq!(policy.render(Some("abc123")), "script-src 'nonce-abc123'");
    /// assert_eq!(policy.render(None), "");
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    #[must_use]
    pub fn render(&self, nonce: Option<&str>) -> String {
        match (nonce.filter(|n| !n.is_empty()), &self.inner.nonce_segments) {
            (Some(nonce), Some(segments)) => self.join_segments(segments, nonce),
            _ => self.inner.plain.clone(),
        }
    }

    fn join_segments(&self, segments: &[String], nonce: &str) -> String {
        let slots = segments.len() - 1;
        let mut out = String::with_capacity(
            self.inner.segments_len + slots * (nonce.len() + "'nonce-'".len()),
        );
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 {
                out.push_str("'nonce-");
                out.push_str(nonce);
                out.push('\'');
            }
            out.push_str(segment);
        }
        out
    }

    /// The header value for this policy and nonce (feature `tower`), or `None` when the policy
    /// renders to nothing: then no header is sent, where Django sends an empty one. Without a
    /// nonce, or when the policy has no [`Csp::NONCE`], this clones a value computed when the
    /// policy was built.
    ///
    /// ```
    /// use djrs_csp::{Csp, Policy};
    ///
    /// let policy = Policy::builder().directive("script-src", [Csp::SELF, Csp::NONCE]).build()?;
    /// assert_eq!(policy.header_value(None).unwrap(), "script-src 'self'");
    /// assert_eq!(policy.header_value(Some("n0nce")).unwrap(), "script-src 'self' 'nonce-n0nce'");
    ///
    /// // A nonce that cannot go in a header is left out, never the whole policy.
    /// assert_eq!(policy.header_value(Some("bad\nnonce")).unwrap(), "script-src 'self'");
    ///
    /// let only_nonce = Policy::builder().directive("script-src", [Csp::NONCE]).build()?;
    /// assert!(only_nonce.header_value(None).is_none());
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    #[cfg(feature = "tower")]
    #[must_use]
    pub fn header_value(&self, nonce: Option<&str>) -> Option<http::HeaderValue> {
        match (nonce.filter(|n| !n.is_empty()), &self.inner.nonce_segments) {
            (Some(nonce), Some(segments)) => {
                let value = self.join_segments(segments, nonce);
                if value.is_empty() {
                    return None;
                }
                // The sources were checked when the policy was built; only a nonce with bytes
                // not allowed in a header (never one made by `CspNonce`) fails here. Fail
                // closed: send the policy without the nonce rather than no policy.
                http::HeaderValue::try_from(value)
                    .ok()
                    .or_else(|| self.inner.header.clone())
            }
            _ => self.inner.header.clone(),
        }
    }

    /// Whether the policy has no directive at all (Django's `{}`): no header is sent.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.inner.directives.is_empty()
    }

    /// Whether rendering depends on the request's nonce (some rendered directive holds
    /// [`Csp::NONCE`]).
    ///
    /// ```
    /// use djrs_csp::{Csp, Policy};
    ///
    /// let policy = Policy::builder().directive("script-src", [Csp::SELF, Csp::NONCE]).build()?;
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
    /// use djrs_csp::{Csp, DirectiveValue, Policy};
    ///
    /// let policy = Policy::builder().directive("default-src", [Csp::SELF]).build()?;
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
    /// use djrs_csp::{Csp, DirectiveValue, Policy};
    ///
    /// let policy = Policy::builder().directive("default-src", [Csp::SELF]).build()?;
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

    /// Builds the policy from checked directives.
    fn from_directives(directives: Vec<(String, DirectiveValue)>) -> Self {
        let plain = build_policy(&directives, None);
        let placeholder = PLACEHOLDER.to_string();
        let with_nonce = build_policy(&directives, Some(&placeholder));
        let nonce_segments = with_nonce.contains(PLACEHOLDER).then(|| {
            with_nonce
                .split(PLACEHOLDER)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        });
        let segments_len = nonce_segments
            .as_ref()
            .map_or(0, |segments| segments.iter().map(String::len).sum());
        #[cfg(feature = "tower")]
        let header = (!plain.is_empty())
            .then(|| http::HeaderValue::from_str(&plain).ok())
            .flatten();
        Policy {
            inner: Arc::new(Inner {
                directives,
                plain,
                nonce_segments,
                segments_len,
                #[cfg(feature = "tower")]
                header,
            }),
        }
    }
}

/// Django's `build_policy`: [`Csp::NONCE`] becomes `nonce_source` (the placeholder while
/// building), or is removed when it is `None`.
fn build_policy(directives: &[(String, DirectiveValue)], nonce_source: Option<&str>) -> String {
    let mut rendered: Vec<String> = Vec::with_capacity(directives.len());
    for (name, value) in directives {
        let line = match value {
            DirectiveValue::Omitted => continue,
            DirectiveValue::Valueless => name.clone(),
            DirectiveValue::List(_) | DirectiveValue::Set(_) => {
                let sources: Vec<&str> = value
                    .sources()
                    .into_iter()
                    .filter_map(|source| {
                        if source == Csp::NONCE {
                            nonce_source
                        } else {
                            Some(source)
                        }
                    })
                    .collect();
                if sources.is_empty() {
                    continue;
                }
                let line = format!("{name} {}", sources.join(" "));
                line.trim_end().to_owned()
            }
        };
        rendered.push(line);
    }
    rendered.join("; ")
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

/// Builds a [`Policy`]; names and sources are checked by [`build`](Self::build).
///
/// Setting a directive that is already present replaces its value in place, like assigning to
/// a Python dict key.
///
/// ```
/// use djrs_csp::{Csp, Policy};
///
/// let policy = Policy::builder()
///     .directive("default-src", [Csp::SELF])
///     .directive("img-src", [Csp::SELF])
///     .directive("default-src", [Csp::NONE]) // replaces, keeps its place
///     .build()?;
/// assert_eq!(policy.to_string(), "default-src 'none'; img-src 'self'");
/// # Ok::<(), djrs_csp::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct PolicyBuilder {
    directives: Vec<(String, DirectiveValue)>,
}

impl PolicyBuilder {
    /// Sets a directive to sources kept in the given order (a Python list). A single string is
    /// one source: `.directive("report-uri", ["/csp/report"])`.
    pub fn directive<I>(self, name: impl Into<String>, sources: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.value(
            name,
            DirectiveValue::List(sources.into_iter().map(Into::into).collect()),
        )
    }

    /// Sets a directive to sources sorted by code point without duplicates (a Python set).
    ///
    /// ```
    /// use djrs_csp::{Csp, Policy};
    ///
    /// let policy = Policy::builder()
    ///     .directive_set("font-src", ["https://fonts.gstatic.com", Csp::SELF])
    ///     .build()?;
    /// assert_eq!(policy.to_string(), "font-src 'self' https://fonts.gstatic.com");
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn directive_set<I>(self, name: impl Into<String>, sources: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.value(
            name,
            DirectiveValue::Set(sources.into_iter().map(Into::into).collect()),
        )
    }

    /// Sets a directive without a value, such as `upgrade-insecure-requests` (Python `True`).
    ///
    /// ```
    /// use djrs_csp::Policy;
    ///
    /// let policy = Policy::builder().valueless("upgrade-insecure-requests").build()?;
    /// assert_eq!(policy.to_string(), "upgrade-insecure-requests");
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn valueless(self, name: impl Into<String>) -> Self {
        self.value(name, DirectiveValue::Valueless)
    }

    /// Sets a directive to any [`DirectiveValue`], as loaders of other formats do.
    ///
    /// ```
    /// use djrs_csp::{DirectiveValue, Policy};
    ///
    /// let policy = Policy::builder()
    ///     .value("script-src", DirectiveValue::List(vec!["'self'".into()]))
    ///     .value("report-uri", DirectiveValue::Omitted)
    ///     .build()?;
    /// assert_eq!(policy.to_string(), "script-src 'self'");
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn value(mut self, name: impl Into<String>, value: DirectiveValue) -> Self {
        let name = name.into();
        match self.directives.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.directives.push((name, value)),
        }
        self
    }

    /// Removes a directive (any case), if present.
    ///
    /// ```
    /// use djrs_csp::{Csp, Policy};
    ///
    /// let policy = Policy::builder()
    ///     .directive("default-src", [Csp::SELF])
    ///     .directive("img-src", ["*"])
    ///     .remove("IMG-SRC")
    ///     .build()?;
    /// assert_eq!(policy.to_string(), "default-src 'self'");
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn remove(mut self, name: &str) -> Self {
        self.directives
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// Checks every name and source and builds the policy.
    ///
    /// ```
    /// use djrs_csp::{Error, Policy};
    ///
    /// let err = Policy::builder()
    ///     .directive("script-src", ["'self'; object-src *"])
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(err, Error::InvalidSource { .. }));
    /// ```
    ///
    /// # Errors
    /// - [`Error::InvalidDirectiveName`]: a name that is empty or not ASCII letters, digits and
    ///   `-`;
    /// - [`Error::DuplicateDirective`]: two names differing only in case;
    /// - [`Error::InvalidSource`]: a source holding `;`, `,`, CR, LF or another control
    ///   character, unbalanced single quotes, or [`Csp::NONCE`] inside a longer string;
    /// - [`Error::UnquotedKeyword`]: `self`, `none`, `nonce-…`, `sha256-…` and the other
    ///   keywords written without single quotes in a source list.
    pub fn build(self) -> Result<Policy> {
        for (i, (name, value)) in self.directives.iter().enumerate() {
            check_name(name)?;
            if let Some((first, _)) = self.directives[..i]
                .iter()
                .find(|(other, _)| other.eq_ignore_ascii_case(name))
            {
                return Err(Error::DuplicateDirective {
                    first: first.clone(),
                    second: name.clone(),
                });
            }
            if let DirectiveValue::List(items) | DirectiveValue::Set(items) = value {
                for item in items {
                    check_source(name, item)?;
                }
            }
        }
        let directives: Vec<(String, DirectiveValue)> = self
            .directives
            .into_iter()
            .map(|(name, value)| match value {
                DirectiveValue::Set(items) => {
                    let mut items = items;
                    items.sort_unstable();
                    items.dedup();
                    (name, DirectiveValue::Set(items))
                }
                other => (name, other),
            })
            .collect();
        warn_about_nonce_only(&directives);
        Ok(Policy::from_directives(directives))
    }
}

/// Logs a warning for each fetch directive holding nothing but the nonce in a policy without
/// `default-src`: on responses that do not use the nonce the directive disappears (Django's rule)
/// and that kind of resource is then unrestricted.
fn warn_about_nonce_only(directives: &[(String, DirectiveValue)]) {
    for name in nonce_only_directives(directives) {
        tracing::warn!(
            directive = %name,
            "CSP directive holds only Csp::NONCE and the policy has no default-src: on responses \
             that do not use the nonce the directive is left out and nothing restricts it; add \
             default-src or another source"
        );
    }
}

/// The fetch directives that hold only the nonce, when no `default-src` backs them up.
fn nonce_only_directives(directives: &[(String, DirectiveValue)]) -> Vec<&str> {
    let has_default = directives.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("default-src") && value.sources().iter().any(|s| *s != Csp::NONCE)
    });
    if has_default {
        return Vec::new();
    }
    directives
        .iter()
        .filter(|(name, value)| {
            let sources = value.sources();
            name.to_ascii_lowercase().ends_with("-src")
                && !sources.is_empty()
                && sources.iter().all(|s| *s == Csp::NONCE)
        })
        .map(|(name, _)| name.as_str())
        .collect()
}

fn check_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "a directive name cannot be empty".to_owned()
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        format!(
            "{c:?} is not allowed: directive names are ASCII letters, digits and `-` \
             (give each directive its own entry)"
        )
    } else {
        return Ok(());
    };
    Err(Error::InvalidDirectiveName {
        name: name.to_owned(),
        reason,
    })
}

fn check_source(directive: &str, source: &str) -> Result<()> {
    let invalid = |reason: String| Error::InvalidSource {
        directive: directive.to_owned(),
        value: source.to_owned(),
        reason,
    };
    if let Some(c) = source
        .chars()
        .find(|&c| c == ';' || c == ',' || (c.is_ascii_control() && c != '\t'))
    {
        let reason = match c {
            ';' => "`;` ends a directive: give each directive its own entry".to_owned(),
            ',' => "`,` separates policies in a header: write one source per item".to_owned(),
            '\r' | '\n' => "CR and LF cannot appear in a header (they would end it)".to_owned(),
            other => format!("the control character {other:?} cannot appear in a header"),
        };
        return Err(invalid(reason));
    }
    for token in source.split_ascii_whitespace() {
        if token == Csp::NONCE && source != Csp::NONCE {
            return Err(invalid(
                "Csp::NONCE must be an item of its own, not part of a longer string, or it \
                 would be sent as written"
                    .to_owned(),
            ));
        }
        let starts = token.starts_with('\'');
        let ends = token.len() > 1 && token.ends_with('\'');
        if starts != ends || token == "'" {
            return Err(invalid(format!(
                "`{token}` has an unbalanced single quote: keywords are written '…' with a \
                 quote on each side"
            )));
        }
        if takes_source_list(directive)
            && let Some(quoted) = unquoted_keyword(token)
        {
            return Err(Error::UnquotedKeyword {
                directive: directive.to_owned(),
                value: token.to_owned(),
                quoted,
            });
        }
    }
    Ok(())
}

/// A policy document as read by serde, before any check: kept apart so that a document that
/// is not a mapping is a typed error.
#[derive(Debug)]
pub(crate) enum RawPolicy {
    Map(Vec<(String, RawValue)>),
    Other(String),
}

#[derive(Debug)]
pub(crate) enum RawValue {
    Str(String),
    List(Vec<RawItem>),
    Set(Vec<RawItem>),
    Bool(bool),
    Null,
    Number(String, bool),
    Other(String),
}

#[derive(Debug)]
pub(crate) enum RawItem {
    Str(String),
    Other(String),
}

impl RawPolicy {
    pub(crate) fn into_policy(self) -> Result<Policy> {
        let entries = match self {
            RawPolicy::Map(entries) => entries,
            RawPolicy::Other(found) => return Err(Error::NotAMapping { found }),
        };
        let mut builder = Policy::builder();
        for (name, raw) in entries {
            let invalid = |found: String| Error::InvalidValue {
                directive: name.clone(),
                found,
            };
            let strings = |items: Vec<RawItem>| -> Result<Vec<String>> {
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| match item {
                        RawItem::Str(s) => Ok(s),
                        RawItem::Other(found) => Err(invalid(format!("item {i} ({found})"))),
                    })
                    .collect()
            };
            let value = match raw {
                RawValue::Str(s) => DirectiveValue::List(vec![s]),
                RawValue::List(items) => DirectiveValue::List(strings(items)?),
                RawValue::Set(items) => DirectiveValue::Set(strings(items)?),
                RawValue::Bool(true) => DirectiveValue::Valueless,
                // Python's `values in (None, False)` is also true for 0 and 0.0.
                RawValue::Bool(false) | RawValue::Null | RawValue::Number(_, true) => {
                    DirectiveValue::Omitted
                }
                RawValue::Number(n, false) => return Err(invalid(format!("the number {n}"))),
                RawValue::Other(found) => return Err(invalid(found)),
            };
            builder = builder.value(name, value);
        }
        builder.build()
    }
}

mod de {
    //! serde visitors for [`RawPolicy`]; every shape is accepted here and judged later.

    use std::fmt;

    use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

    use super::{RawItem, RawPolicy, RawValue};

    impl<'de> Deserialize<'de> for RawPolicy {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(PolicyVisitor)
        }
    }

    struct PolicyVisitor;

    macro_rules! other {
        ($($method:ident($ty:ty) => $desc:expr;)*) => {$(
            fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
                Ok(RawPolicy::Other(format!($desc, v)))
            }
        )*};
    }

    impl<'de> Visitor<'de> for PolicyVisitor {
        type Value = RawPolicy;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a mapping of directive names to values")
        }

        other! {
            visit_bool(bool) => "the boolean {}";
            visit_i64(i64) => "the number {}";
            visit_u64(u64) => "the number {}";
            visit_f64(f64) => "the number {}";
            visit_str(&str) => "the string {:?}";
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(RawPolicy::Other("null".to_owned()))
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            self.visit_unit()
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(RawPolicy::Other("a list".to_owned()))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::new();
            while let Some((key, value)) = map.next_entry::<String, RawValue>()? {
                entries.push((key, value));
            }
            Ok(RawPolicy::Map(entries))
        }
    }

    impl<'de> Deserialize<'de> for RawValue {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(ValueVisitor)
        }
    }

    struct ValueVisitor;

    impl<'de> Visitor<'de> for ValueVisitor {
        type Value = RawValue;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a directive value")
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(RawValue::Bool(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(RawValue::Number(v.to_string(), v == 0))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(RawValue::Number(v.to_string(), v == 0))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(RawValue::Number(v.to_string(), v == 0.0))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(RawValue::Str(v.to_owned()))
        }

        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(RawValue::Str(v))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(RawValue::Null)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(RawValue::Null)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element::<RawItem>()? {
                items.push(item);
            }
            Ok(RawValue::List(items))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut set = None;
            let mut other = None;
            while let Some(key) = map.next_key::<String>()? {
                if key == "set" && set.is_none() {
                    set = Some(map.next_value::<Vec<RawItem>>()?);
                } else {
                    map.next_value::<de::IgnoredAny>()?;
                    other = Some(key);
                }
            }
            Ok(match (set, other) {
                (Some(items), None) => RawValue::Set(items),
                (_, Some(key)) => RawValue::Other(format!(
                    "a mapping with the key {key:?} (only {{\"set\": [...]}} is a value)"
                )),
                (None, None) => RawValue::Other("an empty mapping".to_owned()),
            })
        }
    }

    impl<'de> Deserialize<'de> for RawItem {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(ItemVisitor)
        }
    }

    struct ItemVisitor;

    impl<'de> Visitor<'de> for ItemVisitor {
        type Value = RawItem;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a source string")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(RawItem::Str(v.to_owned()))
        }

        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(RawItem::Str(v))
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(RawItem::Other(format!("the boolean {v}")))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(RawItem::Other(format!("the number {v}")))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(RawItem::Other(format!("the number {v}")))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(RawItem::Other(format!("the number {v}")))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(RawItem::Other("null".to_owned()))
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            self.visit_unit()
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(RawItem::Other("a list".to_owned()))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map
                .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                .is_some()
            {}
            Ok(RawItem::Other("a mapping".to_owned()))
        }
    }

    impl<'de> Deserialize<'de> for super::Policy {
        /// Reads a policy in Django's dict shape from any serde format, checking it as
        /// [`PolicyBuilder::build`](super::PolicyBuilder::build) does.
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            RawPolicy::deserialize(deserializer)?
                .into_policy()
                .map_err(de::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(b: PolicyBuilder) -> Policy {
        b.build().unwrap()
    }

    #[test]
    fn segments_split_where_the_nonce_goes() {
        let policy = build(
            Policy::builder()
                .directive("script-src", [Csp::NONCE, Csp::SELF, Csp::NONCE])
                .directive("style-src", [Csp::NONCE]),
        );
        assert_eq!(policy.render(None), "script-src 'self'");
        assert_eq!(
            policy.render(Some("x")),
            "script-src 'nonce-x' 'self' 'nonce-x'; style-src 'nonce-x'"
        );
        assert_eq!(policy.render(Some("")), "script-src 'self'");
    }

    #[test]
    fn rejects_header_breaking_sources() {
        for bad in ["'self'\r\nX-Evil: 1", "a;b", "a,b", "a\u{7f}", "\u{0}"] {
            let err = build_err(Policy::builder().directive("img-src", [bad]));
            assert!(matches!(err, Error::InvalidSource { .. }), "{bad:?}: {err}");
        }
        let err = build_err(Policy::builder().directive("script-src", ["'self"]));
        assert!(err.to_string().contains("unbalanced single quote"), "{err}");
        let err =
            build_err(Policy::builder().directive("script-src", ["'self' <CSP_NONCE_SENTINEL>"]));
        assert!(
            err.to_string()
                .contains("Csp::NONCE must be an item of its own"),
            "{err}"
        );
    }

    #[test]
    fn rejects_bad_names_and_case_duplicates() {
        for bad in ["", "script src", "script-src;", "scrïpt-src"] {
            let err = build_err(Policy::builder().directive(bad, [Csp::SELF]));
            assert!(
                matches!(err, Error::InvalidDirectiveName { .. }),
                "{bad:?}: {err}"
            );
        }
        let err = build_err(
            Policy::builder()
                .directive("script-src", [Csp::SELF])
                .directive("Script-Src", [Csp::NONE]),
        );
        assert_eq!(
            err.to_string(),
            "directive `Script-Src` repeats `script-src` (directive names are case-insensitive \
             and browsers ignore the second one); merge them into one directive"
        );
    }

    #[test]
    fn unquoted_keywords_only_matter_in_source_lists() {
        for bad in [
            "self",
            "none",
            "unsafe-inline",
            "nonce-abc",
            "sha256-abc=",
            "\"self\"",
        ] {
            let err = build_err(Policy::builder().directive("script-src", [bad]));
            assert!(matches!(err, Error::UnquotedKeyword { .. }), "{bad}: {err}");
        }
        // A string of several sources is checked token by token.
        let err = build_err(Policy::builder().directive("img-src", ["https: self"]));
        assert!(matches!(err, Error::UnquotedKeyword { ref value, .. } if value == "self"));
        // `sandbox` and `report-to` take tokens, not sources.
        build(Policy::builder().directive("sandbox", ["allow-scripts"]));
        build(Policy::builder().directive("report-to", ["none"]));
    }

    #[test]
    fn finds_directives_left_unrestricted_by_an_unused_nonce() {
        let directives = |b: PolicyBuilder| b.directives;
        let only = directives(Policy::builder().directive("script-src", [Csp::NONCE]));
        assert_eq!(nonce_only_directives(&only), ["script-src"]);
        let backed = directives(
            Policy::builder()
                .directive("default-src", [Csp::SELF])
                .directive("script-src", [Csp::NONCE]),
        );
        assert!(nonce_only_directives(&backed).is_empty());
        let with_other_source = directives(
            Policy::builder().directive("script-src", [Csp::NONCE, Csp::STRICT_DYNAMIC]),
        );
        assert!(nonce_only_directives(&with_other_source).is_empty());
        let default_only_nonce = directives(
            Policy::builder()
                .directive("default-src", [Csp::NONCE])
                .directive_set("style-src", [Csp::NONCE]),
        );
        assert_eq!(
            nonce_only_directives(&default_only_nonce),
            ["default-src", "style-src"]
        );
    }

    fn build_err(b: PolicyBuilder) -> Error {
        b.build().unwrap_err()
    }

    #[test]
    fn source_checks_table() {
        // (directive, source, None when accepted or part of the error message)
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("img-src", "https:", None),
            ("img-src", "https: data:", None),
            ("img-src", "https:\tdata:", None),
            ("img-src", "https: ", None),
            ("img-src", "''", None),
            ("img-src", "'self'", None),
            ("img-src", Csp::NONCE, None),
            ("img-src", "a;b", Some("`;` ends a directive")),
            ("img-src", "a,b", Some("`,` separates policies")),
            ("img-src", "a\rb", Some("CR and LF cannot appear")),
            ("img-src", "a\nb", Some("CR and LF cannot appear")),
            ("img-src", "a\u{1}b", Some("the control character '\\u{1}'")),
            (
                "img-src",
                "a\u{7f}",
                Some("the control character '\\u{7f}'"),
            ),
            (
                "img-src",
                "'self",
                Some("`'self` has an unbalanced single quote"),
            ),
            (
                "img-src",
                "self'",
                Some("`self'` has an unbalanced single quote"),
            ),
            ("img-src", "'", Some("`'` has an unbalanced single quote")),
            ("img-src", "https: 'none", Some("`'none` has an unbalanced")),
            (
                "img-src",
                "'self' <CSP_NONCE_SENTINEL>",
                Some("Csp::NONCE must be an item"),
            ),
            // Unquoted keywords, in every directive that takes a source list.
            ("script-src", "self", Some("unquoted")),
            ("Script-Src", "NONE", Some("unquoted")),
            ("base-uri", "self", Some("unquoted")),
            ("form-action", "none", Some("unquoted")),
            ("frame-ancestors", "none", Some("unquoted")),
            ("navigate-to", "self", Some("unquoted")),
            ("script-src", "sha384-abc", Some("unquoted")),
            ("script-src", "nonce-", None),
            ("script-src", "selfish.example", None),
            // Directives that take tokens accept the same words.
            ("sandbox", "self", None),
            ("report-to", "none", None),
            ("require-trusted-types-for", "script", None),
        ];
        for (directive, source, want) in cases {
            let got = Policy::builder().directive(*directive, [*source]).build();
            match (got, want) {
                (Ok(_), None) => {}
                (Err(err), Some(part)) => {
                    let text = match &err {
                        Error::UnquotedKeyword { .. } => format!("unquoted: {err}"),
                        _ => err.to_string(),
                    };
                    assert!(text.contains(part), "{directive} {source:?}: {text}");
                }
                (got, want) => panic!("{directive} {source:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn unquoted_keyword_errors_name_the_quoted_form() {
        let err = build_err(Policy::builder().directive("script-src", ["https: Self"]));
        match err {
            Error::UnquotedKeyword {
                directive,
                value,
                quoted,
            } => {
                assert_eq!((directive.as_str(), value.as_str()), ("script-src", "Self"));
                assert_eq!(quoted, "'Self'");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn name_checks_table() {
        for (name, want) in [
            ("default-src", None),
            ("A-1", None),
            ("", Some("a directive name cannot be empty")),
            ("script src", Some("' ' is not allowed")),
            ("script_src", Some("'_' is not allowed")),
            ("script-src;", Some("';' is not allowed")),
            ("scrïpt-src", Some("'ï' is not allowed")),
        ] {
            match (check_name(name), want) {
                (Ok(()), None) => {}
                (Err(err), Some(part)) => {
                    assert!(err.to_string().contains(part), "{name:?}: {err}");
                    assert!(
                        matches!(err, Error::InvalidDirectiveName { .. }),
                        "{name:?}"
                    );
                }
                (got, want) => panic!("{name:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn renders_each_kind_of_value() {
        let policy = build(
            Policy::builder()
                .directive("default-src", ["'self'", "https: "])
                .directive_set("img-src", ["b", "a", "b"])
                .valueless("upgrade-insecure-requests")
                .value("report-uri", DirectiveValue::Omitted)
                .directive("object-src", Vec::<String>::new()),
        );
        assert_eq!(
            policy.render(None),
            "default-src 'self' https:; img-src a b; upgrade-insecure-requests"
        );
        assert_eq!(policy.to_string(), policy.render(None));
        assert_eq!(policy.render(Some("n")), policy.render(None));
        assert!(!policy.uses_nonce() && !policy.is_empty());
        let names: Vec<&str> = policy.directives().map(|(name, _)| name).collect();
        assert_eq!(
            names,
            [
                "default-src",
                "img-src",
                "upgrade-insecure-requests",
                "report-uri",
                "object-src"
            ]
        );
        assert_eq!(
            policy.get("IMG-SRC"),
            Some(&DirectiveValue::Set(vec!["a".into(), "b".into()]))
        );
        assert_eq!(policy.get("Report-Uri"), Some(&DirectiveValue::Omitted));
        assert_eq!(policy.get("script-src"), None);
        assert_eq!(DirectiveValue::Valueless.sources(), Vec::<&str>::new());
        assert_eq!(DirectiveValue::Omitted.sources(), Vec::<&str>::new());
        assert_eq!(
            DirectiveValue::List(vec!["b".into(), "a".into(), "b".into()]).sources(),
            ["b", "a", "b"]
        );
        assert!(Policy::empty().is_empty());
        assert_eq!(Policy::empty().render(Some("n")), "");
    }

    #[test]
    fn nonces_fill_every_slot() {
        let policy = build(
            Policy::builder()
                .directive("script-src", [Csp::NONCE, Csp::SELF, Csp::NONCE])
                .directive("style-src", [Csp::SELF]),
        );
        assert!(policy.uses_nonce());
        for nonce in ["n", "a-much-longer-nonce-value-0123456789"] {
            assert_eq!(
                policy.render(Some(nonce)),
                format!("script-src 'nonce-{nonce}' 'self' 'nonce-{nonce}'; style-src 'self'")
            );
        }
        assert_eq!(policy.render(None), "script-src 'self'; style-src 'self'");
    }

    #[cfg(feature = "tower")]
    #[test]
    fn header_values() {
        let policy = build(Policy::builder().directive("script-src", [Csp::SELF, Csp::NONCE]));
        let value = |nonce| {
            policy
                .header_value(nonce)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(value(None).as_deref(), Some("script-src 'self'"));
        assert_eq!(value(Some("")).as_deref(), Some("script-src 'self'"));
        assert_eq!(
            value(Some("abc")).as_deref(),
            Some("script-src 'self' 'nonce-abc'")
        );
        assert_eq!(value(Some("a\nb")).as_deref(), Some("script-src 'self'"));
        let only_nonce = build(Policy::builder().directive("script-src", [Csp::NONCE]));
        assert_eq!(only_nonce.header_value(None), None);
        assert_eq!(
            only_nonce.header_value(Some("abc")).unwrap(),
            "script-src 'nonce-abc'"
        );
        assert_eq!(Policy::empty().header_value(Some("abc")), None);
        assert_eq!(Policy::empty().header_value(None), None);
    }

    #[test]
    fn builder_replaces_removes_and_round_trips() {
        let builder = Policy::builder()
            .directive("default-src", [Csp::SELF])
            .directive("img-src", ["*"])
            .directive("default-src", [Csp::NONE]);
        let policy = build(builder.clone());
        // A repeated name replaces the value where it first was.
        assert_eq!(policy.to_string(), "default-src 'none'; img-src *");
        assert_eq!(policy.to_builder(), builder);
        assert_eq!(build(policy.to_builder()), policy);
        assert_ne!(build(builder.clone().remove("IMG-src")), policy);
        assert_eq!(
            build(builder.remove("IMG-src")).to_string(),
            "default-src 'none'"
        );
        assert_eq!(
            format!("{policy:?}"),
            "Policy { directives: [(\"default-src\", List([\"'none'\"])), (\"img-src\", List([\"*\"]))] }"
        );
    }

    #[test]
    fn nonce_only_directives_table() {
        // (directives, the ones left unrestricted when the nonce is not used)
        let cases: Vec<(PolicyBuilder, Vec<&str>)> = vec![
            (
                Policy::builder().directive("Script-SRC", [Csp::NONCE]),
                vec!["Script-SRC"],
            ),
            (Policy::builder().directive("sandbox", [Csp::NONCE]), vec![]),
            (
                Policy::builder().directive("script-src", Vec::<String>::new()),
                vec![],
            ),
            (
                Policy::builder()
                    .directive("DEFAULT-SRC", [Csp::SELF])
                    .directive("script-src", [Csp::NONCE]),
                vec![],
            ),
            (
                Policy::builder()
                    .directive("default-src", [Csp::NONCE, Csp::NONCE])
                    .directive("img-src", [Csp::SELF]),
                vec!["default-src"],
            ),
            (
                Policy::builder()
                    .valueless("default-src")
                    .directive("script-src", [Csp::NONCE]),
                vec!["script-src"],
            ),
        ];
        for (builder, want) in cases {
            assert_eq!(
                nonce_only_directives(&builder.directives),
                want,
                "{builder:?}"
            );
        }
    }

    #[cfg(feature = "toml")]
    #[test]
    fn loads_toml() {
        let policy = Policy::from_toml(
            "default-src = [\"'self'\"]\nimg-src = { set = [\"b\", \"a\"] }\nupgrade-insecure-requests = true\n",
        )
        .unwrap();
        assert_eq!(
            policy.to_string(),
            "default-src 'self'; img-src a b; upgrade-insecure-requests"
        );
        let err = Policy::from_toml("default-src = [1]").unwrap_err();
        assert!(err.to_string().contains("item 0"), "{err}");
        assert!(matches!(Policy::from_toml("= ="), Err(Error::Parse(_))));
    }

    /// Counts the events logged while it is the current subscriber.
    struct CountEvents(Arc<std::sync::atomic::AtomicUsize>);

    impl tracing::Subscriber for CountEvents {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, _: &tracing::Event<'_>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[test]
    fn warns_once_per_directive_left_unrestricted() {
        let warnings = |builder: PolicyBuilder| {
            let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            tracing::subscriber::with_default(CountEvents(Arc::clone(&count)), || {
                builder.build().unwrap();
            });
            count.load(std::sync::atomic::Ordering::Relaxed)
        };
        let only_nonce = Policy::builder()
            .directive("script-src", [Csp::NONCE])
            .directive("style-src", [Csp::NONCE]);
        assert_eq!(warnings(only_nonce.clone()), 2);
        assert_eq!(
            warnings(only_nonce.directive("default-src", [Csp::SELF])),
            0
        );
    }

    #[test]
    fn visitors_say_what_they_expect() {
        use serde::Deserialize as _;
        use serde::de::value::{BytesDeserializer, Error as ValueError};

        let bytes = || BytesDeserializer::<ValueError>::new(b"x");
        let err = RawPolicy::deserialize(bytes()).unwrap_err().to_string();
        assert!(
            err.ends_with("expected a mapping of directive names to values"),
            "{err}"
        );
        let err = RawValue::deserialize(bytes()).unwrap_err().to_string();
        assert!(err.ends_with("expected a directive value"), "{err}");
        let err = RawItem::deserialize(bytes()).unwrap_err().to_string();
        assert!(err.ends_with("expected a source string"), "{err}");
    }

    #[test]
    fn loads_every_json_shape() {
        let policy = Policy::from_json(
            r#"{"a-src": true, "b-src": 0.0, "c-src": {"set": ["y", "x", "y"]}, "d-src": ["p", "q"], "e-src": "r"}"#,
        )
        .unwrap();
        assert_eq!(policy.to_string(), "a-src; c-src x y; d-src p q; e-src r");
        assert_eq!(policy.get("b-src"), Some(&DirectiveValue::Omitted));
        for (json, part) in [
            (r#"{"a-src": 1.5}"#, "the number 1.5"),
            (r#"{"a-src": -2}"#, "the number -2"),
            (r#"{"a-src": {"set": [1]}}"#, "item 0"),
            (r#"{"a-src": [true]}"#, "item 0"),
            (r#"{"a-src": {"other": []}}"#, "a-src"),
            (r#"{"a-src": {}}"#, "a-src"),
            ("5", "mapping"),
            ("true", "mapping"),
            ("null", "mapping"),
        ] {
            let err = Policy::from_json(json).unwrap_err().to_string();
            assert!(err.contains(part), "{json}: {err}");
        }
    }

    #[test]
    fn loads_json_in_order_with_typed_errors() {
        let policy = Policy::from_json(
            r#"{"z-src": ["'self'"], "a-src": "x", "m-src": 0, "b-src": false, "c-src": null}"#,
        )
        .unwrap();
        assert_eq!(policy.to_string(), "z-src 'self'; a-src x");
        let err = Policy::from_json(r#"{"script-src": 1}"#).unwrap_err();
        assert!(matches!(err, Error::InvalidValue { .. }), "{err}");
        let err = Policy::from_json(r#"{"script-src": ["'self'", null]}"#).unwrap_err();
        assert!(err.to_string().contains("item 1 (null)"), "{err}");
        let err = Policy::from_json(r#""default-src 'self'""#).unwrap_err();
        assert!(matches!(err, Error::NotAMapping { .. }), "{err}");
        let err = Policy::from_json(r#"[["default-src", "'self'"]]"#).unwrap_err();
        assert!(matches!(err, Error::NotAMapping { .. }), "{err}");
        let err = Policy::from_json(r#"{"script-src": {"list": []}}"#).unwrap_err();
        assert!(matches!(err, Error::InvalidValue { .. }), "{err}");
        let err = Policy::from_json("{").unwrap_err();
        assert!(matches!(err, Error::Parse(_)), "{err}");
        let policy: Policy = serde_json::from_str(r#"{"default-src": ["'none'"]}"#).unwrap();
        assert_eq!(policy.to_string(), "default-src 'none'");
        assert!(serde_json::from_str::<Policy>(r#"{"default-src": ["self"]}"#).is_err());
    }
}
