//! Django's email API (`django.core.mail`, Django 6.0) for Rust.

mod address;
#[cfg(feature = "axum")]
mod axum;
mod backend;
#[cfg(feature = "dkim")]
mod dkim;
mod encode;
mod error;
mod mailer;
mod message;
mod settings;
#[cfg(feature = "smtp")]
mod smtp;
#[cfg(feature = "tasks")]
pub mod tasks;

#[cfg(feature = "axum")]
pub use axum::MailPreviews;
pub use backend::{
    Backend, BoxFuture, ConsoleBackend, DummyBackend, FileBackend, LocmemBackend, SendOptions,
};
#[cfg(feature = "dkim")]
pub use dkim::DkimSigner;
pub use error::{Error, Result};
pub use mailer::{Mailer, mail_admins, mail_managers, send_mail, send_mass_mail};
pub use message::{
    AttachmentContent, EmailAlternative, EmailAttachment, EmailMessage, EmailMultiAlternatives,
    MessageDefaults, Policy, dns_name,
};
pub use settings::{BackendKind, MailSettings};
#[cfg(feature = "smtp")]
pub use smtp::{Security, SmtpBackend, SmtpConfig};
