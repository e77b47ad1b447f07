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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tera_context_passes_through_and_values_become_variables() {
        let mut given = Context::new();
        given.insert("n", &7);
        let context = given.into_context().unwrap();
        assert_eq!(
            context.get("n").map(ToString::to_string),
            Some("7".to_owned())
        );

        let map: std::collections::BTreeMap<&str, &str> = [("a", "<b>")].into();
        let context = (&map).into_context().unwrap();
        assert_eq!(
            context.get("a").map(ToString::to_string),
            Some("<b>".to_owned())
        );

        for bad in [
            serde_json::json!(1),
            serde_json::json!("s"),
            serde_json::json!([1, 2]),
        ] {
            let err = (&bad).into_context().unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("the template context must be a struct or a map"),
                "{err}"
            );
        }
    }
}
