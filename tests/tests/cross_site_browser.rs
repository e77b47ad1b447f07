//! Cross-site request forgery in a real browser: a page on another site (`localhost` on
//! another port, while the showcase is `127.0.0.1`) submits the showcase's welcome form as
//! soon as it loads. The showcase refuses it with a 403 and enqueues nothing; the same form
//! submitted from the showcase's own page works.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_posted_from_another_site_is_refused() {
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

/// Serves `page` to every request on a loopback port, in a thread that ends with the test
/// process; returns the port.
fn attacker_site(page: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    port
}

async fn drive(addr: SocketAddr, client: Client) {
    let page = format!(
        "<!doctype html><title>Win a prize</title>\
         <form id=f method=post action=\"http://{addr}/welcome\">\
         <input name=name value=Victim><input name=email value=victim@example.com></form>\
         <script>document.getElementById('f').submit();</script>"
    );
    let port = attacker_site(page);
    client
        .goto(&format!("http://localhost:{port}/"))
        .await
        .expect("load the other site");
    until(
        &client,
        "the forged submission to reach the showcase",
        &format!("return location.href === 'http://{addr}/welcome';"),
    )
    .await;
    let text = js(&client, "return document.body.innerText;").await;
    assert!(
        text.as_str()
            .is_some_and(|t| t.contains("cross-site request refused")),
        "{text}"
    );
    assert!(
        !text.as_str().unwrap_or_default().contains("Queued task"),
        "{text}"
    );

    // The same form from the showcase's own page is accepted.
    client
        .goto(&format!("http://{addr}/welcome"))
        .await
        .expect("load /welcome");
    client
        .find(Locator::Css("input[name=name]"))
        .await
        .unwrap()
        .send_keys("Ada")
        .await
        .unwrap();
    client
        .find(Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys("ada@example.com")
        .await
        .unwrap();
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(
        &client,
        "the welcome task to be queued",
        "return !!document.querySelector('p.queued');",
    )
    .await;
    // Only Ada's task was ever enqueued: the outbox never shows the victim.
    tokio::time::sleep(Duration::from_secs(2)).await;
    client
        .goto(&format!("http://{addr}/outbox"))
        .await
        .expect("load /outbox");
    let outbox = js(&client, "return document.body.innerText;").await;
    assert!(
        !outbox
            .as_str()
            .unwrap_or_default()
            .contains("victim@example.com"),
        "{outbox}"
    );
    client.close().await.expect("end the WebDriver session");
}
