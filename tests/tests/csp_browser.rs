//! The showcase's Content Security Policy in a real browser: headless Chromium (Debian's
//! `chromium` and `chromium-driver`, installed by `cargo xtask services`) loads `/csp` from the
//! demo served on a loopback port. The script carrying the page's nonce runs, the inline script
//! without it is blocked, and the browser's violation report reaches the demo's endpoint.
//!
//! The browser harness (Chromium and chromedriver started by the test, killed by their own
//! handles, the run bounded in time) is `djrs_e2e::showcase_in_browser`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use djrs_e2e::{get, header};
use fantoccini::{Client, Locator};
use serde_json::Value;

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
