//! The task console in a real browser: headless Chromium signs in to the showcase, pauses the
//! queue and sees nothing start, cancels a waiting task, filters to the failed ones, retries it
//! and watches it succeed (the page refreshes itself with htmx), cancels a running task and
//! sees it end cancelled; no page breaks the console's Content Security Policy. The run leaves
//! a screenshot of the overview in the target directory (`tasks-console.png`), the one
//! docs/tasks.md shows.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use djrs::tasks::{TaskResultStatus, Tasks};
use djrs_demo::jobs;
use djrs_e2e::{Cdp, OPERATOR};
use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use serde_json::json;

/// What a page refreshing itself every two seconds may take to show a change, on a slow machine.
const LIVE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_pauses_cancels_retries_and_watches_tasks_in_the_console() {
    djrs_e2e::console_in_browser(drive).await;
}

/// Every document records the policy violations it sees in the tab's session storage, before
/// any of its own scripts run.
const RECORD_VIOLATIONS: &str = "document.addEventListener('securitypolicyviolation', (e) => {
  const seen = JSON.parse(sessionStorage.getItem('violations') || '[]');
  seen.push(e.violatedDirective + ' ' + e.blockedURI + ' on ' + location.pathname);
  sessionStorage.setItem('violations', JSON.stringify(seen));
});";

async fn violations(client: &Client) -> Vec<String> {
    let seen = client
        .execute(
            "return sessionStorage.getItem('violations') || '[]';",
            Vec::new(),
        )
        .await
        .unwrap();
    serde_json::from_str(seen.as_str().unwrap()).unwrap()
}

