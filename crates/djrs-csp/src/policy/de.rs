//! Policies in Django's dict shape from any serde format ([`Policy::from_json`],
//! [`Policy::from_toml`], `Deserialize`). serde reads every shape into the raw types here, through
//! one visitor; [`RawPolicy::into_policy`] then judges them, so each mistake is a typed error.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{DirectiveValue, Policy};
use crate::{Error, Result};

impl Policy {
    /// Loads a policy from JSON in Django's dict shape. A set is written `{"set": [...]}`.
    ///
    /// ```
    /// use djrs_csp::Policy;
    ///
    /// let policy = Policy::from_json(r#"{
    ///     "default-src": ["'self'"],
    ///     "script-src": ["'self'", "<CSP_NONCE_SENTINEL>"],
    ///     "img-src": {"set": ["https:", "'self'"]},
    ///     "upgrade-insecure-requests": true,
    ///     "report-uri": null
    /// }"#)?;
    /// assert_eq!(
    ///     policy.render(Some("n")),
    ///     "default-src 'self'; script-src 'self' 'nonce-n'; img-src 'self' https:; upgrade-insecure-requests"
    /// );
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Parse`] for invalid JSON, [`Error::NotAMapping`] when the document is not an
    /// object, and the errors of [`PolicyBuilder::build`](super::PolicyBuilder::build).
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str::<RawPolicy>(json)
            .map_err(Error::parse)?
            .into_policy()
    }

    /// Loads a policy from TOML in Django's dict shape (feature `toml`). TOML has no null:
    /// leave a directive out, or write `false`.
    ///
    /// ```
    /// use djrs_csp::Policy;
    ///
    /// let policy = Policy::from_toml(r#"
    ///     default-src = ["'self'"]
    ///     script-src = ["'self'", "<CSP_NONCE_SENTINEL>"]
    ///     img-src = { set = ["https:", "'self'"] }
    ///     upgrade-insecure-requests = true
    /// "#)?;
    /// assert_eq!(
    ///     policy.render(None),
    ///     "default-src 'self'; script-src 'self'; img-src 'self' https:; upgrade-insecure-requests"
    /// );
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Parse`] for invalid TOML, and the errors of [`PolicyBuilder::build`](super::PolicyBuilder::build).
    #[cfg(feature = "toml")]
    pub fn from_toml(toml: &str) -> Result<Self> {
        toml::from_str::<RawPolicy>(toml)
            .map_err(Error::parse)?
            .into_policy()
    }
}

/// A policy document as read by serde, before any check: kept apart so that a document that
/// is not a mapping is a typed error.
#[derive(Debug)]
pub(super) enum RawPolicy {
    Map(Vec<(String, RawValue)>),
    Other(String),
}

#[derive(Debug)]
pub(super) enum RawValue {
    Str(String),
    List(Vec<RawItem>),
    Set(Vec<RawItem>),
    Bool(bool),
    Null,
    Number(String, bool),
    Other(String),
}

#[derive(Debug)]
pub(super) enum RawItem {
    Str(String),
    Other(String),
}

impl RawPolicy {
    pub(super) fn into_policy(self) -> Result<Policy> {
        let entries = match self {
            RawPolicy::Map(entries) => entries,
            RawPolicy::Other(found) => return Err(Error::NotAMapping { found }),
        };
        let mut builder = Policy::builder();
        for (name, raw) in entries {
            let invalid = |found: String| Error::InvalidValue {
                directive: name.clone(),
                found,
            };
            let strings = |items: Vec<RawItem>| -> Result<Vec<String>> {
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| match item {
                        RawItem::Str(s) => Ok(s),
                        RawItem::Other(found) => Err(invalid(format!("item {i} ({found})"))),
                    })
                    .collect()
            };
            let value = match raw {
                RawValue::Str(s) => DirectiveValue::List(vec![s]),
                RawValue::List(items) => DirectiveValue::List(strings(items)?),
                RawValue::Set(items) => DirectiveValue::Set(strings(items)?),
                RawValue::Bool(true) => DirectiveValue::Valueless,
                // Python's `values in (None, False)` is also true for 0 and 0.0.
                RawValue::Bool(false) | RawValue::Null | RawValue::Number(_, true) => {
                    DirectiveValue::Omitted
                }
                RawValue::Number(n, false) => return Err(invalid(format!("the number {n}"))),
                RawValue::Other(found) => return Err(invalid(found)),
            };
            builder = builder.value(name, value);
        }
        builder.build()
    }
}

impl<'de> Deserialize<'de> for Policy {
    /// Reads a policy in Django's dict shape from any serde format, checking it as
    /// [`PolicyBuilder::build`](super::PolicyBuilder::build) does.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RawPolicy::deserialize(deserializer)?
            .into_policy()
            .map_err(de::Error::custom)
    }
}

/// A scalar as serde reports it, before a raw type judges it.
enum Scalar {
    Bool(bool),
    /// A number as written, and whether it is zero (Python's `0 in (None, False)` is true).
    Number {
        text: String,
        zero: bool,
    },
    Str(String),
    Null,
}

impl Scalar {
    /// The scalar as error messages name it.
    fn describe(self) -> String {
        match self {
            Scalar::Bool(v) => format!("the boolean {v}"),
            Scalar::Number { text, .. } => format!("the number {text}"),
            Scalar::Str(s) => format!("the string {s:?}"),
            Scalar::Null => "null".to_owned(),
        }
    }
}

/// How one raw type reads each shape serde can report; [`ShapeVisitor`] does the rest.
trait FromShape: Sized {
    /// What the type expects, for serde's own errors (bytes, for one).
    const EXPECTING: &'static str;

    fn scalar(scalar: Scalar) -> Self;

    fn seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error>;

    fn map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

/// The one visitor of the raw types: every shape is accepted here and judged later.
struct ShapeVisitor<T>(PhantomData<T>);

/// Deserializes any raw type through [`ShapeVisitor`].
fn deserialize_shape<'de, T: FromShape, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_any(ShapeVisitor(PhantomData))
}

impl<'de, T: FromShape> Visitor<'de> for ShapeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        Ok(T::scalar(Scalar::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok(T::scalar(Scalar::Number {
            text: v.to_string(),
            zero: v == 0,
        }))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok(T::scalar(Scalar::Number {
            text: v.to_string(),
            zero: v == 0,
        }))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Ok(T::scalar(Scalar::Number {
            text: v.to_string(),
            zero: v == 0.0,
        }))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::scalar(Scalar::Str(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<T, E> {
        Ok(T::scalar(Scalar::Str(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::scalar(Scalar::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::map(map)
    }
}

/// Reads a sequence to its end without keeping it.
fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<de::IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Reads a mapping to its end without keeping it.
fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map
        .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
        .is_some()
    {}
    Ok(())
}

impl FromShape for RawPolicy {
    const EXPECTING: &'static str = "a mapping of directive names to values";

    fn scalar(scalar: Scalar) -> Self {
        RawPolicy::Other(scalar.describe())
    }

    fn seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        skip_seq(seq)?;
        Ok(RawPolicy::Other("a list".to_owned()))
    }

    fn map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, RawValue>()? {
            entries.push((key, value));
        }
        Ok(RawPolicy::Map(entries))
    }
}

impl FromShape for RawValue {
    const EXPECTING: &'static str = "a directive value";

    fn scalar(scalar: Scalar) -> Self {
        match scalar {
            Scalar::Bool(v) => RawValue::Bool(v),
            Scalar::Number { text, zero } => RawValue::Number(text, zero),
            Scalar::Str(s) => RawValue::Str(s),
            Scalar::Null => RawValue::Null,
        }
    }

    fn seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<RawItem>()? {
            items.push(item);
        }
        Ok(RawValue::List(items))
    }

    fn map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut set = None;
        let mut other = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "set" && set.is_none() {
                set = Some(map.next_value::<Vec<RawItem>>()?);
            } else {
                map.next_value::<de::IgnoredAny>()?;
                other = Some(key);
            }
        }
        Ok(match (set, other) {
            (Some(items), None) => RawValue::Set(items),
            (_, Some(key)) => RawValue::Other(format!(
                "a mapping with the key {key:?} (only {{\"set\": [...]}} is a value)"
            )),
            (None, None) => RawValue::Other("an empty mapping".to_owned()),
        })
    }
}

impl FromShape for RawItem {
    const EXPECTING: &'static str = "a source string";

    fn scalar(scalar: Scalar) -> Self {
        match scalar {
            Scalar::Str(s) => RawItem::Str(s),
            other => RawItem::Other(other.describe()),
        }
    }

    fn seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        skip_seq(seq)?;
        Ok(RawItem::Other("a list".to_owned()))
    }

    fn map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        skip_map(map)?;
        Ok(RawItem::Other("a mapping".to_owned()))
    }
}

impl<'de> Deserialize<'de> for RawPolicy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_shape(deserializer)
    }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_shape(deserializer)
    }
}

impl<'de> Deserialize<'de> for RawItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_shape(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "toml")]
    #[test]
    fn loads_toml() {
        let policy = Policy::from_toml(
            "default-src = [\"'self'\"]\nimg-src = { set = [\"b\", \"a\"] }\nupgrade-insecure-requests = true\n",
        )
        .unwrap();
        assert_eq!(
            policy.to_string(),
            "default-src 'self'; img-src a b; upgrade-insecure-requests"
        );
        let err = Policy::from_toml("default-src = [1]").unwrap_err();
        assert!(err.to_string().contains("item 0"), "{err}");
        assert!(matches!(Policy::from_toml("= ="), Err(Error::Parse(_))));
    }

    #[test]
    fn visitors_say_what_they_expect() {
        use serde::Deserialize as _;
        use serde::de::value::{BytesDeserializer, Error as ValueError};

        let bytes = || BytesDeserializer::<ValueError>::new(b"x");
        let err = RawPolicy::deserialize(bytes()).unwrap_err().to_string();
        assert!(
            err.ends_with("expected a mapping of directive names to values"),
            "{err}"
        );
        let err = RawValue::deserialize(bytes()).unwrap_err().to_string();
        assert!(err.ends_with("expected a directive value"), "{err}");
        let err = RawItem::deserialize(bytes()).unwrap_err().to_string();
        assert!(err.ends_with("expected a source string"), "{err}");
    }

    #[test]
    fn loads_every_json_shape() {
        let policy = Policy::from_json(
            r#"{"a-src": true, "b-src": 0.0, "c-src": {"set": ["y", "x", "y"]}, "d-src": ["p", "q"], "e-src": "r"}"#,
        )
        .unwrap();
        assert_eq!(policy.to_string(), "a-src; c-src x y; d-src p q; e-src r");
        assert_eq!(policy.get("b-src"), Some(&DirectiveValue::Omitted));
        for (json, part) in [
            (r#"{"a-src": 1.5}"#, "the number 1.5"),
            (r#"{"a-src": -2}"#, "the number -2"),
            (r#"{"a-src": {"set": [1]}}"#, "item 0"),
            (r#"{"a-src": [true]}"#, "item 0"),
            (r#"{"a-src": {"other": []}}"#, "a-src"),
            (r#"{"a-src": {}}"#, "a-src"),
            ("5", "mapping"),
            ("true", "mapping"),
            ("null", "mapping"),
        ] {
            let err = Policy::from_json(json).unwrap_err().to_string();
            assert!(err.contains(part), "{json}: {err}");
        }
    }

    #[test]
    fn loads_json_in_order_with_typed_errors() {
        let policy = Policy::from_json(
            r#"{"z-src": ["'self'"], "a-src": "x", "m-src": 0, "b-src": false, "c-src": null}"#,
        )
        .unwrap();
        assert_eq!(policy.to_string(), "z-src 'self'; a-src x");
        let err = Policy::from_json(r#"{"script-src": 1}"#).unwrap_err();
        assert!(matches!(err, Error::InvalidValue { .. }), "{err}");
        let err = Policy::from_json(r#"{"script-src": ["'self'", null]}"#).unwrap_err();
        assert!(err.to_string().contains("item 1 (null)"), "{err}");
        let err = Policy::from_json(r#""default-src 'self'""#).unwrap_err();
        assert!(matches!(err, Error::NotAMapping { .. }), "{err}");
        let err = Policy::from_json(r#"[["default-src", "'self'"]]"#).unwrap_err();
        assert!(matches!(err, Error::NotAMapping { .. }), "{err}");
        let err = Policy::from_json(r#"{"script-src": {"list": []}}"#).unwrap_err();
        assert!(matches!(err, Error::InvalidValue { .. }), "{err}");
        let err = Policy::from_json("{").unwrap_err();
        assert!(matches!(err, Error::Parse(_)), "{err}");
        let policy: Policy = serde_json::from_str(r#"{"default-src": ["'none'"]}"#).unwrap();
        assert_eq!(policy.to_string(), "default-src 'none'");
        assert!(serde_json::from_str::<Policy>(r#"{"default-src": ["self"]}"#).is_err());
    }
}
