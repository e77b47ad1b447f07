//! Addresses as Django takes them (`"Name <local@domain>"` strings): validation, the header
//! form Python's email package writes (IDN domains punycoded, non-ASCII names as encoded
//! words) and the SMTP envelope form (Django's `prep_address`).

use crate::encode::{Folder, has_line_break, split_ws};
use crate::error::{Error, Result};

/// One parsed address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mailbox {
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
    /// Parses one address. `header` names the header for injection errors.
    pub(crate) fn parse(input: &str, header: &str) -> Result<Self> {
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
            name,
            quoted,
            local: local.to_owned(),
            domain: domain.map(str::to_owned),
        })
    }

    /// The addr-spec with an ASCII domain.
    pub(crate) fn addr_spec(&self, original: &str) -> Result<String> {
        Ok(match &self.domain {
            Some(domain) => format!("{}@{}", self.local, ascii_domain(original, domain)?),
            None => self.local.clone(),
        })
    }

    /// Writes the address into a folding header, as Python's address header does.
    pub(crate) fn write(
        &self,
        original: &str,
        folder: &mut Folder,
        text: &mut String,
    ) -> Result<()> {
        // `text` collects the literal form for the fast path; `folder` the folded one.
        let domain = match &self.domain {
            Some(domain) => Some(ascii_domain(original, domain)?),
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

/// Validates a list of addresses (empty strings are allowed and skipped, as Django's
/// `recipients()` does).
pub(crate) fn parse_list(header: &str, items: &[String]) -> Result<Vec<Option<Mailbox>>> {
    items
        .iter()
        .map(|item| {
            if item.is_empty() {
                Ok(None)
            } else {
                Mailbox::parse(item, header).map(Some)
            }
        })
        .collect()
}

/// Folds an address header (`From`, `To`, `Cc`, `Reply-To`, `Sender`, …): items joined by
/// `, `, a line broken before an address that would pass 78 characters.
pub(crate) fn fold_address_header(name: &str, items: &[String]) -> Result<String> {
    let parsed = parse_list(name, items)?;
    let mut pieces = Vec::with_capacity(items.len());
    let mut literal = String::new();
    for (i, (item, mailbox)) in items.iter().zip(&parsed).enumerate() {
        if i > 0 {
            literal.push_str(", ");
        }
        let mut piece_folder = Folder::new("");
        let mut text = String::new();
        if let Some(mailbox) = mailbox {
            mailbox.write(item, &mut piece_folder, &mut text)?;
        }
        let folded = piece_folder.finish();
        literal.push_str(&text);
        pieces.push((text, folded));
    }
    let first_line = format!("{name}: {literal}");
    if literal.is_ascii() && first_line.len() <= crate::encode::MAX_LINE {
        return Ok(first_line);
    }
    let mut folder = Folder::new(name);
    for (i, (_, folded)) in pieces.iter().enumerate() {
        // A piece from a fresh folder starts with ":"; drop that label.
        let piece = folded.strip_prefix(':').unwrap_or(folded);
        let single_line = !piece.contains('\n');
        if i > 0 {
            folder.push_raw(",");
        }
        if single_line && folder.line_len() + 1 + piece.len() <= crate::encode::MAX_LINE {
            folder.push_raw(" ");
            folder.push_raw(piece);
        } else if single_line {
            folder.push_line(&format!(" {piece}"));
        } else {
            let mut lines = piece.split('\n');
            let first = lines.next().unwrap_or_default();
            if folder.line_len() + 1 + first.len() <= crate::encode::MAX_LINE {
                folder.push_raw(" ");
                folder.push_raw(first);
            } else {
                folder.push_line(&format!(" {first}"));
            }
            for line in lines {
                folder.push_line(line);
            }
        }
    }
    Ok(folder.finish())
}

/// Django's `EmailBackend.prep_address()`: the envelope address (addr-spec, ASCII domain).
/// A non-ASCII local part is refused unless the server supports SMTPUTF8.
pub(crate) fn envelope_address(address: &str, smtputf8: bool) -> Result<String> {
    let mailbox = Mailbox::parse(address, "envelope")?;
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
    mailbox.addr_spec(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_forms() {
        let m = Mailbox::parse("Jörg Müller <jm@müller.example>", "To").unwrap();
        assert_eq!(m.name.as_deref(), Some("Jörg Müller"));
        assert_eq!(m.addr_spec("x").unwrap(), "jm@xn--mller-kva.example");
        let m = Mailbox::parse("\"Jo \\\"Q\\\" Public\" <jq@example.com>", "To").unwrap();
        assert_eq!(m.name.as_deref(), Some("Jo \"Q\" Public"));
        assert!(
            Mailbox::parse("webmaster", "From")
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
            assert!(Mailbox::parse(bad, "To").is_err(), "{bad}");
        }
        assert!(matches!(
            Mailbox::parse("a@b\nBcc: c@d", "To"),
            Err(Error::BadHeader { .. })
        ));
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
}
