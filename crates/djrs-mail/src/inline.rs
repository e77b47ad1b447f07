//! Inline images: pictures an HTML body shows through `cid:` URLs, sent in a
//! `multipart/related` part beside that body (RFC 2387, RFC 2392; ActionMailer's
//! `attachments.inline`, Python's `add_related`).
//!
//! The content id and the file name often come from outside (an uploaded avatar's name, an id
//! from a database), so both are checked when they enter: a content id is a restricted
//! `left@right` that needs no escaping anywhere it is written (header, URL, HTML attribute), a
//! file name has no line break, control character or path separator.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::encode::has_line_break;
use crate::error::{Error, Result};
use crate::message::dns_name;
use crate::mime::check_mimetype;

/// The longest content id accepted, in bytes (the `Content-ID: <…>` line stays far below
/// RFC 5322's 998).
const MAX_CONTENT_ID: usize = 250;
/// The longest inline file name accepted, in bytes.
const MAX_FILENAME: usize = 255;

/// A `Content-ID` (RFC 2392): `left@right`, written `<left@right>` in the header and
/// `cid:left@right` in the HTML that shows the part.
///
/// Only ASCII letters, digits and `. _ - + =` are allowed on each side of the one `@`, so the
/// id needs no quoting or percent-encoding in the header, the URL or an HTML attribute.
///
/// ```
/// use djrs_mail::ContentId;
///
/// let id = ContentId::new("logo.2024@example.com")?;
/// assert_eq!(id.as_str(), "logo.2024@example.com");
/// assert_eq!(id.url(), "cid:logo.2024@example.com");
/// assert!(ContentId::new("<logo@example.com>").is_err()); // no angle brackets
/// assert!(ContentId::new("a@b\r\nBcc: x@example.com").is_err());
/// assert!(ContentId::generate().as_str().contains('@'));
/// # Ok::<(), djrs_mail::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContentId(String);

impl ContentId {
    /// Checks a content id given without angle brackets.
    ///
    /// # Errors
    /// [`Error::InvalidContentId`] when it is not `left@right` with each side made of ASCII
    /// letters, digits and `. _ - + =` (no leading, trailing or doubled dot), or is longer than
    /// 250 bytes.
    ///
    /// ```
    /// use djrs_mail::{ContentId, Error};
    ///
    /// assert!(ContentId::new("part1.abc@mail.example.com").is_ok());
    /// for bad in ["", "no-at-sign", "a@b@c", "@b", "a@", "a b@c", "a\"@c", "..a@b", "ü@b"] {
    ///     assert!(matches!(ContentId::new(bad), Err(Error::InvalidContentId { .. })), "{bad:?}");
    /// }
    /// ```
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        check_content_id(&id)?;
        Ok(Self(id))
    }

    /// A fresh random id on this host's `DNS_NAME` (`localhost` when the host name would not
    /// fit), as Python's `make_msgid` makes one.
    ///
    /// ```
    /// let (a, b) = (djrs_mail::ContentId::generate(), djrs_mail::ContentId::generate());
    /// assert_ne!(a, b);
    /// ```
    #[must_use]
    pub fn generate() -> Self {
        let left = format!("{:032x}", rand::random::<u128>());
        let with_host = format!("{left}@{}", dns_name());
        if check_content_id(&with_host).is_ok() {
            Self(with_host)
        } else {
            Self(format!("{left}@localhost"))
        }
    }

    /// The id, without angle brackets.
    ///
    /// ```
    /// assert_eq!(djrs_mail::ContentId::new("a@b")?.as_str(), "a@b");
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `cid:` URL an HTML body uses to show the part: `<img src="cid:…">`.
    ///
    /// ```
    /// assert_eq!(djrs_mail::ContentId::new("a@b")?.url(), "cid:a@b");
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    #[must_use]
    pub fn url(&self) -> String {
        format!("cid:{}", self.0)
    }
}

impl fmt::Display for ContentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ContentId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl Serialize for ContentId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ContentId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::new(text).map_err(serde::de::Error::custom)
    }
}

fn check_content_id(id: &str) -> Result<()> {
    let invalid = |reason: &'static str| Error::InvalidContentId {
        id: id.to_owned(),
        reason: reason.into(),
    };
    if id.len() > MAX_CONTENT_ID {
        return Err(invalid("longer than 250 bytes"));
    }
    let Some((left, right)) = id.split_once('@') else {
        return Err(invalid("expected left@right"));
    };
    for side in [left, right] {
        if side.is_empty() {
            return Err(invalid("expected left@right"));
        }
        if !side
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+=".contains(&b))
        {
            return Err(invalid(
                "only ASCII letters, digits and . _ - + = may appear around the one @",
            ));
        }
        if side.starts_with('.') || side.ends_with('.') || side.contains("..") {
            return Err(invalid("a dot may not start, end or double"));
        }
    }
    Ok(())
}

