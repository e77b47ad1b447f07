//! The showcase's background tasks: a welcome message written to an outbox table, and a slow
//! report, run by the in-process worker or by `djrs-demo worker` processes.

use std::time::Duration;

use djrs::tasks::{TaskContext, task};
use serde::Serialize;

use crate::Db;

/// Writes a welcome message for `name` to the outbox (the showcase's stand-in for sending mail).
///
/// # Errors
/// When the database write fails; the worker retries it.
#[task(takes_context, queue_name = "default", max_attempts = 5)]
pub async fn send_welcome_message(
    ctx: TaskContext,
    name: String,
    email: String,
) -> Result<i64, String> {
    let db = ctx.state::<Db>().ok_or("the worker has no database")?;
    let subject = format!("Welcome to djrs, {name}!");
    let body = format!(
        "Hello {name},\n\nthis message was written by a background task (attempt {}).\n",
        ctx.attempt()
    );
    db.insert_outbox(&email, &subject, &body, &ctx.task_result().id)
        .await
        .map_err(|e| e.to_string())
}

/// Builds a report slowly (it sleeps `seconds`), then records it: a long task to watch in the
/// dashboard, and to show that a killed worker's task runs again.
///
/// # Errors
/// When the database write fails.
#[task(takes_context, queue_name = "default", max_attempts = 3)]
pub async fn generate_report(ctx: TaskContext, seconds: u64) -> Result<String, String> {
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let db = ctx.state::<Db>().ok_or("the worker has no database")?;
    db.insert_outbox(
        "reports@djrs.invalid",
        "Report ready",
        &format!("took {seconds} s"),
        &ctx.task_result().id,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(format!(
        "report built in {seconds} s on attempt {}",
        ctx.attempt()
    ))
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct OutboxMessage {
    /// The row's key.
    pub id: i64,
    /// The recipient.
    pub recipient: String,
    /// The subject.
    pub subject: String,
    /// The body.
    pub body: String,
    /// The id of the task result that wrote it.
    pub task_id: String,
}
