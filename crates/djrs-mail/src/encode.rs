//! Header and body encodings as Python's `email.policy.default` produces them (the policy
//! Django 6.0's `message()` uses): RFC 2047 encoded words chosen and folded the same way,
//! RFC 2231 parameters, and the 7bit / 8bit / quoted-printable / base64 body heuristics.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Python's `policy.max_line_length`.
pub(crate) const MAX_LINE: usize = 78;

/// Characters Python's `str.splitlines()` treats as line ends: any of them in a header value
/// is an injection attempt.
pub(crate) fn has_line_break(value: &str) -> bool {
    value.chars().any(|c| {
        matches!(
            c,
            '\n' | '\r'
                | '\u{0b}'
                | '\u{0c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        )
    })
}

/// Whether a header may carry `text` as it is, on one line: printable ASCII, spaces and tabs
/// (RFC 5322's VCHAR and WSP). NUL and the other C0 controls, DEL, the C1 controls and any
/// other non-ASCII character are written as encoded words or RFC 2231 parameters instead.
pub(crate) fn is_literal(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_graphic() || b == b' ' || b == b'\t')
}

/// Whether a word (no spaces) may be written as it is where a header is folded: printable
/// ASCII only. A tab is folding whitespace to RFC 5322, but readers unfold `CRLF TAB`
/// differently (some read a space), so only spaces are fold points and a word with a tab is
/// encoded, as a word with any other control character is.
fn is_plain_word(word: &str) -> bool {
    word.bytes().all(|b| b.is_ascii_graphic())
}

/// Bytes written literally in a `q` encoded word (`email._encoded_words`).
fn q_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-!*+/".contains(&b)
}

fn q_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| if q_safe(b) || b == b' ' { 1 } else { 3 })
        .sum()
}

fn b_len(bytes: &[u8]) -> usize {
    bytes.len().div_ceil(3) * 4
}

/// `email._encoded_words.encode(text, 'utf-8')`: `q` unless it is at least 5 characters
/// longer than `b`.
pub(crate) fn encoded_word(text: &str) -> String {
    let bytes = text.as_bytes();
    let q = q_len(bytes);
    let b = b_len(bytes);
    if q < b + 5 {
        let mut out = String::with_capacity(q + 12);
        out.push_str("=?utf-8?q?");
        for &byte in bytes {
            if q_safe(byte) {
                out.push(byte as char);
            } else if byte == b' ' {
                out.push('_');
            } else {
                out.push_str(&format!("={byte:02X}"));
            }
        }
        out.push_str("?=");
        out
    } else {
        format!("=?utf-8?b?{}?=", STANDARD.encode(bytes))
    }
}

/// Decodes encoded words written by [`encoded_word`] (whitespace between two of them is
/// dropped, as RFC 2047 says); other text is kept.
fn decode_words(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    let mut pending_ws = String::new();
    let mut last_was_ew = false;
    while !rest.is_empty() {
        let ws_len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if ws_len > 0 {
            pending_ws.push_str(&rest[..ws_len]);
            rest = &rest[ws_len..];
            continue;
        }
        let word_len = rest.find([' ', '\t']).unwrap_or(rest.len());
        let word = &rest[..word_len];
        rest = &rest[word_len..];
        if let Some(decoded) = decode_one(word) {
            if !last_was_ew {
                out.push_str(&pending_ws);
            }
            out.push_str(&decoded);
            last_was_ew = true;
        } else {
            out.push_str(&pending_ws);
            out.push_str(word);
            last_was_ew = false;
        }
        pending_ws.clear();
    }
    out.push_str(&pending_ws);
    out
}

fn decode_one(word: &str) -> Option<String> {
    let inner = word.strip_prefix("=?utf-8?")?.strip_suffix("?=")?;
    let (kind, payload) = inner.split_at_checked(2)?;
    let bytes = match kind {
        "b?" => STANDARD.decode(payload).ok()?,
        "q?" => {
            let mut bytes = Vec::with_capacity(payload.len());
            let raw = payload.as_bytes();
            let mut i = 0;
            while i < raw.len() {
                match raw[i] {
                    b'_' => bytes.push(b' '),
                    b'=' => {
                        let hex = payload.get(i + 1..i + 3)?;
                        bytes.push(u8::from_str_radix(hex, 16).ok()?);
                        i += 2;
                    }
                    other => bytes.push(other),
                }
                i += 1;
            }
            bytes
        }
        _ => return None,
    };
    String::from_utf8(bytes).ok()
}

