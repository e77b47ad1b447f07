//! The operator's console over a real SQLite queue: pages, links under every kind of mount,
//! keyset pages, the confirmed actions and their guards, hostile parameters.

use std::collections::{BTreeSet, VecDeque};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use djrs_tasks::axum::Access;
use djrs_tasks::{
    QueueLimit, SqliteBackend, Task, TaskContext, TaskResultStatus, Tasks, Worker, task,
};
use tower::ServiceExt;

#[task(takes_context, max_attempts = 1)]
async fn fails_with(ctx: TaskContext, message: String) -> Result<(), String> {
    ctx.set_metadata("note", &message)
        .map_err(|e| e.to_string())?;
    Err(message)
}

#[task]
async fn succeeds() {}

#[task(queue_name = "emails")]
async fn mail(n: u32) -> u32 {
    n
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

/// Sends a request as a staff member (`x-role: staff` may read, `admin` may act).
async fn send(app: &Router, request: axum::http::request::Builder, body: String) -> Reply {
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

async fn get(app: &Router, uri: &str) -> Reply {
    send(
        app,
        Request::get(uri).header("x-role", "admin"),
        String::new(),
    )
    .await
}

async fn post(app: &Router, uri: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-role", "admin");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    send(app, request, body).await
}

fn authorize(parts: &axum::http::request::Parts, access: Access) -> bool {
    let role = parts.headers.get("x-role").and_then(|v| v.to_str().ok());
    match access {
        Access::Read => matches!(role, Some("staff" | "admin")),
        _ => role == Some("admin"),
    }
}

fn sqlite_tasks(dir: &tempfile::TempDir) -> Tasks {
    Tasks::builder()
        .backend(
            "default",
            SqliteBackend::open(dir.path().join("console.sqlite3")).unwrap(),
        )
        .queues("default", ["default", "emails"])
        .build()
        .unwrap()
}

fn app_at(tasks: &Tasks, prefix: &str) -> Router {
    djrs_tasks::axum::mount(Router::new(), prefix, djrs_tasks::axum::console(authorize))
        .with_state(tasks.clone())
}

/// Every `href`, `src` and form `action` in a page, unescaped, with the method of each form.
fn targets(html: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (marker, method) in [("href=\"", "GET"), ("src=\"", "GET"), ("action=\"", "FORM")] {
        for rest in html.split(marker).skip(1) {
            let Some(target) = rest.split('"').next() else {
                continue;
            };
            let method = if method == "FORM" {
                // The method is written before the action in every form.
                let start = html.find(&format!("{marker}{target}\"")).unwrap_or(0);
                let form = html[..start].rsplit("<form").next().unwrap_or("");
                if form.contains("method=\"post\"") {
                    "POST"
                } else {
                    "GET"
                }
            } else {
                method
            };
            found.push((method.to_owned(), target.replace("&amp;", "&")));
        }
    }
    found
}

/// The value of the hidden or visible input `name` in a page.
fn input<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    html.split(&format!("name=\"{name}\" value=\""))
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect()
}

#[tokio::test]
async fn the_console_shows_queues_lists_and_a_task_page_escaped_under_a_strict_policy() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = sqlite_tasks(&dir);
    let failed = fails_with
        .enqueue(&tasks, "<script>bad</script>".into())
        .await
        .unwrap();
    succeeds.enqueue(&tasks).await.unwrap();
    mail.enqueue(&tasks, 7).await.unwrap();
    Worker::new(&tasks)
        .queues(["default", "emails"])
        .worker_id("w-console")
        .run_until_idle()
        .await
        .unwrap();
    let waiting = succeeds.enqueue(&tasks).await.unwrap();
    tasks.pause("emails").await.unwrap();
    tasks
        .set_queue_limit("default", QueueLimit::AtMost(3))
        .await
        .unwrap();
    let app = app_at(&tasks, "/admin/tasks");

    // Read-only staff may look; nobody else.
    let anonymous = send(&app, Request::get("/admin/tasks"), String::new()).await;
    assert_eq!(anonymous.status, StatusCode::FORBIDDEN);
    let staff = send(
        &app,
        Request::get("/admin/tasks").header("x-role", "staff"),
        String::new(),
    )
    .await;
    assert_eq!(staff.status, StatusCode::OK);

    let overview = get(&app, "/admin/tasks").await;
    assert_eq!(overview.status, StatusCode::OK);
    let html = &overview.body;
    // Counts per queue and status, linked to the filtered list.
    assert!(
        html.contains("href=\"/admin/tasks/list?queue_name=default&amp;status=FAILED\">1</a>"),
        "{html}"
    );
    assert!(html.contains("href=\"/admin/tasks/list?queue_name=default&amp;status=READY\">1</a>"));
    assert!(
        html.contains("href=\"/admin/tasks/list?queue_name=emails&amp;status=SUCCESSFUL\">1</a>")
    );
    // The queue's state: emails paused, default limited to 3; throughput and failure rate over
    // the window: default finished 2 (one failed: 50 %), emails 1.
    let default_row = html
        .split("<tr>")
        .find(|r| r.contains("queue_name=default\">default"))
        .unwrap();
    assert!(
        default_row.contains("<td class=\"num\">3</td>"),
        "{default_row}"
    );
    assert!(
        default_row.contains("<td class=\"num\">0.4</td><td class=\"num\">50.0 %</td>"),
        "{default_row}"
    );
    let emails_row = html
        .split("<tr>")
        .find(|r| r.contains("queue_name=emails\">emails"))
        .unwrap();
    assert!(
        emails_row.contains("paused") && emails_row.contains("value=\"resume\""),
        "{emails_row}"
    );
    assert!(
        emails_row.contains("<td class=\"num\">0.0 %</td>"),
        "{emails_row}"
    );
    // The worker said it was alive, and that it stopped.
    assert!(html.contains("No worker was seen"), "{html}");
    // The page refreshes itself with htmx, served by the console, under a strict policy whose
    // nonce is the script's.
    let csp = overview.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(nonce.len() >= 22, "{csp}");
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("form-action 'self'")
            && csp.contains("frame-ancestors 'none'")
    );
    for script in ["htmx.min.js", "console.js"] {
        assert!(html.contains(&format!(
            "<script nonce=\"{nonce}\" src=\"/admin/tasks/static/{script}\""
        )));
    }
    assert!(html.contains("hx-trigger=\"every 2s\""));
    assert!(
        !html.contains(" style=") && !html.contains("<style"),
        "no inline style"
    );
    assert_eq!(overview.headers[header::CACHE_CONTROL], "no-store");
    let second = get(&app, "/admin/tasks").await;
    assert_ne!(
        second.headers[header::CONTENT_SECURITY_POLICY],
        overview.headers[header::CONTENT_SECURITY_POLICY]
    );
    let js = get(&app, "/admin/tasks/static/htmx.min.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(
        js.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.body.contains("htmx"));
    let own = get(&app, "/admin/tasks/static/console.js").await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(
        own.headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(own.body.contains("htmx:beforeSwap"));

    // The failed task's page: arguments, metadata, error and traceback, all escaped.
    let page = get(&app, &format!("/admin/tasks/task/{}", failed.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.body;
    assert!(html.contains("&lt;script&gt;bad&lt;/script&gt;") && !html.contains("<script>bad"));
    assert!(
        html.contains("&quot;note&quot;: &quot;&lt;script&gt;bad"),
        "{html}"
    );
    assert!(
        html.contains("<td class=\"mono\">w-console</td>"),
        "the attempt's worker: {html}"
    );
    assert!(html.contains("value=\"retry\"") && html.contains("value=\"delete\""));
    assert!(
        !html.contains("value=\"cancel\""),
        "a failed task cannot be cancelled"
    );
    let ready = get(&app, &format!("/admin/tasks/task/{}", waiting.id)).await;
    assert!(ready.body.contains("value=\"cancel\"") && !ready.body.contains("value=\"retry\""));

    // JSON.
    let activity: serde_json::Value =
        serde_json::from_str(&get(&app, "/admin/tasks/api/activity").await.body).unwrap();
    assert_eq!(activity["queues"][0]["queue_name"], "default");
    assert_eq!(activity["queues"][0]["failed"], 1);
    assert_eq!(activity["queues"][0]["succeeded"], 1);
    let list: Vec<serde_json::Value> = serde_json::from_str(
        &get(&app, "/admin/tasks/api/results?status=FAILED")
            .await
            .body,
    )
    .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], failed.id.as_str());
    assert_eq!(
        get(&app, "/admin/tasks/api/results/nope").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/admin/tasks/task/nope").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn every_link_and_form_works_under_every_mount() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = sqlite_tasks(&dir);
    let failed = fails_with.enqueue(&tasks, "broken".into()).await.unwrap();
    let ok = succeeds.enqueue(&tasks).await.unwrap();
    mail.enqueue(&tasks, 1).await.unwrap();
    Worker::new(&tasks)
        .queues(["default", "emails"])
        .run_until_idle()
        .await
        .unwrap();
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    succeeds
        .using()
        .run_after(tomorrow)
        .enqueue(&tasks)
        .await
        .unwrap();
    for n in 0..60 {
        mail.enqueue(&tasks, n).await.unwrap();
    }
    let console = || djrs_tasks::axum::console(authorize);
    let mounts = [
        ("/admin/tasks", app_at(&tasks, "/admin/tasks")),
        ("/tasks", app_at(&tasks, "/tasks/")),
        (
            "/admin/tasks",
            Router::new()
                .nest("/admin", Router::new().nest("/tasks", console()))
                .with_state(tasks.clone()),
        ),
        (
            "/ops/tasks",
            Router::new().nest_service("/ops/tasks", console().with_state(tasks.clone())),
        ),
        ("", app_at(&tasks, "")),
    ];
    for (n, (prefix, app)) in mounts.into_iter().enumerate() {
        let nested_plainly = n == 2;
        let home = if prefix.is_empty() {
            "/".to_owned()
        } else {
            prefix.to_owned()
        };
        // With and without the trailing slash: the page, or the way to it.
        let slashed = get(&app, &format!("{prefix}/?status=FAILED")).await;
        match slashed.status {
            // The list's filters given to the console's own address lead to the list.
            StatusCode::SEE_OTHER => assert_eq!(
                slashed.headers[header::LOCATION],
                format!("{prefix}/list?status=FAILED").as_str()
            ),
            StatusCode::PERMANENT_REDIRECT => assert_eq!(
                slashed.headers[header::LOCATION],
                format!("{prefix}?status=FAILED").as_str()
            ),
            // A plain `nest` inside another router serves only the prefix (axum's rule,
            // tokio-rs/axum#2659); `mount` and `nest_service` answer both.
            StatusCode::NOT_FOUND if nested_plainly => {}
            other => panic!("{prefix}/ answered {other}"),
        }
        // Follow every link and GET form from the overview, breadth first.
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([home.clone()]);
        let mut posts = BTreeSet::new();
        while let Some(uri) = queue.pop_front() {
            if !seen.insert(uri.clone()) || seen.len() > 80 {
                continue;
            }
            let reply = get(&app, &uri).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{prefix}: {uri}: {}",
                reply.body
            );
            if !reply.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
            {
                continue;
            }
            if uri.contains("status=FAILED") && !uri.contains("emails") {
                assert!(
                    reply.body.contains(failed.id.as_str()),
                    "{uri} lists the failed task"
                );
                assert!(!reply.body.contains(ok.id.as_str()), "{uri} is filtered");
            }
            for (method, target) in targets(&reply.body) {
                assert!(
                    target.starts_with(&format!("{prefix}/")) || target == home,
                    "{prefix}: {uri} points outside the console: {target}"
                );
                if method == "POST" {
                    posts.insert(target);
                } else {
                    queue.push_back(target);
                }
            }
        }
        // Every kind of page was reached: the overview, filtered lists, an older page, task
        // pages, the stylesheet and the script.
        for part in [
            "/list?queue_name=emails",
            "before=",
            "/task/",
            "console.css",
            "htmx.min.js",
        ] {
            assert!(
                seen.iter().any(|uri| uri.contains(part)),
                "{prefix}: nothing links to {part}: {seen:?}"
            );
        }
        assert_eq!(
            posts,
            BTreeSet::from([format!("{prefix}/actions")]),
            "{prefix}"
        );
    }
}

