//! axum integration: the operator's console ([`console`]), a router to mount with `nest`
//! anywhere, with `Tasks` as state through `FromRef`.

mod actions;
mod console;
mod guard;
mod html;
mod pages;

pub use console::{console, console_of, mount};
pub use guard::Access;
