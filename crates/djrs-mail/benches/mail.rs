//! `cargo xtask bench mail`: the SMTP backend against aiosmtpd (a real server, STARTTLS with a
//! self-signed certificate): 2,000 messages through the pool (cap 4) from 16 concurrent senders;
//! 300 messages with a new connection each, from one sender (as the reference figures
//! were taken) and from 16; and the pooled run again over plain SMTP. Each run has a fresh server.
//! Prints `BENCH <name> <value> <unit>` lines; it asserts nothing about time.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Options, SmtpServer};
use djrs_mail::{Backend, EmailMessage, Mailer, Security, SmtpBackend, SmtpConfig};

const SENDERS: usize = 16;
const POOLED: usize = 2_000;
const UNPOOLED: usize = 300;
const POOL_CAP: usize = 4;

fn message(i: usize) -> EmailMessage {
    EmailMessage::new(
        format!("Order {i} confirmed"),
        "Thank you for your order.\n\nIt ships tomorrow.\n".repeat(3),
    )
    .from_email("Shop <shop@example.com>")
    .unwrap()
    .to([format!("customer{i}@example.com")])
    .unwrap()
}

fn config(server: &SmtpServer) -> SmtpConfig {
    let mut config = SmtpConfig::new("127.0.0.1", server.port)
        .timeout(Duration::from_secs(30))
        .max_connections(POOL_CAP);
    if let Some(cert) = &server.cert_pem {
        config = config
            .security(Security::StartTls)
            .add_root_certificate(cert.as_bytes().to_vec());
    }
    config
}

/// Sends `total` messages from `senders` concurrent tasks; `fresh` gives each message its own
/// backend (a new connection, closed after the message). Returns messages per second.
async fn run(server: &SmtpServer, total: usize, fresh: bool, senders: usize) -> f64 {
    let shared = Mailer::new(SmtpBackend::new(config(server)).unwrap());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..senders {
        let (shared, next, config) = (shared.clone(), Arc::clone(&next), config(server));
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                if fresh {
                    let backend = SmtpBackend::new(config.clone()).unwrap();
                    let mailer = Mailer::new(backend.clone());
                    assert_eq!(mailer.send(&message(i)).await.unwrap(), 1);
                    backend.close().await.unwrap();
                } else {
                    assert_eq!(shared.send(&message(i)).await.unwrap(), 1);
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    shared.close().await.unwrap();
    assert_eq!(
        server.count(),
        total as u64,
        "the server must have accepted every message"
    );
    total as f64 / elapsed
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let tls = SmtpServer::start(Options {
            starttls: true,
            count_only: true,
            ..Options::default()
        });
        let pooled_tls = run(&tls, POOLED, false, SENDERS).await;
        let max_open = tls.stats().max_concurrent;
        drop(tls);

        let tls = SmtpServer::start(Options {
            starttls: true,
            count_only: true,
            ..Options::default()
        });
        let unpooled_tls = run(&tls, UNPOOLED, true, 1).await;
        drop(tls);

        let tls = SmtpServer::start(Options {
            starttls: true,
            count_only: true,
            ..Options::default()
        });
        let unpooled_tls_concurrent = run(&tls, UNPOOLED, true, SENDERS).await;
        drop(tls);

        let plain = SmtpServer::start(Options {
            count_only: true,
            ..Options::default()
        });
        let pooled_plain = run(&plain, POOLED, false, SENDERS).await;
        let max_open_plain = plain.stats().max_concurrent;
        drop(plain);

        println!("BENCH mail.pooled_tls_per_s {pooled_tls:.0} msg/s");
        println!("BENCH mail.unpooled_tls_per_s {unpooled_tls:.0} msg/s");
        println!("BENCH mail.unpooled_tls_concurrent_per_s {unpooled_tls_concurrent:.0} msg/s");
        println!("BENCH mail.pooled_plain_per_s {pooled_plain:.0} msg/s");
        println!(
            "BENCH mail.max_open_connections {} connections",
            max_open.max(max_open_plain)
        );
        println!("BENCH mail.pool_cap {POOL_CAP} connections");
        println!(
            "BENCH mail.pooled_vs_unpooled_tls {:.1} x",
            pooled_tls / unpooled_tls
        );
    });
}
