//! htmx's response headers as axum response parts (django-htmx's `HttpResponseClientRedirect`,
//! `HttpResponseLocation`, `push_url`, `trigger_client_event`, …), put in a handler's response
//! tuple before the body:
//!
//! ```
//! use axum::response::IntoResponse;
//! use djrs_partials::axum::{HxPushUrl, HxReswap, HxTrigger};
//! use serde_json::json;
//!
//! async fn saved() -> impl IntoResponse {
//!     (
//!         HxPushUrl::url("/articles/7"),
//!         HxReswap::new("outerHTML"),
//!         HxTrigger::event("saved").detail("toast", json!({"text": "Saved ✓"})),
//!         "<p>Saved.</p>",
//!     )
//! }
//! # tokio_test::block_on(async {
//! let res = saved().await.into_response();
//! assert_eq!(res.headers()["hx-push-url"], "/articles/7");
//! assert_eq!(res.headers()["hx-trigger"], r#"{"saved":null,"toast":{"text":"Saved \u2713"}}"#);
//! # });
//! ```
//!
//! Values go out as they are given, checked: a URL's non-ASCII characters are percent-encoded
//! and JSON's are written as `\u` escapes (header values are ASCII); a value holding a line
//! break or another control character is refused, and the response becomes a bare `500` whose
//! reason is logged (never the value), so no header can be injected through them.

use axum::response::{IntoResponse, IntoResponseParts, Response, ResponseParts};
use http::{HeaderName, HeaderValue, StatusCode};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::Error;

/// htmx's response header names (htmx 2).
pub mod response_headers {
    /// A client-side redirect with a full page load.
    pub const HX_REDIRECT: &str = "hx-redirect";
    /// A full refresh of the page.
    pub const HX_REFRESH: &str = "hx-refresh";
    /// A client-side navigation without a full reload, as `hx-get` with `hx-push-url`.
    pub const HX_LOCATION: &str = "hx-location";
    /// A URL pushed into the browser's history, or `false`.
    pub const HX_PUSH_URL: &str = "hx-push-url";
    /// A URL that replaces the current one in the location bar, or `false`.
    pub const HX_REPLACE_URL: &str = "hx-replace-url";
    /// A CSS selector that replaces the request's target.
    pub const HX_RETARGET: &str = "hx-retarget";
    /// How the response is swapped, as `hx-swap` says it.
    pub const HX_RESWAP: &str = "hx-reswap";
    /// A CSS selector choosing the part of the response to swap in.
    pub const HX_RESELECT: &str = "hx-reselect";
    /// Events triggered as soon as the response arrives.
    pub const HX_TRIGGER: &str = "hx-trigger";
    /// Events triggered after the settle step.
    pub const HX_TRIGGER_AFTER_SETTLE: &str = "hx-trigger-after-settle";
    /// Events triggered after the swap step.
    pub const HX_TRIGGER_AFTER_SWAP: &str = "hx-trigger-after-swap";
}

/// The status htmx reads as "stop polling": a response to an `hx-trigger="every …"` request
/// with it ends the polling (django-htmx's `HTMX_STOP_POLLING`).
///
/// ```
/// assert_eq!(djrs_partials::axum::STOP_POLLING.as_u16(), 286);
/// ```
pub const STOP_POLLING: StatusCode = match StatusCode::from_u16(286) {
    Ok(status) => status,
    Err(_) => StatusCode::OK,
};

impl IntoResponse for Error {
    /// A bare `500 Internal Server Error`; the error is logged with `tracing::error!`.
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "djrs-partials could not make the response");
        (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
    }
}

fn refused(header: &'static str, reason: &str) -> Error {
    Error::HtmxHeader {
        header,
        reason: reason.to_owned(),
    }
}

/// A header value from ASCII text; control characters are refused.
fn ascii_value(header: &'static str, text: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(text).map_err(|_| {
        refused(
            header,
            "the value holds a line break, another control character or a non-ASCII character",
        )
    })
}

/// A URL as a header value: non-ASCII characters percent-encoded (UTF-8), control characters
/// refused.
fn url_value(header: &'static str, url: &str) -> Result<HeaderValue, Error> {
    if url.chars().any(char::is_control) {
        return Err(refused(
            header,
            "the URL holds a line break or another control character",
        ));
    }
    // Control characters are refused above, so only non-ASCII characters are encoded.
    let ascii = percent_encoding::utf8_percent_encode(url, percent_encoding::CONTROLS).to_string();
    ascii_value(header, &ascii)
}

