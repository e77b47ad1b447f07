//! [`PolicyBuilder`]: directives set one by one, checked and built into a [`Policy`].

use super::checks::{check_name, check_source, warn_about_nonce_only};
use super::{DirectiveValue, Policy};
use crate::{Error, Result};

/// Builds a [`Policy`]; names and sources are checked by [`build`](Self::build).
///
/// Setting a directive that is already present replaces its value in place, like assigning to
/// a Python dict key.
///
/// ```
/// use djrs_csp::{CspSource, Policy};
///
/// let policy = Policy::builder()
///     .directive("default-src", [CspSource::SELF])
///     .directive("img-src", [CspSource::SELF])
///     .directive("default-src", [CspSource::NONE]) // replaces, keeps its place
///     .build()?;
/// assert_eq!(policy.to_string(), "default-src 'none'; img-src 'self'");
/// # Ok::<(), djrs_csp::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct PolicyBuilder {
    pub(super) directives: Vec<(String, DirectiveValue)>,
}

impl PolicyBuilder {
    /// Sets a directive to sources kept in the given order (a Python list). A single string is
    /// one source: `.directive("report-uri", ["/csp/report"])`.
    ///
    /// ```
    /// use djrs_csp::{CspSource, Policy};
    ///
    /// let policy = Policy::builder()
    ///     .directive("script-src", [CspSource::SELF, "https://cdn.example", CspSource::SELF])
    ///     .directive("report-uri", ["/csp/report"])
    ///     .build()?;
    /// // Order and duplicates are kept, as with a Python list.
    /// assert_eq!(
    ///     policy.to_string(),
    ///     "script-src 'self' https://cdn.example 'self'; report-uri /csp/report"
    /// );
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
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
    /// use djrs_csp::{CspSource, Policy};
    ///
    /// let policy = Policy::builder()
    ///     .directive_set("font-src", ["https://fonts.gstatic.com", CspSource::SELF])
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
    /// use djrs_csp::{CspSource, Policy};
    ///
    /// let policy = Policy::builder()
    ///     .directive("default-src", [CspSource::SELF])
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
    ///   character, unbalanced single quotes, or [`CspSource::NONCE`](crate::CspSource::NONCE) inside a longer string;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CspSource;

    fn build(b: PolicyBuilder) -> Policy {
        b.build().unwrap()
    }

    #[test]
    fn builder_replaces_removes_and_round_trips() {
        let builder = Policy::builder()
            .directive("default-src", [CspSource::SELF])
            .directive("img-src", ["*"])
            .directive("default-src", [CspSource::NONE]);
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
}
