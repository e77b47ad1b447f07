//! The showcase against an attacker and a careless operator, as real processes: slow and idle
//! connections are closed and bounded, the CSP report endpoint cannot flood or forge the log,
//! weak or odd settings are refused with a message, and passwords never reach the output.
//! Every process binds 127.0.0.1, is bounded in time and is killed by its own handle.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The running binary with every line it printed; killed and reaped when dropped.
struct Demo {
    child: Child,
    addr: String,
    lines: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Demo {
    fn start(extra: &[&str]) -> Demo {
        Self::start_with_file_limit(extra, None)
    }

    /// Starts the binary, under `ulimit -n LIMIT` when a limit is given (the shell `exec`s the
    /// binary, so the child's handle is the binary's own).
    fn start_with_file_limit(extra: &[&str], file_limit: Option<u32>) -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("demo.sqlite3").display());
        let mut command = match file_limit {
            Some(limit) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                    .arg(env!("CARGO_BIN_EXE_djrs-demo"));
                sh
            }
            None => Command::new(env!("CARGO_BIN_EXE_djrs-demo")),
        };
        let mut child = command
            .current_dir(dir.path())
            .args(["--bind", "127.0.0.1:0", "--database-url", &url])
            .args(extra)
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start djrs-demo");
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = Arc::clone(&lines);
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(addr) = line.strip_prefix("djrs-demo listening on http://") {
                        let _ = tx.send(addr.to_owned());
                    }
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("djrs-demo printed its address within 60 s");
        Demo {
            child,
            addr,
            lines,
            _dir: dir,
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream
    }

    /// One request on a fresh connection: (status, body).
    fn request(&self, raw: &str) -> (u16, String) {
        let mut stream = self.connect();
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
        (status, body.to_owned())
    }

    fn post(&self, path: &str, content_type: &str, body: &str) -> u16 {
        self.request(&format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        ))
        .0
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// True when the server closed `stream` within `limit` (a read returned end of file or an
/// error other than a timeout).
fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn slow_and_idle_connections_are_closed_and_open_connections_bounded() {
    let demo = Demo::start(&[
        "--header-timeout",
        "1",
        "--idle-timeout",
        "2",
        "--max-connections",
        "20",
    ]);

    // A head sent one byte at a time, forever: closed after the header timeout, however
    // steadily the bytes arrive.
    let mut slow = demo.connect();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    slow.set_nonblocking(false).unwrap();
    let started = Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(6) {
        if slow.write_all(b"X").is_err() || closed_within(&mut slow, Duration::from_millis(300)) {
            closed = true;
            break;
        }
    }
    assert!(closed, "a slowly sent head kept its connection for 6 s");

    // A kept-alive connection that sends nothing after its first response: closed.
    let mut idle = demo.connect();
    write!(
        idle,
        "GET /static/htmx.min.js HTTP/1.1\r\nHost: {}\r\n\r\n",
        demo.addr
    )
    .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(
        closed_within(&mut idle, Duration::from_secs(8)),
        "an idle kept-alive connection stayed open"
    );

    // 20 silent connections take every slot: a normal request waits for the header timeout
    // to free one, and then it is served.
    let opened = Instant::now();
    let silent: Vec<TcpStream> = (0..20).map(|_| demo.connect()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let (status, _) = demo.request(&format!(
        "GET /static/htmx.min.js HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        demo.addr
    ));
    assert_eq!(status, 200);
    assert!(
        opened.elapsed() >= Duration::from_millis(900),
        "a 21st connection was served while 20 held every slot"
    );
    drop(silent);

    // 100 more silent sockets do not stop normal requests for long.
    let crowd: Vec<TcpStream> = (0..100).map(|_| demo.connect()).collect();
    let started = Instant::now();
    let (status, _) = demo.request(&format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        demo.addr
    ));
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_secs(15));
    drop(crowd);
}

/// 300 idle sockets against a process allowed 256 open files: with the connection bound below
/// the file limit and idle connections closed, a normal request is still served.
#[test]
fn idle_sockets_beyond_the_file_limit_do_not_starve_requests() {
    let demo = Demo::start_with_file_limit(
        &["--header-timeout", "1", "--max-connections", "100"],
        Some(256),
    );
    let idle: Vec<TcpStream> = (0..300).map(|_| demo.connect()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let (status, body) = demo.request(&format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        demo.addr
    ));
    assert_eq!(status, 200, "{body}");
    assert!(started.elapsed() < Duration::from_secs(15));
    // The database and the process's own files still open: a page that reads the database.
    let (status, _) = demo.request(&format!(
        "GET /articles?page=3 HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        demo.addr
    ));
    assert_eq!(status, 200);
    drop(idle);
}

fn violations(demo: &Demo) -> usize {
    demo.lines()
        .iter()
        .filter(|l| l.contains("Content Security Policy violation"))
        .count()
}

