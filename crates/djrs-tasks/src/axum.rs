//! axum integration: the operator's console ([`console`]), a router to mount with `nest`
//! anywhere, with `Tasks` as state through `FromRef`.

mod console;
mod guard;
mod html;

pub use console::{console, console_of, mount};
pub use guard::Access;
