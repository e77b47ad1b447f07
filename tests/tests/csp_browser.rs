//! Content Security Policies in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `cargo xtask services`).
//!
//! - The showcase's `/csp`, served on a loopback port: the script carrying the page's nonce
//!   runs, the inline script without it is blocked, and the violation report reaches the
//!   demo's endpoint.
//! - Pages served by `djrs-csp` alone (a small axum app on another loopback port, with the
//!   crate's report endpoint): a report-only policy lets an inline script run and still reports
//!   it; a hash source lets exactly the script it hashes run, and a script one character
//!   different is blocked and reported.
//!
//! The browser harness (Chromium and chromedriver started by the test, killed by their own
//! handles, the run bounded in time) is `djrs_e2e::showcase_in_browser`; the small app is
//! stopped by its own handle ([`CspApp`]'s `Drop`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::response::Html;
use axum::routing::get as route_get;
use djrs::csp::axum::ReportEndpoint;
use djrs::csp::{CspLayer, CspReport, CspSource, Disposition, Policy};
use djrs_e2e::{get, header};
use fantoccini::{Client, Locator};
use serde_json::Value;
use tokio::task::JoinHandle;

/// `report-uri` reports are sent at once; this only bounds a slow machine.
const REPORT_WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonce_scripts_run_others_are_blocked_and_reported() {
    djrs_e2e::showcase_in_browser(drive).await;
}