/// JSON as a header value: non-ASCII characters as `\u` escapes (they only occur inside JSON
/// strings, where the escape means the same character).
fn json_value(header: &'static str, json: &Value) -> Result<HeaderValue, Error> {
    let text = json.to_string();
    let mut ascii = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            let mut units = [0; 2];
            for unit in c.encode_utf16(&mut units) {
                ascii.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    ascii_value(header, &ascii)
}

fn insert(
    mut res: ResponseParts,
    header: &'static str,
    value: HeaderValue,
) -> Result<ResponseParts, Error> {
    res.headers_mut()
        .insert(HeaderName::from_static(header), value);
    Ok(res)
}

/// `HX-Redirect`: the browser goes to the URL with a full page load (django-htmx's
/// `HttpResponseClientRedirect`).
///
/// ```
/// use axum::response::IntoResponse;
/// use djrs_partials::axum::HxRedirect;
///
/// let res = (HxRedirect::new("/signed-in/café"), "").into_response();
/// assert_eq!(res.headers()["hx-redirect"], "/signed-in/caf%C3%A9");
///
/// // A line break would split the header: refused, and the response is a bare 500.
/// let res = (HxRedirect::new("/a\r\nSet-Cookie: x=1"), "").into_response();
/// assert_eq!(res.status(), 500);
/// assert!(res.headers().get("set-cookie").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct HxRedirect(String);

impl HxRedirect {
    /// A redirect to `url`.
    ///
    /// ```
    /// let redirect = djrs_partials::axum::HxRedirect::new("/");
    /// # let _ = redirect;
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }
}

impl IntoResponseParts for HxRedirect {
    type Error = Error;

    fn into_response_parts(self, res: ResponseParts) -> Result<ResponseParts, Error> {
        let value = url_value("HX-Redirect", &self.0)?;
        insert(res, response_headers::HX_REDIRECT, value)
    }
}

/// `HX-Refresh: true`: the browser reloads the whole page (django-htmx's
/// `HttpResponseClientRefresh`).
///
/// ```
/// use axum::response::IntoResponse;
/// let res = (djrs_partials::axum::HxRefresh, "").into_response();
/// assert_eq!(res.headers()["hx-refresh"], "true");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HxRefresh;

impl IntoResponseParts for HxRefresh {
    type Error = Error;

    fn into_response_parts(self, res: ResponseParts) -> Result<ResponseParts, Error> {
        insert(
            res,
            response_headers::HX_REFRESH,
            HeaderValue::from_static("true"),
        )
    }
}

/// `HX-Location`: htmx loads the URL as if `hx-get` with `hx-push-url` asked for it, without a
/// full reload (django-htmx's `HttpResponseLocation`); the options say where and how it swaps.
///
/// ```
/// use axum::response::IntoResponse;
/// use djrs_partials::axum::HxLocation;
///
/// let res = (HxLocation::new("/inbox"), "").into_response();
/// assert_eq!(res.headers()["hx-location"], "/inbox");
///
/// let res = (HxLocation::new("/inbox").target("#main").swap("innerHTML"), "").into_response();
/// assert_eq!(
///     res.headers()["hx-location"],
///     r##"{"path":"/inbox","swap":"innerHTML","target":"#main"}"##
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct HxLocation {
    path: String,
    options: Map<String, Value>,
}

