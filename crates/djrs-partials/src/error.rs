//! The crate's one error type.

use std::path::PathBuf;

/// A boxed foreign error kept as a [`source`](std::error::Error::source).
type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong loading or rendering templates.
///
/// Messages of partial errors are Django 6.0's own (`TemplateSyntaxError` text, with the
/// `"Template: <name>, "` prefix Django adds to named templates), followed by the line.
///
/// ```
/// use djrs_partials::{Error, Templates};
///
/// let mut templates = Templates::new();
/// let err = templates
///     .add_raw_template("page.html", "{% partialdef p %}1{% endpartialdef %}\n{% partialdef p %}2{% endpartialdef %}")
///     .unwrap_err();
/// assert_eq!(err.message(), "Partial 'p' is already defined in the 'page.html' template.");
/// assert_eq!(err.template(), Some("page.html"));
/// assert_eq!(err.line(), Some(2));
/// assert_eq!(
///     err.to_string(),
///     "Template: page.html, Partial 'p' is already defined in the 'page.html' template. (line 2)"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A partial tag is malformed: Django's `TemplateSyntaxError` at load time (missing name,
    /// too many arguments, a bad `inline` argument, a duplicate name, a mismatched or missing
    /// `endpartialdef`). Fix the template source.
    #[error("Template: {template}, {message} (line {line})")]
    Syntax {
        /// The template's name.
        template: String,
        /// The 1-based line of the offending tag.
        line: usize,
        /// Django's message.
        message: String,
    },
    /// `{% partial NAME %}` was rendered but the template defines no partial `NAME` (Django
    /// raises this when rendering, so an unused branch does not fail). Define the partial in the
    /// same file: partials are not shared through `extends` or `include`.
    #[error(
        "Partial '{name}' is not defined in the current template. (template {template}, line {line})"
    )]
    UndefinedPartial {
        /// The partial's name.
        name: String,
        /// The template that used it.
        template: String,
        /// The 1-based line of the `{% partial %}` tag.
        line: usize,
    },
    /// Django's `TemplateDoesNotExist`: the template, or the partial named after `#`, is not
    /// loaded (or a template extends a partial, which Django refuses too). `name` is what Django reports: the whole name when it has no file part, the file
    /// when the file is missing, the partial's name when the file lacks it.
    #[error("template does not exist: {name}{}", tried_text(.tried))]
    TemplateDoesNotExist {
        /// What was missing.
        name: String,
        /// Templates that were looked in.
        tried: Vec<String>,
    },
    /// A template file's name contains `#`, which would make it unreachable (`"a#b"` means
    /// partial `b` of `a`). Rename the file.
    #[error(
        "template name {name:?} contains '#', which separates a file from a partial name; rename the file"
    )]
    InvalidName {
        /// The offending name.
        name: String,
    },
    /// Tera rejected a template or failed to render it; the message is Tera's report, with the
    /// template name and line.
    #[error("{message}")]
    Tera {
        /// The template Tera reported, when it reported one.
        template: Option<String>,
        /// The 1-based line Tera reported, when it reported one.
        line: Option<usize>,
        /// Tera's report.
        message: String,
        /// Tera's error.
        #[source]
        source: BoxError,
    },
    /// The value given as a template's context has no variables to give: it is not a struct
    /// or a map with string keys, or it failed to serialize.
    /// Pass a struct or a map (see [`IntoContext`](crate::IntoContext)).
    #[error("the template context must be a struct or a map with string keys: {message}")]
    Context {
        /// What serializing the value said.
        message: String,
    },
    /// A fragment could not be marked for an out-of-band swap ([`out_of_band`](crate::out_of_band)):
    /// it does not begin with an element, or that element is marked already. Wrap the
    /// partial's content in one element.
    #[error("cannot mark the fragment for an out-of-band swap: {reason}")]
    OutOfBand {
        /// What was wrong.
        reason: String,
    },
    /// An htmx response header could not be sent: its value holds a line break or another
    /// control character, or an event's detail is not JSON. The response is a bare `500`.
    #[error("the htmx response header {header} cannot be sent: {reason}")]
    HtmxHeader {
        /// The header's name.
        header: &'static str,
        /// What was wrong (never the value itself).
        reason: String,
    },
    /// A template file or directory could not be read.
    #[error("cannot read templates from {}: {source}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn tried_text(tried: &[String]) -> String {
    if tried.is_empty() {
        String::new()
    } else {
        format!(" (looked in {})", tried.join(", "))
    }
}

impl Error {
    /// The message without the template and line: Django's `TemplateSyntaxError` text for
    /// partial errors, the missing name for [`Error::TemplateDoesNotExist`], Tera's message for
    /// Tera's errors.
    ///
    /// ```
    /// let err = djrs_partials::Templates::new().render("#card", &tera::Context::new()).unwrap_err();
    /// assert_eq!(err.message(), "#card");
    /// ```
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            Self::Syntax { message, .. } | Self::Tera { message, .. } => message.clone(),
            Self::UndefinedPartial { name, .. } => undefined_partial_message(name),
            Self::TemplateDoesNotExist { name, .. } => name.clone(),
            Self::InvalidName { .. }
            | Self::Io { .. }
            | Self::Context { .. }
            | Self::OutOfBand { .. }
            | Self::HtmxHeader { .. } => self.to_string(),
        }
    }

    /// The template the error is about, when known.
    ///
    /// ```
    /// let mut t = djrs_partials::Templates::new();
    /// let err = t.add_raw_template("a.html", "{% partial %}").unwrap_err();
    /// assert_eq!(err.template(), Some("a.html"));
    /// ```
    #[must_use]
    pub fn template(&self) -> Option<&str> {
        match self {
            Self::Syntax { template, .. } | Self::UndefinedPartial { template, .. } => {
                Some(template)
            }
            Self::Tera { template, .. } => template.as_deref(),
            Self::InvalidName { name } => Some(name),
            Self::TemplateDoesNotExist { .. }
            | Self::Io { .. }
            | Self::Context { .. }
            | Self::OutOfBand { .. }
            | Self::HtmxHeader { .. } => None,
        }
    }

    /// The 1-based line the error is about, when known.
    ///
    /// ```
    /// let mut t = djrs_partials::Templates::new();
    /// let err = t.add_raw_template("a.html", "\n{% partial %}").unwrap_err();
    /// assert_eq!(err.line(), Some(2));
    /// ```
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Syntax { line, .. } | Self::UndefinedPartial { line, .. } => Some(*line),
            Self::Tera { line, .. } => *line,
            _ => None,
        }
    }

    /// Converts Tera's error, keeping the template and line Tera reported in a structured
    /// report. (An undefined partial reached while rendering is recognised before this, from
    /// the side table of the file that uses it.)
    pub(crate) fn from_tera(err: tera::Error) -> Self {
        let (template, line) = match err.kind() {
            tera::ErrorKind::SyntaxError(report) | tera::ErrorKind::RenderingError(report) => (
                Some(report.filename().to_owned()),
                Some(report.span().start_line),
            ),
            // Errors found while linking templates (unknown filters, templates, blocks) come
            // as one text report, which names the places itself.
            _ => (None, None),
        };
        Self::Tera {
            template,
            line,
            message: err.to_string(),
            source: Box::new(err),
        }
    }
}

/// Django's message for a `{% partial %}` of a name the template does not define; also what
/// the function an undefined use turns into fails with.
pub(crate) fn undefined_partial_message(name: &str) -> String {
    format!("Partial '{name}' is not defined in the current template.")
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
