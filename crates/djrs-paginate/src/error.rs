//! The crate's one error type and Django's customisable error messages.

use std::borrow::Cow;

/// Everything that can go wrong while paginating.
///
/// [`Error::PageNotAnInteger`] and [`Error::EmptyPage`] are Django's two kinds of `InvalidPage`
/// and carry its (customisable) messages; [`Error::is_invalid_page`] tells them apart from
/// failures of the data source.
///
/// ```
/// use djrs_paginate::{Error, Paginator};
///
/// let paginator = Paginator::new(0..25_u64, 10);
/// let err = paginator.page("x").unwrap_err();
/// assert!(matches!(err, Error::PageNotAnInteger(_)));
/// assert_eq!(err.to_string(), "That page number is not an integer");
/// assert!(err.is_invalid_page());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The page number is not an integer (Django's `PageNotAnInteger`). Holds the message.
    #[error("{0}")]
    PageNotAnInteger(Cow<'static, str>),
    /// The page number is below 1 or past the last page (Django's `EmptyPage`). Holds the
    /// message.
    #[error("{0}")]
    EmptyPage(Cow<'static, str>),
    /// The paginator was built with `per_page` 0, where Django divides by zero. Build it with
    /// a `per_page` of at least 1.
    #[error("per_page is 0: a paginator needs at least one object per page")]
    ZeroPerPage,
    /// A keyset cursor token could not be decoded or failed its integrity check. Start again
    /// from the first page; never trust a cursor the server did not sign.
    #[error("invalid cursor: {0}")]
    InvalidCursor(&'static str),
    /// The keyset paginator was configured without key columns or with a key that does not
    /// match the cursor. Give it the ordered unique key of the query.
    #[error("invalid keyset configuration: {0}")]
    Keyset(Cow<'static, str>),
    /// A cursor key shorter than [`CursorKey::MIN_LEN`](crate::CursorKey::MIN_LEN) bytes was
    /// given to [`CursorKey::try_new`](crate::CursorKey::try_new). Use 32 random bytes.
    #[error(
        "the cursor key is {len} bytes long; a key of at least {min} random bytes is required, \
         or anyone who guesses it can forge cursors"
    )]
    WeakCursorKey {
        /// The length given.
        len: usize,
        /// The shortest length accepted.
        min: usize,
    },
    /// The data source failed (for SQL sources: the database query). The source error says why.
    #[error("the object list could not be read: {0}")]
    Source(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// True for Django's `InvalidPage` errors: `PageNotAnInteger` and `EmptyPage`.
    ///
    /// ```
    /// use djrs_paginate::Error;
    ///
    /// assert!(Error::EmptyPage("gone".into()).is_invalid_page());
    /// assert!(!Error::ZeroPerPage.is_invalid_page());
    /// ```
    #[must_use]
    pub fn is_invalid_page(&self) -> bool {
        matches!(self, Error::PageNotAnInteger(_) | Error::EmptyPage(_))
    }

    /// Wraps a data-source error, for implementors of the object-list traits.
    ///
    /// ```
    /// use djrs_paginate::Error;
    ///
    /// let err = Error::source(std::io::Error::other("disk on fire"));
    /// assert!(err.to_string().ends_with("disk on fire"));
    /// ```
    pub fn source(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Source(Box::new(err))
    }
}

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The messages of the `InvalidPage` errors, Django's `error_messages` argument.
///
/// ```
/// use djrs_paginate::{ErrorMessages, Paginator};
///
/// let messages = ErrorMessages::default().no_results("Nothing here");
/// let paginator = Paginator::new(0..5_u64, 10).error_messages(messages);
/// assert_eq!(paginator.page(2).unwrap_err().to_string(), "Nothing here");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ErrorMessages {
    pub(crate) invalid_page: Cow<'static, str>,
    pub(crate) min_page: Cow<'static, str>,
    pub(crate) no_results: Cow<'static, str>,
}

impl Default for ErrorMessages {
    fn default() -> Self {
        ErrorMessages {
            invalid_page: Cow::Borrowed("That page number is not an integer"),
            min_page: Cow::Borrowed("That page number is less than 1"),
            no_results: Cow::Borrowed("That page contains no results"),
        }
    }
}

impl ErrorMessages {
    /// The message for a page number that is not an integer (key `invalid_page`).
    ///
    /// ```
    /// use djrs_paginate::{ErrorMessages, Paginator};
    ///
    /// let messages = ErrorMessages::default().invalid_page("Pick a page by its number");
    /// let paginator = Paginator::new(0..25_u64, 10).error_messages(messages);
    /// assert_eq!(paginator.page("x").unwrap_err().to_string(), "Pick a page by its number");
    /// ```
    pub fn invalid_page(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.invalid_page = message.into();
        self
    }

    /// The message for a page number below 1 (key `min_page`).
    ///
    /// ```
    /// use djrs_paginate::{ErrorMessages, Paginator};
    ///
    /// let messages = ErrorMessages::default().min_page("Pages start at 1");
    /// let paginator = Paginator::new(0..25_u64, 10).error_messages(messages);
    /// assert_eq!(paginator.page(0).unwrap_err().to_string(), "Pages start at 1");
    /// ```
    pub fn min_page(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.min_page = message.into();
        self
    }

    /// The message for a page number past the last page (key `no_results`).
    ///
    /// ```
    /// use djrs_paginate::{ErrorMessages, Paginator};
    ///
    /// let messages = ErrorMessages::default().no_results("There is nothing on that page");
    /// let paginator = Paginator::new(0..25_u64, 10).error_messages(messages);
    /// assert_eq!(paginator.page(4).unwrap_err().to_string(), "There is nothing on that page");
    /// ```
    pub fn no_results(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.no_results = message.into();
        self
    }

    /// Sets a message by its Django key (`invalid_page`, `min_page`, `no_results`), as when
    /// loading them from configuration. Returns `None` for an unknown key.
    ///
    /// ```
    /// use djrs_paginate::ErrorMessages;
    ///
    /// assert!(ErrorMessages::default().with_key("min_page", "Too small").is_some());
    /// assert!(ErrorMessages::default().with_key("typo", "x").is_none());
    /// ```
    #[must_use]
    pub fn with_key(self, key: &str, message: impl Into<Cow<'static, str>>) -> Option<Self> {
        Some(match key {
            "invalid_page" => self.invalid_page(message),
            "min_page" => self.min_page(message),
            "no_results" => self.no_results(message),
            _ => return None,
        })
    }
}
