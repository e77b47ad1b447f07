//! Inline images over real SMTP: messages with `cid:` images are sent to aiosmtpd, and what the
//! server received is parsed twice, by mailparse and by Python's own email package (the
//! venv's Python, `email.policy.default`), checking the MIME tree
//! (`multipart/alternative(text, multipart/related(html, image…))`, inside `multipart/mixed`
//! with attachments), the `Content-ID` and `Content-Disposition: inline` headers, the image
//! bytes and the HTML's `cid:` reference.
#![cfg(feature = "smtp")]

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Options, SmtpServer};
use djrs_mail::{ContentId, EmailMessage, Error, InlineImage, Mailer, SmtpBackend, SmtpConfig};

/// A PNG's first bytes and every byte value, so a transfer-encoding slip shows.
fn image_bytes() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(0..=255_u8);
    bytes
}

/// Sends `message` through aiosmtpd and returns what the server received.
async fn send_and_receive(message: &EmailMessage) -> Vec<u8> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let server = SmtpServer::start(Options::default());
        let config = SmtpConfig::new("127.0.0.1", server.port).timeout(Duration::from_secs(10));
        let mailer = Mailer::new(SmtpBackend::new(config).unwrap());
        assert_eq!(message.send(&mailer).await.unwrap(), 1);
        let mut received = server.messages();
        assert_eq!(received.len(), 1);
        received.remove(0).data
    })
    .await
    .expect("bounded")
}

/// Python's reading of the message: one JSON object per part, depth first.
const PYTHON_WALK: &str = r#"
import base64, email, email.policy, json, sys
msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
parts = []
for part in msg.walk():
    payload = None
    if not part.is_multipart():
        payload = base64.b64encode(part.get_payload(decode=True)).decode()
    parts.append({
        "type": part.get_content_type(),
        "related_type": part.get_param("type") if part.get_content_type() == "multipart/related" else None,
        "cid": part.get("Content-ID"),
        "disposition": part.get_content_disposition(),
        "filename": part.get_filename(),
        "payload": payload,
        "defects": [type(d).__name__ for d in part.defects],
    })
html = msg.get_body(preferencelist=("html",))
related = msg.get_body(preferencelist=("related",))
print(json.dumps({
    "subject": str(msg["Subject"]),
    "parts": parts,
    "html": html.get_content() if html is not None else None,
    "related_html": related is not None,
}))
"#;

fn python_walk(data: &[u8]) -> serde_json::Value {
    let mut child = Command::new(common::python())
        .arg("-c")
        .arg(PYTHON_WALK)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "Python could not parse the message");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The MIME types of a parsed tree, depth first, indented by depth.
fn tree(part: &mailparse::ParsedMail<'_>, depth: usize, out: &mut Vec<String>) {
    out.push(format!("{}{}", "  ".repeat(depth), part.ctype.mimetype));
    for sub in &part.subparts {
        tree(sub, depth + 1, out);
    }
}

fn header<'a>(part: &'a mailparse::ParsedMail<'a>, name: &str) -> Option<String> {
    part.headers
        .iter()
        .find(|h| h.get_key().eq_ignore_ascii_case(name))
        .map(|h| h.get_value())
}

