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

mod scan;

use std::collections::HashMap;
use std::fmt::Write as _;

use self::scan::{find_end, padding, quoted, rewrite_loop_vars, split_contents};
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

/// A preprocessed file: its own Tera source, its partials in definition order, and the uses of
/// partials it does not define.
#[derive(Debug, Clone)]
pub(crate) struct Preprocessed {
    pub(crate) main: String,
    pub(crate) partials: Vec<Partial>,
    pub(crate) undefined: Vec<UndefinedUse>,
}

/// A `{% partial NAME %}` of a name the file does not define: what the error it raises when
/// rendered reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UndefinedUse {
    /// The Tera template holding the use: the file's name, or `"file#partial"`.
    pub(crate) tera_template: String,
    /// The undefined name.
    pub(crate) name: String,
    /// The 1-based line of the tag in the file.
    pub(crate) line: usize,
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

/// A file or partial body being read: its pieces so far and the tags it is inside.
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
    fn new(name: String, inline: bool, line: usize, def_start: usize, trim_left: bool) -> Self {
        Frame {
            name,
            inline,
            line,
            def_start,
            trim_left,
            pieces: Vec::new(),
            for_depth: 0,
            block_depth: 0,
        }
    }

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

impl<'a> Tag<'a> {
    /// Reads the text between a block tag's delimiters.
    fn parse(mut inner: &'a str) -> Self {
        let trim_left = inner.starts_with('-');
        if trim_left {
            inner = &inner[1..];
        }
        let trim_right = inner.ends_with('-');
        if trim_right {
            inner = &inner[..inner.len() - 1];
        }
        Tag {
            content: inner.trim(),
            trim_left,
            trim_right,
        }
    }
}

fn syntax(template: &str, line: usize, message: impl Into<String>) -> Error {
    Error::Syntax {
        template: template.to_owned(),
        line,
        message: message.into(),
    }
}

/// Preprocesses the source of the template `template`.
pub(crate) fn preprocess(template: &str, source: &str, d: &Delims) -> Result<Preprocessed, Error> {
    let mut rewriter = Rewriter {
        template,
        source,
        d,
        frames: vec![Frame::new(String::new(), false, 1, 0, false)],
        is_child: false,
        finished: Vec::new(),
        defined: HashMap::new(),
        pos: 0,
        line: 1,
    };
    rewriter.scan()?;
    rewriter.finish()
}

/// The rewriter's state while it reads one file: one method per tag it handles.
struct Rewriter<'a> {
    template: &'a str,
    source: &'a str,
    d: &'a Delims,
    /// The file's own frame, then one per open `{% partialdef %}`.
    frames: Vec<Frame>,
    /// A child template (`{% extends %}`) outputs nothing outside its blocks; Tera even refuses
    /// content there, so uses of partials at that level render nothing, as in Django.
    is_child: bool,
    /// Closed definitions: name, pieces, the definition as written.
    finished: Vec<(String, Vec<Piece>, String)>,
    defined: HashMap<String, usize>,
    pos: usize,
    /// The line of `pos`; advances as text is consumed.
    line: usize,
}

impl<'a> Rewriter<'a> {
    /// Reads the file tag by tag.
    fn scan(&mut self) -> Result<(), Error> {
        let (source, d) = (self.source, self.d);
        while self.pos < source.len() {
            let Some((start, kind)) = self.next_opening() else {
                self.emit(&source[self.pos..], false);
                break;
            };
            if start > self.pos {
                let text = &source[self.pos..start];
                self.emit(text, false);
                self.advance(text);
            }
            if kind == &d.comment.0 {
                self.comment(start);
                continue;
            }
            let end_delim = if kind == &d.var.0 {
                &d.var.1
            } else {
                &d.block.1
            };
            let Some(end) = find_end(source, start + 2, end_delim) else {
                // Unterminated: hand the rest to Tera, which reports it with its line.
                self.emit(&source[start..], false);
                break;
            };
            if kind == &d.var.0 {
                self.variable(start, end + 2);
            } else {
                self.block_tag(start, end)?;
            }
        }
        Ok(())
    }

    /// The next opening delimiter of any kind from `pos`, and which one it is.
    fn next_opening(&self) -> Option<(usize, &'a String)> {
        let d = self.d;
        [&d.block.0, &d.var.0, &d.comment.0]
            .into_iter()
            .filter_map(|start| {
                self.source[self.pos..]
                    .find(start.as_str())
                    .map(|p| (p + self.pos, start))
            })
            .min_by_key(|(p, _)| *p)
    }

