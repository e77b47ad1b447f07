//! [`PolicyEdit`]: a change to the site's policy for some routes (django-csp's `csp_update`
//! and `csp_replace`), applied by the layer to whatever policy it sends.

use std::sync::{Arc, OnceLock};

use super::{DirectiveValue, Policy};
use crate::{CspSource, Result};

/// One step of an edit.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Sources added to a directive, which is created when missing (`csp_update`).
    Add(String, Vec<String>),
    /// A directive set to these sources (`csp_replace`).
    Replace(String, Vec<String>),
    /// A directive removed (`csp_replace` with `None`).
    Remove(String),
}

/// A change to the layer's policy for the routes a [`CspOverride`](crate::CspOverride) wraps:
/// sources added to a directive (django-csp's `csp_update`), a directive replaced or removed
/// (`csp_replace`). Unlike a replacement policy, an edit follows the site's policy: change the
/// site's `default-src` and every edited route follows.
///
/// ```
/// use djrs_csp::{CspSource, Policy, PolicyEdit};
///
/// let site = Policy::builder()
///     .directive("default-src", [CspSource::SELF])
///     .directive("img-src", [CspSource::SELF])
///     .directive("frame-src", [CspSource::NONE])
///     .build()?;
/// let edit = PolicyEdit::new()
///     .add("img-src", ["https://images.example.com"])
///     .replace("frame-src", ["https://www.youtube-nocookie.com"])
///     .build()?;
/// assert_eq!(
///     edit.apply(&site).to_string(),
///     "default-src 'self'; img-src 'self' https://images.example.com; frame-src https://www.youtube-nocookie.com"
/// );
/// # Ok::<(), djrs_csp::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct PolicyEdit {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    steps: Vec<Step>,
    /// The last policy edited and its result: a layer sends one policy, so each route's edit is
    /// computed once.
    cache: OnceLock<(Policy, Policy)>,
}

impl PolicyEdit {
    /// An edit that changes nothing yet.
    ///
    /// ```
    /// let site = djrs_csp::Policy::builder().directive("default-src", ["'self'"]).build()?;
    /// let edit = djrs_csp::PolicyEdit::new().build()?;
    /// assert_eq!(edit.apply(&site).to_string(), "default-src 'self'");
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    fn step(self, step: Step) -> Self {
        let mut steps = self.inner.steps.clone();
        steps.push(step);
        Self {
            inner: Arc::new(Inner {
                steps,
                cache: OnceLock::new(),
            }),
        }
    }

    /// Adds `sources` to `directive` (django-csp's `csp_update`), after the ones it has; a
    /// directive the policy lacks is created with them.
    ///
    /// ```
    /// use djrs_csp::{Policy, PolicyEdit};
    ///
    /// let site = Policy::builder().directive("script-src", ["'self'"]).build()?;
    /// let edit = PolicyEdit::new().add("script-src", ["https://cdn.example.com"]).add("img-src", ["data:"]).build()?;
    /// assert_eq!(edit.apply(&site).to_string(), "script-src 'self' https://cdn.example.com; img-src data:");
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn add<I>(self, directive: impl Into<String>, sources: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let sources = sources.into_iter().map(Into::into).collect();
        self.step(Step::Add(directive.into(), sources))
    }

    /// Sets `directive` to `sources` (django-csp's `csp_replace`).
    ///
    /// ```
    /// use djrs_csp::{Policy, PolicyEdit};
    ///
    /// let site = Policy::builder().directive("frame-ancestors", ["'none'"]).build()?;
    /// let edit = PolicyEdit::new().replace("frame-ancestors", ["https://partner.example"]).build()?;
    /// assert_eq!(edit.apply(&site).to_string(), "frame-ancestors https://partner.example");
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn replace<I>(self, directive: impl Into<String>, sources: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let sources = sources.into_iter().map(Into::into).collect();
        self.step(Step::Replace(directive.into(), sources))
    }

    /// Removes `directive` (django-csp's `csp_replace` with `None`).
    ///
    /// ```
    /// use djrs_csp::{Policy, PolicyEdit};
    ///
    /// let site = Policy::builder().directive("default-src", ["'self'"]).valueless("upgrade-insecure-requests").build()?;
    /// let edit = PolicyEdit::new().remove("upgrade-insecure-requests").build()?;
    /// assert_eq!(edit.apply(&site).to_string(), "default-src 'self'");
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    pub fn remove(self, directive: impl Into<String>) -> Self {
        self.step(Step::Remove(directive.into()))
    }

    /// Checks every directive name and source, as [`PolicyBuilder::build`](crate::PolicyBuilder::build)
    /// does.
    ///
    /// ```
    /// use djrs_csp::{Error, PolicyEdit};
    ///
    /// let err = PolicyEdit::new().add("img-src", ["https://a.example; script-src *"]).build().unwrap_err();
    /// assert!(matches!(err, Error::InvalidSource { .. }));
    /// ```
    ///
    /// # Errors
    /// What [`PolicyBuilder::build`](crate::PolicyBuilder::build) refuses: a bad directive name,
    /// a source with `;`, `,` or a control character, an unquoted keyword.
    pub fn build(self) -> Result<Self> {
        for step in &self.inner.steps {
            let (name, sources) = match step {
                Step::Add(name, sources) | Step::Replace(name, sources) => (name, &sources[..]),
                Step::Remove(name) => (name, &[][..]),
            };
            Policy::builder()
                .directive(name.clone(), sources.iter().cloned())
                .build()?;
        }
        Ok(self)
    }

