//! Violation reports: parsing both browser formats into [`CspReport`], handing them to a
//! [`ReportSink`], and the `Reporting-Endpoints` header for `report-to`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The media type of CSP Level 2 reports (`report-uri`).
pub const CSP_REPORT_MEDIA_TYPE: &str = "application/csp-report";
/// The media type of Reporting API batches (`report-to` with `Reporting-Endpoints`).
pub const REPORTS_JSON_MEDIA_TYPE: &str = "application/reports+json";

/// Which wire format a report arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ReportFormat {
    /// `application/csp-report`: `{"csp-report": {...}}`, sent for `report-uri`.
    CspReport,
    /// `application/reports+json`: a list of Reporting API reports, sent for `report-to`.
    ReportingApi,
}

/// Whether the violated policy was enforced or report-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Disposition {
    /// The resource was blocked (`Content-Security-Policy`).
    Enforce,
    /// The resource was only reported (`Content-Security-Policy-Report-Only`).
    Report,
}

/// One CSP violation, from either report format.
///
/// ```
/// use djrs_csp::{CspReport, Disposition, ReportFormat};
///
/// let body = br#"{"csp-report": {
///     "document-uri": "https://example.com/page",
///     "violated-directive": "script-src-elem",
///     "effective-directive": "script-src-elem",
///     "original-policy": "script-src 'self'",
///     "disposition": "enforce",
///     "blocked-uri": "inline",
///     "line-number": 12,
///     "status-code": 200
/// }}"#;
/// let reports = CspReport::parse("application/csp-report", body)?;
/// assert_eq!(reports.len(), 1);
/// let report = &reports[0];
/// assert_eq!(report.document_uri, "https://example.com/page");
/// assert_eq!(report.effective_directive, "script-src-elem");
/// assert_eq!(report.blocked_uri.as_deref(), Some("inline"));
/// assert_eq!(report.disposition, Disposition::Enforce);
/// assert_eq!(report.line_number, Some(12));
/// assert_eq!(report.format, ReportFormat::CspReport);
/// # Ok::<(), djrs_csp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CspReport {
    /// The URL of the page where the violation happened (`document-uri`, `documentURL`).
    pub document_uri: String,
    /// The directive whose enforcement was violated, such as `script-src-elem`
    /// (`effective-directive`; `violated-directive` from browsers that send only that).
    pub effective_directive: String,
    /// The policy as the browser received it (`original-policy`, `originalPolicy`).
    pub original_policy: String,
    /// Blocked or reported.
    pub disposition: Disposition,
    /// What was blocked: a URL, or `inline`, `eval`, `wasm-eval`, `trusted-types-policy`…
    pub blocked_uri: Option<String>,
    /// The referrer of the page.
    pub referrer: Option<String>,
    /// The script or style where the violation happened.
    pub source_file: Option<String>,
    /// Line in `source_file`.
    pub line_number: Option<u64>,
    /// Column in `source_file`.
    pub column_number: Option<u64>,
    /// HTTP status of the page.
    pub status_code: Option<u16>,
    /// The first characters of the blocked code, when the policy has `'report-sample'`.
    pub sample: Option<String>,
    /// The browser's `User-Agent` (Reporting API reports carry it).
    pub user_agent: Option<String>,
    /// The wire format the report came in.
    pub format: ReportFormat,
}

