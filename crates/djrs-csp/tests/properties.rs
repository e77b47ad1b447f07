//! Untrusted input never panics: any directive name and source either builds a policy whose
//! header values are valid, or is a typed error; any report body parses or is a typed error.

use djrs_csp::{CspReport, CspSource, Error, Policy};
use proptest::prelude::*;

/// Strings mixing keywords, the nonce placeholder, header-breaking bytes and arbitrary text.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(CspSource::SELF.to_owned()),
        Just(CspSource::NONCE.to_owned()),
        Just("self".to_owned()),
        Just("https://cdn.example".to_owned()),
        Just("'sha256-abc='".to_owned()),
        Just(String::new()),
        "[ -~]{0,12}",
        any::<String>(),
        "[\\r\\n;,'\"\\t ]{1,3}",
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("script-src".to_owned()),
        Just("default-src".to_owned()),
        Just("sandbox".to_owned()),
        "[a-zA-Z-]{1,12}",
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn building_never_panics(
        directives in prop::collection::vec((name(), prop::collection::vec(fragment(), 0..4), any::<bool>()), 0..5),
        nonce in "[A-Za-z0-9_-]{22}",
    ) {
        let mut builder = Policy::builder();
        for (name, sources, set) in directives {
            builder = if set { builder.directive_set(name, sources) } else { builder.directive(name, sources) };
        }
        match builder.build() {
            Ok(policy) => {
                let plain = policy.render(None);
                prop_assert!(!plain.contains(CspSource::NONCE));
                prop_assert!(!plain.contains(['\r', '\n', '\0']));
                prop_assert_eq!(policy.header_value(None).is_some(), !plain.is_empty());
                let with_nonce = policy.render(Some(&nonce));
                prop_assert!(!with_nonce.contains(CspSource::NONCE));
                prop_assert_eq!(with_nonce.contains(&nonce), policy.uses_nonce());
                if !with_nonce.is_empty() {
                    let value = policy.header_value(Some(&nonce)).expect("a header value");
                    prop_assert_eq!(value.as_bytes(), with_nonce.as_bytes());
                }
            }
            Err(err) => prop_assert!(!err.to_string().is_empty()),
        }
    }

    #[test]
    fn report_bodies_never_panic(body in any::<Vec<u8>>(), json in any::<String>()) {
        for content_type in ["application/csp-report", "application/reports+json", "application/json", "text/plain"] {
            for body in [&body[..], json.as_bytes()] {
                match CspReport::parse(content_type, body) {
                    Ok(reports) => prop_assert!(reports.len() <= body.len()),
                    Err(Error::MalformedReport(_) | Error::UnsupportedMediaType(_)) => {}
                    Err(other) => prop_assert!(false, "unexpected error {other}"),
                }
            }
        }
    }

    #[test]
    fn json_documents_never_panic(document in any::<String>()) {
        let _ = Policy::from_json(&document);
    }
}