impl HxLocation {
    /// A navigation to `path`.
    ///
    /// ```
    /// let location = djrs_partials::axum::HxLocation::new("/inbox");
    /// # let _ = location;
    /// ```
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            options: Map::new(),
        }
    }

    fn option(mut self, key: &str, value: Value) -> Self {
        self.options.insert(key.to_owned(), value);
        self
    }

    /// The element to swap the response into (a CSS selector; default `body`).
    ///
    /// ```
    /// let location = djrs_partials::axum::HxLocation::new("/inbox").target("#main");
    /// # let _ = location;
    /// ```
    pub fn target(self, selector: impl Into<String>) -> Self {
        self.option("target", Value::String(selector.into()))
    }

    /// How to swap it, as `hx-swap` says it.
    ///
    /// ```
    /// let location = djrs_partials::axum::HxLocation::new("/inbox").swap("outerHTML");
    /// # let _ = location;
    /// ```
    pub fn swap(self, swap: impl Into<String>) -> Self {
        self.option("swap", Value::String(swap.into()))
    }

    /// The part of the response to swap in (a CSS selector).
    ///
    /// ```
    /// let location = djrs_partials::axum::HxLocation::new("/inbox").select("#list");
    /// # let _ = location;
    /// ```
    pub fn select(self, selector: impl Into<String>) -> Self {
        self.option("select", Value::String(selector.into()))
    }

    /// The element the request seems to come from (a CSS selector).
    ///
    /// ```
    /// let location = djrs_partials::axum::HxLocation::new("/inbox").source("#nav");
    /// # let _ = location;
    /// ```
    pub fn source(self, selector: impl Into<String>) -> Self {
        self.option("source", Value::String(selector.into()))
    }

    /// The event the request seems to be triggered by.
    ///
    /// ```
    /// let location = djrs_partials::axum::HxLocation::new("/inbox").event("click");
    /// # let _ = location;
    /// ```
    pub fn event(self, event: impl Into<String>) -> Self {
        self.option("event", Value::String(event.into()))
    }

    /// Values sent with the request (a JSON object).
    ///
    /// ```
    /// let location = djrs_partials::axum::HxLocation::new("/inbox")
    ///     .values(serde_json::json!({"folder": "starred"}));
    /// # let _ = location;
    /// ```
    pub fn values(self, values: Value) -> Self {
        self.option("values", values)
    }

    /// Headers sent with the request (a JSON object of names to values).
    ///
    /// ```
    /// let location = djrs_partials::axum::HxLocation::new("/inbox")
    ///     .headers(serde_json::json!({"X-Folder": "starred"}));
    /// # let _ = location;
    /// ```
    pub fn headers(self, headers: Value) -> Self {
        self.option("headers", headers)
    }
}

impl IntoResponseParts for HxLocation {
    type Error = Error;

    fn into_response_parts(self, res: ResponseParts) -> Result<ResponseParts, Error> {
        let value = if self.options.is_empty() {
            url_value("HX-Location", &self.path)?
        } else {
            if self.path.chars().any(char::is_control) {
                return Err(refused(
                    "HX-Location",
                    "the path holds a line break or another control character",
                ));
            }
            let mut object = self.options;
            object.insert("path".to_owned(), Value::String(self.path));
            json_value("HX-Location", &Value::Object(object))?
        };
        insert(res, response_headers::HX_LOCATION, value)
    }
}