/// An image shown inline by the HTML body: sent in a `multipart/related` part beside the
/// HTML, with a `Content-ID` the HTML points at (`<img src="cid:…">`) and
/// `Content-Disposition: inline`. Add it with [`EmailMessage::inline_image`](crate::EmailMessage::inline_image).
///
/// The fields are public, like [`EmailAttachment`](crate::EmailAttachment)'s; [`InlineImage::new`]
/// and [`InlineImage::from_file`] check what comes in, and rendering checks the fields again.
///
/// ```
/// use djrs_mail::{EmailMessage, InlineImage};
///
/// let logo = InlineImage::new("logo.png", b"\x89PNG\r\n".to_vec(), None)?;
/// assert_eq!(logo.mimetype, "image/png");
/// let html = format!(r#"<p>Hi</p><img src="{}" alt="Shop">"#, logo.url());
/// let msg = EmailMessage::new("Hi", "Hi")
///     .to(["ann@example.com"])?
///     .attach_alternative(html, "text/html")
///     .inline_image(logo);
/// let text = String::from_utf8(msg.message()?).unwrap();
/// assert!(text.contains("Content-Type: multipart/related; type=\"text/html\";"));
/// assert!(text.contains(&format!("Content-ID: <{}>", msg.inline_images[0].content_id)));
/// # Ok::<(), djrs_mail::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlineImage {
    /// The id the HTML refers to as `cid:<id>`.
    pub content_id: ContentId,
    /// The file name in `Content-Disposition: inline; filename=…` (`None`: no name).
    pub filename: Option<String>,
    /// The image's bytes, sent base64-encoded.
    #[serde(with = "crate::message::b64")]
    pub content: Vec<u8>,
    /// The MIME type, `image/*`.
    pub mimetype: String,
}

impl InlineImage {
    /// An inline image with a fresh [`ContentId`]. Without a MIME type it is guessed from the
    /// file name.
    ///
    /// # Errors
    /// [`Error::BadHeader`] for a line break in the file name; [`Error::InvalidArgument`] for
    /// a file name that is empty, too long (over 255 bytes) or holds a control character or a
    /// path separator, for a MIME type that is malformed or not `image/*`, and when no type is
    /// given and the name tells none.
    ///
    /// ```
    /// use djrs_mail::{Error, InlineImage};
    ///
    /// let chart = InlineImage::new("chart", vec![1, 2, 3], Some("image/svg+xml"))?;
    /// assert_eq!(chart.filename.as_deref(), Some("chart"));
    /// assert!(matches!(InlineImage::new("a.png\r\nX: y", vec![], None), Err(Error::BadHeader { .. })));
    /// assert!(InlineImage::new("../../etc/passwd.png", vec![], None).is_err());
    /// assert!(InlineImage::new("notes.txt", vec![], None).is_err()); // text/plain is no image
    /// assert!(InlineImage::new("blob", vec![], None).is_err()); // no type given or guessed
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn new(
        filename: impl Into<String>,
        content: impl Into<Vec<u8>>,
        mimetype: Option<&str>,
    ) -> Result<Self> {
        let filename = filename.into();
        check_filename(&filename)?;
        let mimetype = match mimetype {
            Some(m) => m.to_owned(),
            None => mime_guess::from_path(&filename)
                .first_raw()
                .ok_or_else(|| {
                    Error::InvalidArgument(
                        format!(
                            "cannot tell the image type of {filename:?}: give a MIME type such as image/png"
                        )
                        .into(),
                    )
                })?
                .to_owned(),
        };
        check_image_type(&mimetype)?;
        Ok(Self {
            content_id: ContentId::generate(),
            filename: Some(filename),
            content: content.into(),
            mimetype,
        })
    }