/// The element `locator` finds, once the page shows it (the page may still be loading).
async fn find(client: &Client, locator: Locator<'_>) -> Element {
    let start = Instant::now();
    loop {
        match client.find(locator).await {
            Ok(element) => return element,
            Err(e) => assert!(start.elapsed() < LIVE, "{locator:?}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn click(client: &Client, xpath: &str) {
    find(client, Locator::XPath(xpath))
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {xpath}: {e}"));
}

/// Confirms the action the last click asked for, once its confirmation page is there (a
/// click's form submission may still be under way when the click returns).
async fn confirm(client: &Client) {
    let yes = "//button[starts-with(text(), 'Yes, ')]";
    find(client, Locator::XPath(yes)).await;
    let question = find(client, Locator::Css("main p"))
        .await
        .text()
        .await
        .unwrap();
    assert!(question.contains('?'), "a confirmation: {question}");
    click(client, yes).await;
}

/// Waits for the browser to be at `path` (a submitted form's navigation may still be under
/// way when the submission returns).
async fn wait_for_path(client: &Client, path: &str) {
    let start = Instant::now();
    loop {
        let url = client.current_url().await.unwrap();
        if url.path() == path {
            return;
        }
        assert!(start.elapsed() < LIVE, "still at {url}, not {path}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The text of the notice an action leaves on the page it comes back to.
async fn notice(client: &Client) -> String {
    find(client, Locator::Css(".notice"))
        .await
        .text()
        .await
        .unwrap()
}

/// The task page's status badge, once it says `status` (the page refreshes itself).
async fn wait_for_badge(client: &Client, status: &str) {
    let start = Instant::now();
    loop {
        let badge = find(client, Locator::Css("h1 .status"))
            .await
            .text()
            .await
            .unwrap_or_default();
        if badge == status {
            return;
        }
        assert!(
            start.elapsed() < LIVE,
            "the page still says {badge}, not {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn status_of(tasks: &Tasks, id: &str) -> TaskResultStatus {
    tasks.get_result(id).await.unwrap().status
}

async fn drive(addr: SocketAddr, client: Client, tasks: Tasks) {
    client.set_window_size(1360, 1000).await.unwrap();
    client
        .issue_cmd(Cdp {
            method: "Page.addScriptToEvaluateOnNewDocument",
            params: json!({ "source": RECORD_VIOLATIONS }),
        })
        .await
        .expect("a script for every document");
    let base = format!("http://{addr}");

    // The console asks for the operator first, and comes back where it was sent.
    client.goto(&format!("{base}/tasks")).await.unwrap();
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/login")
    );
    let form = client
        .form(Locator::Css("form[action='/login']"))
        .await
        .unwrap();
    form.set_by_name("name", OPERATOR.0).await.unwrap();
    form.set_by_name("password", OPERATOR.1).await.unwrap();
    form.submit().await.unwrap();
    wait_for_path(&client, "/tasks").await;

    // One report runs, so the queue is on the overview.
    let first = jobs::generate_report.enqueue(&tasks, 0).await.unwrap();
    let start = Instant::now();
    while status_of(&tasks, &first.id).await != TaskResultStatus::Successful {
        assert!(start.elapsed() < LIVE, "the first report ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Pause the queue from the overview: nothing starts.
    client.goto(&format!("{base}/tasks")).await.unwrap();
    click(
        &client,
        "//tr[td/a[text()='default']]//button[text()='Pause']",
    )
    .await;
    confirm(&client).await;
    assert_eq!(notice(&client).await, "The queue is paused.");
    let waiting = jobs::generate_report.enqueue(&tasks, 0).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        status_of(&tasks, &waiting.id).await,
        TaskResultStatus::Ready
    );

    // Cancel it on its page: it fails, cancelled.
    client
        .goto(&format!("{base}/tasks/task/{}", waiting.id))
        .await
        .unwrap();
    click(&client, "//button[text()='Cancel']").await;
    confirm(&client).await;
    wait_for_badge(&client, "FAILED").await;
    assert!(
        client
            .source()
            .await
            .unwrap()
            .contains("djrs_tasks::Cancelled")
    );

    // Resume the queue.
    client.goto(&format!("{base}/tasks")).await.unwrap();
    click(
        &client,
        "//tr[td/a[text()='default']]//button[text()='Resume']",
    )
    .await;
    confirm(&client).await;
    assert_eq!(notice(&client).await, "The queue runs again.");

    // A limit being typed outlives the overview's refreshes (every two seconds), focused or not.
    let field = "//input[@aria-label='limit of default']";
    client
        .find(Locator::XPath(field))
        .await
        .unwrap()
        .send_keys("3")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    client
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let typed = client
        .find(Locator::XPath(field))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(typed.as_deref(), Some("3"), "the typed limit");
    click(
        &client,
        "//tr[td/a[text()='default']]//button[text()='Set limit']",
    )
    .await;
    confirm(&client).await;
    assert_eq!(notice(&client).await, "The queue's limit is set.");
    assert!(
        client
            .find(Locator::XPath(
                "//tr[td/a[text()='default']]/td[3][text()='3']"
            ))
            .await
            .is_ok(),
        "the limit shows"
    );

    // Filter the list to FAILED, open the task, retry it and watch it succeed.
    click(&client, "//header/a[text()='All tasks']").await;
    find(&client, Locator::Css("form.filters")).await;
    let filters = client.form(Locator::Css("form.filters")).await.unwrap();
    filters.set_by_name("status", "FAILED").await.unwrap();
    click(&client, "//button[text()='Filter']").await;
    wait_for_path(&client, "/tasks/list").await;
    let url = client.current_url().await.unwrap();
    assert!(url.query().unwrap_or("").contains("status=FAILED"), "{url}");
    let rows = client.find_all(Locator::Css("tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 1, "only the failed task");
    click(&client, &format!("//a[text()='{}']", waiting.id)).await;
    click(&client, "//button[text()='Retry']").await;
    confirm(&client).await;
    assert_eq!(notice(&client).await, "Retried 1 of 1 tasks.");
    // No reload from here on: htmx swaps the page's live part in.
    wait_for_badge(&client, "SUCCESSFUL").await;
    let htmx = client
        .execute("return typeof htmx;", Vec::new())
        .await
        .unwrap();
    assert_eq!(htmx, json!("object"), "htmx ran under the policy");

    // Cancel a running task: it ends cancelled once its grace period is over.
    let long = jobs::generate_report.enqueue(&tasks, 120).await.unwrap();
    let start = Instant::now();
    while status_of(&tasks, &long.id).await != TaskResultStatus::Running {
        assert!(start.elapsed() < LIVE, "the long report started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client
        .goto(&format!("{base}/tasks/task/{}", long.id))
        .await
        .unwrap();
    click(&client, "//button[text()='Cancel']").await;
    confirm(&client).await;
    wait_for_badge(&client, "FAILED").await;
    let page = client.source().await.unwrap();
    assert!(page.contains("djrs_tasks::Cancelled"), "{page}");
    let done = tasks.get_result(&long.id).await.unwrap();
    assert_eq!(done.status, TaskResultStatus::Failed);
    assert_eq!(done.attempts(), 1, "not retried");

    // The overview, for the guide; then no page broke the policy, and the recorder works.
    client.goto(&format!("{base}/tasks")).await.unwrap();
    let shot = client.screenshot().await.unwrap();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tasks-console.png");
    std::fs::write(&path, shot).unwrap();
    eprintln!("screenshot: {}", path.display());
    assert_eq!(violations(&client).await, Vec::<String>::new());
    client
        .execute(
            "document.body.setAttribute('style', 'color: red');",
            Vec::new(),
        )
        .await
        .unwrap();
    let start = Instant::now();
    while violations(&client).await.is_empty() {
        assert!(start.elapsed() < LIVE, "an inline style is reported");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
