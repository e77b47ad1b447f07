//! A boosted link in a real browser: htmx sends `HX-Boosted: true` and swaps the response
//! into `<body>`, so the handler that serves `articles.html#list` to plain htmx requests must
//! answer a boosted one with the full page, or the page's navigation disappears.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boosted_link_gets_the_full_page_and_keeps_the_navigation() {
    djrs_e2e::showcase_in_browser(drive).await;
}

async fn js(client: &Client, script: &str) -> Value {
    client
        .execute(script, Vec::new())
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

async fn until(client: &Client, what: &str, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while js(client, script).await != json!(true) {
        assert!(Instant::now() < deadline, "waited 20 s for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn drive(addr: std::net::SocketAddr, client: Client) {
    client
        .goto(&format!("http://{addr}/articles?page=3"))
        .await
        .expect("load /articles?page=3");
    until(&client, "htmx to load", "return typeof htmx === 'object';").await;
    js(&client, "window.__djrsMark = 'still here'; return true;").await;
    assert_eq!(
        js(&client, "return document.querySelector('#articles li').id;").await,
        json!("article-21")
    );

    // The header's links are boosted: htmx fetches the page and swaps it into <body>.
    client
        .find(Locator::Css("header a[href='/articles']"))
        .await
        .expect("the header's Articles link")
        .click()
        .await
        .expect("click the boosted link");
    until(
        &client,
        "page 1 to be swapped in",
        "return !!document.getElementById('article-1');",
    )
    .await;
    assert_eq!(
        js(&client, "return window.__djrsMark;").await,
        json!("still here"),
        "a boosted swap, not a reload"
    );
    assert_eq!(
        js(
            &client,
            "return [document.querySelectorAll('header').length, \
                     document.querySelectorAll('header a').length, \
                     document.querySelectorAll('h1').length, \
                     document.querySelectorAll('#articles').length, \
                     location.pathname];"
        )
        .await,
        json!([1, 3, 1, 1, "/articles"]),
        "the page around the list, its navigation included, is still there"
    );
    client.close().await.expect("end the WebDriver session");
}