macro_rules! url_or_false {
    ($(#[$doc:meta])* $name:ident, $header:literal, $constant:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[must_use]
        pub struct $name(Option<String>);

        impl $name {
            /// This URL.
            ///
            /// ```
            #[doc = concat!("let part = djrs_partials::axum::", stringify!($name), "::url(\"/a?page=2\");")]
            /// # let _ = part;
            /// ```
            pub fn url(url: impl Into<String>) -> Self {
                Self(Some(url.into()))
            }

            /// `false`: no URL at all, even one the element asks for.
            ///
            /// ```
            #[doc = concat!("let part = djrs_partials::axum::", stringify!($name), "::prevent();")]
            /// # let _ = part;
            /// ```
            pub fn prevent() -> Self {
                Self(None)
            }
        }

        impl IntoResponseParts for $name {
            type Error = Error;

            fn into_response_parts(self, res: ResponseParts) -> Result<ResponseParts, Error> {
                let value = match &self.0 {
                    Some(url) => url_value($header, url)?,
                    None => HeaderValue::from_static("false"),
                };
                insert(res, response_headers::$constant, value)
            }
        }
    };
}

url_or_false!(
    /// `HX-Push-Url`: the URL pushed into the browser's history (django-htmx's `push_url`), or
    /// `false` to push none.
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// use djrs_partials::axum::HxPushUrl;
    ///
    /// let res = (HxPushUrl::url("/articles?page=2"), "").into_response();
    /// assert_eq!(res.headers()["hx-push-url"], "/articles?page=2");
    /// let res = (HxPushUrl::prevent(), "").into_response();
    /// assert_eq!(res.headers()["hx-push-url"], "false");
    /// ```
    HxPushUrl,
    "HX-Push-Url",
    HX_PUSH_URL
);

url_or_false!(
    /// `HX-Replace-Url`: the URL that replaces the current one in the location bar (django-htmx's
    /// `replace_url`), or `false` for none.
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// use djrs_partials::axum::HxReplaceUrl;
    ///
    /// let res = (HxReplaceUrl::url("/search?q=tea"), "").into_response();
    /// assert_eq!(res.headers()["hx-replace-url"], "/search?q=tea");
    /// ```
    HxReplaceUrl,
    "HX-Replace-Url",
    HX_REPLACE_URL
);

macro_rules! text_header {
    ($(#[$doc:meta])* $name:ident, $header:literal, $constant:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[must_use]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("With ", $what, ".")]
            ///
            /// ```
            #[doc = concat!("let part = djrs_partials::axum::", stringify!($name), "::new(\"#main\");")]
            /// # let _ = part;
            /// ```
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
        }

        impl IntoResponseParts for $name {
            type Error = Error;

            fn into_response_parts(self, res: ResponseParts) -> Result<ResponseParts, Error> {
                let value = ascii_value($header, &self.0)?;
                insert(res, response_headers::$constant, value)
            }
        }
    };
}

text_header!(
    /// `HX-Retarget`: swap the response into this element instead of the request's target
    /// (django-htmx's `retarget`).
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// let res = (djrs_partials::axum::HxRetarget::new("#errors"), "").into_response();
    /// assert_eq!(res.headers()["hx-retarget"], "#errors");
    /// ```
    HxRetarget,
    "HX-Retarget",
    HX_RETARGET,
    "a CSS selector"
);

text_header!(
    /// `HX-Reswap`: swap the response this way instead of as the element says (django-htmx's
    /// `reswap`), e.g. `"outerHTML"` or `"beforeend scroll:bottom"`.
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// let res = (djrs_partials::axum::HxReswap::new("outerHTML"), "").into_response();
    /// assert_eq!(res.headers()["hx-reswap"], "outerHTML");
    /// ```
    HxReswap,
    "HX-Reswap",
    HX_RESWAP,
    "a swap, as `hx-swap` says it"
);

text_header!(
    /// `HX-Reselect`: swap in this part of the response instead of what `hx-select` says.
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// let res = (djrs_partials::axum::HxReselect::new("#list"), "").into_response();
    /// assert_eq!(res.headers()["hx-reselect"], "#list");
    /// ```
    HxReselect,
    "HX-Reselect",
    HX_RESELECT,
    "a CSS selector"
);

/// When htmx triggers the events of an [`HxTrigger`] (django-htmx's `after=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TriggerTiming {
    /// As soon as the response arrives: `HX-Trigger` (django-htmx's `"receive"`).
    #[default]
    Receive,
    /// After the swap: `HX-Trigger-After-Swap`.
    Swap,
    /// After the settle step: `HX-Trigger-After-Settle`.
    Settle,
}

impl TriggerTiming {
    fn header(self) -> (&'static str, &'static str) {
        match self {
            Self::Receive => ("HX-Trigger", response_headers::HX_TRIGGER),
            Self::Swap => (
                "HX-Trigger-After-Swap",
                response_headers::HX_TRIGGER_AFTER_SWAP,
            ),
            Self::Settle => (
                "HX-Trigger-After-Settle",
                response_headers::HX_TRIGGER_AFTER_SETTLE,
            ),
        }
    }
}

/// `HX-Trigger` (or `-After-Swap`, `-After-Settle`): client-side events htmx triggers on the
/// request's element, each with an optional JSON detail (django-htmx's
/// `trigger_client_event`). Events without details go as a list of names, others as one JSON
/// object; several `HxTrigger` parts of one timing in one response add up.
///
/// ```
/// use axum::response::IntoResponse;
/// use djrs_partials::axum::{HxTrigger, TriggerTiming};
/// use serde_json::json;
///
/// let res = (HxTrigger::event("saved").and("closeModal"), "").into_response();
/// assert_eq!(res.headers()["hx-trigger"], "saved, closeModal");
///
/// let res = (
///     HxTrigger::event("saved"),
///     HxTrigger::event("starred").detail("count", json!(3)),
///     HxTrigger::event("scroll").timing(TriggerTiming::Settle),
///     "",
/// )
///     .into_response();
/// assert_eq!(res.headers()["hx-trigger"], r#"{"count":3,"saved":null,"starred":null}"#);
/// assert_eq!(res.headers()["hx-trigger-after-settle"], "scroll");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct HxTrigger {
    timing: TriggerTiming,
    events: Vec<(String, Value)>,
    invalid: Option<String>,
}

impl HxTrigger {
    /// The event `name`, without a detail.
    ///
    /// ```
    /// let trigger = djrs_partials::axum::HxTrigger::event("saved");
    /// # let _ = trigger;
    /// ```
    pub fn event(name: impl Into<String>) -> Self {
        Self {
            timing: TriggerTiming::Receive,
            events: Vec::new(),
            invalid: None,
        }
        .and(name)
    }