#[tokio::test]
async fn lists_page_by_key_newest_first_and_find_a_task_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = sqlite_tasks(&dir);
    let mut ids = Vec::new();
    for n in 0..120 {
        ids.push(mail.enqueue(&tasks, n).await.unwrap().id);
    }
    let other = succeeds.enqueue(&tasks).await.unwrap();
    let app = app_at(&tasks, "/t");

    let mut listed = Vec::new();
    let mut uri = "/t/list?queue_name=emails&per_page=50".to_owned();
    let mut pages = 0;
    loop {
        let page = get(&app, &uri).await;
        assert_eq!(page.status, StatusCode::OK);
        pages += 1;
        listed.extend(input(&page.body, "page").into_iter().map(str::to_owned));
        // The pager's "Older" link (the refresh link keeps this page's key too).
        let Some(next) = page
            .body
            .split("\" rel=\"next\"")
            .next()
            .filter(|_| page.body.contains("rel=\"next\""))
            .and_then(|before| before.rsplit("href=\"").next())
            .map(|href| href.replace("&amp;", "&"))
        else {
            break;
        };
        assert!(pages < 5, "the pages end");
        assert!(
            next.contains("queue_name=emails") && next.contains("per_page=50"),
            "{next}"
        );
        uri = next;
    }
    assert_eq!(pages, 3);
    let mut expected: Vec<String> = ids.iter().map(ToString::to_string).collect();
    expected.reverse();
    assert_eq!(listed, expected, "every task once, newest first");
    assert!(!listed.contains(&other.id.to_string()));

    // By task name and time.
    let by_name = get(&app, &format!("/t/list?task_name={}", succeeds.name())).await;
    assert_eq!(input(&by_name.body, "page"), [other.id.as_str()]);
    let future = get(&app, "/t/list?since=2999-01-01T00:00").await;
    assert!(future.body.contains("No task matches."));
    let past = get(&app, "/t/list?until=2000-01-01T00:00").await;
    assert!(past.body.contains("No task matches."));
    let all_since = get(&app, "/t/list?since=2000-01-01T00:00&per_page=200").await;
    assert_eq!(input(&all_since.body, "page").len(), 121);

    // Search by id: straight to the task; an unknown id says so.
    let found = get(&app, &format!("/t/list?q=+{}+", other.id)).await;
    assert_eq!(found.status, StatusCode::SEE_OTHER);
    assert_eq!(
        found.headers[header::LOCATION],
        format!("/t/task/{}", other.id).as_str()
    );
    let missing = get(&app, "/t/list?q=%3Cb%3Enope").await;
    assert_eq!(missing.status, StatusCode::OK);
    assert!(
        missing
            .body
            .contains("No task has the id <code>&lt;b&gt;nope</code>"),
        "{}",
        missing.body
    );
}

