//! The crate's one error type.

/// Everything that can go wrong while building a policy or reading a violation report.
///
/// Policies are checked when they are built, never per request: a directive name or source
/// that would break the header, or a keyword written without its quotes, is an error that says
/// which directive, which value and what to write instead.
///
/// ```
/// use djrs_csp::{Error, Policy};
///
/// let err = Policy::builder().directive("script-src", ["self"]).build().unwrap_err();
/// assert!(matches!(err, Error::UnquotedKeyword { .. }));
/// assert_eq!(
///     err.to_string(),
///     "directive `script-src`: source `self` is the keyword 'self' without its single quotes; \
///      write \"'self'\" (or use the constant on `CspSource`)"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A directive name is empty or holds a character other than ASCII letters, digits and `-`
    /// (the CSP grammar's `directive-name`).
    #[error("invalid directive name {name:?}: {reason}")]
    InvalidDirectiveName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two directive names differ only in case; browsers ignore the second one, so it is
    /// almost certainly a mistake. Merge the two.
    #[error(
        "directive `{second}` repeats `{first}` (directive names are case-insensitive and browsers \
         ignore the second one); merge them into one directive"
    )]
    DuplicateDirective {
        /// The name seen first.
        first: String,
        /// The name that repeats it.
        second: String,
    },
    /// A source holds a byte that cannot appear in a header (CR, LF, other control characters)
    /// or that would end the directive or the policy (`;`, `,`), or is otherwise malformed.
    #[error("directive `{directive}`: invalid source {value:?}: {reason}")]
    InvalidSource {
        /// The directive holding the source.
        directive: String,
        /// The source as given.
        value: String,
        /// What is wrong with it and what to write instead.
        reason: String,
    },
    /// A keyword (`self`, `none`, `unsafe-inline`, `nonce-…`, `sha256-…`, …) written without
    /// its single quotes, which browsers would read as a host name.
    #[error(
        "directive `{directive}`: source `{value}` is the keyword {quoted} without its single \
         quotes; write \"{quoted}\" (or use the constant on `CspSource`)"
    )]
    UnquotedKeyword {
        /// The directive holding the source.
        directive: String,
        /// The source as given.
        value: String,
        /// The source as it should be written.
        quoted: String,
    },
    /// A directive's value has a shape Django does not accept either (a number other than 0,
    /// a list holding something other than strings, …).
    #[error(
        "directive `{directive}`: {found} is not a policy value; use a string, a list of \
         strings, {{\"set\": [strings]}}, true (a directive without value), or false/null (left out)"
    )]
    InvalidValue {
        /// The directive.
        directive: String,
        /// A description of the value found.
        found: String,
    },
    /// A policy document is not a mapping of directive names to values (Django's
    /// `security.E026` and `TypeError("CSP config should be a mapping.")`).
    #[error("a CSP policy must be a mapping of directive names to values (got {found})")]
    NotAMapping {
        /// A description of what was found instead.
        found: String,
    },
    /// A policy document (JSON, TOML) does not parse. The source error says where.
    #[error("the policy document does not parse: {0}")]
    Parse(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A `Reporting-Endpoints` entry has an invalid name or URL.
    #[error("invalid reporting endpoint {name:?} = {url:?}: {reason}")]
    InvalidReportingEndpoint {
        /// The endpoint's name (the token used in `report-to`).
        name: String,
        /// The endpoint's URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A violation report body is not one of the accepted shapes; the message says what was
    /// expected.
    #[error("malformed CSP report: {0}")]
    MalformedReport(String),
    /// A violation report body is larger than the endpoint accepts.
    #[error("CSP report body is larger than the limit of {limit} bytes")]
    ReportTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The report endpoint's rate limit is spent
    /// ([`ReportEndpoint::rate_limit`](crate::axum::ReportEndpoint::rate_limit)); the reports
    /// of this request were dropped. Answered 429.
    #[error("too many CSP reports: the endpoint takes at most {reports} per {seconds} s")]
    ReportRateLimited {
        /// Reports taken per interval.
        reports: u32,
        /// The interval, in seconds.
        seconds: f64,
    },
    /// A violation report was sent with a media type the endpoint does not read.
    #[error(
        "unsupported media type {0:?} for a CSP report: send application/csp-report or \
         application/reports+json"
    )]
    UnsupportedMediaType(String),
}

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps a parser error of a policy document, for loaders of other formats.
    ///
    /// ```
    /// use djrs_csp::Error;
    ///
    /// let err = Error::parse(std::io::Error::other("unexpected end of file"));
    /// assert!(err.to_string().ends_with("unexpected end of file"));
    /// ```
    pub fn parse(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Parse(Box::new(err))
    }
}
