//! What PostgreSQL workers do beside claiming: listening for enqueues and cancel requests
//! (`LISTEN`), and compacting the table and its indexes without blocking them.

use std::time::Duration;

use sqlx::AssertSqlSafe;
use sqlx::postgres::{PgListener, PgPool};

use super::{CANCEL_CHANNEL, CHANNEL};
use crate::Result;

/// Vacuums the table and rebuilds its indexes concurrently, after dropping the invalid ones an
/// interrupted rebuild left.
pub(super) async fn compact(pool: &PgPool) -> Result<()> {
    // An interrupted `REINDEX … CONCURRENTLY` leaves its new indexes behind, invalid:
    // never used by queries, yet written by every insert and update.
    let invalid: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE i.indrelid = 'djrs_task'::regclass AND NOT i.indisvalid",
    )
    .fetch_all(pool)
    .await?;
    for index in invalid {
        // The name is quoted by the server's `format('%I')`.
        sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {index}"
        )))
        .execute(pool)
        .await?;
    }
    sqlx::raw_sql("VACUUM djrs_task").execute(pool).await?;
    sqlx::raw_sql("REINDEX TABLE CONCURRENTLY djrs_task")
        .execute(pool)
        .await?;
    Ok(())
}

/// Wakes the workers of this process on every notification, forever: reconnects when the
/// connection drops, and wakes everyone then (notifications may have been lost meanwhile).
pub(super) async fn listen(pool: PgPool, wakes: super::super::dialect::Wakes) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(target: "djrs_tasks", error = %err, "LISTEN connection failed; workers poll meanwhile");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(err) = listener.listen_all([CHANNEL, CANCEL_CHANNEL]).await {
            tracing::warn!(target: "djrs_tasks", error = %err, "LISTEN failed; workers poll meanwhile");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let everyone = || {
            wakes.enqueued.notify_waiters();
            wakes.cancel.notify_waiters();
        };
        loop {
            match listener.try_recv().await {
                Ok(Some(note)) if note.channel() == CANCEL_CHANNEL => {
                    wakes.cancel.notify_waiters();
                }
                Ok(Some(_)) => wakes.enqueued.notify_waiters(),
                // The connection dropped (and notifications may be lost): wake the
                // workers so they look, then listen again.
                Ok(None) => everyone(),
                Err(err) => {
                    tracing::warn!(target: "djrs_tasks", error = %err, "LISTEN connection lost; reconnecting");
                    everyone();
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    break;
                }
            }
        }
    }
}
