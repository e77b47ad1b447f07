//! `Record::save`: Django 6.0's `Model._save_table` on sea-query and sqlx.

use std::borrow::Cow;

use sea_query::{Expr, ExprTrait, Query, Value};

use crate::db::OrmDatabase;
use crate::error::{Error, NotUpdated, NotUpdatedReason, Result};
use crate::record::{Column, ColumnKind, Record, ReturnedRow, Save, Saved};
use crate::server::{DatabaseServer, Vendor};

fn is_null(value: &Value) -> bool {
    *value == value.as_null()
}

/// The primary-key column, or an error for an implementation without one.
fn pk_column<R: Record>() -> Result<&'static Column> {
    R::primary_key_column().ok_or_else(|| {
        Error::InvalidSave(Cow::Owned(format!(
            "the Record implementation of {} has no primary-key column; mark one with \
             ColumnKind::PrimaryKey (#[record(primary_key)] with the derive)",
            R::TABLE
        )))
    })
}

/// Checks the options as Django's `save()` does before any query.
fn validate<R: Record>(options: &Save) -> Result<()> {
    if options.is_force_insert() && (options.is_force_update() || options.fields().is_some()) {
        return Err(Error::InvalidSave(Cow::Borrowed(
            "Cannot force both insert and updating in model saving.",
        )));
    }
    let writable = |name: &str| {
        R::COLUMNS.iter().any(|column| {
            column.is_named(name)
                && matches!(column.kind(), ColumnKind::Field | ColumnKind::DbDefault)
        })
    };
    let bad: Vec<&str> = options
        .expression_names()
        .filter(|n| !writable(n))
        .collect();
    if !bad.is_empty() {
        return Err(Error::InvalidSave(Cow::Owned(format!(
            "an expression can only be saved into a written column of {}, not: {} (the primary \
             key and generated columns are not written)",
            R::TABLE,
            bad.join(", ")
        ))));
    }
    if let Some(fields) = options.fields() {
        let outside: Vec<&str> = options
            .expression_names()
            .filter(|name| {
                !fields.iter().any(|field| {
                    R::COLUMNS
                        .iter()
                        .any(|c| c.is_named(field) && c.is_named(name))
                })
            })
            .collect();
        if !outside.is_empty() {
            return Err(Error::InvalidSave(Cow::Owned(format!(
                "the expression columns {} are not in update_fields, so they would not be \
                 written; add them to update_fields",
                outside.join(", ")
            ))));
        }
        let unknown: Vec<&str> = fields
            .iter()
            .filter(|name| {
                !R::COLUMNS.iter().any(|column| {
                    column.is_named(name)
                        && matches!(column.kind(), ColumnKind::Field | ColumnKind::DbDefault)
                })
            })
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(Error::InvalidSave(Cow::Owned(format!(
                "The following fields do not exist in this model, are m2m fields, primary keys, \
                 or are non-concrete fields: {} (table {}: name written columns that are neither \
                 the primary key nor generated)",
                unknown.join(", "),
                R::TABLE
            ))));
        }
    }
    Ok(())
}

pub(crate) async fn save<'c, R, A>(record: &mut R, conn: A, options: Save) -> Result<Saved>
where
    R: Record + ReturnedRow<<A::Database as sqlx::Database>::Row>,
    A: sqlx::Acquire<'c> + Send,
    A::Database: OrmDatabase,
{
    validate::<R>(&options)?;
    if options.fields().is_some_and(<[String]>::is_empty) {
        return Ok(Saved::Skipped);
    }
    let pk_column = pk_column::<R>()?;
    let pk = record.primary_key().filter(|value| !is_null(value));
    let forced = options.is_force_update() || options.fields().is_some();
    if pk.is_none() && forced {
        return Err(Error::InvalidSave(Cow::Borrowed(
            "Cannot force an update in save() with no primary key.",
        )));
    }
    let mut conn = conn.acquire().await?;
    let conn = &mut *conn;
    let backend = match options.pinned_server() {
        Some(backend) => backend,
        None => <A::Database as OrmDatabase>::detect_backend(conn).await?,
    };

    if let Some(pk) = pk.clone().filter(|_| !options.is_force_insert()) {
        if update::<R, A::Database>(record, conn, &backend, &options, pk).await? {
            return Ok(Saved::Updated);
        }
        if options.is_force_update() {
            return Err(NotUpdated::new(R::TABLE, NotUpdatedReason::ForceUpdate).into());
        }
        if options.fields().is_some() {
            return Err(NotUpdated::new(R::TABLE, NotUpdatedReason::UpdateFields).into());
        }
    }

    if pk.is_none() && !matches!(pk_column.kind(), ColumnKind::PrimaryKey { auto: true }) {
        return Err(Error::InvalidSave(Cow::Owned(format!(
            "the primary key {}.{} is not set and is not an auto key: set it before saving",
            R::TABLE,
            pk_column.name()
        ))));
    }
    insert::<R, A::Database>(record, conn, &backend, &options, pk).await?;
    Ok(Saved::Inserted)
}

