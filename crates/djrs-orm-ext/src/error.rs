//! The crate's one error type.

use std::borrow::Cow;

/// Everything that can go wrong while rendering an expression or saving a record.
///
/// Where Django raises an exception for the same mistake, the message starts with Django's
/// message word for word (so logs read the same), followed by what to do about it.
///
/// ```
/// use djrs_orm_ext::{DatabaseServer, Error, StringAgg};
/// use sea_query::{Expr, Order};
///
/// let agg = StringAgg::new(Expr::col("name"))
///     .delimiter(", ")
///     .order_by(Expr::col("name"), Order::Asc);
/// let err = agg.to_expr(&DatabaseServer::sqlite(3, 40, 1)).unwrap_err();
/// assert!(matches!(err, Error::NotSupported(_)));
/// assert!(err.to_string().starts_with(
///     "This database backend does not support specifying an order on aggregates."
/// ));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database cannot do what the expression asks (Django's `NotSupportedError`), such
    /// as an ordered aggregate on SQLite before 3.44. Holds the message, which names the
    /// database and what to change.
    #[error("{0}")]
    NotSupported(Cow<'static, str>),
    /// The expression was built incompletely, such as a [`StringAgg`](crate::StringAgg)
    /// without a delimiter (Django's `TypeError` for a missing argument).
    #[error("{0}")]
    InvalidExpression(Cow<'static, str>),
    /// A forced update or a save with `update_fields` matched no row (Django's
    /// `Model.NotUpdated`). Nothing was written.
    #[error(transparent)]
    NotUpdated(#[from] NotUpdated),
    /// No row has the record's primary key (Django's `Model.DoesNotExist` from
    /// `refresh_from_db()`). Holds the table.
    #[error(
        "{0} matching query does not exist. (No row has this primary key: it was deleted, or the record was never saved.)"
    )]
    DoesNotExist(&'static str),
    /// The save options contradict each other or the record (Django's `ValueError` from
    /// `save()`): forcing an update without a primary key, forcing an insert and an update,
    /// or naming fields in `update_fields` that cannot be written.
    #[error("{0}")]
    InvalidSave(Cow<'static, str>),
    /// The database reported an error, or a returned value could not be decoded into the
    /// record's field. The source error says which.
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// Wraps a database or driver error.
    ///
    /// ```
    /// use djrs_orm_ext::Error;
    ///
    /// let err = Error::database(sqlx::Error::RowNotFound);
    /// assert!(err.to_string().starts_with("database error: "));
    /// ```
    pub fn database(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Database(Box::new(err))
    }

    /// True when the database refused a write for a duplicate key or unique value (Django's
    /// `IntegrityError` for a unique constraint), as from `save` with `force_insert` of an
    /// existing key.
    ///
    /// ```
    /// use djrs_orm_ext::Error;
    ///
    /// assert!(!Error::database(sqlx::Error::RowNotFound).is_unique_violation());
    /// ```
    #[must_use]
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Database(source) => source
                .downcast_ref::<sqlx::Error>()
                .and_then(sqlx::Error::as_database_error)
                .is_some_and(|err| err.is_unique_violation()),
            _ => false,
        }
    }

    pub(crate) fn not_supported(message: impl Into<Cow<'static, str>>) -> Self {
        Error::NotSupported(message.into())
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Error::database(err)
    }
}

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Django's `Model.NotUpdated`: an UPDATE that had to happen matched no row, because the row
/// was deleted or its key changed since the record was read.
///
/// Its message is Django's: `"Forced update did not affect any rows."` for
/// [`Save::force_update`](crate::Save::force_update) and `"Save with update_fields did not
/// affect any rows."` for [`Save::update_fields`](crate::Save::update_fields).
///
/// ```
/// use djrs_orm_ext::{NotUpdated, NotUpdatedReason};
///
/// let err = NotUpdated::new("article", NotUpdatedReason::ForceUpdate);
/// assert_eq!(err.to_string(), "Forced update did not affect any rows.");
/// assert_eq!(err.table(), "article");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.reason.message())]
pub struct NotUpdated {
    table: &'static str,
    reason: NotUpdatedReason,
}

impl NotUpdated {
    /// The error for a save of a record of `table` that failed for `reason`.
    ///
    /// ```
    /// use djrs_orm_ext::{Error, NotUpdated, NotUpdatedReason};
    ///
    /// let not_updated = NotUpdated::new("article", NotUpdatedReason::UpdateFields);
    /// assert_eq!(not_updated.to_string(), "Save with update_fields did not affect any rows.");
    /// assert!(matches!(Error::from(not_updated), Error::NotUpdated(_)));
    /// ```
    #[must_use]
    pub fn new(table: &'static str, reason: NotUpdatedReason) -> Self {
        NotUpdated { table, reason }
    }

    /// The table of the record (Django raises a per-model subclass; match on this instead).
    ///
    /// ```
    /// use djrs_orm_ext::{Error, NotUpdated, NotUpdatedReason};
    ///
    /// let err = Error::from(NotUpdated::new("article", NotUpdatedReason::ForceUpdate));
    /// // Where Django raises `Article.NotUpdated`, match on the table.
    /// assert!(matches!(&err, Error::NotUpdated(e) if e.table() == "article"));
    /// ```
    #[must_use]
    pub fn table(&self) -> &'static str {
        self.table
    }

    /// Why an update was required.
    ///
    /// ```
    /// use djrs_orm_ext::{NotUpdated, NotUpdatedReason};
    ///
    /// let not_updated = NotUpdated::new("article", NotUpdatedReason::ForceUpdate);
    /// assert_eq!(not_updated.reason(), NotUpdatedReason::ForceUpdate);
    /// ```
    #[must_use]
    pub fn reason(&self) -> NotUpdatedReason {
        self.reason
    }
}

/// Why a save had to update a row (see [`NotUpdated`]).
///
/// ```
/// use djrs_orm_ext::NotUpdatedReason;
///
/// assert_eq!(
///     NotUpdatedReason::UpdateFields.message(),
///     "Save with update_fields did not affect any rows."
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotUpdatedReason {
    /// The save was made with `force_update`.
    ForceUpdate,
    /// The save was made with `update_fields`.
    UpdateFields,
}

impl NotUpdatedReason {
    /// Django's message for this reason.
    ///
    /// ```
    /// use djrs_orm_ext::NotUpdatedReason;
    ///
    /// assert_eq!(NotUpdatedReason::ForceUpdate.message(), "Forced update did not affect any rows.");
    /// ```
    #[must_use]
    pub fn message(self) -> &'static str {
        match self {
            NotUpdatedReason::ForceUpdate => "Forced update did not affect any rows.",
            NotUpdatedReason::UpdateFields => "Save with update_fields did not affect any rows.",
        }
    }
}