/// `{"csp-report": {...}}`.
#[derive(Deserialize)]
struct CspReportEnvelope {
    #[serde(rename = "csp-report")]
    report: CspReportBody,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct CspReportBody {
    document_uri: String,
    referrer: Option<String>,
    violated_directive: Option<String>,
    effective_directive: Option<String>,
    original_policy: Option<String>,
    disposition: Option<String>,
    blocked_uri: Option<String>,
    source_file: Option<String>,
    line_number: Option<u64>,
    column_number: Option<u64>,
    status_code: Option<u16>,
    script_sample: Option<String>,
}

/// One entry of a Reporting API batch.
#[derive(Deserialize)]
struct ApiReport {
    #[serde(rename = "type")]
    kind: String,
    user_agent: Option<String>,
    url: Option<String>,
    body: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiCspBody {
    #[serde(rename = "documentURL")]
    document_url: Option<String>,
    referrer: Option<String>,
    #[serde(rename = "blockedURL")]
    blocked_url: Option<String>,
    effective_directive: String,
    original_policy: Option<String>,
    source_file: Option<String>,
    sample: Option<String>,
    disposition: Option<String>,
    status_code: Option<u16>,
    line_number: Option<u64>,
    column_number: Option<u64>,
}

fn disposition(value: Option<&str>) -> Result<Disposition> {
    match value {
        None | Some("enforce") => Ok(Disposition::Enforce),
        Some("report") => Ok(Disposition::Report),
        Some(other) => Err(Error::MalformedReport(format!(
            "disposition {other:?} is neither \"enforce\" nor \"report\""
        ))),
    }
}

fn malformed(what: &str) -> impl FnOnce(serde_json::Error) -> Error + '_ {
    move |err| Error::MalformedReport(format!("{what}: {err}"))
}

impl CspReport {
    /// Parses a report body by its `Content-Type`: `application/csp-report` (one report),
    /// `application/reports+json` (a batch, of which only `csp-violation` entries are kept),
    /// or `application/json` in either shape. Parameters such as `; charset=utf-8` are ignored.
    ///
    /// ```
    /// use djrs_csp::{CspReport, Disposition, ReportFormat};
    ///
    /// let body = br#"[{
    ///     "type": "csp-violation", "age": 3, "url": "https://example.com/",
    ///     "user_agent": "Mozilla/5.0",
    ///     "body": {"documentURL": "https://example.com/", "effectiveDirective": "script-src-elem",
    ///              "originalPolicy": "script-src 'self'; report-to csp", "disposition": "report",
    ///              "blockedURL": "inline", "statusCode": 200}
    /// }, {"type": "deprecation", "url": "https://example.com/", "body": {}}]"#;
    /// let reports = CspReport::parse("application/reports+json", body)?;
    /// assert_eq!(reports.len(), 1);
    /// assert_eq!(reports[0].disposition, Disposition::Report);
    /// assert_eq!(reports[0].user_agent.as_deref(), Some("Mozilla/5.0"));
    /// assert_eq!(reports[0].format, ReportFormat::ReportingApi);
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::UnsupportedMediaType`] for another media type, [`Error::MalformedReport`] for a
    /// body that is not JSON of the expected shape.
    pub fn parse(content_type: &str, body: &[u8]) -> Result<Vec<CspReport>> {
        let media_type = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match media_type.as_str() {
            CSP_REPORT_MEDIA_TYPE => Self::parse_csp_report(body).map(|r| vec![r]),
            REPORTS_JSON_MEDIA_TYPE => Self::parse_reporting_api(body),
            "application/json" => match body.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'[') => Self::parse_reporting_api(body),
                _ => Self::parse_csp_report(body).map(|r| vec![r]),
            },
            _ => Err(Error::UnsupportedMediaType(content_type.to_owned())),
        }
    }

    fn parse_csp_report(body: &[u8]) -> Result<CspReport> {
        let envelope: CspReportEnvelope = serde_json::from_slice(body).map_err(malformed(
            "expected {\"csp-report\": {\"document-uri\": …}}",
        ))?;
        let r = envelope.report;
        let effective_directive =
            r.effective_directive
                .or(r.violated_directive)
                .ok_or_else(|| {
                    Error::MalformedReport(
                        "the report names neither effective-directive nor violated-directive"
                            .to_owned(),
                    )
                })?;
        Ok(CspReport {
            document_uri: r.document_uri,
            effective_directive,
            original_policy: r.original_policy.unwrap_or_default(),
            disposition: disposition(r.disposition.as_deref())?,
            blocked_uri: r.blocked_uri,
            referrer: r.referrer,
            source_file: r.source_file,
            line_number: r.line_number,
            column_number: r.column_number,
            status_code: r.status_code,
            sample: r.script_sample,
            user_agent: None,
            format: ReportFormat::CspReport,
        })
    }

    fn parse_reporting_api(body: &[u8]) -> Result<Vec<CspReport>> {
        let batch: Vec<ApiReport> = serde_json::from_slice(body).map_err(malformed(
            "expected a list of {\"type\": …, \"url\": …, \"body\": {…}}",
        ))?;
        let mut reports = Vec::new();
        for entry in batch {
            if entry.kind != "csp-violation" {
                tracing::debug!(kind = ?entry.kind, "ignoring a non-CSP report");
                continue;
            }
            let body: ApiCspBody = serde_json::from_value(entry.body.unwrap_or_default())
                .map_err(malformed("a csp-violation body"))?;
            let document_uri = body.document_url.or(entry.url).ok_or_else(|| {
                Error::MalformedReport("a csp-violation report without documentURL".to_owned())
            })?;
            reports.push(CspReport {
                document_uri,
                effective_directive: body.effective_directive,
                original_policy: body.original_policy.unwrap_or_default(),
                disposition: disposition(body.disposition.as_deref())?,
                blocked_uri: body.blocked_url,
                referrer: body.referrer,
                source_file: body.source_file,
                line_number: body.line_number,
                column_number: body.column_number,
                status_code: body.status_code,
                sample: body.sample,
                user_agent: entry.user_agent,
                format: ReportFormat::ReportingApi,
            });
        }
        Ok(reports)
    }
}

/// Receives the reports of the report endpoint. Closures `Fn(CspReport)` are sinks; the
/// default, [`LogReports`], logs each report as a `tracing` warning.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use djrs_csp::{CspReport, ReportSink};
///
/// let seen: Arc<Mutex<Vec<CspReport>>> = Arc::default();
/// let sink = {
///     let seen = Arc::clone(&seen);
///     move |report: CspReport| seen.lock().unwrap().push(report)
/// };
/// let body = br#"{"csp-report": {"document-uri": "https://a.example/", "violated-directive": "img-src"}}"#;
/// for report in CspReport::parse("application/csp-report", body)? {
///     sink.report(report);
/// }
/// assert_eq!(seen.lock().unwrap()[0].effective_directive, "img-src");
/// # Ok::<(), djrs_csp::Error>(())
/// ```
pub trait ReportSink: Send + Sync + 'static {
    /// Handles one report. Called on the request's task: hand slow work to a queue.
    fn report(&self, report: CspReport);
}

impl<F> ReportSink for F
where
    F: Fn(CspReport) + Send + Sync + 'static,
{
    fn report(&self, report: CspReport) {
        self(report);
    }
}

/// The default [`ReportSink`]: a `tracing` warning per report, with the page, directive and
/// blocked resource as fields.
///
/// Every field comes from the browser, so from anyone: each is recorded as a string value,
/// which `tracing`'s formatters print quoted and escaped. A line break or an ANSI escape in a
/// `document-uri` cannot start a log line of its own.
///
/// ```
/// use djrs_csp::{CspReport, LogReports, ReportSink};
///
/// let body = br#"{"csp-report": {"document-uri": "https://a.example/", "violated-directive": "img-src"}}"#;
/// for report in CspReport::parse("application/csp-report", body)? {
///     LogReports.report(report);
/// }
/// # Ok::<(), djrs_csp::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LogReports;

impl ReportSink for LogReports {
    fn report(&self, report: CspReport) {
        tracing::warn!(
            document_uri = ?report.document_uri,
            effective_directive = ?report.effective_directive,
            blocked_uri = ?report.blocked_uri.as_deref().unwrap_or(""),
            disposition = ?report.disposition,
            source_file = ?report.source_file.as_deref().unwrap_or(""),
            line_number = report.line_number,
            "Content Security Policy violation"
        );
    }
}

/// The `Reporting-Endpoints` header: names that `report-to` directives refer to, each with
/// the URL reports are sent to.
///
/// ```
/// use djrs_csp::ReportingEndpoints;
///
/// let endpoints = ReportingEndpoints::new([
///     ("csp-endpoint", "/csp/report"),
///     ("backup", "https://reports.example/csp"),
/// ])?;
/// assert_eq!(
///     endpoints.to_string(),
///     r#"csp-endpoint="/csp/report", backup="https://reports.example/csp""#
/// );
/// assert!(ReportingEndpoints::new([("Bad Name", "/r")]).is_err());
/// # Ok::<(), djrs_csp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportingEndpoints {
    entries: Vec<(String, String)>,
}