/// Waits until the log stops growing.
fn settle(demo: &Demo) {
    let mut last = demo.lines().len();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = demo.lines().len();
        if now == last {
            return;
        }
        last = now;
    }
}

#[test]
fn csp_reports_cannot_flood_or_forge_the_log() {
    let demo = Demo::start(&[]);
    let one = r#"{"type":"csp-violation","url":"http://a/","body":{"documentURL":"http://a/","effectiveDirective":"img-src"}}"#;
    let n = (64 * 1024 - 2) / (one.len() + 1);
    let batch = format!("[{}]", vec![one; n].join(","));
    assert!(n > 500);

    let first_post = Instant::now();
    // One 64 KiB batch: at most 10 log lines.
    assert_eq!(
        demo.post("/csp/report", "application/reports+json", &batch),
        204
    );
    settle(&demo);
    assert_eq!(violations(&demo), 10);

    // A document-uri with CR/LF and an ANSI escape stays inside its own line.
    let forged = r#"{"csp-report": {"document-uri": "http://a/\r\nFORGED  WARN admin logged in \u001b[2J", "violated-directive": "img-src"}}"#;
    assert_eq!(
        demo.post("/csp/report", "application/csp-report", forged),
        204
    );
    settle(&demo);
    let lines = demo.lines();
    assert!(lines.iter().all(|l| !l.starts_with("FORGED")), "{lines:#?}");
    assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains(r"\r\nFORGED")));

    // A 3-second flood: the rate limit (120 a minute, refilled continuously) bounds the lines
    // written since the first post.
    let started = Instant::now();
    let mut refused = 0;
    while started.elapsed() < Duration::from_secs(3) {
        if demo.post("/csp/report", "application/reports+json", &batch) == 429 {
            refused += 1;
        }
    }
    settle(&demo);
    assert!(refused > 0, "the flood was never refused");
    let written = violations(&demo);
    let per_second =
        f64::from(djrs_demo::csp::REPORT_RATE) / djrs_demo::csp::REPORT_RATE_PERIOD.as_secs_f64();
    let bound = f64::from(djrs_demo::csp::REPORT_RATE)
        + per_second * first_post.elapsed().as_secs_f64()
        + 1.0;
    assert!(
        written as f64 <= bound,
        "{written} report lines, more than the rate limit's {bound}"
    );
    let bytes: usize = demo.lines().iter().map(String::len).sum();
    assert!(bytes < 200 * 1024, "{bytes} bytes of log");
}

/// Runs the binary to its end with `args` (no server starts): (exit code, stdout + stderr).
fn run(args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_djrs-demo"))
        .current_dir(dir.path())
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start djrs-demo");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("djrs-demo {args:?} did not exit within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut output = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    (status.code(), output)
}

#[test]
fn weak_secrets_and_odd_numbers_are_refused_with_a_message() {
    let (code, output) = run(&["--secret", "a", "--bind", "127.0.0.1:0"]);
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("at least 32"), "{output}");
    assert!(!output.contains("listening"), "{output}");

    for lease in ["NaN", "nan", "inf", "-1", "0", "1e12", "abc", ""] {
        let (code, output) = run(&["worker", &format!("--lease={lease}")]);
        assert_eq!(code, Some(2), "--lease {lease:?}: {output}");
        assert!(output.contains("--lease"), "{output}");
        assert!(!output.contains("panicked"), "{output}");
    }
    for flag in ["--header-timeout", "--idle-timeout"] {
        let (code, output) = run(&[&format!("{flag}=NaN")]);
        assert_eq!(code, Some(2), "{flag}: {output}");
        assert!(!output.contains("panicked"), "{output}");
    }
    for (flag, value) in [("--max-connections", "0"), ("--concurrency", "0")] {
        let args: Vec<&str> = if flag == "--concurrency" {
            vec!["worker", flag, value]
        } else {
            vec![flag, value]
        };
        let (code, output) = run(&args);
        assert_eq!(code, Some(2), "{flag}: {output}");
    }
}

#[test]
fn passwords_never_reach_the_output() {
    for args in [
        vec!["--smtp-url", "smtp://user:pa55word@host:bad"],
        vec!["--smtp-url", "smtps://user:pa55word@"],
        // The real server refuses this role at once (a closed port would be retried for the
        // pool's 30 s acquire timeout).
        vec![
            "--database-url",
            "postgres://no_such_role:pa55word@127.0.0.1:5432/db",
        ],
        vec!["--database-url", "postgres://user:pa55word@host:bad/db"],
        vec!["--database-url", "mysql://user:pa55word@127.0.0.1/db"],
    ] {
        let (code, output) = run(&args);
        assert_eq!(code, Some(1), "{args:?}: {output}");
        assert!(!output.contains("pa55word"), "{args:?}: {output}");
        assert!(output.contains(":***@"), "{args:?}: {output}");
    }
}
