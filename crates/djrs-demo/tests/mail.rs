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

/// The Message-ID header of an accepted message (the server's JSON holds the data in base64).
fn message_id(message: &serde_json::Value) -> String {
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD
        .decode(message["data"].as_str().unwrap())
        .unwrap();
    let text = String::from_utf8_lossy(&data);
    text.lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .expect("a Message-ID header")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn a_retried_welcome_task_sends_its_mail_once() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!(
        "sqlite://{}",
        dir.path().join("retry.sqlite3").display()
    ))
    .await
    .unwrap();
    let mailer = jobs::mailer(Some(&format!("smtp://127.0.0.1:{}", server.port))).unwrap();

    // The first attempt sends and records; a retry of the same task (its worker died after
    // the send, say) finds the delivery recorded and does not send again.
    let first = jobs::deliver_welcome(&db, &mailer, "task-1", "Ada", "ada@example.com", 1)
        .await
        .unwrap();
    let again = jobs::deliver_welcome(&db, &mailer, "task-1", "Ada", "ada@example.com", 2)
        .await
        .unwrap();
    assert_eq!(first, again, "one outbox row");
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(message_id(&messages[0]), jobs::welcome_message_id("task-1"));

    // An attempt that recorded its intent and died before marking the mail sent: the retry
    // sends (at least once), under the same Message-ID.
    db.begin_delivery("task-2", &jobs::welcome_message_id("task-2"))
        .await
        .unwrap();
    jobs::deliver_welcome(&db, &mailer, "task-2", "Bob", "bob@example.com", 2)
        .await
        .unwrap();
    let messages = server.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(message_id(&messages[1]), "<welcome.task-2@djrs.invalid>");
}

/// A `djrs-demo worker` process sending over SMTP; killed (SIGKILL) and reaped when dropped.
struct WorkerProcess(Child);

impl WorkerProcess {
    fn start(database_url: &str, smtp_url: &str) -> WorkerProcess {
        let child = Command::new(env!("CARGO_BIN_EXE_djrs-demo"))
            .args([
                "worker",
                "--database-url",
                database_url,
                "--smtp-url",
                smtp_url,
                "--lease",
                "1",
                "--concurrency",
                "8",
            ])
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start djrs-demo worker");
        WorkerProcess(child)
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_send_every_welcome_at_least_once_under_one_message_id() {
    const TASKS: usize = 200;
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("kill.sqlite3").display());
    let smtp = format!("smtp://127.0.0.1:{}", server.port);
    let db = Db::connect(&url).await.unwrap();
    let tasks = djrs_demo::tasks_for(&db).unwrap();
    let mut ids = std::collections::HashMap::new();
    for i in 0..TASKS {
        let result = jobs::send_welcome_message
            .enqueue(&tasks, format!("user {i}"), format!("user{i}@example.com"))
            .await
            .unwrap();
        ids.insert(format!("user{i}@example.com"), result.id.clone());
    }
    let started = Instant::now();
    let limit = Duration::from_secs(120);
    let survivor = WorkerProcess::start(&url, &smtp);
    // Kill workers mid-run, three times, each time starting a fresh one.
    for round in 0..3 {
        let doomed = WorkerProcess::start(&url, &smtp);
        let target = (round + 1) * TASKS / 5;
        while server.messages().len() < target {
            assert!(started.elapsed() < limit, "mail stopped arriving");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(doomed); // SIGKILL, with sends in flight
    }
    loop {
        let done = db.outbox(TASKS as i64 + 10).await.unwrap().len();
        if done == TASKS {
            break;
        }
        assert!(
            started.elapsed() < limit,
            "{done} of {TASKS} welcome tasks finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(survivor);

    // Every recipient got its mail; every copy of one recipient's mail carries the task's
    // Message-ID, so copies are recognisable as one message.
    let mut by_recipient: std::collections::HashMap<String, Vec<String>> = Default::default();
    for message in server.messages() {
        let to = message["rcpt_tos"][0].as_str().unwrap().to_owned();
        by_recipient
            .entry(to)
            .or_default()
            .push(message_id(&message));
    }
    assert_eq!(by_recipient.len(), TASKS);
    let mut copies = 0;
    for (recipient, message_ids) in &by_recipient {
        let expected = jobs::welcome_message_id(&ids[recipient]);
        assert!(
            message_ids.iter().all(|id| *id == expected),
            "{recipient}: {message_ids:?}"
        );
        copies += message_ids.len() - 1;
    }
    println!("{copies} copies of {TASKS} mails, each under its task's Message-ID");
}