#[tokio::test]
async fn text_html_image_and_attachment_arrive_as_mixed_alternative_related() {
    let logo = InlineImage::new("logo.png", image_bytes(), None).unwrap();
    let chart = InlineImage::new("Grüße chart.gif", b"GIF89a".to_vec(), None)
        .unwrap()
        .content_id(ContentId::new("chart.1@shop.example").unwrap());
    let html = format!(
        r#"<p>Hello</p><img src="{}" alt="logo"><img src="{}">"#,
        logo.url(),
        chart.url()
    );
    let message = EmailMessage::new("Your order", "Hello (text)\n")
        .from_email("shop@example.com")
        .unwrap()
        .to(["ann@example.com"])
        .unwrap()
        .attach_alternative(html, "text/html")
        .inline_image(logo.clone())
        .inline_image(chart.clone())
        .attach("invoice.txt", "Total: 42", None);
    let data = send_and_receive(&message).await;

    // mailparse's reading.
    let parsed = mailparse::parse_mail(&data).unwrap();
    let mut shape = Vec::new();
    tree(&parsed, 0, &mut shape);
    assert_eq!(
        shape,
        [
            "multipart/mixed",
            "  multipart/alternative",
            "    text/plain",
            "    multipart/related",
            "      text/html",
            "      image/png",
            "      image/gif",
            "  text/plain",
        ]
    );
    let alternative = &parsed.subparts[0];
    assert_eq!(
        alternative.subparts[0].get_body().unwrap(),
        "Hello (text)\r\n"
    );
    let related = &alternative.subparts[1];
    assert_eq!(related.ctype.params["type"], "text/html");
    let html = related.subparts[0].get_body().unwrap();
    let png = &related.subparts[1];
    assert_eq!(
        header(png, "Content-ID").unwrap(),
        format!("<{}>", logo.content_id)
    );
    assert_eq!(
        png.get_content_disposition().disposition,
        mailparse::DispositionType::Inline
    );
    assert_eq!(png.get_content_disposition().params["filename"], "logo.png");
    assert_eq!(png.get_body_raw().unwrap(), image_bytes());
    assert!(html.contains(&format!(r#"src="cid:{}""#, logo.content_id)));
    let gif = &related.subparts[2];
    assert_eq!(header(gif, "Content-ID").unwrap(), "<chart.1@shop.example>");
    assert_eq!(gif.get_body_raw().unwrap(), b"GIF89a");
    assert!(html.contains(r#"src="cid:chart.1@shop.example""#));
    assert_eq!(
        parsed.subparts[1].get_content_disposition().disposition,
        mailparse::DispositionType::Attachment
    );

    // Python's reading, with the file name decoded from RFC 2231.
    let py = python_walk(&data);
    let parts = py["parts"].as_array().unwrap();
    let types: Vec<&str> = parts.iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "multipart/related",
            "text/html",
            "image/png",
            "image/gif",
            "text/plain",
        ]
    );
    for part in parts {
        assert_eq!(part["defects"], serde_json::json!([]), "{part}");
    }
    assert_eq!(parts[3]["related_type"], "text/html");
    let png = &parts[5];
    assert_eq!(png["cid"], format!("<{}>", logo.content_id));
    assert_eq!(png["disposition"], "inline");
    assert_eq!(png["filename"], "logo.png");
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(
        b64.decode(png["payload"].as_str().unwrap()).unwrap(),
        image_bytes()
    );
    let gif = &parts[6];
    assert_eq!(gif["cid"], "<chart.1@shop.example>");
    assert_eq!(gif["filename"], "Grüße chart.gif");
    assert_eq!(gif["disposition"], "inline");
    assert_eq!(parts[7]["disposition"], "attachment");
    let py_html = py["html"].as_str().unwrap();
    assert!(py_html.contains(&logo.url()) && py_html.contains(&chart.url()));
    assert_eq!(py["related_html"], true);
}

#[tokio::test]
async fn an_html_body_with_an_image_is_a_related_part_alone() {
    let logo = InlineImage::new("logo.png", image_bytes(), None).unwrap();
    let message = EmailMessage::new("HTML only", format!(r#"<img src="{}">"#, logo.url()))
        .content_subtype("html")
        .from_email("shop@example.com")
        .unwrap()
        .to(["ann@example.com"])
        .unwrap()
        .inline_image(logo.clone());
    let data = send_and_receive(&message).await;
    let parsed = mailparse::parse_mail(&data).unwrap();
    let mut shape = Vec::new();
    tree(&parsed, 0, &mut shape);
    assert_eq!(shape, ["multipart/related", "  text/html", "  image/png"]);
    assert_eq!(header(&parsed, "MIME-Version").as_deref(), Some("1.0"));
    assert_eq!(
        header(&parsed.subparts[1], "Content-ID").unwrap(),
        format!("<{}>", logo.content_id)
    );
    assert_eq!(parsed.subparts[1].get_body_raw().unwrap(), image_bytes());

    let py = python_walk(&data);
    let parts = py["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[2]["disposition"], "inline");
    assert!(py["html"].as_str().unwrap().contains(&logo.url()));
}

#[test]
fn a_message_without_html_or_with_bad_images_is_refused() {
    let logo = || InlineImage::new("logo.png", vec![1], None).unwrap();
    let base = || {
        EmailMessage::new("S", "text")
            .to(["ann@example.com"])
            .unwrap()
    };

    // No HTML to show the image.
    let err = base().inline_image(logo()).message().unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    // A non-HTML alternative is no place for it either.
    let err = base()
        .attach_alternative("x", "text/markdown")
        .inline_image(logo())
        .message()
        .unwrap_err();
    assert!(err.is_bad_message(), "{err:?}");

    // Two images with one id.
    let id = ContentId::new("same@example.com").unwrap();
    let err = base()
        .attach_alternative("<p>x</p>", "text/html")
        .inline_image(logo().content_id(id.clone()))
        .inline_image(logo().content_id(id))
        .message()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidContentId { .. }), "{err:?}");

    // Fields assigned directly are checked when the message is rendered.
    let mut image = logo();
    image.filename = Some("x.png\r\nBcc: victim@example.com".to_owned());
    let err = base()
        .attach_alternative("<p>x</p>", "text/html")
        .inline_image(image)
        .message()
        .unwrap_err();
    assert!(matches!(err, Error::BadHeader { .. }), "{err:?}");
    let mut image = logo();
    image.mimetype = "text/html".to_owned();
    let err = base()
        .attach_alternative("<p>x</p>", "text/html")
        .inline_image(image)
        .validate()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");

    // A deserialised message gets the same checks: a bad Content-ID does not even parse.
    let good = base()
        .attach_alternative("<p>x</p>", "text/html")
        .inline_image(logo());
    let json = serde_json::to_string(&good).unwrap();
    let back: EmailMessage = serde_json::from_str(&json).unwrap();
    assert_eq!(back, good);
    let id = good.inline_images[0].content_id.as_str();
    let tampered = json.replace(id, "a@b\\r\\nBcc: x@example.com");
    assert!(serde_json::from_str::<EmailMessage>(&tampered).is_err());
}

#[test]
fn messages_without_inline_images_serialise_as_before() {
    let msg = EmailMessage::new("S", "B");
    let json = serde_json::to_value(&msg).unwrap();
    assert!(json.get("inline_images").is_none());
    let back: EmailMessage = serde_json::from_value(json).unwrap();
    assert!(back.inline_images.is_empty());
}
