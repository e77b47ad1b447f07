//! Feature `partials`: a message from one template's partials, rendered with djrs-partials —
//! `#subject`, `#text` and `#html` of one file (Django's `render_to_string` for each part,
//! ActionMailer's `welcome.text.erb` / `welcome.html.erb`, in one file).
//!
//! Escaping follows the part, not the file's suffix: `#html` is always HTML-escaped, `#subject`
//! and `#text` never are (a subject is not HTML, and `O'Brien` must not arrive as
//! `O&#x27;Brien`). Each partial is rendered through a one-off `{% include %}` with escaping set
//! for that part; an include keeps the escaping of the template that includes it.

use serde::Serialize;

use djrs_partials::Templates;

use crate::encode::has_line_break;
use crate::error::{Error, Result};
use crate::message::EmailMessage;

impl EmailMessage {
    /// A message whose subject, text body and HTML alternative are the `#subject`, `#text`
    /// and `#html` partials of the template `name`, rendered with `context` (any
    /// `serde::Serialize` map, such as a struct or `serde_json::json!({…})`).
    ///
    /// - `#subject` is required; it is trimmed, and a subject that still holds a line break
    ///   (from a context value, say) is [`Error::MultilineSubject`], never a header.
    /// - `#text` and `#html` may each be missing, not both: with only `#text` the message is
    ///   `text/plain`, with only `#html` it is `text/html` (`content_subtype("html")`), with both
    ///   the HTML is an alternative. Leading line breaks are removed, so a partial may start on
    ///   the line after its `{% partialdef %}`.
    /// - `#html` is HTML-escaped (Django's escaping) whatever the file's suffix; `#subject` and
    ///   `#text` are not escaped.
    ///
    /// Set the sender, the recipients and the rest with the usual methods. Rendering uses the
    /// templates as loaded; a debug build's auto-reload happens on [`Templates::render`], not
    /// here.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a template name holding `#`, a quote, a backslash, a
    /// brace, `%` or a control character; [`Error::Template`] when the template does not exist,
    /// a partial fails to render, the context is not a map, or the templates use custom
    /// delimiters; [`Error::MissingPartial`]; [`Error::MultilineSubject`].
    ///
    /// ```
    /// use djrs_mail::EmailMessage;
    /// use djrs_partials::Templates;
    ///
    /// let mut templates = Templates::new();
    /// templates.add_raw_template("welcome.html", r#"
    /// {% partialdef subject %}Welcome, {{ name }}!{% endpartialdef %}
    /// {% partialdef text %}
    /// Hello {{ name }}, your order {{ order }} ships tomorrow.
    /// {% endpartialdef %}
    /// {% partialdef html %}
    /// <p>Hello <b>{{ name }}</b>, your order {{ order }} ships tomorrow.</p>
    /// {% endpartialdef %}"#)?;
    ///
    /// let context = serde_json::json!({"name": "O'Brien <script>", "order": 42});
    /// let msg = EmailMessage::from_template(&templates, "welcome.html", &context)?
    ///     .to(["ann@example.com"])?;
    /// assert_eq!(msg.subject, "Welcome, O'Brien <script>!");
    /// assert_eq!(msg.body, "Hello O'Brien <script>, your order 42 ships tomorrow.\n");
    /// let html = &msg.alternatives[0];
    /// assert_eq!(html.mimetype, "text/html");
    /// assert!(matches!(&html.content, djrs_mail::AttachmentContent::Text(t)
    ///     if t.contains("<b>O&#x27;Brien &lt;script&gt;</b>")));
    ///
    /// // A line break from the context never reaches a header.
    /// let hostile = serde_json::json!({"name": "Ann\r\nBcc: victim@example.com", "order": 1});
    /// let err = EmailMessage::from_template(&templates, "welcome.html", &hostile).unwrap_err();
    /// assert!(matches!(err, djrs_mail::Error::MultilineSubject { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_template<C: Serialize + ?Sized>(
        templates: &Templates,
        name: &str,
        context: &C,
    ) -> Result<Self> {
        let context = tera::Context::from_serialize(context).map_err(|e| Error::Template {
            template: name.to_owned(),
            source: Box::new(e),
        })?;
        Self::from_template_context(templates, name, &context)
    }

    /// [`EmailMessage::from_template`] with a `tera::Context` built by hand.
    ///
    /// # Errors
    /// As [`EmailMessage::from_template`].
    ///
    /// ```
    /// use djrs_mail::{EmailMessage, Error};
    /// use djrs_partials::Templates;
    ///
    /// let mut templates = Templates::new();
    /// templates.add_raw_template(
    ///     "reset.txt",
    ///     "{% partialdef subject %}\n  Reset your password\n{% endpartialdef %}\
    ///      {% partialdef text %}Open {{ link }}{% endpartialdef %}",
    /// )?;
    /// let mut context = tera::Context::new();
    /// context.insert("link", "https://example.com/reset?t=a&b");
    /// let msg = EmailMessage::from_template_context(&templates, "reset.txt", &context)?;
    /// assert_eq!(msg.subject, "Reset your password"); // trimmed
    /// assert_eq!(msg.body, "Open https://example.com/reset?t=a&b"); // not escaped
    /// assert!(msg.alternatives.is_empty());
    ///
    /// templates.add_raw_template("empty.txt", "{% partialdef subject %}S{% endpartialdef %}")?;
    /// let err = EmailMessage::from_template_context(&templates, "empty.txt", &context).unwrap_err();
    /// assert!(matches!(err, Error::MissingPartial { missing: "#text or #html", .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_template_context(
        templates: &Templates,
        name: &str,
        context: &tera::Context,
    ) -> Result<Self> {
        check_template_name(name)?;
        if !templates.contains(name) {
            return Err(Error::Template {
                template: name.to_owned(),
                source: format!("template does not exist: {name}").into(),
            });
        }
        let has = |partial: &str| templates.contains(&format!("{name}#{partial}"));
        if !has("subject") {
            return Err(Error::MissingPartial {
                template: name.to_owned(),
                missing: "#subject",
            });
        }
        let (has_text, has_html) = (has("text"), has("html"));
        if !has_text && !has_html {
            return Err(Error::MissingPartial {
                template: name.to_owned(),
                missing: "#text or #html",
            });
        }
        let subject = render_partial(templates, name, "subject", context, false)?;
        let subject = subject.trim();
        if has_line_break(subject) {
            return Err(Error::MultilineSubject {
                template: name.to_owned(),
            });
        }
        let body = |partial, escape| {
            render_partial(templates, name, partial, context, escape)
                .map(|text| text.trim_start_matches(['\r', '\n']).to_owned())
        };
        let message = match (has_text, has_html) {
            (true, true) => EmailMessage::new(subject, body("text", false)?)
                .attach_alternative(body("html", true)?, "text/html"),
            (true, false) => EmailMessage::new(subject, body("text", false)?),
            _ => EmailMessage::new(subject, body("html", true)?).content_subtype("html"),
        };
        Ok(message)
    }
}

