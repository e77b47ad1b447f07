//! The welcome mail: built with djrs-mail, sent by the background task over real SMTP (aiosmtpd,
//! installed by `cargo xtask services`), recorded in the outbox; a name that would inject a
//! header is refused by the form.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use djrs::paginate::CursorKey;
use djrs::tasks::Worker;
use djrs_demo::{AppState, Db, jobs};
use tower::ServiceExt as _;

struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        let python = target.join("smtp-venv/bin/python");
        assert!(
            python.exists(),
            "the SMTP test server is missing ({}): run `cargo xtask services`",
            python.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../djrs-mail/tests/smtp_server.py"
            ))
            .arg("--outdir")
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().strip_prefix("PORT ").unwrap().parse().unwrap();
        Server { child, port, dir }
    }

    fn messages(&self) -> Vec<serde_json::Value> {
        let mut paths: Vec<_> = std::fs::read_dir(self.dir.path().join("messages"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_welcome_mail_goes_out_over_smtp() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!(
        "sqlite://{}",
        dir.path().join("mail.sqlite3").display()
    ))
    .await
    .unwrap();
    let mailer = jobs::mailer(Some(&format!("smtp://127.0.0.1:{}", server.port))).unwrap();
    let tasks = djrs_demo::tasks_with_mailer(&db, mailer).unwrap();
    jobs::send_welcome_message
        .enqueue(&tasks, "Ada <b>".to_owned(), "ada@example.com".to_owned())
        .await
        .unwrap();
    let started = Instant::now();
    while server.messages().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no mail arrived"
        );
        Worker::new(&tasks).run_until_idle().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let message = &server.messages()[0];
    assert_eq!(message["mail_from"], "hello@djrs.invalid");
    assert_eq!(message["rcpt_tos"], serde_json::json!(["ada@example.com"]));
    let outbox = db.outbox(10).await.unwrap();
    assert_eq!(outbox[0].subject, "Welcome to djrs, Ada <b>!");
    assert_eq!(outbox[0].recipient, "ada@example.com");
}

#[tokio::test]
async fn a_name_that_would_inject_a_header_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!(
        "sqlite://{}",
        dir.path().join("form.sqlite3").display()
    ))
    .await
    .unwrap();
    let app = djrs_demo::app(AppState::new(db, CursorKey::new(b"mail")).unwrap());
    for form in [
        "name=Ada%0ABcc%3A+victim%40example.com&email=ada%40example.com",
        "name=Ada&email=not+an%40address%40example.com",
    ] {
        let request = Request::post("/welcome")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{form}");
    }
}
