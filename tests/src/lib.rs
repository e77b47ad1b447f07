//! The harness of the workspace's end-to-end tests (the tests themselves live in `tests/`):
//! the showcase served in-process on a loopback port, and headless Chromium driven through
//! WebDriver.
//!
//! Chromium (Debian's `chromium` and `chromium-driver`, installed by `cargo xtask services`) is
//! started by the harness, so it is killed by its own handle, with a fresh profile and the
//! flags that keep it off the network; chromedriver attaches to it through its DevTools port.
//! A whole browser run is bounded by [`TIME_LIMIT`].

use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use djrs::paginate::CursorKey;
use djrs_demo::{AppState, Db};
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long one browser run may take.
pub const TIME_LIMIT: Duration = Duration::from_secs(150);

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

/// A free loopback port.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Polls `ready` every 100 ms until it is true, or fails after `limit`.
fn wait_for(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A GET over a plain HTTP/1.1 connection: (head, body).
#[must_use]
pub fn get(addr: SocketAddr, path: &str) -> (String, String) {
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

/// The value of header `name` in a response head.
#[must_use]
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Serves the showcase on a temporary SQLite file and a free loopback port, starts Chromium and
/// a WebDriver session, and runs `drive` with the address and the session, within
/// [`TIME_LIMIT`]. Everything started is stopped by its own handle afterwards.
///
/// # Panics
/// When something cannot be started or `drive` takes longer than [`TIME_LIMIT`] (a test).
pub async fn showcase_in_browser<F, Fut>(drive: F)
where
    F: FnOnce(SocketAddr, Client) -> Fut,
    Fut: Future<Output = ()>,
{
    in_browser(|state| state, |addr, client, _tasks| drive(addr, client)).await;
}

/// The task console's operator in [`console_in_browser`].
pub const OPERATOR: (&str, &str) = ("operator", "browser-test-password");

/// As [`showcase_in_browser`], with the console's operator account [`OPERATOR`], and `drive`
/// also gets the showcase's task system (to enqueue and look at tasks).
///
/// # Panics
/// As [`showcase_in_browser`].
pub async fn console_in_browser<F, Fut>(drive: F)
where
    F: FnOnce(SocketAddr, Client, djrs::tasks::Tasks) -> Fut,
    Fut: Future<Output = ()>,
{
    let operator = djrs_demo::operator::Operator::new(OPERATOR.0, OPERATOR.1)
        .expect("a valid operator account");
    in_browser(|state| state.with_operator(operator), drive).await;
}

async fn in_browser<S, F, Fut>(setup: S, drive: F)
where
    S: FnOnce(AppState) -> AppState,
    F: FnOnce(SocketAddr, Client, djrs::tasks::Tasks) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = Db::connect(&format!(
        "sqlite://{}",
        dir.path().join("browser.sqlite3").display()
    ))
    .await
    .expect("the showcase database");
    let state =
        setup(AppState::new(db, CursorKey::new(b"browser test")).expect("the showcase state"));
    let tasks = state.tasks().clone();
    let listener = djrs_demo::bind("127.0.0.1:0".parse().expect("an address"))
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("the bound address");
    let server = tokio::spawn(djrs_demo::serve(listener, state, std::future::pending()));

    let profile = dir.path().join("chromium-profile");
    std::fs::create_dir(&profile).expect("a profile dir");
    let browser = Browser::start(&profile);
    let devtools = Browser::devtools_address(&profile);
    let run = async {
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
        drive(addr, client, tasks).await;
    };
    let outcome = tokio::time::timeout(TIME_LIMIT, run).await;
    server.abort();
    drop(browser);
    outcome.unwrap_or_else(|_| panic!("the browser test took longer than {TIME_LIMIT:?}"));
}

/// A Chrome DevTools Protocol command sent through chromedriver (`goog/cdp/execute`), for
/// what WebDriver has no command for (e.g. a script every new document runs first).
#[derive(Debug)]
pub struct Cdp {
    /// The CDP method, e.g. `Page.addScriptToEvaluateOnNewDocument`.
    pub method: &'static str,
    /// Its parameters.
    pub params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.method, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}
