//! Feature `axum`: the [`Mailer`] as an extractor from state, and mailer previews (as Rails'
//! `/rails/mailers`): a router that renders registered messages in the browser.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, FromRequestParts, OriginalUri, Path};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::error::Result as MailResult;
use crate::mailer::Mailer;
use crate::message::{AttachmentContent, EmailMessage, EmailPolicy, MessageDefaults};

/// Takes the [`Mailer`] from the application state through `FromRef`:
///
/// ```
/// use axum::{Router, extract::FromRef, routing::post};
/// use djrs_mail::{EmailMessage, LocmemBackend, Mailer};
///
/// #[derive(Clone, FromRef)]
/// struct AppState {
///     mailer: Mailer,
/// }
///
/// async fn contact(mailer: Mailer) -> &'static str {
///     let sent = match EmailMessage::new("Contact form", "Hello").to(["team@example.com"]) {
///         Ok(msg) => msg.send(&mailer).await,
///         Err(err) => Err(err),
///     };
///     match sent {
///         Ok(_) => "sent",
///         Err(_) => "failed",
///     }
/// }
///
/// let app: Router = Router::new()
///     .route("/contact", post(contact))
///     .with_state(AppState { mailer: Mailer::new(LocmemBackend::new()) });
/// # let _ = app;
/// ```
impl<S> FromRequestParts<S> for Mailer
where
    Mailer: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(_parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Mailer::from_ref(state))
    }
}

type Build = Arc<dyn Fn() -> MailResult<EmailMessage> + Send + Sync>;

/// Registered message previews, served by [`MailPreviews::router`]: an index at `/`, each
/// message at `/{name}` (headers, the HTML alternative in a sandboxed frame, the text body,
/// the attachments) and its raw form at `/{name}/eml`.
///
/// ```
/// use axum::Router;
/// use djrs_mail::{EmailMessage, MailPreviews};
///
/// let previews = MailPreviews::new()
///     .preview("welcome", || {
///         EmailMessage::new("Welcome!", "Hello Ann")
///             .to(["ann@example.com"])
///             .map(|msg| msg.attach_alternative("<h1>Hello Ann</h1>", "text/html"))
///     });
/// let app: Router = Router::new().nest("/dev/mail", previews.router());
/// # let _ = app;
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct MailPreviews {
    previews: BTreeMap<String, Build>,
    defaults: MessageDefaults,
}

impl fmt::Debug for MailPreviews {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailPreviews")
            .field("previews", &self.previews.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_quoted_attribute(text)
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;margin:2rem}}th{{text-align:left;padding-right:1rem}}\
         iframe{{width:100%;height:24rem;border:1px solid #ccc}}pre{{background:#f6f6f6;padding:1rem;white-space:pre-wrap}}</style>\
         </head><body>{body}</body></html>",
        escape(title)
    ))
}

impl MailPreviews {
    /// No previews yet.
    ///
    /// ```
    /// let previews = djrs_mail::MailPreviews::new();
    /// # let _ = previews;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a preview; `build` runs on every request, so it shows the current templates.
    /// An error from `build` (an address refused) is shown as the preview's error page.
    ///
    /// ```
    /// use djrs_mail::{EmailMessage, MailPreviews};
    /// let previews = MailPreviews::new().preview("reset", || EmailMessage::new("Reset", "Link").to(["ann@example.com"]));
    /// # let _ = previews;
    /// ```
    pub fn preview(
        mut self,
        name: impl Into<String>,
        build: impl Fn() -> MailResult<EmailMessage> + Send + Sync + 'static,
    ) -> Self {
        self.previews.insert(name.into(), Arc::new(build));
        self
    }

    /// Renders with these defaults (`DEFAULT_FROM_EMAIL`, Message-ID domain).
    ///
    /// ```
    /// let previews = djrs_mail::MailPreviews::new().defaults(djrs_mail::MessageDefaults::default());
    /// # let _ = previews;
    /// ```
    pub fn defaults(mut self, defaults: MessageDefaults) -> Self {
        self.defaults = defaults;
        self
    }

