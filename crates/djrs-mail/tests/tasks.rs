//! `send_later`: the message goes through djrs-tasks, and a failed send is retried by the task
//! system until the SMTP server is back, so nothing is lost.
#![cfg(all(feature = "tasks", feature = "smtp"))]

mod common;

use std::time::Duration;

use common::{Options, SmtpServer, free_port};
use djrs_mail::{EmailMessage, Mailer, SmtpBackend, SmtpConfig};
use djrs_tasks::{SqliteBackend, TaskResultStatus, Tasks, Worker};

#[tokio::test]
async fn send_later_is_retried_until_the_server_is_back() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let queue = SqliteBackend::open(dir.path().join("tasks.sqlite3")).unwrap();
        let config = SmtpConfig::new("127.0.0.1", port).timeout(Duration::from_secs(5));
        let tasks = Tasks::builder()
            .backend("default", queue)
            .state(Mailer::new(SmtpBackend::new(config).unwrap()).fail_silently(true))
            .build()
            .unwrap();
        let message = EmailMessage::new("Later", "Sent by a worker")
            .from_email("me@example.com")
            .unwrap()
            .to(["a@example.com"])
            .unwrap();
        let enqueued = message.send_later(&tasks).await.unwrap();

        // Nobody listens yet: the attempt fails (even though the mailer is silent) and the task
        // stays queued for a retry.
        let worker = || {
            Worker::new(&tasks).retry_backoff(Duration::from_millis(800), Duration::from_secs(2))
        };
        worker().run_until_idle().await.unwrap();
        let result = tasks.get_result(&enqueued.id).await.unwrap();
        assert_eq!(result.attempts(), 1);
        assert_eq!(result.status, TaskResultStatus::Ready, "{result:?}");
        assert_eq!(result.errors.len(), 1);

        let server = SmtpServer::start(Options {
            port: Some(port),
            ..Options::default()
        });
        let result = loop {
            worker().run_until_idle().await.unwrap();
            let result = tasks.get_result(&enqueued.id).await.unwrap();
            if result.status == TaskResultStatus::Successful {
                break result;
            }
            assert_ne!(result.status, TaskResultStatus::Failed, "{result:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(result.attempts(), 2);
        assert_eq!(result.return_value::<usize>().unwrap(), 1);
        let received = server.messages();
        assert_eq!(received.len(), 1);
        assert!(String::from_utf8_lossy(&received[0].data).contains("Subject: Later"));
    })
    .await
    .expect("bounded");
}

#[tokio::test]
async fn a_bad_message_is_never_enqueued() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = Tasks::builder()
        .backend(
            "default",
            SqliteBackend::open(dir.path().join("t.sqlite3")).unwrap(),
        )
        .state(Mailer::new(djrs_mail::DummyBackend))
        .build()
        .unwrap();
    let err = EmailMessage::new("a\nBcc: x@example.com", "B")
        .to(["a@example.com"])
        .unwrap()
        .send_later(&tasks)
        .await
        .unwrap_err();
    assert!(err.is_bad_message());
    let stats = Worker::new(&tasks).run_until_idle().await.unwrap();
    assert_eq!(
        (stats.succeeded, stats.retried, stats.failed),
        (0, 0, 0),
        "nothing was enqueued: {stats:?}"
    );
}

#[tokio::test]
async fn without_a_registered_mailer_the_task_fails_with_a_clear_error() {
    let tasks = Tasks::builder()
        .backend("default", djrs_tasks::ImmediateBackend::new())
        .build()
        .unwrap();
    let result = EmailMessage::new("S", "B")
        .to(["a@example.com"])
        .unwrap()
        .send_later(&tasks)
        .await
        .unwrap();
    assert_eq!(result.status, TaskResultStatus::Failed);
    assert!(
        result.errors[0].traceback.contains("no Mailer registered")
            || format!("{:?}", result.errors).contains("no Mailer registered")
    );
}
