//! The preprocessor: turns Django's partial tags into plain Tera 2 source.
//!
//! Tera 2 has no custom tags, so before a template reaches Tera its source is scanned once
//! (skipping comments, `{% raw %}` and the content of strings, with the instance's delimiters):
//!
//! * the body of each `{% partialdef NAME %}…{% endpartialdef %}` becomes a template of its own,
//!   named `"file#NAME"`, padded with a comment holding as many newlines as precede the body in
//!   the file, so that Tera's errors point at the file's own lines;
//! * a non-inline definition is replaced by a comment with the newlines it spanned (it renders
//!   nothing, like Django's), an inline one by `{% include "file#NAME" %}` plus that comment;
//! * `{% partial NAME %}` becomes `{% include "file#NAME" %}`, so the partial renders in the
//!   context where it is used; a name the file does not define becomes a call that fails with
//!   Django's message when (and only when) it is rendered, as in Django;
//! * inside a partial body, `loop.index`, `loop.index0`, `loop.first`, `loop.last` and
//!   `loop.length` that are not inside a `{% for %}` of the body are rewritten to the names Tera
//!   gives the innermost loop of the caller, which an include can see.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::error::Error;

/// The Tera function that a use of an undefined partial turns into.
pub(crate) const UNDEFINED_PARTIAL_FN: &str = "__djrs_undefined_partial";

/// The delimiters of the Tera instance (each exactly two bytes, checked by Tera).
#[derive(Debug, Clone)]
pub(crate) struct Delims {
    pub(crate) block: (String, String),
    pub(crate) var: (String, String),
    pub(crate) comment: (String, String),
}

impl Default for Delims {
    fn default() -> Self {
        Self {
            block: ("{%".into(), "%}".into()),
            var: ("{{".into(), "}}".into()),
            comment: ("{#".into(), "#}".into()),
        }
    }
}

impl From<&tera::Delimiters> for Delims {
    fn from(d: &tera::Delimiters) -> Self {
        Self {
            block: (d.block_start.to_string(), d.block_end.to_string()),
            var: (d.variable_start.to_string(), d.variable_end.to_string()),
            comment: (d.comment_start.to_string(), d.comment_end.to_string()),
        }
    }
}

/// One partial found in a file.
#[derive(Debug, Clone)]
pub(crate) struct Partial {
    /// The name as written (`card`, `"quoted"`, `my-card.v2`).
    pub(crate) name: String,
    /// The Tera source registered as `"file#name"`.
    pub(crate) tera_source: String,
    /// The definition as written, from `{% partialdef %}` to its end tag (Django's
    /// `PartialTemplate.source`).
    pub(crate) source: String,
}

/// A preprocessed file: its own Tera source and its partials, in definition order.
#[derive(Debug, Clone)]
pub(crate) struct Preprocessed {
    pub(crate) main: String,
    pub(crate) partials: Vec<Partial>,
}

/// A piece of output: text, or a use of a partial resolved once the whole file is read.
#[derive(Debug)]
enum Piece {
    Text(String),
    Use {
        name: String,
        line: usize,
        trim_left: bool,
        trim_right: bool,
    },
}

#[derive(Debug)]
struct Frame {
    name: String,
    inline: bool,
    line: usize,
    def_start: usize,
    trim_left: bool,
    pieces: Vec<Piece>,
    for_depth: usize,
    /// Depth of `{% block %}` tags (counted in the file's own frame only).
    block_depth: usize,
}

impl Frame {
    fn push_text(&mut self, text: &str) {
        if let Some(Piece::Text(last)) = self.pieces.last_mut() {
            last.push_str(text);
        } else {
            self.pieces.push(Piece::Text(text.to_owned()));
        }
    }
}

/// What a block tag contains: its trimmed content and whitespace-control markers.
struct Tag<'a> {
    content: &'a str,
    trim_left: bool,
    trim_right: bool,
}

