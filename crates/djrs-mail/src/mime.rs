//! The MIME tree of a message as Python's email package builds it for Django 6.0: a text part,
//! wrapped in `multipart/alternative` for alternatives and in `multipart/mixed` for
//! attachments (Python's `_make_multipart`), attached messages as `message/rfc822`, and the
//! writing of the tree with LF or CRLF line ends.

use crate::encode::{self, Cte, fold_with_params};
use crate::error::{Error, Result};
use crate::headers::header_block;
use crate::inline::InlineImage;
use crate::message::{AttachmentContent, EmailMessage, EmailPolicy, MessageDefaults};

/// Which HTML a message's inline images go beside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelatedHtml {
    /// The `text/html` alternative at this index.
    Alternative(usize),
    /// The body, whose subtype is `html`.
    Body,
}

/// The HTML that shows the inline images: the first `text/html` alternative, or else an HTML
/// body; `None` when the message has neither.
pub(crate) fn related_html(msg: &EmailMessage) -> Option<RelatedHtml> {
    msg.alternatives
        .iter()
        .position(|a| a.mimetype.eq_ignore_ascii_case("text/html"))
        .map(RelatedHtml::Alternative)
        .or_else(|| {
            msg.content_subtype
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("html"))
                .then_some(RelatedHtml::Body)
        })
}

/// The line separator an [`EmailPolicy`] writes inside encoded bodies.
fn linesep(policy: EmailPolicy) -> &'static str {
    match policy {
        EmailPolicy::Smtp => "\r\n",
        EmailPolicy::Default => "\n",
    }
}

/// The message's tree: checked, with its header block on the root part.
pub(crate) fn render(
    msg: &EmailMessage,
    defaults: &MessageDefaults,
    policy: EmailPolicy,
) -> Result<Part> {
    msg.validate()?;
    let headers = header_block(msg, defaults)?;
    let linesep = linesep(policy);
    let charset = charset_name(msg.encoding.as_deref().unwrap_or("utf-8"))?;
    let subtype = msg.content_subtype.as_deref().unwrap_or("plain");
    let related = if msg.inline_images.is_empty() {
        None
    } else {
        related_html(msg)
    };
    let mut root = Part::default();
    if !msg.body.is_empty()
        || (msg.attachments.is_empty()
            && msg.alternatives.is_empty()
            && msg.inline_images.is_empty())
        || related == Some(RelatedHtml::Body)
    {
        let part = text_part(&msg.body, subtype, charset, linesep)?;
        root = part;
        root.headers.push("MIME-Version: 1.0".to_owned());
        if related == Some(RelatedHtml::Body) {
            root = make_related(root, &msg.inline_images);
        }
    }
    if !msg.alternatives.is_empty() {
        root = make_multipart(root, "alternative", &[]);
        for (i, alternative) in msg.alternatives.iter().enumerate() {
            let mut part = content_part(
                &alternative.content,
                &alternative.mimetype,
                linesep,
                defaults,
                policy,
            )?;
            part.headers.push("MIME-Version: 1.0".to_owned());
            if related == Some(RelatedHtml::Alternative(i)) {
                part = make_related(part, &msg.inline_images);
            }
            root.push_child(part);
        }
    }
    if !msg.attachments.is_empty() {
        root = make_multipart(root, "mixed", &[]);
        for attachment in &msg.attachments {
            let mut part = content_part(
                &attachment.content,
                &attachment.mimetype,
                linesep,
                defaults,
                policy,
            )?;
            match &attachment.filename {
                Some(filename) => {
                    part.headers.push(fold_with_params(
                        "Content-Disposition",
                        "attachment",
                        &[("filename", filename)],
                    ));
                    part.headers.push("MIME-Version: 1.0".to_owned());
                }
                None => {
                    part.headers.push("MIME-Version: 1.0".to_owned());
                    part.headers
                        .push("Content-Disposition: attachment".to_owned());
                }
            }
            root.push_child(part);
        }
    }
    root.headers.extend(headers);
    Ok(root)
}

/// Python's `make_related` on an HTML part, then `add_related` for each image: the HTML
/// becomes the first part of a `multipart/related` (RFC 2387, with its `type` parameter) and
/// each image follows with its `Content-ID` and `Content-Disposition: inline`.
fn make_related(html: Part, images: &[InlineImage]) -> Part {
    let mut related = make_multipart(html, "related", &[("type", "text/html")]);
    for image in images {
        let mut part = bytes_part(&image.content, &image.mimetype);
        match &image.filename {
            Some(filename) => part.headers.push(fold_with_params(
                "Content-Disposition",
                "inline",
                &[("filename", filename)],
            )),
            None => part.headers.push("Content-Disposition: inline".to_owned()),
        }
        part.headers
            .push(format!("Content-ID: <{}>", image.content_id.as_str()));
        part.headers.push("MIME-Version: 1.0".to_owned());
        related.push_child(part);
    }
    related
}