    /// Adds the event `name`, without a detail.
    ///
    /// ```
    /// let trigger = djrs_partials::axum::HxTrigger::event("saved").and("closeModal");
    /// # let _ = trigger;
    /// ```
    pub fn and(mut self, name: impl Into<String>) -> Self {
        self.events.push((name.into(), Value::Null));
        self
    }

    /// Adds the event `name` with `detail` (anything serializable to JSON; htmx passes it as
    /// the event's `detail`, an object's fields merged into it).
    ///
    /// ```
    /// let trigger = djrs_partials::axum::HxTrigger::event("saved")
    ///     .detail("toast", serde_json::json!({"text": "Saved"}));
    /// # let _ = trigger;
    /// ```
    pub fn detail(mut self, name: impl Into<String>, detail: impl Serialize) -> Self {
        match serde_json::to_value(detail) {
            Ok(value) => self.events.push((name.into(), value)),
            Err(err) => self.invalid = Some(format!("an event's detail is not JSON: {err}")),
        }
        self
    }

    /// When htmx triggers them ([`TriggerTiming::Receive`] unless set).
    ///
    /// ```
    /// use djrs_partials::axum::{HxTrigger, TriggerTiming};
    /// let trigger = HxTrigger::event("scroll").timing(TriggerTiming::Swap);
    /// # let _ = trigger;
    /// ```
    pub fn timing(mut self, timing: TriggerTiming) -> Self {
        self.timing = timing;
        self
    }
}

/// Whether a name can go in the plain comma-separated form (htmx splits it on commas and
/// trims white space).
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b',' && b != b'"' && b != b'{')
}

/// The events a header already holds (a JSON object or a list of names), in order.
fn events_in(value: &HeaderValue) -> Option<Vec<(String, Value)>> {
    let text = value.to_str().ok()?.trim();
    if text.starts_with('{') {
        match serde_json::from_str::<Value>(text).ok()? {
            Value::Object(map) => Some(map.into_iter().collect()),
            _ => None,
        }
    } else {
        Some(
            text.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| (n.to_owned(), Value::Null))
                .collect(),
        )
    }
}

impl IntoResponseParts for HxTrigger {
    type Error = Error;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Error> {
        let (label, header) = self.timing.header();
        if let Some(reason) = self.invalid {
            return Err(Error::HtmxHeader {
                header: label,
                reason,
            });
        }
        let mut events = match res.headers().get(header) {
            Some(existing) => events_in(existing)
                .ok_or_else(|| refused(label, "the response holds a value htmx could not read"))?,
            None => Vec::new(),
        };
        for (name, detail) in self.events {
            match events.iter_mut().find(|(n, _)| *n == name) {
                Some((_, old)) => *old = detail,
                None => events.push((name, detail)),
            }
        }
        if events
            .iter()
            .any(|(name, _)| name.chars().any(char::is_control))
        {
            return Err(refused(
                label,
                "an event name holds a line break or another control character",
            ));
        }
        let value = if events
            .iter()
            .all(|(name, detail)| detail.is_null() && plain_name(name))
        {
            let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
            ascii_value(label, &names.join(", "))?
        } else {
            json_value(label, &Value::Object(events.into_iter().collect()))?
        };
        res.headers_mut()
            .insert(HeaderName::from_static(header), value);
        Ok(res)
    }
}

/// A response that stops htmx's polling: status 286 and no body (django-htmx's
/// `HttpResponseStopPolling`).
///
/// ```
/// use axum::response::IntoResponse;
/// let res = djrs_partials::axum::HxStopPolling.into_response();
/// assert_eq!(res.status().as_u16(), 286);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HxStopPolling;