fn syntax(template: &str, line: usize, message: impl Into<String>) -> Error {
    Error::Syntax {
        template: template.to_owned(),
        line,
        message: message.into(),
    }
}

/// Splits tag content like Django's `Token.split_contents`: on whitespace, keeping quoted
/// strings (with `"` or `'`) together.
fn split_contents(content: &str) -> Vec<&str> {
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
fn find_end(source: &str, from: usize, end: &str) -> Option<usize> {
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
fn rewrite_loop_vars(text: &str) -> String {
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
fn quoted(template: &str, line: usize, value: &str) -> Result<String, Error> {
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
fn padding(d: &Delims, newlines: usize, trim_left: bool, trim_right: bool) -> String {
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

/// Preprocesses the source of the template `template`.
pub(crate) fn preprocess(template: &str, source: &str, d: &Delims) -> Result<Preprocessed, Error> {
    let mut frames: Vec<Frame> = vec![Frame {
        name: String::new(),
        inline: false,
        line: 1,
        def_start: 0,
        trim_left: false,
        pieces: Vec::new(),
        for_depth: 0,
        block_depth: 0,
    }];
    // A child template (`{% extends %}`) outputs nothing outside its blocks; Tera even refuses
    // content there, so uses of partials at that level render nothing, as in Django.
    let mut is_child = false;
    let mut partials: Vec<Partial> = Vec::new();
    let mut finished: Vec<(String, Vec<Piece>, String)> = Vec::new();
    let mut defined: HashMap<String, usize> = HashMap::new();

    let mut pos = 0;
    let mut line = 1;
    // `line` is the line of `pos`; advances as text is consumed.
    let advance = |line: &mut usize, text: &str| *line += text.matches('\n').count();

    while pos < source.len() {
        // Find the next opening delimiter of any kind.
        let next = [&d.block.0, &d.var.0, &d.comment.0]
            .iter()
            .filter_map(|start| {
                source[pos..]
                    .find(start.as_str())
                    .map(|p| (p + pos, *start))
            })
            .min_by_key(|(p, _)| *p);
        let Some((start, kind)) = next else {
            let rest = &source[pos..];
            push_text(frames.last_mut(), rest, false);
            break;
        };
        if start > pos {
            let text = &source[pos..start];
            push_text(frames.last_mut(), text, false);
            advance(&mut line, text);
        }
        let tag_line = line;
        if kind == &d.comment.0 {
            let end = source[start + 2..]
                .find(d.comment.1.as_str())
                .map_or(source.len(), |p| p + start + 2 + 2);
            let text = &source[start..end];
            push_text(frames.last_mut(), text, false);
            advance(&mut line, text);
            pos = end;
            continue;
        }
        let end_delim = if kind == &d.var.0 {
            &d.var.1
        } else {
            &d.block.1
        };
        let Some(end) = find_end(source, start + 2, end_delim) else {
            // Unterminated: hand the rest to Tera, which reports it with its line.
            let rest = &source[start..];
            push_text(frames.last_mut(), rest, false);
            break;
        };
        let full_end = end + 2;
        let full = &source[start..full_end];
        if kind == &d.var.0 {
            let rewrite = frames.len() > 1 && frames.last().is_some_and(|f| f.for_depth == 0);
            push_text(frames.last_mut(), full, rewrite);
            advance(&mut line, full);
            pos = full_end;
            continue;
        }
        // A block tag.
        let mut inner = &source[start + 2..end];
        let trim_left = inner.starts_with('-');
        if trim_left {
            inner = &inner[1..];
        }
        let trim_right = inner.ends_with('-');
        if trim_right {
            inner = &inner[..inner.len() - 1];
        }
        let tag = Tag {
            content: inner.trim(),
            trim_left,
            trim_right,
        };
        let bits = split_contents(tag.content);
        let command = bits.first().copied().unwrap_or("");
        advance(&mut line, full);
        pos = full_end;
        match command {
            "raw" => {
                // Copy verbatim up to and including the matching `endraw` tag.
                let mut search = full_end;
                let mut raw_end = source.len();
                while let Some(p) = source[search..].find(d.block.0.as_str()) {
                    let s = search + p;
                    let Some(e) = source[s + 2..].find(d.block.1.as_str()) else {
                        break;
                    };
                    let e = s + 2 + e;
                    let content = source[s + 2..e].trim_matches('-').trim();
                    if content == "endraw" {
                        raw_end = e + 2;
                        break;
                    }
                    search = e + 2;
                }
                let text = &source[start..raw_end];
                push_text(frames.last_mut(), text, false);
                advance(&mut line, &source[full_end..raw_end]);
                pos = raw_end;
            }
            "partialdef" => {
                let (name, inline) = match bits.as_slice() {
                    [_, name, "inline"] => (*name, true),
                    [_, _, _] => {
                        return Err(syntax(
                            template,
                            tag_line,
                            "The 'inline' argument does not have any parameters; either use \
                             'inline' or remove it completely.",
                        ));
                    }
                    [_, name] => (*name, false),
                    [_] => {
                        return Err(syntax(
                            template,
                            tag_line,
                            "'partialdef' tag requires a name",
                        ));
                    }
                    _ => {
                        return Err(syntax(
                            template,
                            tag_line,
                            "'partialdef' tag takes at most 2 arguments",
                        ));
                    }
                };
                frames.push(Frame {
                    name: name.to_owned(),
                    inline,
                    line: tag_line,
                    def_start: start,
                    trim_left: tag.trim_left,
                    pieces: Vec::new(),
                    for_depth: 0,
                    block_depth: 0,
                });
                // Pad the body so that its first character sits on its line in the file.
                let body_line = line;
                let pad = padding(d, body_line - 1, false, tag.trim_right);
                if let Some(f) = frames.last_mut() {
                    f.push_text(&pad);
                }
            }
            "endpartialdef" => {
                if frames.len() == 1 {
                    return Err(syntax(
                        template,
                        tag_line,
                        format!(
                            "Invalid block tag on line {tag_line}: 'endpartialdef'. Did you \
                             forget to register or load this tag?"
                        ),
                    ));
                }
                let Some(mut frame) = frames.pop() else {
                    unreachable!("checked above: more than one frame")
                };
                let expected_named = format!("endpartialdef {}", frame.name);
                if tag.content != "endpartialdef" && tag.content != expected_named {
                    return Err(syntax(
                        template,
                        tag_line,
                        format!(
                            "Invalid block tag on line {tag_line}: 'endpartialdef', expected \
                             'endpartialdef' or '{expected_named}'. Did you forget to register \
                             or load this tag?"
                        ),
                    ));
                }
                if tag.trim_left {
                    let pad = padding(d, 0, true, false);
                    frame.push_text(&pad);
                }
                if defined.contains_key(&frame.name) {
                    return Err(syntax(
                        template,
                        frame.line,
                        format!(
                            "Partial '{}' is already defined in the '{template}' template.",
                            frame.name
                        ),
                    ));
                }
                defined.insert(frame.name.clone(), finished.len());
                let def_source = source[frame.def_start..full_end].to_owned();
                let spanned = def_source.matches('\n').count();
                let top_of_child = is_child && frames.len() == 1 && frames[0].block_depth == 0;
                let parent = frames
                    .last_mut()
                    .unwrap_or_else(|| unreachable!("main frame stays"));
                if frame.inline && !top_of_child {
                    parent.pieces.push(Piece::Use {
                        name: frame.name.clone(),
                        line: frame.line,
                        trim_left: frame.trim_left,
                        trim_right: false,
                    });
                    let pad = padding(d, spanned, false, tag.trim_right);
                    parent.push_text(&pad);
                } else {
                    let pad = padding(d, spanned, frame.trim_left, tag.trim_right);
                    parent.push_text(&pad);
                }
                finished.push((frame.name, frame.pieces, def_source));
            }
            "partial" => {
                let [_, name] = bits.as_slice() else {
                    return Err(syntax(
                        template,
                        tag_line,
                        "'partial' tag requires a single argument",
                    ));
                };
                let top_of_child = is_child && frames.len() == 1 && frames[0].block_depth == 0;
                if top_of_child {
                    // Ignored, as Django ignores content outside a child's blocks.
                } else if let Some(f) = frames.last_mut() {
                    f.pieces.push(Piece::Use {
                        name: (*name).to_owned(),
                        line: tag_line,
                        trim_left: tag.trim_left,
                        trim_right: tag.trim_right,
                    });
                }
            }
            _ => {
                let in_partial = frames.len() > 1;
                if !in_partial {
                    match command {
                        "extends" => {
                            is_child = true;
                            // Django loads a parent with the loaders, which do not know `#`.
                            if let Some(parent) = bits.get(1).filter(|b| b.contains('#')) {
                                return Err(Error::TemplateDoesNotExist {
                                    name: parent.trim_matches(['"', '\'', '`']).to_owned(),
                                    tried: vec![template.to_owned()],
                                });
                            }
                        }
                        "block" => frames[0].block_depth += 1,
                        "endblock" => {
                            frames[0].block_depth = frames[0].block_depth.saturating_sub(1)
                        }
                        _ => {}
                    }
                }
                if let Some(f) = frames.last_mut() {
                    if command == "endfor" {
                        f.for_depth = f.for_depth.saturating_sub(1);
                    }
                    let rewrite = in_partial && f.for_depth == 0;
                    // `{% for x in loop.… %}` still belongs to the outer loop.
                    push_text(Some(&mut *f), full, rewrite);
                    if command == "for" {
                        f.for_depth += 1;
                    }
                }
            }
        }
    }

    if frames.len() > 1 {
        let frame = &frames[frames.len() - 1];
        return Err(syntax(
            template,
            frame.line,
            format!(
                "Unclosed tag on line {}: 'partialdef'. Looking for one of: endpartialdef, \
                 endpartialdef {}.",
                frame.line, frame.name
            ),
        ));
    }
    let main_frame = frames
        .pop()
        .unwrap_or_else(|| unreachable!("main frame stays"));
    let main = resolve(template, main_frame.pieces, &defined, d)?;
    for (name, pieces, def_source) in finished {
        let tera_source = resolve(template, pieces, &defined, d)?;
        partials.push(Partial {
            name,
            tera_source,
            source: def_source,
        });
    }
    Ok(Preprocessed { main, partials })
}

fn push_text(frame: Option<&mut Frame>, text: &str, rewrite: bool) {
    if let Some(f) = frame {
        if rewrite && text.contains("loop") {
            f.push_text(&rewrite_loop_vars(text));
        } else {
            f.push_text(text);
        }
    }
}

/// Turns the pieces of one frame into Tera source, now that every definition is known.
fn resolve(
    template: &str,
    pieces: Vec<Piece>,
    defined: &HashMap<String, usize>,
    d: &Delims,
) -> Result<String, Error> {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(&text),
            Piece::Use {
                name,
                line,
                trim_left,
                trim_right,
            } => {
                let l = if trim_left { "-" } else { "" };
                let r = if trim_right { "-" } else { "" };
                if defined.contains_key(&name) {
                    let target = quoted(template, line, &format!("{template}#{name}"))?;
                    let _ = write!(out, "{}{l} include {target} {r}{}", d.block.0, d.block.1);
                } else {
                    let name_lit = quoted(template, line, &name)?;
                    let tpl_lit = quoted(template, line, template)?;
                    let _ = write!(
                        out,
                        "{}{l} {UNDEFINED_PARTIAL_FN}(name={name_lit}, template={tpl_lit}, \
                         line={line}) {r}{}",
                        d.var.0, d.var.1
                    );
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pp(src: &str) -> Preprocessed {
        preprocess("t.html", src, &Delims::default()).unwrap()
    }

    #[test]
    fn definitions_become_includes_and_comments() {
        let p = pp("{% partialdef a %}A{% endpartialdef %}x{% partial a %}");
        assert_eq!(p.main, "x{% include \"t.html#a\" %}");
        assert_eq!(p.partials[0].tera_source, "A");
        assert_eq!(
            p.partials[0].source,
            "{% partialdef a %}A{% endpartialdef %}"
        );
        let p = pp("{% partialdef a inline %}A{% endpartialdef a %}");
        assert_eq!(p.main, "{% include \"t.html#a\" %}");
    }

    #[test]
    fn lines_are_kept() {
        let p = pp("1\n{% partialdef a %}\nA\n{% endpartialdef %}\n{{ x }}");
        assert_eq!(p.main, "1\n{# \n\n#}\n{{ x }}");
        assert_eq!(p.partials[0].tera_source, "{# \n#}\nA\n");
    }

    #[test]
    fn loop_fields_are_rewritten_outside_body_loops_only() {
        let p = pp(
            "{% partialdef a %}{{ loop.index }}{% for y in ys %}{{ loop.index }}{% endfor %}\
             {{ 'loop.index' }}{{ myloop.index }}{% endpartialdef %}",
        );
        assert_eq!(
            p.partials[0].tera_source,
            "{{ __tera_loop_index }}{% for y in ys %}{{ loop.index }}{% endfor %}\
             {{ 'loop.index' }}{{ myloop.index }}"
        );
    }

    #[test]
    fn loop_fields_inside_strings_are_left_alone() {
        for quote in ['"', '\'', '`'] {
            let source = format!(
                "{{% partialdef a %}}{{{{ {quote} loop.index{quote} ~ loop.index }}}}{{% endpartialdef %}}"
            );
            assert_eq!(
                pp(&source).partials[0].tera_source,
                format!("{{{{ {quote} loop.index{quote} ~ __tera_loop_index }}}}"),
                "{quote}"
            );
        }
    }

    #[test]
    fn a_comment_ends_at_its_own_end_delimiter() {
        // A tag opener just before the comment's end is part of the comment.
        let p = pp("x{# {%#}{% partialdef a %}A{% endpartialdef %}");
        assert_eq!(p.main, "x{# {%#}");
        assert_eq!(p.partials[0].tera_source, "A");
    }

    #[test]
    fn rewrite_loop_vars_table() {
        for (text, want) in [
            ("loop", "loop"),
            ("loop ", "loop "),
            ("loop.", "loop."),
            ("loop. ", "loop. "),
            ("loop.index", "__tera_loop_index"),
            ("loop  .  first", "__tera_loop_first"),
            ("{{ loop.length }}", "{{ __tera_loop_length }}"),
            (
                "x.loop.index my_loop.index loop.indexes",
                "x.loop.index my_loop.index loop.indexes",
            ),
            ("'loop.index' loop.last", "'loop.index' __tera_loop_last"),
        ] {
            assert_eq!(rewrite_loop_vars(text), want, "{text:?}");
        }
    }

    #[test]
    fn loop_fields_outside_partials_are_left_alone() {
        for source in [
            "{{ loop.index }}",
            "{% if loop.first %}x{% endif %}",
            "{% for x in xs %}{{ loop.index }}{% endfor %}{{ loop.last }}",
        ] {
            assert_eq!(pp(source).main, source);
        }
    }

    #[test]
    fn a_raw_block_ends_at_endraw_only() {
        // A tag inside the raw block that ends with a tag opener is skipped whole.
        for source in [
            "{% raw %}{% a {%%}{% endraw %}b",
            "{% raw %}{% a %}{%- endraw -%}b",
        ] {
            let p = pp(source);
            assert_eq!(p.main, source);
            assert!(p.partials.is_empty());
        }
        let p = pp("{% raw %}{% partialdef a %}{% endraw %}{% partialdef b %}B{% endpartialdef %}");
        assert_eq!(p.main, "{% raw %}{% partialdef a %}{% endraw %}");
        assert_eq!(p.partials[0].name, "b");
    }

    #[test]
    fn raw_and_comments_are_left_alone() {
        let src = "{% raw %}{% partial x %}{% endraw %}{# {% partialdef y %} #}";
        assert_eq!(pp(src).main, src);
    }

    #[test]
    fn undefined_use_becomes_a_failing_call() {
        let p = pp("{% partial nope %}");
        assert_eq!(
            p.main,
            "{{ __djrs_undefined_partial(name=\"nope\", template=\"t.html\", line=1) }}"
        );
    }

    #[test]
    fn preprocess_table() {
        // (source, main template, partials as (name, Tera source))
        type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
        let cases: &[Case<'_>] = &[
            (
                "{% partialdef \"my card\" %}C{% endpartialdef %}{% partial \"my card\" %}",
                "{% include 't.html#\"my card\"' %}",
                &[("\"my card\"", "C")],
            ),
            (
                "{% partialdef a\"b'c %}Q{% endpartialdef %}{% partial a\"b'c %}",
                "{% include `t.html#a\"b'c` %}",
                &[("a\"b'c", "Q")],
            ),
            (
                "{%- partialdef a -%} A {%- endpartialdef -%} x {%- partial a -%}",
                "{#- -#} x {%- include \"t.html#a\" -%}",
                &[("a", "{# -#} A {#- #}")],
            ),
            (
                "{% partialdef a inline -%}A{%- endpartialdef %}",
                "{% include \"t.html#a\" %}",
                &[("a", "{# -#}A{#- #}")],
            ),
            (
                "{%- partial nope -%}",
                "{{- __djrs_undefined_partial(name=\"nope\", template=\"t.html\", line=1) -}}",
                &[],
            ),
            (
                "{{ \"}}\" }}{% if x == \"%}\" %}{% partial a %}{% endif %}{% partialdef a %}A{% endpartialdef %}",
                "{{ \"}}\" }}{% if x == \"%}\" %}{% include \"t.html#a\" %}{% endif %}",
                &[("a", "A")],
            ),
            (
                "{{ `}}` }}{% partialdef a %}{{ loop.index }}{% endpartialdef %}",
                "{{ `}}` }}",
                &[("a", "{{ __tera_loop_index }}")],
            ),
            (
                "{{ \"abc }}{% partial a %}{% partialdef a %}A{% endpartialdef %}",
                "{{ \"abc }}{% include \"t.html#a\" %}",
                &[("a", "A")],
            ),
            (
                "{% partialdef a %}{{ loop . index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.other }}{{ x.loop.index }}{{ _loop.index }}{{ loop.indexes }}{{ `loop.index` }}{% endpartialdef %}",
                "",
                &[(
                    "a",
                    "{{ __tera_loop_index0 }}{{ __tera_loop_first }}{{ __tera_loop_last }}{{ __tera_loop_length }}{{ loop.other }}{{ x.loop.index }}{{ _loop.index }}{{ loop.indexes }}{{ `loop.index` }}",
                )],
            ),
            (
                "{% partialdef a %}{% for x in loop.index %}{{ loop.index }}{% for y in z %}{{ loop.first }}{% endfor %}{{ loop.last }}{% endfor %}{{ loop.length }}{% endpartialdef %}",
                "",
                &[(
                    "a",
                    "{% for x in __tera_loop_index %}{{ loop.index }}{% for y in z %}{{ loop.first }}{% endfor %}{{ loop.last }}{% endfor %}{{ __tera_loop_length }}",
                )],
            ),
            (
                "{% partialdef a %}{% partialdef b inline %}B{{ loop.index }}{% endpartialdef %}A{% endpartialdef %}{% partial b %}",
                "{% include \"t.html#b\" %}",
                &[
                    ("b", "B{{ __tera_loop_index }}"),
                    ("a", "{% include \"t.html#b\" %}A"),
                ],
            ),
            (
                "{% extends \"base.html\" %}{% partial a %}{% partialdef a inline %}A{% endpartialdef %}{% block c %}{% partial a %}{% endblock %}{% partial a %}",
                "{% extends \"base.html\" %}{% block c %}{% include \"t.html#a\" %}{% endblock %}",
                &[("a", "A")],
            ),
            (
                "{% extends \"base.html\" %}{% block c %}{% block d %}{% endblock %}{% partial a %}{% endblock %}{% partialdef a %}A{% endpartialdef %}",
                "{% extends \"base.html\" %}{% block c %}{% block d %}{% endblock %}{% include \"t.html#a\" %}{% endblock %}",
                &[("a", "A")],
            ),
            (
                "{%- raw -%}{% partial x %}{%- endraw -%}{% partial y %}",
                "{%- raw -%}{% partial x %}{%- endraw -%}{{ __djrs_undefined_partial(name=\"y\", template=\"t.html\", line=1) }}",
                &[],
            ),
            ("{% raw %}{% partial x %}", "{% raw %}{% partial x %}", &[]),
            (
                "{# unterminated {% partial x %}",
                "{# unterminated {% partial x %}",
                &[],
            ),
            ("{% partial x", "{% partial x", &[]),
            ("x{{ y }}", "x{{ y }}", &[]),
            (
                "a\n{% partialdef a %}\n{% partial b %}\n{% endpartialdef %}",
                "a\n{# \n\n#}",
                &[(
                    "a",
                    "{# \n#}\n{{ __djrs_undefined_partial(name=\"b\", template=\"t.html\", line=3) }}\n",
                )],
            ),
        ];
        for (source, main, partials) in cases {
            let p = preprocess("t.html", source, &Delims::default())
                .unwrap_or_else(|err| panic!("{source:?}: {err}"));
            assert_eq!(p.main, *main, "{source:?}");
            let got: Vec<(&str, &str)> = p
                .partials
                .iter()
                .map(|x| (x.name.as_str(), x.tera_source.as_str()))
                .collect();
            assert_eq!(got, *partials, "{source:?}");
        }
    }

    #[test]
    fn mistakes_are_errors_with_their_line() {
        // (source, line, message): a typo is an error, never a template that renders wrong.
        let cases: &[(&str, usize, &str)] = &[
            (
                "{% partialdef a\"b'c`d %}Q{% endpartialdef %}{% partial a\"b'c`d %}",
                1,
                "The name \"t.html#a\\\"b'c`d\" contains all three quote characters (\", ' and `), so Tera cannot refer to it; rename the partial or the template.",
            ),
            (
                "{% partialdef a %}",
                1,
                "Unclosed tag on line 1: 'partialdef'. Looking for one of: endpartialdef, endpartialdef a.",
            ),
            (
                "{% partialdef a other %}{% endpartialdef %}",
                1,
                "The 'inline' argument does not have any parameters; either use 'inline' or remove it completely.",
            ),
            (
                "{% partialdef a inline x %}{% endpartialdef %}",
                1,
                "'partialdef' tag takes at most 2 arguments",
            ),
            ("{% partialdef %}", 1, "'partialdef' tag requires a name"),
            (
                "{% endpartialdef %}",
                1,
                "Invalid block tag on line 1: 'endpartialdef'. Did you forget to register or load this tag?",
            ),
            (
                "{% partialdef a %}A{% endpartialdef b %}",
                1,
                "Invalid block tag on line 1: 'endpartialdef', expected 'endpartialdef' or 'endpartialdef a'. Did you forget to register or load this tag?",
            ),
            (
                "{% partial %}",
                1,
                "'partial' tag requires a single argument",
            ),
            (
                "{% partialdef a %}A{% endpartialdef %}\n{% partialdef a %}B{% endpartialdef %}",
                2,
                "Partial 'a' is already defined in the 't.html' template.",
            ),
            (
                "{{ x\n}}{# c\n#}{% raw %}\n{% endraw %}{% partial %}",
                4,
                "'partial' tag requires a single argument",
            ),
        ];
        for (source, line, message) in cases {
            match preprocess("t.html", source, &Delims::default()) {
                Err(Error::Syntax {
                    template,
                    line: got_line,
                    message: got,
                }) => {
                    assert_eq!(template, "t.html", "{source:?}");
                    assert_eq!((got_line, got.as_str()), (*line, *message), "{source:?}");
                }
                other => panic!("{source:?}: {other:?}"),
            }
        }
        // A quote in a name opens a string up to the next quote, several tags away: an error
        // about the unclosed definition, not a template that renders something else.
        let unbalanced = "{% partialdef it's %}I{% endpartialdef %}{% partial it's %}";
        let err = preprocess("t.html", unbalanced, &Delims::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("Unclosed tag on line 1: 'partialdef'"),
            "{err}"
        );
        let err = preprocess(
            "t.html",
            "{% extends \"other.html#frag\" %}",
            &Delims::default(),
        );
        assert!(
            matches!(err, Err(Error::TemplateDoesNotExist { ref name, ref tried }) if name == "other.html#frag" && tried == &["t.html"]),
            "{err:?}"
        );
    }

    #[test]
    fn split_contents_table() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("   ", &[]),
            ("partialdef a", &["partialdef", "a"]),
            ("  a \t\n b  ", &["a", "b"]),
            ("a \"b c\" 'd e'", &["a", "\"b c\"", "'d e'"]),
            ("a\"b c\"d e", &["a\"b c\"d", "e"]),
            ("\"it's\" x", &["\"it's\"", "x"]),
            ("'unclosed x", &["'unclosed x"]),
        ];
        for (content, want) in cases {
            assert_eq!(split_contents(content), *want, "{content:?}");
        }
    }

    #[test]
    fn errors_carry_line() {
        let e = preprocess("t.html", "\n\n{% partialdef %}", &Delims::default()).unwrap_err();
        assert!(matches!(e, Error::Syntax { line: 3, .. }), "{e:?}");
        let e = preprocess("t.html", "\n{% partialdef a %}", &Delims::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Template: t.html, Unclosed tag on line 2: 'partialdef'. Looking for one of: \
             endpartialdef, endpartialdef a. (line 2)"
        );
    }

    #[test]
    fn non_ascii_text_next_to_loop_fields() {
        let p = pp(
            "{% partialdef a %}{{ \"é\" ~ loop.index ~ 'ü' }}ü{{ éloop.index }}{% endpartialdef %}",
        );
        assert_eq!(
            p.partials[0].tera_source,
            "{{ \"é\" ~ __tera_loop_index ~ 'ü' }}ü{{ éloop.index }}"
        );
    }

    #[test]
    fn custom_delimiters() {
        let d = Delims::from(&tera::Delimiters {
            block_start: "<%".into(),
            block_end: "%>".into(),
            variable_start: "<<".into(),
            variable_end: ">>".into(),
            comment_start: "<#".into(),
            comment_end: "#>".into(),
        });
        assert_eq!(
            (d.block, d.var, d.comment),
            (
                ("<%".to_owned(), "%>".to_owned()),
                ("<<".to_owned(), ">>".to_owned()),
                ("<#".to_owned(), "#>".to_owned())
            )
        );
        let d = Delims {
            block: ("<%".into(), "%>".into()),
            var: ("<<".into(), ">>".into()),
            comment: ("<#".into(), "#>".into()),
        };
        let p = preprocess(
            "t.html",
            "<% partialdef a %>A<% endpartialdef %>\n<% partial a %>",
            &d,
        )
        .unwrap();
        assert_eq!(p.main, "\n<% include \"t.html#a\" %>");
    }
}
