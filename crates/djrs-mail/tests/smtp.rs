//! The SMTP backend against a real server (aiosmtpd): plain, STARTTLS with a self-signed
//! certificate, AUTH, a server that drops the connection mid-message, a server that refuses
//! STARTTLS, the pool's cap on open connections, and timeouts.
#![cfg(feature = "smtp")]

mod common;

use std::future::Future;
use std::time::Duration;

use common::{Options, SmtpServer};
use djrs_mail::{
    EmailMessage, Error, MailSettings, Mailer, Security, SmtpBackend, SmtpConfig, send_mass_mail,
};

/// Every test finishes within this bound or fails.
async fn bounded<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .expect("the test took longer than 60 s");
}

fn config(server: &SmtpServer) -> SmtpConfig {
    let mut config = SmtpConfig::new("127.0.0.1", server.port).timeout(Duration::from_secs(10));
    if let Some(cert) = &server.cert_pem {
        config = config
            .security(Security::StartTls)
            .add_root_certificate(cert.as_bytes().to_vec());
    }
    config
}

fn sample() -> EmailMessage {
    EmailMessage::new("Grüße — hello", "Plain body\nwith two lines\n")
        .from_email("Shop <shop@example.com>")
        .unwrap()
        .to(["Ann <ann@exämple.com>"])
        .unwrap()
        .cc(["cc@example.com"])
        .unwrap()
        .bcc(["hidden@example.com"])
        .unwrap()
        .header("X-Campaign", "spring")
        .attach_alternative("<p>HTML body</p>", "text/html")
        .attach("notes.txt", "some notes", None)
        .attach("blob.bin", vec![0_u8, 1, 2, 255], None)
}

/// What the server received parses back to the message sent.
fn assert_round_trip(data: &[u8]) {
    let parsed = mailparse::parse_mail(data).unwrap();
    let header = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.get_key() == name)
            .map(|h| h.get_value())
    };
    assert_eq!(header("Subject").as_deref(), Some("Grüße — hello"));
    assert_eq!(header("From").as_deref(), Some("Shop <shop@example.com>"));
    assert_eq!(
        header("To").as_deref(),
        Some("Ann <ann@xn--exmple-cua.com>")
    );
    assert_eq!(header("Cc").as_deref(), Some("cc@example.com"));
    assert_eq!(header("X-Campaign").as_deref(), Some("spring"));
    assert!(header("Bcc").is_none(), "Bcc must never be in the headers");
    assert!(header("Message-ID").is_some() && header("Date").is_some());
    assert_eq!(parsed.ctype.mimetype, "multipart/mixed");
    let alternative = &parsed.subparts[0];
    assert_eq!(alternative.ctype.mimetype, "multipart/alternative");
    assert_eq!(
        alternative.subparts[0].get_body().unwrap(),
        "Plain body\r\nwith two lines\r\n"
    );
    assert_eq!(
        alternative.subparts[1].get_body().unwrap().trim_end(),
        "<p>HTML body</p>"
    );
    assert_eq!(
        parsed.subparts[1].get_body().unwrap().trim_end(),
        "some notes"
    );
    assert_eq!(parsed.subparts[2].get_body_raw().unwrap(), [0, 1, 2, 255]);
    assert_eq!(
        parsed.subparts[2].get_content_disposition().params["filename"],
        "blob.bin"
    );
}

#[tokio::test]
async fn plain_smtp_delivers_what_was_built() {
    bounded(async {
        let server = SmtpServer::start(Options::default());
        let mailer = Mailer::new(SmtpBackend::new(config(&server)).unwrap());
        assert_eq!(sample().send(&mailer).await.unwrap(), 1);
        let received = server.messages();
        assert_eq!(received.len(), 1);
        let got = &received[0];
        assert_eq!(got.mail_from, "shop@example.com");
        assert_eq!(
            got.rcpt_tos,
            [
                "ann@xn--exmple-cua.com",
                "cc@example.com",
                "hidden@example.com"
            ]
        );
        assert!(!got.tls);
        assert_round_trip(&got.data);
    })
    .await;
}

#[tokio::test]
async fn starttls_with_a_self_signed_certificate() {
    bounded(async {
        let server = SmtpServer::start(Options {
            starttls: true,
            ..Options::default()
        });
        let mailer = Mailer::new(SmtpBackend::new(config(&server)).unwrap());
        assert_eq!(sample().send(&mailer).await.unwrap(), 1);
        let received = server.messages();
        assert!(received[0].tls, "the message must travel encrypted");
        assert!(
            server.events().iter().all(|e| e.ends_with("tls=True")),
            "{:?}",
            server.events()
        );
        assert_round_trip(&received[0].data);
    })
    .await;
}

