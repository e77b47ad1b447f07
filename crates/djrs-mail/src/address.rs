//! Addresses as Django takes them (`"Name <local@domain>"` strings), parsed once into a
//! [`Mailbox`] when they enter a message: validation, the header form Python's email package
//! writes (IDN domains punycoded, non-ASCII names as encoded words) and the SMTP envelope form
//! (Django's `prep_address`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::encode::{Folder, has_line_break, split_ws};
use crate::error::{Error, Result};

/// One address, parsed and checked when it enters a message: `"Name <local@domain>"`,
/// `local@domain` or a bare local mailbox such as `webmaster`, as Django takes them.
///
/// A line break, a malformed address or a domain that is not a valid internationalized name is
/// an error here, before any rendering or sending. The text given is kept: it is what
/// [`Mailbox::as_str`], `Display`, serde and [`EmailMessage::recipients`](crate::EmailMessage::recipients)
/// give back.
///
/// ```
/// use djrs_mail::Mailbox;
///
/// let ann: Mailbox = "Ann Example <ann@exämple.com>".parse()?;
/// assert_eq!(ann.display_name(), Some("Ann Example"));
/// assert_eq!(ann.addr_spec(), "ann@xn--exmple-cua.com");
/// assert_eq!(ann.as_str(), "Ann Example <ann@exämple.com>");
/// assert!(Mailbox::parse("not an address").is_err());
/// assert!(Mailbox::parse("a@example.com\nBcc: victim@example.com").unwrap_err().is_bad_message());
/// # Ok::<(), djrs_mail::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The address as given.
    text: String,
    /// The display name, as written (quotes removed, escapes resolved).
    pub(crate) name: Option<String>,
    /// Whether the display name was quoted in the source.
    pub(crate) quoted: bool,
    /// The local part, as written (a quoted local part keeps its quotes).
    pub(crate) local: String,
    /// The domain, as written; `None` for a bare local mailbox like `webmaster`.
    pub(crate) domain: Option<String>,
}

const SPECIALS: &[char] = &['(', ')', '<', '>', '[', ']', ':', ';', '@', '\\', ',', '"'];

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~".contains(c)
        || !c.is_ascii() && !c.is_control() && !c.is_whitespace()
}

fn valid_dot_atom(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|part| !part.is_empty() && part.chars().all(is_atext))
}

fn valid_quoted(s: &str) -> bool {
    let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return false;
    };
    let mut escaped = false;
    for c in inner.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return false;
        }
    }
    !escaped
}

/// Parses the text of a quoted string starting at `s[0] == '"'`; returns the unescaped content
/// and the rest after the closing quote.
fn take_quoted(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return Some((out, &s[i + 1..]));
        } else {
            out.push(c);
        }
    }
    None
}

/// Converts a domain to its ASCII (punycode) form.
pub(crate) fn ascii_domain(original: &str, domain: &str) -> Result<String> {
    if domain.starts_with('[') && domain.ends_with(']') {
        return Ok(domain.to_owned());
    }
    if domain.is_ascii() {
        return Ok(domain.to_owned());
    }
    idna::domain_to_ascii(domain).map_err(|_| {
        Error::address(
            original,
            "the domain is not a valid internationalized domain name",
        )
    })
}

impl Mailbox {
    /// Parses one address.
    ///
    /// # Errors
    /// [`Error::BadHeader`] for a line break, [`Error::InvalidAddress`] for anything else
    /// that is not an address.
    ///
    /// ```
    /// let m = djrs_mail::Mailbox::parse("webmaster")?;
    /// assert_eq!(m.addr_spec(), "webmaster");
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    pub fn parse(address: &str) -> Result<Self> {
        Self::parse_in(address, "address")
    }

    /// The address as given.
    ///
    /// ```
    /// let m = djrs_mail::Mailbox::parse(" a@example.com")?;
    /// assert_eq!(m.as_str(), " a@example.com");
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The display name, unquoted (`None` without one).
    ///
    /// ```
    /// let m = djrs_mail::Mailbox::parse("\"Doe, John\" <j@example.com>")?;
    /// assert_eq!(m.display_name(), Some("Doe, John"));
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    #[must_use]
    pub fn display_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The addr-spec (`local@domain`) with the domain punycoded.
    ///
    /// ```
    /// let m = djrs_mail::Mailbox::parse("Jörg <jm@müller.example>")?;
    /// assert_eq!(m.addr_spec(), "jm@xn--mller-kva.example");
    /// # Ok::<(), djrs_mail::Error>(())
    /// ```
    #[must_use]
    pub fn addr_spec(&self) -> String {
        match &self.domain {
            // Parsing checked that the domain converts.
            Some(domain) => format!(
                "{}@{}",
                self.local,
                ascii_domain(&self.text, domain).unwrap_or_else(|_| domain.clone())
            ),
            None => self.local.clone(),
        }
    }

