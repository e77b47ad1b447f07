//! Templated mail: subject, text and HTML from one template's `#subject`, `#text` and `#html`
//! partials, rendered by djrs-partials. Hostile context values (line breaks for header
//! injection, markup for the HTML) are refused or escaped; what is built is rendered to bytes
//! and read back by mailparse, and (with `smtp`) sent to aiosmtpd with an inline image.
#![cfg(feature = "partials")]

mod common;

use djrs_mail::{AttachmentContent, EmailMessage, Error};
use djrs_partials::Templates;
use serde::Serialize;

const WELCOME: &str = r#"{% partialdef subject %}
  Welcome to {{ site }}, {{ user.name }}!
{% endpartialdef %}
{% partialdef text %}
Hello {{ user.name }},

your account {{ user.email }} is ready: {{ link }}
{% endpartialdef %}
{% partialdef html %}
<p>Hello <b>{{ user.name }}</b>,</p>
<p><a href="{{ link }}" title="{{ user.name }}">Open your account</a></p>
{% if logo %}<img src="{{ logo }}" alt="{{ site }}">{% endif %}
{% endpartialdef %}
This text is outside every partial and never sent.
"#;

#[derive(Serialize)]
struct User<'a> {
    name: &'a str,
    email: &'a str,
}

#[derive(Serialize)]
struct Welcome<'a> {
    site: &'a str,
    user: User<'a>,
    link: &'a str,
    logo: Option<String>,
}

fn templates() -> Templates {
    let mut templates = Templates::new().set_auto_reload(false);
    templates.add_raw_template("welcome.html", WELCOME).unwrap();
    templates
}

fn context<'a>(name: &'a str, link: &'a str) -> Welcome<'a> {
    Welcome {
        site: "Shop & Co",
        user: User {
            name,
            email: "ann@example.com",
        },
        link,
        logo: None,
    }
}