    /// Moves `line` past `text`.
    fn advance(&mut self, text: &str) {
        self.line += text.matches('\n').count();
    }

    /// Adds text to the innermost frame, rewriting loop fields when asked.
    fn emit(&mut self, text: &str, rewrite: bool) {
        if let Some(f) = self.frames.last_mut() {
            push_text(f, text, rewrite);
        }
    }

    /// Whether a tag sits at the top level of a child template, where Django ignores content.
    fn top_of_child(&self) -> bool {
        self.is_child && self.frames.len() == 1 && self.frames[0].block_depth == 0
    }

    /// A comment, copied as it is.
    fn comment(&mut self, start: usize) {
        let (source, d) = (self.source, self.d);
        let end = source[start + 2..]
            .find(d.comment.1.as_str())
            .map_or(source.len(), |p| p + start + 2 + 2);
        let text = &source[start..end];
        self.emit(text, false);
        self.advance(text);
        self.pos = end;
    }

    /// A variable tag `{{ … }}`, with loop fields rewritten inside a partial body outside its
    /// own loops.
    fn variable(&mut self, start: usize, full_end: usize) {
        let full = &self.source[start..full_end];
        let rewrite = self.frames.len() > 1 && self.frames.last().is_some_and(|f| f.for_depth == 0);
        self.emit(full, rewrite);
        self.advance(full);
        self.pos = full_end;
    }

    /// A block tag `{% … %}` between `start` and the end delimiter at `end`.
    fn block_tag(&mut self, start: usize, end: usize) -> Result<(), Error> {
        let source = self.source;
        let full_end = end + 2;
        let full = &source[start..full_end];
        let tag = Tag::parse(&source[start + 2..end]);
        let bits = split_contents(tag.content);
        let command = bits.first().copied().unwrap_or("");
        let tag_line = self.line;
        self.advance(full);
        self.pos = full_end;
        match command {
            "raw" => self.raw(start, full_end),
            "partialdef" => self.partialdef(&bits, &tag, start, tag_line)?,
            "endpartialdef" => self.endpartialdef(&tag, full_end, tag_line)?,
            "partial" => self.partial(&bits, &tag, tag_line)?,
            _ => self.other_tag(command, &bits, full)?,
        }
        Ok(())
    }

    /// `{% raw %}`: copied verbatim up to and including the matching `endraw` tag.
    fn raw(&mut self, start: usize, full_end: usize) {
        let (source, d) = (self.source, self.d);
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
        self.emit(&source[start..raw_end], false);
        self.advance(&source[full_end..raw_end]);
        self.pos = raw_end;
    }

