//! [`IntoContext`]: what a template can be rendered with.

use serde::Serialize;
use tera::Context;

use crate::{Error, Result};

/// A template's variables: a [`tera::Context`], or a reference to any `Serialize` value whose
/// fields become the variables (a struct, a map, `serde_json::json!({…})`).
///
/// ```
/// use djrs_partials::IntoContext;
///
/// #[derive(serde::Serialize)]
/// struct Page { title: &'static str, items: Vec<u32> }
///
/// let context = (&Page { title: "Items", items: vec![1, 2] }).into_context()?;
/// assert_eq!(context.get("title").map(|v| v.to_string()), Some("Items".to_owned()));
///
/// // A value without fields has no variables to give: a typed error says so.
/// assert!(matches!((&42).into_context(), Err(djrs_partials::Error::Context { .. })));
/// # Ok::<(), djrs_partials::Error>(())
/// ```
pub trait IntoContext {
    /// The context.
    ///
    /// # Errors
    /// [`Error::Context`] for a value that is not a struct or a map with string keys, or that
    /// fails to serialize.
    fn into_context(self) -> Result<Context>;
}

impl IntoContext for Context {
    fn into_context(self) -> Result<Context> {
        Ok(self)
    }
}

impl<T: Serialize + ?Sized> IntoContext for &T {
    fn into_context(self) -> Result<Context> {
        Context::from_serialize(self).map_err(|err| Error::Context {
            message: err.to_string(),
        })
    }
}
