//! The state behind [`Templates`](super::Templates): the Tera instance, the loaded files with
//! their partials, and how Tera's errors become ours.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use tera::{Kwargs, State, Tera};

use crate::error::{Error, Result, undefined_partial_message};
use crate::escape::escape_html;
use crate::loader::{self, LoadedFile, Root, Stamps};
use crate::preprocess::{self, Delims, Partial, UNDEFINED_PARTIAL_FN, UndefinedUse};

/// One loaded file: where it came from and its partials.
#[derive(Debug, Clone)]
pub(super) struct File {
    pub(super) source: String,
    pub(super) path: Option<PathBuf>,
    pub(super) partials: Vec<Partial>,
    /// The uses of partials the file does not define, keyed by the Tera template holding them
    /// (the file or `"file#partial"`) and the undefined name: the lines of the tags. Render
    /// errors are recognised from it.
    pub(super) undefined: HashMap<(String, String), Vec<usize>>,
}

/// The state behind the lock: Tera, what was loaded and from where.
pub(super) struct Inner {
    pub(super) tera: Tera,
    pub(super) delims: Delims,
    pub(super) autoescape: Vec<String>,
    pub(super) files: HashMap<String, File>,
    pub(super) roots: Vec<Root>,
    pub(super) stamps: Stamps,
    /// Partials of replaced files that the new version no longer defines: still in Tera (it
    /// cannot remove templates) but not ours to render.
    pub(super) stale: HashSet<String>,
}

impl Inner {
    /// Converts a render error: a use of an undefined partial, found in the side table of the
    /// file holding it, is [`Error::UndefinedPartial`]; anything else is Tera's.
    pub(super) fn render_error(&self, err: tera::Error) -> Error {
        if let tera::ErrorKind::RenderingError(report) = err.kind()
            && let Some(undefined) = self.undefined_use(report)
        {
            return undefined;
        }
        Error::from_tera(err)
    }

    fn undefined_use(&self, report: &tera::ReportError) -> Option<Error> {
        let tera_template = report.filename();
        let file_name = tera_template
            .split_once('#')
            .map_or(tera_template, |(file, _)| file);
        let file = self.files.get(file_name)?;
        let ((_, name), lines) = file.undefined.iter().find(|((holder, name), _)| {
            holder == tera_template && report.message() == undefined_partial_message(name)
        })?;
        let at = report.span().start_line;
        let line = lines
            .iter()
            .copied()
            .find(|&l| l == at)
            .or(lines.first().copied())?;
        Some(Error::UndefinedPartial {
            name: name.clone(),
            template: file_name.to_owned(),
            line,
        })
    }
}

/// The side table of one file's undefined uses, keyed by holder and name.
fn side_table(uses: Vec<UndefinedUse>) -> HashMap<(String, String), Vec<usize>> {
    let mut table: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for used in uses {
        table
            .entry((used.tera_template, used.name))
            .or_default()
            .push(used.line);
    }
    table
}

/// A Tera instance with Django's escaping and the functions every template may call.
pub(super) fn new_tera() -> Tera {
    let mut tera = Tera::default();
    tera.set_escape_fn(escape_html);
    tera.register_function(UNDEFINED_PARTIAL_FN, undefined_partial);
    #[cfg(feature = "csp")]
    djrs_csp::tera::register(&mut tera);
    tera
}

/// The function an undefined `{% partial %}` turns into: fails with Django's message.
#[allow(
    clippy::needless_pass_by_value,
    reason = "Tera calls functions with Kwargs by value"
)]
fn undefined_partial(kwargs: Kwargs, _: &State<'_>) -> tera::TeraResult<String> {
    // The call also names the template and line, for a reader of the rewritten source; the
    // error's facts come from the file's side table (`Inner::render_error`).
    let name: &str = kwargs.must_get("name")?;
    Err(tera::Error::message(undefined_partial_message(name)))
}

/// Tera's delimiters for ours, or `None` for the defaults.
pub(super) fn delimiters_of(d: &Delims) -> Option<tera::Delimiters> {
    let default = Delims::default();
    if d.block == default.block && d.var == default.var && d.comment == default.comment {
        return None;
    }
    Some(tera::Delimiters {
        block_start: d.block.0.clone().into(),
        block_end: d.block.1.clone().into(),
        variable_start: d.var.0.clone().into(),
        variable_end: d.var.1.clone().into(),
        comment_start: d.comment.0.clone().into(),
        comment_end: d.comment.1.clone().into(),
    })
}