/// A header being folded: Python's `_refold_parse_tree` state.
#[derive(Debug)]
pub(crate) struct Folder {
    lines: Vec<String>,
    last_ew: Option<usize>,
    /// The last thing written was an encoded word: whitespace after it is dropped by decoders
    /// if another encoded word follows, so that one must carry the space itself.
    after_ew: bool,
}

impl Folder {
    /// Starts a header `Name:`.
    pub(crate) fn new(name: &str) -> Self {
        Self {
            lines: vec![format!("{name}:")],
            last_ew: None,
            after_ew: false,
        }
    }

    fn current(&mut self) -> &mut String {
        self.lines.last_mut().expect("a folder always has a line")
    }

    /// Appends whitespace (kept on the line; it becomes the fold point of the next word).
    pub(crate) fn push_ws(&mut self, ws: &str) {
        if self.current().len() + ws.len() <= MAX_LINE {
            self.current().push_str(ws);
        } else {
            self.lines.push(ws.to_owned());
            self.last_ew = None;
        }
    }

    /// Appends an ASCII token that must not be encoded, folding before it if it does not fit.
    pub(crate) fn push_text(&mut self, token: &str) {
        self.after_ew = false;
        if self.current().len() + token.len() <= MAX_LINE {
            self.current().push_str(token);
            return;
        }
        let stolen = self.steal_trailing_ws();
        if stolen.is_empty() && self.current().trim().ends_with(':') {
            self.current().push_str(token);
        } else {
            self.lines.push(format!(
                "{}{token}",
                if stolen.is_empty() { " " } else { &stolen }
            ));
        }
        self.last_ew = None;
    }

    /// Appends a word: literally when it is printable ASCII and fits on a line, else as
    /// encoded words.
    pub(crate) fn push_word(&mut self, word: &str) {
        if is_plain_word(word) && word.len() < MAX_LINE {
            self.push_text(word);
        } else {
            self.push_encoded(word);
        }
    }

    fn steal_trailing_ws(&mut self) -> String {
        let line = self.current();
        let trimmed = line.trim_end_matches(' ').len();
        if trimmed == 0 {
            return String::new();
        }
        line.split_off(trimmed)
    }

    /// Folds here: trailing whitespace on the full line becomes the fold (a space when there is
    /// none), so unfolding gives back exactly one space. Returns the new line's length.
    fn fold(&mut self) -> usize {
        let stolen = self.steal_trailing_ws();
        let fold = if stolen.is_empty() {
            " ".to_owned()
        } else {
            stolen
        };
        let len = fold.len();
        self.lines.push(fold);
        len
    }

    /// Python's `_fold_as_ew`, combining with the previous encoded word on the line.
    pub(crate) fn push_encoded(&mut self, text: &str) {
        let mut to_encode: String;
        let mut new_last_ew;
        if let Some(start) = self.last_ew {
            let line = self.current();
            let tail = line.split_off(start);
            to_encode = decode_words(&tail);
            to_encode.push_str(text);
            new_last_ew = start;
        } else if self.after_ew {
            to_encode = format!(" {text}");
            new_last_ew = self.current().len();
        } else {
            to_encode = text.to_owned();
            new_last_ew = self.current().len();
        }
        let mut trailing = String::new();
        if to_encode.ends_with(' ') {
            trailing = to_encode.pop().map(String::from).unwrap_or_default();
        }
        const CHROME: usize = 12; // "=?utf-8?q?" + "?="
        let mut chars: Vec<char> = to_encode.chars().collect();
        while !chars.is_empty() {
            let remaining = MAX_LINE.saturating_sub(self.current().len());
            let text_space = remaining.saturating_sub(CHROME);
            if text_space == 0 {
                new_last_ew = self.fold();
                continue;
            }
            let mut take = text_space.min(chars.len());
            let mut word: String = chars[..take].iter().collect();
            let mut encoded = encoded_word(&word);
            while encoded.len() > remaining && take > 1 {
                take -= 1;
                word = chars[..take].iter().collect();
                encoded = encoded_word(&word);
            }
            if encoded.len() > remaining && !self.current().trim_start().is_empty() {
                // Not even one character fits on this line: fold first.
                new_last_ew = self.fold();
                continue;
            }
            self.current().push_str(&encoded);
            chars.drain(..take);
            if !chars.is_empty() {
                self.lines.push(" ".to_owned());
                new_last_ew = 1;
            }
        }
        self.current().push_str(&trailing);
        self.last_ew = Some(new_last_ew);
        self.after_ew = true;
    }

    /// Forgets the last encoded word, so the next one is not combined with it.
    pub(crate) fn break_ew(&mut self) {
        self.last_ew = None;
    }

