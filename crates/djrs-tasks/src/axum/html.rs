//! The console's HTML: the page layout with its strict Content Security Policy, escaping, and
//! the small pieces every page uses. Everything a page shows from the store or the request goes
//! through [`esc`].

use std::borrow::Cow;
use std::fmt::Write as _;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::TaskResultStatus;

/// Escapes text for HTML text and quoted attribute values (`&`, `<`, `>`, `"`, `'`).
pub(super) fn esc(text: &str) -> Cow<'_, str> {
    html_escape::encode_quoted_attribute(text)
}

/// Encodes a query-string value (`application/x-www-form-urlencoded`).
pub(super) fn enc(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A time as the console shows it (UTC, to the millisecond), or a dash.
pub(super) fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "—".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
    )
}

/// A duration in words an operator reads at a glance: `850 ms`, `12.3 s`, `4 min 05 s`,
/// `3 h 12 min`.
pub(super) fn span(d: chrono::Duration) -> String {
    let ms = d.num_milliseconds().max(0);
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{} min {:02} s", ms / 60_000, (ms / 1000) % 60),
        _ => format!("{} h {:02} min", ms / 3_600_000, (ms / 60_000) % 60),
    }
}

/// A status as a coloured badge.
pub(super) fn badge(status: TaskResultStatus) -> String {
    format!("<span class=\"status {status}\">{status}</span>")
}

/// Which part of the console a page belongs to, for the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Overview,
    Tasks,
}

/// One page of the console.
pub(super) struct Page<'a> {
    /// Where the console is mounted ("" at the root).
    pub(super) base: &'a str,
    /// This response's script nonce.
    pub(super) nonce: &'a str,
    pub(super) title: String,
    pub(super) section: Option<Section>,
    /// The page refreshes its `#live` part every few seconds (with JavaScript on).
    pub(super) live: bool,
    pub(super) body: String,
}

impl Page<'_> {
    /// The page with its headers: a strict CSP (scripts only with this response's nonce, no
    /// inline styles, forms only to this origin, no framing), no caching, no sniffing.
    pub(super) fn render(self) -> Response {
        let base = esc(self.base);
        let home = if self.base.is_empty() { "/" } else { self.base };
        let nav = |section: Section, href: &str, label: &str| {
            let current = if self.section == Some(section) {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!("<a href=\"{}\"{current}>{label}</a>", esc(href))
        };
        let mut html = String::with_capacity(self.body.len() + 1024);
        let _ = write!(
            html,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"htmx-config\" content='{{\"includeIndicatorStyles\":false,\"allowEval\":false,\"allowScriptTags\":false}}'>\
             <title>{title} · Tasks</title>\
             <link rel=\"stylesheet\" href=\"{base}/static/console.css\">\
             <script nonce=\"{nonce}\" src=\"{base}/static/htmx.min.js\" defer></script>\
             <script nonce=\"{nonce}\" src=\"{base}/static/console.js\" defer></script></head><body>\
             <header><strong>Tasks</strong>{overview}{list}\
             <a href=\"{base}/list?status=FAILED\">Failed</a>\
             <a href=\"{base}/list?status=RUNNING\">Running</a></header><main>",
            title = esc(&self.title),
            nonce = esc(self.nonce),
            overview = nav(Section::Overview, home, "Overview"),
            list = nav(Section::Tasks, &format!("{}/list", self.base), "All tasks"),
        );
        if self.live {
            // htmx asks for this same page every few seconds and swaps in its `#live` part.
            let _ = write!(
                html,
                "<div id=\"live\" hx-get=\"\" hx-trigger=\"every 2s\" hx-select=\"#live\" hx-swap=\"outerHTML\">{}</div>",
                self.body
            );
        } else {
            html.push_str(&self.body);
        }
        html.push_str("</main></body></html>");
        let csp = format!(
            "default-src 'none'; script-src 'nonce-{}' 'strict-dynamic'; style-src 'self'; \
             img-src 'self' data:; connect-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
            self.nonce
        );
        let mut response = axum::response::Html(html).into_response();
        let headers = response.headers_mut();
        if let Ok(csp) = HeaderValue::from_str(&csp) {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_at_a_glance() {
        let cases = [
            (0, "0 ms"),
            (999, "999 ms"),
            (1_000, "1.0 s"),
            (12_345, "12.3 s"),
            (59_999, "60.0 s"),
            (60_000, "1 min 00 s"),
            (245_000, "4 min 05 s"),
            (3_600_000, "1 h 00 min"),
            (11_520_000, "3 h 12 min"),
            (-5, "0 ms"),
        ];
        for (ms, expected) in cases {
            assert_eq!(
                span(chrono::Duration::milliseconds(ms)),
                expected,
                "{ms} ms"
            );
        }
    }

    #[test]
    fn text_and_query_values_are_escaped() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
        assert_eq!(enc("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }
}