#[tokio::test]
async fn starttls_refuses_an_untrusted_certificate() {
    bounded(async {
        let server = SmtpServer::start(Options {
            starttls: true,
            ..Options::default()
        });
        let config = SmtpConfig::new("127.0.0.1", server.port)
            .security(Security::StartTls)
            .timeout(Duration::from_secs(10));
        let mailer = Mailer::new(SmtpBackend::new(config).unwrap());
        let err = sample().send(&mailer).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Smtp {
                    step: "STARTTLS",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            server.events().is_empty(),
            "nothing may be sent: {:?}",
            server.events()
        );
    })
    .await;
}

#[tokio::test]
async fn auth_over_starttls_and_wrong_password() {
    bounded(async {
        let auth = Some(("ann".to_owned(), "s3cret".to_owned()));
        let server = SmtpServer::start(Options {
            starttls: true,
            auth,
            ..Options::default()
        });
        let mailer =
            Mailer::new(SmtpBackend::new(config(&server).credentials("ann", "s3cret")).unwrap());
        assert_eq!(sample().send(&mailer).await.unwrap(), 1);
        assert_eq!(server.messages()[0].login.as_deref(), Some("ann"));

        let wrong =
            Mailer::new(SmtpBackend::new(config(&server).credentials("ann", "nope")).unwrap());
        let err = sample().send(&wrong).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Smtp {
                    step: "authenticating",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(server.messages().len(), 1);
        // Django's fail_silently: the failure is swallowed and nothing is counted.
        assert_eq!(
            sample()
                .send(&wrong.clone().fail_silently(true))
                .await
                .unwrap(),
            0
        );
    })
    .await;
}

#[tokio::test]
async fn client_certificate_when_the_server_requires_one() {
    bounded(async {
        let (client_cert, client_key) = common::self_signed();
        let server = SmtpServer::start(Options {
            starttls: true,
            client_ca: Some(client_cert.clone()),
            ..Options::default()
        });
        let without = Mailer::new(SmtpBackend::new(config(&server)).unwrap());
        let err = sample().send(&without).await.unwrap_err();
        assert!(matches!(err, Error::Smtp { .. }), "{err}");
        assert!(
            server.events().is_empty(),
            "nothing may be sent without the certificate"
        );
        let config =
            config(&server).client_identity(client_cert.into_bytes(), client_key.into_bytes());
        let with = Mailer::new(SmtpBackend::new(config).unwrap());
        assert_eq!(sample().send(&with).await.unwrap(), 1);
        assert!(server.messages()[0].tls);
    })
    .await;
}

#[tokio::test]
async fn implicit_tls() {
    bounded(async {
        let server = SmtpServer::start(Options {
            implicit_tls: true,
            ..Options::default()
        });
        let cert = server.cert_pem.clone().unwrap().into_bytes();
        let config = SmtpConfig::new("127.0.0.1", server.port)
            .security(Security::Tls)
            .add_root_certificate(cert)
            .timeout(Duration::from_secs(10));
        let mailer = Mailer::new(SmtpBackend::new(config).unwrap());
        assert_eq!(sample().send(&mailer).await.unwrap(), 1);
        assert_round_trip(&server.messages()[0].data);
        // Plain SMTP against a TLS port fails (within the timeout) and sends nothing.
        let plain = SmtpConfig::new("127.0.0.1", server.port).timeout(Duration::from_secs(2));
        assert!(
            sample()
                .send(&Mailer::new(SmtpBackend::new(plain).unwrap()))
                .await
                .is_err()
        );
        assert_eq!(server.messages().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn auth_on_plain_connection() {
    bounded(async {
        let server = SmtpServer::start(Options {
            auth: Some(("bob".into(), "pw".into())),
            ..Options::default()
        });
        let without = Mailer::new(SmtpBackend::new(config(&server)).unwrap());
        assert!(
            sample().send(&without).await.is_err(),
            "the server requires AUTH"
        );
        let mailer =
            Mailer::new(SmtpBackend::new(config(&server).credentials("bob", "pw")).unwrap());
        assert_eq!(sample().send(&mailer).await.unwrap(), 1);
        assert_eq!(server.messages()[0].login.as_deref(), Some("bob"));
    })
    .await;
}

/// Django 6.0.6's CVE-2026-7666: a failed STARTTLS must never leave a connection that is later
/// used in clear, with or without fail_silently.
#[tokio::test]
async fn refused_starttls_sends_nothing_in_clear() {
    bounded(async {
        let server = SmtpServer::start(Options {
            refuse_starttls: true,
            ..Options::default()
        });
        let backend = SmtpBackend::new(config(&server)).unwrap();
        let mailer = Mailer::new(backend.clone());
        let err = sample().send(&mailer).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Smtp {
                    step: "STARTTLS",
                    ..
                }
            ),
            "{err}"
        );
        let silent = mailer.clone().fail_silently(true);
        assert_eq!(
            silent.send_messages(&[sample(), sample()]).await.unwrap(),
            0
        );
        assert!(silent.open().await.is_ok());
        assert_eq!(sample().send(&silent).await.unwrap(), 0);
        assert_eq!(
            backend.open_connections(),
            0,
            "no half-open connection is kept"
        );
        assert!(
            server.events().is_empty(),
            "no mail command may be sent: {:?}",
            server.events()
        );
        assert!(server.messages().is_empty());
        assert!(
            server.stats().total >= 4,
            "each attempt was a new connection"
        );
    })
    .await;
}

#[tokio::test]
async fn server_without_starttls_is_refused_when_tls_is_required() {
    bounded(async {
        let server = SmtpServer::start(Options::default());
        let config = config(&server).security(Security::StartTls);
        let mailer = Mailer::new(SmtpBackend::new(config).unwrap());
        let err = sample().send(&mailer).await.unwrap_err();
        assert!(err.to_string().contains("does not offer STARTTLS"), "{err}");
        assert!(server.events().is_empty());
    })
    .await;
}

#[tokio::test]
async fn dropped_connection_mid_message_is_an_error_and_never_reused() {
    bounded(async {
        let server = SmtpServer::start(Options {
            drop_mid_message: true,
            ..Options::default()
        });
        let backend = SmtpBackend::new(config(&server)).unwrap();
        let mailer = Mailer::new(backend.clone());
        let err = sample().send(&mailer).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Smtp {
                    step: "sending",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(backend.open_connections(), 0);
        let silent = mailer.fail_silently(true);
        assert_eq!(
            silent.send_messages(&[sample(), sample()]).await.unwrap(),
            0
        );
        assert!(server.messages().is_empty());
        assert_eq!(
            server.stats().total,
            3,
            "a broken connection is replaced, not reused"
        );
    })
    .await;
}

#[tokio::test]
async fn pool_caps_open_connections_under_concurrency() {
    bounded(async {
        let server = SmtpServer::start(Options::default());
        let backend = SmtpBackend::new(config(&server).max_connections(3)).unwrap();
        let mailer = Mailer::new(backend.clone());
        let mut tasks = Vec::new();
        for sender in 0..16 {
            let mailer = mailer.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..8 {
                    let msg = EmailMessage::new(format!("{sender}/{i}"), "B")
                        .to(["a@example.com"])
                        .unwrap();
                    assert_eq!(msg.send(&mailer).await.unwrap(), 1);
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(server.messages().len(), 128);
        let stats = server.stats();
        assert!(
            stats.max_concurrent <= 3,
            "the server saw {} connections at once",
            stats.max_concurrent
        );
        assert!(
            stats.total <= 3,
            "connections are reused: {} opened",
            stats.total
        );
        assert!(backend.open_connections() <= 3);
        mailer.close().await.unwrap();
        assert_eq!(backend.open_connections(), 0);
    })
    .await;
}

#[tokio::test]
async fn send_mass_mail_uses_one_connection() {
    bounded(async {
        let server = SmtpServer::start(Options::default());
        let mailer = Mailer::new(SmtpBackend::new(config(&server)).unwrap());
        let data = (0..5).map(|i| {
            (
                "Hi",
                "Body",
                Some("me@example.com"),
                vec![if i % 2 == 0 {
                    "a@example.com"
                } else {
                    "b@example.com"
                }],
            )
        });
        assert_eq!(send_mass_mail(&mailer, data).await.unwrap(), 5);
        assert_eq!(server.messages().len(), 5);
        assert_eq!(server.stats().total, 1);
    })
    .await;
}

#[tokio::test]
async fn bad_input_is_an_error_never_a_sent_mail() {
    bounded(async {
        let server = SmtpServer::start(Options::default());
        let mailer = Mailer::new(SmtpBackend::new(config(&server)).unwrap()).fail_silently(true);
        // Bad addresses are refused when they enter the message, bad header values when it is
        // sent: never on the wire either way.
        let injected = [
            EmailMessage::new("Hi\r\nBcc: victim@example.com", "B").to(["a@example.com"]),
            EmailMessage::new("Hi", "B").to(["a@example.com\nBcc: victim@example.com"]),
            EmailMessage::new("Hi", "B")
                .to(["a@example.com"])
                .and_then(|m| m.bcc(["v@example.com\r\nX: y"])),
            EmailMessage::new("Hi", "B")
                .to(["a@example.com"])
                .map(|m| m.header("X-Note", "a\nBcc: victim@example.com")),
            EmailMessage::new("Hi", "B")
                .from_email("Eve\n <e@example.com>")
                .and_then(|m| m.to(["a@example.com"])),
            EmailMessage::new("Hi", "B").to(["not an address"]),
        ];
        for msg in injected {
            let err = match msg {
                Ok(msg) => msg.send(&mailer).await.unwrap_err(),
                Err(err) => err,
            };
            assert!(err.is_bad_message(), "{err}");
        }
        assert!(server.events().is_empty());
        assert_eq!(
            server.stats().total,
            0,
            "a bad message never opens a connection"
        );
    })
    .await;
}

#[tokio::test]
async fn smtputf8_local_part() {
    bounded(async {
        let server = SmtpServer::start(Options::default());
        let mailer = Mailer::new(SmtpBackend::new(config(&server)).unwrap());
        let msg = EmailMessage::new("S", "B")
            .from_email("me@example.com")
            .unwrap()
            .to(["jörg@exämple.com"])
            .unwrap();
        assert_eq!(msg.send(&mailer).await.unwrap(), 1);
        assert_eq!(server.messages()[0].rcpt_tos, ["jörg@xn--exmple-cua.com"]);
    })
    .await;
}

#[tokio::test]
async fn every_step_has_a_timeout() {
    bounded(async {
        // A listener that accepts and never greets: the SMTP greeting must time out.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let config = SmtpConfig::new("127.0.0.1", port).timeout(Duration::from_millis(300));
        let mailer = Mailer::new(SmtpBackend::new(config).unwrap());
        let started = std::time::Instant::now();
        let err = sample().send(&mailer).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Timeout {
                    step: "connecting",
                    ..
                }
            ),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        hold.abort();
    })
    .await;
}

#[tokio::test]
async fn a_server_that_stalls_during_data_times_out() {
    bounded(async {
        let server = SmtpServer::start(Options {
            stall_data: true,
            ..Options::default()
        });
        let backend =
            SmtpBackend::new(config(&server).timeout(Duration::from_millis(500))).unwrap();
        let mailer = Mailer::new(backend.clone());
        let started = std::time::Instant::now();
        let err = sample().send(&mailer).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Timeout {
                    step: "sending",
                    ..
                }
            ),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(
            backend.open_connections(),
            0,
            "a timed-out connection is discarded"
        );
        assert!(server.messages().is_empty());
    })
    .await;
}

#[tokio::test]
async fn settings_drive_the_smtp_backend() {
    bounded(async {
        let server = SmtpServer::start(Options {
            starttls: true,
            ..Options::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, server.cert_pem.as_ref().unwrap()).unwrap();
        let settings: MailSettings = serde_json::from_value(serde_json::json!({
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": server.port,
            "EMAIL_USE_TLS": true,
            "EMAIL_SSL_CAFILE": ca,
            "EMAIL_TIMEOUT": 10,
            "DEFAULT_FROM_EMAIL": "noreply@example.com",
            "SERVER_EMAIL": "server@example.com",
            "ADMINS": ["ops@example.com"],
        }))
        .unwrap();
        let mailer = Mailer::from_settings(settings).unwrap();
        assert_eq!(
            EmailMessage::new("S", "B")
                .to(["a@example.com"])
                .unwrap()
                .send(&mailer)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            djrs_mail::mail_admins(&mailer, "Alert", "Disk full", None)
                .await
                .unwrap(),
            1
        );
        let received = server.messages();
        assert_eq!(received[0].mail_from, "noreply@example.com");
        assert_eq!(received[1].mail_from, "server@example.com");
        assert_eq!(received[1].rcpt_tos, ["ops@example.com"]);
        assert!(String::from_utf8_lossy(&received[1].data).contains("Subject: [Django] Alert"));
        assert!(received.iter().all(|r| r.tls));
    })
    .await;
}

#[cfg(feature = "dkim")]
#[tokio::test]
async fn dkim_signed_messages_arrive_signed_and_intact() {
    bounded(async {
        let server = SmtpServer::start(Options::default());
        let signer = djrs_mail::DkimSigner::ed25519(
            "example.com",
            "mail",
            "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=",
        )
        .unwrap();
        let mailer = Mailer::new(SmtpBackend::new(config(&server)).unwrap().dkim(signer));
        assert_eq!(sample().send(&mailer).await.unwrap(), 1);
        let data = &server.messages()[0].data;
        let parsed = mailparse::parse_mail(data).unwrap();
        let dkim = parsed
            .headers
            .iter()
            .find(|h| h.get_key() == "DKIM-Signature")
            .expect("signed")
            .get_value();
        assert!(
            dkim.contains("a=ed25519-sha256")
                && dkim.contains("d=example.com")
                && dkim.contains("s=mail"),
            "{dkim}"
        );
        assert!(
            dkim.contains(
                "h=from:to:cc:reply-to:subject:date:message-id:mime-version:content-type"
            ),
            "{dkim}"
        );
        assert_round_trip(data);
    })
    .await;
}

/// A listener that accepts connections and never says a word; aborted by the returned handle.
async fn silent_server() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (port, hold)
}

#[tokio::test]
async fn without_a_configured_timeout_a_stuck_send_still_ends() {
    bounded(async {
        let (port, hold) = silent_server().await;
        // Django's EMAIL_TIMEOUT = None, through the settings and through the config.
        let mut settings = MailSettings::default();
        settings.email_host = "127.0.0.1".into();
        settings.email_port = port;
        let from_settings = SmtpConfig::from_settings(&settings).unwrap();
        assert_eq!(from_settings.timeout, Some(SmtpConfig::DEFAULT_TIMEOUT));
        let mut config = SmtpConfig::new("127.0.0.1", port);
        config.timeout = None;
        let mailer = Mailer::new(SmtpBackend::new(config).unwrap());
        let started = std::time::Instant::now();
        let err = sample().send(&mailer).await.unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
        assert!(started.elapsed() < SmtpConfig::DEFAULT_TIMEOUT + Duration::from_secs(5));
        hold.abort();
    })
    .await;
}

#[tokio::test]
async fn waiting_for_a_pooled_connection_is_bounded() {
    bounded(async {
        let (port, hold) = silent_server().await;
        let config = SmtpConfig::new("127.0.0.1", port)
            .max_connections(1)
            .timeout(Duration::from_secs(20))
            .pool_timeout(Duration::from_millis(500));
        let mailer = Mailer::new(SmtpBackend::new(config).unwrap());
        // The first send holds the only connection slot while it waits for a greeting.
        let first = tokio::spawn({
            let mailer = mailer.clone();
            async move { sample().send(&mailer).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = std::time::Instant::now();
        let err = sample().send(&mailer).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Timeout {
                    step: "waiting for a free connection of the pool",
                    ..
                }
            ),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        first.abort();
        hold.abort();
    })
    .await;
}

#[test]
fn passwords_stay_out_of_errors_and_debug_output() {
    let err = SmtpConfig::from_url("smtp://user:pa55word@host:bad").unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("pa55word"), "{text}");
    assert!(text.contains("user:***@host"), "{text}");
    let mut settings = MailSettings::default();
    settings.email_host_password = "pa55word".into();
    for shown in [
        format!("{settings:?}"),
        serde_json::to_string(&settings).unwrap(),
        format!("{:?}", SmtpConfig::from_settings(&settings).unwrap()),
    ] {
        assert!(!shown.contains("pa55word"), "{shown}");
    }
}

#[test]
fn an_email_timeout_that_fits_no_duration_is_a_config_error() {
    for seconds in [f64::NAN, f64::INFINITY, -1.0, 0.0, 1e300] {
        let mut settings = MailSettings::default();
        settings.email_timeout = Some(seconds);
        assert!(
            matches!(SmtpConfig::from_settings(&settings), Err(Error::Config(_))),
            "{seconds}"
        );
    }
}