/// Refuses template names that could not be written inside the `{% include "…" %}` that
/// renders their partials, or that name a partial themselves.
fn check_template_name(name: &str) -> Result<()> {
    let bad = name.is_empty()
        || name
            .chars()
            .any(|c| c.is_control() || matches!(c, '#' | '"' | '\\' | '{' | '}' | '%'));
    if bad {
        Err(Error::InvalidArgument(
            format!(
                "invalid mail template name {name:?}: give the file's name (\"welcome.html\"), \
                 without '#', quotes, backslashes, braces, '%' or control characters"
            )
            .into(),
        ))
    } else {
        Ok(())
    }
}

/// Renders `name#partial` through a one-off `{% include %}` whose escaping is `escape`.
fn render_partial(
    templates: &Templates,
    name: &str,
    partial: &str,
    context: &tera::Context,
    escape: bool,
) -> Result<String> {
    let source = format!("{{% include \"{name}#{partial}\" %}}");
    let rendered = templates
        .with_tera(|tera| tera.render_str(&source, context, escape))
        .map_err(|e| Error::Template {
            template: name.to_owned(),
            source: Box::new(e),
        })?;
    if rendered == source {
        // With other delimiters the include is plain text and comes back unchanged.
        return Err(Error::Template {
            template: name.to_owned(),
            source: "mail templates need Tera's default delimiters ({% %}, {{ }})".into(),
        });
    }
    Ok(rendered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_are_checked() {
        for (name, ok) in [
            ("welcome.html", true),
            ("emails/welcome.html", true),
            ("Grüße.html", true),
            ("", false),
            ("a.html#subject", false),
            ("a\".html", false),
            ("a\\.html", false),
            ("a{{x}}.html", false),
            ("a%}.html", false),
            ("a\n.html", false),
        ] {
            assert_eq!(check_template_name(name).is_ok(), ok, "{name:?}");
        }
    }
}
