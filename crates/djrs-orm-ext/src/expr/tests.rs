//! Unit tables of `expr.rs`.

use super::*;

#[test]
fn mysql_literals_do_not_depend_on_backslash_mode() {
    assert_eq!(mysql_string_literal(", "), "', '");
    assert_eq!(mysql_string_literal("'%s; "), "'''%s; '");
    assert_eq!(mysql_string_literal(""), "''");
    assert_eq!(mysql_string_literal("a\\b"), "X'615C62'");
    assert_eq!(mysql_string_literal("\n"), "X'0A'");
}

fn mysql_sql(agg: &StringAgg) -> String {
    let expr = agg.to_expr(&DatabaseServer::mysql(8, 0, 40)).unwrap();
    sea_query::Query::select()
        .expr(expr)
        .to_string(sea_query::MysqlQueryBuilder)
}

#[test]
fn mysql_emulates_nulls_ordering_as_django() {
    let term = |order, nulls| {
        StringAgg::new(Expr::col("a"))
            .delimiter(",")
            .order_by_term(OrderBy::new(Expr::col("b"), order).nulls(nulls))
    };
    // MySQL sorts NULLs first ascending and last descending: two cases need a leading key.
    assert_eq!(
        mysql_sql(&term(Order::Asc, NullOrdering::Last)),
        "SELECT GROUP_CONCAT(`a` ORDER BY `b` IS NULL, `b` SEPARATOR ',')"
    );
    assert_eq!(
        mysql_sql(&term(Order::Desc, NullOrdering::First)),
        "SELECT GROUP_CONCAT(`a` ORDER BY `b` IS NOT NULL, `b` DESC SEPARATOR ',')"
    );
    assert_eq!(
        mysql_sql(&term(Order::Asc, NullOrdering::First)),
        "SELECT GROUP_CONCAT(`a` ORDER BY `b` SEPARATOR ',')"
    );
    assert_eq!(
        mysql_sql(&term(Order::Desc, NullOrdering::Last)),
        "SELECT GROUP_CONCAT(`a` ORDER BY `b` DESC SEPARATOR ',')"
    );
    let pg = term(Order::Asc, NullOrdering::First)
        .to_expr(&DatabaseServer::postgres(16, 0))
        .unwrap();
    assert_eq!(
        sea_query::Query::select()
            .expr(pg)
            .to_string(sea_query::PostgresQueryBuilder),
        r#"SELECT STRING_AGG("a", ',' ORDER BY "b" NULLS FIRST)"#
    );
}

#[test]
fn any_value_by_backend() {
    let any = AnyValue::new(Expr::col("t")).filter(Expr::col("ok"));
    let sql = |backend: DatabaseServer| {
        let expr = any.to_expr(&backend).unwrap();
        let query = sea_query::Query::select().expr(expr).to_owned();
        match backend.vendor() {
            Vendor::PostgreSql => query.to_string(sea_query::PostgresQueryBuilder),
            Vendor::Sqlite => query.to_string(sea_query::SqliteQueryBuilder),
            _ => query.to_string(sea_query::MysqlQueryBuilder),
        }
    };
    assert_eq!(
        sql(DatabaseServer::postgres(16, 1)),
        r#"SELECT ANY_VALUE("t") FILTER (WHERE "ok")"#
    );
    assert_eq!(
        sql(DatabaseServer::postgres(14, 0)),
        r#"SELECT (ARRAY_AGG("t") FILTER (WHERE "t" IS NOT NULL AND ("ok")))[1]"#
    );
    assert_eq!(
        sql(DatabaseServer::mysql(8, 0, 40)),
        "SELECT ANY_VALUE(CASE WHEN `ok` THEN `t` ELSE NULL END)"
    );
    assert_eq!(
        sql(DatabaseServer::mariadb(11, 4, 4)),
        "SELECT MIN(CASE WHEN `ok` THEN `t` ELSE NULL END)"
    );
    assert_eq!(
        sql(DatabaseServer::sqlite(3, 51, 0)),
        r#"SELECT MIN("t") FILTER (WHERE "ok")"#
    );
}

/// Reads back a literal written by `mysql_string_literal`, as MySQL does in either
/// backslash mode (the writer never emits a backslash inside quotes).
fn read_mysql_literal(literal: &str) -> String {
    if let Some(hex) = literal
        .strip_prefix("X'")
        .and_then(|l| l.strip_suffix('\''))
    {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        return String::from_utf8(bytes).unwrap();
    }
    let inner = literal
        .strip_prefix('\'')
        .and_then(|l| l.strip_suffix('\''))
        .unwrap();
    assert!(!inner.contains('\\'), "{literal}");
    assert!(!inner.replace("''", "").contains('\''), "{literal}");
    inner.replace("''", "'")
}

proptest::proptest! {
    #[test]
    fn mysql_literals_read_back_as_written(text in "\\PC*|[\\\\'\"`\\x00-\\x1f%?$]*") {
        let literal = mysql_string_literal(&text);
        proptest::prop_assert_eq!(read_mysql_literal(&literal), text);
    }

    #[test]
    fn version_parsing_never_panics(text in "\\PC*|[0-9.]{0,12}") {
        let _ = crate::Version::parse(&text);
    }
}

#[test]
fn missing_delimiter_is_an_error() {
    let err = StringAgg::new(Expr::col("x"))
        .to_expr(&DatabaseServer::postgres(15, 0))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidExpression(_)));
}