    /// Starts a new line holding `text` (used between list items that do not fit).
    pub(crate) fn push_line(&mut self, text: &str) {
        self.lines.push(text.to_owned());
        self.last_ew = None;
        self.after_ew = false;
    }

    /// The length of the current line.
    pub(crate) fn line_len(&self) -> usize {
        self.lines.last().map_or(0, String::len)
    }

    /// Appends to the current line without any check (list separators).
    pub(crate) fn push_raw(&mut self, text: &str) {
        self.after_ew = false;
        self.current().push_str(text);
    }

    /// The folded header, lines joined with `\n`, without the final line end.
    pub(crate) fn finish(self) -> String {
        self.lines.join("\n")
    }
}

/// Folds an unstructured header (`Subject`, `X-…`) as Python's policy does.
pub(crate) fn fold_unstructured(name: &str, value: &str) -> String {
    if value.is_empty() {
        return format!("{name}:");
    }
    if is_literal(value) && name.len() + 2 + value.len() <= MAX_LINE {
        return format!("{name}: {value}");
    }
    // Python tries the whole value on a line of its own before folding it word by word.
    if is_literal(value) && value.len() < MAX_LINE {
        return format!("{name}:\n {value}");
    }
    let mut folder = Folder::new(name);
    folder.push_ws(" ");
    for (is_ws, token) in split_ws(value) {
        if is_ws {
            folder.push_ws(token);
        } else {
            folder.push_word(token);
        }
    }
    folder.finish()
}

/// Splits text into alternating space and word tokens, for folding: a tab stays inside its
/// word (see [`is_plain_word`]).
pub(crate) fn split_ws(value: &str) -> Vec<(bool, &str)> {
    let mut tokens = Vec::new();
    let mut start = 0;
    let mut in_ws = None;
    for (i, c) in value.char_indices() {
        let ws = c == ' ';
        match in_ws {
            Some(prev) if prev != ws => {
                tokens.push((prev, &value[start..i]));
                start = i;
            }
            _ => {}
        }
        in_ws = Some(ws);
    }
    if let Some(prev) = in_ws {
        tokens.push((prev, &value[start..]));
    }
    tokens
}

/// Python's `email.utils.quote`-based `quote_string`.
pub(crate) fn quote_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn percent_encode(value: &str) -> String {
    let mut out = String::new();
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A header with a value and MIME parameters (`Content-Type`, `Content-Disposition`), folded
/// as Python's `_fold_mime_parameters` does (RFC 2231 for non-ASCII or overlong values).
pub(crate) fn fold_with_params(name: &str, value: &str, params: &[(&str, &str)]) -> String {
    let simple: String = params
        .iter()
        .fold(format!("{name}: {value}"), |mut acc, (k, v)| {
            acc.push_str("; ");
            acc.push_str(k);
            acc.push('=');
            acc.push_str(&quote_string(v));
            acc
        });
    if is_literal(&simple) && simple.len() <= MAX_LINE {
        return simple;
    }
    let mut lines = vec![format!("{name}: {value}")];
    for (pname, pvalue) in params {
        let last = lines.last_mut().expect("non-empty");
        if !last.trim_end().ends_with(';') {
            last.push(';');
        }
        let ascii = is_literal(pvalue);
        let charset = if ascii { "us-ascii" } else { "utf-8" };
        let tstr = if ascii {
            format!("{pname}={}", quote_string(pvalue))
        } else {
            format!("{pname}*={charset}''{}", percent_encode(pvalue))
        };
        let last_len = lines.last().map_or(0, String::len);
        if last_len + tstr.len() + 1 < MAX_LINE {
            lines
                .last_mut()
                .expect("non-empty")
                .push_str(&format!(" {tstr}"));
            continue;
        }
        if tstr.len() + 2 <= MAX_LINE {
            lines.push(format!(" {tstr}"));
            continue;
        }
        let mut section = 0;
        let mut extra = format!("{charset}''");
        let mut rest: Vec<char> = pvalue.chars().collect();
        while !rest.is_empty() {
            let chrome = pname.len() + section.to_string().len() + 3 + extra.len();
            let max_chars = MAX_LINE.saturating_sub(chrome + 2).max(1);
            let mut split = max_chars.min(rest.len());
            let mut encoded;
            loop {
                let part: String = rest[..split].iter().collect();
                encoded = percent_encode(&part);
                if encoded.len() <= max_chars || split == 1 {
                    break;
                }
                split -= 1;
            }
            lines.push(format!(" {pname}*{section}*={extra}{encoded}"));
            extra.clear();
            section += 1;
            rest.drain(..split);
            if !rest.is_empty() {
                lines.last_mut().expect("non-empty").push(';');
            }
        }
    }
    lines.join("\n")
}

/// A body part's transfer encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cte {
    SevenBit,
    EightBit,
    QuotedPrintable,
    Base64,
}

