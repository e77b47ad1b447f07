//! Untrusted input (subjects, names, addresses, header values, file names) never panics,
//! never injects a header, never puts a control character into a header raw, and never
//! produces a line longer than 998 bytes.

use djrs_mail::{EmailMessage, EmailPolicy, Error, MessageDefaults};
use proptest::prelude::*;

const BREAKS: &[char] = &[
    '\n', '\r', '\u{0b}', '\u{0c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}',
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,120}",
        "[a-zA-Zäöü€😀 ,.\"<>@()\\\\:;\\r\\n\\t]{0,300}",
        "[a-z]{900,2100}",
        "([a-zé]{1,12} ){0,200}",
        // Control characters (line breaks aside), in words long and short enough to fold.
        "[a-zé \\t\\x00\\x01\\x1f\\x7f\\x{80}\\x{9f}]{0,200}",
        "([a-z\\t\\x00\\x7f]{1,12}[ \\t]){0,40}",
    ]
}

/// Text with control characters (a tab, NUL, DEL, C0 and C1 controls): words joined by one
/// space, starting and ending with a letter, as readers drop whitespace around a header value
/// (and mailparse reads a run of spaces at a fold as one).
fn controls() -> impl Strategy<Value = String> {
    proptest::collection::vec("[a-zé😀\\t\\x00\\x01\\x1f\\x7f\\x{80}\\x{9f}]{1,30}", 1..12)
        .prop_map(|words| format!("a{}z", words.join(" ")))
}

/// Checks a message built from untrusted input: refused when it entered the message (a bad
/// address) or when rendered, or rendered safely.
fn check(msg: Result<EmailMessage, Error>, inputs: &[&str]) {
    let rendered =
        msg.and_then(|msg| msg.message_with(&MessageDefaults::default(), EmailPolicy::Smtp));
    let has_break = inputs.iter().any(|s| s.contains(BREAKS));
    match rendered {
        Ok(bytes) => {
            assert!(!has_break, "a line break in a header value was accepted");
            for line in bytes.split(|&b| b == b'\n') {
                assert!(line.len() <= 999, "a line of {} bytes", line.len());
            }
            let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
            let head = &bytes[..head_end];
            assert!(head.is_ascii(), "headers must be ASCII");
            // Every header line is a continuation starting with a space or `Name: value`, no
            // extra Bcc appeared, and no control character but a tab inside a line is there.
            for line in std::str::from_utf8(head).unwrap().split("\r\n") {
                assert!(line.starts_with(' ') || line.contains(':'), "{line:?}");
                assert!(!line.starts_with('\t'), "{line:?}");
                assert!(
                    line.bytes().all(|b| b == b'\t' || !b.is_ascii_control()),
                    "{line:?}"
                );
                assert!(!line.to_ascii_lowercase().starts_with("bcc:"), "{line:?}");
            }
        }
        // Refused: always as a bad message (a line break may be reported as a bad header, a bad
        // address or a bad header name, whichever check meets it first).
        Err(err) => assert!(
            err.is_bad_message()
                && (!has_break
                    || matches!(
                        err,
                        Error::BadHeader { .. }
                            | Error::InvalidAddress { .. }
                            | Error::InvalidHeaderName(_)
                    )),
            "{err}"
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn subjects_and_bodies(subject in text(), body in text()) {
        let msg = EmailMessage::new(subject.clone(), body).to(["a@example.com"]);
        check(msg, &[&subject]);
    }

    /// However a subject is folded and encoded, a reader decodes exactly the text given
    /// (whitespace between encoded words included).
    #[test]
    fn subjects_decode_to_what_was_given(words in proptest::collection::vec("[a-zé😀]{1,70}|[a-z]{1,12}", 1..40)) {
        let subject = words.join(" ");
        let bytes = EmailMessage::new(subject.clone(), "B").to(["a@example.com"]).unwrap().message().unwrap();
        let parsed = mailparse::parse_mail(&bytes).unwrap();
        let decoded = parsed.headers.iter().find(|h| h.get_key() == "Subject").unwrap().get_value();
        // A subject too long for the first line is folded right after `Subject:`, as Python's
        // email package does; the white space that begins the next line is not the subject's.
        prop_assert_eq!(decoded.trim_start(), subject);
    }

    /// A subject or an extra header value with control characters decodes to the text given.
    #[test]
    fn control_characters_decode_to_what_was_given(value in controls()) {
        let bytes = EmailMessage::new(value.clone(), "B")
            .to(["a@example.com"])
            .unwrap()
            .header("X-Note", value.clone())
            .message()
            .unwrap();
        let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        prop_assert!(
            bytes[..head_end].iter().all(|&b| b == b'\t' || b == b'\r' || b == b'\n' || !b.is_ascii_control()),
            "{:?}",
            String::from_utf8_lossy(&bytes[..head_end])
        );
        let parsed = mailparse::parse_mail(&bytes).unwrap();
        for key in ["Subject", "X-Note"] {
            let decoded = parsed.headers.iter().find(|h| h.get_key() == key).unwrap().get_value();
            prop_assert_eq!(&decoded, &value, "{}", key);
        }
    }

    #[test]
    fn display_names_and_addresses(name in text(), quoted in any::<bool>(), local in "[a-zA-Z0-9.+ä\\n]{1,80}", domain in "[a-zäö.\\-]{1,70}") {
        let name = if quoted { format!("\"{}\"", name.replace(['\\', '"'], "")) } else { name };
        let addr = format!("{name} <{local}@{domain}>");
        let msg = EmailMessage::new("S", "B")
            .from_email(&addr)
            .and_then(|m| m.to([&addr]))
            .and_then(|m| m.cc([format!("{local}@{domain}")]));
        check(msg, &[&addr]);
    }

    #[test]
    fn extra_headers_and_file_names(name in "[A-Za-z\\-:ä \\n]{1,30}", value in text(), filename in text()) {
        let msg = EmailMessage::new("S", "B")
            .to(["a@example.com"])
            .map(|m| m.header(name.clone(), value.clone()).attach(filename.clone(), "x", None));
        check(msg, &[&name, &value, &filename]);
    }
}

/// The case proptest found: 70 ASCII characters do not fit after `Subject: `, so the whole
/// value goes on the next line, byte for byte what Python's email package writes.
#[test]
fn a_subject_folded_after_its_colon_decodes_to_what_was_given() {
    let subject = "aaaaaaaaa a a aaaaa aaaaaa aa aa aaaaaaaaaaa aaaaa aaaaaaaaaaaa aaaaaa";
    let bytes = EmailMessage::new(subject, "B")
        .to(["a@example.com"])
        .unwrap()
        .message()
        .unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.contains(&format!("\r\nSubject:\r\n {subject}\r\n")),
        "{text}"
    );
    let parsed = mailparse::parse_mail(&bytes).unwrap();
    let decoded = parsed
        .headers
        .iter()
        .find(|h| h.get_key() == "Subject")
        .unwrap()
        .get_value();
    assert_eq!(decoded.trim_start(), subject);
}
