//! `Policy`: an ordered set of directives with Django's value shapes, checked once when built
//! and rendered exactly as Django's `build_policy`.
//!
//! Laid out as tower-http lays out CORS: `model` holds [`Policy`] and [`DirectiveValue`],
//! `render` the header values, `builder` [`PolicyBuilder`], `checks` what a policy must pass
//! when it is built, `de` the serde loading, and `edit` [`PolicyEdit`], a route's change to it.

mod builder;
mod checks;
mod de;
mod edit;
mod model;
mod render;

pub use self::builder::PolicyBuilder;
pub use self::edit::PolicyEdit;
pub use self::model::{DirectiveValue, Policy};
