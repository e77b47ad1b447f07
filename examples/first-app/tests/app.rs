//! The first app, run as its own process on the real SQLite and PostgreSQL: every battery
//! through HTTP, then SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use djrs_test_support::PgDatabase;

struct App {
    child: Child,
    addr: String,
}

impl App {
    fn start(database_url: &str, mail_dir: &std::path::Path) -> App {
        let mut child = Command::new(env!("CARGO_BIN_EXE_first-app"))
            .env("DATABASE_URL", database_url)
            .env("BIND", "127.0.0.1:0")
            .env("MAIL_DIR", mail_dir)
            .env("CONSOLE_TOKEN", "s3cret-token")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(addr.to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the app printed its address within 60 s");
        App { child, addr }
    }

    /// One request on a fresh connection: (status, head, body).
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &str,
        body: &str,
    ) -> (u16, String, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let raw = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        stream.write_all(raw.as_bytes()).unwrap();
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let response = String::from_utf8_lossy(&response).into_owned();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, head.to_owned(), body.to_owned())
    }

    fn get(&self, path: &str) -> (u16, String, String) {
        self.request("GET", path, "", "")
    }

    fn add_product(&self, name: &str, price: i64) -> (u16, String) {
        let body = format!("name={}&price_cents={price}", name.replace(' ', "+"));
        let (status, head, _) = self.request(
            "POST",
            "/products",
            "Content-Type: application/x-www-form-urlencoded\r\n",
            &body,
        );
        (status, head)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of header `name` (any case) in a response head.
fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(": ")?;
        key.eq_ignore_ascii_case(name).then_some(value)
    })
}

fn tour(database_url: &str) {
    let mail_dir = tempfile::tempdir().unwrap();
    let mut app = App::start(database_url, mail_dir.path());

    // A product saved as a Record: the key and the generated slug come back.
    let (status, head) = app.add_product("Blue Mug", 1200);
    assert_eq!(status, 303, "{head}");
    assert_eq!(header(&head, "location"), Some("/products/1"));
    let (status, _, body) = app.get("/products/1");
    assert_eq!(status, 200);
    let product: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(product["slug"], "blue-mug");
    assert_eq!(app.get("/products/99").0, 404);
    // Hostile input is refused with a clear 400, never half-written.
    assert_eq!(app.add_product("", 1).0, 400);

    for i in 2..=13 {
        assert_eq!(app.add_product(&format!("Item {i:02}"), i).0, 303);
    }

    // The page: a nonce in the header and in the script, StringAgg of every name.
    let (status, head, body) = app.get("/");
    assert_eq!(status, 200);
    let csp = header(&head, "content-security-policy").unwrap().to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(body.contains(&format!("nonce=\"{nonce}\"")), "{body}");
    assert!(
        body.contains("<p id=\"names\">Blue Mug, Item 02, Item 03"),
        "{body}"
    );
    // Page 2 of 13 products, ten a page; htmx gets the list alone.
    let (status, _, body) = app.request("GET", "/?page=2", "HX-Request: true\r\n", "");
    assert_eq!(status, 200);
    assert!(
        !body.contains("<html>") && body.contains("Item 13"),
        "{body}"
    );
    assert_eq!(body.matches("<li>").count(), 3);
    // An invalid page is Django's 404, through the application's error type.
    let (status, _, body) = app.get("/?page=9");
    assert_eq!(
        (status, body.as_str()),
        (404, "Invalid page (9): That page contains no results")
    );

    // The keyset API, newest first, and a forged cursor.
    let (status, head, body) = app.get("/api/products?page_size=5");
    assert_eq!(status, 200);
    assert!(
        header(&head, "link").is_some_and(|l| l.contains("rel=\"next\"")),
        "{head}"
    );
    let first: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(first["results"][0]["name"], "Item 13");
    let next = first["next"].as_str().unwrap();
    let (status, _, body) = app.get(next);
    assert_eq!(status, 200);
    let second: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(second["results"][0]["name"], "Item 08");
    assert_eq!(app.get("/api/products?cursor=forged").0, 404);

    // The worker in the same process sent one mail per product (the file backend writes each
    // batch to a file of its own).
    let deadline = Instant::now() + Duration::from_secs(60);
    let mails = loop {
        let mails: String = std::fs::read_dir(mail_dir.path())
            .unwrap()
            .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
            .collect();
        let sent = mails.matches("Subject: New product:").count();
        if sent >= 13 {
            assert_eq!(sent, 13, "one mail per product, none twice");
            break mails;
        }
        assert!(
            Instant::now() < deadline,
            "13 mails within 60 s, got {sent}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(mails.contains("Subject: New product: Blue Mug"));

    // The task console wants the token.
    assert_eq!(app.get("/tasks").0, 403);
    let (status, _, body) = app.request(
        "GET",
        "/tasks",
        "Authorization: Bearer s3cret-token\r\n",
        "",
    );
    assert_eq!(status, 200);
    assert!(body.contains("default"), "{body}");

    // A body over the limit is refused.
    let big = "x".repeat(100 * 1024);
    let (status, _, _) = app.request(
        "POST",
        "/products",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        &format!("name={big}&price_cents=1"),
    );
    assert_eq!(status, 413);

    // SIGTERM stops the server and the worker gracefully: main returns, exit status 0.
    let status = Command::new("kill")
        .args(["-TERM", &app.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    let exit = loop {
        if let Some(exit) = app.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    tour(&format!(
        "sqlite://{}",
        dir.path().join("catalogue.sqlite3").display()
    ));
}

#[test]
fn on_postgres() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let database = runtime.block_on(PgDatabase::create("first_app")).unwrap();
    tour(database.url());
    drop(database);
}