pub(crate) fn check_mimetype(mimetype: &str) -> Result<()> {
    let valid = mimetype.split_once('/').is_some_and(|(main, sub)| {
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
        };
        token(main) && token(sub)
    });
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidArgument(
            format!("invalid MIME type {mimetype:?}: expected type/subtype").into(),
        ))
    }
}

fn charset_name(encoding: &str) -> Result<&'static str> {
    match encoding.to_ascii_lowercase().replace('_', "-").as_str() {
        "utf-8" | "utf8" => Ok("utf-8"),
        "iso-8859-1" | "latin-1" | "latin1" | "iso8859-1" => Ok("iso-8859-1"),
        "us-ascii" | "ascii" => Ok("us-ascii"),
        _ => Err(Error::InvalidArgument(
            format!("unsupported encoding {encoding:?}: use utf-8, iso-8859-1 or us-ascii").into(),
        )),
    }
}

fn encode_charset(text: &str, charset: &str) -> Result<Vec<u8>> {
    match charset {
        "utf-8" => Ok(text.as_bytes().to_vec()),
        _ => {
            let limit = if charset == "us-ascii" { 0x7f } else { 0xff };
            text.chars()
                .map(|c| {
                    u8::try_from(u32::from(c))
                        .ok()
                        .filter(|b| u32::from(*b) <= limit)
                })
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| {
                    Error::InvalidArgument(
                        format!("the body cannot be encoded as {charset}").into(),
                    )
                })
        }
    }
}

fn text_part(text: &str, subtype: &str, charset: &str, linesep: &str) -> Result<Part> {
    if !subtype
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-+.".contains(&b))
        || subtype.is_empty()
    {
        return Err(Error::InvalidArgument(
            format!("invalid content subtype {subtype:?}").into(),
        ));
    }
    let bytes = encode_charset(text, charset)?;
    let (cte, payload) = encode::encode_text(&bytes, linesep);
    Ok(Part {
        headers: vec![
            fold_with_params(
                "Content-Type",
                &format!("text/{subtype}"),
                &[("charset", charset)],
            ),
            format!("Content-Transfer-Encoding: {}", cte.as_str()),
        ],
        body: Body::Leaf(payload),
    })
}

fn content_part(
    content: &AttachmentContent,
    mimetype: &str,
    linesep: &str,
    defaults: &MessageDefaults,
    policy: EmailPolicy,
) -> Result<Part> {
    check_mimetype(mimetype)?;
    let (main, sub) = mimetype
        .split_once('/')
        .unwrap_or(("application", "octet-stream"));
    match content {
        AttachmentContent::Text(text) if main == "text" => text_part(text, sub, "utf-8", linesep),
        AttachmentContent::Text(text) => Ok(bytes_part(text.as_bytes(), mimetype)),
        AttachmentContent::Bytes(bytes) => Ok(bytes_part(bytes, mimetype)),
        AttachmentContent::Message(inner) => {
            let inner_part = render(inner, defaults, policy)?;
            Ok(Part {
                headers: vec![
                    format!("Content-Type: {mimetype}"),
                    format!("Content-Transfer-Encoding: {}", Cte::EightBit.as_str()),
                ],
                body: Body::Message(Box::new(inner_part)),
            })
        }
    }
}

fn bytes_part(bytes: &[u8], mimetype: &str) -> Part {
    Part {
        headers: vec![
            format!("Content-Type: {mimetype}"),
            "Content-Transfer-Encoding: base64".to_owned(),
        ],
        body: Body::Leaf(encode::base64_lines(bytes)),
    }
}

/// Python's `_make_multipart`: existing `Content-*` headers and content move into a first
/// subpart; the other headers stay.
/// `root` as the first child of a new `multipart/{subtype}` whose `Content-Type` carries
/// `params` and then the boundary.
fn make_multipart(mut root: Part, subtype: &str, params: &[(&str, &str)]) -> Part {
    let (content, keep): (Vec<String>, Vec<String>) = root
        .headers
        .drain(..)
        .partition(|h| h.to_ascii_lowercase().starts_with("content-"));
    let mut children = Vec::new();
    if !content.is_empty() {
        children.push(Part {
            headers: content,
            body: std::mem::replace(&mut root.body, Body::Leaf(Vec::new())),
        });
    }
    let boundary = make_boundary();
    let mut headers = keep;
    let mut params = params.to_vec();
    params.push(("boundary", &boundary));
    headers.push(fold_with_params(
        "Content-Type",
        &format!("multipart/{subtype}"),
        &params,
    ));
    Part {
        headers,
        body: Body::Multi { boundary, children },
    }
}