impl IntoResponse for HxStopPolling {
    fn into_response(self) -> Response {
        STOP_POLLING.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(parts: impl IntoResponseParts) -> Response {
        (parts, "").into_response()
    }

    #[test]
    fn urls_are_percent_encoded_and_control_characters_refused() {
        assert_eq!(url_value("X", "/a b/ü").unwrap(), "/a b/%C3%BC");
        assert_eq!(url_value("X", "/€").unwrap(), "/%E2%82%AC");
        for bad in ["/a\nb", "/a\rb", "/a\u{0}b", "/a\u{7f}b", "/a\u{85}b"] {
            assert!(
                matches!(
                    url_value("X", bad),
                    Err(Error::HtmxHeader { header: "X", .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn json_is_ascii_with_escapes_that_mean_the_same() {
        let value = serde_json::json!({"t": "é😀\n"});
        let header = json_value("X", &value).unwrap();
        let text = header.to_str().unwrap();
        assert_eq!(text, r#"{"t":"\u00e9\ud83d\ude00\n"}"#);
        assert_eq!(serde_json::from_str::<Value>(text).unwrap(), value);
    }

    #[test]
    fn refused_values_make_a_bare_500_without_the_header() {
        let cases: Vec<Response> = vec![
            response(HxRetarget::new("#a\nb")),
            response(HxReswap::new("outerHTML\r\nX: y")),
            response(HxPushUrl::url("/\n")),
            response(HxLocation::new("/\r").target("#m")),
            response(HxLocation::new("/\r")),
            response(HxTrigger::event("a\nb")),
            response(HxTrigger::event("a").detail("b\r", 1)),
        ];
        for res in cases {
            assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert!(res.headers().keys().all(|k| !k.as_str().starts_with("hx-")));
        }
    }

    #[test]
    fn triggers_merge_by_timing_and_name() {
        let res = (
            HxTrigger::event("a").and("b"),
            HxTrigger::event("b").detail("c", "x"),
            HxTrigger::event("d").timing(TriggerTiming::Swap),
            HxTrigger::event("e").timing(TriggerTiming::Swap),
            "",
        )
            .into_response();
        let got: Value =
            serde_json::from_str(res.headers()["hx-trigger"].to_str().unwrap()).unwrap();
        assert_eq!(got, serde_json::json!({"a": null, "b": null, "c": "x"}));
        assert_eq!(res.headers()["hx-trigger-after-swap"], "d, e");
        assert!(res.headers().get("hx-trigger-after-settle").is_none());

        // A detail given later replaces the earlier one.
        let res = response((
            HxTrigger::event("a").detail("n", 1),
            HxTrigger::event("a").detail("n", 2),
        ));
        assert_eq!(res.headers()["hx-trigger"], r#"{"a":null,"n":2}"#);
    }

    #[test]
    fn names_htmx_would_split_go_as_json() {
        for (name, want) in [
            ("plain", "plain"),
            ("a,b", r#"{"a,b":null}"#),
            ("two words", r#"{"two words":null}"#),
            ("", r#"{"":null}"#),
            ("{x", r#"{"{x":null}"#),
        ] {
            assert_eq!(
                response(HxTrigger::event(name)).headers()["hx-trigger"],
                want,
                "{name:?}"
            );
        }
    }

    #[test]
    fn existing_headers_are_read_back() {
        let plain = HeaderValue::from_static(" a , b,, ");
        assert_eq!(
            events_in(&plain).unwrap(),
            [("a".to_owned(), Value::Null), ("b".to_owned(), Value::Null)]
        );
        let json = HeaderValue::from_static(r#"{"x": 1}"#);
        assert_eq!(
            events_in(&json).unwrap(),
            [("x".to_owned(), serde_json::json!(1))]
        );
        assert!(events_in(&HeaderValue::from_static("{broken")).is_none());
        assert!(events_in(&HeaderValue::from_static("{\"a\": 1")).is_none());
        assert!(
            events_in(&HeaderValue::from_static("{}"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_detail_that_is_not_json_is_refused() {
        struct NotJson;
        impl Serialize for NotJson {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no"))
            }
        }
        let res = response(HxTrigger::event("a").detail("b", NotJson));
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn every_header_has_its_name() {
        let res = (
            HxRedirect::new("/r"),
            HxRefresh,
            HxLocation::new("/l"),
            HxPushUrl::prevent(),
            HxReplaceUrl::prevent(),
            HxRetarget::new("#t"),
            HxReswap::new("innerHTML"),
            HxReselect::new("#s"),
            HxTrigger::event("e").timing(TriggerTiming::Settle),
            "",
        )
            .into_response();
        let h = res.headers();
        assert_eq!(h["hx-redirect"], "/r");
        assert_eq!(h["hx-refresh"], "true");
        assert_eq!(h["hx-location"], "/l");
        assert_eq!(h["hx-push-url"], "false");
        assert_eq!(h["hx-replace-url"], "false");
        assert_eq!(h["hx-retarget"], "#t");
        assert_eq!(h["hx-reswap"], "innerHTML");
        assert_eq!(h["hx-reselect"], "#s");
        assert_eq!(h["hx-trigger-after-settle"], "e");
        assert_eq!(HxStopPolling.into_response().status().as_u16(), 286);
    }
}
