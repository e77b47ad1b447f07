//! The axum adapter: the mailer as an extractor from state, and the preview router.
#![cfg(feature = "axum")]

use axum::Router;
use axum::body::Body;
use axum::extract::FromRef;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use djrs_mail::{EmailMessage, LocmemBackend, MailPreviews, Mailer};
use tower::ServiceExt as _;

async fn get(app: &Router, uri: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn previews() -> Router {
    Router::new().nest(
        "/dev/mail",
        MailPreviews::new()
            .preview("welcome", || {
                Ok(EmailMessage::new("Welcome, <Ann>!", "Hello Ann\nSee you.")
                    .from_email("Shop <shop@example.com>")?
                    .to(["ann@example.com"])?
                    .bcc(["audit@example.com"])?
                    .attach_alternative("<h1>Hello Ann</h1><script>alert(1)</script>", "text/html")
                    .attach("terms.pdf", b"%PDF".as_slice(), None))
            })
            .preview("broken", || {
                EmailMessage::new("Bad\nsubject", "B").to(["a@example.com"])
            })
            .router(),
    )
}

#[tokio::test]
async fn index_lists_previews() {
    let (status, body) = get(&previews(), "/dev/mail").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("<a href=\"/dev/mail/welcome\">welcome</a>"),
        "{body}"
    );
    assert!(body.contains("broken"));
}

#[tokio::test]
async fn a_preview_shows_headers_html_text_and_attachments_escaped() {
    let (status, body) = get(&previews(), "/dev/mail/welcome").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<h1>Welcome, &lt;Ann&gt;!</h1>"), "{body}");
    assert!(body.contains("<th>From</th><td>Shop &lt;shop@example.com&gt;</td>"));
    assert!(body.contains("<th>Bcc</th><td>audit@example.com</td>"));
    // The HTML alternative is shown in a sandboxed frame, never inline in the page.
    assert!(body.contains("<iframe sandbox srcdoc=\"&lt;h1&gt;Hello Ann&lt;/h1&gt;&lt;script&gt;"));
    assert!(!body.contains("<script>"));
    assert!(body.contains("<pre>Hello Ann\nSee you.</pre>"));
    assert!(body.contains("terms.pdf (application/pdf)"));
}

#[tokio::test]
async fn raw_form_and_errors() {
    let (status, eml) = get(&previews(), "/dev/mail/welcome/eml").await;
    assert_eq!(status, StatusCode::OK);
    assert!(eml.contains("Subject: Welcome, <Ann>!\n"));
    assert!(!eml.contains("audit@"), "Bcc is never in the message");
    let (status, body) = get(&previews(), "/dev/mail/broken").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        body.contains("Header values may not contain linefeed"),
        "{body}"
    );
    let (status, _) = get(&previews(), "/dev/mail/missing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn inline_images_show_in_the_preview_as_data_urls() {
    let app = Router::new().nest(
        "/dev/mail",
        MailPreviews::new()
            .preview("logo", || {
                let logo = djrs_mail::InlineImage::new("logo.png", vec![0_u8, 1, 2], None)?
                    .content_id(djrs_mail::ContentId::new("logo@shop.example")?);
                Ok(EmailMessage::new("Logo", "text")
                    .to(["ann@example.com"])?
                    .attach_alternative(format!(r#"<img src="{}">"#, logo.url()), "text/html")
                    .inline_image(logo))
            })
            .router(),
    );
    let (status, body) = get(&app, "/dev/mail/logo").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("srcdoc=\"&lt;img src=&quot;data:image/png;base64,AAEC&quot;&gt;\""),
        "{body}"
    );
    assert!(body.contains("<li>logo.png (image/png, cid:logo@shop.example)</li>"));
    // The raw form keeps the cid: reference and the related part.
    let (_, eml) = get(&app, "/dev/mail/logo/eml").await;
    assert!(eml.contains("src=\"cid:logo@shop.example\""));
    assert!(eml.contains("Content-ID: <logo@shop.example>"));
}

#[derive(Clone, FromRef)]
struct AppState {
    mailer: Mailer,
}

async fn contact(mailer: Mailer) -> String {
    let sent = EmailMessage::new("Contact", "Hi")
        .to(["team@example.com"])
        .unwrap()
        .send(&mailer)
        .await
        .unwrap();
    sent.to_string()
}

#[tokio::test]
async fn the_mailer_is_an_extractor_from_state() {
    let outbox = LocmemBackend::new();
    let app = Router::new()
        .route("/contact", post(contact))
        .with_state(AppState {
            mailer: Mailer::new(outbox.clone()),
        });
    let response = app
        .oneshot(Request::post("/contact").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(outbox.outbox().len(), 1);
    assert_eq!(outbox.outbox()[0].subject, "Contact");
}
