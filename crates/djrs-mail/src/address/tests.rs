//! Tables for addresses: parsing, refusals, the header form Python writes and the envelope.

use super::*;

#[test]
fn a_mailbox_keeps_its_text_and_reads_back_through_serde() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("a@example.com", None, "a@example.com"),
        (" Ann <ann@example.com> ", Some("Ann"), "ann@example.com"),
        (
            "\"Doe, John\" <j@exämple.com>",
            Some("Doe, John"),
            "j@xn--exmple-cua.com",
        ),
        ("webmaster", None, "webmaster"),
    ];
    for (text, name, spec) in cases {
        let mailbox: Mailbox = text.parse().unwrap();
        assert_eq!(mailbox.as_str(), *text);
        assert_eq!(mailbox.to_string(), *text);
        assert_eq!(mailbox.display_name(), *name, "{text}");
        assert_eq!(mailbox.addr_spec(), *spec, "{text}");
        let json = serde_json::to_string(&mailbox).unwrap();
        assert_eq!(serde_json::from_str::<Mailbox>(&json).unwrap(), mailbox);
    }
    assert!(serde_json::from_str::<Mailbox>("\"not an address\"").is_err());
    assert!(Mailbox::try_from("").is_err());
    assert!(Mailbox::try_from(String::from("a@")).is_err());
}

#[test]
fn parses_the_usual_forms() {
    let m = Mailbox::parse_in("Jörg Müller <jm@müller.example>", "To").unwrap();
    assert_eq!(m.name.as_deref(), Some("Jörg Müller"));
    assert_eq!(m.addr_spec(), "jm@xn--mller-kva.example");
    let m = Mailbox::parse_in("\"Jo \\\"Q\\\" Public\" <jq@example.com>", "To").unwrap();
    assert_eq!(m.name.as_deref(), Some("Jo \"Q\" Public"));
    assert!(
        Mailbox::parse_in("webmaster", "From")
            .unwrap()
            .domain
            .is_none()
    );
}

#[test]
fn refuses_garbage() {
    for bad in [
        "not an address",
        "a@b@",
        "<a@b> <c@d>",
        "\"open <a@b>",
        "a@",
        "a..b@c",
        "x <a@b",
    ] {
        assert!(Mailbox::parse_in(bad, "To").is_err(), "{bad}");
    }
    assert!(matches!(
        Mailbox::parse_in("a@b\nBcc: c@d", "To"),
        Err(Error::BadHeader { .. })
    ));
}

/// Parses `input` as a `To` address; the error as its message.
fn parse(input: &str) -> std::result::Result<Mailbox, String> {
    Mailbox::parse_in(input, "To").map_err(|err| err.to_string())
}

#[test]
fn parse_table() {
    let long_local = "a".repeat(64);
    // The addr-spec may be 254 characters, not one more.
    let longest = format!("{long_local}@{}", "b".repeat(189));
    let cases: Vec<(String, Option<&str>, &str, Option<&str>)> = vec![
        // (input, display name, local part, domain)
        ("a@b.c".into(), None, "a", Some("b.c")),
        ("  A <a@b.c>  ".into(), Some("A"), "a", Some("b.c")),
        ("<a@b.c>".into(), None, "a", Some("b.c")),
        // Quoted local parts keep their quotes; they may hold spaces, `@` and escapes.
        (
            "\"john doe\"@example.com".into(),
            None,
            "\"john doe\"",
            Some("example.com"),
        ),
        (
            r#""a\"b"@example.com"#.into(),
            None,
            r#""a\"b""#,
            Some("example.com"),
        ),
        (
            r#""a\\"@example.com"#.into(),
            None,
            r#""a\\""#,
            Some("example.com"),
        ),
        (
            "\"a@b\"@example.com".into(),
            None,
            "\"a@b\"",
            Some("example.com"),
        ),
        // A quoted local part alone: its `@` is not the domain's.
        ("\"a@b\"".into(), None, "\"a@b\"", None),
        (
            "Ann <\"x y\"@example.com>".into(),
            Some("Ann"),
            "\"x y\"",
            Some("example.com"),
        ),
        ("a@[192.0.2.1]".into(), None, "a", Some("[192.0.2.1]")),
        ("jörg@example.com".into(), None, "jörg", Some("example.com")),
        (longest.clone(), None, &long_local, Some(&longest[65..])),
    ];
    for (input, name, local, domain) in &cases {
        let m = parse(input).unwrap_or_else(|err| panic!("{input:?}: {err}"));
        assert_eq!(m.name.as_deref(), *name, "{input:?}");
        assert_eq!(m.local, *local, "{input:?}");
        assert_eq!(m.domain.as_deref(), *domain, "{input:?}");
    }
}

