//! Template partials and htmx in a real browser: headless Chromium loads the showcase's
//! `/articles`, clicks "next", and htmx swaps in `articles.html#list` (the fragment the same
//! handler renders for htmx) without reloading the page, under the showcase's enforced policy
//! with no violation. As a control, a `<style>` without the nonce inserted afterwards is
//! blocked and reported, so the absence of reports before it means something.
//!
//! The browser harness is the one of `csp_browser.rs`: Chromium started by the test with a
//! fresh profile and the offline flags, chromedriver attached through DevTools, the whole test
//! bounded by `TIME_LIMIT`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use djrs::paginate::CursorKey;
use djrs_demo::{AppState, Db};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const TIME_LIMIT: Duration = Duration::from_secs(150);
/// `report-uri` reports are sent at once; this only bounds a slow machine.
const REPORT_WAIT: Duration = Duration::from_secs(30);
/// How long to wait for reports that must not come.
const QUIET_WAIT: Duration = Duration::from_secs(2);

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
async fn htmx_swaps_the_next_page_in_through_a_partial() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!(
        "sqlite://{}",
        dir.path().join("browser.sqlite3").display()
    ))
    .await
    .unwrap();
    let state = AppState::new(db, CursorKey::new(b"partials browser test")).unwrap();
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

/// Runs `script` in the page and returns its value.
async fn js(client: &Client, script: &str) -> Value {
    client
        .execute(script, Vec::new())
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// Waits until `script` returns `true` in the page.
async fn until(client: &Client, what: &str, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while js(client, script).await != json!(true) {
        assert!(Instant::now() < deadline, "waited 20 s for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The violation reports the showcase received for pages under `/articles`.
async fn article_reports(addr: SocketAddr) -> Vec<Value> {
    let (_, body) = tokio::task::spawn_blocking(move || get(addr, "/csp/reports"))
        .await
        .unwrap();
    let reports: Vec<Value> = serde_json::from_str(&body).expect("a JSON list");
    let prefix = format!("http://{addr}/articles");
    reports
        .into_iter()
        .filter(|r| {
            r["document_uri"]
                .as_str()
                .is_some_and(|u| u.starts_with(&prefix))
        })
        .collect()
}

async fn drive(addr: SocketAddr, browser: &Browser, devtools: &str) {
    // htmx is served by the showcase, with the page's nonce on its script tag.
    let (head, body) = tokio::task::spawn_blocking(move || get(addr, "/articles"))
        .await
        .unwrap();
    let policy = header(&head, "content-security-policy").expect("a CSP header");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    assert!(
        body.contains(&format!(
            "<script src=\"/static/htmx.min.js\" nonce=\"{nonce}\"></script>"
        )),
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
        .goto(&format!("http://{addr}/articles"))
        .await
        .expect("load /articles");
    until(
        &client,
        "htmx to load",
        "return typeof htmx === 'object' && !!htmx.version;",
    )
    .await;
    assert_eq!(js(&client, "return htmx.version;").await, json!("2.0.11"));

    // Marks that a full reload would lose, and a listener for violations from now on.
    js(
        &client,
        "window.__djrsMark = 'still here';\
         window.__djrsHeading = document.querySelector('h1');\
         window.__djrsViolations = [];\
         document.addEventListener('securitypolicyviolation', e =>\
             window.__djrsViolations.push(e.effectiveDirective + ' ' + e.blockedURI));\
         return true;",
    )
    .await;
    assert_eq!(
        js(&client, "return document.querySelector('#articles li').id;").await,
        json!("article-1")
    );

    client
        .find(Locator::Css("a[rel=next]"))
        .await
        .expect("the next link")
        .click()
        .await
        .expect("click next");
    until(
        &client,
        "page 2 to be swapped in",
        "return !!document.getElementById('article-11');",
    )
    .await;

    // Only the fragment changed: same document, same heading element, one list, page 2 in it.
    assert_eq!(
        js(&client, "return window.__djrsMark;").await,
        json!("still here")
    );
    assert_eq!(
        js(
            &client,
            "return document.querySelector('h1') === window.__djrsHeading;"
        )
        .await,
        json!(true)
    );
    assert_eq!(
        js(
            &client,
            "return [document.querySelectorAll('#articles').length, \
                     document.querySelectorAll('html').length, \
                     document.querySelectorAll('#articles li').length, \
                     !!document.getElementById('article-1'), \
                     document.querySelector('#articles p.meta').textContent];"
        )
        .await,
        json!([1, 1, 10, false, "Articles 11–20 of 300 · page 2 of 30"])
    );
    // htmx pushed the new URL (hx-boost), so reload and back work.
    assert_eq!(
        js(&client, "return location.search;").await,
        json!("?page=2")
    );
    // The swapped-in links work the same way: go on to page 3, still without a reload.
    client
        .find(Locator::Css("a[rel=next]"))
        .await
        .expect("the next link on page 2")
        .click()
        .await
        .expect("click next again");
    until(
        &client,
        "page 3",
        "return !!document.getElementById('article-21');",
    )
    .await;
    assert_eq!(
        js(&client, "return window.__djrsMark;").await,
        json!("still here")
    );

    // No violation: none seen by the page since the listener, none reported at all.
    tokio::time::sleep(QUIET_WAIT).await;
    assert_eq!(
        js(&client, "return window.__djrsViolations;").await,
        json!([])
    );
    assert_eq!(article_reports(addr).await, Vec::<Value>::new());

    // Control: a <style> without the nonce is blocked, seen and reported.
    js(
        &client,
        "const s = document.createElement('style');\
         s.textContent = 'body { color: red }';\
         document.head.appendChild(s);\
         return true;",
    )
    .await;
    until(
        &client,
        "the control violation event",
        "return window.__djrsViolations.length > 0;",
    )
    .await;
    let deadline = Instant::now() + REPORT_WAIT;
    while article_reports(addr).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the control violation was not reported within {REPORT_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let reports = article_reports(addr).await;
    assert!(
        reports.iter().all(|r| r["effective_directive"]
            .as_str()
            .is_some_and(|d| d.starts_with("style-src"))),
        "{reports:?}"
    );
    client.close().await.expect("end the WebDriver session");
}
