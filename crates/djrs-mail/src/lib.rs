//! Django's email API (`django.core.mail`, Django 6.0) for Rust.

mod address;
mod encode;
mod error;
mod message;

pub use error::{Error, Result};
pub use message::{
    AttachmentContent, EmailAlternative, EmailAttachment, EmailMessage, EmailMultiAlternatives, MessageDefaults,
    Policy, dns_name,
};
