//! Starts the real SMTP server the tests talk to: aiosmtpd from PyPI, in the virtual
//! environment `cargo xtask services` makes under the target directory.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The venv's Python; fails with instructions when it is missing.
pub fn python() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let python = target.join("smtp-venv/bin/python");
    assert!(
        python.exists(),
        "the SMTP test server is not installed ({} is missing): run `cargo xtask services`",
        python.display()
    );
    python
}

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate PEM, key PEM).
pub fn self_signed() -> (String, String) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    (certified.cert.pem(), certified.signing_key.serialize_pem())
}

/// How the server behaves.
#[derive(Debug, Default, Clone)]
pub struct Options {
    pub starttls: bool,
    pub refuse_starttls: bool,
    pub auth: Option<(String, String)>,
    pub drop_mid_message: bool,
    pub count_only: bool,
    /// Listen on this port instead of a free one.
    pub port: Option<u16>,
    /// Require a TLS client certificate: this one (PEM).
    pub client_ca: Option<String>,
    /// TLS from the first byte (SMTPS) instead of STARTTLS.
    pub implicit_tls: bool,
    /// Accept DATA and never answer.
    pub stall_data: bool,
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One message the server accepted.
#[derive(Debug)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub data: Vec<u8>,
    pub tls: bool,
    pub login: Option<String>,
}

/// Connection counts the server saw.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub total: u64,
    pub current: u64,
    pub max_concurrent: u64,
}

/// A running server, killed when dropped.
#[derive(Debug)]
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// The server certificate (PEM) when STARTTLS is on.
    pub cert_pem: Option<String>,
}

impl SmtpServer {
    pub fn start(options: Options) -> Self {
        let Options {
            starttls,
            refuse_starttls,
            auth,
            drop_mid_message,
            count_only,
            port,
            client_ca,
            implicit_tls,
            stall_data,
        } = options;
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(python());
        cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_server.py"))
            .arg("--outdir")
            .arg(dir.path());
        let mut cert_pem = None;
        if starttls || refuse_starttls || implicit_tls {
            let (cert, key) = self_signed();
            std::fs::write(dir.path().join("cert.pem"), &cert).unwrap();
            std::fs::write(dir.path().join("key.pem"), key).unwrap();
            cmd.arg("--tls-cert")
                .arg(dir.path().join("cert.pem"))
                .arg("--tls-key")
                .arg(dir.path().join("key.pem"));
            cert_pem = Some(cert);
        }
        if refuse_starttls {
            cmd.arg("--refuse-starttls");
        }
        if let Some((user, password)) = &auth {
            cmd.arg("--auth").arg(format!("{user}:{password}"));
        }
        if drop_mid_message {
            cmd.arg("--drop-mid-message");
        }
        if count_only {
            cmd.arg("--count-only");
        }
        if implicit_tls {
            cmd.arg("--implicit-tls");
        }
        if stall_data {
            cmd.arg("--stall-data");
        }
        if let Some(ca) = client_ca {
            std::fs::write(dir.path().join("client-ca.pem"), ca).unwrap();
            cmd.arg("--client-ca").arg(dir.path().join("client-ca.pem"));
        }
        if let Some(port) = port {
            cmd.arg("--port").arg(port.to_string());
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("the SMTP test server did not start within 30 s");
            }
        };
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("the SMTP test server printed {line:?} instead of its port")
            });
        Self {
            child,
            port,
            dir,
            cert_pem,
        }
    }

    pub fn messages(&self) -> Vec<Received> {
        let mut paths: Vec<_> = std::fs::read_dir(self.dir.path().join("messages"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|p| {
                let v: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
                Received {
                    mail_from: v["mail_from"].as_str().unwrap().to_owned(),
                    rcpt_tos: v["rcpt_tos"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_str().unwrap().to_owned())
                        .collect(),
                    data: STANDARD.decode(v["data"].as_str().unwrap()).unwrap(),
                    tls: v["tls"].as_bool().unwrap(),
                    login: v["login"].as_str().map(str::to_owned),
                }
            })
            .collect()
    }

    pub fn count(&self) -> u64 {
        std::fs::read_to_string(self.dir.path().join("count.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["messages"].as_u64())
            .unwrap_or(0)
    }

    pub fn events(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("events.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub fn stats(&self) -> Stats {
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(self.dir.path().join("stats.json")).unwrap(),
        )
        .unwrap();
        Stats {
            total: v["total"].as_u64().unwrap(),
            current: v["current"].as_u64().unwrap(),
            max_concurrent: v["max_concurrent"].as_u64().unwrap(),
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