impl ReportingEndpoints {
    /// Checks and collects `(name, url)` pairs. Names are structured-field keys (lower-case
    /// letters, digits, `_`, `-`, `.`, `*`, starting with a letter or `*`); URLs are printable
    /// ASCII without `"` or `\`, relative to the page or absolute.
    ///
    /// ```
    /// use djrs_csp::{Error, ReportingEndpoints};
    ///
    /// let endpoints = ReportingEndpoints::new([("csp-endpoint", "/csp/report")])?;
    /// assert_eq!(endpoints.to_string(), r#"csp-endpoint="/csp/report""#);
    /// assert!(matches!(
    ///     ReportingEndpoints::new([("csp", "/a"), ("csp", "/b")]),
    ///     Err(Error::InvalidReportingEndpoint { .. })
    /// ));
    /// assert!(ReportingEndpoints::new([("csp", "/say\"hi\"")]).is_err());
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidReportingEndpoint`] for an invalid name or URL.
    pub fn new<I, N, U>(endpoints: I) -> Result<Self>
    where
        I: IntoIterator<Item = (N, U)>,
        N: Into<String>,
        U: Into<String>,
    {
        let mut entries = Vec::new();
        for (name, url) in endpoints {
            let (name, url): (String, String) = (name.into(), url.into());
            let reason = if !name.starts_with(|c: char| c.is_ascii_lowercase() || c == '*') {
                Some("a name starts with a lower-case ASCII letter or `*`")
            } else if !name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.' | '*')
            }) {
                Some("a name holds only lower-case ASCII letters, digits, `_`, `-`, `.` and `*`")
            } else if url.is_empty() {
                Some("the URL is empty")
            } else if !url
                .chars()
                .all(|c| (' '..='~').contains(&c) && c != '"' && c != '\\')
            {
                Some(
                    "a URL holds printable ASCII only, without `\"` or `\\` (percent-encode the rest)",
                )
            } else if entries.iter().any(|(n, _)| *n == name) {
                Some("the name is given twice")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(Error::InvalidReportingEndpoint {
                    name,
                    url,
                    reason: reason.to_owned(),
                });
            }
            entries.push((name, url));
        }
        Ok(ReportingEndpoints { entries })
    }

    /// The `(name, url)` pairs in order.
    ///
    /// ```
    /// use djrs_csp::ReportingEndpoints;
    ///
    /// let endpoints = ReportingEndpoints::new([("csp-endpoint", "/csp/report")])?;
    /// assert_eq!(endpoints.entries().collect::<Vec<_>>(), [("csp-endpoint", "/csp/report")]);
    /// # Ok::<(), djrs_csp::Error>(())
    /// ```
    #[must_use]
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, u)| (n.as_str(), u.as_str()))
    }
}