fn make_boundary() -> String {
    let n: u64 = rand::random::<u64>() % 10_000_000_000_000_000_000;
    format!("==============={n:019}==")
}

pub(crate) fn to_crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 40);
    for &b in data {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

#[derive(Debug)]
enum Body {
    Leaf(Vec<u8>),
    Multi {
        boundary: String,
        children: Vec<Part>,
    },
    Message(Box<Part>),
}

#[derive(Debug)]
pub(crate) struct Part {
    headers: Vec<String>,
    body: Body,
}

impl Default for Part {
    fn default() -> Self {
        Self {
            headers: Vec::new(),
            body: Body::Leaf(Vec::new()),
        }
    }
}

impl Part {
    /// Adds a subpart; `make_multipart` made this part a multipart, so it always has room.
    fn push_child(&mut self, child: Part) {
        if let Body::Multi { children, .. } = &mut self.body {
            children.push(child);
        }
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        for header in &self.headers {
            out.extend_from_slice(header.as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        match &self.body {
            Body::Leaf(payload) => out.extend_from_slice(payload),
            Body::Message(inner) => inner.write(out),
            Body::Multi { boundary, children } => {
                for (i, child) in children.iter().enumerate() {
                    if i > 0 {
                        out.push(b'\n');
                    }
                    out.extend_from_slice(format!("--{boundary}\n").as_bytes());
                    child.write(out);
                }
                if children.is_empty() {
                    out.extend_from_slice(format!("--{boundary}\n").as_bytes());
                }
                out.extend_from_slice(format!("\n--{boundary}--\n").as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The part's header lines and body, written with LF line ends.
    fn written(part: &Part) -> String {
        let mut out = Vec::new();
        part.write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn mimetypes_are_checked() {
        for (mimetype, ok) in [
            ("text/plain", true),
            ("application/vnd.ms-excel", true),
            ("a!#$&-^_.+/b!#$&-^_.+", true),
            ("text", false),
            ("/plain", false),
            ("text/", false),
            ("text/pl ain", false),
            ("text/plain;charset=utf-8", false),
            ("t\u{eb}xt/plain", false),
        ] {
            assert_eq!(check_mimetype(mimetype).is_ok(), ok, "{mimetype:?}");
        }
    }

    #[test]
    fn charsets_have_python_s_names() {
        for (given, want) in [
            ("utf-8", Some("utf-8")),
            ("UTF8", Some("utf-8")),
            ("utf_8", Some("utf-8")),
            ("latin-1", Some("iso-8859-1")),
            ("ISO8859-1", Some("iso-8859-1")),
            ("ascii", Some("us-ascii")),
            ("koi8-r", None),
            ("", None),
        ] {
            assert_eq!(charset_name(given).ok(), want, "{given:?}");
        }
    }

    #[test]
    fn text_is_encoded_in_its_charset_or_refused() {
        let cases: &[(&str, &str, Option<&[u8]>)] = &[
            ("caf\u{e9}", "utf-8", Some(b"caf\xc3\xa9")),
            ("caf\u{e9}", "iso-8859-1", Some(b"caf\xe9")),
            ("cafe", "us-ascii", Some(b"cafe")),
            ("caf\u{e9}", "us-ascii", None),
            ("\u{20ac}", "iso-8859-1", None),
        ];
        for (text, charset, want) in cases {
            assert_eq!(
                encode_charset(text, charset).ok().as_deref(),
                *want,
                "{text:?} {charset}"
            );
        }
    }

    #[test]
    fn leaf_parts_carry_their_type_and_transfer_encoding() {
        let cases: &[(Part, &str)] = &[
            (
                text_part("Hi", "plain", "utf-8", "\n").unwrap(),
                "Content-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: 7bit\n\nHi\n",
            ),
            (
                text_part("<p>Hi</p>", "html", "utf-8", "\n").unwrap(),
                "Content-Type: text/html; charset=\"utf-8\"\nContent-Transfer-Encoding: 7bit\n\n<p>Hi</p>\n",
            ),
            (
                bytes_part(b"\x00\x01", "application/octet-stream"),
                "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAE=\n",
            ),
        ];
        for (part, want) in cases {
            assert_eq!(written(part), *want);
        }
        assert!(text_part("x", "pl ain", "utf-8", "\n").is_err());
        assert!(text_part("x", "", "utf-8", "\n").is_err());
    }

    #[test]
    fn make_multipart_moves_content_headers_into_the_first_child() {
        let mut root = text_part("Hi", "plain", "utf-8", "\n").unwrap();
        root.headers.push("MIME-Version: 1.0".to_owned());
        root.headers.insert(0, "Subject: S".to_owned());
        let multi = make_multipart(root, "mixed", &[]);
        let Body::Multi { boundary, children } = &multi.body else {
            panic!("not a multipart: {multi:?}");
        };
        assert_eq!(
            multi.headers,
            [
                "Subject: S".to_owned(),
                "MIME-Version: 1.0".to_owned(),
                format!("Content-Type: multipart/mixed; boundary=\"{boundary}\""),
            ]
        );
        assert_eq!(children.len(), 1);
        assert_eq!(
            children[0].headers,
            [
                "Content-Type: text/plain; charset=\"utf-8\"",
                "Content-Transfer-Encoding: 7bit"
            ]
        );
        assert_eq!(boundary.len(), 36);
        assert!(boundary.starts_with("===============") && boundary.ends_with("=="));
    }

    #[test]
    fn a_multipart_is_written_between_its_boundaries() {
        let part = Part {
            headers: vec!["Content-Type: multipart/mixed".to_owned()],
            body: Body::Multi {
                boundary: "XX".to_owned(),
                children: vec![
                    bytes_part(b"a", "application/x-a"),
                    bytes_part(b"b", "application/x-b"),
                ],
            },
        };
        assert_eq!(
            written(&part),
            "Content-Type: multipart/mixed\n\n--XX\n\
             Content-Type: application/x-a\nContent-Transfer-Encoding: base64\n\nYQ==\n\n--XX\n\
             Content-Type: application/x-b\nContent-Transfer-Encoding: base64\n\nYg==\n\n--XX--\n"
        );
    }

    #[test]
    fn inline_images_go_beside_the_html_in_a_related_part() {
        use crate::inline::{ContentId, InlineImage};

        let image = InlineImage::new("Grüße.png", vec![0_u8, 1], None)
            .unwrap()
            .content_id(ContentId::new("logo@example.com").unwrap());
        // (the message, the Content-Type lines in order, first one of the root)
        let text_and_html = EmailMessage::new("S", "text")
            .attach_alternative("<img src=\"cid:logo@example.com\">", "text/html")
            .inline_image(image.clone());
        let html_body = EmailMessage::new("S", "<img src=\"cid:logo@example.com\">")
            .content_subtype("html")
            .inline_image(image.clone());
        let with_attachment = html_body.clone().attach("a.txt", "A", None);
        let cases: [(&EmailMessage, &[&str]); 3] = [
            (
                &text_and_html,
                &[
                    "multipart/alternative",
                    "text/plain",
                    "multipart/related",
                    "text/html",
                    "image/png",
                ],
            ),
            (&html_body, &["multipart/related", "text/html", "image/png"]),
            (
                &with_attachment,
                &[
                    "multipart/mixed",
                    "multipart/related",
                    "text/html",
                    "image/png",
                    "text/plain",
                ],
            ),
        ];
        for (msg, types) in cases {
            let root = render(msg, &MessageDefaults::default(), EmailPolicy::Default).unwrap();
            let text = written(&root);
            let found: Vec<&str> = text
                .lines()
                .filter_map(|l| l.strip_prefix("Content-Type: "))
                .map(|v| v.split(';').next().unwrap())
                .collect();
            assert_eq!(found, types, "{text}");
            assert!(
                text.contains(
                    "Content-Type: multipart/related; type=\"text/html\";\n boundary=\"="
                ),
                "{text}"
            );
            assert!(
                text.contains(
                    "Content-Type: image/png\n\
                 Content-Transfer-Encoding: base64\n\
                 Content-Disposition: inline; filename*=utf-8''Gr%C3%BC%C3%9Fe.png\n\
                 Content-ID: <logo@example.com>\n\
                 MIME-Version: 1.0\n\n\
                 AAE=\n"
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn crlf_replaces_every_lf() {
        for (given, want) in [
            (&b""[..], &b""[..]),
            (b"a\nb\n", b"a\r\nb\r\n"),
            (b"\n\n", b"\r\n\r\n"),
            (b"no break", b"no break"),
        ] {
            assert_eq!(to_crlf(given), want);
        }
    }
}
