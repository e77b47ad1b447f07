//! The lexical helpers of the rewriter: splitting tag content, finding a tag's end, rewriting
//! loop fields, quoting names and padding with comments.

use super::{Delims, syntax};
use crate::error::Error;

/// Splits tag content like Django's `Token.split_contents`: on whitespace, keeping quoted
/// strings (with `"` or `'`) together.
pub(super) fn split_contents(content: &str) -> Vec<&str> {
    let mut bits = Vec::new();
    let bytes = content.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        let mut quote: Option<u8> = None;
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None if b == b'"' || b == b'\'' => quote = Some(b),
                None if b.is_ascii_whitespace() => break,
                None => {}
            }
            i += 1;
        }
        bits.push(&content[start..i]);
    }
    bits
}

/// Finds the end delimiter of a tag or variable starting at `from`, skipping string literals.
pub(super) fn find_end(source: &str, from: usize, end: &str) -> Option<usize> {
    let bytes = source.as_bytes();
    let end_b = end.as_bytes();
    let mut i = from;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == q {
                    quote = None;
                }
            }
            None => {
                if b == b'"' || b == b'\'' || b == b'`' {
                    quote = Some(b);
                } else if bytes[i..].starts_with(end_b) {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    // An unterminated string: fall back to the first end delimiter, and let Tera report it.
    source[from..].find(end).map(|p| p + from)
}

/// Rewrites `loop.X` (X one of Tera's loop fields) outside strings to Tera's internal name.
pub(super) fn rewrite_loop_vars(text: &str) -> String {
    const FIELDS: [&str; 5] = ["index0", "index", "first", "last", "length"];
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    let mut copied = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if b == b'"' || b == b'\'' || b == b'`' {
            quote = Some(b);
            i += 1;
            continue;
        }
        let ident_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
        let boundary_before = i == 0 || !(ident_char(bytes[i - 1]) || bytes[i - 1] == b'.');
        if boundary_before && bytes[i..].starts_with(b"loop") {
            let mut j = i + 4;
            while j < bytes.len() && bytes[j] == b' ' {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b'.' {
                let mut k = j + 1;
                while k < bytes.len() && bytes[k] == b' ' {
                    k += 1;
                }
                let field_start = k;
                while k < bytes.len() && ident_char(bytes[k]) {
                    k += 1;
                }
                let field = &text[field_start..k];
                if FIELDS.contains(&field) {
                    out.push_str(&text[copied..i]);
                    out.push_str("__tera_loop_");
                    out.push_str(field);
                    copied = k;
                    i = k;
                    continue;
                }
            }
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// A Tera string literal holding `value`, with a quote character it does not contain.
pub(super) fn quoted(template: &str, line: usize, value: &str) -> Result<String, Error> {
    for q in ['"', '\'', '`'] {
        if !value.contains(q) {
            return Ok(format!("{q}{value}{q}"));
        }
    }
    Err(syntax(
        template,
        line,
        format!(
            "The name {value:?} contains all three quote characters (\", ' and `), so Tera \
             cannot refer to it; rename the partial or the template."
        ),
    ))
}

/// A comment holding `newlines` newlines (or nothing), keeping whitespace control.
pub(super) fn padding(d: &Delims, newlines: usize, trim_left: bool, trim_right: bool) -> String {
    if newlines == 0 && !trim_left && !trim_right {
        return String::new();
    }
    let mut s = String::with_capacity(newlines + 6);
    s.push_str(&d.comment.0);
    if trim_left {
        s.push('-');
    }
    s.push(' ');
    for _ in 0..newlines {
        s.push('\n');
    }
    if trim_right {
        s.push('-');
    }
    s.push_str(&d.comment.1);
    s
}