fn html_of(message: &EmailMessage) -> &str {
    match &message.alternatives[..] {
        [alt] if alt.mimetype == "text/html" => match &alt.content {
            AttachmentContent::Text(text) => text,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn subject_text_and_html_come_from_the_partials() {
    let message = EmailMessage::from_template(
        &templates(),
        "welcome.html",
        &context("Ann", "https://x.test/?a=1&b=2"),
    )
    .unwrap();
    assert_eq!(message.subject, "Welcome to Shop & Co, Ann!");
    assert_eq!(
        message.body,
        "Hello Ann,\n\nyour account ann@example.com is ready: https://x.test/?a=1&b=2\n"
    );
    assert_eq!(message.content_subtype, None);
    let html = html_of(&message);
    assert!(html.starts_with("<p>Hello <b>Ann</b>,</p>"), "{html}");
    assert!(
        html.contains(r#"href="https://x.test/?a=1&amp;b=2""#),
        "{html}"
    );
    assert!(!html.contains("outside every partial"));
    assert!(!message.body.contains("outside every partial"));
}

#[test]
fn hostile_context_values_are_escaped_in_html_and_kept_as_text_elsewhere() {
    // (name, the HTML must contain, the HTML must not contain)
    let cases = [
        (
            "<script>alert(1)</script>",
            "<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>",
            "<script>",
        ),
        (
            r#"" onmouseover="alert(1)"#,
            r#"title="&quot; onmouseover=&quot;alert(1)""#,
            r#"" onmouseover=""#,
        ),
        (
            "O'Brien & Sons",
            "<b>O&#x27;Brien &amp; Sons</b>",
            "O'Brien",
        ),
        ("{{ site }}", "<b>{{ site }}</b>", "<b>Shop"),
    ];
    for (name, contains, lacks) in cases {
        let message = EmailMessage::from_template(
            &templates(),
            "welcome.html",
            &context(name, "javascript:alert(1)"),
        )
        .unwrap();
        let html = html_of(&message);
        assert!(html.contains(contains), "{name:?}: {html}");
        assert!(!html.contains(lacks), "{name:?}: {html}");
        // The subject and the text are not HTML: the value arrives as written.
        assert_eq!(message.subject, format!("Welcome to Shop & Co, {name}!"));
        assert!(message.body.starts_with(&format!("Hello {name},")));
        // And the whole message renders and reads back.
        let bytes = message
            .clone()
            .to(["ann@example.com"])
            .unwrap()
            .message()
            .unwrap();
        let parsed = mailparse::parse_mail(&bytes).unwrap();
        let subject = parsed
            .headers
            .iter()
            .find(|h| h.get_key() == "Subject")
            .unwrap()
            .get_value();
        assert_eq!(subject, message.subject);
    }
}

#[test]
fn a_line_break_in_the_subject_is_an_error_never_a_header() {
    for name in [
        "Ann\r\nBcc: victim@example.com",
        "Ann\nBcc: victim@example.com",
        "Ann\rBcc: victim@example.com",
        "Ann\u{0b}x",
        "Ann\u{0c}x",
        "Ann\u{1c}x",
        "Ann\u{85}x",
        "Ann\u{2028}x",
        "Ann\u{2029}x",
    ] {
        let err = EmailMessage::from_template(&templates(), "welcome.html", &context(name, "l"))
            .unwrap_err();
        assert!(
            matches!(&err, Error::MultilineSubject { template } if template == "welcome.html"),
            "{name:?}: {err:?}"
        );
        assert!(err.is_bad_message());
    }
    // Whitespace around the subject (the template's own line breaks) is trimmed; inside, it
    // stays.
    let message =
        EmailMessage::from_template(&templates(), "welcome.html", &context("  Ann\t ", "l"))
            .unwrap();
    assert_eq!(message.subject, "Welcome to Shop & Co,   Ann\t !");
}

#[test]
fn text_or_html_may_be_missing_but_not_both_and_subject_is_required() {
    let mut templates = Templates::new().set_auto_reload(false);
    templates
        .add_raw_templates([
            (
                "text_only.txt",
                "{% partialdef subject %}S {{ x }}{% endpartialdef %}{% partialdef text %}T {{ x }}{% endpartialdef %}",
            ),
            (
                "html_only.html",
                "{% partialdef subject %}S {{ x }}{% endpartialdef %}{% partialdef html %}<i>{{ x }}</i>{% endpartialdef %}",
            ),
            (
                // The HTML part is escaped even in a file Tera would not escape.
                "html_only.txt",
                "{% partialdef subject %}S {{ x }}{% endpartialdef %}{% partialdef html %}<i>{{ x }}</i>{% endpartialdef %}",
            ),
            (
                "no_body.html",
                "{% partialdef subject %}S{% endpartialdef %}{% partialdef footer %}F{% endpartialdef %}",
            ),
            (
                "no_subject.html",
                "{% partialdef text %}T{% endpartialdef %}{% partialdef html %}H{% endpartialdef %}",
            ),
            ("plain.html", "<p>{{ x }}</p>"),
        ])
        .unwrap();
    let ctx = serde_json::json!({"x": "<&>"});

    let text = EmailMessage::from_template(&templates, "text_only.txt", &ctx).unwrap();
    assert_eq!(
        (text.subject.as_str(), text.body.as_str()),
        ("S <&>", "T <&>")
    );
    assert!(text.alternatives.is_empty());
    assert_eq!(text.content_subtype, None);

    for name in ["html_only.html", "html_only.txt"] {
        let html = EmailMessage::from_template(&templates, name, &ctx).unwrap();
        assert_eq!(html.subject, "S <&>");
        assert_eq!(html.body, "<i>&lt;&amp;&gt;</i>", "{name}");
        assert_eq!(html.content_subtype.as_deref(), Some("html"));
        assert!(html.alternatives.is_empty());
        let bytes = String::from_utf8(html.message().unwrap()).unwrap();
        assert!(bytes.starts_with("Content-Type: text/html; charset=\"utf-8\""));
    }

    for (name, missing) in [
        ("no_body.html", "#text or #html"),
        ("no_subject.html", "#subject"),
        ("plain.html", "#subject"),
    ] {
        let err = EmailMessage::from_template(&templates, name, &ctx).unwrap_err();
        match err {
            Error::MissingPartial {
                template,
                missing: got,
            } => assert_eq!((template.as_str(), got), (name, missing)),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn bad_names_contexts_and_templates_are_typed_errors() {
    let templates = templates();
    let ctx = context("Ann", "l");
    for name in [
        "",
        "welcome.html#html",
        "welcome.html\" %}{{ secret }}{% include \"welcome.html",
        "welcome\\.html",
        "{{ x }}",
        "a\0.html",
    ] {
        let err = EmailMessage::from_template(&templates, name, &ctx).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(_)),
            "{name:?}: {err:?}"
        );
    }
    let err = EmailMessage::from_template(&templates, "missing.html", &ctx).unwrap_err();
    assert!(
        matches!(&err, Error::Template { template, .. } if template == "missing.html"),
        "{err:?}"
    );
    // A context that is not a map.
    let err = EmailMessage::from_template(&templates, "welcome.html", &42).unwrap_err();
    assert!(matches!(err, Error::Template { .. }), "{err:?}");
    // A variable the context lacks: Tera's error, kept as the source.
    let err = EmailMessage::from_template(&templates, "welcome.html", &serde_json::json!({}))
        .unwrap_err();
    assert!(matches!(err, Error::Template { .. }), "{err:?}");
    assert!(std::error::Error::source(&err).is_some());

    // Custom delimiters cannot be used for mail (the include would not be read).
    let mut custom = Templates::new().set_auto_reload(false);
    custom
        .set_delimiters(tera::Delimiters {
            block_start: "<%".into(),
            block_end: "%>".into(),
            variable_start: "<<".into(),
            variable_end: ">>".into(),
            comment_start: "<#".into(),
            comment_end: "#>".into(),
        })
        .unwrap();
    custom
        .add_raw_template(
            "m.txt",
            "<% partialdef subject %>S<% endpartialdef %><% partialdef text %>T<% endpartialdef %>",
        )
        .unwrap();
    let err = EmailMessage::from_template(&custom, "m.txt", &ctx).unwrap_err();
    assert!(
        matches!(&err, Error::Template { source, .. } if source.to_string().contains("delimiters")),
        "{err:?}"
    );
}

#[test]
fn a_tera_context_and_templates_from_disk_work_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("emails")).unwrap();
    std::fs::write(dir.path().join("emails/welcome.html"), WELCOME).unwrap();
    let templates = Templates::from_dir(dir.path()).unwrap();
    let mut ctx = tera::Context::from_serialize(&context("Bob", "l")).unwrap();
    ctx.insert("site", "Disk");
    let message =
        EmailMessage::from_template_context(&templates, "emails/welcome.html", &ctx).unwrap();
    assert_eq!(message.subject, "Welcome to Disk, Bob!");
}

/// The whole path: a templated message with an inline logo, sent to aiosmtpd and read back.
#[cfg(feature = "smtp")]
#[tokio::test]
async fn a_templated_message_with_an_inline_logo_arrives_over_smtp() {
    use std::time::Duration;

    use common::{Options, SmtpServer};
    use djrs_mail::{InlineImage, Mailer, SmtpBackend, SmtpConfig};

    tokio::time::timeout(Duration::from_secs(60), async {
        let logo = InlineImage::new("logo.png", b"\x89PNG\r\n\x1a\nlogo".to_vec(), None).unwrap();
        let mut ctx = context("Ann <admin>\u{e9}", "https://x.test/?a=1&b=2");
        ctx.logo = Some(logo.url());
        let message = EmailMessage::from_template(&templates(), "welcome.html", &ctx)
            .unwrap()
            .from_email("shop@example.com")
            .unwrap()
            .to(["ann@example.com"])
            .unwrap()
            .inline_image(logo.clone());

        let server = SmtpServer::start(Options::default());
        let config = SmtpConfig::new("127.0.0.1", server.port).timeout(Duration::from_secs(10));
        let mailer = Mailer::new(SmtpBackend::new(config).unwrap());
        assert_eq!(message.send(&mailer).await.unwrap(), 1);
        let received = server.messages();
        let parsed = mailparse::parse_mail(&received[0].data).unwrap();
        let subject = parsed
            .headers
            .iter()
            .find(|h| h.get_key() == "Subject")
            .unwrap()
            .get_value();
        assert_eq!(subject, "Welcome to Shop & Co, Ann <admin>\u{e9}!");
        assert_eq!(parsed.ctype.mimetype, "multipart/alternative");
        assert!(
            parsed.subparts[0]
                .get_body()
                .unwrap()
                .starts_with("Hello Ann <admin>\u{e9},")
        );
        let related = &parsed.subparts[1];
        assert_eq!(related.ctype.mimetype, "multipart/related");
        let html = related.subparts[0].get_body().unwrap();
        assert!(html.contains("<b>Ann &lt;admin&gt;\u{e9}</b>"), "{html}");
        assert!(html.contains(&format!(
            r#"<img src="{}" alt="Shop &amp; Co">"#,
            logo.url()
        )));
        assert_eq!(related.subparts[1].get_body_raw().unwrap(), logo.content);
    })
    .await
    .expect("bounded");
}
