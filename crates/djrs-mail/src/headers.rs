//! The header block of a message as Django 6.0 writes it: `Subject`, `From`, `To`, `Cc`,
//! `Reply-To`, a generated `Date` and `Message-ID`, then the extra headers, each checked (no
//! line breaks, no repeated or generated-only names, no `Bcc`) and folded by [`crate::encode`]
//! and [`crate::address`].

use std::sync::atomic::{AtomicU64, Ordering};

use crate::address::{fold_address_header, fold_mailboxes};
use crate::encode::{fold_unstructured, has_line_break};
use crate::error::{Error, Result};
use crate::message::{EmailMessage, MessageDefaults};

/// Lower-cased header names that hold addresses.
const ADDRESS_HEADERS: &[&str] = &[
    "from",
    "to",
    "cc",
    "reply-to",
    "sender",
    "resent-from",
    "resent-to",
    "resent-cc",
    "resent-sender",
];

/// Headers that djrs writes itself and that extra headers may not repeat.
const GENERATED_ONLY: &[&str] = &[
    "subject",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

pub(crate) fn header_block(msg: &EmailMessage, defaults: &MessageDefaults) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if has_line_break(&msg.subject) {
        return Err(Error::BadHeader {
            name: "Subject".to_owned(),
        });
    }
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in &msg.headers {
        check_header_name(name)?;
        let lower = name.to_ascii_lowercase();
        if has_line_break(value) {
            return Err(Error::BadHeader { name: name.clone() });
        }
        if GENERATED_ONLY.contains(&lower.as_str()) {
            return Err(Error::DuplicateHeader(canonical(&lower)));
        }
        if lower == "bcc" {
            return Err(Error::InvalidArgument(
                "a Bcc header would reveal the blind copies: put the addresses in `bcc`".into(),
            ));
        }
        if seen.contains(&lower) {
            return Err(Error::DuplicateHeader(name.clone()));
        }
        seen.push(lower);
    }
    let extra = |key: &str| {
        msg.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    };
    out.push(fold_unstructured("Subject", &msg.subject));
    out.push(match (extra("From"), &msg.from_email) {
        (Some(value), _) => fold_address_header("From", &split_addresses(value))?,
        (None, Some(from)) => fold_mailboxes("From", &[Some(from)])?,
        (None, None) => {
            fold_address_header("From", std::slice::from_ref(&defaults.default_from_email))?
        }
    });
    for (name, list) in [
        ("To", &msg.to),
        ("Cc", &msg.cc),
        ("Reply-To", &msg.reply_to),
    ] {
        if list.is_empty() {
            continue;
        }
        out.push(match extra(name) {
            Some(value) => fold_address_header(name, &split_addresses(value))?,
            None => fold_mailboxes(name, &list.iter().map(Some).collect::<Vec<_>>())?,
        });
    }
    if extra("Date").is_none() {
        let date = if defaults.use_localtime {
            chrono::Local::now()
                .format("%a, %d %b %Y %H:%M:%S %z")
                .to_string()
        } else {
            chrono::Utc::now()
                .format("%a, %d %b %Y %H:%M:%S -0000")
                .to_string()
        };
        out.push(format!("Date: {date}"));
    }
    if extra("Message-ID").is_none() {
        out.push(format!("Message-ID: {}", make_msgid(&defaults.dns_name)));
    }
    for (name, value) in &msg.headers {
        let lower = name.to_ascii_lowercase();
        if matches!(lower.as_str(), "from" | "to" | "cc" | "reply-to") {
            continue;
        }
        if ADDRESS_HEADERS.contains(&lower.as_str()) {
            out.push(fold_address_header(name, &split_addresses(value))?);
        } else {
            out.push(fold_unstructured(name, value));
        }
    }
    Ok(out)
}

fn canonical(lower: &str) -> String {
    lower
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
        .replace("Mime", "MIME")
}

/// Splits a header value holding several addresses at commas outside quotes and angles.
fn split_addresses(value: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut escaped, mut angle) = (false, false, false);
    for c in value.chars() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if !quoted && c == '<' {
            angle = true;
        } else if !quoted && c == '>' {
            angle = false;
        } else if !quoted && !angle && c == ',' {
            items.push(current.trim().to_owned());
            current.clear();
            continue;
        }
        current.push(c);
    }
    items.push(current.trim().to_owned());
    items
}

pub(crate) fn check_header_name(name: &str) -> Result<()> {
    if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
        if has_line_break(name) {
            return Err(Error::BadHeader {
                name: name.to_owned(),
            });
        }
        return Err(Error::InvalidHeaderName(name.to_owned()));
    }
    Ok(())
}