impl fmt::Display for ReportingEndpoints {
    /// The header value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, url)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}=\"{url}\"")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_malformed_bodies_with_typed_errors() {
        let cases: &[(&str, &[u8])] = &[
            ("application/csp-report", b"not json"),
            ("application/csp-report", b"{}"),
            ("application/csp-report", b"[]"),
            ("application/csp-report", br#"{"csp-report": {"document-uri": 3}}"#),
            ("application/csp-report", br#"{"csp-report": {"document-uri": "x"}}"#),
            (
                "application/csp-report",
                br#"{"csp-report": {"document-uri": "x", "violated-directive": "a", "disposition": "maybe"}}"#,
            ),
            ("application/reports+json", b"{}"),
            ("application/reports+json", br#"[{"type": "csp-violation", "url": "x", "body": {}}]"#),
            ("application/reports+json", br#"[{"type": "csp-violation", "body": {"effectiveDirective": "a"}}]"#),
            ("application/reports+json", br#"[{"url": "x"}]"#),
            ("application/json", b"\xff"),
        ];
        for (content_type, body) in cases {
            let err = CspReport::parse(content_type, body).unwrap_err();
            assert!(
                matches!(err, Error::MalformedReport(_)),
                "{content_type} {:?}: {err}",
                String::from_utf8_lossy(body)
            );
        }
        let err = CspReport::parse("text/plain", b"{}").unwrap_err();
        assert!(matches!(err, Error::UnsupportedMediaType(_)));
    }

    #[test]
    fn media_types_are_matched_loosely() {
        let body = br#"{"csp-report": {"document-uri": "x", "violated-directive": "img-src"}}"#;
        assert_eq!(
            CspReport::parse("Application/CSP-Report; charset=utf-8", body)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(CspReport::parse("application/json", body).unwrap().len(), 1);
        let batch = br#" [{"type": "csp-violation", "url": "u", "body": {"effectiveDirective": "img-src"}}]"#;
        let reports = CspReport::parse("application/json", batch).unwrap();
        assert_eq!(reports[0].document_uri, "u");
    }

    /// A report with only the required fields, the rest as given.
    fn report(document_uri: &str, directive: &str) -> CspReport {
        CspReport {
            document_uri: document_uri.to_owned(),
            effective_directive: directive.to_owned(),
            original_policy: String::new(),
            disposition: Disposition::Enforce,
            blocked_uri: None,
            referrer: None,
            source_file: None,
            line_number: None,
            column_number: None,
            status_code: None,
            sample: None,
            user_agent: None,
            format: ReportFormat::CspReport,
        }
    }

    #[test]
    fn closures_are_sinks() {
        use std::sync::{Arc, Mutex};

        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = {
            let seen = Arc::clone(&seen);
            move |report: CspReport| seen.lock().unwrap().push(report.document_uri)
        };
        sink.report(report("https://a.example/", "img-src"));
        sink.report(report("https://b.example/", "img-src"));
        assert_eq!(
            *seen.lock().unwrap(),
            ["https://a.example/", "https://b.example/"]
        );
    }

    /// What `LogReports` writes for `report`, through a plain-text `tracing` formatter.
    fn logged(report: CspReport) -> String {
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Captured(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Captured {
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
            .without_time()
            .with_target(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || LogReports.report(report));
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn log_reports_writes_one_escaped_warning_per_report() {
        let mut full = report("https://a.example/page", "script-src-elem");
        full.blocked_uri = Some("inline".into());
        full.source_file = Some("https://a.example/app.js".into());
        full.line_number = Some(12);
        full.disposition = Disposition::Report;
        let mut hostile = report("https://a.example/\r\n WARN forged\u{1b}[2J", "img-src\nx");
        hostile.blocked_uri = Some("b\"c".into());
        let cases = [
            (
                report("https://a.example/", "img-src"),
                r#" WARN Content Security Policy violation document_uri="https://a.example/" effective_directive="img-src" blocked_uri="" disposition=Enforce source_file="""#,
            ),
            (
                full,
                r#" WARN Content Security Policy violation document_uri="https://a.example/page" effective_directive="script-src-elem" blocked_uri="inline" disposition=Report source_file="https://a.example/app.js" line_number=12"#,
            ),
            (
                hostile,
                r#" WARN Content Security Policy violation document_uri="https://a.example/\r\n WARN forged\u{1b}[2J" effective_directive="img-src\nx" blocked_uri="b\"c" disposition=Enforce source_file="""#,
            ),
        ];
        for (report, line) in cases {
            assert_eq!(logged(report), format!("{line}\n"));
        }
    }

    #[test]
    fn reporting_endpoints_are_a_comma_separated_dictionary() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], ""),
            (&[("csp", "/csp/report")], r#"csp="/csp/report""#),
            (
                &[
                    ("a", "/a"),
                    ("b-2", "https://r.example/b"),
                    ("*c", "/c?x=1"),
                ],
                r#"a="/a", b-2="https://r.example/b", *c="/c?x=1""#,
            ),
        ];
        for (pairs, header) in cases {
            let endpoints = ReportingEndpoints::new(pairs.iter().copied()).unwrap();
            assert_eq!(endpoints.to_string(), *header);
            assert_eq!(endpoints.entries().collect::<Vec<_>>(), *pairs);
        }
    }

    #[test]
    fn reporting_endpoints_refuse_bad_names_urls_and_repeats() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("", "/r")], "a name starts with"),
            (&[("Csp", "/r")], "a name starts with"),
            (&[("1csp", "/r")], "a name starts with"),
            (&[("csp endpoint", "/r")], "a name holds only"),
            (&[("cspR", "/r")], "a name holds only"),
            (&[("csp", "")], "the URL is empty"),
            (&[("csp", "/r?q=\"x\"")], "a URL holds printable ASCII only"),
            (&[("csp", "/r\\x")], "a URL holds printable ASCII only"),
            (&[("csp", "/r\nx")], "a URL holds printable ASCII only"),
            (&[("csp", "/é")], "a URL holds printable ASCII only"),
            (&[("csp", "/a"), ("csp", "/b")], "the name is given twice"),
        ];
        for (pairs, start) in cases {
            match ReportingEndpoints::new(pairs.iter().copied()) {
                Err(Error::InvalidReportingEndpoint { reason, .. }) => {
                    assert!(reason.starts_with(start), "{pairs:?}: {reason}");
                }
                other => panic!("{pairs:?}: {other:?}"),
            }
        }
        let fine = [("a.b_c-d*1", "https://r.example/ ~!")];
        assert!(ReportingEndpoints::new(fine).is_ok());
    }
}
