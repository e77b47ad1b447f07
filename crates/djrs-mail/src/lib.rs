//! Django's email API (`django.core.mail`, Django 6.0) for Rust, async first, on lettre.
//!
//! [`EmailMessage`] has Django's fields and rules and renders the bytes Django 6.0 renders
//! (header order, `Date` and `Message-ID` added, Bcc never in the headers, the same MIME trees,
//! RFC 2047 headers, punycoded IDN domains, the same transfer encodings): the crate's tests run
//! every case Django 6.0.10 recorded. Bad input is an error, never a sent mail: a line break in any
//! header value, a malformed address, a non-ASCII local part for a server without SMTPUTF8.
//! Backends share one async trait: `smtp` (lettre's tokio connection, a pool with a real cap on
//! open connections, timeouts on every step, STARTTLS that is never skipped), `console`, `file`,
//! `locmem` and `dummy`; settings use Django's names.
//!
//! ```
//! use djrs_mail::{EmailMessage, LocmemBackend, Mailer, send_mail};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let outbox = LocmemBackend::new(); // Django's locmem backend and mail.outbox
//! let mailer = Mailer::new(outbox.clone());
//!
//! let message = EmailMessage::new("Your order", "It ships tomorrow.")
//!     .from_email("Shop <shop@example.com>")?
//!     .to(["ann@example.com"])?
//!     .bcc(["audit@example.com"])?
//!     .attach_alternative("<p>It ships <b>tomorrow</b>.</p>", "text/html")
//!     .attach("invoice.txt", "Total: 42 EUR", None);
//! assert_eq!(message.send(&mailer).await?, 1);
//! send_mail(&mailer, "Hi", "Plain text", None, &["bob@example.com"], None).await?;
//! assert_eq!(outbox.outbox().len(), 2);
//!
//! // Header injection is refused, whatever the backend.
//! let evil = EmailMessage::new("Hi\r\nBcc: victim@example.com", "x").to(["ann@example.com"])?;
//! assert!(evil.send(&mailer).await.unwrap_err().is_bad_message());
//! # Ok::<(), djrs_mail::Error>(()) }).unwrap();
//! ```
//!
//! # Features
//!
//! | feature | adds                                                                                   | default |
//! |---------|----------------------------------------------------------------------------------------|---------|
//! | `smtp`  | `SmtpBackend` on lettre (tokio, rustls): capped pool, STARTTLS or implicit TLS, AUTH, client certificates, timeouts | no |
//! | `tasks` | `EmailMessage::send_later(&tasks)`: a `djrs-tasks` task, retried on failure; `send_later_with` (`SendLater`: delay, `run_after`, `queue_name`, `priority`, `backend`) and `send_later_in` (inside the caller's transaction) | no |
//! | `axum`  | [`Mailer`] as an extractor through `FromRef`, `MailPreviews` (Rails-style previews) | no      |
//! | `dkim`  | `DkimSigner` (RSA or Ed25519, through lettre) and `SmtpBackend::dkim`               | no      |
//! | `partials` | `EmailMessage::from_template(&templates, "welcome.html", &context)`: subject, text and HTML from the `#subject`, `#text` and `#html` partials of one djrs-partials template | no |
//!
//! Without features the crate builds messages (inline images included: [`InlineImage`],
//! [`EmailMessage::inline_image`]) and has the console, file, locmem and dummy backends.
//!
//! # The message's shape
//!
//! [`EmailMessage`]'s fields are the message, with Django's attribute names, public as Django's
//! attributes are; its chained methods are Django's constructor keywords. They do different
//! jobs: the methods check what comes in (addresses are parsed into [`Mailbox`]es once, when they
//! enter, so `.to([…])` returns a `Result`), and the fields only hold checked values. The
//! configuration structs ([`MailSettings`], [`MessageDefaults`], [`SendOptions`], `SmtpConfig`)
//! are `#[non_exhaustive]`: build them from `default()` or `new()` and their setters.
//!
//! # Coming from Django
//!
//! | Django                                          | djrs-mail                                             |
//! |-------------------------------------------------|-------------------------------------------------------|
//! | `EmailMessage(subject, body, from_email, to, …)`, `EmailMultiAlternatives` | [`EmailMessage::new`] and its chained methods; [`EmailMultiAlternatives`] is the same type |
//! | an address string                               | [`Mailbox`], parsed when it enters the message        |
//! | `message()`                                     | [`EmailMessage::message`] (CRLF bytes), [`EmailMessage::message_with`] |
//! | `get_connection()`, `send(fail_silently=…)`     | [`Mailer::from_settings`], [`EmailMessage::send`], [`Mailer::fail_silently`] |
//! | `send_mail`, `send_mass_mail`, `mail_admins`, `mail_managers` | [`send_mail`], [`send_mass_mail`], [`mail_admins`], [`mail_managers`] |
//! | `EMAIL_*`, `DEFAULT_FROM_EMAIL`, `SERVER_EMAIL`, `ADMINS`, `MANAGERS` | [`MailSettings`] (serde, Django's names) |
//! | `backends.smtp/console/filebased/locmem/dummy`  | `SmtpBackend`, [`ConsoleBackend`], [`FileBackend`], [`LocmemBackend`], [`DummyBackend`] |
//! | `ValueError` for a line break in a header       | [`Error::BadHeader`] (and [`Error::is_bad_message`])  |
//! | `MIMEImage` with a `Content-ID` header, `make_msgid()` | [`InlineImage`], [`ContentId`], [`EmailMessage::inline_image`] (a `multipart/related` part) |
//! | `render_to_string` for subject, text and HTML   | `EmailMessage::from_template` (feature `partials`)    |
//! | `transaction.on_commit(lambda: …)` around a send | `EmailMessage::send_later_in(&mut *tx, &tasks, &options)` (feature `tasks`) |

mod address;
#[cfg(feature = "axum")]
mod axum;
mod backend;
#[cfg(feature = "dkim")]
mod dkim;
mod encode;
mod error;
mod headers;
mod inline;
mod mailer;
mod message;
mod mime;
mod settings;
#[cfg(feature = "smtp")]
mod smtp;
#[cfg(feature = "tasks")]
pub mod tasks;
#[cfg(feature = "partials")]
mod template;

pub use address::Mailbox;
#[cfg(feature = "axum")]
pub use axum::MailPreviews;
pub use backend::{
    Backend, BoxFuture, ConsoleBackend, DummyBackend, FileBackend, LocmemBackend, SendOptions,
};
#[cfg(feature = "dkim")]
pub use dkim::DkimSigner;
pub use error::{Error, Result};
pub use inline::{ContentId, InlineImage};
pub use mailer::{Mailer, mail_admins, mail_managers, send_mail, send_mass_mail};
pub use message::{
    AttachmentContent, EmailAlternative, EmailAttachment, EmailMessage, EmailMultiAlternatives,
    EmailPolicy, MessageDefaults, dns_name,
};
pub use settings::{BackendKind, MailSettings, REDACTED, Security};
#[cfg(feature = "smtp")]
pub use smtp::{SmtpBackend, SmtpConfig};
#[cfg(feature = "tasks")]
pub use tasks::SendLater;