    /// The preview router; nest it under a development-only path.
    ///
    /// ```
    /// let router: axum::Router = djrs_mail::MailPreviews::new().router();
    /// # let _ = router;
    /// ```
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        let shared = Arc::new(self);
        let index = Arc::clone(&shared);
        let show = Arc::clone(&shared);
        let raw = shared;
        Router::new()
            .route(
                "/",
                get(move |OriginalUri(uri): OriginalUri| async move { index.index(uri.path()) }),
            )
            .route(
                "/{name}",
                get(move |Path(name): Path<String>| async move { show.show(&name) }),
            )
            .route(
                "/{name}/eml",
                get(move |Path(name): Path<String>| async move { raw.eml(&name) }),
            )
    }

    fn index(&self, path: &str) -> Html<String> {
        let base = path.trim_end_matches('/');
        let items: String = self
            .previews
            .keys()
            .map(|name| {
                format!(
                    "<li><a href=\"{}/{}\">{}</a></li>",
                    escape(base),
                    escape(&urlencode(name)),
                    escape(name)
                )
            })
            .collect();
        page(
            "Mail previews",
            &format!("<h1>Mail previews</h1><ul>{items}</ul>"),
        )
    }

    fn find(&self, name: &str) -> Option<MailResult<EmailMessage>> {
        self.previews.get(name).map(|build| build())
    }

    fn not_found(name: &str) -> Response {
        (
            StatusCode::NOT_FOUND,
            format!("no mail preview named {name:?}"),
        )
            .into_response()
    }

    fn show(&self, name: &str) -> Response {
        let Some(built) = self.find(name) else {
            return Self::not_found(name);
        };
        let rendered = built.and_then(|message| {
            let bytes = message.message_with(&self.defaults, EmailPolicy::Default)?;
            Ok((message, bytes))
        });
        let (message, bytes) = match rendered {
            Ok(rendered) => rendered,
            Err(err) => {
                let body = format!(
                    "<h1>{}</h1><p>This message cannot be sent: {}</p>",
                    escape(name),
                    escape(&err.to_string())
                );
                return (StatusCode::INTERNAL_SERVER_ERROR, page(name, &body)).into_response();
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        let head = text
            .split("\n\n")
            .next()
            .unwrap_or_default()
            .replace("\n ", " ");
        let rows: String = head
            .lines()
            .filter(|line| !line.starts_with("Content-") && !line.starts_with("MIME-Version"))
            .filter_map(|line| line.split_once(": "))
            .map(|(k, v)| format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v)))
            .collect();
        let mut body = format!("<h1>{}</h1><table>{rows}", escape(&message.subject));
        if !message.bcc.is_empty() {
            body.push_str(&format!(
                "<tr><th>Bcc</th><td>{}</td></tr>",
                escape(
                    &message
                        .bcc
                        .iter()
                        .map(crate::Mailbox::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            ));
        }
        body.push_str("</table>");
        for alternative in &message.alternatives {
            if let (true, AttachmentContent::Text(html)) =
                (alternative.mimetype == "text/html", &alternative.content)
            {
                body.push_str(&format!(
                    "<h2>HTML</h2><iframe sandbox srcdoc=\"{}\"></iframe>",
                    escape(&show_inline_images(html, &message.inline_images))
                ));
            }
        }
        let subtype = message.content_subtype.as_deref().unwrap_or("plain");
        body.push_str(&format!(
            "<h2>text/{}</h2><pre>{}</pre>",
            escape(subtype),
            escape(&message.body)
        ));
        if !message.attachments.is_empty() {
            let items: String = message
                .attachments
                .iter()
                .map(|a| {
                    format!(
                        "<li>{} ({})</li>",
                        escape(a.filename.as_deref().unwrap_or("(no name)")),
                        escape(&a.mimetype)
                    )
                })
                .collect();
            body.push_str(&format!("<h2>Attachments</h2><ul>{items}</ul>"));
        }
        if !message.inline_images.is_empty() {
            let items: String = message
                .inline_images
                .iter()
                .map(|i| {
                    format!(
                        "<li>{} ({}, cid:{})</li>",
                        escape(i.filename.as_deref().unwrap_or("(no name)")),
                        escape(&i.mimetype),
                        escape(i.content_id.as_str())
                    )
                })
                .collect();
            body.push_str(&format!("<h2>Inline images</h2><ul>{items}</ul>"));
        }
        body.push_str(&format!(
            "<p><a href=\"{}/eml\">Raw message</a></p>",
            escape(&urlencode(name))
        ));
        page(&message.subject, &body).into_response()
    }

    fn eml(&self, name: &str) -> Response {
        let Some(built) = self.find(name) else {
            return Self::not_found(name);
        };
        match built.and_then(|message| message.message_with(&self.defaults, EmailPolicy::Default)) {
            Ok(bytes) => {
                ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], bytes).into_response()
            }
            Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response(),
        }
    }
}

/// The HTML with each `cid:` URL of an inline image replaced by a `data:` URL, so the browser
/// shows the images (it cannot resolve `cid:`). Content ids hold only characters that need no
/// escaping, and the MIME type is a checked token, so plain replacement is exact.
fn show_inline_images(html: &str, images: &[crate::InlineImage]) -> String {
    use base64::Engine as _;

    let mut html = html.to_owned();
    for image in images {
        let data = format!(
            "data:{};base64,{}",
            image.mimetype,
            base64::engine::general_purpose::STANDARD.encode(&image.content)
        );
        html = html.replace(&image.url(), &data);
    }
    html
}

fn urlencode(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
