//! MySQL/MariaDB: lifting `group_concat_max_len`, which cuts `GROUP_CONCAT` results (and so
//! [`StringAgg`](crate::StringAgg)) silently but for a warning: at 1,024 bytes by default on
//! MySQL, at 1 MiB on MariaDB 10.2.4 and later.
//!
//! Django does nothing about it; raise it per connection with [`set_group_concat_max_len`],
//! or for every connection of a pool with [`with_group_concat_max_len`].

use sqlx::mysql::{MySqlConnection, MySqlPoolOptions};

use crate::error::Result;

/// The largest `group_concat_max_len` both MySQL and MariaDB accept (4 GiB − 1). Results are
/// still bounded by `max_allowed_packet`.
pub const MAX_GROUP_CONCAT_LEN: u64 = 4_294_967_295;

/// Sets `group_concat_max_len` for this connection's session, capped at
/// [`MAX_GROUP_CONCAT_LEN`].
///
/// ```no_run
/// use djrs_orm_ext::mysql::set_group_concat_max_len;
///
/// # async fn demo(pool: sqlx::MySqlPool) -> djrs_orm_ext::Result<()> {
/// let mut conn = pool.acquire().await?;
/// set_group_concat_max_len(&mut conn, 1 << 20).await?; // 1 MiB
/// # Ok(()) }
/// ```
pub async fn set_group_concat_max_len(conn: &mut MySqlConnection, bytes: u64) -> Result<()> {
    sqlx::query("SET SESSION group_concat_max_len = ?")
        .bind(bytes.min(MAX_GROUP_CONCAT_LEN))
        .execute(conn)
        .await?;
    Ok(())
}

/// Pool options that set `group_concat_max_len` on every new connection (through
/// `after_connect`, which this replaces if one was set).
///
/// ```no_run
/// use djrs_orm_ext::mysql::{with_group_concat_max_len, MAX_GROUP_CONCAT_LEN};
///
/// # async fn demo() -> Result<(), sqlx::Error> {
/// let pool = with_group_concat_max_len(sqlx::mysql::MySqlPoolOptions::new(), MAX_GROUP_CONCAT_LEN)
///     .connect("mysql://root@127.0.0.1:3306/test")
///     .await?;
/// # Ok(()) }
/// ```
#[must_use]
pub fn with_group_concat_max_len(options: MySqlPoolOptions, bytes: u64) -> MySqlPoolOptions {
    let bytes = bytes.min(MAX_GROUP_CONCAT_LEN);
    options.after_connect(move |conn, _| {
        Box::pin(async move {
            sqlx::query("SET SESSION group_concat_max_len = ?")
                .bind(bytes)
                .execute(conn)
                .await?;
            Ok(())
        })
    })
}