    /// `{% partialdef NAME [inline] %}`: opens a frame for the body.
    fn partialdef(
        &mut self,
        bits: &[&str],
        tag: &Tag<'_>,
        start: usize,
        tag_line: usize,
    ) -> Result<(), Error> {
        let template = self.template;
        let (name, inline) = match bits {
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
        let mut frame = Frame::new(name.to_owned(), inline, tag_line, start, tag.trim_left);
        // Pad the body so that its first character sits on its line in the file.
        frame.push_text(&padding(self.d, self.line - 1, false, tag.trim_right));
        self.frames.push(frame);
        Ok(())
    }

    /// `{% endpartialdef [NAME] %}`: closes the innermost definition and puts what it renders
    /// where it was defined.
    fn endpartialdef(
        &mut self,
        tag: &Tag<'_>,
        full_end: usize,
        tag_line: usize,
    ) -> Result<(), Error> {
        let (template, d) = (self.template, self.d);
        if self.frames.len() == 1 {
            return Err(syntax(
                template,
                tag_line,
                format!(
                    "Invalid block tag on line {tag_line}: 'endpartialdef'. Did you \
                     forget to register or load this tag?"
                ),
            ));
        }
        let Some(mut frame) = self.frames.pop() else {
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
            frame.push_text(&padding(d, 0, true, false));
        }
        if self.defined.contains_key(&frame.name) {
            return Err(syntax(
                template,
                frame.line,
                format!(
                    "Partial '{}' is already defined in the '{template}' template.",
                    frame.name
                ),
            ));
        }
        self.defined.insert(frame.name.clone(), self.finished.len());
        let def_source = self.source[frame.def_start..full_end].to_owned();
        let spanned = def_source.matches('\n').count();
        let top_of_child = self.top_of_child();
        let parent = self
            .frames
            .last_mut()
            .unwrap_or_else(|| unreachable!("main frame stays"));
        if frame.inline && !top_of_child {
            parent.pieces.push(Piece::Use {
                name: frame.name.clone(),
                line: frame.line,
                trim_left: frame.trim_left,
                trim_right: false,
            });
            parent.push_text(&padding(d, spanned, false, tag.trim_right));
        } else {
            parent.push_text(&padding(d, spanned, frame.trim_left, tag.trim_right));
        }
        self.finished.push((frame.name, frame.pieces, def_source));
        Ok(())
    }

    /// `{% partial NAME %}`: a use, resolved once the whole file is read.
    fn partial(&mut self, bits: &[&str], tag: &Tag<'_>, tag_line: usize) -> Result<(), Error> {
        let [_, name] = bits else {
            return Err(syntax(
                self.template,
                tag_line,
                "'partial' tag requires a single argument",
            ));
        };
        if self.top_of_child() {
            // Ignored, as Django ignores content outside a child's blocks.
        } else if let Some(f) = self.frames.last_mut() {
            f.pieces.push(Piece::Use {
                name: (*name).to_owned(),
                line: tag_line,
                trim_left: tag.trim_left,
                trim_right: tag.trim_right,
            });
        }
        Ok(())
    }

    /// Any other block tag: copied, keeping track of `extends`, `block` and `for`.
    fn other_tag(&mut self, command: &str, bits: &[&str], full: &str) -> Result<(), Error> {
        let in_partial = self.frames.len() > 1;
        if !in_partial {
            match command {
                "extends" => {
                    self.is_child = true;
                    // Django loads a parent with the loaders, which do not know `#`.
                    if let Some(parent) = bits.get(1).filter(|b| b.contains('#')) {
                        return Err(Error::TemplateDoesNotExist {
                            name: parent.trim_matches(['"', '\'', '`']).to_owned(),
                            tried: vec![self.template.to_owned()],
                        });
                    }
                }
                "block" => self.frames[0].block_depth += 1,
                "endblock" => {
                    self.frames[0].block_depth = self.frames[0].block_depth.saturating_sub(1);
                }
                _ => {}
            }
        }
        if let Some(f) = self.frames.last_mut() {
            if command == "endfor" {
                f.for_depth = f.for_depth.saturating_sub(1);
            }
            let rewrite = in_partial && f.for_depth == 0;
            // `{% for x in loop.… %}` still belongs to the outer loop.
            push_text(f, full, rewrite);
            if command == "for" {
                f.for_depth += 1;
            }
        }
        Ok(())
    }

    /// Checks every definition was closed and resolves the uses, now that every definition is
    /// known.
    fn finish(mut self) -> Result<Preprocessed, Error> {
        let template = self.template;
        if self.frames.len() > 1 {
            let frame = &self.frames[self.frames.len() - 1];
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
        let main_frame = self
            .frames
            .pop()
            .unwrap_or_else(|| unreachable!("main frame stays"));
        let mut undefined = Vec::new();
        let main = resolve(
            template,
            template,
            main_frame.pieces,
            &self.defined,
            self.d,
            &mut undefined,
        )?;
        let mut partials = Vec::with_capacity(self.finished.len());
        for (name, pieces, def_source) in self.finished {
            let tera_template = format!("{template}#{name}");
            let tera_source = resolve(
                template,
                &tera_template,
                pieces,
                &self.defined,
                self.d,
                &mut undefined,
            )?;
            partials.push(Partial {
                name,
                tera_source,
                source: def_source,
            });
        }
        Ok(Preprocessed {
            main,
            partials,
            undefined,
        })
    }
}

fn push_text(frame: &mut Frame, text: &str, rewrite: bool) {
    if rewrite && text.contains("loop") {
        frame.push_text(&rewrite_loop_vars(text));
    } else {
        frame.push_text(text);
    }
}

/// Turns the pieces of one frame, which becomes the Tera template `tera_template`, into Tera
/// source; records each use of an undefined partial in `undefined`.
fn resolve(
    template: &str,
    tera_template: &str,
    pieces: Vec<Piece>,
    defined: &HashMap<String, usize>,
    d: &Delims,
    undefined: &mut Vec<UndefinedUse>,
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
                    undefined.push(UndefinedUse {
                        tera_template: tera_template.to_owned(),
                        name,
                        line,
                    });
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
