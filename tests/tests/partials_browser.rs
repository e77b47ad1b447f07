//! Template partials and htmx in a real browser: headless Chromium loads the showcase's
//! `/articles`, clicks "next", and htmx swaps in `articles.html#list` (the fragment the same
//! handler renders for htmx) without reloading the page; then stars an article, and one response
//! updates two places at once (the card, swapped where it was, and the count of starred
//! articles, out of band) and triggers an event with a JSON detail; all under the showcase's
//! enforced policy with no violation. As a control, a `<style>` without the nonce inserted afterwards is
//! blocked and reported, so the absence of reports before it means something.
//!
//! The browser harness (Chromium and chromedriver started by the test, killed by their own
//! handles, the run bounded in time) is `djrs_e2e::showcase_in_browser`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use djrs_e2e::{get, header};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

/// `report-uri` reports are sent at once; this only bounds a slow machine.
const REPORT_WAIT: Duration = Duration::from_secs(30);
/// How long to wait for reports that must not come.
const QUIET_WAIT: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn htmx_swaps_pages_and_out_of_band_fragments_through_partials() {
    djrs_e2e::showcase_in_browser(drive).await;
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

async fn drive(addr: SocketAddr, client: Client) {
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

    // Star the first article on the page: the card and the count change in one response (the
    // count out of band), and the page hears the `starred` event with its detail.
    js(
        &client,
        "window.__djrsStarred = [];\
         document.body.addEventListener('starred', e =>\
             window.__djrsStarred.push([e.detail.id, e.detail.on]));\
         return true;",
    )
    .await;
    assert_eq!(
        js(
            &client,
            "return document.getElementById('starred-count').textContent;"
        )
        .await,
        json!("Starred: 0")
    );
    client
        .find(Locator::Css("#article-21 form.star button"))
        .await
        .expect("the star button")
        .click()
        .await
        .expect("click star");
    until(
        &client,
        "the card and the count to change",
        "return document.querySelector('#article-21 button').textContent === '★ starred'\
             && document.getElementById('starred-count').textContent === 'Starred: 1';",
    )
    .await;
    assert_eq!(
        js(
            &client,
            "return [window.__djrsMark, window.__djrsStarred, \
                     document.querySelectorAll('#starred-count').length, \
                     document.getElementById('starred-count').hasAttribute('hx-swap-oob'), \
                     document.querySelectorAll('#article-21').length];"
        )
        .await,
        json!(["still here", [[21, true]], 1, false, 1])
    );
    // And back: the star is taken away the same way.
    client
        .find(Locator::Css("#article-21 form.star button"))
        .await
        .expect("the star button, swapped in")
        .click()
        .await
        .expect("click star again");
    until(
        &client,
        "the star to go",
        "return document.querySelector('#article-21 button').textContent === '☆ star'\
             && document.getElementById('starred-count').textContent === 'Starred: 0';",
    )
    .await;
    assert_eq!(
        js(&client, "return window.__djrsStarred;").await,
        json!([[21, true], [21, false]])
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
