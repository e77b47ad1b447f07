//! `send_later_with` and `send_later_in` on the real PostgreSQL (the `test` database): the
//! options reach the stored task (a delay becomes `run_after`, the queue and the priority are
//! recorded and obeyed by a worker), and a send enqueued in the caller's transaction exists if
//! and only if that transaction commits. Each test works in a schema of its own.
#![cfg(feature = "tasks")]

use std::time::Duration;

use chrono::Utc;
use djrs_mail::{EmailMessage, Error, LocmemBackend, Mailer, SendLater};
use djrs_tasks::{PostgresBackend, TaskResultStatus, Tasks, Worker};
use djrs_test_support::PgSchema;

/// A schema of its own with the task tables, a task system on it whose mailer is a locmem
/// outbox, and the pool (the "application's" database).
async fn setup() -> (PgSchema, sqlx::PgPool, Tasks, LocmemBackend) {
    let schema = PgSchema::create("djrs_mail")
        .await
        .expect("PostgreSQL is reachable at DJRS_TEST_POSTGRES_URL (default 127.0.0.1:5432/test)");
    let pool = schema.pool(4).unwrap();
    let backend = PostgresBackend::from_pool(pool.clone());
    backend.migrate().await.unwrap();
    let outbox = LocmemBackend::new();
    let tasks = Tasks::builder()
        .backend("default", backend)
        .queues("default", ["default", "mail"])
        .state(Mailer::new(outbox.clone()))
        .build()
        .unwrap();
    (schema, pool, tasks, outbox)
}

fn message(subject: &str) -> EmailMessage {
    EmailMessage::new(subject, "Body")
        .from_email("shop@example.com")
        .unwrap()
        .to(["ann@example.com"])
        .unwrap()
}

async fn stored_tasks(pool: &sqlx::PgPool) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM djrs_task")
        .fetch_one(pool)
        .await
        .unwrap();
    n
}

#[tokio::test]
async fn a_delay_sets_run_after_and_the_queue_and_priority_are_recorded() {
    let (_schema, pool, tasks, outbox) = setup().await;
    let before = Utc::now();
    let options = SendLater::new()
        .delay(Duration::from_secs(600))
        .queue_name("mail")
        .priority(10);
    let enqueued = message("Later")
        .send_later_with(&tasks, &options)
        .await
        .unwrap();
    let after = Utc::now();

    // Read back from the database, not from what enqueue returned.
    let stored = tasks.get_result(&enqueued.id).await.unwrap();
    assert_eq!(stored.status, TaskResultStatus::Ready);
    assert_eq!(stored.task_name, "djrs_mail::tasks::send_email");
    assert_eq!(stored.queue_name, "mail");
    assert_eq!(stored.priority, 10);
    let run_after = stored.run_after.expect("a delay sets run_after");
    let ten_minutes = chrono::Duration::seconds(600);
    // PostgreSQL keeps microseconds.
    let slack = chrono::Duration::milliseconds(1);
    assert!(
        run_after >= before + ten_minutes - slack && run_after <= after + ten_minutes + slack,
        "{before} .. {after} + 10 min, got {run_after}"
    );
    let (queue, priority): (String, i32) =
        sqlx::query_as("SELECT queue_name, priority FROM djrs_task WHERE id = $1")
            .bind(enqueued.id.as_str())
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((queue.as_str(), priority), ("mail", 10));

    // A worker on the mail queue leaves it alone until run_after.
    let stats = Worker::new(&tasks)
        .queues(["mail"])
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.succeeded, 0, "{stats:?}");
    assert!(outbox.outbox().is_empty());

    // A time in the past runs now, and only a worker serving that queue runs it.
    let now = message("Now")
        .send_later_with(
            &tasks,
            &SendLater::new()
                .run_after(Utc::now() - chrono::Duration::seconds(1))
                .queue_name("mail"),
        )
        .await
        .unwrap();
    let other_queue = Worker::new(&tasks).run_until_idle().await.unwrap();
    assert_eq!(other_queue.succeeded, 0, "the default queue has no mail");
    let stats = Worker::new(&tasks)
        .queues(["mail"])
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.succeeded, 1, "{stats:?}");
    assert_eq!(
        tasks.get_result(&now.id).await.unwrap().status,
        TaskResultStatus::Successful
    );
    let sent = outbox.outbox();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].subject, "Now");
}

