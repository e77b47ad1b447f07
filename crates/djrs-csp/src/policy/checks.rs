//! The checks a policy passes when it is built: names, sources, and the warning for
//! directives that only the nonce restricts.

use super::DirectiveValue;
use crate::sources::{takes_source_list, unquoted_keyword};
use crate::{CspSource, Error, Result};

/// Logs a warning for each fetch directive holding nothing but the nonce in a policy without
/// `default-src`: on responses that do not use the nonce the directive disappears (Django's rule)
/// and that kind of resource is then unrestricted.
pub(super) fn warn_about_nonce_only(directives: &[(String, DirectiveValue)]) {
    for name in nonce_only_directives(directives) {
        tracing::warn!(
            directive = %name,
            "CSP directive holds only CspSource::NONCE and the policy has no default-src: on responses \
             that do not use the nonce the directive is left out and nothing restricts it; add \
             default-src or another source"
        );
    }
}

/// The fetch directives that hold only the nonce, when no `default-src` backs them up.
fn nonce_only_directives(directives: &[(String, DirectiveValue)]) -> impl Iterator<Item = &str> {
    let has_default = directives.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("default-src")
            && value.items().iter().any(|s| s != CspSource::NONCE)
    });
    directives
        .iter()
        .filter(move |(name, value)| {
            let sources = value.items();
            !has_default
                && name.len() >= "-src".len()
                && name.as_bytes()[name.len() - "-src".len()..].eq_ignore_ascii_case(b"-src")
                && !sources.is_empty()
                && sources.iter().all(|s| s == CspSource::NONCE)
        })
        .map(|(name, _)| name.as_str())
}

/// Checks a directive name: ASCII letters, digits and `-`.
pub(super) fn check_name(name: &str) -> Result<()> {
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

/// Checks one source of a directive: nothing that would break the header, balanced quotes,
/// keywords quoted.
pub(super) fn check_source(directive: &str, source: &str) -> Result<()> {
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
        if token == CspSource::NONCE && source != CspSource::NONCE {
            return Err(invalid(
                "CspSource::NONCE must be an item of its own, not part of a longer string, or it \
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Policy, PolicyBuilder};

    fn build(b: PolicyBuilder) -> Policy {
        b.build().unwrap()
    }

    fn build_err(b: PolicyBuilder) -> Error {
        b.build().unwrap_err()
    }

    fn nonce_only(directives: &[(String, DirectiveValue)]) -> Vec<&str> {
        nonce_only_directives(directives).collect()
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
                .contains("CspSource::NONCE must be an item of its own"),
            "{err}"
        );
    }

    #[test]
    fn rejects_bad_names_and_case_duplicates() {
        for bad in ["", "script src", "script-src;", "scrïpt-src"] {
            let err = build_err(Policy::builder().directive(bad, [CspSource::SELF]));
            assert!(
                matches!(err, Error::InvalidDirectiveName { .. }),
                "{bad:?}: {err}"
            );
        }
        let err = build_err(
            Policy::builder()
                .directive("script-src", [CspSource::SELF])
                .directive("Script-Src", [CspSource::NONE]),
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
    fn source_checks_table() {
        // (directive, source, None when accepted or part of the error message)
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("img-src", "https:", None),
            ("img-src", "https: data:", None),
            ("img-src", "https:\tdata:", None),
            ("img-src", "https: ", None),
            ("img-src", "''", None),
            ("img-src", "'self'", None),
            ("img-src", CspSource::NONCE, None),
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
                Some("CspSource::NONCE must be an item"),
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
    fn finds_directives_left_unrestricted_by_an_unused_nonce() {
        let directives = |b: PolicyBuilder| b.directives;
        let only = directives(Policy::builder().directive("script-src", [CspSource::NONCE]));
        assert_eq!(nonce_only(&only), ["script-src"]);
        let backed = directives(
            Policy::builder()
                .directive("default-src", [CspSource::SELF])
                .directive("script-src", [CspSource::NONCE]),
        );
        assert!(nonce_only(&backed).is_empty());
        let with_other_source = directives(
            Policy::builder()
                .directive("script-src", [CspSource::NONCE, CspSource::STRICT_DYNAMIC]),
        );
        assert!(nonce_only(&with_other_source).is_empty());
        let default_only_nonce = directives(
            Policy::builder()
                .directive("default-src", [CspSource::NONCE])
                .directive_set("style-src", [CspSource::NONCE]),
        );
        assert_eq!(
            nonce_only(&default_only_nonce),
            ["default-src", "style-src"]
        );
    }

    #[test]
    fn nonce_only_directives_table() {
        // (directives, the ones left unrestricted when the nonce is not used)
        let cases: Vec<(PolicyBuilder, Vec<&str>)> = vec![
            (
                Policy::builder().directive("Script-SRC", [CspSource::NONCE]),
                vec!["Script-SRC"],
            ),
            (
                Policy::builder().directive("sandbox", [CspSource::NONCE]),
                vec![],
            ),
            (
                Policy::builder().directive("script-src", Vec::<String>::new()),
                vec![],
            ),
            (
                Policy::builder()
                    .directive("DEFAULT-SRC", [CspSource::SELF])
                    .directive("script-src", [CspSource::NONCE]),
                vec![],
            ),
            (
                Policy::builder()
                    .directive("default-src", [CspSource::NONCE, CspSource::NONCE])
                    .directive("img-src", [CspSource::SELF]),
                vec!["default-src"],
            ),
            (
                Policy::builder()
                    .valueless("default-src")
                    .directive("script-src", [CspSource::NONCE]),
                vec!["script-src"],
            ),
        ];
        for (builder, want) in cases {
            assert_eq!(nonce_only(&builder.directives), want, "{builder:?}");
        }
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
            .directive("script-src", [CspSource::NONCE])
            .directive("style-src", [CspSource::NONCE]);
        assert_eq!(warnings(only_nonce.clone()), 2);
        assert_eq!(
            warnings(only_nonce.directive("default-src", [CspSource::SELF])),
            0
        );
    }
}