    /// An inline image read from disk, named after the path's last component.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, and the errors of [`InlineImage::new`].
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("logo.gif");
    /// std::fs::write(&path, b"GIF89a").unwrap();
    /// let logo = djrs_mail::InlineImage::from_file(&path, None)?;
    /// assert_eq!((logo.filename.as_deref(), logo.mimetype.as_str()), (Some("logo.gif"), "image/gif"));
    /// assert_eq!(logo.content, b"GIF89a");
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>, mimetype: Option<&str>) -> Result<Self> {
        let (name, bytes) = crate::message::read_named_file(path.as_ref())?;
        Self::new(name, bytes, mimetype)
    }

    /// Replaces the generated content id with a chosen one (parse it with [`ContentId::new`]).
    ///
    /// ```
    /// use djrs_mail::{ContentId, InlineImage};
    ///
    /// let logo = InlineImage::new("logo.png", vec![], None)?.content_id(ContentId::new("logo@shop.example")?);
    /// assert_eq!(logo.url(), "cid:logo@shop.example");
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    #[must_use]
    pub fn content_id(mut self, id: ContentId) -> Self {
        self.content_id = id;
        self
    }

    /// The `cid:` URL to put in the HTML (`<img src="{{ logo }}">`).
    ///
    /// ```
    /// let logo = djrs_mail::InlineImage::new("logo.png", vec![], None)?;
    /// assert_eq!(logo.url(), format!("cid:{}", logo.content_id));
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    #[must_use]
    pub fn url(&self) -> String {
        self.content_id.url()
    }

    /// Checks the fields (they are public, so they may have been assigned directly).
    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(filename) = &self.filename {
            check_filename(filename)?;
        }
        check_image_type(&self.mimetype)
    }
}

fn check_filename(filename: &str) -> Result<()> {
    if has_line_break(filename) {
        return Err(Error::BadHeader {
            name: "Content-Disposition".to_owned(),
        });
    }
    let reason = if filename.is_empty() {
        "is empty"
    } else if filename.len() > MAX_FILENAME {
        "is longer than 255 bytes"
    } else if filename.chars().any(char::is_control) {
        "holds a control character"
    } else if filename.contains(['/', '\\']) {
        "holds a path separator"
    } else {
        return Ok(());
    };
    Err(Error::InvalidArgument(
        format!("the inline image's file name {filename:?} {reason}").into(),
    ))
}

fn check_image_type(mimetype: &str) -> Result<()> {
    check_mimetype(mimetype)?;
    if mimetype.to_ascii_lowercase().starts_with("image/") {
        Ok(())
    } else {
        Err(Error::InvalidArgument(
            format!("an inline image needs an image/* MIME type, not {mimetype:?}").into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ids_are_checked() {
        for (id, ok) in [
            ("a@b", true),
            ("part1.06090408.01060107@example.com", true),
            ("A-Z_0+9=x@host", true),
            ("", false),
            ("ab", false),
            ("a@b@c", false),
            ("@b", false),
            ("a@", false),
            ("<a@b>", false),
            ("a b@c", false),
            ("a@b\n", false),
            ("a@b\r\nBcc: x@example.com", false),
            ("a\"@b", false),
            ("a@b/c", false),
            ("a%20@b", false),
            (".a@b", false),
            ("a.@b", false),
            ("a..b@c", false),
            ("a@b.", false),
            ("\u{fc}@b", false),
        ] {
            assert_eq!(ContentId::new(id).is_ok(), ok, "{id:?}");
        }
        let long = format!("{}@b", "a".repeat(MAX_CONTENT_ID - 2));
        assert!(ContentId::new(long.clone()).is_ok());
        assert!(ContentId::new(format!("a{long}")).is_err());
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let ids: std::collections::HashSet<String> = (0..100)
            .map(|_| ContentId::generate().as_str().to_owned())
            .collect();
        assert_eq!(ids.len(), 100);
        for id in ids {
            assert!(ContentId::new(id.clone()).is_ok(), "{id}");
        }
    }

    #[test]
    fn file_names_are_checked() {
        for (name, ok) in [
            ("logo.png", true),
            ("Grüße.png", true),
            ("with space.png", true),
            ("", false),
            ("a/b.png", false),
            ("a\\b.png", false),
            ("a\0.png", false),
            ("a\t.png", false),
            ("a\n.png", false),
            ("a\u{2028}.png", false),
        ] {
            assert_eq!(check_filename(name).is_ok(), ok, "{name:?}");
        }
        assert!(check_filename(&"a".repeat(256)).is_err());
        assert!(matches!(
            check_filename("a\r\nb"),
            Err(Error::BadHeader { .. })
        ));
    }

    #[test]
    fn only_image_types_are_inline_images() {
        for (mimetype, ok) in [
            ("image/png", true),
            ("IMAGE/JPEG", true),
            ("image/svg+xml", true),
            ("text/html", false),
            ("application/octet-stream", false),
            ("image", false),
            ("image/png; x=y", false),
        ] {
            assert_eq!(check_image_type(mimetype).is_ok(), ok, "{mimetype:?}");
        }
    }

    #[test]
    fn a_content_id_deserialises_only_when_valid() {
        let ok: ContentId = serde_json::from_str("\"a@b\"").unwrap();
        assert_eq!(ok.as_str(), "a@b");
        assert!(serde_json::from_str::<ContentId>("\"a@b\\r\\nX: y\"").is_err());
    }
}