impl Cte {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::SevenBit => "7bit",
            Self::EightBit => "8bit",
            Self::QuotedPrintable => "quoted-printable",
            Self::Base64 => "base64",
        }
    }
}

/// `bytes.splitlines()`: splits on `\n`, `\r\n` and `\r`.
fn split_lines(data: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\n' => {
                lines.push(&data[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&data[start..i]);
                if data.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < data.len() {
        lines.push(&data[start..]);
    }
    lines
}

fn join_lines(lines: &[&[u8]], sep: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line);
        out.extend_from_slice(sep);
    }
    out
}

/// Python's `_encode_text` (`email.contentmanager`): the encoded payload of a text part and
/// its transfer encoding. `linesep` is the policy's (`\n` or `\r\n`); it shows inside base64.
pub(crate) fn encode_text(data: &[u8], linesep: &str) -> (Cte, Vec<u8>) {
    let lines = split_lines(data);
    let normal = || join_lines(&lines, b"\n");
    if lines.iter().map(|l| l.len()).max().unwrap_or(0) <= MAX_LINE {
        let body = normal();
        return (
            if body.is_ascii() {
                Cte::SevenBit
            } else {
                Cte::EightBit
            },
            body,
        );
    }
    let sniff = join_lines(&lines[..lines.len().min(10)], linesep.as_bytes());
    let sniff_qp = qp_body_encode(&sniff);
    let sniff_b64_len = b_len(&sniff) + 1;
    if sniff_qp.len() > sniff_b64_len {
        (
            Cte::Base64,
            base64_lines(&join_lines(&lines, linesep.as_bytes())),
        )
    } else if lines.len() <= 10 {
        (Cte::QuotedPrintable, sniff_qp)
    } else {
        (Cte::QuotedPrintable, qp_body_encode(&normal()))
    }
}

/// Python's `_encode_base64`: 57 bytes (76 characters) per line, each line ended by `\n`.
pub(crate) fn base64_lines(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * 4 / 3 + data.len() / 57 + 4);
    for chunk in data.chunks(MAX_LINE / 4 * 3) {
        out.extend_from_slice(STANDARD.encode(chunk).as_bytes());
        out.push(b'\n');
    }
    out
}

fn qp_literal(b: u8) -> bool {
    (b == b'\t' || (b' '..=b'~').contains(&b)) && b != b'='
}

/// Python's `quoprimime.body_encode(body, 78)` on latin-1-decoded bytes.
fn qp_body_encode(body: &[u8]) -> Vec<u8> {
    if body.is_empty() {
        return Vec::new();
    }
    let mut translated = String::with_capacity(body.len() * 2);
    for &b in body {
        if qp_literal(b) || b == b'\r' || b == b'\n' {
            translated.push(b as char);
        } else {
            translated.push_str(&format!("={b:02X}"));
        }
    }
    let max1 = MAX_LINE - 1;
    let mut encoded: Vec<String> = Vec::new();
    for line in split_lines(translated.as_bytes()) {
        let line = std::str::from_utf8(line).expect("translated text is ASCII");
        let bytes = line.as_bytes();
        let mut start = 0usize;
        let last_start = bytes.len() as isize - 1 - MAX_LINE as isize;
        while start as isize <= last_start {
            let stop = start + max1;
            if bytes[stop - 2] == b'=' {
                encoded.push(line[start..stop - 1].to_owned());
                start = stop - 2;
            } else if bytes[stop - 1] == b'=' {
                encoded.push(line[start..stop].to_owned());
                start = stop - 1;
            } else {
                encoded.push(format!("{}=", &line[start..stop]));
                start = stop;
            }
        }
        if let Some(&last) = bytes.last().filter(|b| **b == b' ' || **b == b'\t') {
            let room = start as isize - last_start;
            let quoted = format!("={last:02X}");
            let q = if room >= 3 {
                quoted
            } else if room == 2 {
                format!("{}=\n", last as char)
            } else {
                format!("=\n{quoted}")
            };
            encoded.push(format!("{}{q}", &line[start..bytes.len() - 1]));
        } else {
            encoded.push(line[start..].to_owned());
        }
    }
    if matches!(body.last(), Some(b'\r' | b'\n')) {
        encoded.push(String::new());
    }
    encoded.join("\n").into_bytes()
}

#[cfg(test)]
mod tests;