    /// Parses one address. `header` names the header for injection errors.
    pub(crate) fn parse_in(input: &str, header: &str) -> Result<Self> {
        if has_line_break(input) {
            return Err(Error::BadHeader {
                name: header.to_owned(),
            });
        }
        let s = input.trim();
        if s.is_empty() {
            return Err(Error::address(input, "the address is empty"));
        }
        let (name, quoted, spec) = if s.ends_with('>') {
            if s.starts_with('"') {
                let (name, rest) = take_quoted(s)
                    .ok_or_else(|| Error::address(input, "unterminated quoted display name"))?;
                let rest = rest.trim_start();
                let spec = rest
                    .strip_prefix('<')
                    .and_then(|r| r.strip_suffix('>'))
                    .ok_or_else(|| {
                        Error::address(input, "expected <address> after the display name")
                    })?;
                (Some(name), true, spec)
            } else {
                let lt = s
                    .find('<')
                    .ok_or_else(|| Error::address(input, "'>' without '<'"))?;
                let name = s[..lt].trim();
                if name.contains(['"', '<', '>']) {
                    return Err(Error::address(input, "the display name must be quoted"));
                }
                let spec = &s[lt + 1..s.len() - 1];
                ((!name.is_empty()).then(|| name.to_owned()), false, spec)
            }
        } else {
            (None, false, s)
        };
        let spec = spec.trim();
        if spec.len() > 254 {
            return Err(Error::address(
                input,
                "longer than the 254 characters SMTP allows",
            ));
        }
        if spec.contains('<') || spec.contains('>') {
            return Err(Error::address(input, "must be a single address"));
        }
        let (local, domain) = match spec.rfind('@') {
            Some(at) if !spec.ends_with('"') => (&spec[..at], Some(&spec[at + 1..])),
            _ => (spec, None),
        };
        if !(valid_dot_atom(local) || valid_quoted(local)) {
            return Err(Error::address(
                input,
                "local-part is not dot-atom or quoted-string",
            ));
        }
        if let Some(domain) = domain {
            let literal = domain.starts_with('[') && domain.ends_with(']');
            if !literal && !valid_dot_atom(domain) {
                return Err(Error::address(input, "the domain is not valid"));
            }
            ascii_domain(input, domain)?;
        }
        Ok(Self {
            text: input.to_owned(),
            name,
            quoted,
            local: local.to_owned(),
            domain: domain.map(str::to_owned),
        })
    }

    /// Writes the address into a folding header, as Python's address header does.
    pub(crate) fn write(&self, folder: &mut Folder, text: &mut String) -> Result<()> {
        // `text` collects the literal form for the fast path; `folder` the folded one.
        let domain = match &self.domain {
            Some(domain) => Some(ascii_domain(&self.text, domain)?),
            None => None,
        };
        let spec_tail = domain.as_ref().map(|d| format!("@{d}")).unwrap_or_default();
        match &self.name {
            Some(name) => {
                let literal_name = if self.quoted {
                    if name.is_ascii() {
                        crate::encode::quote_string(name)
                    } else {
                        name.clone()
                    }
                } else if name.contains(
                    SPECIALS
                        .iter()
                        .copied()
                        .filter(|c| *c != '(' && *c != ')')
                        .collect::<Vec<_>>()
                        .as_slice(),
                ) {
                    crate::encode::quote_string(name)
                } else {
                    name.clone()
                };
                text.push_str(&literal_name);
                if self.quoted && !name.is_ascii() {
                    folder.push_encoded(name);
                } else {
                    for (is_ws, token) in split_ws(&literal_name) {
                        if is_ws {
                            folder.push_ws(token);
                        } else {
                            folder.push_word(token);
                        }
                    }
                }
                folder.break_ew();
                let angle = format!(" <{}{spec_tail}>", self.local_for_header());
                text.push_str(&angle);
                folder.push_ws(" ");
                folder.push_text(&angle[1..]);
            }
            None => {
                text.push_str(&self.local);
                text.push_str(&spec_tail);
                if self.local.is_ascii() {
                    folder.push_text(&format!("{}{spec_tail}", self.local));
                } else {
                    folder.push_encoded(&self.local);
                    folder.break_ew();
                    folder.push_raw(&spec_tail);
                }
            }
        }
        Ok(())
    }

    fn local_for_header(&self) -> String {
        if self.local.is_ascii() {
            self.local.clone()
        } else {
            crate::encode::encoded_word(&self.local)
        }
    }
}

impl FromStr for Mailbox {
    type Err = Error;

    fn from_str(address: &str) -> Result<Self> {
        Self::parse(address)
    }
}