#[tokio::test]
async fn a_worker_sends_the_higher_priority_first() {
    let (_schema, _pool, tasks, outbox) = setup().await;
    for (subject, priority) in [("low", -5), ("high", 50), ("middle", 0)] {
        message(subject)
            .send_later_with(&tasks, &SendLater::new().priority(priority))
            .await
            .unwrap();
    }
    let stats = Worker::new(&tasks)
        .concurrency(1)
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.succeeded, 3);
    let order: Vec<String> = outbox.outbox().into_iter().map(|m| m.subject).collect();
    assert_eq!(order, ["high", "middle", "low"]);
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_no_task_and_a_committed_one_leaves_one() {
    let (_schema, pool, tasks, outbox) = setup().await;
    let options = SendLater::new().queue_name("mail").priority(3);

    let mut tx = pool.begin().await.unwrap();
    sqlx::query("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let rolled_back = message("Rolled back")
        .send_later_in(&mut *tx, &tasks, &options)
        .await
        .unwrap();
    // Inside the transaction the task is there; outside it is not yet.
    let (inside,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM djrs_task")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(inside, 1);
    assert_eq!(stored_tasks(&pool).await, 0);
    tx.rollback().await.unwrap();
    assert_eq!(stored_tasks(&pool).await, 0);
    assert!(tasks.get_result(&rolled_back.id).await.is_err());

    let mut tx = pool.begin().await.unwrap();
    sqlx::query("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("INSERT INTO orders VALUES (1)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let committed = message("Committed")
        .send_later_in(&mut *tx, &tasks, &options)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stored_tasks(&pool).await, 1);
    let stored = tasks.get_result(&committed.id).await.unwrap();
    assert_eq!(stored.status, TaskResultStatus::Ready);
    assert_eq!((stored.queue_name.as_str(), stored.priority), ("mail", 3));

    let stats = Worker::new(&tasks)
        .queues(["mail"])
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.succeeded, 1);
    let sent = outbox.outbox();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].subject, "Committed");
}

#[tokio::test]
async fn bad_messages_and_bad_options_are_typed_errors_and_write_nothing() {
    let (_schema, pool, tasks, _outbox) = setup().await;

    // A header injection is refused before anything is written, in a transaction or not.
    let evil = EmailMessage::new("Hi\r\nBcc: victim@example.com", "B")
        .to(["ann@example.com"])
        .unwrap();
    let mut tx = pool.begin().await.unwrap();
    let err = evil
        .send_later_in(&mut *tx, &tasks, &SendLater::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadHeader { .. }), "{err:?}");
    tx.commit().await.unwrap();
    let err = evil
        .send_later_with(&tasks, &SendLater::new())
        .await
        .unwrap_err();
    assert!(err.is_bad_message());

    // Options the task system refuses, with its (Django's) messages.
    for (options, says) in [
        (
            SendLater::new().priority(101),
            "priority must be a whole number between -100 and 100.",
        ),
        (
            SendLater::new().queue_name("unlisted"),
            "Queue 'unlisted' is not valid for backend.",
        ),
        (
            SendLater::new().backend("missing"),
            "The connection 'missing' doesn't exist.",
        ),
    ] {
        let err = message("S")
            .send_later_with(&tasks, &options)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Enqueue(_)), "{err:?}");
        assert!(err.to_string().contains(says), "{err} / {says}");
    }

    // A delay no date can hold.
    let err = message("S")
        .send_later_with(&tasks, &SendLater::new().delay(Duration::MAX))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");

    assert_eq!(stored_tasks(&pool).await, 0);
}
