//! The showcase's Content Security Policy in a real browser: headless Chromium (Debian's
//! `chromium` and `chromium-driver`, installed by `cargo xtask services`) loads `/csp` from the
//! demo served on a loopback port. The script carrying the page's nonce runs, the inline script
//! without it is blocked, and the browser's violation report reaches the demo's endpoint.
//!
//! Chromium is started by the test (so it can be killed by its own handle) with a fresh
//! profile and the flags that keep it off the network; chromedriver attaches to it through its
//! DevTools port. The whole test is bounded by `TIME_LIMIT`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use djrs::paginate::CursorKey;
use djrs_demo::{AppState, Db};
use fantoccini::{ClientBuilder, Locator};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const TIME_LIMIT: Duration = Duration::from_secs(150);
/// `report-uri` reports are sent at once; this only bounds a slow machine.
const REPORT_WAIT: Duration = Duration::from_secs(30);

/// The flags that make Chromium work as root and offline (see docs/ARCHITECTURE.md).
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Chromium and chromedriver, killed and reaped by their handles when dropped.
struct Browser {
    chromium: Child,
    chromedriver: Child,
    webdriver_url: String,
}

impl Browser {
    fn start(profile: &Path) -> Browser {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing: run `cargo xtask services` (it installs Debian's chromium \
                 and chromium-driver)"
            );
        }
        let chromium = Command::new(CHROMIUM)
            // Its own process group, so that its helper processes go with it (see `Drop`).
            .process_group(0)
            .args(CHROMIUM_FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--remote-debugging-port=0")
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        let port = free_port();
        let chromedriver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start chromedriver");
        let browser = Browser {
            chromium,
            chromedriver,
            webdriver_url: format!("http://127.0.0.1:{port}"),
        };
        wait_for(Duration::from_secs(30), "chromedriver to listen", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        browser
    }

    /// The DevTools address Chromium chose, read from the profile once it is listening.
    fn devtools_address(profile: &Path) -> String {
        let file = profile.join("DevToolsActivePort");
        let mut port = String::new();
        wait_for(Duration::from_secs(30), "Chromium's DevTools port", || {
            port = std::fs::read_to_string(&file)
                .ok()
                .and_then(|text| text.lines().next().map(str::to_owned))
                .unwrap_or_default();
            !port.is_empty()
        });
        format!("127.0.0.1:{port}")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
        // The group Chromium leads (its id is Chromium's own): the browser and the renderer,
        // GPU and utility processes it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.chromium.id())])
            .status();
        let _ = self.chromium.kill();
        let _ = self.chromium.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

fn wait_for(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A GET over a plain HTTP/1.1 connection: (head, body).
fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to the demo");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    (head.to_owned(), body.to_owned())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonce_scripts_run_others_are_blocked_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!(
        "sqlite://{}",
        dir.path().join("browser.sqlite3").display()
    ))
    .await
    .unwrap();
    let state = AppState::new(db, CursorKey::new(b"browser test")).unwrap();
    let listener = djrs_demo::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(djrs_demo::serve(listener, state, std::future::pending()));

    let profile = dir.path().join("chromium-profile");
    std::fs::create_dir(&profile).unwrap();
    let browser = Browser::start(&profile);
    let devtools = Browser::devtools_address(&profile);

    let outcome = tokio::time::timeout(TIME_LIMIT, drive(addr, &browser, &devtools)).await;
    server.abort();
    drop(browser);
    outcome.unwrap_or_else(|_| panic!("the browser test took longer than {TIME_LIMIT:?}"));
}

async fn drive(addr: SocketAddr, browser: &Browser, devtools: &str) {
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

    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({ "debuggerAddress": devtools }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&browser.webdriver_url)
        .await
        .expect("a WebDriver session");
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