impl TryFrom<&str> for Mailbox {
    type Error = Error;

    fn try_from(address: &str) -> Result<Self> {
        Self::parse(address)
    }
}

impl TryFrom<String> for Mailbox {
    type Error = Error;

    fn try_from(address: String) -> Result<Self> {
        Self::parse(&address)
    }
}

impl AsRef<str> for Mailbox {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq<str> for Mailbox {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for Mailbox {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

/// A mailbox is serialised as the text it was parsed from, and parsed again when read.
impl Serialize for Mailbox {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Mailbox {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Validates a list of addresses (empty strings are allowed and skipped, as Django's
/// `recipients()` does).
pub(crate) fn parse_list(header: &str, items: &[String]) -> Result<Vec<Option<Mailbox>>> {
    items
        .iter()
        .map(|item| {
            if item.is_empty() {
                Ok(None)
            } else {
                Mailbox::parse_in(item, header).map(Some)
            }
        })
        .collect()
}

/// Folds an address header (`From`, `To`, `Cc`, `Reply-To`, `Sender`, …): items joined by
/// `, `, a line broken before an address that would pass 78 characters; an address too long for
/// a line of its own is folded where it starts.
pub(crate) fn fold_address_header(name: &str, items: &[String]) -> Result<String> {
    let parsed = parse_list(name, items)?;
    let refs: Vec<Option<&Mailbox>> = parsed.iter().map(Option::as_ref).collect();
    fold_mailboxes(name, &refs)
}

/// [`fold_address_header`] for addresses already parsed; `None` is an empty item, written as
/// nothing between its commas (Python writes `To: , a@example.com`).
pub(crate) fn fold_mailboxes(name: &str, items: &[Option<&Mailbox>]) -> Result<String> {
    // Each address folded alone (from a fresh folder, so starting with ":"), for the
    // decision where it goes.
    let mut pieces = Vec::with_capacity(items.len());
    let mut literal = String::new();
    for (i, mailbox) in items.iter().enumerate() {
        if i > 0 {
            literal.push_str(", ");
        }
        let mut piece_folder = Folder::new("");
        let mut text = String::new();
        if let Some(mailbox) = mailbox {
            mailbox.write(&mut piece_folder, &mut text)?;
        }
        literal.push_str(&text);
        pieces.push((mailbox, piece_folder.finish()));
    }
    let first_line = format!("{name}: {literal}");
    if literal.is_ascii() && first_line.len() <= crate::encode::MAX_LINE {
        return Ok(first_line);
    }
    let mut folder = Folder::new(name);
    for (i, (mailbox, folded)) in pieces.into_iter().enumerate() {
        let piece = folded.strip_prefix(':').unwrap_or(&folded);
        if i > 0 {
            folder.push_raw(",");
        }
        match mailbox {
            // Too long for a line of its own (a long encoded display name): written into the
            // header's folder, its encoded words fill the current line as Python's do.
            Some(mailbox) if piece.contains('\n') => {
                folder.push_ws(" ");
                mailbox.write(&mut folder, &mut String::new())?;
            }
            _ if folder.line_len() + 1 + piece.len() <= crate::encode::MAX_LINE => {
                folder.push_raw(" ");
                folder.push_raw(piece);
            }
            _ => folder.push_line(&format!(" {piece}")),
        }
    }
    Ok(folder.finish())
}

/// Django's `EmailBackend.prep_address()` for an address given as text.
pub(crate) fn envelope_address(address: &str, smtputf8: bool) -> Result<String> {
    Mailbox::parse_in(address, "envelope")?.envelope(smtputf8)
}

impl Mailbox {
    /// Django's `EmailBackend.prep_address()`: the envelope address (addr-spec, ASCII
    /// domain). A non-ASCII local part is refused unless the server supports SMTPUTF8.
    pub(crate) fn envelope(&self, smtputf8: bool) -> Result<String> {
        let (mailbox, address) = (self, self.text.as_str());
        if let Some(name) = mailbox.name.as_deref().filter(|_| !mailbox.quoted) {
            // Python's strict address parser, which Django's prep_address uses, reads an unquoted
            // comma as a second address and a period as an obsolete phrase.
            if name.contains(',') {
                return Err(Error::address(address, "must be a single address"));
            }
            if name.contains('.') {
                return Err(Error::address(
                    address,
                    "period in 'phrase': quote the display name",
                ));
            }
        }
        if !smtputf8 && !mailbox.local.is_ascii() {
            return Err(Error::address(
                address,
                "local-part contains non-ASCII characters and the server does not support SMTPUTF8",
            ));
        }
        Ok(mailbox.addr_spec())
    }
}

#[cfg(test)]
mod tests {
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
}