/// Maps a requested name to the Tera template, with Django's `TemplateDoesNotExist` rules.
pub(super) fn resolve_name<'a>(files: &HashMap<String, File>, name: &'a str) -> Result<&'a str> {
    let Some((file, partial)) = name.split_once('#') else {
        return if files.contains_key(name) {
            Ok(name)
        } else {
            Err(Error::TemplateDoesNotExist {
                name: name.to_owned(),
                tried: Vec::new(),
            })
        };
    };
    if file.is_empty() {
        return Err(Error::TemplateDoesNotExist {
            name: name.to_owned(),
            tried: Vec::new(),
        });
    }
    let Some(entry) = files.get(file) else {
        return Err(Error::TemplateDoesNotExist {
            name: file.to_owned(),
            tried: vec![file.to_owned()],
        });
    };
    if partial.is_empty() {
        return Ok(file);
    }
    if entry.partials.iter().any(|p| p.name == partial) {
        Ok(name)
    } else {
        Err(Error::TemplateDoesNotExist {
            name: partial.to_owned(),
            tried: vec![file.to_owned()],
        })
    }
}

/// Preprocesses and adds files in one Tera batch; on error nothing changes.
pub(super) fn add_files(inner: &mut Inner, files: Vec<LoadedFile>) -> Result<()> {
    let mut batch: Vec<(String, String)> = Vec::new();
    let mut entries = Vec::with_capacity(files.len());
    for (name, source, path) in files {
        if name.contains('#') {
            return Err(Error::InvalidName { name });
        }
        let pre = preprocess::preprocess(&name, &source, &inner.delims)?;
        for p in &pre.partials {
            batch.push((format!("{name}#{}", p.name), p.tera_source.clone()));
        }
        batch.push((name.clone(), pre.main));
        entries.push((
            name,
            File {
                source,
                path,
                partials: pre.partials,
                undefined: side_table(pre.undefined),
            },
        ));
    }
    let previous_stale = inner.stale.clone();
    for (name, file) in &entries {
        for p in &file.partials {
            inner.stale.remove(&format!("{name}#{}", p.name));
        }
        if let Some(old) = inner.files.get(name) {
            for p in &old.partials {
                if !file.partials.iter().any(|q| q.name == p.name) {
                    inner.stale.insert(format!("{name}#{}", p.name));
                }
            }
        }
    }
    let previous: Vec<(String, Option<File>)> = entries
        .iter()
        .map(|(n, f)| (n.clone(), inner.files.insert(n.clone(), f.clone())))
        .collect();
    apply_autoescape(inner);
    if let Err(e) = inner.tera.add_raw_templates(batch) {
        for (name, old) in previous {
            match old {
                Some(f) => inner.files.insert(name, f),
                None => inner.files.remove(&name),
            };
        }
        inner.stale = previous_stale;
        apply_autoescape(inner);
        return Err(Error::from_tera(e));
    }
    inner.stamps = loader::stamps(inner.files.values().filter_map(|f| f.path.as_deref()));
    Ok(())
}

/// Tera decides escaping by suffix; a partial's name ends in `#name`, so each partial of an
/// escaped file is listed by its full name.
pub(super) fn apply_autoescape(inner: &mut Inner) {
    let mut suffixes: Vec<String> = inner.autoescape.clone();
    for (name, file) in &inner.files {
        if inner.autoescape.iter().any(|s| name.ends_with(s.as_str())) {
            suffixes.extend(file.partials.iter().map(|p| format!("{name}#{}", p.name)));
        }
    }
    inner.tera.autoescape_on(suffixes);
}

#[cfg(test)]
mod tests {
    use tera::{Context, Kwargs, State};

    use crate::{Error, Templates};

    fn undefined(err: Error) -> (String, String, usize) {
        match err {
            Error::UndefinedPartial {
                name,
                template,
                line,
            } => (name, template, line),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn undefined_uses_come_from_the_side_table() {
        let mut t = Templates::new().set_auto_reload(false);
        t.add_raw_template(
            "t.html",
            "{% if a %}{% partial x %}{% endif %}\n{% partial y %}{% partial x %}\n\
             {% partialdef p %}\n\n{% partial x %}{% endpartialdef %}",
        )
        .unwrap();
        let mut ctx = Context::new();
        ctx.insert("a", &true);
        let at = |name: &str, line| (name.to_owned(), "t.html".to_owned(), line);
        assert_eq!(undefined(t.render("t.html", &ctx).unwrap_err()), at("x", 1));
        ctx.insert("a", &false);
        assert_eq!(undefined(t.render("t.html", &ctx).unwrap_err()), at("y", 2));
        assert_eq!(
            undefined(t.render("t.html#p", &ctx).unwrap_err()),
            at("x", 5)
        );
        let mut out = Vec::new();
        let err = t.render_to("t.html#p", &ctx, &mut out).unwrap_err();
        assert_eq!(undefined(err), at("x", 5));
    }

    #[test]
    fn the_same_message_from_elsewhere_stays_a_tera_error() {
        let mut t = Templates::new().set_auto_reload(false);
        t.register_function("boom", |_: Kwargs, _: &State<'_>| {
            Err::<String, _>(tera::Error::message(
                "Partial 'x' is not defined in the current template.",
            ))
        });
        t.add_raw_template("t.html", "{{ boom() }}").unwrap();
        let err = t.render("t.html", &Context::new()).unwrap_err();
        assert!(matches!(err, Error::Tera { .. }), "{err:?}");
    }
}
