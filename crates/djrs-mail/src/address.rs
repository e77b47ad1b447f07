//! Addresses as Django takes them (`"Name <local@domain>"` strings), parsed once into a
//! [`Mailbox`] when they enter a message: validation, the header form Python's email package
//! writes (IDN domains punycoded, non-ASCII names as encoded words) and the SMTP envelope form
//! (Django's `prep_address`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::encode::{Folder, has_line_break, is_literal, split_ws};
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

/// A control character (NUL, tab, DEL, C1…) has no place in an addr-spec: RFC 5321 allows none
/// in a quoted local part or a domain literal, and no encoding can carry one there.
fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
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
        if !(valid_dot_atom(local) || valid_quoted(local)) || has_control(local) {
            return Err(Error::address(
                input,
                "local-part is not dot-atom or quoted-string",
            ));
        }
        if let Some(domain) = domain {
            let literal = domain.starts_with('[') && domain.ends_with(']');
            if (!literal && !valid_dot_atom(domain)) || has_control(domain) {
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
                let has_specials = name.contains(
                    SPECIALS
                        .iter()
                        .copied()
                        .filter(|c| *c != '(' && *c != ')')
                        .collect::<Vec<_>>()
                        .as_slice(),
                );
                let literal_name = if self.quoted {
                    if name.is_ascii() {
                        crate::encode::quote_string(name)
                    } else {
                        name.clone()
                    }
                } else if has_specials {
                    crate::encode::quote_string(name)
                } else {
                    name.clone()
                };
                text.push_str(&literal_name);
                // A quoted name that is not printable ASCII and spaces is encoded whole: quotes
                // inside an encoded word would become part of the name. (An unquoted non-ASCII
                // name with specials keeps Python's word-by-word encoding.)
                let plain = name.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
                if !plain && (self.quoted || (has_specials && name.is_ascii())) {
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
    if is_literal(&literal) && first_line.len() <= crate::encode::MAX_LINE {
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
mod tests;