    /// Whether the edit adds the nonce placeholder ([`CspSource::NONCE`]) anywhere.
    ///
    /// ```
    /// use djrs_csp::{CspSource, PolicyEdit};
    ///
    /// assert!(PolicyEdit::new().add("script-src", [CspSource::NONCE]).uses_nonce());
    /// assert!(!PolicyEdit::new().add("script-src", ["'self'"]).uses_nonce());
    /// ```
    #[must_use]
    pub fn uses_nonce(&self) -> bool {
        self.inner.steps.iter().any(|step| match step {
            Step::Add(_, sources) | Step::Replace(_, sources) => {
                sources.iter().any(|s| s == CspSource::NONCE)
            }
            Step::Remove(_) => false,
        })
    }

    /// `policy` with this edit applied. Directive names match in any case; an added source
    /// the directive has already is not added twice.
    ///
    /// ```
    /// use djrs_csp::{Policy, PolicyEdit};
    ///
    /// let site = Policy::builder().directive("img-src", ["'self'"]).build()?;
    /// let edit = PolicyEdit::new().add("IMG-SRC", ["'self'", "data:"]).build()?;
    /// assert_eq!(edit.apply(&site).to_string(), "img-src 'self' data:");
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    #[must_use]
    pub fn apply(&self, policy: &Policy) -> Policy {
        if let Some((base, edited)) = self.inner.cache.get()
            && Arc::ptr_eq(&base.inner, &policy.inner)
        {
            return edited.clone();
        }
        let edited = self.compute(policy);
        let _ = self.inner.cache.set((policy.clone(), edited.clone()));
        edited
    }

    fn compute(&self, policy: &Policy) -> Policy {
        let mut builder = policy.to_builder();
        let directives = &mut builder.directives;
        let position = |directives: &[(String, DirectiveValue)], name: &str| {
            directives
                .iter()
                .position(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        for step in &self.inner.steps {
            match step {
                Step::Add(name, sources) => match position(directives, name) {
                    Some(i) => {
                        let value = &mut directives[i].1;
                        let mut items = value.items().to_vec();
                        for source in sources {
                            if !items.contains(source) {
                                items.push(source.clone());
                            }
                        }
                        *value = match value {
                            DirectiveValue::Set(_) => DirectiveValue::Set(items),
                            _ => DirectiveValue::List(items),
                        };
                    }
                    None => directives.push((name.clone(), DirectiveValue::List(sources.clone()))),
                },
                Step::Replace(name, sources) => {
                    let value = DirectiveValue::List(sources.clone());
                    match position(directives, name) {
                        Some(i) => directives[i].1 = value,
                        None => directives.push((name.clone(), value)),
                    }
                }
                Step::Remove(name) => directives.retain(|(n, _)| !n.eq_ignore_ascii_case(name)),
            }
        }
        // Every source was checked by `build`, and names match the policy's in any case, so
        // this builds; were it ever to fail, the site's policy is sent unchanged.
        builder.build().unwrap_or_else(|err| {
            tracing::error!(error = %err, "a CSP edit did not build; the site's policy is sent");
            policy.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nonce_is_used_only_when_a_step_adds_it() {
        let cases = [
            (PolicyEdit::new(), false),
            (PolicyEdit::new().add("script-src", ["'self'"]), false),
            (PolicyEdit::new().replace("script-src", ["'self'"]), false),
            (PolicyEdit::new().remove("script-src"), false),
            (
                PolicyEdit::new().add("script-src", [CspSource::NONCE]),
                true,
            ),
            (
                PolicyEdit::new()
                    .remove("img-src")
                    .replace("style-src", ["'self'", CspSource::NONCE]),
                true,
            ),
        ];
        for (edit, uses) in cases {
            assert_eq!(edit.uses_nonce(), uses, "{edit:?}");
        }
    }

    #[test]
    fn additions_keep_the_shape_of_the_directive() {
        let site = Policy::builder()
            .directive_set("img-src", ["https://b.example", "'self'"])
            .directive("script-src", ["https://b.example", "'self'"])
            .build()
            .unwrap();
        let edit = PolicyEdit::new()
            .add("img-src", ["https://a.example", "'self'"])
            .add("script-src", ["https://a.example"])
            .build()
            .unwrap();
        // A set stays sorted without duplicates; a list keeps its order and appends.
        assert_eq!(
            edit.apply(&site).to_string(),
            "img-src 'self' https://a.example https://b.example; \
             script-src https://b.example 'self' https://a.example"
        );
        // The second application is the cached policy, and another base is edited afresh.
        assert!(Arc::ptr_eq(
            &edit.apply(&site).inner,
            &edit.apply(&site).inner
        ));
        let other = Policy::builder()
            .directive("img-src", ["data:"])
            .build()
            .unwrap();
        assert_eq!(
            edit.apply(&other).to_string(),
            "img-src data: https://a.example 'self'; script-src https://a.example"
        );
    }
}
