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
    #[must_use]
    pub const fn new(vendor: Vendor, version: Version) -> Self {
        DatabaseServer { vendor, version }
    }

    /// PostgreSQL `major.minor`.
    #[must_use]
    pub const fn postgres(major: u32, minor: u32) -> Self {
        DatabaseServer::new(Vendor::PostgreSql, Version::new(major, minor, 0))
    }

    /// MySQL `major.minor.patch`.
    #[must_use]
    pub const fn mysql(major: u32, minor: u32, patch: u32) -> Self {
        DatabaseServer::new(Vendor::MySql, Version::new(major, minor, patch))
    }

    /// MariaDB `major.minor.patch`.
    #[must_use]
    pub const fn mariadb(major: u32, minor: u32, patch: u32) -> Self {
        DatabaseServer::new(Vendor::MariaDb, Version::new(major, minor, patch))
    }

    /// SQLite `major.minor.patch` (the library linked into the process; sqlx's `sqlite`
    /// feature bundles a recent one).
    #[must_use]
    pub const fn sqlite(major: u32, minor: u32, patch: u32) -> Self {
        DatabaseServer::new(Vendor::Sqlite, Version::new(major, minor, patch))
    }

    /// The database family.
    #[must_use]
    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// The server (or, for SQLite, library) version.
    #[must_use]
    pub fn version(&self) -> Version {
        self.version
    }

    fn at_least(&self, major: u32, minor: u32) -> bool {
        self.version >= Version::new(major, minor, 0)
    }

    /// `FILTER (WHERE …)` on aggregates: PostgreSQL and SQLite. MySQL and MariaDB get a
    /// `CASE WHEN … THEN … ELSE NULL END` instead.
    #[must_use]
    pub fn supports_aggregate_filter_clause(&self) -> bool {
        matches!(self.vendor, Vendor::PostgreSql | Vendor::Sqlite)
    }

    /// `ORDER BY` inside an aggregate: PostgreSQL, MySQL, MariaDB, SQLite 3.44+.
    #[must_use]
    pub fn supports_aggregate_order_by_clause(&self) -> bool {
        match self.vendor {
            Vendor::Sqlite => self.at_least(3, 44),
            _ => true,
        }
    }

    /// `DISTINCT` in an aggregate of several arguments (the expression and the delimiter):
    /// everything but SQLite.
    #[must_use]
    pub fn supports_aggregate_distinct_multiple_argument(&self) -> bool {
        self.vendor != Vendor::Sqlite
    }

    /// A native `ANY_VALUE()`: PostgreSQL 16+, MySQL, SQLite (through `MIN`, which SQLite
    /// accepts for every type). MariaDB has none; [`AnyValue`](crate::AnyValue) emulates it
    /// there unless told not to.
    #[must_use]
    pub fn supports_any_value(&self) -> bool {
        match self.vendor {
            Vendor::PostgreSql => self.at_least(16, 0),
            Vendor::MySql | Vendor::Sqlite => true,
            Vendor::MariaDb => false,
        }
    }

    /// `INSERT … RETURNING`: PostgreSQL, MariaDB 10.5+, SQLite 3.35+. MySQL has none.
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