#[test]
fn refusal_table() {
    let too_long = format!("{}@{}", "a".repeat(64), "b".repeat(190));
    let cases: &[(&str, &str)] = &[
        // (input, part of the reason)
        ("", "empty"),
        ("   ", "empty"),
        // An unescaped quote inside a quoted local part, or a trailing backslash.
        (r#""a"b"@example.com"#, "local-part"),
        (r#""ab\"@example.com"#, "local-part"),
        (r#""ab"#, "local-part"),
        // ASCII specials and non-ASCII whitespace or controls are not atext.
        ("a(b@example.com", "local-part"),
        ("a,b@example.com", "local-part"),
        ("a\u{a0}b@example.com", "local-part"),
        ("a\u{80}b@example.com", "local-part"),
        ("a@exa(mple.com", "domain is not valid"),
        // A domain literal needs both brackets.
        ("a@[192.0.2.1", "domain is not valid"),
        ("a@192.0.2.1]", "domain is not valid"),
        ("Ann <a<b@example.com>", "single address"),
        ("Ann <a>b@example.com>", "single address"),
        ("a@b.c>", "'>' without '<'"),
        ("Ann \"Q\" <a@b.c>", "must be quoted"),
        ("\"Ann\" a@b.c>", "expected <address>"),
        (&too_long, "254"),
        // No encoding can carry a control character in a quoted local part or a domain
        // literal.
        ("\"a\0b\"@example.com", "local-part"),
        ("\"a\tb\"@example.com", "local-part"),
        ("\"a\u{7f}\"@example.com", "local-part"),
        ("\"a\u{80}\"@example.com", "local-part"),
        ("a@[192.0.2.1\0]", "domain is not valid"),
    ];
    for (input, reason) in cases {
        let err = parse(input).expect_err(input);
        assert!(err.contains(reason), "{input:?}: {err}");
    }
}

#[test]
fn ascii_domain_punycodes_only_plain_domains() {
    assert_eq!(
        ascii_domain("x", "müller.example").unwrap(),
        "xn--mller-kva.example"
    );
    assert_eq!(ascii_domain("x", "[192.0.2.1]").unwrap(), "[192.0.2.1]");
    assert_eq!(ascii_domain("x", "b.c").unwrap(), "b.c");
    // Half a literal is an ordinary domain.
    assert_eq!(
        ascii_domain("x", "[ü.example").unwrap(),
        "xn--[-eha.example"
    );
    assert_eq!(ascii_domain("x", "ü.example]").unwrap(), "xn--tda.example]");
}

#[test]
fn parse_list_keeps_positions() {
    let items = ["a@b.c".to_owned(), String::new(), "d@e.f".to_owned()];
    let parsed = parse_list("To", &items).unwrap();
    let locals: Vec<Option<&str>> = parsed
        .iter()
        .map(|m| m.as_ref().map(|m| m.local.as_str()))
        .collect();
    assert_eq!(locals, [Some("a"), None, Some("d")]);
    assert!(parse_list("To", &["a@b.c".to_owned(), "bad@".to_owned()]).is_err());
}

/// `fold_address_header(name, items)` for items given as `&str`.
fn fold(name: &str, items: &[&str]) -> String {
    let items: Vec<String> = items.iter().map(|item| (*item).to_owned()).collect();
    fold_address_header(name, &items).unwrap()
}

#[test]
fn folds_address_headers_as_python_does() {
    // Expected values printed by Python's `email.policy.default`.
    let unicode = "Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé";
    let long_encoded = "To: =?utf-8?b?w5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zk?=\n \
                        =?utf-8?b?w6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zk?=\n \
                        =?utf-8?q?=C3=A9?= <long@example.com>, a@b.c";
    let quoted_unicode = format!("\"{unicode}\" <long@example.com>");
    let unquoted_unicode = format!("{unicode} <long@example.com>");
    let cases: &[(&[&str], &str)] = &[
        (&["a@b.c"], "To: a@b.c"),
        (&["a@b.c", "d@e.f"], "To: a@b.c, d@e.f"),
        (&["A <a@b.c>", "webmaster"], "To: A <a@b.c>, webmaster"),
        (
            &["John (Work) <j@example.com>"],
            "To: John (Work) <j@example.com>",
        ),
        (
            &["Doe, John <j@example.com>"],
            "To: \"Doe, John\" <j@example.com>",
        ),
        (
            &["\"Doe, John\" <j@example.com>"],
            "To: \"Doe, John\" <j@example.com>",
        ),
        (
            &[
                "alpha.alpha.alpha@example.com",
                "beta.beta.beta@example.com",
                "gamma.gamma@example.com",
            ],
            "To: alpha.alpha.alpha@example.com, beta.beta.beta@example.com,\n gamma.gamma@example.com",
        ),
        (
            &[
                "\"Doe, John\" <john.doe.with.a.long.name@example.com>",
                "Ann <ann@example.com>",
                "b@c.de",
            ],
            "To: \"Doe, John\" <john.doe.with.a.long.name@example.com>, Ann <ann@example.com>,\n b@c.de",
        ),
        (
            &["Jörg Müller <jm@example.com>", "\"Zoë\" <z@example.com>"],
            "To: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <jm@example.com>,\n =?utf-8?q?Zo=C3=AB?= <z@example.com>",
        ),
        (
            &["Jörg <jörg@example.com>"],
            "To: =?utf-8?q?J=C3=B6rg?= <=?utf-8?q?j=C3=B6rg?=@example.com>",
        ),
        (&[&quoted_unicode, "a@b.c"], long_encoded),
        (&[&unquoted_unicode, "a@b.c"], long_encoded),
    ];
    for (items, want) in cases {
        assert_eq!(fold("To", items), *want, "{items:?}");
    }
    // A long encoded name after other addresses starts on the current line.
    assert_eq!(
        fold("To", &["a@b.c", &unquoted_unicode]),
        "To: a@b.c, =?utf-8?b?w5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xu?=\n \
         =?utf-8?b?w69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xu?=\n \
         =?utf-8?b?w69jw7Zkw6k=?= <long@example.com>"
    );
    assert_eq!(
        fold(
            "Reply-To",
            &[
                "someone.with.a.rather.long.address@example.com",
                "Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé <u@example.com>"
            ]
        ),
        "Reply-To: someone.with.a.rather.long.address@example.com, =?utf-8?b?w5xuw69j?=\n \
         =?utf-8?b?w7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69j?=\n \
         =?utf-8?b?w7Zkw6k=?= <u@example.com>"
    );
    // Two long encoded names: the second starts its own encoded words, not joined to the
    // first one's. (Python 3.11 splits it into short encoded words after a trailing space;
    // both decode to the same text.)
    let second = unquoted_unicode.replace("long@", "b@");
    assert_eq!(
        fold("To", &[&unquoted_unicode.replace("long@", "a@"), &second]),
        "To: =?utf-8?b?w5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zk?=\n \
         =?utf-8?b?w6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zk?=\n \
         =?utf-8?q?=C3=A9?= <a@example.com>, =?utf-8?b?w5xuw69jw7Zkw6kgw5xuw69jw7Zk?=\n \
         =?utf-8?b?w6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zk?=\n \
         =?utf-8?b?w6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6k=?= <b@example.com>"
    );
    // An encoded local part ends its encoded word: the next address's name does not
    // join it.
    assert_eq!(
        fold(
            "To",
            &[
                "jörg@example.com",
                "Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé <b@example.com>"
            ]
        ),
        "To: =?utf-8?q?j=C3=B6rg?=@example.com, =?utf-8?b?w5xuw69jw7Zkw6kgw5xuw69j?=\n \
         =?utf-8?b?w7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69jw7Zkw6kgw5xuw69j?=\n \
         =?utf-8?b?w7Zkw6k=?= <b@example.com>"
    );
}

#[test]
fn a_list_item_moves_to_the_next_line_only_past_78_characters() {
    // "To: <a>, <b>" is 4 + a + 2 + b characters long.
    for (a, b) in [(36, 36), (36, 37), (30, 43)] {
        let first = format!("{}@b.c", "a".repeat(a - 4));
        let second = format!("{}@d.e", "d".repeat(b - 4));
        let folded = fold("To", &[&first, &second]);
        if 4 + a + 2 + b <= 78 {
            assert_eq!(folded, format!("To: {first}, {second}"), "{a} + {b}");
        } else {
            assert_eq!(folded, format!("To: {first},\n {second}"), "{a} + {b}");
        }
    }
    // Past the fast path: the second item ends exactly at column 78, the third folds.
    let first = format!("{}@b.c", "a".repeat(32));
    let second = format!("{}@d.e", "d".repeat(32));
    assert_eq!(4 + first.len() + 2 + second.len(), 78);
    assert_eq!(
        fold("To", &[&first, &second, "x@y.z"]),
        format!("To: {first}, {second},\n x@y.z")
    );
}
#[test]
fn envelope_refuses_non_ascii_local_without_smtputf8() {
    assert!(envelope_address("jörg@example.com", false).is_err());
    assert_eq!(
        envelope_address("jörg@exämple.com", true).unwrap(),
        "jörg@xn--exmple-cua.com"
    );
    assert_eq!(envelope_address("A <a@b.c>", false).unwrap(), "a@b.c");
}

#[test]
fn envelope_reads_unquoted_names_strictly() {
    // Python's strict parser: an unquoted comma is a second address, a period a phrase.
    for (input, reason) in [
        ("Doe, John <j@example.com>", "single address"),
        ("J. Doe <j@example.com>", "period in 'phrase'"),
    ] {
        let err = envelope_address(input, false).unwrap_err().to_string();
        assert!(err.contains(reason), "{input:?}: {err}");
    }
    for input in [
        "\"Doe, John\" <j@example.com>",
        "\"J. Doe\" <j@example.com>",
    ] {
        assert_eq!(
            envelope_address(input, false).unwrap(),
            "j@example.com",
            "{input:?}"
        );
    }
}

#[test]
fn display_names_with_control_characters_are_encoded() {
    // A name that fits on the line keeps a tab, as Python writes it; any other control
    // character is encoded, the quotes of a quoted name left out of the encoded word.
    let cases: &[(&str, &str)] = &[
        ("\"a\0b\" <a@b.c>", "To: =?utf-8?q?a=00b?= <a@b.c>"),
        ("a\0b <a@b.c>", "To: =?utf-8?q?a=00b?= <a@b.c>"),
        ("a\0b, c <a@b.c>", "To: =?utf-8?q?a=00b=2C_c?= <a@b.c>"),
        ("\"a\u{7f}b\" <a@b.c>", "To: =?utf-8?q?a=7Fb?= <a@b.c>"),
        ("\"a\u{80}b\" <a@b.c>", "To: =?utf-8?q?a=C2=80b?= <a@b.c>"),
        ("\"a\tb\" <a@b.c>", "To: \"a\tb\" <a@b.c>"),
        ("a\tb <a@b.c>", "To: a\tb <a@b.c>"),
    ];
    for (input, want) in cases {
        assert_eq!(fold("To", &[input]), *want, "{input:?}");
    }
    // Folded, a name with a tab is encoded, so that no line starts with a tab.
    let long = format!("\"{}\tb\" <a@b.c>", "x".repeat(70));
    let folded = fold("To", &[&long, "d@e.f"]);
    assert!(
        folded
            .split('\n')
            .all(|line| !line.contains('\t') && !line.starts_with('\t')),
        "{folded:?}"
    );
}
