//! Rendering: a policy's header values, computed once when it is built ([`Policy::render`],
//! [`Policy::header_value`]), exactly as Django's `build_policy`.

use std::sync::Arc;

use super::model::Inner;
use super::{DirectiveValue, Policy};
use crate::CspSource;

/// Stands for the nonce value while rendering; sources cannot hold control characters.
const PLACEHOLDER: char = '\0';

/// The nonce source while rendering: the segments split at [`PLACEHOLDER`] keep the quotes
/// and `nonce-`, so that sending the policy copies only the segments and the nonce.
const PLACEHOLDER_SOURCE: &str = "'nonce-\0'";

impl Policy {
    /// The header value for this policy and nonce, Django's `build_policy(config, nonce)`:
    /// [`CspSource::NONCE`] becomes `'nonce-…'` when `nonce` is given and not empty, and is removed
    /// otherwise (a directive left without sources is then left out). Returns `""` when no
    /// directive renders.
    ///
    /// ```
    /// use djrs_csp::{CspSource, Policy};
    ///
    /// let policy = Policy::builder().directive("script-src", [CspSource::NONCE]).build()?;
    /// assert_eq!(policy.render(Some("abc123")), "script-src 'nonce-abc123'");
    /// assert_eq!(policy.render(None), "");
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    #[must_use]
    pub fn render(&self, nonce: Option<&str>) -> String {
        match (nonce.filter(|n| !n.is_empty()), &self.inner.nonce_segments) {
            // Segments and nonce are both UTF-8, so their join is.
            (Some(nonce), Some(segments)) => {
                join_segments(segments, nonce.as_bytes(), self.inner.segments_len)
                    .and_then(|joined| String::from_utf8(joined).ok())
                    .unwrap_or_else(|| self.inner.plain.clone())
            }
            _ => self.inner.plain.clone(),
        }
    }

    /// The header value for this policy and nonce (feature `tower`), or `None` when the policy
    /// renders to nothing: then no header is sent, where Django sends an empty one. Without a
    /// nonce, or when the policy has no [`CspSource::NONCE`], this clones a value computed when the
    /// policy was built.
    ///
    /// ```
    /// use djrs_csp::{CspSource, Policy};
    ///
    /// let policy = Policy::builder().directive("script-src", [CspSource::SELF, CspSource::NONCE]).build()?;
    /// assert_eq!(policy.header_value(None).unwrap(), "script-src 'self'");
    /// assert_eq!(policy.header_value(Some("n0nce")).unwrap(), "script-src 'self' 'nonce-n0nce'");
    ///
    /// // A nonce that cannot go in a header is left out, never the whole policy.
    /// assert_eq!(policy.header_value(Some("bad\nnonce")).unwrap(), "script-src 'self'");
    ///
    /// let only_nonce = Policy::builder().directive("script-src", [CspSource::NONCE]).build()?;
    /// assert!(only_nonce.header_value(None).is_none());
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    #[cfg(feature = "tower")]
    #[must_use]
    pub fn header_value(&self, nonce: Option<&str>) -> Option<http::HeaderValue> {
        self.header_value_bytes(nonce.map(str::as_bytes))
    }

    /// [`header_value`](Self::header_value) for a nonce given as bytes: the layer's per-response
    /// path, one allocation (the value's buffer, sized exactly, handed to the header value
    /// without a copy) and one pass over it (`HeaderValue`'s check of its bytes).
    #[cfg(feature = "tower")]
    #[inline]
    pub(crate) fn header_value_bytes(&self, nonce: Option<&[u8]>) -> Option<http::HeaderValue> {
        match (nonce.filter(|n| !n.is_empty()), &self.inner.nonce_segments) {
            // The sources were checked when the policy was built; only a nonce with bytes not
            // allowed in a header (never one made by `CspNonce`) fails here. Fail closed: send
            // the policy without the nonce rather than no policy.
            (Some(nonce), Some(segments)) => {
                join_segments(segments, nonce, self.inner.segments_len)
                    .and_then(|joined| http::HeaderValue::try_from(joined).ok())
                    .or_else(|| self.inner.header.clone())
            }
            _ => self.inner.header.clone(),
        }
    }

    /// Builds the policy from checked directives.
    pub(super) fn from_directives(directives: Vec<(String, DirectiveValue)>) -> Self {
        let plain = build_policy(&directives, None);
        let with_nonce = build_policy(&directives, Some(PLACEHOLDER_SOURCE));
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

/// Django's `build_policy`: [`CspSource::NONCE`] becomes `nonce_source` (the placeholder while
/// building), or is removed when it is `None`. The directives are those of a built policy, so a
/// set is already sorted and de-duplicated.
fn build_policy(directives: &[(String, DirectiveValue)], nonce_source: Option<&str>) -> String {
    let mut rendered: Vec<String> = Vec::with_capacity(directives.len());
    for (name, value) in directives {
        let line = match value {
            DirectiveValue::Omitted => continue,
            DirectiveValue::Valueless => name.clone(),
            DirectiveValue::List(items) | DirectiveValue::Set(items) => {
                let mut line = name.clone();
                let mut any = false;
                for source in items {
                    let source = if source == CspSource::NONCE {
                        match nonce_source {
                            Some(nonce_source) => nonce_source,
                            None => continue,
                        }
                    } else {
                        source.as_str()
                    };
                    line.push(' ');
                    line.push_str(source);
                    any = true;
                }
                if !any {
                    continue;
                }
                line.truncate(line.trim_end().len());
                line
            }
        };
        rendered.push(line);
    }
    rendered.join("; ")
}

/// The segments of a policy split at its nonce sources, joined with `nonce` between them, in
/// one buffer sized exactly (`segments_len` is their total length); `None` without segments.
fn join_segments(segments: &[String], nonce: &[u8], segments_len: usize) -> Option<Vec<u8>> {
    let (first, rest) = segments.split_first()?;
    let mut out = Vec::with_capacity(segments_len + rest.len() * nonce.len());
    out.extend_from_slice(first.as_bytes());
    for segment in rest {
        out.extend_from_slice(nonce);
        out.extend_from_slice(segment.as_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PolicyBuilder;

    fn build(b: PolicyBuilder) -> Policy {
        b.build().unwrap()
    }

    #[test]
    fn segments_split_where_the_nonce_goes() {
        let policy = build(
            Policy::builder()
                .directive(
                    "script-src",
                    [CspSource::NONCE, CspSource::SELF, CspSource::NONCE],
                )
                .directive("style-src", [CspSource::NONCE]),
        );
        assert_eq!(policy.render(None), "script-src 'self'");
        assert_eq!(
            policy.render(Some("x")),
            "script-src 'nonce-x' 'self' 'nonce-x'; style-src 'nonce-x'"
        );
        assert_eq!(policy.render(Some("")), "script-src 'self'");
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
                .directive(
                    "script-src",
                    [CspSource::NONCE, CspSource::SELF, CspSource::NONCE],
                )
                .directive("style-src", [CspSource::SELF]),
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
        let policy =
            build(Policy::builder().directive("script-src", [CspSource::SELF, CspSource::NONCE]));
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
        let only_nonce = build(Policy::builder().directive("script-src", [CspSource::NONCE]));
        assert_eq!(only_nonce.header_value(None), None);
        assert_eq!(
            only_nonce.header_value(Some("abc")).unwrap(),
            "script-src 'nonce-abc'"
        );
        assert_eq!(Policy::empty().header_value(Some("abc")), None);
        assert_eq!(Policy::empty().header_value(None), None);
    }
}
