//! The report endpoint over HTTP semantics: accepted formats, body limit, malformed bodies,
//! media types, and the sink receiving typed reports.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use djrs_csp::axum::ReportEndpoint;
use djrs_csp::{CspReport, Disposition, ReportFormat};
use tower::ServiceExt as _;

fn app(limit: usize) -> (Router, Arc<Mutex<Vec<CspReport>>>) {
    let seen: Arc<Mutex<Vec<CspReport>>> = Arc::default();
    let sink = {
        let seen = Arc::clone(&seen);
        move |report: CspReport| seen.lock().unwrap().push(report)
    };
    let endpoint = ReportEndpoint::new().sink(sink).body_limit(limit);
    (
        Router::new().route("/csp/report", endpoint.into_method_router()),
        seen,
    )
}

async fn post(app: Router, content_type: &str, body: Body) -> (StatusCode, String) {
    let response = app
        .oneshot(
            Request::post("/csp/report")
                .header("content-type", content_type)
                .body(body)
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

const CHROME_CSP_REPORT: &str = r#"{"csp-report":{"document-uri":"http://127.0.0.1:8000/","referrer":"","violated-directive":"script-src-elem","effective-directive":"script-src-elem","original-policy":"default-src 'self'; script-src 'nonce-abc' 'strict-dynamic'; report-uri /csp/report","disposition":"enforce","blocked-uri":"inline","line-number":21,"column-number":8,"source-file":"http://127.0.0.1:8000/","status-code":200,"script-sample":""}}"#;

const CHROME_REPORTS_JSON: &str = r#"[{"age":10,"body":{"blockedURL":"inline","columnNumber":8,"disposition":"enforce","documentURL":"http://127.0.0.1:8000/","effectiveDirective":"script-src-elem","lineNumber":21,"originalPolicy":"script-src 'nonce-abc'; report-to csp-endpoint","referrer":"","sample":"","sourceFile":"http://127.0.0.1:8000/","statusCode":200},"type":"csp-violation","url":"http://127.0.0.1:8000/","user_agent":"Mozilla/5.0 HeadlessChrome"},{"age":5,"body":{"id":"x","message":"m"},"type":"deprecation","url":"http://127.0.0.1:8000/","user_agent":"Mozilla/5.0"}]"#;

#[tokio::test]
async fn accepts_both_formats() {
    let (app, seen) = app(64 * 1024);
    let (status, _) = post(
        app.clone(),
        "application/csp-report",
        Body::from(CHROME_CSP_REPORT),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = post(
        app,
        "application/reports+json",
        Body::from(CHROME_REPORTS_JSON),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "the deprecation report is not a CSP report");
    for report in seen.iter() {
        assert_eq!(report.document_uri, "http://127.0.0.1:8000/");
        assert_eq!(report.effective_directive, "script-src-elem");
        assert_eq!(report.blocked_uri.as_deref(), Some("inline"));
        assert_eq!(report.disposition, Disposition::Enforce);
        assert_eq!(report.line_number, Some(21));
        assert_eq!(report.status_code, Some(200));
    }
    assert_eq!(seen[0].format, ReportFormat::CspReport);
    assert_eq!(seen[1].format, ReportFormat::ReportingApi);
    assert_eq!(
        seen[1].user_agent.as_deref(),
        Some("Mozilla/5.0 HeadlessChrome")
    );
}

#[tokio::test]
async fn refuses_bodies_past_the_limit() {
    let (app, seen) = app(100);
    // Declared length.
    let (status, message) = post(
        app.clone(),
        "application/csp-report",
        Body::from(CHROME_CSP_REPORT),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(message.contains("limit of 100 bytes"), "{message}");
    // No declared length: a stream that grows past the limit.
    let chunks = futures_util::stream::iter(
        CHROME_CSP_REPORT
            .as_bytes()
            .chunks(10)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let (status, _) = post(app, "application/csp-report", Body::from_stream(chunks)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn malformed_bodies_and_other_media_types() {
    let (app, seen) = app(64 * 1024);
    for body in [
        "",
        "{",
        "[]",
        r#"{"csp-report": []}"#,
        r#"{"csp-report": {"document-uri": 1}}"#,
        "\u{0}\u{1}",
    ] {
        let (status, message) = post(app.clone(), "application/csp-report", Body::from(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}: {message}");
        assert!(message.starts_with("malformed CSP report"), "{message}");
    }
    for body in ["{}", r#"[{"type": "csp-violation", "body": 3}]"#, "[1]"] {
        let (status, _) = post(app.clone(), "application/reports+json", Body::from(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");
    }
    let (status, _) = post(app.clone(), "text/plain", Body::from(CHROME_CSP_REPORT)).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let response = app
        .oneshot(Request::get("/csp/report").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(seen.lock().unwrap().is_empty());
}

/// One `reports+json` batch as large as the body limit allows: several hundred small reports.
fn big_batch() -> String {
    let one = r#"{"type":"csp-violation","url":"http://a/","body":{"documentURL":"http://a/","effectiveDirective":"img-src"}}"#;
    let n = (64 * 1024 - 2) / (one.len() + 1);
    format!("[{}]", vec![one; n].join(","))
}

#[tokio::test]
async fn one_request_hands_at_most_ten_reports_to_the_sink() {
    let (app, seen) = app(64 * 1024);
    let batch = big_batch();
    assert!(batch.len() <= 64 * 1024);
    let (status, _) = post(app, "application/reports+json", Body::from(batch)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        seen.lock().unwrap().len(),
        djrs_csp::axum::DEFAULT_MAX_REPORTS_PER_REQUEST
    );
}

#[tokio::test]
async fn the_rate_limit_bounds_reports_across_requests() {
    let seen: Arc<Mutex<Vec<CspReport>>> = Arc::default();
    let sink = {
        let seen = Arc::clone(&seen);
        move |report: CspReport| seen.lock().unwrap().push(report)
    };
    let endpoint = ReportEndpoint::new()
        .sink(sink)
        .rate_limit(25, std::time::Duration::from_secs(3600));
    let app = Router::new().route("/csp/report", endpoint.into_method_router());
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let (status, _) = post(
            app.clone(),
            "application/reports+json",
            Body::from(big_batch()),
        )
        .await;
        statuses.push(status.as_u16());
    }
    // 10 + 10 + the 5 left, then the bucket is empty.
    assert_eq!(statuses, [204, 204, 204, 429, 429]);
    assert_eq!(seen.lock().unwrap().len(), 25);
}

#[test]
fn logged_report_fields_cannot_forge_log_lines() {
    use std::io::Write;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let body = r#"{"csp-report": {"document-uri": "http://a/\r\n2026-01-01T00:00:00Z  WARN forged: admin logged in\u001b[2J", "violated-directive": "img-src\nx", "blocked-uri": "b\r\nc", "source-file": "s\nt"}}"#;
    let reports = CspReport::parse("application/csp-report", body.as_bytes()).unwrap();
    tracing::subscriber::with_default(subscriber, || {
        for report in reports {
            djrs_csp::ReportSink::report(&djrs_csp::LogReports, report);
        }
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(!text.contains('\r') && !text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains(r"\r\n2026-01-01"), "{text}");
}
