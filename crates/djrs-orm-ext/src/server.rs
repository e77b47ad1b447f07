//! [`DatabaseServer`]: which database server (vendor and version) SQL is rendered for, and what
//! it can do — Django's `connection.vendor` plus the `connection.features` flags this crate
//! needs.

use std::fmt;

/// The database family, Django's `connection.vendor` with MariaDB told apart from MySQL.
///
/// ```
/// use djrs_orm_ext::{DatabaseServer, Vendor};
///
/// assert_eq!(DatabaseServer::mariadb(10, 11, 6).vendor(), Vendor::MariaDb);
/// assert!(Vendor::MariaDb.is_mysql_family());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Vendor {
    /// PostgreSQL.
    PostgreSql,
    /// Oracle MySQL.
    MySql,
    /// MariaDB (speaks the MySQL protocol; differs in `RETURNING` and `ANY_VALUE`).
    MariaDb,
    /// SQLite.
    Sqlite,
}

impl Vendor {
    /// True for MySQL and MariaDB, which share SQL syntax (`GROUP_CONCAT`, backquotes).
    ///
    /// ```
    /// use djrs_orm_ext::Vendor;
    ///
    /// assert!(Vendor::MySql.is_mysql_family());
    /// assert!(Vendor::MariaDb.is_mysql_family());
    /// assert!(!Vendor::Sqlite.is_mysql_family());
    /// ```
    #[must_use]
    pub fn is_mysql_family(self) -> bool {
        matches!(self, Vendor::MySql | Vendor::MariaDb)
    }
}

/// A database server version, `major.minor.patch`.
///
/// ```
/// use djrs_orm_ext::Version;
///
/// assert_eq!(Version::parse("10.11.19-MariaDB-0+deb12u1"), Some(Version::new(10, 11, 19)));
/// assert!(Version::new(3, 44, 0) > Version::new(3, 40, 1));
/// assert_eq!(Version::parse("not a version"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

impl Version {
    /// `major.minor.patch`.
    ///
    /// ```
    /// use djrs_orm_ext::Version;
    ///
    /// let version = Version::new(3, 44, 0);
    /// assert_eq!(version.to_string(), "3.44.0");
    /// assert!(version > Version::new(3, 40, 1));
    /// ```
    #[must_use]
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Parses the leading `major[.minor[.patch]]` of a version string such as
    /// `"8.0.40"`, `"10.11.19-MariaDB-0+deb12u1"` or `"15.4 (Debian 15.4-1)"`. `None` when it
    /// does not start with a number.
    ///
    /// ```
    /// use djrs_orm_ext::Version;
    ///
    /// assert_eq!(Version::parse("8.0.40"), Some(Version::new(8, 0, 40)));
    /// assert_eq!(Version::parse("15.4 (Debian 15.4-1)"), Some(Version::new(15, 4, 0)));
    /// assert_eq!(Version::parse("16"), Some(Version::new(16, 0, 0)));
    /// assert_eq!(Version::parse("unknown"), None);
    /// ```
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let end = text
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(text.len());
        let mut parts = text[..end].split('.').map(|part| part.parse::<u32>().ok());
        let major = parts.next().flatten()?;
        let minor = parts.next().flatten().unwrap_or(0);
        let patch = parts.next().flatten().unwrap_or(0);
        Some(Version::new(major, minor, patch))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The database server SQL is rendered for: its vendor and its version.
///
/// Build one from what you know ([`DatabaseServer::postgres`], [`DatabaseServer::mysql`],
/// [`DatabaseServer::mariadb`], [`DatabaseServer::sqlite`]) or ask the connection with
/// [`DatabaseServer::detect`] (features `postgres`, `mysql`, `sqlite`). The capability methods are
/// Django's `connection.features` flags of the same names.
///
/// ```
/// use djrs_orm_ext::DatabaseServer;
///
/// let old = DatabaseServer::sqlite(3, 40, 1);
/// assert!(!old.supports_aggregate_order_by_clause());
/// assert!(DatabaseServer::sqlite(3, 44, 0).supports_aggregate_order_by_clause());
/// assert!(!DatabaseServer::mysql(8, 0, 40).can_return_columns_from_insert());
/// assert!(DatabaseServer::mariadb(10, 11, 0).can_return_columns_from_insert());
/// assert!(!DatabaseServer::mariadb(10, 11, 0).can_return_rows_from_update());
/// assert_eq!(DatabaseServer::postgres(16, 0).to_string(), "PostgreSQL 16.0.0");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatabaseServer {
    vendor: Vendor,
    version: Version,
}

