//! Tables for messages: what the builder accepts and what validation refuses.

use super::*;

/// The error of building and `validate()` as a short tag: the variant and the header or
/// argument.
fn refusal(msg: Result<EmailMessage>) -> String {
    match msg.and_then(|msg| msg.validate()) {
        Ok(()) => "ok".to_owned(),
        Err(Error::BadHeader { name }) => format!("bad header {name}"),
        Err(Error::InvalidHeaderName(name)) => format!("invalid name {name}"),
        Err(Error::DuplicateHeader(name)) => format!("duplicate {name}"),
        Err(Error::InvalidAddress { address, .. }) => format!("invalid address {address}"),
        Err(Error::InvalidArgument(reason)) => format!("invalid argument: {reason}"),
        Err(other) => format!("{other:?}"),
    }
}

fn msg() -> EmailMessage {
    EmailMessage::new("Subject", "Body")
        .to(["a@example.com"])
        .unwrap()
}

#[test]
fn header_injection_is_refused_everywhere() {
    let cases: Vec<(Result<EmailMessage>, &str)> = vec![
        (Ok(msg()), "ok"),
        (
            Ok(EmailMessage::new("Hi\nBcc: x@evil.example", "B")),
            "bad header Subject",
        ),
        (
            Ok(EmailMessage::new("Hi\u{2028}there", "B")),
            "bad header Subject",
        ),
        (
            Ok(msg().header("X-Tag", "a\r\nBcc: x@evil.example")),
            "bad header X-Tag",
        ),
        (Ok(msg().header("X-Tag", "a\u{85}b")), "bad header X-Tag"),
        (Ok(msg().header("X-Tag\n", "v")), "bad header X-Tag\n"),
        (Ok(msg().header("X-Tag", "plain value")), "ok"),
        (
            msg().to(["a@example.com\nBcc: x@evil.example"]),
            "bad header To",
        ),
        (msg().bcc(["a@example.com\rX: y"]), "bad header Bcc"),
        (
            msg().bcc(["not an address"]),
            "invalid address not an address",
        ),
        (
            Ok(msg().attach("a\nb.txt", "text", Some("text/plain"))),
            "bad header Content-Disposition",
        ),
        (Ok(msg().attach("ok.txt", "text", Some("text/plain"))), "ok"),
        (
            Ok(msg().attach("x.bin", b"\x00".as_slice(), Some("text/plain\r\nX: y"))),
            "invalid argument: invalid MIME type \"text/plain\\r\\nX: y\": expected type/subtype",
        ),
        (
            Ok(msg().attach_alternative("<p>x</p>", "text/html\nX: y")),
            "invalid argument: invalid MIME type \"text/html\\nX: y\": expected type/subtype",
        ),
        (Ok(msg().attach_alternative("<p>x</p>", "text/html")), "ok"),
        // An attached message is checked too.
        (
            Ok(msg().attach("fwd.eml", EmailMessage::new("a\nb", "B"), None)),
            "bad header Subject",
        ),
        (Ok(msg().attach("fwd.eml", msg(), None)), "ok"),
    ];
    for (message, want) in cases {
        let shown = format!("{message:?}");
        assert_eq!(refusal(message), want, "{shown}");
    }
}

#[test]
fn addresses_are_parsed_when_they_enter() {
    /// Addresses given, then the ones kept or the refusal.
    type Case<'a> = (&'a [&'a str], Result<&'a [&'a str], &'a str>);
    let cases: &[Case<'_>] = &[
        (&["a@example.com"], Ok(&["a@example.com"])),
        (&["", "a@example.com", ""], Ok(&["a@example.com"])),
        (&[], Ok(&[])),
        (&["a@example.com", "bad@"], Err("invalid address bad@")),
        (
            &["a@example.com\r\nBcc: x@example.com"],
            Err("bad header Cc"),
        ),
    ];
    for (given, want) in cases {
        let got = EmailMessage::new("S", "B").cc(given.iter().copied());
        match (got, want) {
            (Ok(msg), Ok(want)) => assert_eq!(msg.cc, *want, "{given:?}"),
            (Err(err), Err(want)) => assert_eq!(refusal(Err(err)), *want, "{given:?}"),
            (got, want) => panic!("{given:?}: {got:?}, expected {want:?}"),
        }
    }
    assert_eq!(
        EmailMessage::new("S", "B")
            .from_email("")
            .unwrap()
            .from_email,
        None
    );
}

#[test]
fn extra_headers_are_checked() {
    let cases: &[(&str, &str)] = &[
        ("X-Ok", "ok"),
        ("!", "ok"),
        ("~", "ok"),
        ("", "invalid name "),
        ("X Tag", "invalid name X Tag"),
        ("X:Tag", "invalid name X:Tag"),
        ("X-\u{7f}", "invalid name X-\u{7f}"),
        ("X-Tägg", "invalid name X-Tägg"),
        ("X-Tag\r", "bad header X-Tag\r"),
        ("Subject", "duplicate Subject"),
        ("content-type", "duplicate Content-Type"),
        ("MIME-Version", "duplicate MIME-Version"),
        (
            "BCC",
            "invalid argument: a Bcc header would reveal the blind copies: put the addresses \
             in `bcc`",
        ),
    ];
    for (name, want) in cases {
        assert_eq!(refusal(Ok(msg().header(*name, "v"))), *want, "{name:?}");
    }
    let twice = msg().header("X-Tag", "1").header("x-tag", "2");
    assert_eq!(refusal(Ok(twice)), "duplicate x-tag");
}