/// The UPDATE of `save`; true when a row matched.
async fn update<R, DB>(
    record: &mut R,
    conn: &mut DB::Connection,
    backend: &DatabaseServer,
    options: &Save,
    pk: Value,
) -> Result<bool>
where
    R: Record + ReturnedRow<DB::Row>,
    DB: OrmDatabase,
{
    let pk_name = pk_column::<R>()?.name();
    let mut written: Vec<(&'static str, Expr)> = Vec::new();
    let mut computed: Vec<&'static str> = Vec::new();
    for column in R::COLUMNS {
        if !matches!(column.kind(), ColumnKind::Field | ColumnKind::DbDefault) {
            continue;
        }
        if let Some(fields) = options.fields()
            && !fields.iter().any(|name| column.is_named(name))
        {
            continue;
        }
        if let Some(expr) = options.expression_for(column) {
            written.push((column.name(), expr.clone()));
            computed.push(column.name());
        } else if let Some(value) = record.value(column.name()) {
            written.push((column.name(), Expr::val(value)));
        }
    }
    let written_names: Vec<&str> = written.iter().map(|(name, _)| *name).collect();
    let refresh: Vec<&'static str> = R::COLUMNS
        .iter()
        .filter(|column| {
            computed.contains(&column.name()) || column.is_refreshed_by(&written_names)
        })
        .map(Column::name)
        .collect();

    if written.is_empty() {
        // Django: "a model with just PK - check that the PK still exists", while an
        // update_fields save that writes nothing counts as done.
        if options.fields().is_some() {
            return Ok(true);
        }
        let stmt = Query::select()
            .expr(Expr::val(1))
            .from(R::TABLE)
            .and_where(Expr::col(pk_name).eq(pk))
            .to_owned();
        let (sql, values) = DB::build(&stmt);
        return Ok(DB::fetch_optional(conn, sql, values).await?.is_some());
    }

    let mut stmt = Query::update()
        .table(R::TABLE)
        .values(written)
        .and_where(Expr::col(pk_name).eq(pk.clone()))
        .to_owned();
    if !refresh.is_empty() && backend.can_return_rows_from_update() {
        stmt.returning(Query::returning().columns(refresh.iter().copied()));
        let (sql, values) = DB::build(&stmt);
        return match DB::fetch_optional(conn, sql, values).await? {
            Some(row) => {
                record.set_returned(&row, &refresh)?;
                Ok(true)
            }
            None => Ok(false),
        };
    }
    let (sql, values) = DB::build(&stmt);
    let (rows, _) = DB::run(conn, sql, values).await?;
    if rows > 0 && !refresh.is_empty() {
        reread::<R, DB>(record, conn, pk, &refresh).await?;
    }
    Ok(rows > 0)
}

/// The INSERT of `save`, reading back what the database computed.
async fn insert<R, DB>(
    record: &mut R,
    conn: &mut DB::Connection,
    backend: &DatabaseServer,
    options: &Save,
    pk: Option<Value>,
) -> Result<()>
where
    R: Record + ReturnedRow<DB::Row>,
    DB: OrmDatabase,
{
    let mut columns = Vec::new();
    let mut values = Vec::new();
    let mut returning = Vec::new();
    for column in R::COLUMNS {
        match column.kind() {
            ColumnKind::PrimaryKey { .. } => match &pk {
                Some(value) => {
                    columns.push(column.name());
                    values.push(Expr::val(value.clone()));
                }
                None => returning.push(column.name()),
            },
            ColumnKind::Field | ColumnKind::DbDefault => {
                if let Some(expr) = options.expression_for(column) {
                    columns.push(column.name());
                    values.push(expr.clone());
                    returning.push(column.name());
                } else if let Some(value) = record.value(column.name()) {
                    columns.push(column.name());
                    values.push(Expr::val(value));
                } else {
                    returning.push(column.name());
                }
            }
            ColumnKind::Generated { .. } => returning.push(column.name()),
        }
    }
    let mut stmt = Query::insert().into_table(R::TABLE).to_owned();
    if columns.is_empty() {
        stmt.or_default_values();
    } else {
        stmt.columns(columns.iter().copied());
        stmt.values(values).map_err(|err| {
            Error::InvalidSave(Cow::Owned(format!(
                "the INSERT for {} could not be built: {err}",
                R::TABLE
            )))
        })?;
    }
    if returning.is_empty() {
        let (sql, values) = DB::build(&stmt);
        DB::run(conn, sql, values).await?;
        return Ok(());
    }
    if backend.can_return_columns_from_insert() {
        stmt.returning(Query::returning().columns(returning.iter().copied()));
        let (mut sql, values) = DB::build(&stmt);
        if backend.vendor() == Vendor::MariaDb {
            // sea-query's MySQL builder drops RETURNING (SeaQL/sea-query#847); MariaDB has it.
            let quoted: Vec<String> = returning
                .iter()
                .map(|name| format!("`{}`", name.replace('`', "``")))
                .collect();
            sql.push_str(" RETURNING ");
            sql.push_str(&quoted.join(", "));
        }
        let row = DB::fetch_optional(conn, sql, values)
            .await?
            .ok_or_else(|| Error::database(sqlx::Error::RowNotFound))?;
        record.set_returned(&row, &returning)?;
        return Ok(());
    }
    // MySQL (and SQLite before 3.35): read back by key.
    let (sql, values) = DB::build(&stmt);
    let (_, last_id) = DB::run(conn, sql, values).await?;
    let key = match (pk, last_id) {
        (Some(pk), _) => pk,
        (None, Some(id)) => Value::BigInt(Some(id)),
        (None, None) => {
            return Err(Error::database(sqlx::Error::Protocol(format!(
                "the database reported no id for the row inserted into {}",
                R::TABLE
            ))));
        }
    };
    reread::<R, DB>(record, conn, key, &returning).await
}

/// One `SELECT` of `columns` by key, where the database cannot return them.
async fn reread<R, DB>(
    record: &mut R,
    conn: &mut DB::Connection,
    key: Value,
    columns: &[&'static str],
) -> Result<()>
where
    R: Record + ReturnedRow<DB::Row>,
    DB: OrmDatabase,
{
    let stmt = Query::select()
        .columns(columns.iter().copied())
        .from(R::TABLE)
        .and_where(Expr::col(pk_column::<R>()?.name()).eq(key))
        .to_owned();
    let (sql, values) = DB::build(&stmt);
    let row = DB::fetch_optional(conn, sql, values)
        .await?
        .ok_or_else(|| Error::database(sqlx::Error::RowNotFound))?;
    record.set_returned(&row, columns)?;
    Ok(())
}

pub(crate) async fn refresh_from_db<'c, R, A>(record: &mut R, conn: A) -> Result<()>
where
    R: Record + ReturnedRow<<A::Database as sqlx::Database>::Row>,
    A: sqlx::Acquire<'c> + Send,
    A::Database: OrmDatabase,
{
    let Some(pk) = record.primary_key().filter(|value| !is_null(value)) else {
        return Err(Error::InvalidSave(Cow::Owned(format!(
            "a {} record without a primary key cannot be refreshed from the database; save it \
             first",
            R::TABLE
        ))));
    };
    let mut conn = conn.acquire().await?;
    let conn = &mut *conn;
    let columns: Vec<&'static str> = R::COLUMNS.iter().map(Column::name).collect();
    let stmt = Query::select()
        .columns(columns.iter().copied())
        .from(R::TABLE)
        .and_where(Expr::col(pk_column::<R>()?.name()).eq(pk))
        .to_owned();
    let (sql, values) = <A::Database as OrmDatabase>::build(&stmt);
    let row = <A::Database as OrmDatabase>::fetch_optional(conn, sql, values)
        .await?
        .ok_or(Error::DoesNotExist(R::TABLE))?;
    record.set_returned(&row, &columns)?;
    Ok(())
}