impl DatabaseServer {
    /// A server of `vendor` at `version`.
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, Vendor, Version};
    ///
    /// let version = Version::parse("10.11.6-MariaDB-0+deb12u1").unwrap();
    /// let server = DatabaseServer::new(Vendor::MariaDb, version);
    /// assert_eq!(server, DatabaseServer::mariadb(10, 11, 6));
    /// assert_eq!(server.to_string(), "MariaDB 10.11.6");
    /// ```
    #[must_use]
    pub const fn new(vendor: Vendor, version: Version) -> Self {
        DatabaseServer { vendor, version }
    }

    /// PostgreSQL `major.minor`.
    ///
    /// ```
    /// use djrs_orm_ext::DatabaseServer;
    ///
    /// let server = DatabaseServer::postgres(16, 2);
    /// assert_eq!(server.to_string(), "PostgreSQL 16.2.0");
    /// assert!(server.supports_any_value());
    /// ```
    #[must_use]
    pub const fn postgres(major: u32, minor: u32) -> Self {
        DatabaseServer::new(Vendor::PostgreSql, Version::new(major, minor, 0))
    }

    /// MySQL `major.minor.patch`.
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, Vendor};
    ///
    /// let server = DatabaseServer::mysql(8, 0, 40);
    /// assert_eq!(server.vendor(), Vendor::MySql);
    /// assert!(!server.can_return_columns_from_insert());
    /// ```
    #[must_use]
    pub const fn mysql(major: u32, minor: u32, patch: u32) -> Self {
        DatabaseServer::new(Vendor::MySql, Version::new(major, minor, patch))
    }

    /// MariaDB `major.minor.patch`.
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, Vendor};
    ///
    /// let server = DatabaseServer::mariadb(10, 11, 6);
    /// assert_eq!(server.vendor(), Vendor::MariaDb);
    /// assert!(server.can_return_columns_from_insert()); // MariaDB 10.5+
    /// ```
    #[must_use]
    pub const fn mariadb(major: u32, minor: u32, patch: u32) -> Self {
        DatabaseServer::new(Vendor::MariaDb, Version::new(major, minor, patch))
    }

    /// SQLite `major.minor.patch` (the library linked into the process; sqlx's `sqlite`
    /// feature bundles a recent one).
    ///
    /// ```
    /// use djrs_orm_ext::DatabaseServer;
    ///
    /// let server = DatabaseServer::sqlite(3, 51, 0);
    /// assert_eq!(server.to_string(), "SQLite 3.51.0");
    /// assert!(server.supports_aggregate_order_by_clause());
    /// ```
    #[must_use]
    pub const fn sqlite(major: u32, minor: u32, patch: u32) -> Self {
        DatabaseServer::new(Vendor::Sqlite, Version::new(major, minor, patch))
    }

    /// The database family.
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, Vendor};
    ///
    /// assert_eq!(DatabaseServer::sqlite(3, 51, 0).vendor(), Vendor::Sqlite);
    /// assert_eq!(DatabaseServer::postgres(16, 0).vendor(), Vendor::PostgreSql);
    /// ```
    #[must_use]
    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// The server (or, for SQLite, library) version.
    ///
    /// ```
    /// use djrs_orm_ext::{DatabaseServer, Version};
    ///
    /// let server = DatabaseServer::mysql(8, 0, 40);
    /// assert_eq!(server.version(), Version::new(8, 0, 40));
    /// assert!(server.version() >= Version::new(8, 0, 0));
    /// ```
    #[must_use]
    pub fn version(&self) -> Version {
        self.version
    }

    fn at_least(&self, major: u32, minor: u32) -> bool {
        self.version >= Version::new(major, minor, 0)
    }

    /// `FILTER (WHERE …)` on aggregates: PostgreSQL and SQLite. MySQL and MariaDB get a
    /// `CASE WHEN … THEN … ELSE NULL END` instead.
    ///
    /// ```
    /// use djrs_orm_ext::DatabaseServer;
    ///
    /// assert!(DatabaseServer::postgres(16, 0).supports_aggregate_filter_clause());
    /// assert!(DatabaseServer::sqlite(3, 51, 0).supports_aggregate_filter_clause());
    /// assert!(!DatabaseServer::mysql(8, 0, 40).supports_aggregate_filter_clause());
    /// ```
    #[must_use]
    pub fn supports_aggregate_filter_clause(&self) -> bool {
        matches!(self.vendor, Vendor::PostgreSql | Vendor::Sqlite)
    }

    /// `ORDER BY` inside an aggregate: PostgreSQL, MySQL, MariaDB, SQLite 3.44+.
    ///
    /// ```
    /// use djrs_orm_ext::DatabaseServer;
    ///
    /// assert!(DatabaseServer::sqlite(3, 44, 0).supports_aggregate_order_by_clause());
    /// assert!(!DatabaseServer::sqlite(3, 40, 1).supports_aggregate_order_by_clause());
    /// assert!(DatabaseServer::mysql(8, 0, 40).supports_aggregate_order_by_clause());
    /// ```
    #[must_use]
    pub fn supports_aggregate_order_by_clause(&self) -> bool {
        match self.vendor {
            Vendor::Sqlite => self.at_least(3, 44),
            _ => true,
        }
    }

    /// `DISTINCT` in an aggregate of several arguments (the expression and the delimiter):
    /// everything but SQLite.
    ///
    /// ```
    /// use djrs_orm_ext::DatabaseServer;
    ///
    /// assert!(DatabaseServer::postgres(16, 0).supports_aggregate_distinct_multiple_argument());
    /// assert!(!DatabaseServer::sqlite(3, 51, 0).supports_aggregate_distinct_multiple_argument());
    /// ```
    #[must_use]
    pub fn supports_aggregate_distinct_multiple_argument(&self) -> bool {
        self.vendor != Vendor::Sqlite
    }

    /// A native `ANY_VALUE()`: PostgreSQL 16+, MySQL, SQLite (through `MIN`, which SQLite
    /// accepts for every type). MariaDB has none; [`AnyValue`](crate::AnyValue) emulates it
    /// there unless told not to.
    ///
    /// ```
    /// use djrs_orm_ext::DatabaseServer;
    ///
    /// assert!(DatabaseServer::postgres(16, 0).supports_any_value());
    /// assert!(!DatabaseServer::postgres(15, 4).supports_any_value());
    /// assert!(!DatabaseServer::mariadb(11, 4, 4).supports_any_value());
    /// assert!(DatabaseServer::mysql(8, 0, 40).supports_any_value());
    /// ```
    #[must_use]
    pub fn supports_any_value(&self) -> bool {
        match self.vendor {
            Vendor::PostgreSql => self.at_least(16, 0),
            Vendor::MySql | Vendor::Sqlite => true,
            Vendor::MariaDb => false,
        }
    }

    /// `INSERT … RETURNING`: PostgreSQL, MariaDB 10.5+, SQLite 3.35+. MySQL has none.
    ///
    /// ```
    /// use djrs_orm_ext::DatabaseServer;
    ///
    /// assert!(DatabaseServer::postgres(16, 0).can_return_columns_from_insert());
    /// assert!(DatabaseServer::mariadb(10, 5, 0).can_return_columns_from_insert());
    /// assert!(!DatabaseServer::mariadb(10, 4, 0).can_return_columns_from_insert());
    /// assert!(!DatabaseServer::mysql(8, 0, 40).can_return_columns_from_insert());
    /// ```
    #[must_use]
    pub fn can_return_columns_from_insert(&self) -> bool {
        match self.vendor {
            Vendor::PostgreSql => true,
            Vendor::MariaDb => self.at_least(10, 5),
            Vendor::Sqlite => self.at_least(3, 35),
            Vendor::MySql => false,
        }
    }

    /// `UPDATE … RETURNING`: PostgreSQL and SQLite 3.35+ (Django 6.0's new flag).
    ///
    /// ```
    /// use djrs_orm_ext::DatabaseServer;
    ///
    /// assert!(DatabaseServer::sqlite(3, 35, 0).can_return_rows_from_update());
    /// assert!(!DatabaseServer::sqlite(3, 34, 1).can_return_rows_from_update());
    /// assert!(!DatabaseServer::mariadb(11, 4, 4).can_return_rows_from_update());
    /// ```
    #[must_use]
    pub fn can_return_rows_from_update(&self) -> bool {
        match self.vendor {
            Vendor::PostgreSql => true,
            Vendor::Sqlite => self.at_least(3, 35),
            Vendor::MySql | Vendor::MariaDb => false,
        }
    }

    /// `NULLS FIRST` / `NULLS LAST` in `ORDER BY`: PostgreSQL and SQLite. On MySQL and MariaDB
    /// the order is emulated as Django does (`x IS NULL, x`).
    ///
    /// ```
    /// use djrs_orm_ext::DatabaseServer;
    ///
    /// assert!(DatabaseServer::postgres(16, 0).supports_order_by_nulls_modifier());
    /// assert!(!DatabaseServer::mysql(8, 0, 40).supports_order_by_nulls_modifier());
    /// ```
    #[must_use]
    pub fn supports_order_by_nulls_modifier(&self) -> bool {
        matches!(self.vendor, Vendor::PostgreSql | Vendor::Sqlite)
    }

    pub(crate) fn name(&self) -> &'static str {
        match self.vendor {
            Vendor::PostgreSql => "PostgreSQL",
            Vendor::MySql => "MySQL",
            Vendor::MariaDb => "MariaDB",
            Vendor::Sqlite => "SQLite",
        }
    }
}

impl fmt::Display for DatabaseServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name(), self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_versions() {
        assert_eq!(Version::parse("8.0.40"), Some(Version::new(8, 0, 40)));
        assert_eq!(Version::parse("16"), Some(Version::new(16, 0, 0)));
        assert_eq!(
            Version::parse("15.4 (Debian 15.4-1)"),
            Some(Version::new(15, 4, 0))
        );
        assert_eq!(Version::parse(""), None);
        assert_eq!(Version::parse("x.1"), None);
    }

    #[test]
    fn any_value_by_vendor() {
        assert!(!DatabaseServer::postgres(15, 4).supports_any_value());
        assert!(DatabaseServer::postgres(16, 0).supports_any_value());
        assert!(!DatabaseServer::mariadb(11, 4, 4).supports_any_value());
        assert!(DatabaseServer::mysql(8, 0, 40).supports_any_value());
    }
}
