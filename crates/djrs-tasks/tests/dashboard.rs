//! The dashboard router over a real SQLite queue.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use djrs_tasks::{SqliteBackend, TaskContext, Tasks, Worker, task};
use tower::ServiceExt;

#[task(takes_context, max_attempts = 1)]
async fn fails_with(ctx: TaskContext, message: String) -> Result<(), String> {
    ctx.set_metadata("note", &message)
        .map_err(|e| e.to_string())?;
    Err(message)
}

#[task]
async fn succeeds() {}

async fn get(app: &Router, uri: &str, staff: bool) -> (StatusCode, String) {
    let mut request = Request::get(uri);
    if staff {
        request = request.header("x-staff", "1");
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn dashboard_shows_counts_results_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = Tasks::builder()
        .backend(
            "default",
            SqliteBackend::open(dir.path().join("d.sqlite3")).unwrap(),
        )
        .build()
        .unwrap();
    let failed = fails_with
        .enqueue(&tasks, "<script>bad</script>".into())
        .await
        .unwrap();
    succeeds.enqueue(&tasks).await.unwrap();
    Worker::new(&tasks).run_until_idle().await.unwrap();
    succeeds.enqueue(&tasks).await.unwrap();

    let app: Router = Router::new()
        .nest(
            "/tasks",
            djrs_tasks::axum::dashboard(|parts| parts.headers.contains_key("x-staff")),
        )
        .with_state(tasks);

    assert_eq!(get(&app, "/tasks", false).await.0, StatusCode::FORBIDDEN);
    let (status, html) = get(&app, "/tasks", true).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("FAILED") && html.contains("SUCCESSFUL") && html.contains("READY"));
    assert!(
        html.contains(&format!("href=\"/tasks/results/{}\"", failed.id)),
        "{html}"
    );

    let (_, counts) = get(&app, "/tasks/api/counts", true).await;
    let counts: serde_json::Value = serde_json::from_str(&counts).unwrap();
    assert_eq!(
        counts["rows"],
        serde_json::json!([
            ["default", "FAILED", 1],
            ["default", "READY", 1],
            ["default", "SUCCESSFUL", 1]
        ])
    );

    let (_, list) = get(&app, "/tasks/api/results?status=FAILED&limit=10", true).await;
    let list: Vec<serde_json::Value> = serde_json::from_str(&list).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], failed.id.as_str());

    let (status, detail) = get(&app, &format!("/tasks/results/{}", failed.id), true).await;
    assert_eq!(status, StatusCode::OK);
    assert!(detail.contains("&lt;script&gt;bad&lt;/script&gt;") && !detail.contains("<script>bad"));
    // The metadata the task recorded, escaped as the rest.
    assert!(
        detail.contains("<dt>metadata</dt><dd><code>{&quot;note&quot;:&quot;&lt;script&gt;bad"),
        "{detail}"
    );
    assert_eq!(
        get(&app, "/tasks/api/results/nope", true).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/tasks/api/counts?backend=nope", true).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&app, "/tasks/api/results?status=BOGUS", true).await.0,
        StatusCode::BAD_REQUEST
    );
}

/// Every `href` in a page.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|link| link.replace("&amp;", "&"))
        .collect()
}

#[tokio::test]
async fn every_link_works_under_a_prefix_with_or_without_a_trailing_slash() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = Tasks::builder()
        .backend(
            "default",
            SqliteBackend::open(dir.path().join("d.sqlite3")).unwrap(),
        )
        .build()
        .unwrap();
    let failed = fails_with.enqueue(&tasks, "broken".into()).await.unwrap();
    let ok = succeeds.enqueue(&tasks).await.unwrap();
    Worker::new(&tasks).run_until_idle().await.unwrap();
    let dashboard = || djrs_tasks::axum::dashboard(|parts| parts.headers.contains_key("x-staff"));
    for (prefix, app) in [
        (
            "/tasks",
            Router::new()
                .nest("/tasks", dashboard())
                .with_state(tasks.clone()),
        ),
        (
            "/admin/tasks",
            Router::new()
                .nest("/admin/tasks", dashboard())
                .with_state(tasks.clone()),
        ),
        (
            "/admin/tasks",
            Router::new()
                .nest("/admin", Router::new().nest("/tasks", dashboard()))
                .with_state(tasks.clone()),
        ),
        // `nest_service` also serves the mount point with a trailing slash.
        (
            "/ops/tasks",
            Router::new().nest_service("/ops/tasks", dashboard().with_state(tasks.clone())),
        ),
    ] {
        // axum's `nest` serves `/tasks` but never `/tasks/` (tokio-rs/axum#2659); links never
        // add the slash, and `nest_service` answers both.
        let spellings = if prefix == "/ops/tasks" {
            vec![prefix.to_owned(), format!("{prefix}/")]
        } else {
            assert_eq!(
                get(&app, &format!("{prefix}/"), true).await.0,
                StatusCode::NOT_FOUND
            );
            vec![prefix.to_owned()]
        };
        for index in spellings {
            let (status, html) = get(&app, &index, true).await;
            assert_eq!(status, StatusCode::OK, "{index}");
            let found = links(&html);
            assert!(found.len() >= 3, "{index}: {found:?}");
            for link in found {
                assert!(link.starts_with(prefix), "{index}: {link}");
                let (status, page) = get(&app, &link, true).await;
                assert_eq!(status, StatusCode::OK, "{index} links to {link}");
                if link.contains("status=FAILED") {
                    assert!(
                        page.contains(failed.id.as_str()),
                        "{link} lists the failed task"
                    );
                    assert!(!page.contains(ok.id.as_str()), "{link} is filtered");
                }
            }
            // The filter holds on every spelling the mount serves.
            for filtered in [format!("{index}?status=FAILED")] {
                let (status, page) = get(&app, &filtered, true).await;
                assert_eq!(status, StatusCode::OK, "{filtered}");
                assert!(page.contains(failed.id.as_str()), "{filtered}");
                assert!(!page.contains(ok.id.as_str()), "{filtered}");
            }
        }
    }
}
