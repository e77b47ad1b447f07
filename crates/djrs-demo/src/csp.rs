//! The showcase's Content Security Policy (`djrs-csp`): a strict policy with a nonce on every
//! page, reporting violations to the showcase's own endpoint, and a page that shows a script
//! with the nonce running and one without it blocked.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use djrs::csp::axum::ReportEndpoint;
use djrs::csp::{CspLayer, CspReport, CspSource, LogReports, Policy, ReportSink};

use crate::{AppState, Error};

/// Where browsers send violation reports (`report-uri`).
pub const REPORT_PATH: &str = "/csp/report";
/// The latest reports received, as JSON.
pub const REPORTS_PATH: &str = "/csp/reports";
/// The page demonstrating the policy.
pub const DEMO_PATH: &str = "/csp";
/// How many reports [`REPORTS_PATH`] keeps.
pub const KEPT_REPORTS: usize = 100;
/// The report endpoint takes at most this many reports per [`REPORT_RATE_PERIOD`], across all
/// clients (and at most 10 from one request): a flood cannot fill the log.
pub const REPORT_RATE: u32 = 120;
/// The period of [`REPORT_RATE`].
pub const REPORT_RATE_PERIOD: std::time::Duration = std::time::Duration::from_secs(60);

/// The showcase's policy: scripts run only with the page's nonce (and what they load, by
/// `'strict-dynamic'`), styles from the site or with the nonce, nothing embeds the pages.
#[must_use]
pub fn policy() -> Policy {
    Policy::builder()
        .directive("default-src", [CspSource::SELF])
        .directive("script-src", [CspSource::NONCE, CspSource::STRICT_DYNAMIC])
        .directive("style-src", [CspSource::SELF, CspSource::NONCE])
        .directive("img-src", [CspSource::SELF, "data:"])
        .directive("object-src", [CspSource::NONE])
        .directive("base-uri", [CspSource::NONE])
        .directive("frame-ancestors", [CspSource::NONE])
        .directive("form-action", [CspSource::SELF])
        .directive("report-uri", [REPORT_PATH])
        .build()
        .expect("the showcase's policy is valid")
}

/// The layer enforcing [`policy`] on every response.
///
/// The policy reports through `report-uri` only: browsers that know `report-to` ignore
/// `report-uri` when both are present, and headless Chromium 156 delivered no `report-to`
/// report to this plain-HTTP showcase (after 90 s), while `report-uri` reports arrive at once.
/// `djrs::csp::CspLayer::reporting_endpoints` adds `Reporting-Endpoints` for applications that
/// want the Reporting API.
pub fn layer() -> CspLayer {
    CspLayer::new().enforce(policy())
}

/// The latest reports, newest last; also logged through `tracing`.
#[derive(Debug, Clone, Default)]
pub struct Reports(Arc<Mutex<VecDeque<CspReport>>>);

impl Reports {
    /// The reports kept, oldest first.
    #[must_use]
    pub fn snapshot(&self) -> Vec<CspReport> {
        let reports = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        reports.iter().cloned().collect()
    }
}

impl ReportSink for Reports {
    fn report(&self, report: CspReport) {
        LogReports.report(report.clone());
        let mut reports = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if reports.len() == KEPT_REPORTS {
            reports.pop_front();
        }
        reports.push_back(report);
    }
}

/// The report endpoint, the list of reports and the demonstration page.
pub(crate) fn routes() -> Router<AppState> {
    let reports = Reports::default();
    let listed = reports.clone();
    Router::new()
        .route(DEMO_PATH, get(page))
        .route(
            REPORT_PATH,
            ReportEndpoint::new()
                .sink(reports)
                .rate_limit(REPORT_RATE, REPORT_RATE_PERIOD)
                .into_method_router(),
        )
        .route(
            REPORTS_PATH,
            get(move || async move { Json(listed.snapshot()) }),
        )
}

/// `GET /csp`: one inline script with the page's nonce (it runs) and one without (blocked,
/// and reported).
async fn page(State(state): State<AppState>) -> Result<Html<String>, Error> {
    state.render("csp.html", "Content Security Policy", &())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;

    use super::*;

    #[test]
    fn the_policy_is_strict() {
        assert_eq!(
            policy().render(Some("N")),
            "default-src 'self'; script-src 'nonce-N' 'strict-dynamic'; style-src 'self' \
             'nonce-N'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
             frame-ancestors 'none'; form-action 'self'; report-uri /csp/report"
        );
    }

    #[tokio::test]
    async fn reports_are_kept_and_listed() {
        let (state, _dir) = test_state().await;
        let app: Router = routes().with_state(state);
        let body =
            r#"{"csp-report": {"document-uri": "http://x/", "violated-directive": "img-src"}}"#;
        for _ in 0..KEPT_REPORTS + 1 {
            let response = app
                .clone()
                .oneshot(
                    Request::post(REPORT_PATH)
                        .header("content-type", "application/csp-report")
                        .body(Body::from(body))
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(response.status(), 204);
        }
        let response = app
            .oneshot(Request::get(REPORTS_PATH).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let listed: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(listed.as_array().unwrap().len(), KEPT_REPORTS);
        assert_eq!(listed[0]["effective_directive"], "img-src");
    }

    #[tokio::test]
    async fn every_page_is_served_with_the_policy_and_its_nonce() {
        let (state, _dir) = test_state().await;
        let app = crate::app(state);
        for path in [
            "/",
            "/articles",
            "/articles/keyset",
            "/welcome",
            "/outbox",
            DEMO_PATH,
        ] {
            let response = app
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let policy = response.headers()[CspSource::HEADER_ENFORCE]
                .to_str()
                .unwrap()
                .to_owned();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            let body = std::str::from_utf8(&bytes).unwrap();
            let nonce = body
                .split("<style nonce=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("{path}: the page's <style> carries the nonce"));
            assert_eq!(nonce.len(), 22, "{path}");
            assert!(
                policy.contains(&format!("style-src 'self' 'nonce-{nonce}'")),
                "{path}: {policy}"
            );
            assert!(
                policy.starts_with("default-src 'self'; script-src 'nonce-"),
                "{path}"
            );
        }
    }

    /// State over a fresh SQLite file; keep the directory alive as long as the state.
    async fn test_state() -> (AppState, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("csp.sqlite3").display());
        let db = crate::Db::connect(&url).await.unwrap();
        let state = AppState::new(db, djrs::paginate::CursorKey::new(b"csp")).unwrap();
        (state, dir)
    }
}
