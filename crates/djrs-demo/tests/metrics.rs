//! `GET /metrics` on the served showcase: after its in-process worker ran a task, the page
//! shows the task counters in Prometheus' text format. One test: the recorder is the process's.

use std::time::{Duration, Instant};

use djrs::paginate::CursorKey;
use djrs::tasks::TaskResultStatus;
use djrs_demo::{AppState, Db, jobs};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The body of `GET path` on `addr`.
async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a response head");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

/// The value of the one sample of `metric` whose labels hold `label`.
fn sample(page: &str, metric: &str, label: &str) -> Option<f64> {
    page.lines()
        .filter(|line| line.starts_with(&format!("{metric}{{")) && line.contains(label))
        .map(|line| {
            line.rsplit_once(' ')
                .and_then(|(_, v)| v.parse().ok())
                .unwrap()
        })
        .next()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_shows_the_task_counters_once_a_task_ran() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("metrics.sqlite3").display());
    let db = Db::connect(&url).await.unwrap();
    let tasks = djrs_demo::tasks_for(&db).unwrap();
    let state = AppState::with_tasks(db, CursorKey::random(), tasks.clone()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(djrs_demo::serve(listener, state, async {
        let _ = stopped.await;
    }));

    // Served before any task ran: no task counter yet.
    let before = get(addr, "/metrics").await;
    assert!(!before.contains("djrs_tasks_succeeded_total"), "{before}");

    let enqueued = jobs::generate_report.enqueue(&tasks, 0).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while tasks.get_result(&enqueued.id).await.unwrap().status != TaskResultStatus::Successful {
        assert!(
            Instant::now() < deadline,
            "the report task did not finish within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The worker counts the success once the store has recorded it; give it a moment.
    let task = format!("task=\"{}\"", enqueued.task_name);
    let mut page = get(addr, "/metrics").await;
    while sample(&page, "djrs_tasks_succeeded_total", &task).is_none() && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
        page = get(addr, "/metrics").await;
    }
    assert_eq!(
        sample(&page, "djrs_tasks_succeeded_total", &task),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        sample(&page, "djrs_tasks_enqueued_total", &task),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        sample(&page, "djrs_tasks_started_total", &task),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        sample(&page, "djrs_tasks_failed_total", &task),
        Some(0.0),
        "{page}"
    );
    assert!(
        page.contains("# TYPE djrs_tasks_succeeded_total counter"),
        "{page}"
    );
    assert!(
        page.contains("# TYPE djrs_tasks_run_seconds summary"),
        "{page}"
    );

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