async fn drive(addr: SocketAddr, client: Client) {
    // The header the browser will get: enforced, with a nonce that matches the page's.
    let (head, body) = tokio::task::spawn_blocking(move || get(addr, "/csp"))
        .await
        .unwrap();
    let policy = header(&head, "content-security-policy").expect("a CSP header");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    assert!(
        body.contains(&format!("<script nonce=\"{nonce}\">")),
        "{body}"
    );
    assert!(
        body.contains(&format!("<style nonce=\"{nonce}\">")),
        "{body}"
    );

    client
        .goto(&format!("http://{addr}/csp"))
        .await
        .expect("load /csp");
    let text = |id: &'static str| {
        let client = client.clone();
        async move {
            client
                .find(Locator::Id(id))
                .await
                .unwrap_or_else(|e| panic!("#{id}: {e}"))
                .text()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        text("nonce-script").await,
        "The script with this page's nonce ran."
    );
    assert_eq!(
        text("inline-script").await,
        "The script without a nonce did not run: the policy blocked it."
    );
    // The nonce-carrying <style> applied too: the body font is the base template's.
    let font = client
        .execute(
            "return getComputedStyle(document.body).fontFamily;",
            Vec::new(),
        )
        .await
        .unwrap();
    assert!(
        font.as_str().is_some_and(|f| f.contains("system-ui")),
        "{font}"
    );

    // The violation report reaches the demo's endpoint.
    let deadline = Instant::now() + REPORT_WAIT;
    let report = loop {
        let (_, body) = tokio::task::spawn_blocking(move || get(addr, "/csp/reports"))
            .await
            .unwrap();
        let reports: Vec<Value> = serde_json::from_str(&body).expect("a JSON list");
        if let Some(report) = reports.into_iter().find(|r| {
            r["blocked_uri"] == "inline"
                && r["effective_directive"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("script-src"))
        }) {
            break report;
        }
        assert!(
            Instant::now() < deadline,
            "no script violation report within {REPORT_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(report["document_uri"], format!("http://{addr}/csp"));
    assert_eq!(report["disposition"], "enforce");
    assert!(
        report["original_policy"]
            .as_str()
            .is_some_and(|p| p.contains("'strict-dynamic'")),
        "{report}"
    );
    eprintln!("report received: {report}");
    client.close().await.expect("end the WebDriver session");
}

/// The text of element `#id` on the current page.
async fn text_of(client: &Client, id: &str) -> String {
    client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .text()
        .await
        .unwrap()
}

/// An axum app of one page behind `layer`, with `djrs-csp`'s report endpoint at
/// `/csp/report` collecting what the browser reports; served on a loopback port and aborted
/// by its own handle when dropped.
struct CspApp {
    addr: SocketAddr,
    reports: Arc<Mutex<Vec<CspReport>>>,
    server: JoinHandle<()>,
}

impl CspApp {
    async fn serve(page: String, layer: CspLayer) -> CspApp {
        let reports = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&reports);
        let endpoint =
            ReportEndpoint::new().sink(move |report: CspReport| sink.lock().unwrap().push(report));
        let app = Router::new()
            .route(
                "/page",
                route_get(move || {
                    let page = page.clone();
                    async move { Html(page) }
                }),
            )
            .route("/csp/report", endpoint.into_method_router())
            .layer(layer);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve the CSP app");
        });
        CspApp {
            addr,
            reports,
            server,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/page", self.addr)
    }

    /// The page's response head, as the browser gets it.
    async fn head(&self) -> String {
        let addr = self.addr;
        tokio::task::spawn_blocking(move || get(addr, "/page").0)
            .await
            .unwrap()
    }

    /// The first report `matches` accepts, waiting for it up to [`REPORT_WAIT`]; with every
    /// report received so far.
    async fn wait_for_report(
        &self,
        matches: impl Fn(&CspReport) -> bool,
    ) -> (CspReport, Vec<CspReport>) {
        let deadline = Instant::now() + REPORT_WAIT;
        loop {
            let reports = self.reports.lock().unwrap().clone();
            if let Some(report) = reports.iter().find(|r| matches(r)) {
                return (report.clone(), reports);
            }
            assert!(
                Instant::now() < deadline,
                "no matching report within {REPORT_WAIT:?}; received: {reports:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for CspApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A page whose inline script has no nonce and no hash: under an enforced `script-src 'self'`
/// it would be blocked.
const REPORT_ONLY_PAGE: &str = r#"<!doctype html>
<html><head><title>report-only</title></head><body>
<p id="inline">The inline script did not run.</p>
<script>document.getElementById("inline").textContent = "The inline script ran.";</script>
</body></html>
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_only_lets_the_script_run_and_reports_it() {
    djrs_e2e::showcase_in_browser(|_showcase, client| async move {
        let policy = Policy::builder()
            .directive("default-src", [CspSource::SELF])
            .directive("script-src", [CspSource::SELF, CspSource::REPORT_SAMPLE])
            .directive("report-uri", ["/csp/report"])
            .build()
            .expect("a valid policy");
        let app = CspApp::serve(
            REPORT_ONLY_PAGE.to_owned(),
            CspLayer::new().report_only(policy),
        )
        .await;

        // Only the report-only header is sent.
        let head = app.head().await;
        assert_eq!(
            header(&head, CspSource::HEADER_REPORT_ONLY),
            Some("default-src 'self'; script-src 'self' 'report-sample'; report-uri /csp/report"),
            "{head}"
        );
        assert_eq!(header(&head, CspSource::HEADER_ENFORCE), None, "{head}");

        client.goto(&app.url()).await.expect("load the page");
        // Not blocked: the script changed the page.
        assert_eq!(text_of(&client, "inline").await, "The inline script ran.");

        // Still reported, as a report-only violation of script-src by inline code.
        let (report, _) = app
            .wait_for_report(|r| r.blocked_uri.as_deref() == Some("inline"))
            .await;
        assert_inline_script_report(
            &report,
            Disposition::Report,
            &app.url(),
            "script-src 'self'",
            r#"document.getElementById("inline")"#,
        );
        client.close().await.expect("end the WebDriver session");
    })
    .await;
}

/// The script the policy allows by its hash, and one a single character different (`"b"` for
/// `"a"`), each writing into its own element.
const HASHED_SCRIPT: &str = r#"document.getElementById("a").textContent = "ran";"#;
const CHANGED_SCRIPT: &str = r#"document.getElementById("b").textContent = "ran";"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_source_allows_its_script_only() {
    let differing = HASHED_SCRIPT
        .chars()
        .zip(CHANGED_SCRIPT.chars())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(
        (differing, HASHED_SCRIPT.len()),
        (1, CHANGED_SCRIPT.len()),
        "the scripts differ in one character"
    );
    let page = format!(
        "<!doctype html>\n<html><head><title>hashes</title></head><body>\n\
         <p id=\"a\">not run</p>\n<p id=\"b\">not run</p>\n\
         <script>{HASHED_SCRIPT}</script>\n<script>{CHANGED_SCRIPT}</script>\n</body></html>\n"
    );
    let hash = CspSource::sha256(HASHED_SCRIPT);

    djrs_e2e::showcase_in_browser(|_showcase, client| async move {
        let policy = Policy::builder()
            .directive("default-src", [CspSource::SELF])
            .directive(
                "script-src",
                [CspSource::SELF, hash.as_str(), CspSource::REPORT_SAMPLE],
            )
            .directive("report-uri", ["/csp/report"])
            .build()
            .expect("a valid policy");
        let app = CspApp::serve(page, CspLayer::new().enforce(policy)).await;

        let head = app.head().await;
        let sent = header(&head, CspSource::HEADER_ENFORCE).expect("an enforced policy");
        assert!(
            sent.contains(&format!("script-src 'self' {hash} ")),
            "{sent}"
        );
        assert!(!sent.contains(&CspSource::sha256(CHANGED_SCRIPT)), "{sent}");

        client.goto(&app.url()).await.expect("load the page");
        // The hashed script ran; the changed one did not.
        assert_eq!(text_of(&client, "a").await, "ran");
        assert_eq!(text_of(&client, "b").await, "not run");

        // The changed script is reported as blocked, with its own start as the sample.
        let (report, reports) = app
            .wait_for_report(|r| r.blocked_uri.as_deref() == Some("inline"))
            .await;
        assert_inline_script_report(
            &report,
            Disposition::Enforce,
            &app.url(),
            &hash,
            r#"document.getElementById("b")"#,
        );
        // Nothing reported the hashed script.
        assert!(
            !reports.iter().any(|r| r
                .sample
                .as_deref()
                .is_some_and(|s| s.contains(r#"getElementById("a")"#))),
            "{reports:#?}"
        );
        client.close().await.expect("end the WebDriver session");
    })
    .await;
}

/// `report` is about an inline script of the page at `url` that `script-src` (of a policy
/// holding `in_policy`) stopped or would have stopped, its sample the script's start.
fn assert_inline_script_report(
    report: &CspReport,
    disposition: Disposition,
    url: &str,
    in_policy: &str,
    sample_start: &str,
) {
    eprintln!("report received: {report:?}");
    assert!(
        report.effective_directive.starts_with("script-src"),
        "{report:?}"
    );
    assert_eq!(report.disposition, disposition, "{report:?}");
    assert_eq!(report.document_uri, url);
    assert!(report.original_policy.contains(in_policy), "{report:?}");
    assert!(
        report
            .sample
            .as_deref()
            .is_some_and(|s| s.starts_with(sample_start)),
        "the sample is the script's start: {report:?}"
    );
}
