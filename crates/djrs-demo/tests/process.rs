//! `djrs-demo` as a user starts it: the real binary on a free loopback port, on SQLite and on
//! PostgreSQL, driven over HTTP. Each run is bounded and the child is stopped by its handle.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The running binary; killed and reaped when dropped.
struct Demo {
    child: Child,
    addr: String,
    /// The console's password the binary printed.
    password: String,
    // The working directory: files the demo writes there (the PostgreSQL setup's task queue)
    // go away with it.
    _cwd: tempfile::TempDir,
}

impl Demo {
    fn start(database_url: &str) -> Demo {
        let cwd = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_djrs-demo"))
            .current_dir(cwd.path())
            .args([
                "--bind",
                "127.0.0.1:0",
                "--database-url",
                database_url,
                "--secret",
                "a test secret of at least 32 bytes",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start djrs-demo");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let (password_tx, password_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("djrs-demo listening on http://") {
                    let _ = tx.send(addr.to_owned());
                }
                if let Some(password) = line.strip_prefix("task console login: operator / ") {
                    let _ = password_tx.send(password.to_owned());
                }
            }
        });
        let mut demo = Demo {
            child,
            addr: String::new(),
            password: String::new(),
            _cwd: cwd,
        };
        demo.password = password_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("djrs-demo printed the console's password");
        demo.addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("djrs-demo printed its address within 60 s");
        demo
    }

    /// Signs in as the operator: the session cookie (`name=value`).
    fn sign_in(&self) -> String {
        let form = format!("name=operator&password={}&next=%2Ftasks", self.password);
        let head = self.raw_head(&format!(
            "POST /login HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            self.addr,
            form.len()
        ));
        assert!(head.starts_with("HTTP/1.1 303"), "{head}");
        head.lines()
            .find_map(|line| line.strip_prefix("set-cookie: "))
            .and_then(|cookie| cookie.split(';').next())
            .expect("a session cookie")
            .to_owned()
    }

    /// A GET with `cookie`: (status, body).
    fn get_with(&self, path: &str, cookie: &str) -> (u16, String) {
        self.request(&format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n",
            self.addr
        ))
    }

    /// A GET over a plain HTTP/1.1 connection: (status, body).
    fn get(&self, path: &str) -> (u16, String) {
        self.request(&format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        ))
    }

    /// A POST of an urlencoded form: (status, body).
    fn post_form(&self, path: &str, form: &str) -> (u16, String) {
        self.request(&format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            self.addr,
            form.len()
        ))
    }

    /// A GET's response head (status line and headers).
    fn head_of(&self, path: &str) -> String {
        self.raw_head(&format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        ))
    }

    /// The head of the response to a raw request.
    fn raw_head(&self, raw: &str) -> String {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.write_all(raw.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
            .split_once("\r\n\r\n")
            .map(|(head, _)| head.to_owned())
            .expect("an HTTP response")
    }

    fn request(&self, raw: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.write_all(raw.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status code");
        (status, body.to_owned())
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn check_showcase(demo: &Demo) {
    let (status, home) = demo.get("/");
    assert_eq!(status, 200);
    assert!(home.contains("/articles"));

    // Page 7 of 30: articles 61–70 and Django's elided links (3 on each side, 2 on the ends).
    let (status, page) = demo.get("/articles?page=7");
    assert_eq!(status, 200);
    assert!(
        page.contains("Articles 61–70 of 300 · page 7 of 30"),
        "{page}"
    );
    assert!(page.contains("(#61)") && page.contains("(#70)") && !page.contains("(#71)"));
    assert!(page.contains(r#"<strong aria-current="page">7</strong>"#));
    assert!(
        page.contains(r#"<a href="?page=10" hx-get="?page=10">10</a>"#)
            && page.contains("<span>…</span>")
    );
    assert!(
        page.contains(r#"<a href="?page=29" hx-get="?page=29">29</a>"#)
            && !page.contains(r#"?page=11""#)
    );

    // get_page semantics: garbage is page 1, too far is the last page.
    assert!(demo.get("/articles?page=abc").1.contains("page 1 of 30"));
    assert!(demo.get("/articles?page=1000").1.contains("page 30 of 30"));

    // The JSON API is strict, with Django's 404 text.
    let (status, json) = demo.get("/api/articles?page=2");
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["object_list"][0]["id"], 11);
    assert_eq!(json["num_pages"], 30);
    assert_eq!(
        demo.get("/api/articles?page=31"),
        (
            404,
            "Invalid page (31): That page contains no results".into()
        )
    );

    // Keyset pages, newest first, following the signed cursor.
    let (status, first) = demo.get("/articles/keyset");
    assert_eq!(status, 200);
    assert!(first.contains("(#300)") && first.contains("(#291)") && !first.contains("(#290)"));
    let cursor = first
        .split("href=\"?cursor=")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a next link");
    let (status, second) = demo.get(&format!("/articles/keyset?cursor={cursor}"));
    assert_eq!(status, 200);
    assert!(second.contains("(#290)") && second.contains("(#281)"));
    assert_eq!(demo.get("/articles/keyset?cursor=forged.cursor").0, 404);

    // The welcome flow: the form enqueues a task, the in-process worker writes the outbox.
    let (status, queued) = demo.post_form("/welcome", "name=Ada+Lovelace&email=ada%40example.com");
    assert_eq!(status, 200, "{queued}");
    assert!(queued.contains("Queued task"));
    assert_eq!(demo.post_form("/welcome", "name=&email=nobody").0, 400);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, outbox) = demo.get("/outbox");
        if outbox.contains("Welcome to djrs, Ada Lovelace!") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the welcome task did not run: {outbox}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(demo.get("/tasks/").0, 308);
    // The redirect keeps the filter.
    let head = demo
        .head_of("/tasks/?status=FAILED&limit=5")
        .to_ascii_lowercase();
    assert!(
        head.contains("location: /tasks?status=failed&limit=5"),
        "{head}"
    );
    // The console is the operator's: without signing in, the login page, never an argument.
    let head = demo
        .head_of("/tasks/list?status=SUCCESSFUL")
        .to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 303"), "{head}");
    assert!(
        head.contains("location: /login?next=%2ftasks%2flist%3fstatus%3dsuccessful"),
        "{head}"
    );
    let (status, api) = demo.get("/tasks/api/results");
    assert_eq!(status, 303, "{api}");
    assert!(!api.contains("Ada"));
    let (status, refused) = demo.post_form("/login", "name=operator&password=guess");
    assert_eq!(status, 401);
    assert!(refused.contains("do not match"));
    let cookie = demo.sign_in();
    // The task writes the outbox before its outcome is recorded: wait for the console too.
    loop {
        let (status, list) = demo.get_with("/tasks/list", &cookie);
        assert_eq!(status, 200);
        if list.contains("send_welcome_message") && list.contains("SUCCESSFUL") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the console never showed the task as SUCCESSFUL: {list}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, overview) = demo.get_with("/tasks", &cookie);
    assert_eq!(status, 200);
    assert!(overview.contains("Workers alive"), "{overview}");
}

#[test]
fn serves_paginated_articles_from_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.sqlite3").display());
    let demo = Demo::start(&url);
    check_showcase(&demo);
    drop(demo);
    // A second start finds the seeded file and does not seed again.
    let demo = Demo::start(&url);
    assert!(demo.get("/articles").1.contains("of 300"));
}

#[test]
fn serves_paginated_articles_from_postgres() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let database = runtime
        .block_on(djrs_test_support::PgDatabase::create("djrs_demo_process"))
        .expect("PostgreSQL is reachable");
    let demo = Demo::start(database.url());
    check_showcase(&demo);
    // The showcase stops before its database is dropped.
    drop(demo);
    drop(database);
}

#[test]
fn sigterm_stops_the_showcase_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.sqlite3").display());
    let mut demo = Demo::start(&url);
    assert_eq!(demo.get("/").0, 200);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &demo.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let start = std::time::Instant::now();
    let exit = loop {
        if let Some(exit) = demo.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the showcase did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // A graceful stop returns from main: exit status 0, not death by the signal.
    assert!(exit.success(), "{exit:?}");
}