#[tokio::test]
async fn actions_are_confirmed_done_and_refused_from_other_sites() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = sqlite_tasks(&dir);
    let backend = tasks.backend("default").unwrap();
    let failed = fails_with.enqueue(&tasks, "x".into()).await.unwrap();
    let failed_too = fails_with.enqueue(&tasks, "y".into()).await.unwrap();
    Worker::new(&tasks).run_until_idle().await.unwrap();
    let app = app_at(&tasks, "/t");
    let back = "/t/list?status=FAILED";
    let retry = [
        ("action", "retry"),
        ("ids", failed.id.as_str()),
        ("back", back),
    ];

    // Another site's form, or an Origin that is not this host, acts on nothing.
    for headers in [
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "http://evil.test"), ("host", "app.test")],
    ] {
        let refused = post(
            &app,
            "/t/actions",
            &[&retry[..], &[("confirm", "yes")]].concat(),
            headers,
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{headers:?}");
    }
    // Staff may read but not act.
    let staff = send(
        &app,
        Request::post("/t/actions").header("x-role", "staff"),
        "action=retry&confirm=yes".to_owned(),
    )
    .await;
    assert_eq!(staff.status, StatusCode::FORBIDDEN);
    assert_eq!(
        backend.get_result(&failed.id).await.unwrap().status,
        TaskResultStatus::Failed
    );

    // The first POST asks; nothing changes until the confirmation comes back.
    let same_site = [("sec-fetch-site", "same-origin")];
    let asked = post(&app, "/t/actions", &retry, &same_site).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        asked.body.contains("Retry 1 failed task?"),
        "{}",
        asked.body
    );
    assert_eq!(input(&asked.body, "confirm"), ["yes"]);
    assert_eq!(input(&asked.body, "ids"), [failed.id.as_str()]);
    assert_eq!(
        backend.get_result(&failed.id).await.unwrap().status,
        TaskResultStatus::Failed
    );
    // Confirmed with what the page holds: done, and back where the operator was.
    let mut confirmed: Vec<(&str, &str)> = Vec::new();
    for name in ["action", "back", "queue", "limit", "ids", "confirm"] {
        for value in input(&asked.body, name) {
            confirmed.push((name, value));
        }
    }
    let confirmed: Vec<(String, String)> = confirmed
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.replace("&amp;", "&")))
        .collect();
    let confirmed: Vec<(&str, &str)> = confirmed
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let done = post(
        &app,
        "/t/actions",
        &confirmed,
        &[("origin", "http://app.test"), ("host", "app.test")],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let location = done.headers[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(location, "/t/list?status=FAILED&done=retry&n=1&of=1");
    assert!(
        get(&app, &location)
            .await
            .body
            .contains("Retried 1 of 1 tasks.")
    );
    let retried = backend.get_result(&failed.id).await.unwrap();
    assert_eq!(
        (retried.status, retried.max_attempts),
        (TaskResultStatus::Ready, 2)
    );

    // Bulk: every task on the page, whatever is ticked; a READY one is cancelled, a FAILED one
    // is not retried twice.
    let bulk = post(
        &app,
        "/t/actions",
        &[
            ("action", "cancel"),
            ("scope", "page"),
            ("page", failed.id.as_str()),
            ("page", failed_too.id.as_str()),
            ("confirm", "yes"),
        ],
        &[],
    )
    .await;
    assert_eq!(bulk.status, StatusCode::SEE_OTHER);
    assert_eq!(bulk.headers[header::LOCATION], "/t?done=cancel&n=1&of=2");
    let cancelled = backend.get_result(&failed.id).await.unwrap();
    assert_eq!(cancelled.status, TaskResultStatus::Failed);
    assert_eq!(
        cancelled.errors.last().unwrap().exception_class_path,
        "djrs_tasks::Cancelled"
    );

    // Run now, delete, pause, resume, limit.
    let later = succeeds
        .using()
        .run_after(chrono::Utc::now() + chrono::Duration::days(1))
        .enqueue(&tasks)
        .await
        .unwrap();
    let run_now = post(
        &app,
        "/t/actions",
        &[
            ("action", "run_now"),
            ("ids", later.id.as_str()),
            ("confirm", "yes"),
        ],
        &[],
    )
    .await;
    assert_eq!(
        run_now.headers[header::LOCATION],
        "/t?done=run_now&n=1&of=1"
    );
    assert!(
        backend
            .get_result(&later.id)
            .await
            .unwrap()
            .run_after
            .unwrap()
            <= chrono::Utc::now()
    );
    let delete = post(
        &app,
        "/t/actions",
        &[
            ("action", "delete"),
            ("ids", failed_too.id.as_str()),
            ("confirm", "yes"),
        ],
        &[],
    )
    .await;
    assert_eq!(delete.headers[header::LOCATION], "/t?done=delete&n=1&of=1");
    assert!(backend.get_result(&failed_too.id).await.is_err());
    for (action, limit) in [("pause", ""), ("limit", "4")] {
        let reply = post(
            &app,
            "/t/actions",
            &[
                ("action", action),
                ("queue", "emails"),
                ("limit", limit),
                ("confirm", "yes"),
            ],
            &[],
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "{action}: {}",
            reply.body
        );
    }
    assert_eq!(tasks.paused_queues().await.unwrap(), ["emails"]);
    assert_eq!(tasks.queue_limits().await.unwrap().get("emails"), Some(&4));
    post(
        &app,
        "/t/actions",
        &[
            ("action", "resume"),
            ("queue", "emails"),
            ("confirm", "yes"),
        ],
        &[],
    )
    .await;
    post(
        &app,
        "/t/actions",
        &[
            ("action", "limit"),
            ("queue", "emails"),
            ("limit", ""),
            ("confirm", "yes"),
        ],
        &[],
    )
    .await;
    assert!(tasks.paused_queues().await.unwrap().is_empty());
    assert!(tasks.queue_limits().await.unwrap().is_empty());
    // A `back` outside the console is not followed.
    let away = post(
        &app,
        "/t/actions",
        &[
            ("action", "pause"),
            ("queue", "q"),
            ("back", "https://evil.test/"),
            ("confirm", "yes"),
        ],
        &[],
    )
    .await;
    assert_eq!(away.headers[header::LOCATION], "/t?done=pause&n=1&of=1");
}

#[tokio::test]
async fn hostile_parameters_get_a_clear_escaped_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = sqlite_tasks(&dir);
    succeeds.enqueue(&tasks).await.unwrap();
    let app = app_at(&tasks, "/t");
    let long = "x".repeat(256);
    for (uri, expected) in [
        (
            "/t/list?status=%3Cscript%3E",
            "The status &quot;&lt;script&gt;&quot; is none of READY",
        ),
        ("/t/list?since=yesterday%3Cb%3E", "is not a time like"),
        (
            "/t/list?per_page=0",
            "per_page must be a number from 1 to 200",
        ),
        ("/t/list?per_page=99999999999", "per_page must be a number"),
        ("/t/list?task_name=a%00b", "without NUL"),
        ("/t/task/a%00b", "without NUL"),
        (
            &format!("/t/list?queue_name={long}"),
            "at most 255 characters",
        ),
        ("/t/api/results?status=BOGUS", "none of READY"),
    ] {
        let reply = get(&app, uri).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{uri}: {}",
            reply.body
        );
        assert!(reply.body.contains(expected), "{uri}: {}", reply.body);
        assert!(
            !reply.body.contains("<script>") && !reply.body.contains("<b>"),
            "{uri}"
        );
        assert_eq!(
            reply.headers[header::CONTENT_SECURITY_POLICY],
            "default-src 'none'"
        );
    }
    let ids: Vec<(&str, String)> = (0..501).map(|n| ("ids", format!("id-{n}"))).collect();
    let mut too_many: Vec<(&str, &str)> = ids.iter().map(|(k, v)| (*k, v.as_str())).collect();
    too_many.push(("action", "delete"));
    for (form, expected) in [
        (vec![("action", "drop")], "Unknown or missing action."),
        (vec![("action", "retry")], "No task was selected."),
        (vec![("action", "pause")], "Which queue?"),
        (
            vec![("action", "limit"), ("queue", "q"), ("limit", "-1")],
            "A limit is a number",
        ),
        (too_many, "At most 500 tasks at once."),
    ] {
        let reply = post(&app, "/t/actions", &form, &[]).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{expected}");
        assert!(
            reply.body.contains(&expected.replace('"', "&quot;")),
            "{}",
            reply.body
        );
    }
}