/// Python's `make_msgid(domain=DNS_NAME)`: `<centiseconds.pid.random@domain>`.
fn make_msgid(domain: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let centis = chrono::Utc::now().timestamp_millis() / 10;
    let random = rand::random::<u64>() ^ COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("<{centis}.{}.{random}@{domain}>", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_written_in_canonical_case() {
        for (lower, want) in [
            ("subject", "Subject"),
            ("content-type", "Content-Type"),
            ("content-transfer-encoding", "Content-Transfer-Encoding"),
            ("mime-version", "MIME-Version"),
            ("x-", "X-"),
            ("", ""),
        ] {
            assert_eq!(canonical(lower), want, "{lower:?}");
        }
    }

    #[test]
    fn address_values_split_at_commas_outside_quotes_and_angles() {
        let cases: &[(&str, &[&str])] = &[
            ("a@example.com", &["a@example.com"]),
            (
                "a@example.com, b@example.com",
                &["a@example.com", "b@example.com"],
            ),
            (
                "\"Doe, John\" <j@example.com>, b@example.com",
                &["\"Doe, John\" <j@example.com>", "b@example.com"],
            ),
            (
                "\"a \\\" , b\" <a@example.com>",
                &["\"a \\\" , b\" <a@example.com>"],
            ),
            ("<odd,local@example.com>", &["<odd,local@example.com>"]),
            ("a@example.com,", &["a@example.com", ""]),
            ("", &[""]),
        ];
        for (value, want) in cases {
            assert_eq!(split_addresses(value), *want, "{value:?}");
        }
    }

    #[test]
    fn header_names_are_printable_ascii_without_colons() {
        let cases: &[(&str, &str)] = &[
            ("X-Tag", "ok"),
            ("!", "ok"),
            ("", "invalid"),
            ("X Tag", "invalid"),
            ("X:Tag", "invalid"),
            ("X-T\u{e4}g", "invalid"),
            ("X-Tag\n", "bad header"),
            ("X-Tag\r", "bad header"),
        ];
        for (name, want) in cases {
            let got = match check_header_name(name) {
                Ok(()) => "ok",
                Err(Error::InvalidHeaderName(_)) => "invalid",
                Err(Error::BadHeader { .. }) => "bad header",
                Err(other) => panic!("{name:?}: {other:?}"),
            };
            assert_eq!(got, *want, "{name:?}");
        }
    }

    #[test]
    fn message_ids_are_unique_and_end_with_the_domain() {
        let (a, b) = (make_msgid("example.com"), make_msgid("example.com"));
        assert_ne!(a, b);
        for id in [a, b] {
            assert!(id.starts_with('<') && id.ends_with("@example.com>"), "{id}");
            assert_eq!(
                id.matches('.').count(),
                3,
                "{id}: centiseconds.pid.random@domain"
            );
        }
    }

    #[test]
    fn the_block_has_django_s_order_and_extra_headers_override() {
        let defaults = MessageDefaults {
            default_from_email: "web@example.com".into(),
            dns_name: "example.com".into(),
            use_localtime: false,
        };
        let names = |msg: &EmailMessage| -> Vec<String> {
            header_block(msg, &defaults)
                .unwrap()
                .iter()
                .map(|h| h.split_once(':').unwrap().0.to_owned())
                .collect()
        };
        let plain = EmailMessage::new("S", "B").to(["a@example.com"]).unwrap();
        assert_eq!(
            names(&plain),
            ["Subject", "From", "To", "Date", "Message-ID"]
        );
        let full = EmailMessage::new("S", "B")
            .to(["a@example.com"])
            .and_then(|m| m.cc(["c@example.com"]))
            .and_then(|m| m.reply_to(["r@example.com"]))
            .and_then(|m| m.bcc(["hidden@example.com"]))
            .unwrap()
            .header("Message-ID", "<fixed@example.com>")
            .header("To", "Override <o@example.com>")
            .header("X-Tag", "v");
        assert_eq!(
            names(&full),
            [
                "Subject",
                "From",
                "To",
                "Cc",
                "Reply-To",
                "Date",
                "Message-ID",
                "X-Tag"
            ]
        );
        let block = header_block(&full, &defaults).unwrap();
        assert!(
            block.contains(&"To: Override <o@example.com>".to_owned()),
            "{block:?}"
        );
        assert!(
            block.contains(&"From: web@example.com".to_owned()),
            "{block:?}"
        );
        assert!(!block.iter().any(|h| h.contains("hidden@")), "{block:?}");
    }
}
