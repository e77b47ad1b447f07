//! The showcase's background tasks: a welcome mail sent with `djrs-mail` and recorded in an
//! outbox table, and a slow report, run by the in-process worker or by `djrs-demo worker`
//! processes.

use std::time::Duration;

use djrs::mail::{ConsoleBackend, EmailMessage, Mailer, SmtpBackend, SmtpConfig};
use djrs::tasks::{TaskContext, task};
use serde::Serialize;

use crate::Db;

/// The sender of the showcase's mail.
pub const FROM_EMAIL: &str = "djrs showcase <hello@djrs.invalid>";

/// The mailer: the console backend (each message printed to stdout), or SMTP when a URL is
/// given (`smtp://user:password@host:587?tls=starttls`, `smtps://host`).
///
/// # Errors
/// When the SMTP URL is invalid.
pub fn mailer(smtp_url: Option<&str>) -> Result<Mailer, djrs::mail::Error> {
    let mailer = match smtp_url {
        Some(url) => {
            let config = SmtpConfig::from_url(url)?.timeout(Duration::from_secs(15));
            Mailer::new(SmtpBackend::new(config)?)
        }
        None => Mailer::new(ConsoleBackend::stdout()),
    };
    let mut settings = djrs::mail::MailSettings::default();
    settings.default_from_email = FROM_EMAIL.to_owned();
    Ok(mailer.with_settings(settings))
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The welcome mail for `name` at `email`: a text body and an HTML alternative.
///
/// # Errors
/// When `email` is not an address (refused when it enters the message).
pub fn welcome_email(
    name: &str,
    email: &str,
    attempt: u32,
) -> Result<EmailMessage, djrs::mail::Error> {
    Ok(EmailMessage::new(
        format!("Welcome to djrs, {name}!"),
        format!(
            "Hello {name},\n\nthis message was sent by a background task (attempt {attempt}).\n"
        ),
    )
    .from_email(FROM_EMAIL)?
    .to([email])?
    .attach_alternative(
        format!(
            "<p>Hello {},</p><p>this message was sent by a background task (attempt {attempt}).</p>",
            escape_html(name)
        ),
        "text/html",
    ))
}

/// The Message-ID of the welcome mail of task `task_id`: the same on every attempt, so a copy
/// sent twice is recognisable as one message.
///
/// ```
/// assert_eq!(djrs_demo::jobs::welcome_message_id("42"), "<welcome.42@djrs.invalid>");
/// ```
#[must_use]
pub fn welcome_message_id(task_id: &str) -> String {
    format!("<welcome.{task_id}@djrs.invalid>")
}

/// Sends the welcome mail for `name` through the [`Mailer`] registered as task state and
/// records it in the outbox ([`deliver_welcome`]). A failed send fails the attempt and the
/// worker retries it.
///
/// # Errors
/// When sending or the database write fails; the worker retries it.
#[task(takes_context, queue_name = "default", max_attempts = 5)]
pub async fn send_welcome_message(
    ctx: TaskContext,
    name: String,
    email: String,
) -> Result<i64, String> {
    let db = ctx.state::<Db>().ok_or("the worker has no database")?;
    let mailer = ctx.state::<Mailer>().ok_or("the worker has no mailer")?;
    deliver_welcome(
        db,
        mailer,
        &ctx.task_result().id,
        &name,
        &email,
        ctx.attempt(),
    )
    .await
}

/// The welcome task's body: mail sent at least once, and once only unless a worker dies in
/// the instant between the SMTP server's acceptance and the database write.
///
/// 1. The intent is written first, keyed by the task id ([`Db::begin_delivery`]). If an
///    earlier attempt already marked it sent, the send is skipped.
/// 2. The mail goes out with a Message-ID made from the task id ([`welcome_message_id`]).
/// 3. The delivery is marked sent, then the outbox row written (both idempotent).
///
/// Delivery is at-least-once: a worker killed or stalled past its lease after step 2 and
/// before step 3 leaves the mail unmarked, and the retry sends it again, with the same
/// Message-ID, by which mail clients and archives recognise the copy. Exactly once is not
/// possible with SMTP, which has no idempotency key.
///
/// # Errors
/// When sending or a database write fails; the worker retries the task.
pub async fn deliver_welcome(
    db: &Db,
    mailer: &Mailer,
    task_id: &str,
    name: &str,
    email: &str,
    attempt: u32,
) -> Result<i64, String> {
    let message_id = welcome_message_id(task_id);
    let message = welcome_email(name, email, attempt)
        .map_err(|e| e.to_string())?
        .header("Message-ID", message_id.clone());
    let already_sent = db
        .begin_delivery(task_id, &message_id)
        .await
        .map_err(|e| e.to_string())?;
    if already_sent {
        tracing::info!(task_id, "the welcome mail was sent by an earlier attempt");
    } else {
        message.send(mailer).await.map_err(|e| e.to_string())?;
        db.finish_delivery(task_id)
            .await
            .map_err(|e| e.to_string())?;
    }
    db.insert_outbox(email, &message.subject, &message.body, task_id)
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
